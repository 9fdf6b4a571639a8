import re
import subprocess
import sys

import gymnasium
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import portia_envs  # noqa: F401  (registers the ids)
from portia_envs.detour.vector import DetourVectorEnv
from portia_envs.errors import InvalidActionError, InvalidParameterError, UnknownTaskError

IDS = ["Portia/Detour-v0", "Portia/DetourDiscrete-v0"]


def _make_vec(env_id, num_envs, **kwargs):
    return gymnasium.make_vec(
        env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs
    )


def _actions(envs, steps, seed=0):
    envs.action_space.seed(seed)
    return [envs.action_space.sample() for _ in range(steps)]


def test_make_vec_builds_the_native_vector_env_with_next_step_autoreset():
    envs = _make_vec("Portia/Detour-v0", 4)
    assert isinstance(envs, DetourVectorEnv)
    assert envs.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    assert envs.max_episode_steps == gymnasium.spec("Portia/Detour-v0").max_episode_steps
    assert envs.observation_space.shape == (4, 105)
    assert envs.action_space.shape == (4, 3)


@pytest.mark.parametrize("env_id", IDS)
def test_vector_and_single_envs_give_identical_trajectories(env_id):
    """Each world equals a single env under the time limit, reset when its episode ends."""
    n, steps, seeds = 6, 400, [3, 14, 15, 92, 65, 35]
    # A short time limit so that the run covers truncations as well as terminations.
    envs = _make_vec(env_id, n, max_episode_steps=25)
    singles = [gymnasium.make(env_id, max_episode_steps=25) for _ in range(n)]
    observations, infos = envs.reset(seed=seeds)
    for i, env in enumerate(singles):
        observation, info = env.reset(seed=seeds[i])
        np.testing.assert_array_equal(observations[i], observation)
        assert infos["level"][i] == info["level"]
    ended = [False] * n
    endings = {"terminated": 0, "truncated": 0}
    for actions in _actions(envs, steps):
        observations, rewards, terminated, truncated, infos = envs.step(actions)
        for i, env in enumerate(singles):
            if ended[i]:
                observation, info = env.reset()
                reward, term, trunc = 0.0, False, False
            else:
                observation, reward, term, trunc, info = env.step(actions[i])
            np.testing.assert_array_equal(observations[i], observation)
            assert (rewards[i], terminated[i], truncated[i]) == (reward, term, trunc)
            assert infos["is_success"][i] == info["is_success"]
            assert infos["level"][i] == info["level"]
            ended[i] = term or trunc
            endings["terminated"] += term
            endings["truncated"] += trunc
    assert endings["terminated"] > 0 and endings["truncated"] > 0


def test_next_step_autoreset_ignores_the_action_and_starts_the_next_level():
    envs = _make_vec("Portia/Detour-v0", 2, max_episode_steps=3)
    observations, infos = envs.reset(seed=0)
    first_levels = infos["level"].copy()
    for _ in range(3):
        observations, rewards, terminated, truncated, infos = envs.step(np.zeros((2, 3)))
    assert truncated.all() and not terminated.any()
    last = observations
    observations, rewards, terminated, truncated, infos = envs.step(np.ones((2, 3)))
    assert (rewards == 0).all() and not terminated.any() and not truncated.any()
    assert not np.array_equal(observations, last)
    single = gymnasium.make("Portia/Detour-v0")
    single.reset(seed=0)
    observation, info = single.reset()  # the seed's stream's second level
    np.testing.assert_array_equal(observations[0], observation)
    assert infos["level"][0] == info["level"] != first_levels[0]
    # The next step acts again.
    observations, *_ = envs.step(np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]))
    assert not np.array_equal(observations[0], observation)


def test_observations_are_fresh_arrays_and_in_the_space():
    envs = _make_vec("Portia/DetourDiscrete-v0", 8)
    previous, _ = envs.reset(seed=1)
    for actions in _actions(envs, 50):
        observations, rewards, *_ = envs.step(actions)
        assert envs.observation_space.contains(observations)
        assert not np.shares_memory(observations, previous)
        previous = observations


@pytest.mark.parametrize(
    ("env_id", "actions", "match"),
    [
        ("Portia/Detour-v0", np.zeros((3, 3)), re.escape("shape (4, 3)")),
        ("Portia/Detour-v0", np.full((4, 3), np.nan), "NaN or infinite"),
        ("Portia/DetourDiscrete-v0", np.zeros((4, 3), dtype=int), re.escape("ints of shape (4,)")),
        ("Portia/DetourDiscrete-v0", np.array([0, 1, 2, 9]), re.escape("in 0..8")),
        ("Portia/DetourDiscrete-v0", np.zeros(4), "dtype float64"),
    ],
)
def test_bad_vector_actions_raise_clear_errors(env_id, actions, match):
    envs = _make_vec(env_id, 4)
    envs.reset(seed=0)
    with pytest.raises(InvalidActionError, match=match):
        envs.step(actions)


def test_bad_vector_arguments_raise_clear_errors():
    with pytest.raises(UnknownTaskError, match="accepted: easy, medium, hard"):
        _make_vec("Portia/Detour-v0", 2, difficulty="extreme")
    with pytest.raises(InvalidParameterError, match="num_envs must be an int >= 1"):
        DetourVectorEnv(0)
    envs = _make_vec("Portia/Detour-v0", 2)
    with pytest.raises(InvalidParameterError, match="2 ints, got 3"):
        envs.reset(seed=[1, 2, 3])
    with pytest.raises(InvalidParameterError, match="takes no reset options"):
        envs.reset(options={"level": 3})


def test_vector_rgb_frames_one_per_world():
    envs = _make_vec("Portia/Detour-v0", 3, render_mode="rgb_array")
    envs.reset(seed=0)
    frames = envs.render()
    assert len(frames) == 3 and frames[0].shape == (440, 440, 3)
    assert not np.array_equal(frames[0], frames[1])


TRAJECTORY_CODE = """
import hashlib, numpy as np, gymnasium, portia_envs
envs = gymnasium.make_vec("Portia/Detour-v0", num_envs=16, vectorization_mode="vector_entry_point")
digest = hashlib.sha256()
observations, infos = envs.reset(seed=2024)
actions = np.random.default_rng(0).uniform(-1, 1, (300, 16, 3))
for a in actions:
    observations, rewards, terminated, truncated, infos = envs.step(a)
    for array in (observations, rewards, terminated, truncated, infos["level"]):
        digest.update(np.ascontiguousarray(array).tobytes())
print(digest.hexdigest())
"""


def test_seeded_trajectories_are_identical_across_processes():
    digests = {
        subprocess.run(
            [sys.executable, "-c", TRAJECTORY_CODE], capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    }
    namespace: dict = {}
    exec(TRAJECTORY_CODE, namespace)  # and in this process
    assert len(digests) == 1 and digests == {namespace["digest"].hexdigest()}
