"""Measure the planning teacher's success rates in the paused world, one task family at a time.

Runs N seeded episodes (seeds ``seed .. seed + N - 1``) of each family's registered env,
wrapped in ``TimePause``, with ``PlanningTeacher`` (``arm_teacher_config(family)``) acting,
and prints each family's success rate (the last step's ``info["is_success"]``), the mean
thinking time and imagined control periods per decision (from ``info["think_s"]`` and
``info["think_steps"]``), the failed seeds and the wall time::

    python scripts/teacher_success.py --episodes 50 --families reach push
"""

from __future__ import annotations

import argparse
import time

import gymnasium

import portia_envs  # noqa: F401  (registers the Portia ids)
from baselines.teacher import PlanningTeacher, arm_teacher_config, run_episode
from portia_envs.registration import FAMILY_ENV_IDS
from wrappers.time_pause import TimePause

# The families with a success target for the teacher.
TARGET_FAMILIES = ["reach", "push", "pick_place"]


def measure(family: str, seeds: range, nthread: int) -> None:
    """Run one teacher episode per seed of the family's env and print the family's line.

    Args:
        family: An arm task family.
        seeds: The reset seeds, one episode each.
        nthread: Threads for the imagined rollouts.
    """
    env_id = FAMILY_ENV_IDS[family]
    env = TimePause(gymnasium.make(env_id), nthread=nthread)
    teacher = PlanningTeacher(env, arm_teacher_config(family))
    start = time.perf_counter()
    results = {seed: run_episode(env, teacher, seed) for seed in seeds}
    elapsed = time.perf_counter() - start
    env.close()
    successes = sum(result.success for result in results.values())
    decisions = sum(result.decisions for result in results.values())
    think_s = sum(result.think_s for result in results.values())
    think_steps = sum(result.think_steps for result in results.values())
    failures = [seed for seed, result in results.items() if not result.success]
    print(
        f"{env_id:<24} success {successes}/{len(seeds)} ({100.0 * successes / len(seeds):.1f}%)  "
        f"think {think_s / decisions:.3f} s and {think_steps / decisions:.0f} imagined steps "
        f"per decision  wall {elapsed:.1f} s  failed seeds: {failures or 'none'}",
        flush=True,
    )


def main() -> None:
    """Parse the command line, measure every family asked for, and print the rates."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=50, help="episodes per family")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first episode")
    parser.add_argument(
        "--families",
        nargs="+",
        choices=sorted(FAMILY_ENV_IDS),
        default=TARGET_FAMILIES,
        help="families to measure (default: reach, push, pick_place)",
    )
    parser.add_argument(
        "--nthread", type=int, default=1, help="threads for imagined rollouts (default: 1)"
    )
    args = parser.parse_args()
    if args.episodes < 1:
        parser.error(f"--episodes must be >= 1, got {args.episodes}")
    if args.nthread < 1:
        parser.error(f"--nthread must be >= 1, got {args.nthread}")
    seeds = range(args.seed, args.seed + args.episodes)
    print(f"seeds {seeds.start}..{seeds.stop - 1} ({len(seeds)} episodes per family)")
    start = time.perf_counter()
    for family in args.families:
        measure(family, seeds, args.nthread)
    print(f"total wall {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
