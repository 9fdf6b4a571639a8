"""Detour's ``set_state`` refuses what is not a state of the env, names it, changes nothing."""

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portia_envs.detour.config import WALL
from portia_envs.detour.env import DetourEnv
from portia_envs.errors import InvalidStateError

ACTION = np.array([0.5, -0.5, 0.0], dtype=np.float32)


def mid_episode():
    env = DetourEnv()
    env.reset(seed=4)
    for _ in range(3):
        env.step(ACTION)
    return env


def replace(state, index, value):
    bad = state.copy()
    bad[index] = value
    return bad


def wall_cell(state, n):
    """Return the (x, y) centre of the first wall cell (the border's corner)."""
    row, column = divmod(int(np.argmax(state[9:] == WALL)), n)
    return column + 0.5, row + 0.5


def assert_refused_unchanged(env, bad, match):
    before = env.get_state()
    expected = pickle.dumps(env.step(ACTION))
    env.set_state(before)
    with pytest.raises(InvalidStateError, match=match):
        env.set_state(bad)
    assert env.get_state().tobytes() == before.tobytes()
    assert pickle.dumps(env.step(ACTION)) == expected


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda s, n: s[:-1], r"flat vector of 130 values from get_state\(\)"),
        (lambda s, n: replace(s, 4, np.nan), r"state\[4\] \(vx\) is nan; accepted: finite"),
        (lambda s, n: replace(s, 1, -3), r"state\[1\] \(level\) is -3; accepted: whole numbers"),
        (lambda s, n: replace(s, 1, 2.5), r"\(level\) is 2.5"),
        (lambda s, n: replace(s, 5, 7.0), r"state\[5\] \(vy\) is 7; accepted: .*±1 cells per"),
        (lambda s, n: replace(s, 6, 1.5), r"state\[6\] \(air\) is 1.5; accepted: whole .* 0 to 3"),
        (
            lambda s, n: replace(s, 7, 40.0),
            r"state\[7\] \(prey_x\) is 40; accepted: positions inside the 11x11 level, "
            r"0 < value < 11",
        ),
        (lambda s, n: replace(s, 3, -1.0), r"state\[3\] \(y\) is -1; accepted: positions inside"),
        (
            lambda s, n: replace(s, 9 + n + 2, 7),
            r"state\[22\] \(grid cell at row 1, column 2\) is 7; .*grid cells other than 0-2",
        ),
        (
            lambda s, n: np.concatenate([s[:7], wall_cell(s, n), s[9:]]),
            r"put the prey at \(0.5, 0.5\), in a wall cell, outside",
        ),
    ],
)
def test_a_bad_state_is_refused_naming_the_field_and_changes_nothing(change, match):
    env = mid_episode()
    assert_refused_unchanged(env, change(env.get_state(), env.config.size), match)


@settings(max_examples=60, deadline=None)
@given(
    index=st.integers(0, 129),
    value=st.sampled_from([np.nan, np.inf, -1e300, -1.0, 0.25, 3.0, 2.5, 1e6]),
)
def test_any_change_is_refused_whole_or_taken_whole(index, value):
    env = mid_episode()
    state = env.get_state()
    bad = replace(state, index, value)
    try:
        env.set_state(bad)
    except InvalidStateError:
        assert env.get_state().tobytes() == state.tobytes()
    else:
        np.testing.assert_array_equal(env.get_state(), bad)
