"""The public-seed check: the server's run of a policy beside the submitter's, hand-worked."""

import copy

import pytest

from leaderboard.errors import RefusedEntryError
from leaderboard.public_check import (
    MAX_PUBLIC_EPISODES,
    PUBLIC_EPISODES,
    PUBLIC_SEEDS,
    check_claimed,
    compare,
    public_run_of,
)
from tests.leaderboard.conftest import SMOKE


def record(task_id, seed, episode, ret, success):
    return {"task_id": task_id, "seed": seed, "episode": episode, "return": ret, "success": success}


def run(records, tasks):
    return {
        "run": {"seeds": sorted({r["seed"] for r in records}), "episodes": 1},
        "episodes": records,
        "scores": {"tasks": tasks},
    }


TASKS = {
    "a": {"split": "train", "success_rate": 1.0, "mean_return": -10.0},
    "b": {"split": "heldout", "success_rate": 0.0, "mean_return": -200.0},
}
SERVER = run(
    [
        record("a", 0, 0, -10.0, True),
        record("b", 0, 0, -100.0, False),
        record("b", 1, 0, -300.0, False),
    ],
    TASKS,
)


def test_identical_runs_agree_on_every_episode():
    check = compare(SERVER, copy.deepcopy(SERVER))
    assert check.claimed and check.agrees
    assert (check.episodes, check.agreeing, check.seeds) == (3, 3, [0, 1])
    assert [t.disagreeing for t in check.tasks] == [0, 0]
    assert check.tasks[1].claimed_return == -200.0


def test_returns_agree_within_one_percent_of_the_larger_magnitude():
    claimed = copy.deepcopy(SERVER)
    claimed["episodes"][1]["return"] = -100.0 - 1.0  # 1% of 101: agrees
    claimed["episodes"][2]["return"] = -300.0 + 3.5  # more than 1% of 300: differs
    check = compare(SERVER, claimed)
    assert check.agreeing == 2 and not check.agrees
    assert [(t.task_id, t.disagreeing) for t in check.tasks] == [("a", 0), ("b", 1)]


def test_a_flipped_success_or_a_missing_episode_disagrees():
    claimed = copy.deepcopy(SERVER)
    claimed["episodes"][0]["success"] = False
    del claimed["episodes"][2]
    check = compare(SERVER, claimed)
    assert check.agreeing == 1
    assert [t.disagreeing for t in check.tasks] == [1, 1]


def test_without_the_submitters_results_nothing_is_compared():
    check = compare(SERVER, None)
    assert not check.claimed and not check.agrees and check.agreeing == 0
    assert [t.disagreeing for t in check.tasks] == [0, 0]
    assert check.tasks[0].claimed_success is None and check.tasks[0].server_success == 1.0


def test_the_public_run_repeats_the_submitters_seeds_or_uses_the_public_default():
    assert public_run_of(None) == (list(PUBLIC_SEEDS), PUBLIC_EPISODES)
    assert public_run_of({"run": {"seeds": [4, 9], "episodes": 2}}) == ([4, 9], 2)


@pytest.fixture
def claimed(results):
    """The module's results file presented as the public-seed run of policy sha256 00...0."""
    given = copy.deepcopy(results)
    given["agent"]["hash"] = "sha256:" + "0" * 64
    return given


def check(given, suite_hash=SMOKE.hash, sha256="0" * 64):
    return check_claimed(given, suite=SMOKE.name, suite_hash=suite_hash, policy_sha256=sha256)


def test_the_submitters_results_of_the_policy_are_accepted(claimed):
    assert check(claimed) is claimed


@pytest.mark.parametrize(
    ("bend", "message"),
    [
        (lambda r: None, "but the policy uploaded is sha256:1111"),
        (lambda r: r.update(isolation="in-process"), "isolation is 'in-process'"),
    ],
)
def test_the_submitters_results_are_refused_with_the_rule_they_break(claimed, bend, message):
    bend(claimed)
    sha256 = "1" * 64 if "1111" in message else "0" * 64
    with pytest.raises(RefusedEntryError, match=message):
        check(claimed, sha256=sha256)


def test_a_valid_realtime_run_is_refused_as_the_check_compares_paused_runs(claimed, monkeypatch):
    # A realtime file valid in every other way: its validation is the self-reported one's.
    monkeypatch.setattr("leaderboard.public_check.check_results", lambda results: {})
    claimed["track"] = "realtime"
    with pytest.raises(RefusedEntryError, match="it is a realtime run; the public-seed check"):
        check(claimed)


def test_results_of_another_suite_hash_are_refused(claimed):
    with pytest.raises(RefusedEntryError, match="public_results: it is a run of smoke-v0 at hash"):
        check(claimed, suite_hash="f" * 64)


def test_too_many_episodes_are_refused(claimed, monkeypatch):
    monkeypatch.setattr("leaderboard.public_check.MAX_PUBLIC_EPISODES", 1)
    with pytest.raises(RefusedEntryError, match="the server re-runs at most 1"):
        check(claimed)
    assert MAX_PUBLIC_EPISODES > 1
