import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from portia_envs.errors import RecordsError
from portia_envs.harness.episode import agent_seed
from portia_envs.harness.records import RECORDS_NAME
from portia_envs.results import validate_results
from portia_envs.suites import get_suite
from tests.portia_envs.harness.harness_runs import comparable, fake, run

SMOKE = get_suite("smoke-v0")
TASK_IDS = [t.task_id for t in SMOKE.train + SMOKE.heldout]
# The portia command of this interpreter, whatever is on PATH.
PORTIA = [sys.executable, "-c", "from portia_envs.cli import app; app()"]


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory):
    """smoke_results' run again on 1 worker: its directory and results. Tests that change
    its records work on a copy (``copy_run``)."""
    out = tmp_path_factory.mktemp("one-worker")
    return out, run(out, episodes=2, workers=1)


def copy_run(one_worker, directory):
    """Copy the records of ``one_worker``'s run (2 episodes, seed 0) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(one_worker[0] / RECORDS_NAME, directory / RECORDS_NAME)
    return directory / RECORDS_NAME


def test_a_run_covers_every_task_seed_and_episode_in_suite_order(smoke_results):
    keys = [(r["task_id"], r["seed"], r["episode"]) for r in smoke_results["episodes"]]
    assert keys == [(t, 0, e) for t in TASK_IDS for e in range(2)]
    assert all(r["status"] == "ok" and r["success"] for r in smoke_results["episodes"])
    assert [t["task_id"] for t in smoke_results["tasks"]] == TASK_IDS
    assert smoke_results["suite"] == {"name": "smoke-v0", "hash": SMOKE.hash}
    assert smoke_results["scores"]["latency"] is None
    validate_results(smoke_results)


def test_episodes_have_distinct_reset_seeds_and_real_lengths(smoke_results):
    seeds = [r["reset_seed"] for r in smoke_results["episodes"]]
    assert len(set(seeds)) == len(seeds)
    for record in smoke_results["episodes"]:
        assert 1 <= record["length"] == record["periods"] <= 150
        assert record["think_steps"] == 0


def test_the_same_run_twice_gives_the_same_results_whatever_the_workers(one_worker, smoke_results):
    _, again = one_worker
    assert comparable(again) == comparable(smoke_results)
    assert again["created"] and again["hardware"]["cores"] >= 1


def test_more_seeds_are_more_runs(tmp_path):
    results = run(tmp_path, episodes=1, seeds=(3, 4), isolation="in-process")
    assert {(r["seed"], r["episode"]) for r in results["episodes"]} == {(3, 0), (4, 0)}
    assert results["scores"]["tasks"]["push-centre"]["episodes"] == 2


def _bad(record):
    """Whether the fake agents misbehave in this episode (on even agent seeds)."""
    return agent_seed(record["reset_seed"]) % 2 == 0


def test_an_agent_that_raises_fails_its_episodes_not_the_run(tmp_path):
    results = run(tmp_path, fake("Raising"), episodes=1)  # reach-high-left's is bad
    by_status = {}
    for record in results["episodes"]:
        expected = "error" if _bad(record) else "ok"
        assert record["status"] == expected
        by_status.setdefault(expected, []).append(record)
    assert by_status["error"] and by_status["ok"]
    for record in by_status["error"]:
        assert "RuntimeError: the agent broke on purpose" in record["error"]
        assert not record["success"] and record["length"] == 0
    failed = sum(t["failed"] for t in results["scores"]["tasks"].values())
    assert failed == len(by_status["error"])
    validate_results(results)


def test_a_hanging_agent_times_out_and_a_crashing_one_is_recorded(tmp_path):
    # One episode per task: reach-high-left's is bad, the train tasks' good.
    hanging = run(tmp_path / "hang", fake("Hanging"), episodes=1, timeout_s=3.0)
    crashing = run(tmp_path / "crash", fake("Crashing"), episodes=1)
    crashed_in_worker = run(
        tmp_path / "in-worker", fake("Crashing"), episodes=1, isolation="in-process"
    )
    for results, status, message in (
        (hanging, "timeout", "the agent did not answer before the deadline"),
        (crashing, "error", "the agent process exited with code 3 during the episode"),
        (crashed_in_worker, "error", "worker process died during the episode (exit code 3)"),
    ):
        bad = [r for r in results["episodes"] if _bad(r)]
        good = [r for r in results["episodes"] if not _bad(r)]
        assert bad and good
        assert all(r["status"] == status and message in r["error"] for r in bad)
        assert all(r["status"] == "ok" and r["success"] for r in good)


def test_realtime_track_records_latency_and_elapsed_periods(tmp_path):
    results = run(tmp_path, track="realtime", budget_ms=20.0, clock="fixed:50", episodes=1)
    for record in results["episodes"]:
        # 50 ms of latency at dt = 40 ms: each decision takes 2 periods, and is over budget.
        assert record["latencies_ms"] == [50.0] * record["length"]
        # (The episode's last decision is cut short if the time limit comes first.)
        assert record["periods"] in (2 * record["length"] - 1, 2 * record["length"])
        assert record["overran"] == record["length"]
    latency = results["scores"]["latency"]
    assert latency["compliance"] == 0.0 and latency["p95_ms"] == 50.0
    assert latency["decisions"] == sum(r["length"] for r in results["episodes"])
    within = run(
        tmp_path / "within",
        track="realtime",
        budget_ms=60.0,
        clock="fixed:50",
        episodes=1,
        isolation="in-process",  # a fixed clock: the same latencies wherever the agent is
    )
    assert within["scores"]["latency"]["compliance"] == 1.0


def test_a_directory_holding_a_run_is_never_overwritten(tmp_path, one_worker):
    path = copy_run(one_worker, tmp_path)
    before = path.read_bytes()
    with pytest.raises(RecordsError, match="already holds the records of a run.*--resume"):
        run(tmp_path, episodes=2)
    assert path.read_bytes() == before


def test_resuming_with_other_options_is_refused(tmp_path, one_worker):
    path = copy_run(one_worker, tmp_path)
    before = path.read_bytes()
    with pytest.raises(RecordsError, match="another run.*episodes: stored 2, asked 1"):
        run(tmp_path, episodes=1, resume=True)
    with pytest.raises(RecordsError, match="agent: stored"):
        run(tmp_path, fake("Slow"), episodes=2, resume=True)
    assert path.read_bytes() == before
    with pytest.raises(RecordsError, match="nothing to resume"):
        run(tmp_path / "empty", episodes=1, resume=True)


def test_resuming_a_changed_suite_names_the_hash_first(tmp_path, one_worker):
    path = copy_run(one_worker, tmp_path)
    lines = path.read_text().splitlines()
    header = json.loads(lines[0])
    header["portia_run"]["suite_hash"] = "0123456789abcdef"
    path.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    with pytest.raises(RecordsError, match=r"another run \(suite_hash: stored '0123456789abcdef'"):
        run(tmp_path, episodes=2, resume=True)


def test_a_corrupt_record_stops_the_resume_and_leaves_the_file_alone(tmp_path, one_worker):
    path = copy_run(one_worker, tmp_path)
    lines = path.read_text().splitlines(keepends=True)
    lines[2] = '{"task_id": "reach-centre", "seed": 0,\n'
    path.write_text("".join(lines))
    before = path.read_bytes()
    with pytest.raises(RecordsError, match=r"line 3 is not valid JSON"):
        run(tmp_path, episodes=2, resume=True)
    assert path.read_bytes() == before


def test_a_cut_off_last_line_is_dropped_and_its_episode_run_again(
    tmp_path, one_worker, smoke_results
):
    path = copy_run(one_worker, tmp_path)
    text = path.read_text()
    path.write_text(text[: len(text) - 40])  # a kill in the middle of the last write
    resumed = run(tmp_path, episodes=2, resume=True)
    assert comparable(resumed) == comparable(smoke_results)


def _start_bench(out_dir, *options):
    command = [*PORTIA, "bench", "--agent", fake("Slow"), "--suite", "smoke-v0"]
    command += ["--out", str(out_dir), *(options or ("--episodes", "3"))]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_records(path, count, process):
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if path.exists() and path.read_text().count("\n") > count:  # the header, then records
            return
        time.sleep(0.05)
    raise AssertionError(f"{count} records did not appear in {path}")


@pytest.mark.slow  # half a minute; resume is also tested with a cut-off last line
def test_a_killed_run_resumes_to_the_results_of_an_uninterrupted_one(tmp_path):
    out = tmp_path / "killed"
    process = _start_bench(out)
    _wait_for_records(out / RECORDS_NAME, 2, process)
    process.kill()
    process.wait()
    recorded = (out / RECORDS_NAME).read_text().count("\n") - 1
    assert 2 <= recorded < 9 and not (out / "results.json").exists()

    resumed = subprocess.run(
        [
            *PORTIA,
            "bench",
            "--agent",
            fake("Slow"),
            "--suite",
            "smoke-v0",
            "--episodes",
            "3",
            "--out",
            str(out),
            "--resume",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "generalization gap" in resumed.stdout
    uninterrupted = run(tmp_path / "whole", fake("Slow"), episodes=3, workers=2)
    results = json.loads((out / "results.json").read_text())
    assert comparable(results) == comparable(uninterrupted)


def test_ctrl_c_stops_the_run_and_says_how_to_resume(tmp_path):
    # The agent in the worker: no agent process to start (the run is stopped in any case).
    process = _start_bench(tmp_path, "--episodes", "3", "--isolation", "in-process")
    _wait_for_records(tmp_path / RECORDS_NAME, 1, process)
    os.kill(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "interrupted:" in stderr and "--resume" in stderr
    header, *records = (tmp_path / RECORDS_NAME).read_text().splitlines()
    assert records and all(json.loads(line)["status"] == "ok" for line in records)


def _descendants(pid):
    """The pids of every live process under ``pid`` (from /proc)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _alive(pid):
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_kill_9_of_the_run_leaves_no_worker_or_agent_process_behind(tmp_path):
    process = _start_bench(tmp_path, "--workers", "2")
    _wait_for_records(tmp_path / RECORDS_NAME, 1, process)
    below = _descendants(process.pid)
    commands = [open(f"/proc/{pid}/cmdline").read() for pid in below if _alive(pid)]
    assert sum("agent_host" in command for command in commands) == 2  # an agent per worker
    process.kill()
    process.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in below):
        time.sleep(0.1)
    assert not [pid for pid in below if _alive(pid)]


@pytest.mark.slow
def test_a_worker_killed_from_outside_is_an_infrastructure_failure_rerun_on_resume(tmp_path):
    out = tmp_path / "killed"
    process = _start_bench(out, "--episodes", "2")
    _wait_for_records(out / RECORDS_NAME, 1, process)
    worker = next(
        pid
        for pid in _descendants(process.pid)
        if "spawn_main" in open(f"/proc/{pid}/cmdline").read()
    )
    os.kill(worker, signal.SIGKILL)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 6, stderr
    assert "lost to infrastructure failures" in stderr and "--resume" in stderr
    records = [json.loads(line) for line in (out / RECORDS_NAME).read_text().splitlines()[1:]]
    lost = [r for r in records if r["status"] == "infrastructure"]
    assert len(lost) == 1 and "worker process died" in lost[0]["error"]
    assert not (out / "results.json").exists()

    resumed = subprocess.run(
        [*PORTIA, "bench", "--agent", fake("Slow"), "--suite", "smoke-v0", "--episodes", "2"]
        + ["--out", str(out), "--resume"],
        capture_output=True,
        text=True,
    )
    assert resumed.returncode == 0, resumed.stderr
    uninterrupted = run(tmp_path / "whole", fake("Slow"), episodes=2)
    results = json.loads((out / "results.json").read_text())
    assert comparable(results) == comparable(uninterrupted)
