"""Measure a suite's reference returns (random agent and planning teacher) and store them.

For every train and held-out task of the suite, both agents run the same seeded episodes
(seeds 0..N-1); the mean returns go into ``portia_envs/suites/reference/<suite>.json``
with the suite's hash, the configs, success rates, thinking time and the run time.

Usage: ``python scripts/reference_table.py --suite smoke-v0 --episodes 5``
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import gymnasium
import numpy as np

import portia_envs  # noqa: F401  (registers the ids)
from baselines.teacher import PlanningTeacher, arm_teacher_config
from portia_envs.suites import SPLITS, get_suite
from portia_envs.suites.reference import REFERENCE_DIR, ReferenceTable
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
    env: TimePause, teacher: PlanningTeacher, seed: int
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


def main() -> None:
    """Measure and store the reference table of one suite."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", required=True, help="suite name, e.g. smoke-v0")
    parser.add_argument("--episodes", type=int, default=5, help="episodes per task and agent")
    parser.add_argument("--out", type=Path, default=REFERENCE_DIR, help="directory to write to")
    args = parser.parse_args()

    suite = get_suite(args.suite)
    seeds = list(range(args.episodes))
    started = time.perf_counter()
    returns, success, think_s = {}, {}, {}
    for split in SPLITS:
        for spec in suite.tasks(split):
            kwargs = {"suite": suite.name, "split": split, "task": spec.task_id}
            plain = gymnasium.make("Portia/Arm-v0", **kwargs)
            random_runs = [random_episode(plain, seed) for seed in seeds]
            paused = TimePause(gymnasium.make("Portia/Arm-v0", **kwargs), nthread=2)
            teacher = PlanningTeacher(paused, arm_teacher_config(spec.family))
            teacher_runs = [teacher_episode(paused, teacher, seed) for seed in seeds]
            returns[spec.task_id] = {
                "random": float(np.mean([r for r, _ in random_runs])),
                "teacher": float(np.mean([r for r, _, _ in teacher_runs])),
            }
            success[spec.task_id] = {
                "random": float(np.mean([s for _, s in random_runs])),
                "teacher": float(np.mean([s for _, s, _ in teacher_runs])),
            }
            think_s[spec.task_id] = float(np.mean([t for _, _, t in teacher_runs]))
            print(
                f"{spec.task_id:22s} {split:8s} random {returns[spec.task_id]['random']:9.2f} "
                f"teacher {returns[spec.task_id]['teacher']:9.2f} "
                f"(success {success[spec.task_id]['teacher']:.0%}, "
                f"{think_s[spec.task_id]:.3f} s thinking per decision)",
                flush=True,
            )
    seconds = time.perf_counter() - started
    table = ReferenceTable(
        suite=suite.name,
        suite_hash=suite.hash,
        returns=returns,
        details={
            "episodes": args.episodes,
            "seeds": seeds,
            "random_agent": "uniform actions in [-1, 1] from numpy default_rng(seed)",
            "teacher_config": {
                family: dataclasses.asdict(arm_teacher_config(family))
                for family in sorted({spec.family for spec in suite.train + suite.heldout})
            },
            "success_rate": success,
            "teacher_think_s_per_decision": think_s,
            "run_seconds": round(seconds, 1),
        },
    )
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{suite.name}.json"
    path.write_text(table.to_json())
    print(f"wrote {path} in {seconds:.0f} s")


if __name__ == "__main__":
    main()
