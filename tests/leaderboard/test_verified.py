"""The verified tier: an ONNX policy uploaded, evaluated by a worker on hidden seeds, ranked.

Every response, client output and worker log line of this module is searched for each
hidden seed as a decimal string.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from onnx import helper
from typer.testing import CliRunner

from leaderboard.hidden_seeds import DEFAULT_SEEDS, derive_seeds, load_secret
from leaderboard.jobs import TRACKS
from leaderboard.models import Job
from leaderboard.policies import POLICY_DIR
from leaderboard.worker import no_network_prefix, work
from portia_envs.cli import app
from portia_envs.harness.onnx_policy import parameter_count, read_policy
from tests.leaderboard.conftest import SMOKE, UPLOAD_CAP
from tests.portia_envs.harness.onnx_models import goal_policy, save, value

STUDENT = "baselines/students/smoke-v0.pt"
# Seconds without a heartbeat before the requeue test's job is taken back.
STALE_S = 3.0


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    """The shipped BC student of smoke-v0, exported as ONNX by `portia export`."""
    out = tmp_path_factory.mktemp("student") / "student.onnx"
    result = CliRunner().invoke(app, ["export", STUDENT, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def public_results(student, tmp_path_factory):
    """The submitter's own run of the student on public seed 0: `portia bench`, paused."""
    out = tmp_path_factory.mktemp("public")
    result = CliRunner().invoke(
        app,
        ["bench", "--agent", str(student), "--suite", "smoke-v0", "--episodes", "1"]
        + ["--seeds", "0", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    return out / "results.json"


@pytest.fixture(scope="module")
def seeds(server):
    """The hidden seeds of smoke-v0 on this server, as decimal strings."""
    secret = load_secret(server.settings.data_dir)
    return {
        str(seed)
        for track in TRACKS
        for seed in derive_seeds(secret, SMOKE.hash, track, DEFAULT_SEEDS)
    }


class Leaks:
    """Everything the module's server and worker said, to search for hidden seeds."""

    def __init__(self):
        self.texts = []

    def add(self, text):
        self.texts.append(text)
        return text

    def find(self, seeds):
        return [seed for seed in seeds for text in self.texts if re.search(rf"\b{seed}\b", text)]


@pytest.fixture(scope="module")
def leaks():
    return Leaks()


def upload(http, leaks, token, path, public_results=None, **fields):
    files = {"policy": ("policy.onnx", path.read_bytes())}
    if public_results is not None:
        files["public_results"] = ("results.json", public_results.read_bytes())
    response = http.post(
        "/api/v1/policies",
        headers={"Authorization": f"Bearer {token}"},
        files=files,
        data={"suite": "smoke-v0", "method": "student", **fields},
    )
    leaks.add(response.text)
    return response


def run_worker(server, leaks, **options):
    lines = []
    secret = load_secret(server.settings.data_dir)
    ran = work(
        server.sessions, server.settings.data_dir, secret, once=True, log=lines.append, **options
    )
    for line in lines:
        leaks.add(line)
    return ran


def job(http, leaks, job_id):
    response = http.get(f"/api/v1/jobs/{job_id}")
    leaks.add(response.text)
    assert response.status_code == 200
    return response.json()


def nan_policy(path):
    """A policy that passes the contract and acts NaN: ``action = (raw - raw) / (raw - raw)``."""
    model = goal_policy(
        nodes=[
            helper.make_node("Sub", ["desired_goal", "achieved_goal"], ["error"]),
            helper.make_node("MatMul", ["error", "W"], ["raw"]),
            helper.make_node("Sub", ["raw", "raw"], ["zero"]),
            helper.make_node("Div", ["zero", "zero"], ["action"]),
        ]
    )
    return save(model, path)


def test_a_student_is_evaluated_on_hidden_seeds_and_ranked_verified(
    server, http, leaks, seeds, student, public_results
):
    token = server.token()
    accepted = upload(http, leaks, token, student, public_results, policy_params="7")
    assert accepted.status_code == 202, accepted.text
    queued = accepted.json()
    assert queued["state"] == "queued" and queued["queue_position"] == 1
    assert run_worker(server, leaks) == 1
    status = job(http, leaks, queued["id"])
    assert status["state"] == "finished", status
    assert len(status["entries"]) == 2 and status["seed_commitment"].startswith("sha256:")
    board = http.get("/api/v1/suites/smoke-v0/leaderboard")
    leaks.add(board.text)
    rows = [row for b in board.json()["boards"] for row in b["rows"] if row["method"] == "student"]
    assert {row["tier"] for row in rows} == {"verified"} and len(rows) == 2
    # The policy's size is counted from the file, whatever the submitter stated.
    counted = parameter_count(read_policy(student))
    assert {row["policy_params"] for row in rows} == {counted} and counted > 1000
    # The server re-ran the submitter's public seed and agrees with every episode.
    check = status["public_check"]
    assert check["claimed"] and check["agrees"] and check["seeds"] == [0]
    assert check["agreeing"] == check["episodes"] == len(SMOKE.train + SMOKE.heldout)
    for url in status["entries"]:
        for path in (url, url + "/results.json"):
            leaks.add(http.get(path).text)
    for row in rows:
        html = http.get(f"/entries/{row['entry_id']}").text
        assert f"job {queued['id']}</a> on hidden seeds" in html
        assert f"agrees with the submitter's on all {check['episodes']} episodes" in html
        leaks.add(html)
    html = http.get(status["page"]).text
    assert "finished</span>" in html and 'http-equiv="refresh"' not in html
    for row in rows:
        assert f"/entries/{row['entry_id']}" in html
    leaks.add(html)
    leaks.add(http.get("/suites/smoke-v0").text)
    followed = CliRunner().invoke(app, ["status", str(queued["id"]), "--server", server.url])
    assert followed.exit_code == 0, followed.output
    assert f"agrees with yours on {check['episodes']} of {check['episodes']} episodes" in (
        leaks.add(followed.output)
    )
    assert leaks.find(seeds) == []


def test_public_results_of_another_policy_are_refused_at_upload(server, public_results, tmp_path):
    other = save(goal_policy(), tmp_path / "other.onnx")
    refused = CliRunner().invoke(
        app,
        ["submit", "--policy", str(other), "--suite", "smoke-v0", "--server", server.url]
        + ["--public-results", str(public_results), "--method", "m", "--token", server.token()],
    )
    assert refused.exit_code == 7, refused.output
    assert "public_results: its agent hash is sha256:" in refused.output
    assert "send the results of this policy file" in refused.output


def test_a_policy_of_the_wrong_shape_is_refused_at_upload(server, http, leaks, tmp_path):
    wrong = save(goal_policy(action=value("action", 5)), tmp_path / "wrong.onnx")
    refused = upload(http, leaks, server.token(), wrong)
    assert refused.status_code == 422
    assert refused.json()["error"].startswith("shape mismatch:")
    assert not any(
        p.suffix == ".onnx" and p.read_bytes() == wrong.read_bytes()
        for p in (server.settings.data_dir / POLICY_DIR).iterdir()
    )


def test_a_file_that_is_not_onnx_is_refused_as_an_invalid_model(server, http, leaks, tmp_path):
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    refused = upload(http, leaks, server.token(), junk)
    assert refused.status_code == 422
    assert refused.json()["error"].startswith("invalid model:")
    assert "junk" not in refused.text and str(tmp_path) not in refused.text


def test_a_policy_acting_nan_fails_in_the_worker(server, http, leaks, seeds, tmp_path):
    accepted = upload(http, leaks, server.token(), nan_policy(tmp_path / "nan.onnx"))
    assert accepted.status_code == 202, accepted.text
    queued = leaks.add(http.get(f"/jobs/{accepted.json()['id']}").text)
    assert "queued</span>" in queued and '<meta http-equiv="refresh" content="5">' in queued
    assert "<tr><th>place in the queue</th><td>1 (next)</td></tr>" in queued
    assert run_worker(server, leaks) == 1
    status = job(http, leaks, accepted.json()["id"])
    assert status["state"] == "failed" and status["reason"] == "NaN actions"
    assert "NaN or infinity" in status["log_tail"] and status["entries"] == []
    failed = leaks.add(http.get(status["page"]).text)
    assert "<h2>Why it failed: NaN actions</h2>" in failed and "NaN or infinity" in failed
    assert 'http-equiv="refresh"' not in failed
    assert leaks.find(seeds) == []


def test_uploads_without_a_valid_token_or_over_the_cap_are_refused(
    server, http, leaks, student, tmp_path
):
    stored = sorted((server.settings.data_dir / POLICY_DIR).iterdir())
    assert upload(http, leaks, "no-such-token", student).status_code == 401
    large = tmp_path / "large.onnx"
    large.write_bytes(b"\0" * (UPLOAD_CAP + 1))
    assert upload(http, leaks, server.token(), large).status_code == 413
    assert sorted((server.settings.data_dir / POLICY_DIR).iterdir()) == stored


def test_an_unknown_job_is_not_found(http):
    assert http.get("/api/v1/jobs/999999").status_code == 404


def state_of(server, job_id):
    with server.sessions() as session:
        return session.get_one(Job, job_id).state


@pytest.mark.slow
def test_a_job_whose_worker_was_killed_is_requeued_and_finished_by_another(
    server, http, leaks, seeds, student, tmp_path
):
    accepted = upload(http, leaks, server.token(), student, method="student again")
    job_id = accepted.json()["id"]
    command = [
        str(Path(sys.executable).parent / "portia"),
        *("leaderboard", "worker", "--once", "--stale-s", str(STALE_S)),
        *("--data-dir", str(server.settings.data_dir)),
        *("--database-url", server.settings.database_url),
    ]
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        first = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while state_of(server, job_id) != "running":
            assert time.monotonic() < deadline and first.poll() is None, log.read_text()
            time.sleep(0.1)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    leaks.add(log.read_text())
    assert state_of(server, job_id) == "running"
    assert run_worker(server, leaks, stale_s=STALE_S) == 0  # its heartbeat is still fresh
    time.sleep(STALE_S + 0.5)
    assert run_worker(server, leaks, stale_s=STALE_S) == 1
    status = job(http, leaks, job_id)
    assert status["state"] == "finished" and status["attempts"] == 2, status
    assert leaks.find(seeds) == []


def test_the_client_submits_a_policy_and_follows_its_job(server, leaks, seeds, tmp_path):
    runner = CliRunner()
    policy = nan_policy(tmp_path / "nan.onnx")
    submitted = runner.invoke(
        app,
        ["submit", "--policy", str(policy), "--suite", "smoke-v0", "--server", server.url]
        + ["--method", "nan by the client", "--token", server.token()],
    )
    assert submitted.exit_code == 0, submitted.output
    job_id = re.search(r"queued as job (\d+) \(position 1\): http\S+/jobs/\1", submitted.output)
    assert job_id, submitted.output
    queued = runner.invoke(app, ["status", job_id[1], "--server", server.url])
    assert queued.exit_code == 0 and f"job {job_id[1]}: queued, position 1" in queued.output
    assert run_worker(server, leaks) == 1
    followed = runner.invoke(app, ["status", job_id[1], "--server", server.url, "--follow"])
    assert followed.exit_code == 8 and "failed: NaN actions" in followed.output
    missing = runner.invoke(app, ["status", "999999", "--server", server.url])
    assert missing.exit_code == 7 and "Traceback" not in missing.output
    assert "there is no job 999999" in missing.output
    for output in (submitted.output, queued.output, followed.output, missing.output):
        leaks.add(output)
    assert leaks.find(seeds) == []


@pytest.mark.skipif(not no_network_prefix(), reason="unshare cannot make a network namespace")
def test_under_the_workers_prefix_a_program_cannot_reach_the_hosts_network():
    connect = "import socket, sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 5)"
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = str(listener.getsockname()[1])
        reached = subprocess.run([sys.executable, "-c", connect, port], capture_output=True)
        cut_off = subprocess.run(
            [*no_network_prefix(), sys.executable, "-c", connect, port], capture_output=True
        )
    assert reached.returncode == 0, reached.stderr
    assert cut_off.returncode != 0
    assert re.search(rb"ConnectionRefusedError|Network is unreachable", cut_off.stderr)
