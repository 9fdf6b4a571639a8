import math

import gymnasium
import numpy as np
import pytest

import portia_envs  # noqa: F401  (registers the ids)
from portia_envs.embodiments.spider import LEGS
from portia_envs.experts.spider import (
    CLEARANCE_M,
    LEG_PHASE_RAD,
    SpiderExpert,
    gait_targets,
    next_waypoint,
    run_episode,
    segment_distance,
    steer,
)
from portia_envs.tasks.spider import SPIDER_PARTS

# The documented success rates (module docstring of portia_envs.experts.spider) the expert
# must reach over 100 seeded episodes: it reached 100/100 in each family.
TARGET_RATES = {"prey": 0.95, "detour": 0.95}
ENV_IDS = {"prey": "Portia/SpiderPrey-v0", "detour": "Portia/SpiderDetour-v0"}


def make(family):
    env = gymnasium.make(ENV_IDS[family])
    return env, SpiderExpert(env)


class StraightWalker(SpiderExpert):
    """The same gait and steering, blind to the wall: it heads straight for the fly."""

    def act(self, observation):
        vector = observation["observation"].copy()
        vector[SPIDER_PARTS["wall_present"]] = 0.0
        return super().act({**observation, "observation": vector})


@pytest.mark.parametrize("family", ["prey", "detour"])
def test_expert_solves_seeded_episodes(family):
    env, expert = make(family)
    assert all(run_episode(env, expert, seed) for seed in range(3))


def test_walking_straight_fails_where_the_detour_succeeds():
    env, expert = make("detour")
    straight = StraightWalker(env)
    seeds = range(100, 106)
    detour = sum(run_episode(env, expert, seed) for seed in seeds)
    blind = sum(run_episode(env, straight, seed) for seed in seeds)
    assert detour == len(seeds)
    assert blind == 0


@pytest.mark.parametrize("family", ["prey", "detour"])
def test_expert_recovers_from_a_disturbed_start(family):
    env, expert = make(family)
    rng = np.random.default_rng(0)
    for seed in range(2):
        expert.reset()
        observation, _ = env.reset(seed=seed)
        for _ in range(25):
            observation, *_ = env.step(rng.uniform(-1, 1, 16))
        while True:
            observation, _, terminated, truncated, info = env.step(expert.act(observation))
            if terminated or truncated:
                break
        assert truncated and not terminated and info["is_success"], seed


def test_actions_are_in_the_space_deterministic_and_reset_clears_the_phase():
    env, expert = make("detour")
    twin = SpiderExpert(gymnasium.make(ENV_IDS["detour"]))
    observation, _ = env.reset(seed=5)
    first = []
    for _ in range(30):
        action = expert.act(observation)
        assert env.action_space.contains(action)
        np.testing.assert_array_equal(action, twin.act(observation))
        first.append(action)
        observation, *_ = env.step(action)
    expert.reset()
    assert expert.phase == 0.0
    observation, _ = env.reset(seed=5)
    np.testing.assert_array_equal(expert.act(observation), first[0])


def test_expert_refuses_other_envs():
    with pytest.raises(TypeError, match="SpiderEnv"):
        SpiderExpert(gymnasium.make("Portia/ArmReach-v0"))


def test_the_gait_moves_alternate_tetrapods_with_four_legs_always_down():
    sides = np.array([1.0 if leg.startswith("L") else -1.0 for leg in LEGS])
    offsets = np.array(LEG_PHASE_RAD)
    first = {"L1", "R2", "L3", "R4"}
    for phase in np.linspace(0, 2 * math.pi, 73):
        targets = gait_targets(phase, 1.0, 0.0, sides, offsets)
        lifted = {leg for leg, lift in zip(LEGS, targets[1::2], strict=True) if lift > 0}
        assert lifted in (set(), first, set(LEGS) - first)
        # In step within a tetrapod; each tetrapod against the other.
        yaw = dict(zip(LEGS, targets[0::2], strict=True))
        assert yaw["L1"] == yaw["R2"] == yaw["L3"] == yaw["R4"]
        assert yaw["L2"] == yaw["R1"] == yaw["L4"] == yaw["R3"] == pytest.approx(-yaw["L1"])
    standing = gait_targets(1.0, 0.0, 0.0, sides, offsets)
    assert not standing.any()


def test_turning_shortens_one_side_and_turning_in_place_reverses_it():
    sides = np.array([1.0 if leg.startswith("L") else -1.0 for leg in LEGS])
    offsets = np.array(LEG_PHASE_RAD)
    phase = math.pi / 2  # yaw at its extreme
    left = gait_targets(phase, 1.0, 0.5, sides, offsets)[0::2]
    assert abs(left[0]) < abs(left[5])  # L1 shorter than its tetrapod mate R2
    in_place = gait_targets(phase, 0.0, 1.0, sides, offsets)[0::2]
    assert in_place[0] == pytest.approx(-in_place[5])  # L1 strides against R2
    assert steer(np.array([0.0, 1.0]), 1.0) == (0.0, 1.0)  # fly on the left: turn left
    assert steer(np.array([1.0, -0.1]), 1.0)[1] < 0.0  # slightly right: veer right
    assert steer(np.array([0.05, 0.0]), 0.01) == (0.0, 0.0)  # at the fly: stand


def test_waypoint_is_the_fly_when_the_way_is_clear():
    prey = np.array([1.0, 0.0])
    wall = np.array([[0.5, 1.0], [0.5, 2.0]])  # off to the left of the line
    np.testing.assert_array_equal(next_waypoint(prey, wall), prey)


def test_waypoint_goes_round_the_nearer_end_of_a_blocking_wall():
    prey = np.array([1.0, 0.0])
    wall = np.array([[0.5, -0.2], [0.5, 0.4]])  # the right end (-y) is nearer the line
    waypoint = next_waypoint(prey, wall)
    assert waypoint[1] < -0.2 - CLEARANCE_M and waypoint[0] < 0.5  # beyond it, this side
    assert segment_distance(np.zeros(2), waypoint, *wall) >= CLEARANCE_M
    mirrored = next_waypoint(prey, wall * [1.0, -1.0])
    np.testing.assert_allclose(mirrored, waypoint * [1.0, -1.0])
    # Past the end, the next waypoint is round the back of the wall, then the fly.
    beside = np.array([0.5, -0.2 - 0.45])
    behind = next_waypoint(prey - beside, wall - beside) + beside
    assert behind[0] > 0.5


@pytest.mark.slow
@pytest.mark.parametrize("family", ["prey", "detour"])
def test_expert_reaches_the_documented_rate_over_100_episodes(family):
    env, expert = make(family)
    successes = sum(run_episode(env, expert, seed) for seed in range(100))
    assert successes >= 100 * TARGET_RATES[family]
