"""``bench``: run an agent over every train and held-out task of a suite, and score it.

The run's episodes are every suite task x run seed x episode index. They are run by a
backend (``local`` worker processes, or ``ray``), each record appended to
``DIR/episodes.jsonl`` as it arrives; once all are in, the scores are computed from the
records alone and ``DIR/results.json`` is written. ``resume=True`` goes on with a run in
``DIR`` that was interrupted, running only the episodes not yet recorded: the results are
the same as an uninterrupted run's.

Local workers are started with ``spawn``, which imports the calling script afresh in each:
a script that calls ``bench`` does so under ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from portia_envs.errors import RecordsError
from portia_envs.harness.agents import describe_agent, load_factory
from portia_envs.harness.episode import EpisodeJob, RunConfig
from portia_envs.harness.records import RecordStore
from portia_envs.harness.scores import compute_scores
from portia_envs.results import SCHEMA_VERSION, build_results, write_results
from portia_envs.suites import SPLITS, Suite, get_suite
from portia_envs.suites.reference import load_reference

BACKENDS = ("local", "ray")
RESULTS_NAME = "results.json"


def plan_jobs(suite: Suite, episodes: int, seeds: Sequence[int]) -> list[EpisodeJob]:
    """Return every episode of a run, train tasks first, in suite order, seeds, episodes."""
    return [
        EpisodeJob(spec.task_id, split, spec.family, seed, episode)
        for split in SPLITS
        for spec in suite.tasks(split)
        for seed in seeds
        for episode in range(episodes)
    ]


def run_header(config: RunConfig, episodes: int, seeds: Sequence[int]) -> dict[str, Any]:
    """Return the records file's header: what must be the same to resume the run."""
    return {
        "schema_version": SCHEMA_VERSION,
        "suite": config.suite,
        "suite_hash": config.suite_hash,
        "track": config.track,
        "budget_ms": config.budget_ms,
        "clock": config.clock,
        "agent": config.agent,
        "timeout_s": config.timeout_s,
        "episodes": episodes,
        "seeds": list(seeds),
    }


def bench(
    config: RunConfig,
    *,
    agent_spec: str,
    episodes: int,
    seeds: Sequence[int],
    out_dir: Path,
    workers: int = 1,
    backend: str = "local",
    address: str | None = None,
    resume: bool = False,
    on_start: Callable[[int, int], None] | None = None,
    on_record: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run and score a benchmark; see the module docstring.

    Args:
        config: The run (its ``agent`` is the resolved spec workers load).
        agent_spec: The agent spec as the user gave it, for the results file.
        episodes: Episodes per task and seed (>= 1).
        seeds: The run seeds (distinct).
        out_dir: Where ``episodes.jsonl`` and ``results.json`` go.
        workers: Parallel workers (>= 1).
        backend: ``"local"`` or ``"ray"``.
        address: The Ray cluster to join (``ray`` backend); None starts a local one.
        resume: Go on with the interrupted run in ``out_dir``.
        on_start: Called once with (episodes in the run, episodes already recorded).
        on_record: Called with each new record as it is stored.

    Returns:
        The results (as written to ``out_dir/results.json``).

    Raises:
        RecordsError: If ``out_dir`` holds a run and ``resume`` is False, or holds another
            run, or its records are corrupt (nothing is overwritten).
        portia_envs.errors.AgentSpecError: If the agent cannot be loaded.
        portia_envs.suites.reference.StaleReferenceError: If the suite has no valid
            reference table to normalize with.
    """
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct and at least one, got {list(seeds)}")
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; accepted: {', '.join(BACKENDS)}")
    suite = get_suite(config.suite)
    table = load_reference(suite)
    load_factory(config.agent)  # fail here, not in every worker
    header = run_header(config, episodes, seeds)
    store = (RecordStore.resume if resume else RecordStore.create)(out_dir, header)
    jobs = plan_jobs(suite, episodes, seeds)
    planned = {job.key for job in jobs}
    done = {(r["task_id"], r["seed"], r["episode"]) for r in store.records}
    if not done <= planned:
        raise RecordsError(
            f"{store.path} holds episodes {sorted(done - planned)[:3]} not in this run"
        )
    remaining = [job for job in jobs if job.key not in done]
    if on_start is not None:
        on_start(len(jobs), len(done))
    started = time.perf_counter()
    try:
        for record in _backend_records(config, remaining, workers, backend, address):
            store.append(record)
            if on_record is not None:
                on_record(record)
    finally:
        store.close()
    scores = compute_scores(
        suite,
        store.records,
        table,
        budget_ms=config.budget_ms if config.track == "realtime" else None,
    )
    results = build_results(
        header,
        store.records,
        scores,
        agent=describe_agent(agent_spec),
        workers=workers,
        backend=backend,
        wall_s=time.perf_counter() - started,
    )
    write_results(results, out_dir / RESULTS_NAME)
    return results


def _backend_records(
    config: RunConfig,
    jobs: list[EpisodeJob],
    workers: int,
    backend: str,
    address: str | None,
) -> Iterator[dict[str, Any]]:
    """Yield the records of ``jobs`` as the chosen backend finishes them."""
    if not jobs:
        return iter(())
    if backend == "ray":
        from portia_envs.harness.ray_backend import run_ray

        return run_ray(config, jobs, workers, address)
    from portia_envs.harness.local import run_local

    return run_local(config, jobs, workers)
