"""Checks the env and expert tests share: seeded trajectories, bit-identity, env checkers."""

import pickle
import subprocess
import sys
import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env


def random_trajectory(env, seed, n_steps, action_seed=0):
    """Step with seeded random actions (resetting at episode ends); return every step."""
    rng = np.random.default_rng(action_seed)
    observation, info = env.reset(seed=seed)
    steps = [(observation, 0.0, False, False, info)]
    for _ in range(n_steps):
        step = env.step(rng.uniform(-1.2, 1.2, env.action_space.shape))
        steps.append(step)
        if step[2] or step[3]:
            steps.append((*env.reset(), 0.0, False, False))
    return steps


def assert_same_steps(a, b):
    assert len(a) == len(b)
    for step_a, step_b in zip(a, b, strict=True):
        assert pickle.dumps(step_a) == pickle.dumps(step_b)


TRAJECTORY_DIGEST = """
import hashlib, pickle, sys
import gymnasium, numpy as np
import portia_envs
env = gymnasium.make(sys.argv[1])
rng = np.random.default_rng(0)
digest = hashlib.sha256()
digest.update(pickle.dumps(env.reset(seed=5)))
for _ in range(int(sys.argv[2])):
    step = env.step(rng.uniform(-1.2, 1.2, env.action_space.shape))
    digest.update(pickle.dumps(step))
    if step[2] or step[3]:
        digest.update(pickle.dumps(env.reset()))
print(digest.hexdigest())
"""


def trajectory_digests(env_id, n_steps, processes=2):
    """Return the set of digests of one seeded random episode of ``env_id``, one per process."""
    return {
        subprocess.run(
            [sys.executable, "-c", TRAJECTORY_DIGEST, env_id, str(n_steps)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for _ in range(processes)
    }


def assert_rollout_equals_stepping(env, actions, atol=0.0):
    """Check ``env.rollout(actions)`` against stepping each sequence from the same state.

    Observations (each key of a ``Dict``, else ``future["observation"]``), rewards and each
    reward term agree within ``atol`` (0: to the bit), success and termination exactly, up
    to a sequence's termination (what a rollout holds after it is the env's to say), and
    the rollout leaves the env's state untouched. Returns the rollout.
    """
    before = env.get_state()
    future = env.rollout(actions)
    np.testing.assert_array_equal(env.get_state(), before)
    batch, horizon = actions.shape[:2]
    for b in range(batch):
        env.set_state(before)
        for t in range(horizon):
            observation, reward, terminated, _, info = env.step(actions[b, t])
            if not isinstance(observation, dict):
                observation = {"observation": observation}
            for key in observation:
                np.testing.assert_allclose(future[key][b, t], observation[key], rtol=0, atol=atol)
            assert future["reward"][b, t] == pytest.approx(reward, rel=0, abs=atol)
            for term in (key for key in info if key.startswith("reward_")):
                assert future[term][b, t] == pytest.approx(info[term], rel=0, abs=atol)
            assert future["is_success"][b, t] == info["is_success"]
            assert future["terminated"][b, t] == terminated
            if terminated:
                break
    return future


def assert_gymnasium_checker_passes(env_id, **frame_size):
    """Gymnasium's ``check_env`` passes on the env of ``env_id``, with no warnings at all.

    ``frame_size`` are the env's arguments for a small frame (default 64 x 64 pixels).
    """
    frame_size = frame_size or {"width": 64, "height": 64}
    env = gymnasium.make(env_id, render_mode="rgb_array", **frame_size)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped)
    assert [str(w.message) for w in caught] == []
    env.close()


def assert_sb3_checker_accepts(env_id):
    """Stable-Baselines3's env checker accepts the env of ``env_id``, with no warnings."""
    sb3_checker = pytest.importorskip("stable_baselines3.common.env_checker")
    env = gymnasium.make(env_id)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # Gymnasium 1.x wrappers do not forward compute_reward; SB3 reaches it through
        # env_method (which unwraps) during training, so check the env itself.
        sb3_checker.check_env(env.unwrapped, warn=True)
    assert [str(w.message) for w in caught] == []


def finish_episode(env, expert, observation):
    """Act with the expert until the episode ends; return the last step's info.

    The episode must end by the time limit, not by a termination.
    """
    while True:
        observation, _, terminated, truncated, info = env.step(expert.act(observation))
        if terminated or truncated:
            assert truncated and not terminated
            return info
