import math

import gymnasium
import mujoco
import numpy as np
import pytest

import portia_envs
from portia_envs.embodiments.arm import HOME_ARM_QPOS
from portia_envs.envs.handover import AGENTS
from portia_envs.experts.handover import HANDOVER_SUCCESS_RATE, HandoverExpert
from portia_envs.experts.ik import ArmIK, hand_rotation


def make():
    env = portia_envs.make_parallel("Portia/Handover-v0")
    return env, HandoverExpert(env)


def run_episode(env, expert, seed, disturb_steps=0):
    """Run one episode with the expert (after ``disturb_steps`` random ones); last infos."""
    rng = np.random.default_rng(seed)
    observations, _ = env.reset(seed=seed)
    expert.reset()
    for _ in range(disturb_steps):
        observations, *_ = env.step({a: rng.uniform(-0.6, 0.6, 7) for a in env.agents})
    handed_over = False
    while env.agents:
        observations, _, terminations, _, infos = env.step(expert.act(observations))
        handed_over |= infos["giver"]["handed_over"]
    assert not any(terminations.values()) and handed_over
    return infos


def test_the_expert_hands_the_block_over_in_seeded_episodes():
    env, expert = make()
    successes = sum(run_episode(env, expert, seed)["taker"]["is_success"] for seed in range(3))
    assert successes >= math.ceil(3 * HANDOVER_SUCCESS_RATE)


def test_the_expert_recovers_from_a_disturbed_start():
    env, expert = make()
    for seed in range(2):
        assert run_episode(env, expert, seed, disturb_steps=12)["giver"]["is_success"], seed


def test_the_giver_lets_go_and_the_taker_holds_the_block_at_the_goal():
    env, expert = make()
    infos = run_episode(env, expert, seed=4)
    assert infos["taker"]["is_success"]
    data = env.unwrapped.sim.data
    block = data.body("block").xpos
    assert np.linalg.norm(data.site("taker_grip").xpos - block) < 0.03
    assert np.linalg.norm(data.site("giver_grip").xpos - block) > 0.3


def test_actions_are_in_the_action_spaces_and_deterministic():
    env, expert = make()
    twin = HandoverExpert(portia_envs.make_parallel("Portia/Handover-v0"))
    observations, _ = env.reset(seed=6)
    for _ in range(80):
        actions = expert.act(observations)
        again = twin.act(observations)
        for agent in AGENTS:
            assert env.action_space(agent).contains(actions[agent])
            np.testing.assert_array_equal(actions[agent], again[agent])
        observations, *_ = env.step(actions)


def test_the_expert_rejects_other_envs():
    with pytest.raises(TypeError, match="handover env"):
        HandoverExpert(gymnasium.make("CartPole-v1"))


@pytest.mark.parametrize("prefix", ["giver_", "taker_"])
def test_ik_solves_for_a_prefixed_arm_of_a_two_arm_model(prefix):
    env, _ = make()
    model = env.unwrapped.sim.model
    ik = ArmIK(model, prefix=prefix)
    joints = np.array(HOME_ARM_QPOS) + 0.2
    data = mujoco.MjData(model)
    address = model.joint(f"{prefix}base_yaw").qposadr[0]
    data.qpos[address : address + 6] = joints
    mujoco.mj_forward(model, data)
    position, _ = ik.grip_pose(joints)
    np.testing.assert_allclose(position, data.site(f"{prefix}grip").xpos, atol=1e-12)
    target = np.array([0.55, 0.05, 0.05])
    solution = np.array(HOME_ARM_QPOS)
    for _ in range(10):
        solution = ik.solve(solution, target, hand_rotation(0.3))
    np.testing.assert_allclose(ik.grip_pose(solution)[0], target, atol=1e-4)


@pytest.mark.slow
def test_the_expert_reaches_its_documented_success_rate():
    env, expert = make()
    successes = sum(run_episode(env, expert, seed)["taker"]["is_success"] for seed in range(50))
    assert successes / 50 >= HANDOVER_SUCCESS_RATE
