import numpy as np
import pytest

from tests.scripts.conftest import load_script


@pytest.fixture(scope="module")
def ppo():
    return load_script("detour_ppo")


def test_gae_by_hand_termination_does_not_bootstrap_truncation_does(ppo):
    rewards = np.array([[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]])
    values = np.array([[0.5, 0.5], [1.0, 1.0], [1.0, 1.0]])
    next_values = np.array([[1.0, 1.0], [1.0, 1.0], [4.0, 4.0]])
    # Column 0 terminates at the last step; column 1 is truncated at step 1.
    terminated = np.array([[0, 0], [0, 0], [1, 0]], dtype=float)
    ended = np.array([[0, 0], [0, 1], [1, 0]], dtype=float)
    advantages = ppo.compute_gae(rewards, values, next_values, terminated, ended, 0.5, 0.5)
    # Column 0: deltas 1, -0.5, 1 (no bootstrap); carried with gamma * lambda = 0.25.
    # Column 1: deltas 1, -0.5, 3 (bootstrapped); step 1 ends, so nothing carries into it.
    np.testing.assert_allclose(advantages, [[0.9375, 0.875], [-0.25, -0.5], [1.0, 3.0]])


def test_a_tiny_run_trains_and_evaluates(ppo):
    config = ppo.Config(total_steps=256, num_envs=8, num_steps=16, threads=1)
    policy, run = ppo.train(config)
    assert run["steps"] == 256
    rate = ppo.evaluate(lambda obs: policy.predict(obs), "heldout", 4, seed=0)
    assert 0.0 <= rate <= 1.0
    assert ppo.planner_rate("heldout", 3, seed=0) == 1.0
