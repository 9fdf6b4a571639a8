"""The Ray backend: episodes as Ray tasks on a cluster (``pip install "portia-envs[scale]"``).

Each episode is one Ray task of one CPU; each Ray worker process keeps an
``EpisodeRunner`` per run, so envs and agents are built once per process and task, as in
the local backend. At most ``workers`` episodes are in flight. An episode past its
timeout is cancelled (its worker process killed) and a task whose worker dies is recorded
as the local backend records them: with the agent in its own process, the worker enforces
the episode's timeout itself, so the worker's death or a task still running past the
timeout and a grace is the machinery's (``"infrastructure"``, run again on resume);
in-process, the agent's (``"error"``, ``"timeout"``). Records are those of the local
backend, whatever machine ran them. Jobs are drawn from the iterable only as slots free up.

Without an address, a Ray instance is started on this machine for the run, on
127.0.0.1 and without its dashboard, and shut down after (``parallel.start_ray``, which
``portia collect``'s Ray backend starts its Ray with too).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

from portia_envs.errors import InvalidParameterError
from portia_envs.harness.episode import EpisodeJob, EpisodeRunner, RunConfig
from portia_envs.harness.local import WORKER_GRACE_S
from portia_envs.harness.parallel import import_ray, start_ray

# This process's runners, one per run (a Ray worker process runs many tasks).
_RUNNERS: dict[RunConfig, EpisodeRunner] = {}


def _run_episode(config: RunConfig, job: EpisodeJob) -> dict[str, Any]:
    """Run one episode in a Ray worker, reusing the process's runner for ``config``."""
    if config not in _RUNNERS:
        _RUNNERS[config] = EpisodeRunner(config)
    return _RUNNERS[config].run(job)


def run_ray(
    config: RunConfig, jobs: Iterable[EpisodeJob], workers: int, address: str | None
) -> Iterator[dict[str, Any]]:
    """Run ``jobs`` as Ray tasks, at most ``workers`` at a time; yield records as they finish.

    Args:
        config: The run.
        jobs: The episodes to run.
        workers: Episodes in flight at once (>= 1).
        address: The cluster to connect to (``ray.init(address=...)``, such as
            ``"ray://host:10001"`` or ``"auto"``); None starts a local instance.

    Yields:
        Episode records, in the order they finish.

    Raises:
        ImportError: If Ray is not installed (the ``scale`` extra).
    """
    ray = import_ray()
    if workers < 1:
        raise InvalidParameterError(f"workers must be >= 1, got {workers}")
    started_here = start_ray(workers, address)
    remote = ray.remote(num_cpus=1, max_retries=0)(_run_episode)
    pending = iter(jobs)
    isolated = config.isolation == "process"
    deadline_s = config.timeout_s + (WORKER_GRACE_S if isolated else 0.0)
    in_flight: dict[Any, tuple[EpisodeJob, float]] = {}
    exhausted = False
    try:
        while not exhausted or in_flight:
            while not exhausted and len(in_flight) < workers:
                job = next(pending, None)
                if job is None:
                    exhausted = True
                    break
                in_flight[remote.remote(config, job)] = (job, time.monotonic() + deadline_s)
            if not in_flight:
                break
            earliest = min(deadline for _, deadline in in_flight.values())
            done, _ = ray.wait(
                list(in_flight), num_returns=1, timeout=max(0.0, earliest - time.monotonic())
            )
            for ref in done:
                job, _ = in_flight.pop(ref)
                try:
                    yield ray.get(ref)
                except ray.exceptions.RayError as error:
                    yield job.failed(
                        "infrastructure" if isolated else "error",
                        f"the Ray task failed: {type(error).__name__}: {error}",
                    )
            now = time.monotonic()
            for ref, (job, deadline) in list(in_flight.items()):
                if now >= deadline:
                    ray.cancel(ref, force=True)
                    del in_flight[ref]
                    yield job.failed(
                        "infrastructure" if isolated else "timeout",
                        f"the episode ran past its timeout of {deadline_s:g} s and its "
                        f"Ray task was cancelled",
                    )
    finally:
        for ref in in_flight:
            ray.cancel(ref, force=True)
        if started_here:
            ray.shutdown()
