"""The job queue of the verified tier: position, claim, heartbeat, requeue, outcome.

Any number of workers share the queue. A claim is atomic: on PostgreSQL the oldest queued
job is locked with ``SELECT ... FOR UPDATE SKIP LOCKED``; on SQLite a conditional
``UPDATE ... WHERE state = 'queued'`` takes it only if no one else did (its rowcount says).
A running job whose heartbeat is older than ``STALE_S`` is put back in the queue by any
worker; after ``MAX_ATTEMPTS`` claims it fails instead.
"""

from __future__ import annotations

import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from leaderboard.errors import NotFoundError
from leaderboard.models import FAILED, FINISHED, QUEUED, RUNNING, Job

TRACKS = ("paused", "realtime")
# Seconds between a worker's heartbeats, and the age after which a running job's worker
# is taken for dead.
HEARTBEAT_S = 5.0
STALE_S = 60.0
# Claims of a job before it fails as "worker died N times".
MAX_ATTEMPTS = 3


def find_job(session: Session, job_id: int) -> Job:
    """Return the job of ``job_id``.

    Raises:
        NotFoundError: If there is none.
    """
    job = session.get(Job, job_id)
    if job is None:
        raise NotFoundError(f"there is no job {job_id}")
    return job


def heartbeat_age_s(job: Job, at: datetime.datetime) -> float | None:
    """Return the seconds from the job's last heartbeat to ``at``, or None if it had none."""
    return None if job.heartbeat_at is None else (at - job.heartbeat_at).total_seconds()


def queue_position(session: Session, job: Job) -> int | None:
    """Return a queued job's place in the queue (1: next), or None if it is not queued."""
    if job.state != QUEUED:
        return None
    ahead = select(func.count()).where(Job.state == QUEUED, Job.id < job.id)
    return int(session.scalar(ahead) or 0) + 1


def claim(session: Session, worker: str, at: datetime.datetime) -> Job | None:
    """Take the oldest queued job for ``worker`` and mark it running; commit.

    Returns:
        The job, or None if the queue is empty.
    """
    while True:
        query = select(Job.id).where(Job.state == QUEUED).order_by(Job.id).limit(1)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        job_id = session.scalar(query)
        if job_id is None:
            session.rollback()
            return None
        taken = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == QUEUED)
            .values(
                state=RUNNING,
                worker=worker,
                started_at=at,
                heartbeat_at=at,
                attempts=Job.attempts + 1,
            )
        )
        session.commit()
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            return session.get(Job, job_id)


def heartbeat(session: Session, job_id: int, worker: str, at: datetime.datetime) -> bool:
    """Record that ``worker`` still runs ``job_id``; commit.

    Returns:
        False if the job is no longer this worker's (requeued and claimed by another).
    """
    beat = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.worker == worker, Job.state == RUNNING)
        .values(heartbeat_at=at)
    )
    session.commit()
    return bool(beat.rowcount)  # type: ignore[attr-defined]


def requeue_stale(session: Session, at: datetime.datetime, stale_s: float = STALE_S) -> int:
    """Put back running jobs whose heartbeat is older than ``stale_s``; commit.

    A job claimed ``MAX_ATTEMPTS`` times fails instead, as "worker died N times".

    Returns:
        How many jobs were requeued or failed.
    """
    limit = at - datetime.timedelta(seconds=stale_s)
    stale = session.execute(
        select(Job.id, Job.attempts).where(Job.state == RUNNING, Job.heartbeat_at < limit)
    ).all()
    changed = 0
    for job_id, attempts in stale:
        if attempts >= MAX_ATTEMPTS:
            values = {"state": FAILED, "finished_at": at, "reason": f"worker died {attempts} times"}
        else:
            values = {"state": QUEUED, "worker": None, "heartbeat_at": None}
        done = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == RUNNING, Job.heartbeat_at < limit)
            .values(**values)
        )
        changed += done.rowcount  # type: ignore[attr-defined]
    session.commit()
    return changed


def finish(job: Job, paused_entry_id: int, realtime_entry_id: int, at: datetime.datetime) -> None:
    """Mark ``job`` finished with the verified entries it made (flushed, not committed)."""
    job.state = FINISHED
    job.finished_at = at
    job.paused_entry_id = paused_entry_id
    job.realtime_entry_id = realtime_entry_id


def fail(job: Job, reason: str, log_tail: str, at: datetime.datetime) -> None:
    """Mark ``job`` failed with its curated reason and the agent's log tail (not committed)."""
    job.state = FAILED
    job.finished_at = at
    job.reason = reason
    job.log_tail = log_tail
