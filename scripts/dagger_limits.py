"""What limits the DAgger student on ``arm-gen-v0``: label budget, capacity, or the labels?

``scripts/results_table.py`` runs DAgger on ``arm-gen-v0`` with a budget of about as many
teacher labels as the BC student's demonstrations (``DAGGER``), and sweeps the student's
width. This script runs the same DAgger again with some of its settings changed
(``VARIANTS``):

- ``dagger-long``: four iterations of twenty rollouts, about twice BC's labels, so the
  table shows whether success keeps growing with labels of the student's own states;
- ``dagger-wide-long``: the same with students of two layers of 256 (the widest of the
  results table's DAgger size sweep), so capacity and labels grow together;
- ``dagger-cold``: the teacher plans every label from nothing instead of carrying its plan
  along the rollout (``warm_start=False``), for one iteration (such labels imagine about
  four times as much), so the table shows whether the warm-started labels are worse than
  the teacher's own decisions.

Every student (after each iteration) is scored in real time (20 ms budget, wall clock) with
run seed 1 on every train and held-out task, beside the teachers and the BC student of the
results table. The page (``--doc``) has the table, success per task family, each
iteration's rollouts (beta, success, labels, the students' losses) and a plot of success
against labels. Stages
are cached under ``--out`` with the results table's, so its runs are reused and an
interrupted run goes on where it stopped. Usage: ``python scripts/dagger_limits.py`` (the
defaults made ``docs/dagger-limits.md``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import results_table as table  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from baselines import bc, dagger  # noqa: E402

SUITE = table.HEADLINE_SUITE
# Where this script's stage times are kept, apart from the results table's, under --out.
STAGE_SECONDS = "dagger-limits-stage-seconds.json"


@dataclass(frozen=True)
class Variant:
    """One DAgger run: the results table's settings with ``changes`` to its config.

    Attributes:
        name: Its directory under ``out/SUITE`` (``dagger`` is the results table's run).
        label: What the table calls its students.
        changes: ``DAggerConfig`` fields that differ from the results table's run.
    """

    name: str
    label: str
    changes: Mapping[str, Any] = field(default_factory=dict)


VARIANTS = (
    Variant("dagger", "DAgger (results table)"),
    Variant("dagger-long", "DAgger, 4 x 20 rollouts", {"iterations": 4, "episodes": 20}),
    Variant(
        "dagger-wide-long",
        "DAgger, 256 wide, 4 x 20 rollouts",
        {"iterations": 4, "episodes": 20, "hidden_sizes": (256, 256)},
    ),
    Variant(
        "dagger-cold",
        "DAgger, labels planned from nothing",
        {"warm_start": False, "iterations": 1},
    ),
)


@dataclass(frozen=True)
class Curve:
    """One variant's students: a scored row and the rollouts behind it, per iteration.

    Attributes:
        variant: The run.
        rows: Its students' rows, after 1, 2, ... iterations.
        rollouts: Per iteration ``dagger.iteration_summary`` (beta, rollouts, their success
            rate, labels, the student's train loss) and the student's ``validation_loss``,
            after a first entry (``iteration`` -1, None for what it lacks) of the student
            that cloned the demonstrations: their labels and its losses.
    """

    variant: Variant
    rows: Sequence[table.Row]
    rollouts: Sequence[Mapping[str, Any]]


def curve(stages: table.Stages, variant: Variant) -> Curve:
    """Run the variant's DAgger (if not done), score each iteration's student; its curve."""
    run = stages.dagger(SUITE, name=variant.name, **variant.changes)
    rows = [
        table.student_row(stages, SUITE, label, name, model, used, thought)
        for label, name, _, model, used, thought, _ in table.dagger_learners(run, variant.label)
    ]
    clone = bc.BCPolicy.load(run.student_path(0)).history[-1]
    rollouts: list[dict[str, Any]] = [
        {
            "iteration": -1,
            "beta": None,
            "episodes": None,
            "success_rate": None,
            "labels": run.cost(0)[0],
            "train_loss": clone["train_loss"],
            "validation_loss": clone["validation_loss"],
        }
    ]
    for iteration in range(run.config.iterations):
        student = bc.BCPolicy.load(run.student_path(iteration + 1))
        summary = dagger.iteration_summary(
            iteration, run.data_path(iteration), student, run.beta(iteration)
        )
        summary["validation_loss"] = student.history[-1]["validation_loss"]
        rollouts.append(summary)
    return Curve(variant, rows, rollouts)


def reference_rows(stages: table.Stages) -> list[table.Row]:
    """The results table's paused and realtime teacher and BC student (its runs, cached)."""
    steps, imagined = table.demonstration_cost(stages.dataset(SUITE))
    student = table.student_row(
        stages, SUITE, "BC student", "bc", stages.bc_student(SUITE), steps, imagined
    )
    return [*table.teacher_rows(stages, SUITE), student]


def rollout_table(curves: Sequence[Curve]) -> str:
    """Return the Markdown table of each iteration's rollouts, per variant.

    The losses are those of the student fit after the iteration on every label so far: its
    final epoch's mean squared error on the training share and on the held-back share. Each
    run starts with the student that cloned the demonstrations (``0 (clone)``).
    """
    lines = [
        "| run | iteration | beta | rollouts | rollout success | labels "
        "| student's train loss | validation loss |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for each in curves:
        for summary in each.rollouts:
            cloned = summary["iteration"] < 0
            iteration = "0 (clone)" if cloned else str(summary["iteration"] + 1)
            rate = "-" if cloned else f"{100 * summary['success_rate']:.0f}%"
            beta = "-" if cloned else f"{summary['beta']:g}"
            rollouts = "-" if cloned else str(summary["episodes"])
            lines.append(
                f"| {each.variant.label} | {iteration} | {beta} | {rollouts} | {rate} "
                f"| {summary['labels']:,} | {summary['train_loss']:.4f} "
                f"| {summary['validation_loss']:.4f} |"
            )
    return "\n".join(lines)


def success(row: table.Row, split: str) -> dict[str, float]:
    """The row's success rate on ``split`` with its 95% interval, in percent."""
    rate = table.success_scores(row.results)["splits"][split]["success_rate"]
    return {key: 100 * rate[key] for key in ("value", "low", "high")}


def plot_curves(references: Sequence[table.Row], curves: Sequence[Curve], path: Path) -> None:
    """Plot success per split against labels learnt from, a line per variant, to ``path``.

    ``references`` are the paused teacher, the realtime teacher and the BC student
    (``reference_rows``): the realtime teacher's success and 90% (train) / 80% (held out) of
    the paused teacher's, the targets, are drawn as horizontal lines, the BC student as a
    cross at its labels.
    """
    figure = Figure(figsize=(10, 4), tight_layout=True)
    FigureCanvasAgg(figure)
    paused, realtime, student = references
    for column, (split, share) in enumerate((("train", 0.9), ("heldout", 0.8))):
        axes = figure.add_subplot(1, 2, column + 1)
        for each in curves:
            rates = [success(row, split) for row in each.rows]
            axes.errorbar(
                [row.env_steps or 0 for row in each.rows],
                [rate["value"] for rate in rates],
                yerr=[
                    [rate["value"] - rate["low"] for rate in rates],
                    [rate["high"] - rate["value"] for rate in rates],
                ],
                marker="o",
                capsize=3,
                label=each.variant.label,
            )
        rate = success(student, split)
        axes.errorbar(
            [student.env_steps or 0],
            [rate["value"]],
            yerr=[[rate["value"] - rate["low"]], [rate["high"] - rate["value"]]],
            marker="x",
            capsize=3,
            color="black",
            label=student.agent,
        )
        for row, scale, style, name in (
            (realtime, 1.0, ":", "teacher, real time"),
            (paused, share, "--", f"{share:.0%} of the paused teacher"),
        ):
            value = scale * success(row, split)["value"]
            axes.axhline(value, linestyle=style, color="grey", label=name)
        axes.set_title(f"{SUITE}, {'held out' if split == 'heldout' else split}")
        axes.set_xlabel("teacher labels learnt from")
        axes.set_ylabel("success rate (%)")
        axes.set_ylim(0, 100)
        axes.legend(fontsize="small")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)


def document(
    references: Sequence[table.Row],
    curves: Sequence[Curve],
    seconds: Mapping[str, float],
    doc: Path,
    workers: int,
) -> str:
    """Return the Markdown page (and draw its plot beside ``doc``).

    ``seconds``: the wall time of each of this script's stages.
    """
    image = Path(doc.stem) / "success-against-labels.png"
    plot_curves(references, curves, doc.parent / image)
    demos, iterations, episodes = table.dagger_plan(SUITE)
    rows = [*references, *(row for each in curves for row in each.rows)]
    changed = [
        f"{each.variant.label}: "
        + ", ".join(f"`{key}={value}`" for key, value in each.variant.changes.items())
        for each in curves
        if each.variant.changes
    ]
    others = f"Each other run changes its settings so: {'; '.join(changed)}. " if changed else ""
    return "\n".join(
        [
            f"# What limits the DAgger student on {SUITE}?",
            "",
            f"Made by `python scripts/dagger_limits.py` in {sum(seconds.values()) / 60:.0f} "
            "min of its own stages (each one's time is at the end) on a "
            f"{os.cpu_count()}-core machine with {workers} worker processes, "
            "reusing the runs of `scripts/results_table.py` (whose DAgger clones the first "
            f"{demos} demonstrations, then labels {iterations} rounds of {episodes} of its "
            f"own rollouts). {others}Every student, after each iteration, is scored in real time "
            f"({table.BUDGET_MS:g} ms budget, wall clock) with run seed {table.SCORE_SEED}, "
            f"{table.EPISODES.get(SUITE, 5)} episodes per task (the paused teacher "
            f"{table.paused_teacher_episodes(SUITE)}); success rate first (bootstrap 95% "
            "intervals). Env steps: the teacher labels each learnt from; teacher-imagined "
            "periods: what the teacher imagined deciding them. The size sweep is in "
            "[the results](results.md).",
            "",
            table.scores_table(rows),
            "",
            "Success per task family (mean over the family's tasks in each split):",
            "",
            table.family_table(rows),
            "",
            "Each iteration's rollouts: at each step the teacher's action is played with "
            "probability beta, the student's otherwise, and the teacher labels every visited "
            "state:",
            "",
            rollout_table(curves),
            "",
            f"![success rate against teacher labels, per DAgger run]({image.as_posix()})",
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
    parser.add_argument("--doc", type=Path, default=Path("docs/dagger-limits.md"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--variants",
        nargs="+",
        choices=[variant.name for variant in VARIANTS],
        default=[variant.name for variant in VARIANTS],
        help="Which DAgger runs to make and show.",
    )
    args = parser.parse_args(argv)
    stages = table.Stages(args.out, args.workers)
    references = reference_rows(stages)
    curves = [curve(stages, each) for each in VARIANTS if each.name in args.variants]
    seconds = stages.record_seconds(STAGE_SECONDS)
    args.doc.write_text(document(references, curves, seconds, args.doc, args.workers))
    print(f"wrote {args.doc}")


if __name__ == "__main__":
    main()
