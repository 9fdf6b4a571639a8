"""The local backend: episodes in worker processes, each stopped if it outruns its timeout.

Every worker is a fresh Python process (``spawn``) that dies with the process that started
it (a parent-death signal). With the agent in its own process (the default), the worker
itself enforces each episode's timeout and survives the agent's crashes; a worker that
dies or hangs anyway was stopped by something else (``kill -9``, the OOM killer), so its
episode is recorded as ``"infrastructure"`` and run again on ``--resume``. With the agent
in-process, the agent's crash or hang is its worker's: the episode is recorded as an
``"error"`` or ``"timeout"`` of the agent. Either way a new worker takes the old one's
place and the run goes on.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from portia_envs.errors import InfrastructureError, InvalidParameterError
from portia_envs.harness.agent_process import set_parent_death_signal
from portia_envs.harness.episode import EpisodeJob, EpisodeRunner, RunConfig

# Seconds a worker has to stop after being told to, before it is killed.
_JOIN_S = 5.0
# Seconds past an episode's timeout before a worker that enforces timeouts itself (agent in
# its own process) is taken for hung and killed.
WORKER_GRACE_S = 30.0


@dataclass
class _Worker:
    """A worker process, its end of the pipe, and the job it is running (if any)."""

    process: Any
    conn: Connection
    ready: bool = False
    job: EpisodeJob | None = None
    deadline: float = 0.0


def run_local(config: RunConfig, jobs: Iterable[EpisodeJob], workers: int) -> Iterator[dict]:
    """Run ``jobs`` on ``workers`` processes and yield each record as it finishes.

    Records come in the order episodes finish; jobs are drawn from ``jobs`` only as
    workers free up, so a long run's episodes are never all in memory. A worker that dies or
    outruns its deadline mid-episode is killed and replaced, and the episode recorded as
    the module docstring says. Closing the generator (or an exception, Ctrl-C included)
    stops every worker.

    Args:
        config: The run.
        jobs: The episodes to run (any iterable, consumed lazily).
        workers: Worker processes (>= 1).

    Yields:
        Episode records.
    """
    if workers < 1:
        raise InvalidParameterError(f"workers must be >= 1, got {workers}")
    pending = _Lookahead(iter(jobs))
    context = multiprocessing.get_context("spawn")
    pool = [_start(context, config) for _ in range(workers) if pending]
    isolated = config.isolation == "process"
    deadline_s = config.timeout_s + (WORKER_GRACE_S if isolated else 0.0)
    try:
        while pending or any(worker.job is not None for worker in pool):
            busy = [worker.deadline for worker in pool if worker.job is not None]
            timeout = max(0.0, min(busy) - time.monotonic()) if busy else None
            ready = wait([worker.conn for worker in pool], timeout=timeout)
            finished = []
            for index, worker in enumerate(pool):
                if worker.conn in ready:
                    record = _receive(worker, isolated)
                    if record is None:
                        worker.ready = True
                        continue
                    if not worker.process.is_alive():
                        pool[index] = _start(context, config)
                    finished.append(record)
                elif worker.job is not None and time.monotonic() >= worker.deadline:
                    job = worker.job
                    _kill(worker)
                    pool[index] = _start(context, config)
                    if isolated:
                        finished.append(
                            job.failed(
                                "infrastructure",
                                f"the worker was still busy {WORKER_GRACE_S:g} s past the "
                                f"episode's timeout and was stopped",
                            )
                        )
                    else:
                        finished.append(
                            job.failed(
                                "timeout",
                                f"the episode ran past its timeout of {config.timeout_s:g} s "
                                f"and its worker was stopped",
                            )
                        )
            # Hand out work before handing back records: storing one must not idle a worker.
            for worker in pool:
                if worker.ready and worker.job is None and pending:
                    worker.job = pending.pop()
                    worker.deadline = time.monotonic() + deadline_s
                    worker.conn.send(worker.job)
            yield from finished
    finally:
        for worker in pool:
            _stop(worker)


def _start(context: Any, config: RunConfig) -> _Worker:
    """Start a worker process for ``config``."""
    parent, child = context.Pipe()
    process = context.Process(target=_work, args=(config, child, os.getpid()), daemon=True)
    process.start()
    child.close()
    return _Worker(process, parent)


class _Lookahead:
    """An iterator that can say whether it has more, without listing what it holds."""

    def __init__(self, items: Iterator[EpisodeJob]) -> None:
        self._items = items
        self._next: deque[EpisodeJob] = deque(maxlen=1)

    def __bool__(self) -> bool:
        if not self._next:
            for item in self._items:
                self._next.append(item)
                break
        return bool(self._next)

    def pop(self) -> EpisodeJob:
        """Return the next item (call only when the iterator is true)."""
        return self._next.popleft() if self._next else next(self._items)


def _receive(worker: _Worker, isolated: bool) -> dict | None:
    """Read a worker's message: None for "ready", else the record of the job it ran.

    A worker whose pipe closed mid-job died: its job's record says so, as an
    infrastructure failure when the agent ran elsewhere (``isolated``).
    """
    try:
        message = worker.conn.recv()
    except (EOFError, OSError):
        worker.process.join(_JOIN_S)
        worker.conn.close()
        job, worker.job = worker.job, None
        worker.ready = False
        if job is None:
            raise InfrastructureError(
                f"a worker process exited (code {worker.process.exitcode}) before running "
                f"anything: check that the agent and suite load in a fresh process"
            ) from None
        return job.failed(
            "infrastructure" if isolated else "error",
            f"the worker process died during the episode (exit code {worker.process.exitcode})",
        )
    if message == "ready":
        return None
    worker.job = None
    return message


def _kill(worker: _Worker) -> None:
    """Kill a worker at once (it outran its timeout) and release its pipe."""
    worker.process.kill()
    worker.process.join(_JOIN_S)
    worker.conn.close()


def _stop(worker: _Worker) -> None:
    """Ask a worker to finish, then kill it if it does not."""
    if worker.process.is_alive():
        try:
            worker.conn.send(None)
        except (BrokenPipeError, OSError):
            pass
        worker.process.join(_JOIN_S if worker.job is None else 0)
    if worker.process.is_alive():
        worker.process.kill()
        worker.process.join(_JOIN_S)
    worker.conn.close()


def _work(config: RunConfig, conn: Connection, parent: int) -> None:
    """A worker's main loop: say ready, then run each job sent until told to stop (None).

    The worker dies with ``parent``, the process that started it.
    """
    set_parent_death_signal()
    if os.getppid() != parent:  # the parent died before the signal was asked for
        return
    runner = EpisodeRunner(config)
    conn.send("ready")
    try:
        while (job := conn.recv()) is not None:
            conn.send(runner.run(job))
    except (EOFError, KeyboardInterrupt):
        pass  # the parent went away or is stopping the run
    finally:
        runner.close()
