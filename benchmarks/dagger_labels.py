"""DAgger's labelling speed: teacher labels per second on 1 and 2 workers, locally and on Ray.

One DAgger iteration's work is rolling out the student and having the planning teacher
label every state it visits, time paused (``baselines.dagger``). This script labels the
same ``--episodes`` rollouts of a student on a suite's train tasks

- on 1 local worker (this process), and on 2 local worker processes: the scaling ratio;
- on the Ray backend with 2 workers (a Ray started on 127.0.0.1 for the run): its overhead
  against the 2 local workers, starting included;
- on 1 worker with the teacher planning each label from nothing (``warm_start=False``,
  ``--cold-episodes`` of them): what carrying the plan along the rollout saves, in
  imagined periods and in wall time per label.

Every way must give the same episodes (their actions and labels are hashed and compared).
Times are of whole runs, starting the workers included, the fastest of ``--rounds``. It
prints a Markdown table and writes ``OUT/dagger-labels.json``::

    python benchmarks/dagger_labels.py
    python benchmarks/dagger_labels.py --suite smoke-v0 --episodes 2 --rounds 1
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from baselines.bc import student_path
from baselines.dagger import Labelling, rollout_seed
from portia_envs.datasets.collect import plan_episodes, recording_config
from portia_envs.harness.agents import resolve_spec
from portia_envs.harness.parallel import ordered_map
from portia_envs.suites import get_suite

# (name, workers, backend, warm start) of each way of labelling.
WAYS = (
    ("local, 1 worker", 1, "local", True),
    ("local, 2 workers", 2, "local", True),
    ("ray, 2 workers", 2, "ray", True),
)
COLD = ("local, 1 worker, plans from nothing", 1, "local", False)


def label_once(
    args: argparse.Namespace, episodes: int, workers: int, backend: str, warm: bool
) -> dict[str, Any]:
    """Label ``episodes`` rollouts one way; return the time, counts and a digest of them."""
    suite = get_suite(args.suite)
    config = recording_config(suite, resolve_spec(args.teacher))
    jobs = plan_episodes(suite, "train", episodes, rollout_seed(0, 0))
    labelling = Labelling(config, args.student, beta=0.0, warm_start=warm)
    digest = hashlib.sha256()
    labels = imagined = 0
    started = time.perf_counter()
    for episode, _ in ordered_map(labelling, jobs, workers=workers, backend=backend):
        labels += episode.length
        imagined += int(episode.metadata["think_steps"])
        digest.update(episode.actions.tobytes())
        digest.update(episode.infos["teacher_action"].tobytes())
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "labels": labels,
        "labels_per_s": labels / seconds,
        "imagined_per_label": imagined / labels,
        "digest": digest.hexdigest(),
    }


def fastest(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The quickest of repeated runs, checking they labelled the same episodes."""
    if len({run["digest"] for run in runs}) != 1:
        raise RuntimeError("repeated runs labelled different episodes")
    return min(runs, key=lambda run: run["seconds"])


def table(results: dict[str, dict[str, Any]]) -> str:
    """Return the measurements as a Markdown table."""
    lines = [
        "| way | labels | seconds | labels/s | imagined periods per label |",
        "|---|---|---|---|---|",
    ]
    for name, run in results.items():
        lines.append(
            f"| {name} | {run['labels']} | {run['seconds']:.1f} | {run['labels_per_s']:.2f} "
            f"| {run['imagined_per_label']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Measure every way, print the table and ratios, write the JSON; return what it wrote."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="arm-reach-v0")
    parser.add_argument("--student", default=str(student_path("arm_reach_student")))
    parser.add_argument("--teacher", default="teacher", help="The agent that labels.")
    parser.add_argument("--no-ray", action="store_true", help="Measure local workers only.")
    parser.add_argument("--episodes", type=int, default=4, help="Rollouts per way.")
    parser.add_argument("--cold-episodes", type=int, default=1, help="Rollouts planned cold.")
    parser.add_argument("--rounds", type=int, default=1, help="Runs per way; the fastest counts.")
    parser.add_argument("--out", type=Path, default=Path("runs/benchmarks"))
    args = parser.parse_args(argv)
    ways = [way for way in WAYS if not (args.no_ray and way[2] == "ray")]
    results: dict[str, dict[str, Any]] = {}
    for name, workers, backend, warm in ways:
        runs = [label_once(args, args.episodes, workers, backend, warm) for _ in range(args.rounds)]
        results[name] = fastest(runs)
        print(f"{name}: {results[name]['labels_per_s']:.2f} labels/s", flush=True)
    if len({results[name]["digest"] for name, *_ in ways}) != 1:
        raise RuntimeError("the workers or backends labelled different episodes")
    name, workers, backend, warm = COLD
    results[name] = label_once(args, args.cold_episodes, workers, backend, warm)
    one, two = (results[name] for name, *_ in WAYS[:2])
    cold = results[COLD[0]]
    summary: dict[str, Any] = {
        "suite": args.suite,
        "teacher": args.teacher,
        "episodes": args.episodes,
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor()},
        "results": results,
        "scaling_2_vs_1": two["labels_per_s"] / one["labels_per_s"],
        "ray_time_over_local_2": None,
        "warm_start_saving": {
            "imagined": (
                cold["imagined_per_label"] / one["imagined_per_label"]
                if one["imagined_per_label"]
                else None
            ),
            "time": one["labels_per_s"] / cold["labels_per_s"],
        },
    }
    print(table(results))
    print(f"2 workers / 1 worker: {summary['scaling_2_vs_1']:.2f}x labels/s")
    if not args.no_ray:
        ray = results[WAYS[2][0]]
        summary["ray_time_over_local_2"] = two["labels_per_s"] / ray["labels_per_s"]
        print(f"Ray time / local time, 2 workers: {summary['ray_time_over_local_2']:.2f}")
    saving = summary["warm_start_saving"]
    if saving["imagined"] is not None:
        print(
            f"carrying the plan: {saving['imagined']:.2f}x fewer imagined periods, "
            f"{saving['time']:.2f}x faster per label"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "dagger-labels.json").write_text(json.dumps(summary, indent=1))
    return summary


if __name__ == "__main__":
    main()
