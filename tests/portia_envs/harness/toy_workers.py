"""Small picklable workers for ``ordered_map``'s tests, importable by spawned and Ray processes.

A ``Job`` is a number: the worker notes that it ran it (a file in its log directory),
waits as the job says, and returns the number squared with what built it; a negative
number raises ``ToyError``.
"""

import os
import time
from dataclasses import dataclass
from pathlib import Path

# How long a job waits at most for the job it runs after, seconds.
WAIT_LIMIT_S = 60.0
# Workers built in this process so far.
_builds = 0


class ToyError(RuntimeError):
    """What a toy job with a negative number raises."""


@dataclass(frozen=True)
class Job:
    """A number to square, after ``sleep_s`` seconds or once the job ``after`` has started."""

    number: int
    sleep_s: float = 0.0
    after: int | None = None


# The first job finishes only once the last has started: in a pool, later jobs finish first.
UNEVEN_JOBS = [Job(0, after=7)] + [Job(number) for number in range(1, 8)]
# The third job raises while the second is still running.
FAILING_JOBS = [Job(1), Job(2, sleep_s=0.3), Job(-3), Job(4), Job(5)]


class Squarer:
    """Squares numbers; records each job run and its own close as files in ``log_dir``."""

    def __init__(self, log_dir: str) -> None:
        global _builds
        _builds += 1
        self.build = _builds  # which of this process's builds this worker is
        self.log_dir = Path(log_dir)

    def __call__(self, job: Job) -> tuple[int, int, int]:
        """Return (number squared, this process's id, this worker's build number)."""
        (self.log_dir / f"ran-{job.number}").touch()
        time.sleep(job.sleep_s)
        if job.after is not None:
            deadline = time.monotonic() + WAIT_LIMIT_S
            while not (self.log_dir / f"ran-{job.after}").exists():
                if time.monotonic() > deadline:
                    raise ToyError(f"job {job.after} did not start within {WAIT_LIMIT_S} s")
                time.sleep(0.01)
        if job.number < 0:
            raise ToyError(f"job {job.number} is negative")
        return job.number**2, os.getpid(), self.build

    def close(self) -> None:
        """Note that this worker was closed: a file ``closed-<pid>-<build>``."""
        (self.log_dir / f"closed-{os.getpid()}-{self.build}").touch()


def closed(log_dir: Path) -> set[tuple[int, int]]:
    """Return the (process id, build) of every Squarer closed that logged to ``log_dir``."""
    names = (path.name.split("-")[1:] for path in log_dir.glob("closed-*"))
    return {(int(pid), int(build)) for pid, build in names}


def ran(log_dir: Path) -> set[int]:
    """Return the numbers of the jobs that Squarers logging to ``log_dir`` started."""
    return {int(path.name.removeprefix("ran-")) for path in log_dir.glob("ran-*")}


def never_built() -> None:
    """A factory that must not be called."""
    raise AssertionError("the factory was called")
