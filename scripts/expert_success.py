"""Measure the scripted experts' success rates, per task family or per suite task.

Runs N seeded episodes (seeds ``first_seed .. first_seed + N - 1``) of each family's
registered env with ``ScriptedExpert`` acting, and prints each family's success rate (the
last step's ``info["is_success"]``), the seeds used, the failures and the wall time::

    python scripts/expert_success.py --episodes 100
    python scripts/expert_success.py --episodes 100 --suite arm-gen-v0
    python scripts/expert_success.py --episodes 100 --body arm4_long

With ``--body arm4`` or ``--body arm4_long`` it measures the four-hinge arm's families (reach
and push: ``Portia/Arm4Reach-v0`` and ``Portia/Arm4Push-v0``) with that body.
"""

from __future__ import annotations

import argparse
import time

import gymnasium

import portia_envs  # noqa: F401  (registers the Portia ids)
from portia_envs.embodiments.arm_bodies import ARM_BODIES
from portia_envs.experts import ScriptedExpert, run_episode
from portia_envs.registration import ARM4_FAMILY_ENV_IDS, FAMILY_ENV_IDS
from portia_envs.suites import SPLITS, SUITES, Suite, get_suite


def measure(env_id: str, seeds: range, **kwargs: str) -> tuple[list[int], float]:
    """Run one episode per seed of ``env_id`` with the scripted expert.

    Args:
        env_id: A registered Portia arm env id.
        seeds: The reset seeds, one episode each.
        **kwargs: Passed to ``gymnasium.make`` (``suite``, ``split``, ``task``, ``body``).

    Returns:
        The seeds whose episode failed, and the wall time of all episodes in seconds.
    """
    env = gymnasium.make(env_id, **kwargs)
    expert = ScriptedExpert(env)
    start = time.perf_counter()
    failures = [seed for seed in seeds if not run_episode(env, expert, seed)]
    elapsed = time.perf_counter() - start
    env.close()
    return failures, elapsed


def main() -> None:
    """Parse the command line, measure every family asked for, and print the rates."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=100, help="episodes per family")
    parser.add_argument("--first-seed", type=int, default=0, help="seed of the first episode")
    parser.add_argument(
        "--family",
        choices=sorted(FAMILY_ENV_IDS),
        action="append",
        help="a family to measure (repeatable); all of them by default",
    )
    parser.add_argument(
        "--suite",
        choices=sorted(name for name, suite in SUITES.items() if isinstance(suite, Suite)),
        help="measure every task of this suite (both splits) instead of the families",
    )
    parser.add_argument(
        "--body", choices=ARM_BODIES, default="arm", help="the body acting (default: arm)"
    )
    args = parser.parse_args()
    if args.episodes < 1:
        parser.error(f"--episodes must be >= 1, got {args.episodes}")
    seeds = range(args.first_seed, args.first_seed + args.episodes)
    body = {} if args.body == "arm" else {"body": args.body}
    print(f"seeds {seeds.start}..{seeds.stop - 1} ({len(seeds)} episodes per task)")
    if args.suite is not None:
        suite = get_suite(args.suite)
        for split in SPLITS:
            for spec in suite.tasks(split):
                failures, elapsed = measure(
                    "Portia/Arm-v0", seeds, suite=suite.name, split=split, task=spec.task_id, **body
                )
                successes = len(seeds) - len(failures)
                print(
                    f"{spec.task_id:<24} {split:<8} {spec.family:<10} success "
                    f"{successes}/{len(seeds)}  wall {elapsed:.1f} s  "
                    f"failed seeds: {failures or 'none'}",
                    flush=True,
                )
        return
    family_ids = FAMILY_ENV_IDS if args.body == "arm" else ARM4_FAMILY_ENV_IDS
    undone = sorted(set(args.family or ()) - set(family_ids))
    if undone:
        parser.error(f"body {args.body} does not do {undone}; it does {', '.join(family_ids)}")
    for family in args.family or family_ids:
        env_id = family_ids[family]
        failures, elapsed = measure(env_id, seeds, **body)
        successes = len(seeds) - len(failures)
        print(
            f"{family:<10} {env_id:<24} {args.body:<10} success {successes}/{len(seeds)} "
            f"({100.0 * successes / len(seeds):.1f}%)  wall {elapsed:.1f} s  "
            f"failed seeds: {failures or 'none'}"
        )


if __name__ == "__main__":
    main()
