"""The contract every registered single-agent Portia env keeps, checked on each of them.

Gymnasium's and Stable-Baselines3's checkers; seeding (the same seed, the same episode to the
bit; another seed, another start); the exact state round trip (``get_state``/``set_state``,
in the env and in a fresh one); pickling mid-episode; ``rollout`` equal to stepping; and bad
input refused with a ``PortiaError`` that changes nothing. The env-specific tests (task
families, bodies, Detour's levels) live beside each env.
"""

import pickle

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.envs.registration import registry

import portia_envs  # noqa: F401  (registers the ids)
from portia_envs.errors import PortiaError
from tests.portia_envs.checks import (
    assert_gymnasium_checker_passes,
    assert_rollout_equals_stepping,
    assert_sb3_checker_accepts,
)

ENV_IDS = sorted(env_id for env_id in registry if env_id.startswith("Portia/"))
STEPS = 25


def random_actions(env, n, seed=0):
    """``n`` actions of ``env``'s space, from a seeded generator (beyond [-1, 1] for boxes)."""
    rng = np.random.default_rng(seed)
    space = env.action_space
    if isinstance(space, spaces.Discrete):
        return [int(a) for a in rng.integers(0, space.n, n)]
    return list(rng.uniform(-1.2, 1.2, (n, *space.shape)).astype(space.dtype))


def play(env, seed, actions):
    """Reset with ``seed`` and take ``actions`` (resetting where an episode ends); every step."""
    steps = [env.reset(seed=seed)]
    for action in actions:
        step = env.step(action)
        steps.append(step)
        if step[2] or step[3]:
            steps.append(env.reset())
    return steps


def test_every_registered_id_is_covered():
    assert len(ENV_IDS) == 14  # 10 arm ids, 2 spider, 2 Detour


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_gymnasium_checker_passes_without_warnings(env_id):
    detour = "detour" in str(registry[env_id].entry_point)
    assert_gymnasium_checker_passes(env_id, **({"cell_px": 8} if detour else {}))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_stable_baselines3_checker_accepts(env_id):
    assert_sb3_checker_accepts(env_id)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_the_same_seed_gives_the_same_episode_and_another_seed_another(env_id):
    first, second = gymnasium.make(env_id), gymnasium.make(env_id)
    actions = random_actions(first, STEPS)
    assert pickle.dumps(play(first, 7, actions)) == pickle.dumps(play(second, 7, actions))
    other, _ = second.reset(seed=8)
    start, _ = first.reset(seed=7)
    assert pickle.dumps(other) != pickle.dumps(start)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_a_restored_state_continues_bit_identically_here_and_in_a_fresh_env(env_id):
    env = gymnasium.make(env_id).unwrapped
    actions = random_actions(env, 2 * STEPS, seed=1)
    env.reset(seed=3)
    for action in actions[:STEPS]:
        env.step(action)
    state = env.get_state()
    continuation = [env.step(action) for action in actions[STEPS:]]
    env.set_state(state)
    again = [env.step(action) for action in actions[STEPS:]]
    fresh = gymnasium.make(env_id).unwrapped
    fresh.reset(seed=99)
    fresh.set_state(state)
    elsewhere = [fresh.step(action) for action in actions[STEPS:]]
    assert pickle.dumps(again) == pickle.dumps(continuation) == pickle.dumps(elsewhere)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_the_env_pickles_mid_episode(env_id):
    env = gymnasium.make(env_id).unwrapped
    actions = random_actions(env, 2 * STEPS, seed=2)
    env.reset(seed=4)
    for action in actions[:STEPS]:
        env.step(action)
    copy = pickle.loads(pickle.dumps(env))
    ours = [env.step(action) for action in actions[STEPS:]]
    theirs = [copy.step(action) for action in actions[STEPS:]]
    assert pickle.dumps(ours) == pickle.dumps(theirs)
    assert pickle.dumps(env.reset()) == pickle.dumps(copy.reset())  # the generator came too


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_a_never_reset_env_pickles_and_plays_as_a_new_one(env_id):
    env = gymnasium.make(env_id).unwrapped
    copy = pickle.loads(pickle.dumps(env))
    actions = random_actions(env, 5, seed=4)
    assert pickle.dumps(play(copy, 2, actions)) == pickle.dumps(play(env, 2, actions))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_rollout_equals_stepping_on_any_thread_count_and_leaves_the_env_untouched(env_id):
    env = gymnasium.make(env_id).unwrapped
    env.reset(seed=5)
    actions = np.array(random_actions(env, 3 * 8, seed=3))
    actions = actions.reshape(3, 8, *actions.shape[1:])
    threaded = env.rollout(actions, nthread=2)
    future = assert_rollout_equals_stepping(env, actions)
    for key, value in future.items():
        assert threaded[key].tobytes() == value.tobytes(), key


def bad_actions(space):
    """Actions no env of ``space`` accepts."""
    if isinstance(space, spaces.Discrete):
        return [-1, space.n, 1.5, "left"]
    nan = np.zeros(space.shape)
    nan[0] = np.nan
    return [np.zeros(space.shape[0] + 1), nan, np.full(space.shape, np.inf), "left"]


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_bad_input_is_refused_and_changes_nothing(env_id):
    env = gymnasium.make(env_id).unwrapped
    with pytest.raises(PortiaError, match="reset"):
        env.step(env.action_space.sample())
    env.reset(seed=6)
    state = env.get_state()
    for action in bad_actions(env.action_space):
        with pytest.raises(PortiaError):
            env.step(action)
        assert env.get_state().tobytes() == state.tobytes()
    with pytest.raises(PortiaError):
        env.set_state(state[:-1])
    corrupt = state.copy()
    corrupt[-1] = np.nan
    with pytest.raises(PortiaError):
        env.set_state(corrupt)
    assert env.get_state().tobytes() == state.tobytes()
