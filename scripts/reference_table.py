"""Measure a suite's reference returns (random agent and planning teacher) and store them.

For every train and held-out task of the suite, both agents run the same seeded episodes
(seeds 0..N-1); the mean returns go into ``portia_envs/suites/reference/<suite>.json``
with the suite's hash, the configs, success rates, thinking time and the run time. The
teacher of an arm suite is ``baselines.teacher.PlanningTeacher``; of a Detour suite, Detour's
planner as ``portia bench`` runs it (``ImaginingPlanner``, the built-in agent ``planner``).

Usage: ``python scripts/reference_table.py --suite smoke-v0 --episodes 5`` (``--suite
detour-v0 --episodes 200`` made Detour's table); add
``--tasks pick-place-low stack`` to measure only those tasks again and update the stored
table (as after a change to one family's teacher config).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np

import portia_envs  # noqa: F401  (registers the ids)
from baselines.teacher import PlanningTeacher, arm_teacher_config, teacher_config_key
from portia_envs.detour.planner import ImaginingPlanner
from portia_envs.harness.agents import CORE_AGENTS
from portia_envs.suites import SPLITS, AnySuite, DetourSuite, DetourTask, TaskSpec, get_suite
from portia_envs.suites.reference import (
    REFERENCE_DIR,
    ReferenceTable,
    StaleReferenceError,
    load_reference,
)
from wrappers.time_pause import TimePause


def random_episode(env: gymnasium.Env, seed: int) -> tuple[float, bool]:
    """Run one episode of uniform random actions (seeded by ``seed``); return (return, success)."""
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    total, done, info = 0.0, False, {}
    while not done:
        _, reward, terminated, truncated, info = env.step(
            rng.uniform(-1, 1, env.action_space.shape)
        )
        total += float(reward)
        done = terminated or truncated
    return total, bool(info["is_success"])


def teacher_episode(
    env: TimePause, teacher: PlanningTeacher | ImaginingPlanner, seed: int
) -> tuple[float, bool, float]:
    """Run one teacher episode; return (return, success, mean thinking seconds per decision)."""
    teacher.reset()
    observation, _ = env.reset(seed=seed)
    total, done, info, think = 0.0, False, {}, []
    while not done:
        observation, reward, terminated, truncated, info = env.step(teacher.act(observation))
        total += float(reward)
        think.append(info["think_s"])
        done = terminated or truncated
    return total, bool(info["is_success"]), float(np.mean(think))


def make_teacher(
    suite: AnySuite, paused: TimePause, spec: TaskSpec | DetourTask
) -> PlanningTeacher | ImaginingPlanner:
    """Return the suite's teacher acting in ``paused``: Detour's planner, or the arm's."""
    if isinstance(suite, DetourSuite):
        return ImaginingPlanner(paused)
    return PlanningTeacher(paused, arm_teacher_config(spec.family, spec.embodiment))


def measure_task(
    suite: AnySuite, split: str, spec: TaskSpec | DetourTask, seeds: list[int]
) -> dict[str, Any]:
    """Run the random agent and the teacher on one task's seeded episodes and print a line.

    Returns:
        The task's mean ``returns`` and ``success`` per agent, and the teacher's mean
        thinking seconds per decision (``think_s``).
    """
    kwargs = suite.env_kwargs(spec.task_id, split)
    plain = gymnasium.make(suite.env_id, **kwargs)
    random_runs = [random_episode(plain, seed) for seed in seeds]
    paused = TimePause(gymnasium.make(suite.env_id, **kwargs), nthread=2)
    teacher = make_teacher(suite, paused, spec)
    teacher_runs = [teacher_episode(paused, teacher, seed) for seed in seeds]
    measured = {
        "returns": {
            "random": float(np.mean([r for r, _ in random_runs])),
            "teacher": float(np.mean([r for r, _, _ in teacher_runs])),
        },
        "success": {
            "random": float(np.mean([s for _, s in random_runs])),
            "teacher": float(np.mean([s for _, s, _ in teacher_runs])),
        },
        "think_s": float(np.mean([t for _, _, t in teacher_runs])),
    }
    print(
        f"{spec.task_id:22s} {split:8s} random {measured['returns']['random']:9.2f} "
        f"teacher {measured['returns']['teacher']:9.2f} "
        f"(success {measured['success']['teacher']:.0%}, "
        f"{measured['think_s']:.3f} s thinking per decision)",
        flush=True,
    )
    return measured


def tasks_to_measure(
    suite: AnySuite, names: list[str] | None, stored: ReferenceTable | None, episodes: int
) -> list[tuple[str, TaskSpec]]:
    """Return the (split, task) pairs to measure: all of them, or the ones named.

    Measuring only some tasks updates the stored table, so the rest must stay valid: the
    stored table must exist for the current suite hash with the same episodes, and every
    family (of a body) whose teacher config changed since must have all its tasks measured
    again.

    Raises:
        SystemExit: With the reason, if the named tasks cannot update the stored table.
    """
    pairs = [(split, spec) for split in SPLITS for spec in suite.tasks(split)]
    if names is None:
        return pairs
    known = {spec.task_id for _, spec in pairs}
    unknown = sorted(set(names) - known)
    if unknown:
        raise SystemExit(f"{suite.name} has no task {unknown}; its tasks: {sorted(known)}")
    if stored is None:
        raise SystemExit(f"--tasks updates a stored table, and {suite.name} has none valid")
    if stored.details["episodes"] != episodes:
        raise SystemExit(
            f"the stored table has {stored.details['episodes']} episodes per task; "
            f"update it with --episodes {stored.details['episodes']} or remeasure every task"
        )
    for split, spec in pairs:
        key = config_key(suite, spec.family, spec.embodiment)
        current = suite_teacher_config(suite, spec.family, spec.embodiment)
        if spec.task_id not in names and stored_config(stored, key) != current:
            raise SystemExit(
                f"the teacher config of {key} changed since the table was made: "
                f"measure all its tasks again (task {spec.task_id} of {split} is missing)"
            )
    return [(split, spec) for split, spec in pairs if spec.task_id in names]


def teacher_config(family: str, body: str = "arm") -> dict[str, Any]:
    """Return the teacher config of a family and body as the table stores it (JSON types)."""
    return json.loads(json.dumps(dataclasses.asdict(arm_teacher_config(family, body))))


def suite_teacher_config(suite: AnySuite, family: str, body: str) -> dict[str, Any]:
    """Return the config of ``suite``'s teacher for a family and body, as the table stores it.

    Detour's planner has no settings: its config is the agent it is.
    """
    if isinstance(suite, DetourSuite):
        return {"agent": CORE_AGENTS["planner"]}
    return teacher_config(family, body)


def config_key(suite: AnySuite, family: str, body: str) -> str:
    """Return the name a table stores a teacher config under: ``family``, or ``body/family``."""
    return family if isinstance(suite, DetourSuite) else teacher_config_key(family, body)


def stored_config(table: ReferenceTable, key: str) -> dict[str, Any] | None:
    """Return the teacher config a stored table records under ``key``, if any."""
    return table.details.get("teacher_config", {}).get(key)


def main() -> None:
    """Measure a suite's reference table, or some of its tasks, and store it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", required=True, help="suite name, e.g. smoke-v0")
    parser.add_argument("--episodes", type=int, default=5, help="episodes per task and agent")
    parser.add_argument("--out", type=Path, default=REFERENCE_DIR, help="directory to write to")
    parser.add_argument(
        "--tasks",
        nargs="+",
        help="measure only these tasks and update the stored table (default: every task)",
    )
    args = parser.parse_args()

    suite = get_suite(args.suite)
    seeds = list(range(args.episodes))
    try:
        stored = load_reference(suite, args.out)
    except StaleReferenceError:
        stored = None
    pairs = tasks_to_measure(suite, args.tasks, stored, args.episodes)
    started = time.perf_counter()
    measured = {spec.task_id: measure_task(suite, split, spec, seeds) for split, spec in pairs}
    seconds = time.perf_counter() - started
    details: dict[str, Any] = {
        "episodes": args.episodes,
        "seeds": seeds,
        "random_agent": "uniform actions in [-1, 1] from numpy default_rng(seed)",
        "success_rate": {},
        "teacher_think_s_per_decision": {},
        "teacher_config": {},
        "run_seconds": round(seconds, 1),
    }
    returns: dict[str, dict[str, float]] = {}
    if stored is not None and args.tasks is not None:  # an update (tasks_to_measure checked)
        details |= stored.details
        returns |= stored.returns
        details["updates"] = [
            *stored.details.get("updates", []),
            {"tasks": sorted(measured), "run_seconds": round(seconds, 1)},
        ]
    for task_id, result in measured.items():
        returns[task_id] = result["returns"]
        details["success_rate"][task_id] = result["success"]
        details["teacher_think_s_per_decision"][task_id] = result["think_s"]
    for family, body in sorted({(spec.family, spec.embodiment) for _, spec in pairs}):
        details["teacher_config"][config_key(suite, family, body)] = suite_teacher_config(
            suite, family, body
        )
    table = ReferenceTable(suite.name, suite.hash, returns, details)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{suite.name}.json"
    path.write_text(table.to_json())
    print(f"wrote {path}: {len(measured)} tasks measured in {seconds:.0f} s")


if __name__ == "__main__":
    main()
