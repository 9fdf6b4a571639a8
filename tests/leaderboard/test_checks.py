"""Pure checks of a submission: the summary, the leaderboard's rules, metadata, the quota."""

import datetime

import pytest

from leaderboard.errors import RefusedEntryError
from leaderboard.quota import next_reset
from leaderboard.submission import check_policy, parse_metadata, parse_results
from leaderboard.summary import Interval, summarize


def estimate(value, low, high):
    return {"value": value, "low": low, "high": high}


def scores(latency=None):
    split = {
        "iqm": estimate(1.0, 0.5, 1.5),
        "mean": estimate(0.0, 0.0, 0.0),
        "success_rate": estimate(0.25, 0.0, 0.5),
    }
    heldout = {**split, "iqm": estimate(-3.0, -4.0, -2.0), "success_rate": estimate(0.5, 0.2, 0.8)}
    return {
        "splits": {"train": split, "heldout": heldout},
        "generalization_gap": estimate(4.0, 2.5, 5.5),
        "latency": latency,
    }


def results(track="paused", budget_ms=None, clock=None, isolation="process"):
    return {
        "suite": {"name": "smoke-v0", "hash": "0123456789abcdef"},
        "track": track,
        "budget_ms": budget_ms,
        "clock": clock,
        "isolation": isolation,
        "agent": {"name": "mine", "hash": None},
        "episodes": [{}, {}, {}],
    }


def test_the_summary_reads_each_number_from_its_place_in_the_scores():
    summary = summarize(results(), scores())
    assert (summary.suite, summary.suite_hash, summary.track) == (
        "smoke-v0",
        "0123456789abcdef",
        "paused",
    )
    assert (summary.agent_name, summary.agent_hash, summary.episodes) == ("mine", None, 3)
    assert summary.heldout_success == Interval(0.5, 0.2, 0.8)
    assert summary.train_success == Interval(0.25, 0.0, 0.5)
    assert summary.heldout_iqm == Interval(-3.0, -4.0, -2.0)
    assert summary.generalization_gap == Interval(4.0, 2.5, 5.5)
    assert (summary.budget_ms, summary.latency_compliance, summary.latency_p50_ms) == (
        None,
        None,
        None,
    )


def test_a_realtime_summary_has_compliance_and_median_latency():
    latency = {"compliance": 0.875, "p50_ms": 12.5, "p95_ms": 30.0}
    summary = summarize(results("realtime", 20.0, "wall"), scores(latency))
    assert (summary.budget_ms, summary.latency_compliance, summary.latency_p50_ms) == (
        20.0,
        0.875,
        12.5,
    )


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        (dict(isolation="in-process"), "isolation is 'in-process'; the leaderboard accepts"),
        (
            dict(track="realtime", budget_ms=60.0, clock="fixed:50"),
            "the realtime run's clock is 'fixed:50'; the leaderboard accepts realtime runs "
            "timed on the wall clock",
        ),
    ],
)
def test_the_leaderboard_refuses_debugging_runs_and_made_up_latencies(kind, message):
    with pytest.raises(RefusedEntryError, match=message):
        check_policy(results(**kind))


def test_runs_in_their_own_process_on_the_wall_clock_pass_the_rules():
    check_policy(results())
    check_policy(results("realtime", 20.0, "wall"))


def test_metadata_counts_empty_fields_as_unset_and_keeps_text_as_written():
    metadata = parse_metadata(
        {"method": "<b>M</b>", "url": "", "env_steps": "10", "description": "a\nb\tc"}
    )
    assert (metadata.method, metadata.url, metadata.env_steps) == ("<b>M</b>", None, 10)
    assert metadata.description == "a\nb\tc"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"method": "m", "env_steps": True}, "'env_steps': Value error, a count is an integer"),
        ({"method": "m", "url": "ftp://x"}, "'url': Value error, the URL must start with http"),
        ({"method": "m\nn"}, "'method': Value error, control characters are not accepted"),
        ({"method": "m", "description": "\x00"}, "(line breaks and tabs are)"),
        ({"method": "\ud800"}, "'method': Input should be a valid string, unable to parse"),
        ({"method": "m", "policy_params": 10**16}, "'policy_params': Input should be less"),
    ],
)
def test_metadata_refusals_name_the_field_and_the_rule(fields, message):
    with pytest.raises(RefusedEntryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_metadata(fields)


def test_a_results_upload_is_parsed_as_json_with_deep_nesting_refused():
    assert parse_results(b'{"a": [1]}') == {"a": [1]}
    with pytest.raises(RefusedEntryError, match="results.json is not valid JSON: it is nested"):
        parse_results(b"[" * 100_000)


def test_the_quota_resets_at_the_next_utc_midnight():
    assert next_reset(datetime.date(2024, 2, 28)) == datetime.datetime(
        2024, 2, 29, tzinfo=datetime.UTC
    )
    assert next_reset(datetime.date(2024, 12, 31)).isoformat() == "2025-01-01T00:00:00+00:00"
