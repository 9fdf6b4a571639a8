"""Load benchmark of the leaderboard: busy boards, concurrent readers, concurrent uploads.

On 127.0.0.1 only, it

1. benches a few real runs on smoke-v0 with the harness (random and the scripted expert,
   paused and realtime) and stores ENTRIES entries made of them in a fresh SQLite
   database: each a distinct copy of a run (its ``wall_s`` differs), validated as a
   submission is, with tiers mixed (baseline, verified, self-reported);
2. serves that database with ``portia leaderboard serve`` in a process of its own;
3. for each GET target in turn (the JSON leaderboard, both views, and the suite's HTML
   page), runs CLIENTS concurrent clients that each request it again and again for
   SECONDS, and reports requests/s and the p50 and p99 latencies; a target answering 404
   (a page this server does not have) is skipped with a note;
4. uploads UPLOADS distinct results files of about UPLOAD_MB MiB at once (copies of one
   realtime run with enough episodes, each as ``portia bench`` writes it) and checks that
   each was answered 201 and is stored exactly once (by its sha256 in the database).

It prints a table, writes the numbers to ``OUT/leaderboard-load.json`` (the server's log
to ``OUT/server.log``), and says whether every p99 is within ``TARGET_P99_MS``. The
harness's runs are kept in ``OUT/runs`` and reused by later invocations. Exit status: 0
when every request succeeded and every upload is stored once; 1 otherwise, or, with
``--check-target``, when a p99 misses the target::

    python benchmarks/leaderboard_load.py
    python benchmarks/leaderboard_load.py --entries 30 --clients 4 --seconds 2 --uploads 3
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import hashlib
import http.client
import json
import math
import os
import platform
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from leaderboard.database import open_database, session_factory
from leaderboard.entries import add_entry, canonical_json
from leaderboard.models import BASELINE, SELF_REPORTED, VERIFIED, Entry, Token, utc_now
from leaderboard.schemas import EntryMetadata
from leaderboard.settings import DEFAULT_DAILY_ATTEMPTS, DEFAULT_MAX_UPLOAD_BYTES, Settings
from leaderboard.submission import check_results
from leaderboard.summary import summarize
from leaderboard.tokens import create_token
from portia_envs.harness.agents import resolve_spec
from portia_envs.harness.episode import RunConfig
from portia_envs.harness.runner import RESULTS_NAME, bench
from portia_envs.harness.scores import compute_scores
from portia_envs.results import hardware, load_results
from portia_envs.suites import get_suite
from portia_envs.suites.reference import load_reference
from portia_envs.text_table import text_table

HOST = "127.0.0.1"
SUITE = "smoke-v0"
# The GET targets measured, in order: the JSON leaderboard in both views, the HTML page.
TARGETS = (
    f"/api/v1/suites/{SUITE}/leaderboard",
    f"/api/v1/suites/{SUITE}/leaderboard?tier=all",
    f"/suites/{SUITE}",
)
# What the clients send with each GET, as browsers and httpx do: the server answers the
# boards gzip-compressed (the clients read the bytes, and do not decompress them).
GET_HEADERS = {"Accept-Encoding": "gzip"}
# The latency every target's p99 should stay within, ms.
TARGET_P99_MS = 100.0
# Bootstrap replicates the seeded entries are scored with, so that validating a thousand
# of them takes a minute, not twenty (a file keeps the settings it was scored with, and
# validation uses them). Uploads keep the harness's own scores.
SEED_REPS = 50
# Entries stored per transaction while seeding.
SEED_BATCH = 100
# The tiers of seeded entries, in turn: 1 baseline, 3 verified, 6 self-reported of every 10.
TIER_CYCLE = (BASELINE, *[VERIFIED] * 3, *[SELF_REPORTED] * 6)
# Bytes a realtime episode of 150 decisions takes in a results file as ``portia bench``
# writes it (measured on random's runs), to size the upload run.
REALTIME_EPISODE_BYTES = 2070
# The realtime runs' latency budget per decision, ms.
BUDGET_MS = 50.0
# Parallel episodes of each harness run.
WORKERS = 2
# Seconds a harness episode, an HTTP request, and the server's start and stop may take.
EPISODE_TIMEOUT_S = 600.0
REQUEST_TIMEOUT_S = 600.0
SERVER_START_S = 60.0
SERVER_STOP_S = 30.0
REPORT_NAME = "leaderboard-load.json"


@dataclass(frozen=True)
class RunSpec:
    """A harness run on ``SUITE`` that entries are made of.

    Attributes:
        agent: The agent spec, as ``portia bench --agent`` takes it.
        track: ``"paused"`` or ``"realtime"`` (timed on the wall clock, ``BUDGET_MS``).
        episodes: Episodes per task (seed 0).
    """

    agent: str
    track: str
    episodes: int = 1

    @property
    def name(self) -> str:
        """Return the run's directory name, unique per agent, track and size."""
        return f"{self.agent}-{self.track}-{self.episodes}"


# The runs the seeded entries are copies of: both tracks, a weak and a strong agent.
SEED_RUNS = (
    RunSpec("random", "paused"),
    RunSpec("scripted", "paused"),
    RunSpec("random", "realtime"),
    RunSpec("scripted", "realtime"),
)


@dataclass(frozen=True)
class Config:
    """One benchmark's sizes and where its files go.

    Attributes:
        entries: Entries stored before the load.
        clients: Concurrent clients per GET target.
        seconds: How long each target is loaded.
        uploads: Concurrent uploads.
        upload_mb: The size of each upload, MiB (approximately: whole episodes).
        out: Where the report, the server's log and the harness's runs go.
        targets: The GET targets, paths on the server.
        seed_runs: The runs the entries are copies of.
    """

    entries: int = 1000
    clients: int = 50
    seconds: float = 30.0
    uploads: int = 20
    upload_mb: float = 5.0
    out: Path = Path("runs/leaderboard-load")
    targets: tuple[str, ...] = TARGETS
    seed_runs: tuple[RunSpec, ...] = SEED_RUNS


@dataclass
class Load:
    """What the clients of one GET target got.

    Attributes:
        path: The target.
        latencies_ms: Every request's latency, ms, answered or not.
        statuses: Requests per HTTP status, or per error type when none came.
        seconds: From the first request to the last answer.
    """

    path: str
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        """Return requests, failures (any answer but 200), requests/s, p50 and p99 (ms)."""
        requests = len(self.latencies_ms)
        return {
            "path": self.path,
            "requests": requests,
            "errors": requests - self.statuses["200"],
            "requests_per_s": requests / self.seconds if self.seconds else 0.0,
            **percentiles(self.latencies_ms),
            "statuses": dict(self.statuses),
        }


@dataclass(frozen=True)
class Upload:
    """One upload's outcome.

    Attributes:
        digest: The sha256 of its results file's canonical JSON, as the database keys it.
        status: The HTTP status, or the error type when none came.
        latency_ms: From sending to the answer, ms.
    """

    digest: str
    status: str
    latency_ms: float


def percentiles(latencies_ms: Sequence[float]) -> dict[str, float | None]:
    """Return the p50 and p99 of ``latencies_ms`` (None for no values)."""
    if not latencies_ms:
        return {"p50_ms": None, "p99_ms": None}
    p50, p99 = np.percentile(latencies_ms, [50, 99])
    return {"p50_ms": float(p50), "p99_ms": float(p99)}


def log(message: str) -> None:
    """Print a progress line to stderr."""
    print(message, file=sys.stderr, flush=True)


def bench_run(spec: RunSpec, runs_dir: Path) -> dict[str, Any]:
    """Return the results of ``spec`` on ``SUITE``: its run in ``runs_dir``, made if missing.

    An interrupted run there is resumed.
    """
    out = runs_dir / spec.name
    if (out / RESULTS_NAME).is_file():
        return load_results(out / RESULTS_NAME)
    suite = get_suite(SUITE)
    realtime = spec.track == "realtime"
    config = RunConfig(
        suite=suite.name,
        suite_hash=suite.hash,
        track=spec.track,
        agent=resolve_spec(spec.agent),
        budget_ms=BUDGET_MS if realtime else None,
        clock="wall" if realtime else None,
        timeout_s=EPISODE_TIMEOUT_S,
    )
    log(f"benching {spec.agent} on {SUITE}, {spec.track}, {spec.episodes} episode(s) per task")
    return bench(
        config,
        agent_spec=spec.agent,
        episodes=spec.episodes,
        seeds=[0],
        out_dir=out,
        workers=WORKERS,
        resume=(out / "episodes.jsonl").is_file(),
    )


def upload_run(upload_mb: float) -> RunSpec:
    """Return the realtime run whose results file is about ``upload_mb`` MiB."""
    suite = get_suite(SUITE)
    per_task = upload_mb * 2**20 / REALTIME_EPISODE_BYTES / len(suite.train + suite.heldout)
    return RunSpec("random", "realtime", max(1, math.ceil(per_task)))


def rescored(results: dict[str, Any], reps: int) -> dict[str, Any]:
    """Return a copy of ``results`` scored with ``reps`` bootstrap replicates."""
    suite = get_suite(results["suite"]["name"])
    copied = copy.deepcopy(results)
    copied["scores"] = compute_scores(
        suite, copied["episodes"], load_reference(suite), budget_ms=copied["budget_ms"], reps=reps
    )
    return copied


def variant(results: dict[str, Any], index: int) -> dict[str, Any]:
    """Return a copy of ``results`` whose content is its own: ``wall_s`` is ``index``."""
    copied = copy.copy(results)
    copied["wall_s"] = float(index)
    return copied


def file_bytes(results: dict[str, Any]) -> bytes:
    """Return ``results`` as ``portia bench`` writes its results file."""
    return (json.dumps(results, indent=1, sort_keys=True, allow_nan=False) + "\n").encode()


def digest(results: dict[str, Any]) -> str:
    """Return the sha256 the database keys a stored results file by."""
    return hashlib.sha256(canonical_json(results).encode()).hexdigest()


def make_token(sessions: sessionmaker[Session], name: str) -> str:
    """Make a token named ``name``; return its value."""
    with sessions.begin() as session:
        return create_token(session, name, admin=False, at=utc_now())[1]


def seed_entries(
    sessions: sessionmaker[Session], bases: Sequence[dict[str, Any]], count: int
) -> None:
    """Store ``count`` entries: copies of ``bases`` in turn, tiers in ``TIER_CYCLE``'s turn.

    Each copy is validated as a submission is and summarized from its recomputed scores.
    Verified and self-reported entries belong to a token named ``seeder``; baselines to
    none.
    """
    make_token(sessions, "seeder")
    for first in range(0, count, SEED_BATCH):
        with sessions.begin() as session:
            seeder = session.scalars(select(Token).where(Token.name == "seeder")).one()
            for index in range(first, min(first + SEED_BATCH, count)):
                base, tier = bases[index % len(bases)], TIER_CYCLE[index % len(TIER_CYCLE)]
                _seed_one(session, variant(base, index), index, tier, seeder)
        log(f"seeded {min(first + SEED_BATCH, count)} of {count} entries")


def _seed_one(
    session: Session, results: dict[str, Any], index: int, tier: str, seeder: Token
) -> None:
    """Validate ``results`` and add it as entry number ``index`` of ``tier``."""
    metadata = EntryMetadata(
        method=f"{results['agent']['name']} {index}",
        description=f"Entry {index} of the leaderboard's load benchmark.",
        env_steps=1000 * index,
    )
    add_entry(
        session,
        results=results,
        summary=summarize(results, check_results(results)),
        metadata=metadata,
        tier=tier,
        token=None if tier == BASELINE else seeder,
        at=utc_now(),
    )


def portia_command() -> list[str]:
    """Return the ``portia`` command beside this Python (the virtualenv's console script)."""
    script = Path(sys.executable).with_name("portia")
    if not script.is_file():
        sys.exit(f"no portia command beside {sys.executable}: pip install -e '.[leaderboard]'")
    return [str(script)]


@contextlib.contextmanager
def served(
    data_dir: Path, *, daily_attempts: int, max_upload_bytes: int, log_path: Path
) -> Iterator[str]:
    """Serve ``data_dir``'s database on a free port of 127.0.0.1 in a process; yield its URL.

    The server runs ``portia leaderboard serve`` and writes its log to ``log_path``. It is
    stopped when the block ends, even on error: interrupted, then killed if it lingers.

    Raises:
        RuntimeError: If it does not announce its URL within ``SERVER_START_S``.
    """
    command = [
        *portia_command(),
        "leaderboard",
        "serve",
        *("--host", HOST, "--port", "0", "--data-dir", str(data_dir)),
        *("--daily-attempts", str(daily_attempts), "--max-upload-bytes", str(max_upload_bytes)),
    ]
    with log_path.open("w") as errors:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            yield _announced_url(process, log_path)
        finally:
            _stop(process)


def _announced_url(process: subprocess.Popen[str], log_path: Path) -> str:
    """Return the URL the server prints once it listens: scheme, host and port.

    Raises:
        RuntimeError: If it exits or says nothing within ``SERVER_START_S``.
    """
    assert process.stdout is not None
    deadline = time.monotonic() + SERVER_START_S
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while (left := deadline - time.monotonic()) > 0 and selector.select(left):
            line = process.stdout.readline()
            if not line:
                break
            found = re.search(r"http://[^/\s]+", line)
            if found:
                return found.group()
    raise RuntimeError(f"the server did not start (its log: {log_path})")


def _stop(process: subprocess.Popen[str]) -> None:
    """Interrupt the server as Ctrl-C does; kill it if it is still there after a while."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(SERVER_STOP_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()


def get(connection: http.client.HTTPConnection, path: str) -> str:
    """GET ``path`` on ``connection`` and read the whole answer.

    Returns:
        Its HTTP status, or the error's type when none came (the connection is then
        closed, and opened again by its next request).
    """
    try:
        connection.request("GET", path, headers=GET_HEADERS)
        answer = connection.getresponse()
        answer.read()
    except (OSError, http.client.HTTPException) as error:
        connection.close()
        return type(error).__name__
    return str(answer.status)


def connect(url: str) -> http.client.HTTPConnection:
    """Return a keep-alive connection to the server at ``url`` (opened at its first request)."""
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=REQUEST_TIMEOUT_S)


def probe(url: str, path: str) -> str:
    """Return the status of one GET of ``path`` (which also warms the server up)."""
    connection = connect(url)
    try:
        return get(connection, path)
    finally:
        connection.close()


def hammer(url: str, path: str, *, clients: int, seconds: float) -> Load:
    """Have ``clients`` clients GET ``path`` back to back for ``seconds``; return what they got.

    Each client is a thread with a keep-alive connection of the standard library's
    ``http.client``, which costs little CPU per answer, so that the clients leave the
    cores to the server; each sends its next request as soon as the previous is answered,
    until the time is up. Every request's latency is kept.
    """
    started = time.perf_counter()
    deadline = started + seconds
    with ThreadPoolExecutor(max_workers=clients) as pool:
        parts = list(pool.map(lambda _: _client(url, path, deadline), range(clients)))
    load = Load(path, seconds=time.perf_counter() - started)
    for latencies, statuses in parts:
        load.latencies_ms += latencies
        load.statuses += statuses
    return load


def _client(url: str, path: str, deadline: float) -> tuple[list[float], Counter[str]]:
    """GET ``path`` until ``deadline``; return each request's latency (ms) and the statuses."""
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    connection = connect(url)
    try:
        while time.perf_counter() < deadline:
            sent = time.perf_counter()
            statuses[get(connection, path)] += 1
            latencies.append(1e3 * (time.perf_counter() - sent))
    finally:
        connection.close()
    return latencies, statuses


async def upload_all(url: str, token: str, files: Sequence[tuple[str, bytes]]) -> list[Upload]:
    """Submit the results files ``files`` (``(digest, body)`` each) at once.

    Each upload has a connection of its own.

    Returns:
        Each upload's outcome, in order.
    """
    limits = httpx.Limits(max_connections=len(files))
    async with httpx.AsyncClient(
        base_url=url, limits=limits, timeout=REQUEST_TIMEOUT_S, trust_env=False
    ) as client:
        return list(
            await asyncio.gather(
                *(
                    _upload(client, token, name, body, index)
                    for index, (name, body) in enumerate(files)
                )
            )
        )


async def _upload(
    client: httpx.AsyncClient, token: str, name: str, body: bytes, index: int
) -> Upload:
    """Submit the results file ``body`` as ``portia submit`` does (multipart).

    Returns:
        Its outcome, ``name`` its digest.
    """
    sent = time.perf_counter()
    try:
        answer = await client.post(
            "/api/v1/entries",
            headers={"Authorization": f"Bearer {token}"},
            files={"results": ("results.json", body, "application/json")},
            data={"method": f"upload {index}"},
        )
        status = str(answer.status_code)
    except httpx.HTTPError as error:
        status = type(error).__name__
    return Upload(name, status, 1e3 * (time.perf_counter() - sent))


def stored_counts(sessions: sessionmaker[Session], digests: Sequence[str]) -> dict[str, int]:
    """Return how many entries hold each results file of ``digests`` (by sha256)."""
    query = (
        select(Entry.results_sha256, func.count())
        .where(Entry.results_sha256.in_(digests))
        .group_by(Entry.results_sha256)
    )
    with sessions() as session:
        found = {name: count for name, count in session.execute(query)}
    return {name: found.get(name, 0) for name in digests}


def count_entries(sessions: sessionmaker[Session]) -> int:
    """Return how many entries the database holds."""
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Entry)) or 0)


def upload_report(
    uploads: Sequence[Upload], stored: dict[str, int], seconds: float
) -> dict[str, Any]:
    """Return the uploads' numbers: statuses, latencies, and how many were stored once."""
    counts = [stored[upload.digest] for upload in uploads]
    return {
        "uploads": len(uploads),
        "seconds": seconds,
        "statuses": dict(Counter(upload.status for upload in uploads)),
        **percentiles([upload.latency_ms for upload in uploads]),
        "stored_once": counts.count(1),
        "lost": counts.count(0),
        "duplicated": sum(count > 1 for count in counts),
    }


def run_benchmark(config: Config) -> dict[str, Any]:
    """Run the benchmark of ``config``; return its report (also written to ``config.out``).

    Returns:
        ``config``, the machine, the entries stored, per target its numbers (or that it
        was skipped), the uploads' numbers, whether the p99 target was met and whether
        everything succeeded (``ok``).
    """
    config.out.mkdir(parents=True, exist_ok=True)
    runs_dir = config.out / "runs"
    bases = [rescored(bench_run(spec, runs_dir), SEED_REPS) for spec in config.seed_runs]
    big = bench_run(upload_run(config.upload_mb), runs_dir)
    # Numbered after the entries, so that no upload is a copy of a stored entry.
    numbers = range(config.entries, config.entries + config.uploads)
    files = [(digest(copied), file_bytes(copied)) for copied in (variant(big, n) for n in numbers)]
    upload_bytes = len(files[0][1])
    with tempfile.TemporaryDirectory(prefix="leaderboard-load-") as data:
        settings = Settings(data_dir=Path(data))
        engine = open_database(settings)
        try:
            sessions = session_factory(engine)
            seed_entries(sessions, bases, config.entries)
            token = make_token(sessions, "uploader")
            entries = count_entries(sessions)
            with served(
                settings.data_dir,
                daily_attempts=max(DEFAULT_DAILY_ATTEMPTS, config.uploads),
                max_upload_bytes=max(DEFAULT_MAX_UPLOAD_BYTES, 2 * upload_bytes),
                log_path=config.out / "server.log",
            ) as url:
                targets = load_targets(url, config)
                log(f"uploading {config.uploads} files of {upload_bytes / 2**20:.2f} MiB at once")
                started = time.perf_counter()
                uploads = asyncio.run(upload_all(url, token, files))
                seconds = time.perf_counter() - started
            stored = stored_counts(sessions, [upload.digest for upload in uploads])
        finally:
            engine.dispose()
    report = _report(
        config, entries, upload_bytes, targets, upload_report(uploads, stored, seconds)
    )
    (config.out / REPORT_NAME).write_text(json.dumps(report, indent=1) + "\n")
    return report


def load_targets(url: str, config: Config) -> list[dict[str, Any]]:
    """Load each target in turn; return its numbers, or that it was skipped (404)."""
    measured = []
    for path in config.targets:
        if probe(url, path) == "404":
            log(f"skipping {path}: the server answers 404 (it has no such page)")
            measured.append({"path": path, "skipped": "404"})
            continue
        log(f"loading {path} with {config.clients} clients for {config.seconds:g} s")
        load = hammer(url, path, clients=config.clients, seconds=config.seconds)
        measured.append(load.summary())
    return measured


def _report(
    config: Config,
    entries: int,
    upload_bytes: int,
    targets: list[dict[str, Any]],
    uploads: dict[str, Any],
) -> dict[str, Any]:
    """Return the report: the inputs, the numbers, and the verdicts on them."""
    loaded = [target for target in targets if "skipped" not in target]
    failed = sum(target["errors"] for target in loaded)
    stored_ok = uploads["stored_once"] == config.uploads
    all_created = uploads["statuses"] == {"201": config.uploads}
    return {
        "config": {
            **asdict(config),
            "out": str(config.out),
            "targets": list(config.targets),
            "seed_runs": [asdict(spec) for spec in config.seed_runs],
        },
        "machine": {**hardware(), "python": platform.python_version()},
        "entries_stored": entries,
        "upload_bytes": upload_bytes,
        "targets": targets,
        "uploads": uploads,
        "target_p99_ms": TARGET_P99_MS,
        "target_met": all(target["p99_ms"] <= TARGET_P99_MS for target in loaded),
        "ok": failed == 0 and stored_ok and all_created,
    }


def print_report(report: dict[str, Any]) -> None:
    """Print the report's table of the targets, the uploads' numbers and the verdicts."""
    loaded = [target for target in report["targets"] if "skipped" not in target]
    rows = [
        (
            target["path"],
            str(target["requests"]),
            str(target["errors"]),
            f"{target['requests_per_s']:.1f}",
            f"{target['p50_ms']:.1f}",
            f"{target['p99_ms']:.1f}",
        )
        for target in loaded
    ]
    config = report["config"]
    print(
        f"{report['entries_stored']} entries; {config['clients']} clients per target for "
        f"{config['seconds']:g} s"
    )
    print(text_table(("target", "requests", "errors", "req/s", "p50 ms", "p99 ms"), rows))
    for target in report["targets"]:
        if "skipped" in target:
            print(f"{target['path']}: skipped (404), the server has no such page")
    uploads = report["uploads"]
    print(
        f"\n{uploads['uploads']} concurrent uploads of {report['upload_bytes'] / 2**20:.2f} MiB: "
        f"{uploads['seconds']:.1f} s, p50 {uploads['p50_ms']:.0f} ms, p99 "
        f"{uploads['p99_ms']:.0f} ms; statuses {uploads['statuses']}; stored once "
        f"{uploads['stored_once']}, lost {uploads['lost']}, duplicated {uploads['duplicated']}"
    )
    met = "met" if report["target_met"] else "NOT met"
    print(f"\np99 <= {report['target_p99_ms']:g} ms on every target: {met}")
    print("every request and upload succeeded" if report["ok"] else "FAILURES: see above")


def parse_args(argv: Sequence[str] | None) -> tuple[Config, bool]:
    """Return the config of the command line and whether to fail on a missed target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1000, help="entries stored first")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients per target")
    parser.add_argument("--seconds", type=float, default=30.0, help="seconds per target")
    parser.add_argument("--uploads", type=int, default=20, help="concurrent uploads")
    parser.add_argument("--upload-mb", type=float, default=5.0, help="MiB per upload (about)")
    parser.add_argument("--out", type=Path, default=Path("runs/leaderboard-load"))
    parser.add_argument(
        "--target",
        action="append",
        dest="targets",
        help=f"a GET path to load (repeatable); default: {', '.join(TARGETS)}",
    )
    parser.add_argument(
        "--check-target",
        action="store_true",
        help=f"exit 1 if a p99 exceeds {TARGET_P99_MS:g} ms",
    )
    args = parser.parse_args(argv)
    config = Config(
        entries=args.entries,
        clients=args.clients,
        seconds=args.seconds,
        uploads=args.uploads,
        upload_mb=args.upload_mb,
        out=args.out,
        targets=tuple(args.targets or TARGETS),
    )
    return config, args.check_target


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark of the command line, print and write its report; return the status."""
    config, check_target = parse_args(argv)
    report = run_benchmark(config)
    print_report(report)
    print(f"report: {config.out / REPORT_NAME}")
    failed = not report["ok"] or (check_target and not report["target_met"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
