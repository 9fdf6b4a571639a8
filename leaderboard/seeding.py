"""Seeding the leaderboard with the shipped baselines, run by the server's machine itself.

``seed_baselines`` benches each baseline on a suite with ``harness.runner.bench`` (agent
in its own process, as a submitter's run), checks the results as a submission is checked,
and stores them as ``baseline`` entries. A baseline stored already (same suite, suite
hash and method) is skipped, and a run whose results file is in the data directory is not
run again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from leaderboard.entries import add_entry
from leaderboard.models import BASELINE, Entry, utc_now
from leaderboard.schemas import EntryMetadata
from leaderboard.submission import check_results
from leaderboard.summary import summarize
from portia_envs.results import load_results
from portia_envs.suites import get_suite


@dataclass(frozen=True)
class Baseline:
    """A shipped agent to seed the leaderboard with.

    Attributes:
        spec: Its agent spec, as ``portia bench --agent`` takes it.
        method: The method's name on the leaderboard (unique among baselines).
        description: What it is.
        trained_on: What it was trained on, if it learned.
        student: The shipped BC student it is (``baselines.bc.STUDENTS``), whose parameter
            count is its policy size; None for a policy without parameters.
    """

    spec: str
    method: str
    description: str
    trained_on: str | None = None
    student: str | None = None


BASELINES = (
    Baseline(
        "random",
        "random",
        "Uniformly random actions: a normalized score of 0 is this agent's mean return.",
    ),
    Baseline(
        "scripted",
        "scripted expert",
        "The hand-written expert of each task family, acting on the simulator's state.",
    ),
    Baseline(
        "teacher",
        "planning teacher",
        "Plans each decision with time paused, imagining futures in a copy of the simulator: "
        "a normalized score of 100 is this agent's mean return.",
    ),
    Baseline(
        "baselines.bc:smoke_student",
        "BC student",
        "Behaviour cloning of the planning teacher: a small MLP shipped with Portia.",
        trained_on="the planning teacher's demonstrations of smoke-v0's train tasks",
        student="smoke_student",
    ),
)
SUITE = "smoke-v0"
EPISODES = 2
WORKERS = 2
# Seconds an episode of a baseline may take.
TIMEOUT_S = 600.0


@dataclass(frozen=True)
class Seeded:
    """What seeding did with one baseline.

    Attributes:
        baseline: The baseline.
        entry_id: Its entry.
        how: ``"stored"`` (run now), ``"cached"`` (its run was in the data directory) or
            ``"present"`` (on the leaderboard already, nothing done).
    """

    baseline: Baseline
    entry_id: int
    how: str


def seed_baselines(
    sessions: sessionmaker[Session],
    data_dir: Path,
    *,
    baselines: tuple[Baseline, ...] = BASELINES,
    suite: str = SUITE,
    episodes: int = EPISODES,
    workers: int = WORKERS,
    on_start: Callable[[Baseline], None] = lambda baseline: None,
) -> list[Seeded]:
    """Bench the baselines that are not on ``suite``'s leaderboard yet and store them.

    Args:
        sessions: The leaderboard's database.
        data_dir: Where runs go: ``data_dir/baselines/SUITE/METHOD/``.
        baselines: The baselines.
        suite: The suite to bench them on.
        episodes: Episodes per task.
        workers: Episodes run in parallel.
        on_start: Called before a baseline is benched.

    Returns:
        What was done with each baseline, in order.

    Raises:
        RefusedEntryError: If a run's results do not pass the checks of a submission.
        portia_envs.errors.PortiaError: If a run fails (the harness's errors).
    """
    from portia_envs.harness.runner import RESULTS_NAME

    stored = []
    for baseline in baselines:
        with sessions() as session:
            present = _stored(session, baseline, suite)
        if present is not None:
            stored.append(Seeded(baseline, present, "present"))
            continue
        run_dir = data_dir / "baselines" / suite / _slug(baseline.method)
        cached = (run_dir / RESULTS_NAME).is_file()
        if cached:
            results = load_results(run_dir / RESULTS_NAME)
        else:
            on_start(baseline)
            results = _bench(baseline, suite, episodes, workers, run_dir)
        scores = check_results(results)
        metadata = EntryMetadata(
            method=baseline.method,
            description=baseline.description,
            trained_on=baseline.trained_on,
            policy_params=None if baseline.student is None else _student_params(baseline.student),
        )
        with sessions.begin() as session:
            entry = add_entry(
                session,
                results=results,
                summary=summarize(results, scores),
                metadata=metadata,
                tier=BASELINE,
                token=None,
                at=utc_now(),
            )
        stored.append(Seeded(baseline, entry.id, "cached" if cached else "stored"))
    return stored


def _stored(session: Session, baseline: Baseline, suite: str) -> int | None:
    """Return the entry of ``baseline`` on ``suite`` at its current hash, if there is one."""
    query = select(Entry.id).where(
        Entry.tier == BASELINE,
        Entry.suite == suite,
        Entry.suite_hash == get_suite(suite).hash,
        Entry.method == baseline.method,
    )
    return session.scalar(query)


def _slug(method: str) -> str:
    """Return a directory name for a method's name: runs of other characters become ``-``."""
    return re.sub(r"[^A-Za-z0-9]+", "-", method).strip("-")


def _bench(
    baseline: Baseline, suite: str, episodes: int, workers: int, run_dir: Path
) -> dict[str, Any]:
    """Run ``baseline`` on every task of ``suite`` (paused track) into ``run_dir``.

    A run interrupted earlier in ``run_dir`` is resumed.
    """
    from portia_envs.harness.agents import resolve_spec
    from portia_envs.harness.episode import RunConfig
    from portia_envs.harness.runner import bench

    config = RunConfig(
        suite=suite,
        suite_hash=get_suite(suite).hash,
        track="paused",
        agent=resolve_spec(baseline.spec),
        budget_ms=None,
        clock=None,
        timeout_s=TIMEOUT_S,
    )
    return bench(
        config,
        agent_spec=baseline.spec,
        episodes=episodes,
        seeds=[0],
        out_dir=run_dir,
        workers=workers,
        resume=(run_dir / "episodes.jsonl").is_file(),
    )


def _student_params(name: str) -> int:
    """Return the parameter count of a shipped BC student (needs the baselines extra)."""
    from baselines.bc import BCPolicy, student_path

    return sum(p.numel() for p in BCPolicy.load(student_path(name)).network.parameters())
