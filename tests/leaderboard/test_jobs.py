"""The pieces of the verified tier: hidden seeds, their secret, failure reasons, the queue."""

import datetime
import os
import stat

import pytest

from leaderboard.errors import SettingsError
from leaderboard.hidden_seeds import SECRET_FILE, commitment, derive_seeds, load_secret, redact
from leaderboard.jobs import MAX_ATTEMPTS, claim, requeue_stale
from leaderboard.models import Job, utc_now
from leaderboard.tokens import create_token
from leaderboard.worker import JobFailed, classify, judge
from tests.leaderboard.conftest import SMOKE

SECRET = bytes(range(32))


def test_seeds_depend_on_the_secret_the_suite_hash_and_the_track():
    seeds = derive_seeds(SECRET, SMOKE.hash, "paused", 3)
    assert seeds == derive_seeds(SECRET, SMOKE.hash, "paused", 3) and len(set(seeds)) == 3
    assert seeds != derive_seeds(SECRET, SMOKE.hash, "realtime", 3)
    assert seeds != derive_seeds(bytes(32), SMOKE.hash, "paused", 3)
    assert seeds != derive_seeds(SECRET, "0" * 64, "paused", 3)
    assert commitment({"paused": seeds}) != commitment({"paused": seeds[::-1]})


def test_the_secret_is_made_once_in_the_data_dir_readable_by_its_owner_only(tmp_path, monkeypatch):
    monkeypatch.delenv("PORTIA_SEED_SECRET", raising=False)
    secret = load_secret(tmp_path)
    assert len(secret) == 32 and load_secret(tmp_path) == secret
    assert stat.S_IMODE(os.stat(tmp_path / SECRET_FILE).st_mode) == 0o600


def test_the_secret_variable_wins_and_must_be_64_hex_digits(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTIA_SEED_SECRET", SECRET.hex())
    assert load_secret(tmp_path) == SECRET and not (tmp_path / SECRET_FILE).exists()
    monkeypatch.setenv("PORTIA_SEED_SECRET", "abc")
    with pytest.raises(SettingsError, match="64 hex digits"):
        load_secret(tmp_path)


def test_redacted_results_keep_the_scores_and_lose_every_seed(results):
    public = redact(results)
    assert "seeds" not in public["run"] and public["scores"] == results["scores"]
    assert all("seed" not in r and "reset_seed" not in r for r in public["episodes"])
    assert [r["return"] for r in public["episodes"]] == [r["return"] for r in results["episodes"]]


@pytest.mark.parametrize(
    ("status", "error", "reason"),
    [
        ("error", "invalid action: NaN or infinity in [nan nan]", "NaN actions"),
        ("error", "invalid action: shape (5,); the action space needs (7,)", "shape mismatch"),
        ("timeout", "the episode took longer than 120 s", "timeout"),
        ("crashed", "the agent process killed (SIGKILL): out of memory, or ...", "out of memory"),
        ("error", "policy.onnx is not an ONNX model (truncated)", "invalid model"),
        ("crashed", "the agent process exited with code 3 during the episode", "crashed"),
    ],
)
def test_episode_errors_map_to_curated_reasons(status, error, reason):
    assert classify(status, error) == reason


def test_a_run_fails_only_when_most_episodes_failed():
    ok = {"status": "ok", "error": None}
    nan = {"status": "error", "error": "invalid action: NaN or infinity in [nan]"}
    judge([ok, ok, nan])
    judge([ok, nan])
    with pytest.raises(JobFailed) as failed:
        judge([ok, nan, nan])
    assert failed.value.reason == "NaN actions" and "NaN or infinity" in failed.value.log_tail


def add_job(session, token_id):
    job = Job(
        state="queued",
        token_id=token_id,
        suite=SMOKE.name,
        suite_hash=SMOKE.hash,
        policy_sha256="0" * 64,
        entry_metadata="{}",
        seed_commitment="sha256:" + "0" * 64,
        attempts=0,
        created_at=utc_now(),
    )
    session.add(job)
    session.flush()
    return job.id


def test_claims_take_each_job_once_and_stale_ones_come_back_until_they_fail(server):
    with server.sessions.begin() as session:
        token, _ = create_token(session, "queue-owner", admin=False, at=utc_now())
        first, second = add_job(session, token.id), add_job(session, token.id)
    now = utc_now()
    with server.sessions() as session:
        taken = []
        while (job := claim(session, "w1", now)) is not None:
            taken.append(job.id)
    assert taken == [first, second]
    later = now + datetime.timedelta(seconds=100)
    for attempt in range(2, MAX_ATTEMPTS + 1):
        with server.sessions() as session:
            assert requeue_stale(session, later, stale_s=50) == 2
            assert requeue_stale(session, later, stale_s=50) == 0
            taken = []
            while (job := claim(session, f"w{attempt}", later)) is not None:
                taken.append((job.id, job.attempts))
            assert taken == [(first, attempt), (second, attempt)]
        later += datetime.timedelta(seconds=100)
    with server.sessions() as session:
        requeue_stale(session, later, stale_s=50)
        for job_id in (first, second):
            job = session.get_one(Job, job_id)
            assert job.state == "failed" and job.reason == f"worker died {MAX_ATTEMPTS} times"
