import copy
import pickle
import re

import gymnasium
import numpy as np
import pytest

import portia_envs  # noqa: F401  (registers the ids)
from portia_envs.detour.config import GAP, WALL
from portia_envs.detour.env import DetourEnv
from portia_envs.detour.planner import DetourPlanner
from portia_envs.detour.world import OBS_SIZE, REWARD_TERMS
from portia_envs.errors import (
    InvalidActionError,
    InvalidParameterError,
    InvalidStateError,
    UnknownSuiteError,
    UnknownTaskError,
)
from wrappers import TimePause
from wrappers.protocol import Snapshotable

IDS = ["Portia/Detour-v0", "Portia/DetourDiscrete-v0"]


def _random_actions(env, n, seed=0):
    env.action_space.seed(seed)
    return [env.action_space.sample() for _ in range(n)]


def test_docstring_spec_matches_the_spaces():
    doc = DetourEnv.__doc__
    assert f"Box(-1, 1, ({OBS_SIZE},), float32)" in doc
    env = DetourEnv()
    assert env.observation_space.shape == (OBS_SIZE,) == (2 * 49 + 7,)
    assert env.action_space.shape == (3,)
    assert DetourEnv(action_type="discrete").action_space.n == 9
    assert f"Discrete({DetourEnv(action_type='discrete').action_space.n})" in doc
    for term in REWARD_TERMS:
        assert f"``{term}``" in doc
    assert gymnasium.spec("Portia/Detour-v0").max_episode_steps == 200
    assert "(200 steps)" in doc


@pytest.mark.parametrize("env_id", IDS)
def test_reward_is_the_sum_of_its_terms_and_observations_are_fresh(env_id):
    env = gymnasium.make(env_id)
    observation, info = env.reset(seed=4)
    assert info["is_success"] is False and info["task_id"] == "detour-v0/train"
    for action in _random_actions(env, 300):
        previous = observation
        observation, reward, terminated, truncated, info = env.step(action)
        assert env.observation_space.contains(observation)
        assert not np.shares_memory(previous, observation)
        assert reward == pytest.approx(sum(info[term] for term in REWARD_TERMS))
        if terminated or truncated:
            observation, info = env.reset()


def test_same_seed_same_episode_different_seeds_different_levels():
    a, b = gymnasium.make("Portia/Detour-v0"), gymnasium.make("Portia/Detour-v0")
    first_a, info_a = a.reset(seed=7)
    first_b, info_b = b.reset(seed=7)
    assert info_a["level"] == info_b["level"]
    np.testing.assert_array_equal(first_a, first_b)
    for action in _random_actions(a, 100):
        out_a, out_b = a.step(action), b.step(action)
        np.testing.assert_array_equal(out_a[0], out_b[0])
        assert out_a[1:4] == out_b[1:4]
        if out_a[2] or out_a[3]:
            assert a.reset()[1]["level"] == b.reset()[1]["level"]
    levels = {gymnasium.make("Portia/Detour-v0").reset(seed=s)[1]["level"] for s in range(20)}
    assert len(levels) >= 18  # drawn from 10,000 train levels: a repeat is rare, not impossible


def test_walls_stop_the_spider_and_a_gap_swallows_it():
    env = DetourEnv(difficulty="hard")
    env.reset(seed=0)
    n = env.config.size
    open_field = np.zeros((n, n))
    open_field[0, :] = open_field[-1, :] = open_field[:, 0] = open_field[:, -1] = WALL
    open_field[3, 1:-1] = GAP
    state = env.get_state()
    state[2:9] = [1.5, 1.5, 0, 0, 0, n - 1.5, n - 1.5]
    state[9:] = open_field.ravel()
    env.set_state(state)
    for _ in range(5):  # walk west into the border wall: stops flush against it
        env.step(np.array([-1.0, 0.0, 0.0]))
    assert env.body[0] == 1.25
    saved = env.get_state()
    for _ in range(3):  # walk south into the gap row: falls once its centre is over it
        observation, reward, terminated, _, info = env.step(np.array([0.0, 1.0, 0.0]))
    assert terminated and info["reward_fall"] == -1.0 and not info["is_success"]
    env.set_state(saved)
    env.step(np.array([0.5, 0.0, 0.0]))  # back to the cell centre, then jump the gap
    for _ in range(4):
        observation, reward, terminated, _, info = env.step(np.array([0.0, 1.0, 1.0]))
        assert not terminated
    assert env.body[:2].tolist() == [1.5, 4.5] and env.body[4] == 0.0


@pytest.mark.parametrize("env_id", IDS)
def test_the_planner_catches_the_prey(env_id):
    env = gymnasium.make(env_id)
    agent = DetourPlanner(env)
    for seed in range(50):
        env.reset(seed=seed)
        agent.reset()
        done = False
        while not done:
            _, _, terminated, truncated, info = env.step(agent.act(None))
            done = terminated or truncated
        assert info["is_success"], seed


def test_set_state_of_get_state_continues_bit_identically():
    env = gymnasium.make("Portia/Detour-v0")
    env.reset(seed=3)
    actions = _random_actions(env, 60, seed=1)
    for action in actions[:10]:
        env.step(action)
    state = env.unwrapped.get_state()
    first = [env.step(a)[:3] for a in actions[10:]]
    fresh = gymnasium.make("Portia/Detour-v0")
    fresh.reset(seed=99)
    fresh.unwrapped.set_state(state)
    np.testing.assert_array_equal(fresh.unwrapped.get_state(), state)
    again = [fresh.step(a)[:3] for a in actions[10:]]
    for (o1, r1, t1), (o2, r2, t2) in zip(first, again, strict=True):
        np.testing.assert_array_equal(o1, o2)
        assert (r1, t1) == (r2, t2)


def test_pickle_and_deepcopy_round_trip():
    env = DetourEnv(render_mode="rgb_array")
    env.reset(seed=5)
    env.render()
    for make_copy in (lambda e: pickle.loads(pickle.dumps(e)), copy.deepcopy):
        env_copy = make_copy(env)
        np.testing.assert_array_equal(env_copy.get_state(), env.get_state())
        action = np.array([0.3, -0.2, 0.0])
        np.testing.assert_array_equal(env_copy.step(action)[0], env.step(action)[0])


@pytest.mark.parametrize("env_id", IDS)
def test_rollout_equals_stepping_and_leaves_the_env_untouched(env_id):
    env = gymnasium.make(env_id)
    env.reset(seed=11)
    base = env.unwrapped
    assert isinstance(base, Snapshotable)
    actions = np.array([_random_actions(env, 40, seed=s) for s in range(6)])
    state = base.get_state()
    for nthread in (1, 3):
        future = base.rollout(actions, nthread=nthread)
        np.testing.assert_array_equal(base.get_state(), state)
        for b in range(6):
            world = copy.deepcopy(base)
            for t in range(40):
                observation, reward, terminated, _, info = world.step(actions[b, t])
                np.testing.assert_array_equal(future["observation"][b, t], observation)
                assert future["reward"][b, t] == reward
                assert future["terminated"][b, t] == terminated
                assert future["is_success"][b, t] == info["is_success"]
                if terminated:
                    assert (future["reward"][b, t + 1 :] == 0).all()
                    break


@pytest.mark.parametrize("env_id", IDS)
def test_time_pause_imagine_equals_stepping_a_copy(env_id):
    paused = TimePause(gymnasium.make(env_id), nthread=2)
    paused.reset(seed=2)
    for action in _random_actions(paused, 5):
        paused.step(action)
    plans = np.array([_random_actions(paused, 30, seed=s) for s in range(4)])
    future = paused.imagine(plans)
    for b in range(4):
        world = copy.deepcopy(paused.unwrapped)
        for t in range(30):
            observation, reward, terminated, _, _ = world.step(plans[b, t])
            np.testing.assert_array_equal(future["observation"][b, t], observation)
            assert future["reward"][b, t] == reward
            if terminated:
                break
    _, _, _, _, info = paused.step(plans[0, 0])
    assert info["think_steps"] == 4 * 30


@pytest.mark.parametrize(
    ("action", "match"),
    [
        (np.zeros(2), re.escape("shape (3,) (ax, ay, jump) in [-1, 1]; got shape (2,)")),
        (np.array([0.0, np.nan, 0.0]), "NaN or infinite"),
        (np.array([np.inf, 0.0, 0.0]), "NaN or infinite"),
        (np.array(["a", "b", "c"]), "dtype <U1"),
    ],
)
def test_bad_continuous_actions_raise_clear_errors(action, match):
    env = gymnasium.make("Portia/Detour-v0")
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match=match):
        env.step(action)


@pytest.mark.parametrize("action", [9, -1, 1.0, np.array([1, 2])])
def test_bad_discrete_actions_raise_clear_errors(action):
    env = gymnasium.make("Portia/DetourDiscrete-v0")
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match=re.escape("in 0..8 (0 stay, 1-4 walk")):
        env.step(action)


def test_out_of_range_continuous_actions_are_clipped():
    a, b = DetourEnv(), DetourEnv()
    a.reset(seed=1)
    b.reset(seed=1)
    np.testing.assert_array_equal(
        a.step(np.array([5.0, -7.0, 0.0]))[0], b.step(np.array([1.0, -1.0, 0.0]))[0]
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"difficulty": "impossible"}, UnknownTaskError, "accepted: easy, medium, hard"),
        ({"difficulty": "hadr"}, UnknownTaskError, "did you mean 'hard'"),
        (
            {"maze_density": 0.9},
            InvalidParameterError,
            re.escape("maze_density must be in [0, 0.4]"),
        ),
        ({"gap_width": 3}, InvalidParameterError, re.escape("gap_width must be one of (1, 2)")),
        ({"size": 10}, InvalidParameterError, "size must be odd, 9 to 31"),
        ({"split": "test"}, UnknownSuiteError, "accepted: train, heldout"),
        ({"suite": "detour-v9"}, UnknownSuiteError, "known suites: .*detour-v0"),
        ({"action_type": "analog"}, InvalidParameterError, "accepted: continuous, discrete"),
        ({"render_mode": "ascii"}, InvalidParameterError, "accepted: None, human, rgb_array"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        DetourEnv(**kwargs)


def test_bad_reset_options_and_states_raise_clear_errors():
    env = DetourEnv()
    with pytest.raises(InvalidParameterError, match="accepted: 0 to 9999"):
        env.reset(options={"level": 1_000_000})
    with pytest.raises(InvalidParameterError, match="accepted: level"):
        env.reset(options={"lvl": 3})
    env.reset(options={"level": 42})
    assert env.level == 42
    state = env.get_state()
    with pytest.raises(InvalidStateError, match="from get_state"):
        env.set_state(state[:-1])
    bad = state.copy()
    bad[-1] = 7
    with pytest.raises(InvalidStateError, match="grid cells other than 0-2"):
        env.set_state(bad)
    bad = state.copy()
    bad[2] = 0.5  # inside the border wall
    with pytest.raises(InvalidStateError, match="outside"):
        env.set_state(bad)
    np.testing.assert_array_equal(env.get_state(), state)


def test_a_level_option_plays_that_level_of_the_split():
    env = DetourEnv(split="heldout")
    _, info = env.reset(options={"level": 1_000_123})
    assert info["level"] == 1_000_123 and info["task_id"] == "detour-v0/heldout"
    other = DetourEnv(split="heldout")
    other.reset(seed=0, options={"level": 1_000_123})
    np.testing.assert_array_equal(env.get_state(), other.get_state())


def test_rgb_frame_shows_walls_gaps_spider_prey_and_the_plan():
    env = gymnasium.make("Portia/Detour-v0", render_mode="rgb_array", difficulty="hard")
    env.reset(seed=0)
    base = env.unwrapped
    px = base.cell_px
    bare = env.render()
    assert bare.shape == (11 * px, 11 * px, 3) and bare.dtype == np.uint8
    grid = base.grid
    centre = [(r * px + px // 2, c * px + px // 2) for r, c in np.argwhere(grid == WALL)]
    colours = {tuple(bare[y, x]) for y, x in centre}
    assert len(colours) == 1  # every wall cell is one colour
    x, y, *_ = base.body
    spider = bare[int(y * px), int(x * px)]
    assert spider.sum() < 100  # a dark spider on a light floor
    agent = DetourPlanner(env)
    env.step(agent.act(None))
    assert base.planned_path is not None
    planned = env.render()
    assert (planned != env.unwrapped._renderer.draw(grid, base.body, None)).any()


def test_human_rendering_opens_a_window(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    env = gymnasium.make("Portia/Detour-v0", render_mode="human")
    env.reset(seed=0)
    env.step(np.zeros(3, dtype=np.float32))
    assert env.render() is None
    env.close()
