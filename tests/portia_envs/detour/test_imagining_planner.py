"""The planner that ``portia bench`` scores finds, by imagining, what the grid planner finds."""

import gymnasium
import numpy as np
import pytest

import portia_envs  # noqa: F401
from portia_envs.detour.planner import DetourPlanner, ImaginingPlanner
from portia_envs.errors import InvalidTypeError
from wrappers.time_pause import TimePause


def _play(env, agent, seed):
    agent.reset()
    observation, _ = env.reset(seed=seed)
    total, done = 0.0, False
    while not done:
        observation, reward, terminated, truncated, info = env.step(agent.act(observation))
        total += reward
        done = terminated or truncated
    return total, info["is_success"]


@pytest.mark.parametrize("env_id", ["Portia/Detour-v0", "Portia/DetourDiscrete-v0"])
def test_it_catches_the_prey_with_the_grid_planner_s_return(env_id):
    # Equal returns: the fewest moves both ways, and the progress reward telescopes.
    imagined = TimePause(gymnasium.make(env_id, split="heldout"))
    grid = gymnasium.make(env_id, split="heldout")
    planner, teacher = ImaginingPlanner(imagined), DetourPlanner(grid)
    for seed in range(12):
        (imagined_return, caught), (grid_return, _) = (
            _play(imagined, planner, seed),
            _play(grid, teacher, seed),
        )
        assert caught and imagined_return == pytest.approx(grid_return, abs=1e-9)


def test_it_thinks_only_by_imagining_and_leaves_the_episode_as_it_was():
    env = TimePause(gymnasium.make("Portia/Detour-v0"))
    observation, _ = env.reset(seed=5)
    state = env.unwrapped.get_state()
    action = ImaginingPlanner(env).act(observation)
    assert np.array_equal(env.unwrapped.get_state(), state)
    assert action.dtype == np.float32 and action.shape == (3,)
    _, _, _, _, info = env.step(action)
    assert info["think_steps"] > 0


def test_it_refuses_an_env_it_cannot_imagine_in():
    with pytest.raises(InvalidTypeError, match="Detour env behind wrappers.TimePause"):
        ImaginingPlanner(gymnasium.make("Portia/Detour-v0"))
    with pytest.raises(InvalidTypeError, match="Detour env behind wrappers.TimePause"):
        ImaginingPlanner(TimePause(gymnasium.make("Portia/ArmReach-v0")))
