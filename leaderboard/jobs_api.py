"""The HTTP routes of the verified tier: upload a policy, follow its job."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Security
from sqlalchemy.orm import Session, sessionmaker

from leaderboard.api import DB, bearer, errors
from leaderboard.attempts import attempt
from leaderboard.hidden_seeds import load_secret
from leaderboard.jobs import find_job, heartbeat_age_s, queue_position
from leaderboard.models import Token, utc_now
from leaderboard.policies import accept_policy
from leaderboard.public_check import PublicCheck, public_check_of
from leaderboard.schemas import EntryMetadata, JobOut, PublicCheckOut, QueuedOut, TaskCheckOut
from leaderboard.settings import Settings
from leaderboard.upload import PolicyUpload, read_policy_upload

router = APIRouter()
JobId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The job's id.")]


@router.post(
    "/policies",
    status_code=202,
    dependencies=[Security(bearer)],
    responses=errors(400, 401, 404, 413, 415, 422, 429),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["policy", "suite", "method"],
                        "properties": {
                            "policy": {"type": "string", "format": "binary"},
                            "public_results": {
                                "type": "string",
                                "format": "binary",
                                "description": "Your own paused-track results of this policy "
                                "on public seeds, for the public-seed check.",
                            },
                            "suite": {"type": "string"},
                            **EntryMetadata.model_json_schema()["properties"],
                        },
                    }
                }
            },
        }
    },
)
async def upload_policy(request: Request) -> QueuedOut:
    """Upload an ONNX policy to be evaluated by the server on hidden seeds (verified tier).

    The file is checked against the suite's policy contract first; a file that breaks it
    is refused (422, "invalid model" or "shape mismatch") and nothing is stored. With the
    optional file ``public_results`` (your `portia bench` of this file on public seeds,
    paused track), the worker re-runs those seeds and the job shows any difference. Each
    attempt counts against the token's daily quota.
    """
    sessions: sessionmaker[Session] = request.app.state.sessions
    settings: Settings = request.app.state.settings

    def accept(token: Token, fields: dict[str, Any], upload: PolicyUpload) -> tuple[int, int]:
        return accept_policy(
            sessions,
            token,
            fields,
            upload,
            data_dir=settings.data_dir,
            secret=load_secret(settings.data_dir),
            at=utc_now(),
        )

    job_id, position = await attempt(request, read_policy_upload, accept)
    url = str(request.url_for("job", job_id=job_id))
    return QueuedOut(id=job_id, state="queued", queue_position=position, url=url)


@router.get("/jobs/{job_id}", name="job", responses=errors(404, 422))
def job_status(request: Request, session: DB, job_id: JobId) -> JobOut:
    """Show a job: its state, place in the queue, attempts, outcome and entries."""
    job = find_job(session, job_id)
    made = [job.paused_entry_id, job.realtime_entry_id]
    check = public_check_of(job)
    return JobOut(
        id=job.id,
        state=job.state,
        suite=job.suite,
        suite_hash=job.suite_hash,
        policy_sha256=job.policy_sha256,
        seed_commitment=job.seed_commitment,
        queue_position=queue_position(session, job),
        attempts=job.attempts,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        heartbeat_age_s=heartbeat_age_s(job, utc_now()),
        reason=job.reason,
        log_tail=job.log_tail,
        entries=[str(request.url_for("entry", entry_id=i)) for i in made if i is not None],
        public_check=None if check is None else public_check_out(check),
        page=str(request.url_for("job_page", job_id=job.id)),
    )


def public_check_out(check: PublicCheck) -> PublicCheckOut:
    """Return the API's form of a public-seed check."""
    return PublicCheckOut(
        seeds=check.seeds,
        episodes=check.episodes,
        claimed=check.claimed,
        agreeing=check.agreeing,
        agrees=check.agrees,
        tasks=[TaskCheckOut(**vars(task)) for task in check.tasks],
    )
