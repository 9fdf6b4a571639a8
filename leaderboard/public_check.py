"""The public-seed check of a verified job: the server's run beside the submitter's own.

Besides the hidden seeds, a worker runs the policy on the paused track on public seeds:
the seeds and episode count of the results file the submitter uploaded with the policy
(``portia bench --agent policy.onnx`` on their machine), or ``PUBLIC_SEEDS`` if none came.
Anyone can reproduce that run; the check shows, task by task and episode by episode,
where it differs from what the submitter reported. The paused track is used because its
episodes do not depend on the machine's speed.

Two episodes agree when their success is the same and their returns differ by at most
``RETURN_TOLERANCE`` of the larger magnitude (at least 1): onnxruntime's kernels can
round differently on other CPUs, and contact dynamics carry a 1e-7 difference along.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from leaderboard.errors import RefusedEntryError
from leaderboard.models import Job
from leaderboard.submission import check_results

# The public seeds of a job that came without the submitter's results, and their episodes.
PUBLIC_SEEDS = (0,)
PUBLIC_EPISODES = 1
# The most episodes a public-seed run may have (the submitter's file decides how many).
MAX_PUBLIC_EPISODES = 200
RETURN_TOLERANCE = 0.01


@dataclass(frozen=True)
class TaskCheck:
    """One task of the public-seed check.

    Attributes:
        task_id: The task.
        split: ``train`` or ``heldout``.
        server_success: The server's success rate, 0 to 1.
        server_return: The server's mean return.
        claimed_success: The submitter's success rate, or None if they sent no results.
        claimed_return: The submitter's mean return, or None.
        disagreeing: Episodes of the task on which the two runs disagree.
    """

    task_id: str
    split: str
    server_success: float
    server_return: float
    claimed_success: float | None
    claimed_return: float | None
    disagreeing: int


@dataclass(frozen=True)
class PublicCheck:
    """The server's public-seed run compared with the submitter's.

    Attributes:
        seeds: The public seeds.
        episodes: Episodes the server ran.
        claimed: Whether the submitter sent their own results.
        agreeing: Episodes on which both runs agree (0 without the submitter's results).
        tasks: One row per task, in the server run's order.
    """

    seeds: list[int]
    episodes: int
    claimed: bool
    agreeing: int
    tasks: list[TaskCheck]

    @property
    def agrees(self) -> bool:
        """Return whether the submitter sent results and every episode agrees."""
        return self.claimed and self.agreeing == self.episodes


def episode_key(record: Mapping[str, Any]) -> tuple[str, int, int]:
    """Return what names an episode of a run: ``(task_id, seed, episode)``."""
    return record["task_id"], record["seed"], record["episode"]


def same_episode(server: Mapping[str, Any], claimed: Mapping[str, Any]) -> bool:
    """Return whether two records of one episode agree (success equal, return within tolerance)."""
    scale = max(1.0, abs(server["return"]), abs(claimed["return"]))
    close = abs(server["return"] - claimed["return"]) <= RETURN_TOLERANCE * scale
    return server["success"] == claimed["success"] and close


def compare(server: Mapping[str, Any], claimed: Mapping[str, Any] | None) -> PublicCheck:
    """Return the check of the server's public-seed results against the submitter's.

    Args:
        server: The server's results on the public seeds.
        claimed: The submitter's results, or None if they sent none.

    Returns:
        The check; an episode the submitter's file lacks counts as disagreeing.
    """
    theirs = {} if claimed is None else {episode_key(r): r for r in claimed["episodes"]}
    disagreeing: dict[str, int] = {}
    agreeing = 0
    for record in server["episodes"]:
        other = theirs.get(episode_key(record))
        if other is not None and same_episode(record, other):
            agreeing += 1
        elif claimed is not None:
            disagreeing[record["task_id"]] = disagreeing.get(record["task_id"], 0) + 1
    claimed_tasks = {} if claimed is None else claimed["scores"]["tasks"]
    tasks = [
        TaskCheck(
            task_id=task_id,
            split=row["split"],
            server_success=row["success_rate"],
            server_return=row["mean_return"],
            claimed_success=claimed_tasks.get(task_id, {}).get("success_rate"),
            claimed_return=claimed_tasks.get(task_id, {}).get("mean_return"),
            disagreeing=disagreeing.get(task_id, 0),
        )
        for task_id, row in server["scores"]["tasks"].items()
    ]
    return PublicCheck(
        seeds=list(server["run"]["seeds"]),
        episodes=len(server["episodes"]),
        claimed=claimed is not None,
        agreeing=agreeing,
        tasks=tasks,
    )


def public_run_of(claimed: Mapping[str, Any] | None) -> tuple[list[int], int]:
    """Return the seeds and episodes per seed of a job's public-seed run.

    Those of the submitter's results ``claimed``, or ``PUBLIC_SEEDS`` and
    ``PUBLIC_EPISODES`` if they sent none.
    """
    if claimed is None:
        return list(PUBLIC_SEEDS), PUBLIC_EPISODES
    return list(claimed["run"]["seeds"]), int(claimed["run"]["episodes"])


def public_check_of(job: Job) -> PublicCheck | None:
    """Return a job's public-seed check, or None until its worker has run the public seeds."""
    if job.public_results is None:
        return None
    claimed = None if job.claimed_results is None else json.loads(job.claimed_results)
    return compare(json.loads(job.public_results), claimed)


def check_claimed(
    results: Any, *, suite: str, suite_hash: str, policy_sha256: str
) -> dict[str, Any]:
    """Check the submitter's own public-seed results sent with a policy.

    The file must pass ``check_results`` (as a self-reported one does), be a paused run of
    the same suite at its current hash, name the uploaded policy (its agent hash is the
    policy file's sha256) and hold at most ``MAX_PUBLIC_EPISODES`` episodes.

    Returns:
        The results, as given.

    Raises:
        RefusedEntryError: Naming the first rule broken.
    """
    check_results(results)
    where = "public_results"
    if results["suite"]["name"] != suite or results["suite"]["hash"] != suite_hash:
        raise RefusedEntryError(
            f"{where}: it is a run of {results['suite']['name']} at hash "
            f"{results['suite']['hash'][:12]}, not of {suite} at {suite_hash[:12]}"
        )
    if results["track"] != "paused":
        raise RefusedEntryError(
            f"{where}: it is a {results['track']} run; the public-seed check compares paused "
            f"runs (portia bench --track paused), whose episodes do not depend on the machine"
        )
    if results["agent"]["hash"] != f"sha256:{policy_sha256}":
        raise RefusedEntryError(
            f"{where}: its agent hash is {results['agent']['hash']}, but the policy uploaded "
            f"is sha256:{policy_sha256}; send the results of this policy file"
        )
    if len(results["episodes"]) > MAX_PUBLIC_EPISODES:
        raise RefusedEntryError(
            f"{where}: it holds {len(results['episodes'])} episodes; the server re-runs at "
            f"most {MAX_PUBLIC_EPISODES}"
        )
    return results
