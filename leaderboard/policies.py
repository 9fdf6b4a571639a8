"""Accepting an uploaded ONNX policy for the verified tier: check it, store it, queue a job.

The file is checked before anything is stored: ``read_policy`` (the file alone) and
``check_contract`` against the env an agent of the suite sees. An accepted file is kept
as ``DATA_DIR/policies/SHA256.onnx`` (never under a name the submitter chose) and a job
is queued, with the commitment to its hidden seeds.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from leaderboard import audit
from leaderboard.entries import canonical_json
from leaderboard.errors import NotFoundError, RefusedEntryError
from leaderboard.hidden_seeds import DEFAULT_SEEDS, commitment, derive_seeds
from leaderboard.jobs import TRACKS, queue_position
from leaderboard.models import QUEUED, Job, Token
from leaderboard.public_check import check_claimed
from leaderboard.submission import parse_metadata
from leaderboard.upload import PolicyUpload
from portia_envs.errors import UnknownSuiteError
from portia_envs.suites import get_suite

POLICY_DIR = "policies"
# The curated reasons of a refused policy file.
INVALID_MODEL, SHAPE_MISMATCH = "invalid model", "shape mismatch"


def policy_path(data_dir: Path, sha256: str) -> Path:
    """Return where the policy file of sha256 ``sha256`` is kept."""
    return data_dir / POLICY_DIR / f"{sha256}.onnx"


def check_policy_file(path: Path, suite: str) -> int:
    """Check an ONNX policy file against the contract of ``suite``'s agents.

    Returns:
        Its parameter count (``onnx_policy.parameter_count``).

    Raises:
        RefusedEntryError: ``invalid model: ...`` if the file is not a valid ONNX policy,
            ``shape mismatch: ...`` if its inputs, outputs or metadata do not fit the suite.
    """
    from portia_envs.harness.episode import suite_agent_env
    from portia_envs.harness.onnx_policy import (
        PolicyContractError,
        check_contract,
        parameter_count,
        read_policy,
        shared_layout_of,
    )

    try:
        model = read_policy(path)
    except PolicyContractError as error:
        raise RefusedEntryError(
            f"{INVALID_MODEL}: {str(error).replace(str(path), 'the policy file')}"
        ) from None
    env = suite_agent_env(suite)
    try:
        check_contract(
            model, env.observation_space, env.action_space, shared_layout_of(env), "the policy"
        )
    except PolicyContractError as error:
        raise RefusedEntryError(f"{SHAPE_MISMATCH}: {error}") from None
    finally:
        env.close()
    return parameter_count(model)


def accept_policy(
    sessions: sessionmaker[Session],
    token: Token,
    fields: Mapping[str, Any],
    upload: PolicyUpload,
    *,
    data_dir: Path,
    secret: bytes,
    at: datetime.datetime,
) -> tuple[int, int]:
    """Check an uploaded policy and its metadata, store the file and queue its job.

    The entries the job makes state the policy's parameter count as the file holds it,
    whatever the metadata says.

    Args:
        sessions: The leaderboard's database.
        token: The submitter.
        fields: The form fields: ``suite`` and the entry metadata.
        upload: The policy file, and the submitter's own public-seed results if sent
            (checked by ``public_check.check_claimed``).
        data_dir: Where policy files are kept.
        secret: The seed secret (``hidden_seeds.load_secret``).
        at: When, in UTC.

    Returns:
        ``(job id, queue position)``.

    Raises:
        RefusedEntryError: If the suite field is missing, or the metadata, the policy file
            or the public-seed results are refused.
    """
    given = dict(fields)
    suite_name = given.pop("suite", "")
    if not suite_name:
        raise RefusedEntryError("a policy upload needs the form field 'suite' (such as smoke-v0)")
    try:
        suite = get_suite(suite_name)
    except UnknownSuiteError as error:
        raise NotFoundError(str(error)) from None
    metadata = parse_metadata(given)
    sha256 = hashlib.sha256(upload.policy).hexdigest()
    target = policy_path(data_dir, sha256)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        path = Path(scratch) / "policy.onnx"
        path.write_bytes(upload.policy)
        params = check_policy_file(path, suite.name)
        claimed = None
        if upload.public_results is not None:
            claimed = check_claimed(
                upload.public_results, suite=suite.name, suite_hash=suite.hash, policy_sha256=sha256
            )
        os.replace(path, target)
    metadata = metadata.model_copy(update={"policy_params": params})
    seeds = {track: derive_seeds(secret, suite.hash, track, DEFAULT_SEEDS) for track in TRACKS}
    with sessions.begin() as session:
        job = Job(
            state=QUEUED,
            token_id=token.id,
            suite=suite.name,
            suite_hash=suite.hash,
            policy_sha256=sha256,
            entry_metadata=json.dumps(metadata.model_dump(), ensure_ascii=True),
            seed_commitment=commitment(seeds),
            claimed_results=None if claimed is None else canonical_json(claimed),
            attempts=0,
            created_at=at,
        )
        session.add(job)
        session.flush()
        audit.record(
            session,
            "policy.queued",
            at=at,
            token=session.get(Token, token.id),
            detail={"job": job.id, "suite": suite.name, "policy_sha256": sha256},
        )
        return job.id, queue_position(session, job)
