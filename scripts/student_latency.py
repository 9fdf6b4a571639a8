"""How long a BC student takes per decision: ``act`` at batch 1 on the CPU, one torch thread.

The observations are the student's own, from one episode it plays on each train task of its
suite (as ``portia bench`` builds them); each timed call is one ``act`` on the next of them,
features included, after a warm-up. The target is under 1 ms per decision.

Usage: ``python scripts/student_latency.py --calls 1000`` (both shipped students), or
``python scripts/student_latency.py --model bc.pt --suite smoke-v0``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from baselines.bc import STUDENTS, BCPolicy, student_path
from portia_envs.harness.episode import RunConfig, build_env
from portia_envs.suites import get_suite

# The suite each shipped student was trained on.
STUDENT_SUITES = {"smoke_student": "smoke-v0", "arm_reach_student": "arm-reach-v0"}
# Untimed calls before the timed ones (first calls allocate).
WARMUP_CALLS = 50


def student_observations(policy: BCPolicy, suite_name: str) -> list[Mapping[str, Any]]:
    """Return the observations of one episode of ``policy`` on each train task of the suite."""
    suite = get_suite(suite_name)
    config = RunConfig(suite_name, suite.hash, "paused", "random", None, None, float("inf"))
    observations = []
    for task in suite.train:
        env, _ = build_env(config, task.task_id, "train")
        observation, _ = env.reset(seed=0)
        done = False
        while not done:
            observations.append(observation)
            observation, _, terminated, truncated, _ = env.step(policy.act(observation))
            done = terminated or truncated
        env.close()
    return observations


def measure(
    policy: BCPolicy, observations: Sequence[Mapping[str, Any]], calls: int
) -> dict[str, float]:
    """Time ``calls`` calls of ``policy.act``, cycling through ``observations``.

    Returns:
        ``median_ms``, ``p95_ms``, ``mean_ms`` and ``max_ms`` per call.
    """
    for index in range(WARMUP_CALLS):
        policy.act(observations[index % len(observations)])
    seconds = np.empty(calls)
    for index in range(calls):
        observation = observations[index % len(observations)]
        start = time.perf_counter()
        policy.act(observation)
        seconds[index] = time.perf_counter() - start
    milliseconds = 1e3 * seconds
    return {
        "median_ms": float(np.median(milliseconds)),
        "p95_ms": float(np.percentile(milliseconds, 95)),
        "mean_ms": float(milliseconds.mean()),
        "max_ms": float(milliseconds.max()),
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Measure and print the latency of each student asked for."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=1000, help="timed calls per student")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--model", type=Path, help="a model file instead of the shipped students")
    parser.add_argument("--suite", default="smoke-v0", help="the suite of --model's episodes")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.model is not None:
        models = {str(args.model): (args.model, args.suite)}
    else:
        models = {name: (student_path(name), STUDENT_SUITES[name]) for name in STUDENTS}
    print(f"act() per decision, batch 1, CPU, {args.threads} torch thread(s), {args.calls} calls")
    for name, (path, suite) in models.items():
        policy = BCPolicy.load(path)
        timing = measure(policy, student_observations(policy, suite), args.calls)
        hidden = "x".join(map(str, policy.config.hidden_sizes))
        print(
            f"{name} ({suite}, hidden {hidden}, {path.stat().st_size / 1e3:.0f} KB): "
            f"median {timing['median_ms']:.3f} ms, p95 {timing['p95_ms']:.3f} ms, "
            f"mean {timing['mean_ms']:.3f} ms, max {timing['max_ms']:.3f} ms"
        )


if __name__ == "__main__":
    main()
