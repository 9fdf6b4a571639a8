"""The verified tier's worker: claim a job, run its policy on hidden seeds, store the outcome.

A job's policy is benched by the harness on both tracks (paused first, then realtime on
the wall clock with the default budget), its agent in its own process with one thread
and memory and CPU limits, on the hidden seeds (``hidden_seeds``), then on the public
seeds of the public-seed check (``public_check``). If more than half of
the episodes fail, the job fails with a curated reason; else each track's results, their
seeds removed, become a verified entry. While it runs, a thread beats the job's heartbeat.
Where the OS allows it (``unshare``), the agent runs in a network namespace of its own,
with no network; elsewhere it is not cut off from the network, and the worker says so.
Log lines name jobs and states only, never seeds.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from leaderboard import jobs
from leaderboard.entries import add_entry, canonical_json
from leaderboard.hidden_seeds import DEFAULT_SEEDS, derive_seeds, redact
from leaderboard.models import VERIFIED, Job, Token, utc_now
from leaderboard.policies import INVALID_MODEL, SHAPE_MISMATCH, policy_path
from leaderboard.public_check import public_run_of
from leaderboard.schemas import EntryMetadata
from leaderboard.submission import check_results
from leaderboard.summary import summarize
from portia_envs.errors import PortiaError

# Wall seconds an episode of a submitted policy may take, and its agent's memory, MiB.
EPISODE_TIMEOUT_S = 120.0
AGENT_MEMORY_MB = 2048
# The realtime track's latency budget per decision, ms (``portia bench``'s default).
REALTIME_BUDGET_MS = 20.0
NAN_ACTIONS, TIMEOUT, OUT_OF_MEMORY, CRASHED = "NaN actions", "timeout", "out of memory", "crashed"
REASONS = (INVALID_MODEL, SHAPE_MISMATCH, NAN_ACTIONS, TIMEOUT, OUT_OF_MEMORY, CRASHED)
# Characters of the agent's errors kept as a failed job's log tail.
LOG_TAIL_CHARS = 4000
RUNS_DIR = "runs"
# Commands that run a program in a new network namespace with only a loopback device:
# as root, then as anyone (in a user namespace, where the kernel allows it).
NO_NETWORK_PREFIXES = (("unshare", "-n"), ("unshare", "-rn"))


class JobFailed(PortiaError):
    """A job whose policy failed most of its episodes; the message is the log tail.

    Args:
        reason: One of ``REASONS``.
        log_tail: The end of the agent's errors.
    """

    def __init__(self, reason: str, log_tail: str) -> None:
        super().__init__(f"{reason}: {log_tail}")
        self.reason, self.log_tail = reason, log_tail


def classify(status: str, error: str) -> str:
    """Return the curated reason (one of ``REASONS``) of a failed episode's status and error."""
    text = error.lower()
    if "nan or infinity" in text:
        return NAN_ACTIONS
    if "invalid action: shape" in text:
        return SHAPE_MISMATCH
    if status == "timeout" or "timed out" in text or "timeout" in text:
        return TIMEOUT
    if "out of memory" in text or "memoryerror" in text:
        return OUT_OF_MEMORY
    if "onnx" in text and ("not an" in text or "invalid" in text):
        return INVALID_MODEL
    return CRASHED


def judge(records: Sequence[Mapping[str, Any]]) -> None:
    """Fail a run if more than half of its episodes failed.

    Raises:
        JobFailed: With the most common reason among the failures and their last errors.
    """
    failures = [r for r in records if r["status"] != "ok"]
    if 2 * len(failures) <= len(records):
        return
    reasons = collections.Counter(classify(r["status"], str(r.get("error"))) for r in failures)
    tail = "\n".join(dict.fromkeys(str(r.get("error")) for r in failures))
    raise JobFailed(reasons.most_common(1)[0][0], tail[-LOG_TAIL_CHARS:])


def no_network_prefix() -> tuple[str, ...]:
    """Return a command prefix that cuts the agent off the network, or ``()`` if none works.

    Each of ``NO_NETWORK_PREFIXES`` is tried on ``true``; the first that succeeds is used.
    """
    for prefix in NO_NETWORK_PREFIXES:
        try:
            done = subprocess.run([*prefix, "true"], capture_output=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:
            return prefix
    return ()


def bench_track(
    policy: Path,
    suite: str,
    suite_hash: str,
    track: str,
    seeds: list[int],
    out_dir: Path,
    prefix: tuple[str, ...],
    episodes: int = 1,
) -> dict[str, Any]:
    """Run ``policy`` on every task of ``suite`` on ``track``, ``seeds`` and ``episodes``.

    The agent's command runs under ``prefix`` (``no_network_prefix``).

    Returns:
        The results, seeds and all (the hidden ones are server-side only).

    Raises:
        JobFailed: If the agent cannot act at all, or fails most episodes.
    """
    from portia_envs.errors import AgentPreflightError
    from portia_envs.harness.agents import resolve_spec
    from portia_envs.harness.episode import RunConfig
    from portia_envs.harness.runner import bench

    realtime = track == "realtime"
    config = RunConfig(
        suite=suite,
        suite_hash=suite_hash,
        track=track,
        agent=resolve_spec(str(policy)),
        budget_ms=REALTIME_BUDGET_MS if realtime else None,
        clock="wall" if realtime else None,
        timeout_s=EPISODE_TIMEOUT_S,
        agent_memory_mb=AGENT_MEMORY_MB,
        agent_threads=1,
        agent_prefix=prefix,
    )
    try:
        results = bench(
            config, agent_spec=str(policy), episodes=episodes, seeds=seeds, out_dir=out_dir
        )
    except AgentPreflightError as error:
        message = str(error).replace(str(policy), "policy.onnx")
        raise JobFailed(classify("error", message), message[-LOG_TAIL_CHARS:]) from None
    judge(results["episodes"])
    return results


def run_job(
    sessions: sessionmaker[Session],
    job: Job,
    data_dir: Path,
    secret: bytes,
    prefix: tuple[str, ...] = (),
) -> tuple[int, int]:
    """Bench a claimed job's policy on both tracks and store its verified entries.

    Then the policy runs on the public seeds (``public_check``), and that run is stored
    with the job. The agent's command runs under ``prefix`` (``no_network_prefix``).

    Returns:
        The ids of the paused and the realtime entries.

    Raises:
        JobFailed: If the policy failed most episodes of a track.
    """
    policy = policy_path(data_dir, job.policy_sha256)
    run_dir = data_dir / RUNS_DIR / f"job-{job.id}-attempt-{job.attempts}"
    shutil.rmtree(run_dir, ignore_errors=True)
    try:
        runs = {
            track: bench_track(
                policy,
                job.suite,
                job.suite_hash,
                track,
                derive_seeds(secret, job.suite_hash, track, DEFAULT_SEEDS),
                run_dir / track,
                prefix,
            )
            for track in jobs.TRACKS
        }
        claimed = None if job.claimed_results is None else json.loads(job.claimed_results)
        seeds, episodes = public_run_of(claimed)
        public = bench_track(
            policy,
            job.suite,
            job.suite_hash,
            "paused",
            seeds,
            run_dir / "public",
            prefix,
            episodes,
        )
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    metadata = EntryMetadata.model_validate(json.loads(job.entry_metadata))
    ids = []
    with sessions.begin() as session:
        token = session.get(Token, job.token_id)
        for results in runs.values():
            summary = summarize(results, check_results(results))
            entry = add_entry(
                session,
                results=redact(results),
                summary=summary,
                metadata=metadata,
                tier=VERIFIED,
                token=token,
                at=utc_now(),
            )
            ids.append(entry.id)
        finished = session.get_one(Job, job.id)
        finished.public_results = canonical_json(public)
        jobs.finish(finished, ids[0], ids[1], utc_now())
    return ids[0], ids[1]


def beat_until(
    sessions: sessionmaker[Session], job_id: int, worker: str, every_s: float, stop: threading.Event
) -> None:
    """Beat ``job_id``'s heartbeat every ``every_s`` seconds until ``stop`` is set."""
    while not stop.wait(every_s):
        with sessions() as session:
            jobs.heartbeat(session, job_id, worker, utc_now())


def work(
    sessions: sessionmaker[Session],
    data_dir: Path,
    secret: bytes,
    *,
    once: bool = False,
    poll_s: float = 5.0,
    stale_s: float = jobs.STALE_S,
    name: str | None = None,
    log: Callable[[str], None] = print,
) -> int:
    """Run jobs from the queue: forever, or one (if any) with ``once``.

    Before each claim, running jobs whose heartbeat is older than ``stale_s`` are requeued.

    Returns:
        How many jobs this worker ran.
    """
    worker = name or f"{socket.gethostname()}:{os.getpid()}"
    every_s = min(jobs.HEARTBEAT_S, stale_s / 3)
    prefix = no_network_prefix()
    if prefix:
        log(f"worker {worker}: agents run without network ({' '.join(prefix)})")
    else:
        log(f"worker {worker}: unshare is not available; agents can reach the network")
    ran = 0
    while True:
        with sessions() as session:
            jobs.requeue_stale(session, utc_now(), stale_s)
            job = jobs.claim(session, worker, utc_now())
            if job is not None:
                session.expunge(job)
        if job is None:
            if once:
                return ran
            time.sleep(poll_s)
            continue
        log(f"job {job.id}: running (attempt {job.attempts})")
        stop = threading.Event()
        beating = threading.Thread(
            target=beat_until, args=(sessions, job.id, worker, every_s, stop), daemon=True
        )
        beating.start()
        try:
            paused, realtime = run_job(sessions, job, data_dir, secret, prefix)
            log(f"job {job.id}: finished, entries {paused} and {realtime}")
        except JobFailed as failure:
            with sessions() as session:
                jobs.fail(session.get_one(Job, job.id), failure.reason, failure.log_tail, utc_now())
                session.commit()
            log(f"job {job.id}: failed ({failure.reason})")
        finally:
            stop.set()
            beating.join()
        ran += 1
        if once:
            return ran
