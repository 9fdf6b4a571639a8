"""``set_state`` refuses what is not a state of the env, names the field, and changes nothing."""

import functools
import pickle

import gymnasium
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import portia_envs  # noqa: F401  (registers the ids)
from portia_envs.envs.arm import ArmEnv
from portia_envs.envs.handover import AGENTS, HandoverEnv
from portia_envs.envs.spider import SpiderEnv
from portia_envs.errors import InvalidStateError
from portia_envs.suites import SPLITS, SUITES, Suite
from portia_envs.tasks import ARM_TASKS
from portia_envs.tasks.objects import OBJECT_BOUNDS, OBJECT_PARAMS, check_objects, default_objects

PORTIA_IDS = sorted(env_id for env_id in gymnasium.registry if env_id.startswith("Portia/"))


def step_bytes(env, action):
    """Step ``env`` and return everything the step gave, as bytes."""
    return pickle.dumps(env.step(action))


def assert_refused_unchanged(env, bad, match, action):
    """``set_state(bad)`` raises ``match`` and leaves state and next step as they were."""
    before = env.get_state()
    expected = step_bytes(env, action)
    env.set_state(before)
    with pytest.raises(InvalidStateError, match=match):
        env.set_state(bad)
    assert env.get_state().tobytes() == before.tobytes()
    assert step_bytes(env, action) == expected
    env.set_state(before)


def arm_mid_episode(**kwargs):
    env = ArmEnv(**kwargs)
    rng = np.random.default_rng(0)
    env.reset(seed=3)
    for _ in range(10):
        env.step(rng.uniform(-1, 1, env.action_space.shape))
    return env


def object_index(env, name):
    return env.sim.state_size + 4 + OBJECT_PARAMS.index(name)


def replace(state, index, value):
    bad = state.copy()
    bad[index] = value
    return bad


ARM_CASES = [
    (lambda e, s: s[:-1], r"flat vector of 242 values from get_state\(\) of this env"),
    (lambda e, s: replace(s, 1, np.nan), r"state\[1\] \(qpos of joint 'base_yaw'\) is nan"),
    (
        lambda e, s: replace(s, 2, 1e300),
        r"state\[2\] \(qpos of joint 'shoulder_pitch'\) is 1e\+300; accepted: finite values "
        r"within ±1000",
    ),
    (lambda e, s: replace(s, 12, 3.0), r"state\[12:16\] \(qpos of joint 'block', a quaternion\)"),
    (lambda e, s: replace(s, 30, -1e5), r"\(qvel of joint 'finger_left'\) is -100000"),
    (lambda e, s: replace(s, -1, np.inf), "task part of the state contains NaN or infinite"),
    (
        lambda e, s: replace(s, e.sim.state_size + 1, 1e300),
        r"state\[227\] \(task value 1\) is 1e\+300; accepted: finite values within ±1000",
    ),
    (lambda e, s: replace(s, e.sim.state_size, 7), r"task index must be 0..5"),
    (
        lambda e, s: replace(s, object_index(e, "block_size"), -0.02),
        r"object parameter block_size is -0.02; accepted: 0.001 to 0.1",
    ),
    (
        lambda e, s: replace(s, object_index(e, "block_mass"), 0.0),
        r"object parameter block_mass is 0; accepted: 0.001 to 10",
    ),
    (
        lambda e, s: replace(s, object_index(e, "block_friction"), -1.0),
        r"object parameter block_friction is -1; accepted: 0.001 to 10",
    ),
    (
        lambda e, s: replace(s, object_index(e, "support_size"), 0.5),
        r"object parameter support_size is 0.5; accepted: 0.001 to 0.1",
    ),
    (
        lambda e, s: replace(s, object_index(e, "block_parked"), 0.5),
        r"object parameter block_parked is 0.5; accepted: 0 or 1",
    ),
    (
        lambda e, s: replace(s, object_index(e, "drawer_friction"), -1.0),
        r"object parameter drawer_friction is -1; accepted: 0 to 100",
    ),
]


@pytest.mark.parametrize(("change", "match"), ARM_CASES)
def test_arm_refuses_a_bad_state_naming_the_field_and_changes_nothing(change, match):
    env = arm_mid_episode()
    assert_refused_unchanged(env, change(env, env.get_state()), match, np.full(7, 0.3))


def test_a_refused_object_parameter_undoes_the_task_set_before_it():
    """The task index and goal are valid and differ: they must not stay behind."""
    env = arm_mid_episode()
    state = env.get_state()
    bad = state.copy()
    size = env.sim.state_size
    bad[size] = (state[size] + 1) % len(env.task_ids)
    bad[size + 1 : size + 4] = 0.1
    bad[object_index(env, "block_mass")] = -0.1
    instruction, task = env.instruction, env.task_name
    assert_refused_unchanged(env, bad, "block_mass is -0.1", np.full(7, -0.2))
    assert (env.instruction, env.task_name) == (instruction, task)


def test_arm4_names_its_own_joints():
    env = arm_mid_episode(body="arm4")
    bad = replace(env.get_state(), 4, 2e3)
    assert_refused_unchanged(env, bad, r"\(qpos of joint 'wrist_pitch'\) is 2000", np.zeros(5))


def test_a_refused_state_before_reset_leaves_the_env_unstarted():
    env = ArmEnv(task="push")
    state = arm_mid_episode(task="push").get_state()
    state[object_index(env, "block_size")] = 0.0
    with pytest.raises(InvalidStateError, match="block_size is 0"):
        env.set_state(state)
    with pytest.raises(InvalidStateError, match="reset"):
        env.step(np.zeros(7))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda e, s: replace(s, 4, 0.0), r"state\[4:8\] \(qpos of joint 'torso', a quaternion\)"),
        (
            lambda e, s: replace(s, 8, 1e300),
            r"state\[8\] \(qpos of joint 'leg_L1_yaw'\) is 1e\+300",
        ),
        (lambda e, s: replace(s, -7, 5e3), r"\(task value 2\) is 5000; accepted: .*±1000"),
        (lambda e, s: replace(s, -1, 3.0), "half-length"),
    ],
)
def test_spider_refuses_a_bad_state_naming_the_field_and_changes_nothing(change, match):
    env = SpiderEnv(task="detour")
    env.reset(seed=1)
    for _ in range(5):
        env.step(np.full(16, 0.5))
    assert_refused_unchanged(env, change(env, env.get_state()), match, np.full(16, -0.5))


def handover_mid_episode():
    env = HandoverEnv()
    env.reset(seed=2)
    rng = np.random.default_rng(2)
    for _ in range(5):
        env.step({agent: rng.uniform(-1, 1, 7) for agent in AGENTS})
    return env


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda e, s: replace(s, 1, 1e300), r"state\[1\] \(qpos of joint 'giver_base_yaw'\)"),
        (lambda e, s: replace(s, 30, np.nan), r"state\[30\] \(qvel of joint .*\) is nan"),
        (
            lambda e, s: replace(s, -4, 1e300),
            r"state\[283\] \(goal x\) is 1e\+300; accepted: finite values within ±10 m",
        ),
        (lambda e, s: replace(s, -2, np.nan), r"\(goal z\) is nan"),
        (
            lambda e, s: replace(s, -1, 301.0),
            r"state\[286\] \(periods elapsed\) is 301; accepted: whole numbers from 0 to "
            r"max_cycles \(300\)",
        ),
    ],
)
def test_handover_refuses_a_bad_state_naming_the_field_and_changes_nothing(change, match):
    env = handover_mid_episode()
    actions = {agent: np.full(7, 0.2) for agent in AGENTS}
    assert_refused_unchanged(env, change(env, env.get_state()), match, actions)


def test_handover_keeps_its_task_when_the_physics_is_refused():
    env = handover_mid_episode()
    state = env.get_state()
    other = state.copy()
    other[-4:] = [0.9, 0.0, 0.15, 3.0]  # a valid task part...
    other[1] = np.inf  # ...with physics that is not
    with pytest.raises(InvalidStateError, match="giver_base_yaw"):
        env.set_state(other)
    assert env.get_state().tobytes() == state.tobytes()


@functools.cache
def arm_reference():
    """One arm mid-episode, its state and the bytes of its next step (action 0.3)."""
    env = arm_mid_episode()
    state = env.get_state()
    following = step_bytes(env, np.full(7, 0.3))
    return env, state, following


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    index=st.integers(0, 241),
    value=st.sampled_from([np.nan, np.inf, -np.inf, 1e300, -1e300, -1e-3, 0.0, 0.5, 3.0]),
)
def test_any_change_of_a_state_is_refused_whole_or_taken_whole(index, value):
    env, state, following = arm_reference()
    env.set_state(state)
    bad = replace(state, index, value)
    try:
        env.set_state(bad)
    except InvalidStateError:
        assert env.get_state().tobytes() == state.tobytes()
        assert step_bytes(env, np.full(7, 0.3)) == following
    else:
        assert np.isfinite(value) and abs(value) <= 1e3
        np.testing.assert_array_equal(env.get_state(), bad)


def test_every_range_a_task_draws_from_lies_within_the_object_bounds():
    ranges = [family.default_ranges for family in ARM_TASKS]
    for suite in SUITES.values():
        if not isinstance(suite, Suite):  # Detour's tasks are levels, not object ranges
            continue
        for split in SPLITS:
            ranges += [dict(task.ranges or {}) for task in suite.tasks(split)]
    for family_ranges in ranges:
        for name, (low, high) in family_ranges.items():
            if name in OBJECT_BOUNDS:
                assert OBJECT_BOUNDS[name][0] <= low <= high <= OBJECT_BOUNDS[name][1], name
    check_objects(default_objects())


def random_steps(env, seed, steps):
    """Play ``steps`` random steps from ``reset(seed)``, resetting when an episode ends."""
    env.action_space.seed(seed)
    env.reset(seed=seed)
    for _ in range(steps):
        *_, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()
        yield env.unwrapped.get_state()


@pytest.mark.parametrize(
    ("env_id", "kwargs"),
    [(env_id, {}) for env_id in PORTIA_IDS]
    + [
        ("Portia/Arm-v0", {"suite": "arm-gen-v0", "split": "heldout"}),
        ("Portia/Arm-v0", {"suite": "arm-bodies-v0", "split": "heldout", "body": "arm4_long"}),
    ],
)
def test_every_state_of_a_real_episode_is_accepted_and_changes_nothing(env_id, kwargs):
    plain, restored = gymnasium.make(env_id, **kwargs), gymnasium.make(env_id, **kwargs)
    for expected, state in zip(
        random_steps(plain, 0, 60), random_steps(restored, 0, 60), strict=True
    ):
        restored.unwrapped.set_state(state)
        assert restored.unwrapped.get_state().tobytes() == state.tobytes() == expected.tobytes()


def test_every_state_of_a_handover_episode_is_accepted():
    env, rng = HandoverEnv(max_cycles=40), np.random.default_rng(0)
    for seed in range(2):
        env.reset(seed=seed)
        while env.agents:
            env.step({agent: rng.uniform(-1.2, 1.2, 7) for agent in env.agents})
            state = env.get_state()
            if env.agents:
                env.set_state(state)
                assert env.get_state().tobytes() == state.tobytes()
        HandoverEnv(max_cycles=40).set_state(state)  # the last, at the time limit
