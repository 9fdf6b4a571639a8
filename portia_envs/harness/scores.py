"""A run's scores, computed from its episode records and nothing else.

Each episode's return is normalized with the suite's reference table: 0 is the random
agent's mean return on that task, 100 the planning teacher's. A failed episode (its agent
raised, crashed, sent a NaN or misshapen action, or ran past the timeout) fails the task
and is scored as if every control period it did not play had earned the task's reward
floor (the suite's ``reward_floor``, the least any behaviour can earn in a period; for an
arm task ``ArmTask.reward_floor``): its return
is what it earned before failing plus ``floor x (time limit - periods played)``. So an
agent that fails on purpose never scores better than the same agent holding still from
then on, or doing anything else honest. Per
split, the episodes form a score matrix ``(n_runs, n_tasks)``, a run being one (seed,
episode) pair, on which ``metrics`` computes IQM, mean, median and optimality gap with
stratified-bootstrap confidence intervals. The episodes' successes form a 0/1 matrix of the
same shape, whose ``mean_score`` is the split's success rate.

Success rate is the headline number. A dense distance reward normalized to the teacher
saturates: an agent that hovers near the goal without ever reaching it can score 90 or
more, so a high normalized score does not say that the tasks were done; success does.
Two generalization gaps are scored: ``success_gap``, the train success rate minus the
held-out one, and ``generalization_gap``, the train IQM minus the held-out IQM.

Every bootstrap draws from one generator seeded by ``seed``, in a fixed order (the tasks'
intervals, the splits' aggregates, the IQM gap, then the success gap, the newest last), so
the same records always give the same scores, and a number that existed before a later one
was added keeps its value.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gymnasium
import numpy as np
from numpy.typing import NDArray

from portia_envs.errors import RecordsError
from portia_envs.harness import metrics
from portia_envs.suites import SPLITS, AnySuite
from portia_envs.suites.reference import ReferenceTable

BOOTSTRAP_REPS = 2000
CONFIDENCE = 0.95
BOOTSTRAP_SEED = 0
# The split aggregates and the statistic each is.
AGGREGATES: dict[str, Callable[[NDArray[np.float64]], float]] = {
    "iqm": metrics.iqm,
    "mean": metrics.mean_score,
    "median": metrics.median_score,
    "optimality_gap": metrics.optimality_gap,
}


def scored_return(record: Mapping[str, Any], suite: AnySuite) -> float:
    """Return the return an episode is scored by: its own, or a failed one's (see the module)."""
    if record["status"] == "ok":
        return float(record["return"])
    family = suite.task(record["task_id"]).family
    remaining = max(0, episode_limit(suite.env_id) - int(record["periods"]))
    return float(record["return"]) + remaining * suite.reward_floor(family)


@functools.cache
def episode_limit(env_id: str) -> int:
    """Return the control periods an episode in the suite env ``env_id`` may last."""
    return int(gymnasium.spec(env_id).max_episode_steps)


def normalized_score(record: Mapping[str, Any], suite: AnySuite, table: ReferenceTable) -> float:
    """Return an episode's normalized return, of its ``scored_return``."""
    return table.normalized(record["task_id"], scored_return(record, suite))


def compute_scores(
    suite: AnySuite,
    records: Sequence[Mapping[str, Any]],
    table: ReferenceTable,
    *,
    budget_ms: float | None = None,
    reps: int = BOOTSTRAP_REPS,
    confidence: float = CONFIDENCE,
    seed: int = BOOTSTRAP_SEED,
) -> dict[str, Any]:
    """Return the scores of a complete run (the ``scores`` part of a results file).

    Args:
        suite: The suite the records come from.
        records: Every episode record of the run, in any order.
        table: The suite's reference table.
        budget_ms: The latency budget of a realtime run; None for the paused track.
        reps: Bootstrap replicates per interval.
        confidence: Confidence level of the intervals.
        seed: Seed of the bootstrap generator.

    Returns:
        ``bootstrap`` (its settings), ``tasks`` (per task: split, family, episodes,
        failed, success rate, mean scored return, normalized score with CI), ``splits`` (per split
        the aggregates and the success rate with CIs), ``generalization_gap`` (train IQM minus
        held-out IQM, with CI), ``success_gap`` (train success rate minus held-out success
        rate, a fraction from -1 to 1, with CI) and ``latency`` (None when paused).

    Raises:
        RecordsError: If the records do not cover every task of the suite with the same
            (seed, episode) runs.
    """
    rng = np.random.default_rng(seed)
    # Every interval draws from the one generator, in this fixed order.
    estimate = functools.partial(metrics.interval, rng=rng, reps=reps, confidence=confidence)
    runs = _runs(suite, records)
    tasks: dict[str, Any] = {}
    splits: dict[str, Any] = {}
    normalized: dict[str, NDArray[np.float64]] = {}
    succeeded: dict[str, NDArray[np.float64]] = {}
    for split in SPLITS:
        specs = suite.tasks(split)
        columns = [runs[spec.task_id] for spec in specs]
        scores = np.array([[normalized_score(r, suite, table) for r in col] for col in columns]).T
        successes = np.array([[float(r["success"]) for r in col] for col in columns]).T
        for index, spec in enumerate(specs):
            column = columns[index]
            tasks[spec.task_id] = {
                "split": split,
                "family": spec.family,
                "episodes": len(column),
                "failed": sum(r["status"] != "ok" for r in column),
                "success_rate": float(successes[:, index].mean()),
                "mean_return": float(np.mean([scored_return(r, suite) for r in column])),
                "normalized": estimate(scores[:, [index]], metrics.mean_score),
            }
        splits[split] = {
            **{name: estimate(scores, statistic) for name, statistic in AGGREGATES.items()},
            "success_rate": estimate(successes, metrics.mean_score),
        }
        normalized[split] = scores
        succeeded[split] = successes
    gap = metrics.generalization_gap(
        normalized["train"], normalized["heldout"], rng=rng, reps=reps, confidence=confidence
    )
    # Drawn last, so every interval above is what it was before the success gap existed.
    success_gap = metrics.generalization_gap(
        succeeded["train"],
        succeeded["heldout"],
        rng=rng,
        statistic=metrics.mean_score,
        reps=reps,
        confidence=confidence,
    )
    return {
        "bootstrap": {"reps": reps, "confidence": confidence, "seed": seed},
        "tasks": tasks,
        "splits": splits,
        "generalization_gap": gap,
        "success_gap": success_gap,
        "latency": None if budget_ms is None else latency_compliance(records, budget_ms),
    }


def latency_compliance(records: Sequence[Mapping[str, Any]], budget_ms: float) -> dict[str, Any]:
    """Return the share of decisions within ``budget_ms`` and the latency distribution.

    Decisions of every completed episode count; ``within_budget`` is decisions minus those
    the latency wrapper reported as over budget (``overran``).
    """
    latencies = np.array(
        [value for r in records if r["status"] == "ok" for value in r["latencies_ms"] or []]
    )
    decisions = int(latencies.size)
    over = sum(r["overran"] or 0 for r in records if r["status"] == "ok")
    summary: dict[str, Any] = {
        "budget_ms": budget_ms,
        "decisions": decisions,
        "within_budget": decisions - over,
        "compliance": None,
        "mean_ms": None,
        "p50_ms": None,
        "p95_ms": None,
        "max_ms": None,
    }
    if decisions:
        summary.update(
            compliance=(decisions - over) / decisions,
            mean_ms=float(latencies.mean()),
            p50_ms=float(np.percentile(latencies, 50)),
            p95_ms=float(np.percentile(latencies, 95)),
            max_ms=float(latencies.max()),
        )
    return summary


def _runs(suite: AnySuite, records: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping]]:
    """Return each task's records sorted by (seed, episode), checking the runs align.

    Raises:
        RecordsError: If a task has no records, a record's task is not in the suite, or the
            tasks do not all have the same (seed, episode) runs.
    """
    by_task: dict[str, list[Mapping]] = {t.task_id: [] for t in suite.train + suite.heldout}
    for record in records:
        if record["task_id"] not in by_task:
            raise RecordsError(f"a record is of task {record['task_id']!r}, not in {suite.name}")
        by_task[record["task_id"]].append(record)
    expected = None
    for task_id, task_records in by_task.items():
        task_records.sort(key=lambda r: (r["seed"], r["episode"]))
        keys = [(r["seed"], r["episode"]) for r in task_records]
        if not keys:
            raise RecordsError(
                f"no episode of task {task_id!r} is recorded: the run is not complete"
            )
        if expected is None:
            expected = keys
        elif keys != expected:
            raise RecordsError(
                f"task {task_id!r} has runs (seed, episode) {keys}, but others have {expected}: "
                f"scores need the same runs on every task"
            )
    return by_task
