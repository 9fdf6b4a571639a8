"""The shapes of what the API reads and answers, for validation and the OpenAPI docs."""

from __future__ import annotations

import datetime
import unicodedata
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from leaderboard.models import NAME_LENGTH, TEXT_LENGTH, URL_LENGTH

# The largest count accepted for env steps and policy parameters (a typo beyond it).
MAX_COUNT = 10**15
# Line breaks and tabs are allowed in the free-text fields; no other control character is.
FREE_TEXT = ("description", "trained_on")


def plain_text(value: str, *, breaks: bool) -> str:
    """Return ``value`` if it holds no control character (bar line breaks and tabs if ``breaks``).

    PostgreSQL stores no NUL character; no name needs an escape or a bell.

    Raises:
        ValueError: Naming what is not accepted.
    """
    allowed = "\n\r\t" if breaks else ""
    if any(unicodedata.category(c) == "Cc" and c not in allowed for c in value):
        raise ValueError(
            "control characters are not accepted"
            + (" (line breaks and tabs are)" if breaks else "")
        )
    return value


class EntryMetadata(BaseModel):
    """What a submitter says about an entry, beside its results file.

    Text is stored and returned exactly as sent; it may not hold control characters
    (line breaks and tabs are allowed in ``description`` and ``trained_on``).
    """

    model_config = ConfigDict(extra="forbid")

    method: str = Field(
        min_length=1, max_length=NAME_LENGTH, description="The method's name, as ranked."
    )
    description: str = Field("", max_length=TEXT_LENGTH, description="What the method is.")
    url: str | None = Field(
        None,
        max_length=URL_LENGTH,
        description="A page about the method (paper, code): an http:// or https:// URL.",
    )
    license: str | None = Field(
        None, max_length=NAME_LENGTH, description="The license of the method's code or weights."
    )
    env_steps: int | None = Field(
        None, ge=0, le=MAX_COUNT, description="Environment steps used to train the method."
    )
    trained_on: str | None = Field(
        None, max_length=TEXT_LENGTH, description="What the method was trained on."
    )
    policy_params: int | None = Field(
        None, ge=0, le=MAX_COUNT, description="The policy's number of parameters, if known."
    )

    @field_validator("env_steps", "policy_params", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("a count is an integer, not true or false")
        return value

    @field_validator("method", "description", "url", "license", "trained_on")
    @classmethod
    def _plain_text(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        plain_text(value, breaks=info.field_name in FREE_TEXT)
        if info.field_name == "method" and not value.strip():
            raise ValueError("the method's name must not be blank")
        if info.field_name == "url" and not value.lower().startswith(("http://", "https://")):
            raise ValueError("the URL must start with http:// or https://")
        return value


class SubmissionBody(EntryMetadata):
    """A submission as one JSON object: the metadata and the results file's content."""

    results: dict[str, Any] = Field(description="The content of a results.json of portia bench.")


class ErrorOut(BaseModel):
    """A refusal: what was wrong and what is accepted."""

    error: str


class IntervalOut(BaseModel):
    """A value with its 95% confidence interval."""

    value: float
    low: float
    high: float


class SuiteOut(BaseModel):
    """A suite and how many entries it has."""

    name: str
    hash: str
    description: str
    train_tasks: int
    heldout_tasks: int
    entries: int = Field(description="Entries of the suite's current hash, not hidden, any tier.")
    leaderboard: str = Field(description="The URL of its leaderboard.")


class RowOut(BaseModel):
    """One entry on a board."""

    rank: int = Field(description="1 + entries whose success CI lies wholly above this one's.")
    entry_id: int
    tier: str = Field(description="verified, self-reported or baseline.")
    method: str
    flag: str | None = Field(description="An admin's reason for flagging the entry, if flagged.")
    heldout_success: IntervalOut
    train_success: IntervalOut
    heldout_iqm: IntervalOut = Field(description="IQM of the held-out normalized scores.")
    generalization_gap: IntervalOut
    latency_compliance: float | None = Field(description="Decisions within budget (realtime).")
    latency_p50_ms: float | None = Field(description="Median decision latency (realtime).")
    policy_params: int | None
    env_steps: int | None
    episodes: int
    entry: str = Field(description="The URL of the entry.")


class BoardOut(BaseModel):
    """The ranked entries of one track (and realtime budget)."""

    track: str
    budget_ms: float | None
    rows: list[RowOut]


class LeaderboardOut(BaseModel):
    """A suite's leaderboard: one board per track and budget."""

    suite: str
    suite_hash: str
    view: str = Field(description="verified (verified entries and baselines) or all.")
    tiers: list[str]
    ranking: str = Field(description="The ranking rule.")
    boards: list[BoardOut]


class FlagOut(BaseModel):
    """An admin's flag on an entry."""

    reason: str
    at: datetime.datetime


class EntryOut(BaseModel):
    """An entry: its metadata, its summary and its scores."""

    id: int
    tier: str
    method: str
    description: str
    url: str | None
    license: str | None
    env_steps: int | None
    trained_on: str | None
    policy_params: int | None
    submitted_by: str | None = Field(description="The token's name; null for a baseline.")
    created_at: datetime.datetime
    suite: str
    suite_hash: str
    track: str
    budget_ms: float | None
    agent_name: str
    agent_hash: str | None
    episodes: int
    heldout_success: IntervalOut
    train_success: IntervalOut
    heldout_iqm: IntervalOut
    generalization_gap: IntervalOut
    latency_compliance: float | None
    latency_p50_ms: float | None
    flag: FlagOut | None
    scores: dict[str, Any] = Field(description="The scores of the results file, as validated.")
    results: str = Field(description="The URL of the results file.")
    leaderboard: str = Field(description="The URL of the suite's leaderboard.")


class SubmittedOut(BaseModel):
    """A stored entry."""

    id: int
    tier: str
    url: str = Field(description="The URL of the entry.")


class ModerationIn(BaseModel):
    """An admin's reason for hiding or flagging an entry."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=TEXT_LENGTH)

    @field_validator("reason")
    @classmethod
    def _plain_text(cls, value: str) -> str:
        return plain_text(value, breaks=True)


class ModeratedOut(BaseModel):
    """An entry's moderation after a change."""

    id: int
    hidden: str | None = Field(description="Why it is hidden, if it is.")
    flag: str | None = Field(description="Why it is flagged, if it is.")


class AuditEventOut(BaseModel):
    """One row of the audit log."""

    id: int
    at: datetime.datetime
    actor: str
    action: str
    entry_id: int | None
    detail: dict[str, Any]


class QueuedOut(BaseModel):
    """A policy accepted and queued for evaluation on hidden seeds."""

    id: int = Field(description="The job's id.")
    state: str
    queue_position: int | None = Field(description="1: the next job a worker takes.")
    url: str = Field(description="The URL of the job's status.")


class TaskCheckOut(BaseModel):
    """One task of the public-seed check: the server's run beside the submitter's."""

    task_id: str
    split: str
    server_success: float
    server_return: float
    claimed_success: float | None = Field(description="null if the submitter sent no results.")
    claimed_return: float | None
    disagreeing: int = Field(description="Episodes of the task on which the two runs differ.")


class PublicCheckOut(BaseModel):
    """The server's run of the policy on public seeds (paused) against the submitter's own."""

    seeds: list[int]
    episodes: int
    claimed: bool = Field(description="Whether the submitter sent their own results.")
    agreeing: int = Field(description="Episodes on which both runs agree.")
    agrees: bool = Field(description="The submitter sent results and every episode agrees.")
    tasks: list[TaskCheckOut]


class JobOut(BaseModel):
    """A verified-tier job's status; its hidden seeds are never shown."""

    id: int
    state: str = Field(description="queued, running, finished or failed.")
    suite: str
    suite_hash: str
    policy_sha256: str
    seed_commitment: str = Field(description="sha256 of the hidden seeds.")
    queue_position: int | None
    attempts: int
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    heartbeat_age_s: float | None = Field(description="Seconds since the worker's heartbeat.")
    reason: str | None = Field(description="Why a failed job failed.")
    log_tail: str | None = Field(description="The end of the agent's errors, if it failed.")
    entries: list[str] = Field(description="The URLs of the verified entries it made.")
    public_check: PublicCheckOut | None = Field(
        description="The public-seed check, once the worker has run it."
    )
    page: str = Field(description="The URL of the job's web page.")
