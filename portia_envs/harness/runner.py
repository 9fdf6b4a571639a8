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

from portia_envs.errors import (
    AgentPreflightError,
    InfrastructureError,
    InvalidParameterError,
    RecordsError,
)
from portia_envs.harness.agent_process import AgentFailure
from portia_envs.harness.agents import agent_hash, describe_agent
from portia_envs.harness.episode import EpisodeJob, EpisodeRunner, RunConfig
from portia_envs.harness.records import RecordStore, lock_run_directory
from portia_envs.harness.scores import compute_scores
from portia_envs.results import (
    MAX_EPISODE_RECORDS,
    MAX_EPISODES,
    MAX_SEEDS,
    SCHEMA_VERSION,
    build_results,
    write_results,
)
from portia_envs.suites import SPLITS, AnySuite, get_suite
from portia_envs.suites.reference import load_reference

BACKENDS = ("local", "ray")
RESULTS_NAME = "results.json"
# Bounds on a run's size, checked before anything is written: those of the results file it
# will write, which lists every seed and holds every episode.
MAX_EPISODES_PER_SEED = MAX_EPISODES
MAX_RUN_EPISODES = MAX_EPISODE_RECORDS
MAX_WORKERS = 1024
# The episode index of the preflight's one step: an episode of the run's first task and
# seed that no run plays, so the preflight never looks ahead at a scored episode.
PREFLIGHT_EPISODE = 2**31 - 1


def iter_jobs(suite: AnySuite, episodes: int, seeds: Sequence[int]) -> Iterator[EpisodeJob]:
    """Yield every episode of a run, train tasks first, in suite order, seeds, episodes.

    A generator: a run of a million episodes never holds them all.
    """
    for split in SPLITS:
        for spec in suite.tasks(split):
            for seed in seeds:
                for episode in range(episodes):
                    yield EpisodeJob(spec.task_id, split, spec.family, seed, episode)


def count_jobs(suite: AnySuite, episodes: int, seeds: Sequence[int]) -> int:
    """Return how many episodes ``iter_jobs`` yields."""
    return len(suite.train + suite.heldout) * len(seeds) * episodes


def check_run_size(suite: AnySuite, episodes: int, seeds: Sequence[int], workers: int) -> None:
    """Check a run's size against the bounds above (before anything is written).

    Raises:
        ValueError: Naming the value and what is accepted.
    """
    if not isinstance(episodes, int) or not 1 <= episodes <= MAX_EPISODES_PER_SEED:
        raise InvalidParameterError(
            f"episodes must be an integer from 1 to {MAX_EPISODES_PER_SEED:,}, got {episodes!r}"
        )
    if not seeds or len(set(seeds)) != len(seeds) or len(seeds) > MAX_SEEDS:
        raise InvalidParameterError(
            f"seeds must be distinct, at least one and at most {MAX_SEEDS:,}; got {len(seeds)}"
        )
    if not all(isinstance(seed, int) and 0 <= seed < 2**63 for seed in seeds):
        raise InvalidParameterError("seeds must be integers from 0 to 2**63 - 1")
    total = count_jobs(suite, episodes, seeds)
    if total > MAX_RUN_EPISODES:
        raise InvalidParameterError(
            f"the run would have {total:,} episodes ({len(suite.train + suite.heldout)} tasks x "
            f"{len(seeds)} seeds x {episodes} episodes); at most {MAX_RUN_EPISODES:,} are "
            f"accepted: split it into several runs"
        )
    if not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise InvalidParameterError(
            f"workers must be an integer from 1 to {MAX_WORKERS}, got {workers!r}"
        )


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
        "isolation": config.isolation,
        "agent_memory_mb": config.agent_memory_mb,
        "agent_cpu_s": config.agent_cpu_s,
        "agent_threads": config.agent_threads,
        "episodes": episodes,
        "seeds": list(seeds),
    }


def preflight(config: RunConfig, job: EpisodeJob, agent_spec: str) -> dict[str, Any]:
    """Build the agent as a worker would and have it act once; return its identity.

    In its own process (the default) the agent is started here, says hello and plays one
    step of ``job`` (not recorded); this process never imports it.

    Returns:
        The results file's ``agent``: spec, name, version and content hash.

    Raises:
        AgentPreflightError: With the agent's own error, if it cannot act.
    """
    runner = EpisodeRunner(config)
    try:
        hello = runner.preflight(job)
    except AgentFailure as failure:
        raise AgentPreflightError(
            f"the agent {agent_spec!r} cannot act (preflight on {job.task_id}, one step): "
            f"{failure.reason}"
        ) from None
    finally:
        runner.close()
    if config.isolation == "in-process":
        return describe_agent(agent_spec)
    identity = hello.get("agent") or {}
    return {
        "spec": agent_spec,
        "name": str(identity.get("name") or "agent"),
        "version": None if identity.get("version") is None else str(identity["version"]),
        "hash": agent_hash(agent_spec),
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

    Before anything is written: the run's size is checked, and a preflight builds the
    agent and has it act once. ``out_dir`` is locked for the run. Failed episodes of the
    agent are recorded and scored (``harness.scores``); episodes lost to infrastructure
    failures stop the run before scoring, to be run again with ``resume``.

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
        ValueError: If the run's size or backend is out of bounds.
        RecordsError: If ``out_dir`` holds a run and ``resume`` is False, or holds another
            run, or is in use by another run, or its records are corrupt (nothing is
            overwritten).
        AgentPreflightError: If the agent cannot act.
        InfrastructureError: If episodes were lost to infrastructure failures (their
            records say which; ``resume`` runs them again).
        portia_envs.suites.reference.StaleReferenceError: If the suite has no valid
            reference table to normalize with.
    """
    from portia_envs.harness.parallel import check_map_options  # it imports this module

    check_map_options(workers, backend, address)
    suite = get_suite(config.suite)
    check_run_size(suite, episodes, seeds, workers)
    table = load_reference(suite)
    header = run_header(config, episodes, seeds)
    first = next(iter_jobs(suite, episodes, seeds))
    trial = EpisodeJob(first.task_id, first.split, first.family, first.seed, PREFLIGHT_EPISODE)
    agent = preflight(config, trial, agent_spec)
    with lock_run_directory(out_dir):
        store = (RecordStore.resume if resume else RecordStore.create)(out_dir, header)
        return _run(
            config,
            store,
            table,
            agent,
            episodes,
            seeds,
            workers,
            backend,
            address,
            on_start,
            on_record,
        )


def _run(
    config: RunConfig,
    store: RecordStore,
    table: Any,
    agent: dict[str, Any],
    episodes: int,
    seeds: Sequence[int],
    workers: int,
    backend: str,
    address: str | None,
    on_start: Callable[[int, int], None] | None,
    on_record: Callable[[dict[str, Any]], None] | None,
) -> dict[str, Any]:
    """Run the episodes ``store`` lacks, then score and write the results."""
    suite = get_suite(config.suite)
    tasks = {spec.task_id for spec in suite.train + suite.heldout}
    done = {(r["task_id"], r["seed"], r["episode"]) for r in store.records}
    seed_set = set(seeds)
    stray = [key for key in done if key[0] not in tasks or key[1] not in seed_set]
    stray += [key for key in done if not 0 <= key[2] < episodes]
    if stray:
        raise RecordsError(f"{store.path} holds episodes {sorted(stray)[:3]} not in this run")
    remaining = (job for job in iter_jobs(suite, episodes, seeds) if job.key not in done)
    if on_start is not None:
        on_start(count_jobs(suite, episodes, seeds), len(done))
    started = time.perf_counter()
    try:
        for record in _backend_records(config, remaining, workers, backend, address):
            store.append(record)
            if on_record is not None:
                on_record(record)
    finally:
        store.close()
    lost = store.infrastructure_failures
    if lost:
        raise InfrastructureError(
            f"{len(lost)} episode(s) were lost to infrastructure failures, not the agent's "
            f"(e.g. {lost[0]['task_id']} seed {lost[0]['seed']} episode {lost[0]['episode']}: "
            f"{lost[0]['error'].splitlines()[0]}); they are recorded in {store.path}. Run the "
            f"same command with --resume to run them again"
        )
    scores = compute_scores(
        suite,
        store.records,
        table,
        budget_ms=config.budget_ms if config.track == "realtime" else None,
    )
    results = build_results(
        store.header,
        store.records,
        scores,
        agent=agent,
        isolation=config.isolation,
        workers=workers,
        backend=backend,
        wall_s=time.perf_counter() - started,
    )
    write_results(results, store.path.parent / RESULTS_NAME)
    return results


def _backend_records(
    config: RunConfig,
    jobs: Iterator[EpisodeJob],
    workers: int,
    backend: str,
    address: str | None,
) -> Iterator[dict[str, Any]]:
    """Yield the records of ``jobs`` as the chosen backend finishes them."""
    if backend == "ray":
        from portia_envs.harness.ray_backend import run_ray

        return run_ray(config, jobs, workers, address)
    from portia_envs.harness.local import run_local

    return run_local(config, jobs, workers)
