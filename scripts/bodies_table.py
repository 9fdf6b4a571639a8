"""The several-bodies table: does describing the body help a student meet a new body?

One student acts for every body of ``arm-bodies-v0`` through the shared layout
(``wrappers.MultiEmbodiment``): it trains on the six-joint arm and the four-hinge arm
(reach and push each) and is scored on those tasks and on the held-out ``arm4_long``, a
four-hinge arm with 15% longer links. The script

1. collects the planning teacher's demonstrations of the train tasks (both bodies, run
   seed 0) and scores the teacher, time paused, as the reference;
2. trains, each twice (without and with the embodiment descriptor in the student's input,
   ``BCConfig.embodiment_descriptor``): a BC student on every demonstration, and a DAgger
   student that starts from BC on half of them and is corrected by the teacher in its own
   states, to about as many labels in all (``DAGGER``);
3. scores every student in real time (20 ms budget, wall clock) on every train and
   held-out task with run seed 1;

and writes the table to ``--doc``. Stages are cached under ``--out`` as in
``scripts/results_table.py`` (whose stages it uses), so an interrupted run goes on where it
stopped. Usage: ``python scripts/bodies_table.py`` (the defaults made ``docs/bodies.md``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import results_table as table  # noqa: E402

from baselines import bc, dagger  # noqa: E402

SUITE = "arm-bodies-v0"
# Teacher episodes of the train tasks (ten per task) and scored episodes per task.
DEMOS = 40
EPISODES = 5
# DAgger: (demonstration episodes its first student clones, iterations, rollouts each).
DAGGER = [20, 2, 10]
# The student input's two forms: (name in paths, label in the table, with the descriptor).
INPUTS = (("plain", "without", False), ("described", "with", True))
# Where this script's stage times are kept, apart from the results table's, under --out.
STAGE_SECONDS = "bodies-stage-seconds.json"


def bc_row(stages: table.Stages, name: str, label: str, described: bool) -> table.Row:
    """Train and score the BC student of one input form."""
    data = stages.dataset(SUITE)
    config = bc.BCConfig(
        dataset=str(data), hidden_sizes=table.BC_HIDDEN, embodiment_descriptor=described
    )
    path = stages.model(
        f"{SUITE}: train bc-{name}",
        stages.out / SUITE / "models" / f"bc-{name}.pt",
        lambda: bc.train(config),
    )
    steps, imagined = table.demonstration_cost(data)
    label = f"BC student, {label} descriptor"
    return table.student_row(stages, SUITE, label, f"bc-{name}", path, steps, imagined)


def dagger_plan() -> tuple[int, int, int]:
    """DAgger's settings (``DAGGER``), never cloning more than half the demonstrations."""
    demos, iterations, episodes = DAGGER
    return max(1, min(demos, table.DEMOS.get(SUITE, DEMOS) // 2)), iterations, episodes


def dagger_row(stages: table.Stages, name: str, label: str, described: bool) -> table.Row:
    """Run and score the DAgger student of one input form (its last iteration's)."""
    demos, iterations, episodes = dagger_plan()
    config = dagger.DAggerConfig(
        suite=SUITE,
        work_dir=str(stages.out / SUITE / f"dagger-{name}"),
        demonstrations=str(stages.dataset(SUITE)),
        demonstration_episodes=demos,
        iterations=iterations,
        episodes=episodes,
        hidden_sizes=table.BC_HIDDEN,
        embodiment_descriptor=described,
        workers=stages.workers,
    )
    run = dagger.DAggerRun(config)
    path = stages.once(
        f"{SUITE}: train dagger-{name}",
        run.student_path(iterations),
        lambda _: dagger.train(config),
    )
    labels, imagined = run.cost(iterations)
    label = f"DAgger student ({iterations} iterations), {label} descriptor"
    return table.student_row(stages, SUITE, label, f"dagger-{name}", path, labels, imagined)


def rows(stages: table.Stages) -> list[table.Row]:
    """Every stage not yet done, then the table's rows: the teacher, then each student."""
    data = stages.dataset(SUITE)
    steps, imagined = table.demonstration_cost(data)
    teacher = table.Row(
        "teacher",
        "paused",
        stages.score(SUITE, "teacher-paused", "teacher", "paused", {}),
        env_steps=steps,
        imagined=imagined,
    )
    students = [bc_row(stages, *form) for form in INPUTS]
    students += [dagger_row(stages, *form) for form in INPUTS]
    return [teacher, *students]


def document(
    table_rows: Sequence[table.Row], seconds: Mapping[str, float], workers: int, data: str
) -> str:
    """Return the Markdown page: what was run, the tables, how long each stage took."""
    demos, iterations, episodes = dagger_plan()
    return "\n".join(
        [
            "# Several bodies, one student: does describing the body help?",
            "",
            f"Made by `python scripts/bodies_table.py` in {sum(seconds.values()) / 60:.0f} min "
            f"(each stage's time is at the end) on a {os.cpu_count()}-core machine with "
            f"{workers} worker processes. One student acts "
            f"for every body of `{SUITE}` through the shared layout (`MultiEmbodiment`): it "
            "trains on the six-joint arm and the four-hinge arm, reach and push each, and the "
            "held-out tasks are the same reach and push for `arm4_long`, a four-hinge arm with "
            "15% longer links that no student saw. Each student is trained twice: without the "
            "embodiment descriptor in its input (padded proprioception and exteroception, "
            "goals, task) and with it (what each action slot drives: quantity, range, joint "
            "kind and axis, link length, depth in the chain). BC learns from every "
            f"demonstration; DAgger clones the first {demos} and then labels {iterations} "
            f"rounds of {episodes} of its own rollouts with the teacher. Scored in real time "
            f"({table.BUDGET_MS:g} ms budget, wall clock) with run seed {table.SCORE_SEED}, "
            f"{EPISODES} episodes per task; success rate first (bootstrap 95% intervals), "
            "normalized score (teacher 100, random 0) second. Env steps and teacher-imagined "
            "periods: the labels each learnt from and what the teacher imagined deciding them.",
            "",
            data,
            "",
            table.scores_table(table_rows),
            "",
            "Success per task family (mean over the family's tasks in each split; the held-out "
            "tasks are those of `arm4_long`):",
            "",
            table.family_table(table_rows),
            "",
            "## Run time per stage",
            "",
            table.timings_table(seconds),
            "",
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run every stage not yet done and write the page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/results"))
    parser.add_argument("--doc", type=Path, default=Path("docs/bodies.md"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--episodes", type=int, default=EPISODES, help="Scored per task.")
    parser.add_argument("--demos", type=int, default=DEMOS, help="Teacher episodes.")
    parser.add_argument(
        "--dagger-episodes", type=int, default=DAGGER[2], help="DAgger rollouts per iteration."
    )
    args = parser.parse_args(argv)
    DAGGER[2:] = [args.dagger_episodes]
    table.EPISODES[SUITE] = args.episodes
    table.DEMOS[SUITE] = args.demos
    stages = table.Stages(args.out, args.workers)
    made = rows(stages)
    seconds = stages.record_seconds(STAGE_SECONDS)
    data = table.describe_dataset(stages.dataset(SUITE))
    args.doc.write_text(document(made, seconds, args.workers, data))
    print(f"wrote {args.doc}")


if __name__ == "__main__":
    main()
