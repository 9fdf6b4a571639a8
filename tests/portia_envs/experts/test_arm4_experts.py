import math

import gymnasium
import mujoco
import numpy as np
import pytest

import portia_envs  # noqa: F401  (registers the ids)
from portia_envs.embodiments.arm4 import ARM4_BODIES, ARM4_JOINT_RANGES, ARM4_JOINTS
from portia_envs.errors import InvalidParameterError
from portia_envs.experts import ScriptedExpert, run_episode
from portia_envs.experts.arm4 import MAX_JOINT_STEP_RAD, Arm4IK
from portia_envs.registration import ARM4_FAMILY_ENV_IDS
from tests.portia_envs.checks import finish_episode

BODIES = sorted(ARM4_BODIES)
# The documented success rates (experts.arm4) the experts must reach over 100 episodes.
TARGET_RATES = {"reach": 0.95, "push": 0.95}


def make(family, body):
    env = gymnasium.make(ARM4_FAMILY_ENV_IDS[family], body=body)
    return env, ScriptedExpert(env)


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("family", ["reach", "push"])
def test_expert_solves_seeded_episodes(family, body):
    env, expert = make(family, body)
    assert all(run_episode(env, expert, seed) for seed in range(3))


@pytest.mark.parametrize("family", ["reach", "push"])
def test_expert_dispatches_on_the_task_key_in_the_drawing_env(family):
    env = gymnasium.make("Portia/Arm4-v0")
    expert = ScriptedExpert(env)
    observation, _ = env.reset(seed=1, options={"task": family})
    assert finish_episode(env, expert, observation)["is_success"]


@pytest.mark.parametrize("body", BODIES)
def test_push_expert_recovers_from_a_disturbed_start(body):
    env, expert = make("push", body)
    rng = np.random.default_rng(0)
    for seed in range(2):
        observation, _ = env.reset(seed=seed)
        for _ in range(12):
            observation, *_ = env.step(rng.uniform(-0.6, 0.6, 5))
        assert finish_episode(env, expert, observation)["is_success"], seed


def test_actions_are_in_the_space_deterministic_and_leave_the_env_untouched():
    env, expert = make("push", "arm4")
    twin = ScriptedExpert(gymnasium.make("Portia/Arm4Push-v0"))
    observation, _ = env.reset(seed=5)
    for _ in range(40):
        state = env.unwrapped.get_state()
        action = expert.act(observation)
        np.testing.assert_array_equal(env.unwrapped.get_state(), state)
        assert action.shape == (5,) and env.action_space.contains(action)
        np.testing.assert_array_equal(action, twin.act(observation))
        observation, *_ = env.step(action)


@pytest.mark.parametrize("body", BODIES)
def test_ik_reaches_targets_with_the_hand_down_or_leaning(body):
    env = gymnasium.make("Portia/Arm4Reach-v0", body=body)
    model, ik = env.unwrapped.sim.model, Arm4IK.for_body(body)
    data = mujoco.MjData(model)
    qpos = [model.joint(name).qposadr[0] for name in ARM4_JOINTS]
    rng = np.random.default_rng(0)
    for _ in range(20):
        target = rng.uniform([0.28, -0.25, 0.02], [0.56, 0.25, 0.3])
        lean = rng.uniform(-0.35, 0.35)
        data.qpos[qpos] = ik.solve(target, lean)
        mujoco.mj_kinematics(model, data)
        np.testing.assert_allclose(data.site("grip").xpos, target, atol=1e-9)
        hand_z = data.site("grip").xmat.reshape(3, 3)[:, 2]
        assert hand_z[2] == pytest.approx(-math.cos(lean), abs=1e-9)
    # Out of reach, the solution stays inside the joint ranges.
    far = ik.solve(np.array([2.0, 0.0, 0.0]))
    low, high = np.array(ARM4_JOINT_RANGES).T
    assert np.all((low <= far) & (far <= high))


def test_ik_action_bounds_the_joint_target_change_and_holds_the_gripper_command():
    ik = Arm4IK.for_body("arm4")
    home = ik.solve(np.array([0.4, 0.0, 0.24]))
    action = ik.action(
        home,
        np.array([0.4, 0.0, 0.24]),
        np.array([0.3, 0.3, 0.05]),
        gripper=0.5,
        max_step_m=1.0,
    )
    low, high = np.array(ARM4_JOINT_RANGES).T
    targets = low + (action[:4] + 1.0) / 2.0 * (high - low)
    assert np.max(np.abs(targets - home)) == pytest.approx(MAX_JOINT_STEP_RAD, abs=1e-5)
    assert action[4] == 0.5


def test_expert_refuses_an_unknown_four_hinge_body():
    with pytest.raises(InvalidParameterError, match="no four-hinge body 'arm5'"):
        Arm4IK.for_body("arm5")


@pytest.mark.slow
@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("family", ["reach", "push"])
def test_expert_success_rate_over_100_seeded_episodes(family, body):
    env, expert = make(family, body)
    rate = np.mean([run_episode(env, expert, seed) for seed in range(100)])
    assert rate >= TARGET_RATES[family]
