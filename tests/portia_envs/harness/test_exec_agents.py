"""Programs as agents (``exec:``): started once per worker, and every way one can fail is a
failed episode with the reason and the end of the program's standard error."""

import json
import shlex
import sys
import time

import pytest
from typer.testing import CliRunner

from portia_envs.cli import app
from portia_envs.harness.agent_process import START_TIMEOUT_S
from portia_envs.harness.episode import EpisodeJob, EpisodeRunner
from tests.portia_envs.harness.harness_runs import config

JOB = EpisodeJob("reach-centre", "train", "reach", 0, 0)

# A program on portia_envs.agent_kit that holds still; BEFORE runs at start, ACT at each act.
KIT_AGENT = """
import os, sys, time
import numpy as np
from portia_envs.agent_kit import ProtocolAgent, serve, stdio_channel

channel = stdio_channel()

class Agent(ProtocolAgent):
    name, version = "test-agent", "7"

    def on_task(self, task):
        self.action = np.zeros(task["action_space"]["shape"], np.float32)

    def act(self, observation, imagine):
        {act}
        return self.action

{before}
sys.exit(serve(Agent, channel))
"""
# A program that answers the harness's hello with REPLY, raw bytes on its standard output.
RAW_AGENT = """
import json, struct, sys, time

def frame(header):
    text = json.dumps(header).encode()
    return struct.pack("<I", len(text)) + text

print("{log}", file=sys.stderr, flush=True)
sys.stdin.buffer.read(4)
sys.stdout.buffer.write({reply})
sys.stdout.buffer.flush()
time.sleep(600)
"""


def kit_agent(tmp_path, act="pass", before=""):
    script = tmp_path / "agent.py"
    script.write_text(KIT_AGENT.format(act=act, before=before))
    return f"exec:{shlex.join([sys.executable, str(script)])}"


def raw_agent(tmp_path, log, reply):
    script = tmp_path / "agent.py"
    script.write_text(RAW_AGENT.format(log=log, reply=reply))
    return f"exec:{shlex.join([sys.executable, str(script)])}"


def silent_agent(tmp_path):
    """A program that logs a line, then never reads nor answers anything."""
    script = tmp_path / "agent.py"
    script.write_text(f"import sys, time\n{say('warming up forever')}\ntime.sleep(600)\n")
    return f"exec:{shlex.join([sys.executable, str(script)])}"


def play(spec, timeout_s=60.0):
    runner = EpisodeRunner(config(spec, timeout_s=timeout_s))
    try:
        return runner.run(JOB)
    finally:
        runner.close()


def say(line):
    return f"print({line!r}, file=sys.stderr, flush=True)"


@pytest.mark.parametrize(
    ("act", "timeout_s", "status", "reason"),
    [
        ("os._exit(3)", 60.0, "error", "the agent process exited with code 3"),
        ("time.sleep(600)", 3.0, "timeout", "the agent did not answer before the deadline"),
        (
            # Asks for a future far larger than a pipe holds, then never reads it.
            'channel.send({"type": "imagine", "plans": np.zeros((100, 10, 7), np.float32)}); '
            "time.sleep(600)",
            3.0,
            "timeout",
            "the agent stopped reading: it had not taken 'future' by the deadline",
        ),
    ],
    ids=["dying", "hanging", "not-reading"],
)
def test_a_program_that_dies_or_hangs_fails_its_episode_with_its_log(
    tmp_path, act, timeout_s, status, reason
):
    record = play(kit_agent(tmp_path, f"{say('my last words')}; {act}"), timeout_s)
    assert record["status"] == status, record["error"]
    assert reason in record["error"]
    assert record["error"].endswith("its log ends:\nmy last words")
    assert not record["success"]


def test_a_silent_program_fails_at_the_episodes_deadline_not_the_start_timeout(tmp_path):
    started = time.monotonic()
    record = play(silent_agent(tmp_path), timeout_s=2.0)
    assert time.monotonic() - started < START_TIMEOUT_S / 4
    assert record["status"] == "timeout"
    assert "did not answer the harness's 'hello' before the deadline" in record["error"]
    assert record["error"].endswith("its log ends:\nwarming up forever")


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("b'hello harness\\n'", "is something else writing to the protocol's stream"),
        ("frame({'kind': 'hello'})", "must be a JSON object with a 'type'"),
        ("frame({'type': 'ready'})", "it sent 'ready' where 'hello' was expected"),
        (
            "frame({'type': 'hello', 'protocol': 2, 'agent': {'name': 'future'}})",
            "the agent speaks protocol 2; this harness speaks 1",
        ),
    ],
    ids=["garbage", "no-type", "wrong-type", "wrong-version"],
)
def test_a_program_that_breaks_the_protocol_fails_its_episode_with_its_log(tmp_path, reply, reason):
    record = play(raw_agent(tmp_path, "about to answer", reply))
    assert record["status"] == "error"
    assert reason in record["error"]
    assert record["error"].endswith("its log ends:\nabout to answer")


def test_the_program_starts_once_per_worker_and_names_itself_in_the_results(tmp_path):
    starts = tmp_path / "starts.txt"
    before = f"open({str(starts)!r}, 'a').write(f'{{os.getpid()}}\\n')"
    spec = kit_agent(tmp_path, before=before)
    out = tmp_path / "out"
    done = CliRunner().invoke(
        app, ["bench", "--agent", spec, "--suite", "smoke-v0", "--episodes", "2", "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    results = json.loads((out / "results.json").read_text())
    assert len(results["episodes"]) == 6
    assert len(starts.read_text().split()) == 2  # the preflight's, then the one worker's
    assert results["agent"]["name"] == "test-agent" and results["agent"]["version"] == "7"
    assert results["agent"]["spec"] == spec


def test_a_silent_program_stops_bench_at_the_preflight_with_exit_code_4(tmp_path):
    spec = silent_agent(tmp_path)
    done = CliRunner().invoke(
        app,
        ["bench", "--agent", spec, "--suite", "smoke-v0", "--timeout-s", "2"]
        + ["--out", str(tmp_path / "out")],
    )
    assert done.exit_code == 4, done.output
    assert "cannot act (preflight on reach-centre, one step)" in done.output
    assert "did not answer the harness's 'hello'" in done.output
    assert "warming up forever" in done.output and "Traceback" not in done.output
    assert not (tmp_path / "out").exists()


def test_bench_refuses_a_program_in_process_with_one_line_and_exit_code_2(tmp_path):
    spec = kit_agent(tmp_path)
    done = CliRunner().invoke(
        app,
        ["bench", "--agent", spec, "--suite", "smoke-v0", "--isolation", "in-process"]
        + ["--out", str(tmp_path / "out")],
    )
    assert done.exit_code == 2, done.output
    assert done.output.strip().splitlines() == [
        f"Error: agent {spec!r} is a program of its own; it runs only with isolation 'process'"
    ]


def test_collect_refuses_a_program_with_one_line_and_exit_code_2(tmp_path):
    spec = kit_agent(tmp_path)
    done = CliRunner().invoke(
        app, ["collect", "--agent", spec, "--suite", "smoke-v0", "--out", str(tmp_path / "data")]
    )
    assert done.exit_code == 2, done.output
    [line] = done.output.strip().splitlines()
    assert line.startswith(f"Error: agent {spec!r} is a program of its own")
    assert "accepted: a built-in name" in line


def test_the_agent_threads_reach_the_programs_environment(tmp_path):
    before = (
        "Agent.name = f\"threads {os.environ['PORTIA_AGENT_THREADS']} "
        "{os.environ['OMP_NUM_THREADS']}\""
    )
    runner = EpisodeRunner(config(kit_agent(tmp_path, before=before), agent_threads=3))
    try:
        assert runner.link.start()["agent"]["name"] == "threads 3 3"
    finally:
        runner.close()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("exec:", "names no program; accepted: exec:COMMAND ARGS"),
        ("exec:no-such-program-here --fast", "'no-such-program-here' is neither on PATH"),
        ("exec:node 'agent.js", "cannot split the command"),
    ],
)
def test_bench_refuses_a_program_it_cannot_start_with_exit_code_2(tmp_path, spec, message):
    done = CliRunner().invoke(
        app, ["bench", "--agent", spec, "--suite", "smoke-v0", "--out", str(tmp_path / "out")]
    )
    assert done.exit_code == 2, done.output
    assert message in done.output and "Traceback" not in done.output
    assert not (tmp_path / "out").exists()
