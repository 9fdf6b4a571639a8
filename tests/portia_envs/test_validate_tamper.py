"""Tampered results files: each edit of a field family is refused with a message naming it.

Two real runs of the scripted agent on smoke-v0 are made once: the session's paused
``smoke_results`` and, here, a realtime run on a fixed clock of 50 ms per decision (two
control periods of 40 ms each) within a budget of 60 ms.
"""

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portia_envs import results as results_module
from portia_envs.errors import ResultsError
from portia_envs.harness.scores import compute_scores, latency_compliance
from portia_envs.results import load_results, validate_results, write_results
from portia_envs.suites import get_suite
from portia_envs.suites.reference import load_reference
from tests.portia_envs.harness.harness_runs import run

SMOKE = get_suite("smoke-v0")


@pytest.fixture(scope="module")
def realtime(tmp_path_factory):
    return run(
        tmp_path_factory.mktemp("realtime"),
        track="realtime",
        budget_ms=60.0,
        clock="fixed:50",
        episodes=1,
    )


@pytest.fixture(scope="module")
def files(smoke_results, realtime):
    return {"paused": smoke_results, "realtime": realtime}


def edited(results, change):
    results = copy.deepcopy(results)
    change(results)
    return results


def rescored(results, **bootstrap):
    """Recompute the scores of ``results`` in place, as anyone with the scoring code can."""
    budget_ms = results["budget_ms"] if results["track"] == "realtime" else None
    results["scores"] = compute_scores(
        SMOKE, results["episodes"], load_reference(SMOKE), budget_ms=budget_ms, **bootstrap
    )


def relabel_paused_as_realtime(latency_ms, *, rescore):
    def change(results):
        results.update(track="realtime", budget_ms=60.0, clock=f"fixed:{latency_ms:g}")
        for record in results["episodes"]:
            record.update(latencies_ms=[latency_ms] * record["length"], overran=0)
        if rescore:
            results["scores"]["latency"] = latency_compliance(results["episodes"], 60.0)

    return change


def relabel_realtime_as_paused(results):
    results.update(track="paused", budget_ms=None, clock=None)
    for record in results["episodes"]:
        record.update(latencies_ms=None, overran=None)
    results["scores"]["latency"] = None


def change_seed_everywhere(results):
    results["run"]["seeds"] = [7]
    for record in results["episodes"]:
        record["seed"] = 7


def reseeded(results):
    # Two episodes per task give the same intervals whatever the seed at 2000 replicates
    # (every percentile lands on a combination of the two); at 20 the seed shows.
    rescored(results, reps=20, seed=0)
    results["scores"]["bootstrap"]["seed"] = 1


def episode(index, **fields):
    return lambda r: r["episodes"][index].update(fields)


def shift(index, field, by):
    return lambda r: r["episodes"][index].update({field: r["episodes"][index][field] + by})


def set_latency(index, position, value):
    return lambda r: r["episodes"][index]["latencies_ms"].__setitem__(position, value)


STORED_SCORES = r"the stored scores do not match the episodes: "

CASES = [
    # Scores.
    pytest.param(
        "paused",
        lambda r: r["scores"]["tasks"]["push-centre"]["normalized"].update(value=99.5),
        STORED_SCORES + r"scores.tasks.push-centre.normalized.value is 99.5",
        id="task-normalized",
    ),
    pytest.param(
        "paused",
        lambda r: r["scores"]["splits"]["heldout"]["iqm"].update(value=88.0),
        STORED_SCORES + r"scores.splits.heldout.iqm.value is 88.0",
        id="split-iqm",
    ),
    pytest.param(
        "realtime",
        lambda r: r["scores"]["generalization_gap"].update(low=-3.0),
        STORED_SCORES + r"scores.generalization_gap.low is -3.0",
        id="generalization-gap",
    ),
    pytest.param(
        "realtime",
        lambda r: r["scores"]["latency"].update(compliance=0.5),
        STORED_SCORES + r"scores.latency.compliance is 0.5",
        id="latency-compliance",
    ),
    # Returns and success flags.
    pytest.param("paused", shift(0, "return", 5.0), STORED_SCORES, id="return"),
    pytest.param("paused", episode(1, success=False), STORED_SCORES, id="success"),
    pytest.param(
        "paused",
        episode(1, status="error", error="RuntimeError: boom", success=True),
        r"status is 'error' but success is true: a failed episode is never a success",
        id="failed-success",
    ),
    pytest.param(
        "paused",
        episode(1, status="timeout"),
        r"status is 'timeout' but error is null: a failed episode records its error",
        id="failed-without-error",
    ),
    pytest.param(
        "paused",
        episode(1, error="RuntimeError: boom"),
        r"status is 'ok' but error is 'RuntimeError: boom'",
        id="ok-with-error",
    ),
    pytest.param(
        "paused",
        episode(0, **{"return": float("nan")}),
        r"at episodes/0/return: nan is not a finite number",
        id="return-nan",
    ),
    # Seeds.
    pytest.param(
        "paused",
        lambda r: r["run"].update(seeds=[1]),
        r"episodes are not one per task, seed and episode index .*missing e.g. "
        r"\[\('push-centre', 1, 0\)",
        id="run-seeds",
    ),
    pytest.param(
        "paused",
        episode(0, seed=3),
        r"episodes are not one per task, seed and episode index .*unexpected e.g. "
        r"\[\('reach-centre', 3, 0\)\]",
        id="episode-seed",
    ),
    pytest.param(
        "paused",
        change_seed_everywhere,
        r"episodes/0 \(reach-centre, seed 7, episode 0\): reset_seed is \d+, but the reset "
        r"seed of task 'reach-centre', seed 7, episode 0 is \d+",
        id="every-seed",
    ),
    pytest.param("paused", shift(2, "reset_seed", 1), r"episodes/2 .*reset_seed is", id="reset"),
    # The track relabelled.
    pytest.param(
        "paused",
        relabel_paused_as_realtime(30.0, rescore=False),
        STORED_SCORES + r"scores.latency is None, the episodes give",
        id="paused-as-realtime",
    ),
    pytest.param(
        "paused",
        relabel_paused_as_realtime(50.0, rescore=True),
        r"episodes/0 .*: periods is (\d+), but \1 decisions of these latencies take \d+ to "
        r"\d+ control periods of 40 ms",
        id="paused-as-realtime-rescored",
    ),
    pytest.param(
        "realtime",
        relabel_realtime_as_paused,
        r"episodes/0 .*: periods is \d+ but length \d+: on the paused track every decision "
        r"takes exactly one control period. Was a realtime run relabelled paused\?",
        id="realtime-as-paused",
    ),
    pytest.param(
        "realtime",
        lambda r: r.update(track="paused"),
        r"the paused track has no latency budget and no clock, so budget_ms and clock must "
        r"be null; found 60.0 and 'fixed:50'",
        id="track-only",
    ),
    pytest.param(
        "realtime",
        lambda r: r.update(clock=None),
        r"the realtime track has a latency budget and a clock",
        id="clock-removed",
    ),
    pytest.param(
        "realtime",
        lambda r: r.update(clock="fixed:20"),
        r"a latency is 50.0 ms, but the clock fixed:20 gives every decision 20 ms",
        id="clock-changed",
    ),
    pytest.param(
        "paused",
        episode(0, latencies_ms=[1.0], overran=0),
        r"has latencies_ms or overran, but on the paused track nothing is timed",
        id="paused-latencies",
    ),
    # Latencies.
    pytest.param(
        "realtime",
        set_latency(1, 3, 70.0),
        r"episodes/1 .*: overran is 0, but 1 of its \d+ latencies are above the budget of 60 ms",
        id="latency-over-budget",
    ),
    pytest.param(
        "realtime",
        set_latency(1, 3, 40.0),
        r"episodes/1 .*: a latency is 40.0 ms, but the clock fixed:50 gives every decision 50",
        id="latency-within-budget",
    ),
    pytest.param(
        "realtime",
        set_latency(1, 3, 50.00001),
        r"latency 50.00001 ms has more than 4 decimals",
        id="latency-unrounded",
    ),
    pytest.param(
        "realtime",
        lambda r: r["episodes"][2]["latencies_ms"].pop(),
        r"episodes/2 .*: has (\d+) latencies, but a completed realtime episode has one per "
        r"decision: exactly \d+ \(its length\)",
        id="latency-removed",
    ),
    pytest.param(
        "realtime",
        episode(0, latencies_ms=None),
        r"has no latencies, but a completed realtime episode has one per decision",
        id="latencies-null",
    ),
    pytest.param(
        "realtime",
        episode(0, overran=3),
        r"overran is 3, but 0 of its \d+ latencies are above the budget",
        id="overran",
    ),
    pytest.param(
        "realtime",
        lambda r: r.update(budget_ms=45.0),
        r"overran is 0, but \d+ of its \d+ latencies are above the budget of 45 ms",
        id="budget",
    ),
    # An episode's split, family, length and periods.
    pytest.param(
        "paused",
        episode(0, split="heldout"),
        r"split is 'heldout', but task 'reach-centre' is split 'train' in the suite",
        id="split",
    ),
    pytest.param(
        "paused",
        episode(0, family="push"),
        r"family is 'push', but task 'reach-centre' is family 'reach' in the suite",
        id="family",
    ),
    pytest.param(
        "paused",
        shift(0, "length", 1),
        r"length is (\d+) but periods \d+: every decision takes at least one control period",
        id="length",
    ),
    pytest.param(
        "paused",
        lambda r: r["episodes"][0].update(periods=r["episodes"][0]["length"] - 1),
        r"length is \d+ but periods \d+",
        id="periods-short",
    ),
    pytest.param(
        "paused",
        lambda r: r["episodes"][0].update(length=151, periods=151),
        r"periods is 151, but the env's time limit is 150 control periods",
        id="past-time-limit",
    ),
    pytest.param(
        "realtime",
        shift(0, "periods", -5),
        r"periods is \d+, but \d+ decisions of these latencies take",
        id="periods",
    ),
    pytest.param(
        "paused",
        episode(0, length=0, periods=0),
        r"status is 'ok' but length is 0",
        id="ok-without-a-step",
    ),
    # The agent and how it ran.
    pytest.param(
        "paused",
        lambda r: r["agent"].update(hash="sha256:not-a-digest"),
        r"at agent/hash: 'sha256:not-a-digest' does not match .* \(accepted: sha256: then 64 "
        r"lowercase hex digits",
        id="agent-hash",
    ),
    pytest.param(
        "paused",
        lambda r: r["agent"].update(hash="SHA256:" + "A" * 64),
        r"at agent/hash: .* does not match",
        id="agent-hash-case",
    ),
    pytest.param(
        "paused",
        lambda r: r["agent"].pop("hash"),
        r"at agent: 'hash' is a required property",
        id="agent-hash-missing",
    ),
    pytest.param(
        "paused",
        lambda r: r.update(isolation="sandbox"),
        r"at isolation: 'sandbox' is not one of \['process', 'in-process'\]",
        id="isolation",
    ),
    # Versions, environment, hardware.
    pytest.param(
        "paused",
        lambda r: r["versions"].pop("mujoco"),
        r"at versions: 'mujoco' is a required property",
        id="versions",
    ),
    pytest.param(
        "paused",
        lambda r: r["environment"].update({"Portia/Arm-v0": "0123456789abcdef"}),
        r"made with Portia/Arm-v0 of fingerprint 0123456789abcdef, but this Portia's has",
        id="environment",
    ),
    pytest.param(
        "paused",
        lambda r: r["hardware"].update(cores={"a": [1]}),
        r"at hardware/cores: .* is not of type 'integer', 'null'",
        id="hardware",
    ),
    # Bootstrap settings.
    pytest.param(
        "paused",
        lambda r: r["scores"]["bootstrap"].update(reps=10**9),
        r"at scores/bootstrap/reps: 1000000000 is greater than the maximum of 100000 "
        r"\(accepted: bootstrap replicates per interval: an integer from 1 to 100000",
        id="reps-huge",
    ),
    pytest.param(
        "paused",
        lambda r: r["scores"]["bootstrap"].update(reps=1e9),
        r"at scores/bootstrap/reps: 1000000000.0 is not of type 'integer'",
        id="reps-float",
    ),
    pytest.param(
        "paused",
        lambda r: r["scores"]["bootstrap"].update(reps=0),
        r"at scores/bootstrap/reps: 0 is less than the minimum of 1",
        id="reps-zero",
    ),
    pytest.param(
        "paused",
        lambda r: r["scores"]["bootstrap"].update(confidence=1.5),
        r"at scores/bootstrap/confidence: 1.5 is greater than or equal to the maximum of 1",
        id="confidence",
    ),
    pytest.param(
        "paused",
        reseeded,
        STORED_SCORES + r"scores.generalization_gap.(low|high) is",
        id="bootstrap-seed",
    ),
    pytest.param(
        "paused",
        lambda r: r["scores"]["bootstrap"].update(seed=-1),
        r"at scores/bootstrap/seed: -1 is less than the minimum of 0",
        id="bootstrap-seed-negative",
    ),
    # The run's size.
    pytest.param(
        "paused",
        lambda r: r["run"].update(episodes=10**6),
        r"at run/episodes: 1000000 is greater than the maximum of 100000",
        id="episodes-cap",
    ),
    pytest.param(
        "paused",
        lambda r: r["run"].update(seeds=list(range(10_000)), episodes=100_000),
        r"at run: 10000 seeds x 100000 episodes on smoke-v0's tasks are 3000000000 episodes; "
        r"a results file holds at most 1000000",
        id="declared-run",
    ),
    # The list of tasks and the suite.
    pytest.param(
        "paused",
        lambda r: r["tasks"].reverse(),
        r"at tasks/0: .*'reach-high-left'.*, but smoke-v0 has .*'reach-centre'.* there",
        id="tasks-order",
    ),
    pytest.param(
        "paused",
        lambda r: r["tasks"].pop(),
        r"at tasks/2: nothing \(the list ends\), but smoke-v0 has .*'reach-high-left'",
        id="tasks-missing",
    ),
    pytest.param(
        "paused",
        lambda r: r["tasks"][1].update(family="reach"),
        r"at tasks/1: .*'family': 'reach'.*, but smoke-v0 has .*'family': 'push'",
        id="tasks-family",
    ),
    pytest.param(
        "paused",
        lambda r: r["suite"].update(hash="0123456789abcdef"),
        r"made on smoke-v0 with hash 0123456789abcdef, but this Portia's smoke-v0 has hash",
        id="suite-hash",
    ),
    # Statuses.
    pytest.param(
        "paused",
        episode(3, status="infrastructure", error="worker lost"),
        r"at episodes/3/status: 'infrastructure' is not one of \['ok', 'error', 'timeout'\] "
        r"\(accepted: .*never holds the status infrastructure: the harness runs such episodes "
        r"again before it writes results",
        id="status-infrastructure",
    ),
    pytest.param(
        "paused",
        lambda r: r.update(schema_version=1),
        r"schema_version 1 is not accepted; this Portia reads version 2 only: re-run the "
        r"benchmark with this Portia",
        id="schema-version-1",
    ),
]


@pytest.mark.parametrize(("file", "change", "message"), CASES)
def test_each_tampered_field_is_refused_with_a_message_naming_it(files, file, change, message):
    with pytest.raises(ResultsError, match=message):
        validate_results(edited(files[file], change))


@pytest.mark.parametrize("file", ["paused", "realtime"])
def test_the_untouched_files_validate(files, file, tmp_path):
    path = tmp_path / "results.json"
    write_results(files[file], path)
    assert validate_results(load_results(path), str(path)) == files[file]["scores"]


def test_a_file_rescored_by_the_scoring_code_validates(files):
    # Stored bootstrap settings are whatever the scores were computed with.
    results = edited(files["realtime"], lambda r: rescored(r, reps=50, seed=3))
    assert validate_results(results)["bootstrap"] == {"reps": 50, "confidence": 0.95, "seed": 3}


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(results_module, "MAX_FILE_BYTES", 1024)
    path = tmp_path / "results.json"
    path.write_text(" " * 1025)
    with pytest.raises(ResultsError, match=r"results.json is larger than 1024 bytes"):
        load_results(path)
    # An endless file is read no further than the cap.
    with pytest.raises(ResultsError, match=r"/dev/zero is larger than 1024 bytes"):
        load_results("/dev/zero")


def test_bootstrap_work_is_capped_before_any_score_is_computed(files, monkeypatch):
    monkeypatch.setattr(results_module, "MAX_BOOTSTRAP_WORK", 1000)
    with pytest.raises(ResultsError, match=r"2000 replicates of 6 episodes are more bootstrap"):
        validate_results(files["paused"])


def test_deep_nesting_is_refused_as_bad_json(tmp_path):
    path = tmp_path / "results.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ResultsError, match=r"is not valid JSON: it is nested too deeply"):
        load_results(path)


def test_what_no_local_check_catches_still_validates(files):
    # Documented in results.py: nothing binds the agent's identity to the episodes, and a
    # realtime relabelling whose latencies fit in one control period is consistent.
    renamed = edited(files["paused"], lambda r: r["agent"].update(name="Someone Else"))
    validate_results(renamed)
    relabelled = edited(files["paused"], relabel_paused_as_realtime(30.0, rescore=True))
    validate_results(relabelled)


SCORE_PATHS = [
    ("tasks", "reach-centre", "normalized", "value"),
    ("tasks", "push-centre", "mean_return"),
    ("splits", "train", "iqm", "low"),
    ("splits", "heldout", "mean", "high"),
    ("generalization_gap", "value"),
]


@pytest.fixture(scope="module")
def cheap(files):
    """The realtime file scored with few replicates, so each validation is quick."""
    return edited(files["realtime"], lambda r: rescored(r, reps=20))


@settings(max_examples=25, deadline=None)
@given(
    path=st.sampled_from(SCORE_PATHS),
    delta=st.floats(1e-6, 1e6) | st.floats(-1e6, -1e-6),
)
def test_any_numeric_edit_of_a_score_is_caught(cheap, path, delta):
    results = copy.deepcopy(cheap)
    *parents, leaf = path
    node = results["scores"]
    for key in parents:
        node = node[key]
    node[leaf] += delta
    with pytest.raises(ResultsError, match=r"the stored scores do not match the episodes: "):
        validate_results(results)
