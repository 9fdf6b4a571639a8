"""``collect``'s speed: episodes and steps per second on 1 and 2 workers, locally and on Ray.

It collects the same ``--episodes`` episodes of an agent (the planning teacher by default)
on a suite's train tasks

- on 1 local worker (this process) and on 2 local worker processes: the scaling ratio;
- on the Ray backend with 2 workers, on a Ray started on 127.0.0.1 for the run: its
  time against the 2 local workers', with and without starting Ray.

Every way must store the same episodes (their actions and observations are hashed and
compared). Times are of whole ``collect`` calls, starting the worker processes and writing
the dataset included, the fastest of ``--rounds``, after a one-episode warm-up in this
process; Ray's start is timed apart and added. It prints a Markdown table and writes
``OUT/collect-scaling.json``::

    python benchmarks/collect_scaling.py
    python benchmarks/collect_scaling.py --agent random --suite smoke-v0 --episodes 2 --no-ray
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from portia_envs.datasets import collect, load_dataset
from portia_envs.harness.parallel import import_ray, start_ray

# (name, workers, backend) of each way of collecting.
WAYS = (
    ("local, 1 worker", 1, "local"),
    ("local, 2 workers", 2, "local"),
    ("ray, 2 workers", 2, "ray"),
)


def collect_once(
    agent: str, suite: str, episodes: int, workers: int, backend: str
) -> dict[str, Any]:
    """Collect ``episodes`` episodes one way; return the time, counts and a digest of them.

    On Ray, a Ray is started for the call and shut down after; ``start_s`` is its start,
    and ``seconds`` includes it.
    """
    start_s = 0.0
    if backend == "ray":
        ray = import_ray()
        started = time.perf_counter()
        start_ray(workers, None)
        start_s = time.perf_counter() - started
    try:
        with tempfile.TemporaryDirectory() as scratch:
            out = Path(scratch) / "data"
            started = time.perf_counter()
            summary = collect(
                agent, suite, "train", episodes, out, workers=workers, backend=backend
            )
            seconds = time.perf_counter() - started + start_s
            digest = episodes_digest(out)
    finally:
        if backend == "ray":
            ray.shutdown()
    return {
        "seconds": seconds,
        "start_s": start_s,
        "episodes": summary.episodes,
        "steps": summary.steps,
        "episodes_per_s": summary.episodes / seconds,
        "steps_per_s": summary.steps / seconds,
        "digest": digest,
    }


def episodes_digest(path: Path) -> str:
    """Return a SHA-256 of a dataset's actions and observations, episode by episode.

    Not the stored checksums: those cover each episode's thinking time, which is measured.
    """
    digest = hashlib.sha256()
    for episode in load_dataset(path).iterate_episodes():
        digest.update(episode.actions.tobytes())
        for key in sorted(episode.observations):
            digest.update(episode.observations[key].tobytes())
    return digest.hexdigest()


def fastest(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The quickest of repeated runs, checking they stored the same episodes."""
    if len({run["digest"] for run in runs}) != 1:
        raise RuntimeError("repeated runs stored different episodes")
    return min(runs, key=lambda run: run["seconds"])


def table(results: dict[str, dict[str, Any]]) -> str:
    """Return the measurements as a Markdown table."""
    lines = [
        "| way | episodes | steps | seconds | episodes/s | steps/s |",
        "|---|---|---|---|---|---|",
    ]
    for name, run in results.items():
        lines.append(
            f"| {name} | {run['episodes']} | {run['steps']} | {run['seconds']:.1f} "
            f"| {run['episodes_per_s']:.3f} | {run['steps_per_s']:.1f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Measure every way, print the table and ratios, write the JSON; return what it wrote."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agent", default="teacher")
    parser.add_argument("--suite", default="arm-reach-v0")
    parser.add_argument("--episodes", type=int, default=4, help="Episodes per way.")
    parser.add_argument("--rounds", type=int, default=1, help="Runs per way; the fastest counts.")
    parser.add_argument("--no-ray", action="store_true", help="Leave out the Ray backend.")
    parser.add_argument("--out", type=Path, default=Path("runs/benchmarks"))
    args = parser.parse_args(argv)
    ways = [way for way in WAYS if not (args.no_ray and way[2] == "ray")]
    collect_once(args.agent, args.suite, 1, 1, "local")  # imports and first builds, here
    results: dict[str, dict[str, Any]] = {}
    for name, workers, backend in ways:
        runs = [
            collect_once(args.agent, args.suite, args.episodes, workers, backend)
            for _ in range(args.rounds)
        ]
        results[name] = fastest(runs)
        print(f"{name}: {results[name]['episodes_per_s']:.3f} episodes/s", flush=True)
    if len({run["digest"] for run in results.values()}) != 1:
        raise RuntimeError("the workers or backends stored different episodes")
    one, two = (results[name] for name, *_ in WAYS[:2])
    summary: dict[str, Any] = {
        "agent": args.agent,
        "suite": args.suite,
        "episodes": args.episodes,
        "rounds": args.rounds,
        "machine": {"cpus": len(os.sched_getaffinity(0)), "processor": platform.processor()},
        "results": results,
        "scaling_2_vs_1": two["episodes_per_s"] / one["episodes_per_s"],
    }
    print(table(results))
    print(f"2 workers / 1 worker: {summary['scaling_2_vs_1']:.2f}x episodes/s")
    if not args.no_ray:
        ray = results[WAYS[2][0]]
        summary["ray_time_over_local_2"] = ray["seconds"] / two["seconds"]
        summary["ray_time_over_local_2_without_start"] = (ray["seconds"] - ray["start_s"]) / two[
            "seconds"
        ]
        print(
            f"Ray time / local time, 2 workers: {summary['ray_time_over_local_2']:.2f} "
            f"({summary['ray_time_over_local_2_without_start']:.2f} without Ray's start of "
            f"{ray['start_s']:.1f} s)"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "collect-scaling.json"
    path.write_text(json.dumps(summary, indent=1) + "\n")
    print(f"wrote {path}")
    return summary


if __name__ == "__main__":
    main()
