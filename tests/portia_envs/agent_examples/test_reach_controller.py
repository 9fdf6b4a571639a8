"""The reference controller: candidates, choices, steps, and the factory on a paused env."""

import gymnasium
import numpy as np
import pytest

from portia_envs.agent_examples.reach_controller import (
    FIRST_STEP,
    HORIZON,
    MAX_STEP,
    MIN_STEP,
    PatternSearch,
    ReachSearch,
)
from portia_envs.agent_kit import ImagineRefusedError
from wrappers.time_pause import TimePause


def final_rewards(best, batch=5):
    rewards = np.zeros(batch)
    rewards[best] = 1.0
    return rewards


def test_candidates_are_the_action_then_each_joint_up_and_down_clipped():
    search = PatternSearch(3)
    np.testing.assert_array_equal(search.action, [0.0, 0.0, -1.0])
    search.action[0] = 0.95
    np.testing.assert_allclose(
        search.candidates(),
        [
            [0.95, 0.0, -1.0],
            [1.0, 0.0, -1.0],
            [0.85, 0.0, -1.0],
            [0.95, FIRST_STEP, -1.0],
            [0.95, -FIRST_STEP, -1.0],
        ],
    )


def test_a_winning_move_is_taken_and_grows_the_step_a_winning_stay_shrinks_it():
    search = PatternSearch(3)
    search.choose(search.candidates(), final_rewards(3))
    np.testing.assert_allclose(search.action, [0.0, FIRST_STEP, -1.0])
    assert search.step == 2 * FIRST_STEP
    for _ in range(3):
        search.choose(search.candidates(), final_rewards(2))
    assert search.step == MAX_STEP
    for _ in range(10):
        search.choose(search.candidates(), final_rewards(0))
    assert search.step == MIN_STEP
    search.reset()
    assert search.step == FIRST_STEP and search.action[1] == 0.0


def test_nan_never_wins_and_ties_go_to_the_first():
    search = PatternSearch(3)
    search.choose(search.candidates(), np.array([0.0, np.nan, 0.0, 0.0, 0.0]))
    np.testing.assert_array_equal(search.action, [0.0, 0.0, -1.0])
    assert search.step == FIRST_STEP / 2


def test_act_imagines_each_candidate_held_for_the_horizon_and_holds_when_refused():
    search = PatternSearch(2)
    seen = []

    def imagine(plans):
        seen.append(plans)
        return {"reward": np.array([[0.0] * HORIZON, [5.0, 0.0, 0.0], [0.0, 0.0, 1.0]])}

    action = search.act(imagine)
    assert seen[0].shape == (3, HORIZON, 2) and seen[0].dtype == np.float32
    np.testing.assert_array_equal(seen[0][2], np.float32([[-FIRST_STEP, -1.0]] * HORIZON))
    np.testing.assert_array_equal(action, np.float32([-FIRST_STEP, -1.0]))

    def refuse(plans):
        raise ImagineRefusedError("over budget")

    np.testing.assert_array_equal(search.act(refuse), action)


def test_the_factory_plays_reach_on_a_paused_env_and_refuses_what_cannot_imagine():
    env = TimePause(gymnasium.make("Portia/Arm-v0", suite="smoke-v0", task="reach-centre"))
    agent = ReachSearch(env)
    observation, _ = env.reset(seed=0)
    agent.reset(seed=1)
    start = np.linalg.norm(observation["achieved_goal"] - observation["desired_goal"])
    for _ in range(40):
        observation, *_ = env.step(agent.act(observation))
    end = np.linalg.norm(observation["achieved_goal"] - observation["desired_goal"])
    assert end < start / 3
    with pytest.raises(ValueError, match="imagines through env.imagine"):
        ReachSearch(gymnasium.make("Portia/Arm-v0"))
    with pytest.raises(ValueError, match="Box action space of one dimension"):
        ReachSearch(TimePause(gymnasium.make("CartPole-v1")))
