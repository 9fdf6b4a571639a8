"""``ordered_map``: a job list mapped over worker processes or Ray, results in job order.

The caller gives a picklable zero-argument factory (``functools.partial(SomeClass, config)``
or a frozen dataclass with ``__call__``) and the jobs. Each process that runs jobs calls the
factory once, on its first job, and reuses the callable it returns for every job it gets,
so envs and agents are built once per process. Results come back in the order of the jobs,
whichever finished first; given deterministic jobs they are the same, bit for bit, for any
number of workers and either backend (results cross processes pickled, on Ray too).

- ``local``, one worker: the jobs run in this process, one after another.
- ``local``, N workers: a ``spawn`` process pool of ``min(N, len(jobs))`` processes (a
  script that calls this does so under ``if __name__ == "__main__":``).
- ``ray``: each job is a Ray task of one CPU, at most N in flight. Each Ray worker process
  keeps what the factory built, keyed by the factory's pickled bytes, for later tasks and
  later calls (the ``MAX_BUILT_WORKERS`` most recently used). Without an address a Ray is
  started on 127.0.0.1 for the call (``start_ray``) and shut down after; with one, that
  cluster is joined. A process already connected to Ray stays connected.

A built callable's ``close()``, if it has one, is called when its process's work is done:
after the last job here, when a pool process exits, and on Ray when the callable is
evicted from its worker's cache; those still cached when Ray shuts down are not closed.

A job that raises ends the map: its exception is raised to the caller at that job's
position, after the results of the jobs before it (same type and message; Ray's wrapper is
removed, and kept as the cause). Jobs not yet started are cancelled, and the pool or the Ray
started here shut down; so they are when the caller stops early and closes the iterator
(``close()``; CPython closes one nobody refers to any more). A pool lets the jobs its
processes have already taken finish; Ray's are cancelled.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.util
import pickle
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from types import ModuleType
from typing import Any, TypeVar

from portia_envs.errors import InvalidParameterError
from portia_envs.harness.runner import BACKENDS

J = TypeVar("J")
R = TypeVar("R")

# How a Ray for one run starts here: on loopback only, without its dashboard or log relay.
LOCAL_RAY_OPTIONS = {
    "include_dashboard": False,
    "_node_ip_address": "127.0.0.1",
    "log_to_driver": False,
    "configure_logging": False,
}
# Built workers a Ray worker process keeps (one per factory): an iterative caller such as
# DAgger gives a new factory each round, and the oldest are closed rather than kept forever.
MAX_BUILT_WORKERS = 4
# This process's built workers, by their factory's pickled bytes, least recently used first.
_BUILT: OrderedDict[bytes, Callable[[Any], Any]] = OrderedDict()
# The factory of a pool process's worker (``_start_pool_process`` sets it).
_POOL_FACTORY: bytes | None = None


def check_map_options(workers: int, backend: str, address: str | None) -> None:
    """Check ``ordered_map``'s options, and that Ray is installed for the ray backend.

    Raises:
        InvalidParameterError: If ``workers`` is not an integer >= 1, the backend is not one
            of ``BACKENDS``, or an address is given to the local backend.
        ImportError: If the backend is ray and Ray is not installed.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidParameterError(f"workers must be >= 1, got {workers!r}")
    if backend not in BACKENDS:
        raise InvalidParameterError(f"unknown backend {backend!r}; accepted: {', '.join(BACKENDS)}")
    if address is not None and backend != "ray":
        raise InvalidParameterError(
            f"an address ({address!r}) names a Ray cluster, for the ray backend only; "
            f"got backend {backend!r}: pass backend='ray', or no address"
        )
    if backend == "ray":
        import_ray()


def ordered_map(
    make_worker: Callable[[], Callable[[J], R]],
    jobs: Sequence[J],
    *,
    workers: int = 1,
    backend: str = "local",
    address: str | None = None,
) -> Iterator[R]:
    """Yield ``make_worker()(job)`` for each job, in the order of ``jobs``.

    The options are checked when this is called; the work starts on the first ``next``.

    Args:
        make_worker: A zero-argument factory of the callable that runs one job; picklable,
            its module importable where the jobs run, unless they run in this process
            (local backend, one worker). Called once in each process that runs jobs.
        jobs: The jobs, each picklable unless they run in this process.
        workers: Jobs run at once (>= 1): processes of the local backend (1: this one),
            Ray tasks in flight.
        backend: ``"local"`` or ``"ray"``.
        address: The Ray cluster to join (``ray.init(address=...)``, such as
            ``"ray://host:10001"`` or ``"auto"``); None starts a local Ray for the call.

    Returns:
        An iterator of the results, one per job, in job order.

    Raises:
        InvalidParameterError: On bad options (see ``check_map_options``), or a factory
            that does not pickle where it must.
        ImportError: If the backend is ray and Ray is not installed.
        Exception: When iterated, what a job raised, at that job's position.
    """
    check_map_options(workers, backend, address)
    jobs = list(jobs)
    if not jobs:
        return iter(())
    if backend == "local" and workers == 1:
        return _map_here(make_worker, jobs)
    factory = _pickled_factory(make_worker)
    if backend == "local":
        return _map_in_pool(factory, jobs, min(workers, len(jobs)))
    return _map_on_ray(factory, jobs, min(workers, len(jobs)), address)


def import_ray() -> ModuleType:
    """Return the ``ray`` module.

    Raises:
        ImportError: If Ray is not installed, naming the extra that installs it.
    """
    try:
        import ray
    except ImportError as error:
        raise ImportError('the ray backend needs Ray: pip install "portia-envs[scale]"') from error
    return ray


def start_ray(workers: int, address: str | None) -> bool:
    """Connect this process to Ray, unless it is already; return whether this call did.

    Without an address a Ray instance of ``workers`` CPUs is started here, on 127.0.0.1
    and without its dashboard (``LOCAL_RAY_OPTIONS``); with one, that cluster is joined.
    The caller shuts down (``ray.shutdown()``) what this call connected, and only that.

    Args:
        workers: CPUs of a Ray started here (>= 1).
        address: The cluster to join, or None.

    Raises:
        ImportError: If Ray is not installed.
    """
    ray = import_ray()
    if ray.is_initialized():
        return False
    if address is None:
        ray.init(num_cpus=workers, **LOCAL_RAY_OPTIONS)
    else:
        ray.init(address=address, log_to_driver=False, configure_logging=False)
    return True


def _pickled_factory(make_worker: Callable[[], Any]) -> bytes:
    """Return ``make_worker`` pickled, for other processes to build from."""
    try:
        return pickle.dumps(make_worker)
    except (pickle.PicklingError, AttributeError, TypeError) as error:
        raise InvalidParameterError(
            f"make_worker must pickle to run in other processes (workers > 1 or the ray "
            f"backend): {error}; accepted: a module-level class or function, a "
            f"functools.partial of one, or an instance of a module-level class"
        ) from error


def _map_here(make_worker: Callable[[], Callable[[J], R]], jobs: list[J]) -> Iterator[R]:
    """Run the jobs in this process with one built worker, closing it after."""
    worker = make_worker()
    try:
        for job in jobs:
            yield worker(job)
    finally:
        _close(worker)


def _map_in_pool(factory: bytes, jobs: list[Any], processes: int) -> Iterator[Any]:
    """Run the jobs in a spawn pool of ``processes`` processes; yield results in job order."""
    pool = ProcessPoolExecutor(
        processes,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_pool_process,
        initargs=(factory,),
    )
    try:
        # Taken from the left as they are yielded, so no result is held after it is given.
        futures = deque(pool.submit(_run_in_pool, job) for job in jobs)
        while futures:
            yield futures.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _map_on_ray(
    factory: bytes, jobs: list[Any], workers: int, address: str | None
) -> Iterator[Any]:
    """Run the jobs as Ray tasks, at most ``workers`` in flight; yield results in job order.

    Tasks finished ahead of their turn wait in a buffer. Once a task fails, no later job
    is submitted: the jobs before it finish and are yielded, then its error is raised.
    """
    ray = import_ray()
    started_here = start_ray(workers, address)
    in_flight: dict[Any, int] = {}
    try:
        remote = ray.remote(num_cpus=1, max_retries=0)(_run_on_ray)
        factory_ref = ray.put(factory)
        finished: dict[int, tuple[bytes | None, BaseException | None]] = {}
        submitted, first_failed = 0, len(jobs)
        for index in range(len(jobs)):
            while index not in finished:
                while submitted < first_failed and len(in_flight) < workers:
                    in_flight[remote.remote(factory_ref, jobs[submitted])] = submitted
                    submitted += 1
                done, _ = ray.wait(list(in_flight), num_returns=1)
                for ref in done:
                    position = in_flight.pop(ref)
                    try:
                        finished[position] = (ray.get(ref), None)
                    except ray.exceptions.RayError as error:
                        finished[position] = (None, error)
                        first_failed = min(first_failed, position)
            result, error = finished.pop(index)
            if error is not None:
                raise _unwrapped(error) from error
            yield pickle.loads(result)
    finally:
        for ref in in_flight:
            ray.cancel(ref, force=True)
        if started_here:
            ray.shutdown()


def _unwrapped(error: BaseException) -> BaseException:
    """Return the exception a Ray task raised, if ``error`` carries it; else ``error``."""
    cause = getattr(error, "cause", None)
    return cause if isinstance(cause, Exception) else error


def _close(worker: Any) -> None:
    """Call ``worker.close()`` if it has one."""
    close = getattr(worker, "close", None)
    if callable(close):
        close()


def _built_worker(factory: bytes) -> Callable[[Any], Any]:
    """Return this process's worker built by ``factory``, building it on first use.

    Beyond ``MAX_BUILT_WORKERS`` workers, the least recently used is closed and dropped.
    """
    if factory in _BUILT:
        _BUILT.move_to_end(factory)
        return _BUILT[factory]
    worker = pickle.loads(factory)()
    _BUILT[factory] = worker
    while len(_BUILT) > MAX_BUILT_WORKERS:
        _close(_BUILT.popitem(last=False)[1])
    return worker


def _close_built() -> None:
    """Close and drop every worker this process built."""
    while _BUILT:
        _close(_BUILT.popitem(last=False)[1])


def _start_pool_process(factory: bytes) -> None:
    """Set up a pool process: its factory, and its workers closed when it exits."""
    global _POOL_FACTORY
    _POOL_FACTORY = factory
    # A pool process ends through multiprocessing, which runs its finalizers but not atexit.
    multiprocessing.util.Finalize(None, _close_built, exitpriority=10)


def _run_in_pool(job: Any) -> Any:
    """Run one job in a pool process with the process's worker."""
    assert _POOL_FACTORY is not None, "the process was not started by _start_pool_process"
    return _built_worker(_POOL_FACTORY)(job)


def _run_on_ray(factory: bytes, job: Any) -> bytes:
    """Run one job in a Ray worker process; return its result pickled.

    Pickled, the result comes back as a pool's does: its arrays are the caller's own,
    not read-only views of Ray's object store.
    """
    return pickle.dumps(_built_worker(factory)(job))
