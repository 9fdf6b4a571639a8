import copy
import json

import jsonschema
import pytest

from portia_envs import results
from portia_envs.errors import ResultsError
from portia_envs.harness.scores import BOOTSTRAP_REPS
from portia_envs.results import (
    SCHEMA_PATH,
    build_results,
    load_results,
    validate_results,
    write_results,
)


def test_the_shipped_schema_is_valid_and_a_run_follows_it(smoke_results, tmp_path):
    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA_PATH.read_text()))
    path = tmp_path / "results.json"
    write_results(smoke_results, path)
    assert load_results(path) == smoke_results
    assert validate_results(load_results(path)) == smoke_results["scores"]


def test_a_file_written_before_the_success_gap_still_validates(smoke_results):
    older = copy.deepcopy(smoke_results)
    del older["scores"]["success_gap"]
    # The other scores are unchanged by it (the success gap is drawn last), and the
    # recomputed scores have it.
    assert validate_results(older) == smoke_results["scores"]
    del older["scores"]["generalization_gap"]  # only the success gap may be missing
    with pytest.raises(ResultsError, match="'generalization_gap' is a required property"):
        validate_results(older)


def tampered(results, change):
    results = copy.deepcopy(results)
    change(results)
    return results


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda r: r["scores"]["splits"]["train"]["iqm"].update(value=99.0),
            r"stored scores do not match the episodes: scores.splits.train.iqm.value is 99.0",
        ),
        (
            lambda r: r["episodes"][0].update({"return": r["episodes"][0]["return"] + 5}),
            r"stored scores do not match the episodes: scores\.generalization_gap",
        ),
        (
            lambda r: r["episodes"].pop(),
            r"episodes are not one per task, seed and episode index .*missing e.g. "
            r"\[\('reach-high-left', 0, 1\)\]",
        ),
        (
            lambda r: r["episodes"].append(r["episodes"][0]),
            r"1 repeated",
        ),
        (
            lambda r: r["suite"].update(hash="0123456789abcdef"),
            r"made on smoke-v0 with hash 0123456789abcdef, but this Portia's smoke-v0 has hash",
        ),
        (
            lambda r: r.update(track="fast"),
            r"at track: 'fast' is not one of \['paused', 'realtime'\]",
        ),
        (
            lambda r: r["episodes"][2].update(success="yes"),
            r"at episodes/2/success: 'yes' is not of type 'boolean'",
        ),
        (
            lambda r: r["scores"]["success_gap"].update(low=-1.0),
            r"stored scores do not match the episodes: scores.success_gap.low is -1.0",
        ),
        (lambda r: r.update(schema_version=7), r"schema_version 7 is not accepted"),
        (lambda r: r["suite"].update(name="nope-v0"), r"unknown suite 'nope-v0'"),
    ],
)
def test_tampered_or_broken_results_are_refused(smoke_results, change, message):
    with pytest.raises(ResultsError, match=message):
        validate_results(tampered(smoke_results, change))


def test_unreadable_files_say_what_is_wrong(tmp_path):
    with pytest.raises(ResultsError, match="cannot read results file .*missing.json"):
        load_results(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ResultsError, match="bad.json is not valid JSON"):
        load_results(tmp_path / "bad.json")


def test_the_schema_holds_the_caps_of_the_module():
    schema = json.loads(SCHEMA_PATH.read_text())
    properties, definitions = schema["properties"], schema["$defs"]
    bootstrap = definitions["scores"]["properties"]["bootstrap"]["properties"]
    assert schema["properties"]["schema_version"] == {"const": results.SCHEMA_VERSION}
    assert properties["run"]["properties"]["seeds"]["maxItems"] == results.MAX_SEEDS
    assert properties["run"]["properties"]["episodes"]["maximum"] == results.MAX_EPISODES
    assert properties["tasks"]["maxItems"] == results.MAX_TASKS
    assert definitions["scores"]["properties"]["tasks"]["maxProperties"] == results.MAX_TASKS
    assert properties["episodes"]["maxItems"] == results.MAX_EPISODE_RECORDS
    assert definitions["seed"]["maximum"] == results.MAX_SEED_VALUE
    assert bootstrap["reps"]["maximum"] == results.MAX_BOOTSTRAP_REPS
    assert bootstrap["seed"] == {"$ref": "#/$defs/seed"}
    assert properties["isolation"]["enum"] == list(results.ISOLATIONS)
    assert properties["versions"]["required"] == [*results.VERSIONED, "python"]


def test_every_run_the_harness_accepts_fits_the_caps():
    from portia_envs.harness import runner

    assert runner.MAX_SEEDS <= results.MAX_SEEDS
    assert runner.MAX_EPISODES_PER_SEED <= results.MAX_EPISODES
    assert runner.MAX_RUN_EPISODES <= results.MAX_EPISODE_RECORDS
    # At the harness's bootstrap settings, every such run's scores can be recomputed.
    assert BOOTSTRAP_REPS * runner.MAX_RUN_EPISODES <= results.MAX_BOOTSTRAP_WORK


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(isolation="sandbox"), r"isolation must be one of process, in-process, got 'sandbox'"),
        (
            dict(records="infrastructure"),
            r"1 records have the status 'infrastructure' .*run those episodes again before "
            r"writing results",
        ),
    ],
)
def test_build_results_refuses_what_no_results_file_holds(smoke_results, change, message):
    records = copy.deepcopy(smoke_results["episodes"])
    if change.get("records"):
        records[0]["status"] = change["records"]
    header = {
        "suite": "smoke-v0",
        "suite_hash": smoke_results["suite"]["hash"],
        "track": "paused",
        "budget_ms": None,
        "clock": None,
        "episodes": 2,
        "seeds": [0],
        "timeout_s": 600.0,
    }
    with pytest.raises(ResultsError, match=message):
        build_results(
            header,
            records,
            smoke_results["scores"],
            agent=smoke_results["agent"],
            isolation=change.get("isolation", "process"),
            workers=1,
            backend="local",
            wall_s=1.0,
        )


def test_build_results_writes_isolation_and_the_agent_hash(smoke_results):
    assert smoke_results["isolation"] in results.ISOLATIONS
    assert smoke_results["agent"]["hash"].startswith("sha256:")
    assert smoke_results["schema_version"] == 2
