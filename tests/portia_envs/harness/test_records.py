import json

import pytest

from portia_envs.errors import RecordsError
from portia_envs.harness.episode import EpisodeJob
from portia_envs.harness.records import RECORDS_NAME, RecordStore, check_record, read_records

HEADER = {"suite": "smoke-v0", "suite_hash": "2e1ae483f98ba2c3", "episodes": 2}


def record(episode=0, **changes):
    good = EpisodeJob("reach-centre", "train", "reach", 0, episode).identity()
    return {
        **good,
        "status": "ok",
        "error": None,
        "return": -1.5,
        "success": True,
        "length": 10,
        "periods": 10,
        "think_steps": 0,
        "think_s": 0.0,
        "latencies_ms": None,
        "overran": None,
        **changes,
    }


def test_records_are_appended_and_read_back_in_order(tmp_path):
    store = RecordStore.create(tmp_path / "run", HEADER)
    store.append(record(0))
    store.append(record(1, success=False))
    store.close()
    header, records, torn = read_records(tmp_path / "run" / RECORDS_NAME)
    assert header == HEADER and torn is None
    assert records == [record(0), record(1, success=False)]
    resumed = RecordStore.resume(tmp_path / "run", HEADER)
    assert resumed.records == records


def test_a_failed_job_record_is_a_valid_record():
    job = EpisodeJob("push-centre", "train", "push", 1, 4)
    failed = job.failed("timeout", "too slow")
    check_record(failed, "here")
    assert (
        failed["reset_seed"]
        == job.reset_seed
        != EpisodeJob("push-centre", "train", "push", 1, 5).reset_seed
    )
    assert (failed["status"], failed["success"], failed["return"]) == ("timeout", False, 0.0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"success": 1}, r"'success' must be bool, got 1"),
        ({"length": True}, r"'length' must be int, got True"),
        ({"return": "1"}, r"'return' must be float or int"),
        ({"error": 3}, r"'error' must be str or null"),
        ({"status": "fine"}, r"status must be one of ok, error, timeout, infrastructure"),
    ],
)
def test_records_of_the_wrong_types_are_refused(changes, message):
    with pytest.raises(RecordsError, match=message):
        check_record(record(**changes), "here")


def test_a_record_without_a_field_or_not_an_object_is_refused():
    incomplete = record()
    del incomplete["periods"]
    with pytest.raises(RecordsError, match="here: the episode record lacks 'periods'"):
        check_record(incomplete, "here")
    with pytest.raises(RecordsError, match="must be a JSON object"):
        check_record([1], "here")


def test_an_episode_recorded_twice_or_a_missing_header_is_an_error(tmp_path):
    path = tmp_path / RECORDS_NAME
    path.write_text(json.dumps({"portia_run": HEADER}) + "\n" + 2 * (json.dumps(record()) + "\n"))
    with pytest.raises(
        RecordsError, match=r"line 3: episode \('reach-centre', 0, 0\) is recorded twice"
    ):
        read_records(path)
    path.write_text(json.dumps(record()) + "\n")
    with pytest.raises(RecordsError, match="line 1: the first line must be the run header"):
        read_records(path)
    for torn in ("", '{"portia_run": {"suite": "smo'):  # empty, or cut within the header
        path.write_text(torn)
        with pytest.raises(
            RecordsError,
            match=r"has no run header: the run was stopped while it was starting.*Delete .* "
            r"and run the command again without --resume",
        ):
            read_records(path)


def test_a_rerun_replaces_an_infrastructure_failure_and_only_that(tmp_path):
    path = tmp_path / RECORDS_NAME
    lost = record(status="infrastructure", error="the worker process died", success=False)
    again = record(**{"return": -3.0})
    lines = [json.dumps({"portia_run": HEADER}), json.dumps(lost), json.dumps(again)]
    path.write_text("\n".join(lines) + "\n")
    _, records, _ = read_records(path)
    assert records == [again]
    path.write_text("\n".join(lines[:2]) + "\n")
    _, records, _ = read_records(path)
    assert records == [lost]
    store = RecordStore.resume(tmp_path, HEADER)
    assert store.records == [] and store.infrastructure_failures == []
