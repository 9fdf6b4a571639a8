"""What thinking costs when the world does not wait: the planning teacher, paused and real time.

Paused, the teacher (``arm_teacher_config(family)``) plans with time frozen
(``TimePause``) and every decision is free. In real time, the same teacher runs under
``LatencyBudget`` with a wall clock, so its measured thinking time is its latency: the
previous action keeps acting while it plans, and a slow decision spans several control
periods. The table shows how much of its score it keeps.

Usage: ``python scripts/latency_demo.py --episodes 10 --budget-ms 20 --out docs/latency.md``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import gymnasium
import numpy as np

import portia_envs  # noqa: F401  (registers the ids)
from baselines.teacher import PlanningTeacher, arm_teacher_config
from portia_envs.registration import FAMILY_ENV_IDS
from wrappers.clocks import WallClock
from wrappers.latency_budget import LatencyBudget
from wrappers.time_pause import TimePause


def run(family: str, episodes: int, first_seed: int, budget_s: float | None) -> dict[str, float]:
    """Run the teacher for ``episodes`` seeded episodes, paused (no budget) or in real time.

    Returns:
        Success rate, mean return, decisions per episode, mean latency per decision (s),
        mean control periods per decision and the share of decisions over budget.
    """
    paused = TimePause(gymnasium.make(FAMILY_ENV_IDS[family]), nthread=2)
    env = (
        paused if budget_s is None else LatencyBudget(paused, budget_s=budget_s, clock=WallClock())
    )
    teacher = PlanningTeacher(paused, arm_teacher_config(family))
    successes, returns, decisions, latencies, periods, overruns = [], [], [], [], [], []
    for seed in range(first_seed, first_seed + episodes):
        teacher.reset()
        observation, info = env.reset(seed=seed)
        done, total, count = False, 0.0, 0
        while not done:
            observation, reward, terminated, truncated, info = env.step(teacher.act(observation))
            done = terminated or truncated
            total += float(reward)
            count += 1
            latencies.append(info.get("latency_s", info["think_s"]))
            periods.append(info.get("periods_elapsed", 1))
            overruns.append(info.get("overran", False))
        successes.append(bool(info["is_success"]))
        returns.append(total)
        decisions.append(count)
    env.close()
    return {
        "success": float(np.mean(successes)),
        "return": float(np.mean(returns)),
        "decisions": float(np.mean(decisions)),
        "latency_ms": 1e3 * float(np.mean(latencies)),
        "periods": float(np.mean(periods)),
        "overrun": float(np.mean(overruns)),
    }


def main() -> None:
    """Score the teacher paused and in real time on each family; print (and save) a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=10, help="episodes per family and mode")
    parser.add_argument("--first-seed", type=int, default=0, help="seed of the first episode")
    parser.add_argument("--budget-ms", type=float, default=20.0, help="latency budget, ms")
    parser.add_argument("--family", action="append", choices=sorted(FAMILY_ENV_IDS), default=None)
    parser.add_argument("--out", type=Path, default=None, help="also write the table here")
    args = parser.parse_args()

    started = time.perf_counter()
    lines = [
        f"Planning teacher, {args.episodes} episodes per row (seeds {args.first_seed}-"
        f"{args.first_seed + args.episodes - 1}), real time under a {args.budget_ms:g} ms "
        "budget with its wall-clock thinking time as latency.",
        "",
        "| family | mode | success | mean return | decisions / episode | latency / decision "
        "| periods / decision | over budget |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for family in args.family or ["reach", "push", "pick_place"]:
        for mode, budget_s in (("paused", None), ("real time", args.budget_ms / 1e3)):
            result = run(family, args.episodes, args.first_seed, budget_s)
            lines.append(
                f"| {family} | {mode} | {result['success']:.0%} | {result['return']:.2f} "
                f"| {result['decisions']:.0f} | {result['latency_ms']:.0f} ms "
                f"| {result['periods']:.2f} | {result['overrun']:.0%} |"
            )
            print(lines[-1], flush=True)
    lines += ["", f"Wall time: {time.perf_counter() - started:.0f} s."]
    print("\n".join(lines))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
