"""The leaderboard's load benchmark (benchmarks/leaderboard_load.py), in a tiny configuration.

Only correctness is checked: every request answered 200, every upload 201 and stored
exactly once, a missing page skipped. Its timings are machine noise at this size.
"""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from portia_envs.suites import get_suite

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "leaderboard_load.py"
ENTRIES = 30
UPLOADS = 3
MISSING = "/no-such-page"
SMOKE = get_suite("smoke-v0")


def load_benchmark():
    """Import the script and register it, as its dataclasses look it up."""
    spec = importlib.util.spec_from_file_location("leaderboard_load", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def benchmark_module():
    return load_benchmark()


@pytest.fixture(scope="module")
def report(benchmark_module, tmp_path_factory):
    """The benchmark run small: 30 entries, 4 clients for 1 s, 3 uploads of a few KiB.

    The uploads are the smallest the benchmark makes, one realtime episode per task, and
    the entries are copies of the uploads' run, so that the harness runs once, briefly.
    """
    lb = benchmark_module
    tasks = len(SMOKE.train + SMOKE.heldout)
    upload_mb = tasks * lb.REALTIME_EPISODE_BYTES / 2**20
    assert lb.upload_run(upload_mb).episodes == 1
    config = lb.Config(
        entries=ENTRIES,
        clients=4,
        seconds=1.0,
        uploads=UPLOADS,
        upload_mb=upload_mb,
        out=tmp_path_factory.mktemp("load"),
        targets=(*lb.TARGETS, MISSING),
        seed_runs=(lb.upload_run(upload_mb),),
    )
    return lb.run_benchmark(config)


def test_every_request_succeeds_and_every_upload_is_stored_once(report):
    assert report["ok"]
    assert report["entries_stored"] == ENTRIES
    api = [target for target in report["targets"] if target["path"].startswith("/api/")]
    assert len(api) == 2
    for target in report["targets"]:
        if "skipped" in target:
            continue
        assert target["requests"] > 0
        assert target["errors"] == 0
        assert target["statuses"] == {"200": target["requests"]}
    assert report["uploads"]["statuses"] == {"201": UPLOADS}
    assert report["uploads"]["stored_once"] == UPLOADS
    assert report["uploads"]["lost"] == report["uploads"]["duplicated"] == 0


def test_a_target_the_server_lacks_is_skipped_and_only_such_a_page(report):
    skipped = [target["path"] for target in report["targets"] if "skipped" in target]
    assert MISSING in skipped
    assert set(skipped) <= {MISSING, "/suites/smoke-v0"}


def test_the_report_is_written_and_printed(report, benchmark_module, capsys):
    out = Path(report["config"]["out"])
    assert json.loads((out / benchmark_module.REPORT_NAME).read_text()) == report
    assert (out / "server.log").is_file()
    benchmark_module.print_report(report)
    printed = capsys.readouterr().out
    assert "every request and upload succeeded" in printed
    assert any(MISSING in line and "skipped (404)" in line for line in printed.splitlines())


def test_a_failed_request_counts_as_an_error(benchmark_module):
    load = benchmark_module.Load("/x", latencies_ms=[1.0, 2.0, 3.0], seconds=1.0)
    load.statuses.update({"200": 2, "500": 1})
    summary = load.summary()
    assert summary["requests"] == 3
    assert summary["errors"] == 1
    assert summary["requests_per_s"] == 3.0
    assert summary["p50_ms"] == 2.0
