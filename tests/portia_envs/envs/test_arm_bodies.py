"""ArmEnv with each body: the four-hinge arms behave like the arm, and the arm is unchanged."""

import pickle

import gymnasium
import numpy as np
import pytest

import portia_envs  # noqa: F401  (registers the ids)
from portia_envs.embodiments.arm4 import ARM4_BODIES, ARM4_JOINT_RANGES, ARM4_JOINTS
from portia_envs.embodiments.arm_bodies import ARM_BODIES
from portia_envs.envs.arm import ArmEnv
from portia_envs.errors import InvalidParameterError, UnknownTaskError
from portia_envs.sim.compose import arm_fingerprint
from portia_envs.tasks.observation import observation_layout
from tests.portia_envs.checks import assert_rollout_equals_stepping
from wrappers import FixedLatency, LatencyBudget, TimePause

ARM4 = sorted(ARM4_BODIES)
# Joint count, observation size and action size of each body.
SIZES = {"arm": (6, 55, 7), "arm4": (4, 51, 5), "arm4_long": (4, 51, 5)}


def random_steps(env, seed, n_steps, action_seed=0):
    rng = np.random.default_rng(action_seed)
    steps = [env.reset(seed=seed)]
    for _ in range(n_steps):
        step = env.step(rng.uniform(-1.2, 1.2, env.action_space.shape))
        steps.append(step)
        if step[2] or step[3]:
            steps.append(env.reset())
    return steps


def test_the_docstring_states_each_bodys_observation_and_action_sizes():
    doc = " ".join(ArmEnv.__doc__.split())
    for body, (n_joints, size, actions) in SIZES.items():
        env = ArmEnv(body=body)
        layout = observation_layout(n_joints)
        assert env.observation_space["observation"].shape == (size,) == (layout.size,)
        assert env.action_space.shape == (actions,)
        assert f"Box(-1, 1, ({actions},), float32)" in doc
        for key, shape in (("achieved_goal", (3,)), ("desired_goal", (3,)), ("task", (6,))):
            assert env.observation_space[key].shape == shape
    assert '``observation`` (55,) float64 for ``"arm"``, (51,) for the arm4 bodies' in doc
    assert "joint_pos (6, rad; 4 for arm4), joint_vel (6, rad/s; 4 for arm4)" in doc
    for name, size, _ in observation_layout(4).parts[2:]:
        assert f"{name} ({size}" in doc or name.endswith("_size")


@pytest.mark.parametrize("body", ARM4)
def test_observation_parts_are_the_named_quantities(body):
    env = ArmEnv(body=body, task="push")
    observation, _ = env.reset(seed=3)
    model, data = env.sim.model, env.sim.data
    slices = observation_layout(4).slices
    part = {name: observation["observation"][where] for name, where in slices.items()}
    qpos = [model.joint(name).qposadr[0] for name in ARM4_JOINTS]
    np.testing.assert_array_equal(part["joint_pos"], data.qpos[qpos])
    np.testing.assert_allclose(part["grip_pos"], data.site("grip").xpos, atol=1e-12)
    np.testing.assert_allclose(part["block_pos"], data.body("block").xpos, atol=1e-12)
    np.testing.assert_allclose(part["block_rel_pos"], part["block_pos"] - part["grip_pos"])
    np.testing.assert_array_equal(observation["achieved_goal"], part["block_pos"])
    np.testing.assert_allclose(part["block_size"], model.geom("block").size[:1])


@pytest.mark.parametrize("body", ARM4)
def test_same_seed_gives_bit_identical_episodes_and_seeds_differ(body):
    first = random_steps(gymnasium.make("Portia/Arm4-v0", body=body), seed=11, n_steps=320)
    second = random_steps(gymnasium.make("Portia/Arm4-v0", body=body), seed=11, n_steps=320)
    assert pickle.dumps(first) == pickle.dumps(second)
    env = ArmEnv(body=body)
    starts = {env.reset(seed=seed)[0]["observation"][:4].tobytes() for seed in range(5)}
    assert len(starts) == 5


@pytest.mark.parametrize("body", ARM4)
def test_set_state_of_get_state_continues_exactly_here_and_in_a_fresh_env(body):
    env = ArmEnv(body=body, task="push")
    rng = np.random.default_rng(1)
    env.reset(seed=2)
    for _ in range(25):
        env.step(rng.uniform(-1, 1, 5))
    state = env.get_state()
    actions = rng.uniform(-1, 1, (30, 5))
    original = [env.step(a) for a in actions]
    env.set_state(state)
    np.testing.assert_array_equal(env.get_state(), state)
    assert pickle.dumps([env.step(a) for a in actions]) == pickle.dumps(original)
    fresh = ArmEnv(body=body, task="push")
    fresh.set_state(state)
    assert pickle.dumps([fresh.step(a) for a in actions]) == pickle.dumps(original)


@pytest.mark.parametrize("body", ARM4)
@pytest.mark.parametrize("task", ["reach", "push"])
def test_rollout_equals_stepping_and_leaves_the_env_untouched(body, task):
    env = ArmEnv(body=body, task=task)
    env.reset(seed=7)
    for _ in range(5):
        env.step(env.action_space.sample())
    actions = np.random.default_rng(3).uniform(-1.3, 1.3, (2, 10, 5))
    assert_rollout_equals_stepping(env, actions, atol=1e-9)


@pytest.mark.parametrize("body", ARM4)
def test_env_pickles_mid_episode(body):
    env = gymnasium.make("Portia/Arm4Push-v0", body=body)
    env.reset(seed=4)
    for _ in range(10):
        env.step(env.action_space.sample())
    clone = pickle.loads(pickle.dumps(env))
    assert clone.unwrapped.body == body
    actions = np.random.default_rng(0).uniform(-1, 1, (20, 5))
    assert pickle.dumps([env.step(a) for a in actions]) == pickle.dumps(
        [clone.step(a) for a in actions]
    )
    assert pickle.dumps(env.reset()) == pickle.dumps(clone.reset())


@pytest.mark.parametrize("body", ARM4)
def test_reward_terms_sum_and_compute_reward_agrees(body):
    env = gymnasium.make("Portia/Arm4Push-v0", body=body)
    steps = random_steps(env, seed=9, n_steps=60)[1:]
    steps = [step for step in steps if len(step) == 5]
    achieved = np.array([s[0]["achieved_goal"] for s in steps])
    desired = np.array([s[0]["desired_goal"] for s in steps])
    rewards = np.array([s[1] for s in steps])
    infos = [s[4] for s in steps]
    for reward, info in zip(rewards, infos, strict=True):
        assert reward == info["reward_distance"] + info["reward_approach"]
    np.testing.assert_array_equal(env.unwrapped.compute_reward(achieved, desired, infos), rewards)


@pytest.mark.parametrize("body", ARM4)
def test_hold_action_holds_the_arm_still(body):
    env = ArmEnv(body=body, task="reach")
    observation, _ = env.reset(seed=0)
    start = observation["observation"][:4]
    hold = env.hold_action()
    assert hold.shape == (5,) and hold.dtype == np.float32
    assert hold[4] == pytest.approx(-1.0)  # open, as at the start
    for _ in range(10):
        observation, *_ = env.step(env.hold_action())
    np.testing.assert_allclose(observation["observation"][:4], start, atol=1e-3)


@pytest.mark.parametrize("body", ARM4)
def test_delay_next_step_applies_the_previous_action_first(body):
    envs = [ArmEnv(body=body, task="reach") for _ in range(3)]
    for env in envs:
        env.reset(seed=1)
    previous, action = np.zeros(5), np.full(5, 0.5)
    delayed, whole, plain = envs
    delayed.delay_next_step(previous, delayed.n_substeps)
    # Delayed for the whole period, the step is one of the previous action.
    assert pickle.dumps(delayed.step(action)) == pickle.dumps(whole.step(previous))
    delayed.delay_next_step(previous, 0)
    assert pickle.dumps(delayed.step(action)) == pickle.dumps(whole.step(action))
    delayed.delay_next_step(previous, 7)
    partly = delayed.step(action)[0]["observation"]
    plain.step(previous)
    assert not np.array_equal(partly, whole.step(action)[0]["observation"])
    with pytest.raises(ValueError, match=r"substeps must be 0..20"):
        delayed.delay_next_step(previous, 21)


def test_four_hinge_bodies_do_reach_and_push_only():
    env = ArmEnv(body="arm4")
    assert env.task_ids == ("arm4-reach", "arm4-push")
    drawn = {env.reset(seed=seed)[1]["task_id"] for seed in range(20)}
    assert drawn == {"arm4-reach", "arm4-push"}
    with pytest.raises(UnknownTaskError, match=r"body 'arm4_long' does not do task 'stack'.*"):
        ArmEnv(body="arm4_long", task="stack")
    with pytest.raises(UnknownTaskError, match="its tasks: reach, push"):
        env.reset(options={"task": "pick_place"})
    with pytest.raises(UnknownTaskError, match="did you mean 'push'"):
        env.reset(options={"task": "puhs"})


def test_a_suite_task_of_another_body_names_the_body_to_make_the_env_with():
    with pytest.raises(UnknownTaskError, match="is for body 'arm4'.*make it with body='arm4'"):
        ArmEnv(suite="arm-bodies-v0", split="train", task="arm4-reach")
    env = ArmEnv(suite="arm-bodies-v0", split="train", task="arm4-reach", body="arm4")
    assert env.reset(seed=0)[1]["task_id"] == "arm4-reach"
    with pytest.raises(UnknownTaskError, match="this body's train tasks: arm-reach, arm-push"):
        ArmEnv(suite="arm-bodies-v0", split="train").reset(options={"task": "arm4-push"})


def test_unknown_bodies_and_suites_of_another_body_are_refused():
    with pytest.raises(InvalidParameterError, match=r"unknown body 'arm_4'; accepted: arm, arm4"):
        gymnasium.make("Portia/Arm-v0", body="arm_4")
    with pytest.raises(InvalidParameterError, match="did you mean 'arm4_long'"):
        ArmEnv(body="arm4_lon")
    with pytest.raises(InvalidParameterError, match="no train task for body 'arm4'.*for arm"):
        ArmEnv(body="arm4", suite="arm-reach-v0")
    with pytest.raises(InvalidParameterError, match="unknown body"):
        arm_fingerprint(body="spider")


def test_the_arm_is_unchanged_and_every_body_has_its_own_fingerprint():
    assert ArmEnv(body="arm").fingerprint == ArmEnv().fingerprint == arm_fingerprint()
    assert arm_fingerprint(0.05, "arm") == arm_fingerprint()
    prints = {ArmEnv(body=body).fingerprint for body in ARM_BODIES}
    assert prints == {arm_fingerprint(body=body) for body in ARM_BODIES}
    assert len(prints) == len(ARM_BODIES)
    default, explicit = ArmEnv(task="push"), ArmEnv(task="push", body="arm")
    assert pickle.dumps(random_steps(default, 3, 60)) == pickle.dumps(random_steps(explicit, 3, 60))


@pytest.mark.parametrize("body", ARM_BODIES)
def test_the_embodiment_matches_the_spaces_and_the_observation(body):
    env = ArmEnv(body=body, task="push")
    n_joints, _, n_actions = SIZES[body]
    embodiment = env.embodiment
    assert embodiment.name == body
    assert len(embodiment.actions) == env.action_space.shape[0] == n_actions
    assert [j.kind for j in embodiment.joints] == ["hinge"] * n_joints + ["slide"] * 2
    assert embodiment.proprio_key == "observation"
    assert len(embodiment.proprioception) == 2 * n_joints + 10
    # -1 and +1 of each joint's action command the dimension's low and high.
    low, high = env.controls(-np.ones(n_actions)), env.controls(np.ones(n_actions))
    model = env.sim.model
    for i, dimension in enumerate(embodiment.actions[:-1]):
        actuator = model.actuator(embodiment.joints[dimension.joint].name).id
        assert (dimension.quantity, dimension.unit, dimension.joint) == (
            "joint_position_target",
            "rad",
            i,
        )
        assert (low[actuator], high[actuator]) == pytest.approx((dimension.low, dimension.high))
    gripper = embodiment.actions[-1]
    assert (gripper.quantity, gripper.low, gripper.high, gripper.joint) == (
        "gripper_command",
        -1.0,
        1.0,
        None,
    )

    # At reset the readings are of the state itself: positions are the joints' qpos.
    observation, _ = env.reset(seed=5)
    data = env.sim.data
    values = observation["observation"][list(embodiment.proprio_indices)]
    for value, dimension in zip(values, embodiment.proprioception, strict=True):
        if dimension.quantity == "joint_position":
            joint = model.joint(embodiment.joints[dimension.joint].name)
            assert value == data.qpos[joint.qposadr[0]], dimension.name
        elif dimension.quantity == "position":
            assert value == data.site("grip").xpos["xyz".index(dimension.name[-1])]
        # Velocities' declared ranges are scales (random actions exceed them), not limits.
        assert dimension.low <= value <= dimension.high, dimension.name
    # Mid-episode, every index points at the sensor of the dimension's name.
    for _ in range(8):
        observation, *_ = env.step(env.action_space.sample())
    values = observation["observation"][list(embodiment.proprio_indices)]
    for value, dimension in zip(values, embodiment.proprioception, strict=True):
        name, component = dimension.name, 0
        if name.startswith(("grip_pos_", "grip_vel_")):
            name, component = name[:-2], "xyz".index(name[-1])
        sensor = model.sensor(name)
        assert value == data.sensordata[sensor.adr[0] + component], dimension.name


def test_link_lengths_tell_the_bodies_apart():
    lengths = {
        body: {j.name: j.link_length_m for j in ArmEnv(body=body).embodiment.joints}
        for body in ARM_BODIES
    }
    assert lengths["arm"]["shoulder_pitch"] == pytest.approx(0.32)
    assert lengths["arm4"]["shoulder_pitch"] == pytest.approx(0.38)
    assert lengths["arm4"]["elbow_pitch"] == pytest.approx(0.34)
    assert lengths["arm4"]["wrist_pitch"] == pytest.approx(0.12)  # to the grip site
    assert lengths["arm4_long"]["shoulder_pitch"] == pytest.approx(1.15 * 0.38)
    assert lengths["arm4_long"]["elbow_pitch"] == pytest.approx(1.15 * 0.34)
    assert lengths["arm4_long"]["wrist_pitch"] == lengths["arm4"]["wrist_pitch"]
    assert lengths["arm4"]["finger_left"] == lengths["arm"]["finger_left"] == pytest.approx(0.06)
    ranges = [(j.low, j.high) for j in ArmEnv(body="arm4").embodiment.joints[:4]]
    assert ranges == list(ARM4_JOINT_RANGES)


@pytest.mark.parametrize("body", ARM4)
def test_observations_stay_in_their_space_under_random_actions(body):
    env = gymnasium.make("Portia/Arm4Push-v0", body=body)
    for seed in range(4):
        observation, _ = env.reset(seed=seed)
        env.action_space.seed(seed)
        done = False
        while not done:
            assert env.observation_space.contains(observation)
            observation, _, terminated, truncated, _ = env.step(env.action_space.sample())
            done = terminated or truncated


@pytest.mark.parametrize("body", ARM4)
def test_the_time_wrappers_run_on_the_four_hinge_bodies(body):
    late = LatencyBudget(
        gymnasium.make("Portia/Arm4Reach-v0", body=body), budget_s=0.04, clock=FixedLatency(0.05)
    )
    late.reset(seed=0)
    *_, info = late.step(np.zeros(5))
    assert info["periods_elapsed"] == 2
    paused = TimePause(gymnasium.make("Portia/Arm4Push-v0", body=body))
    paused.reset(seed=0)
    future = paused.imagine(np.zeros((3, 4, 5)))
    assert future["reward"].shape == (3, 4) and np.isfinite(future["reward"]).all()
