import copy
import json

import jsonschema
import pytest

from portia_envs.errors import ResultsError
from portia_envs.results import SCHEMA_PATH, load_results, validate_results, write_results


def test_the_shipped_schema_is_valid_and_a_run_follows_it(smoke_results, tmp_path):
    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA_PATH.read_text()))
    path = tmp_path / "results.json"
    write_results(smoke_results, path)
    assert load_results(path) == smoke_results
    assert validate_results(load_results(path)) == smoke_results["scores"]


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
