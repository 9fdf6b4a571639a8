"""PPO from scratch given the teacher's whole cost: is the distilled student still ahead?

The results table (``scripts/results_table.py``) gives PPO as many env steps as the
teacher's demonstrations hold. Making them cost the teacher far more: every control period
it imagined while planning is a simulated step too. This script gives PPO that whole cost
and scores it along the way. For one suite (``arm-reach-v0`` by default) it

1. takes the teacher's demonstrations and the BC student trained on them (the results
   table's stages, under the same ``--out``: a results run's are reused, and the other way
   round);
2. trains PPO from scratch on the suite's train tasks for the teacher's cost (the steps it
   took plus the periods it imagined), saving the policy after ``S``, ``4 S``, ``16 S``, ...
   env steps (``S``: the demonstrations' steps) and at the end;
3. scores each saved policy and the BC student in real time (20 ms budget, run seed 1) on
   every train and held-out task;

then writes ``--doc`` (Markdown): the table, a plot of score against env steps and PPO's
training curve. Stages are skipped when their output exists, as in the results table.

Usage: ``python scripts/ppo_budget.py`` (the defaults made ``docs/ppo-budget.md``), or
``python scripts/ppo_budget.py --budget 50000 --episodes 2 --out runs/quick``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the results table's stages

from results_table import (  # noqa: E402  (found through the line above)
    BUDGET_MS,
    EPISODES,
    SCORE_SEED,
    Row,
    Stages,
    demonstration_cost,
    describe_dataset,
    scores_table,
    timings_table,
)

from baselines import bc, ppo  # noqa: E402
from portia_envs.suites import get_suite  # noqa: E402

# Each saved policy has this many times the env steps of the one before.
GROWTH = 4
STAGE_SECONDS = "ppo-budget-seconds.json"


def checkpoint_steps(first: int, total: int, growth: int = GROWTH) -> list[int]:
    """Return the env step counts to save PPO at: ``first * growth ** k`` below ``total``, then it.

    Args:
        first: The smallest count (the demonstrations' steps), >= 1.
        total: The run's budget.
        growth: The factor between counts, >= 2.

    Returns:
        Increasing counts, the last ``total``.

    Raises:
        ValueError: If ``first`` is below 1 or ``growth`` below 2.
    """
    if first < 1 or growth < 2:
        raise ValueError(f"need first >= 1 and growth >= 2, got first {first}, growth {growth}")
    counts = []
    while first < total:
        counts.append(first)
        first *= growth
    return [*counts, total]


def plot_budget(
    suite: str,
    ppo_rows: Sequence[Row],
    student: Row,
    steps: int,
    cost: int,
    path: Path,
) -> None:
    """Draw PPO's IQM per split against its env steps (log), the student's as bands.

    Args:
        suite: The suite, for the title.
        ppo_rows: PPO's scored checkpoints, with their env steps.
        student: The BC student's scores.
        steps: The demonstrations' env steps (a dotted line).
        cost: The teacher's whole cost of making them (a dashed line).
        path: The PNG to write.
    """
    figure = Figure(figsize=(7, 4.2), layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.subplots()
    for split, label in (("train", "train"), ("heldout", "held out")):
        estimates = [row.results["scores"]["splits"][split]["iqm"] for row in ppo_rows]
        (line,) = ax.plot(
            [row.env_steps for row in ppo_rows],
            [e["value"] for e in estimates],
            marker="o",
            label=f"PPO from scratch, {label}",
        )
        ax.fill_between(
            [row.env_steps for row in ppo_rows],
            [e["low"] for e in estimates],
            [e["high"] for e in estimates],
            color=line.get_color(),
            alpha=0.2,
        )
        theirs = student.results["scores"]["splits"][split]["iqm"]
        ax.axhspan(theirs["low"], theirs["high"], color=line.get_color(), alpha=0.15)
        ax.axhline(
            theirs["value"],
            color=line.get_color(),
            linestyle="-.",
            label=f"BC student, {label}",
        )
    ax.axvline(steps, color="grey", linestyle=":", label=f"demonstrations: {steps:,} steps")
    ax.axvline(cost, color="black", linestyle="--", label=f"teacher's cost: {cost:,} steps")
    ax.set_xscale("log")
    ax.set_xlabel("env steps")
    ax.set_ylabel(f"normalized score, IQM, real time {BUDGET_MS:g} ms")
    ax.set_title(f"PPO given the teacher's cost ({suite})")
    ax.legend(fontsize=7, loc="lower right")
    figure.savefig(path, dpi=110)


def document(
    suite: str,
    ppo_rows: Sequence[Row],
    student: Row,
    cost: tuple[int, int],
    dataset: str,
    seconds: Mapping[str, float],
    doc: Path,
    workers: int,
) -> str:
    """Return the Markdown page: how it was made, the table, the two plots.

    Args:
        suite: The suite.
        ppo_rows: PPO's scored checkpoints, fewest env steps first.
        student: The BC student's scores.
        cost: The demonstrations' ``(steps, imagined)``.
        dataset: ``describe_dataset``'s sentence on them.
        seconds: Wall seconds per stage.
        doc: Where the page goes (its plots go in a folder of its name beside it).
        workers: Worker processes used.
    """
    figures = doc.parent / doc.stem
    figures.mkdir(parents=True, exist_ok=True)
    steps, imagined = cost
    plot_budget(suite, ppo_rows, student, steps, steps + imagined, figures / "scores.png")
    return "\n".join(
        [
            f"# PPO given the teacher's cost ({suite})",
            "",
            f"Made by `python scripts/ppo_budget.py` in {sum(seconds.values()) / 60:.0f} min "
            f"on a {os.cpu_count()}-core machine with {workers} worker processes. {dataset} "
            f"Making them cost the teacher {steps + imagined:,} simulated steps: the {steps:,} "
            f"it took and the {imagined:,} control periods it imagined while planning. PPO from "
            "scratch (`baselines.ppo`, default config) trained on the train tasks for that "
            "many env steps, saved along the way; the BC student is the results table's "
            "(docs/results.md). Scored in real time with a "
            f"{BUDGET_MS:g} ms budget and run seed {SCORE_SEED}, "
            f"{EPISODES.get(suite, 5)} episodes per task; normalized scores (the reference "
            "teacher 100, random 0), IQM with bootstrap 95% intervals.",
            "",
            scores_table([student, *ppo_rows]),
            "",
            "![score against env steps](" + figures.name + "/scores.png)",
            "",
            "PPO's training curve (episode returns on the train tasks, exploring):",
            "",
            "![PPO's training curve](" + figures.name + "/ppo-curve.png)",
            "",
            "## Run time per stage",
            "",
            timings_table(seconds),
            "",
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run every stage not yet done and write the page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="arm-reach-v0")
    parser.add_argument("--out", type=Path, default=Path("runs/results"))
    parser.add_argument("--doc", type=Path, default=Path("docs/ppo-budget.md"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--episodes", type=int, help="Scored episodes per task.")
    parser.add_argument(
        "--budget", type=int, help="PPO's env steps (default: the teacher's whole cost)."
    )
    args = parser.parse_args(argv)
    get_suite(args.suite)  # an unknown name fails here, before any work
    if args.episodes is not None:
        EPISODES[args.suite] = args.episodes
    stages = Stages(args.out, args.workers)
    data = stages.dataset(args.suite)
    steps, imagined = demonstration_cost(data)
    budget = steps + imagined if args.budget is None else args.budget
    models = args.out / args.suite / "models" / f"ppo-{budget}"
    saved = {n: models / f"ppo-{n}.pt" for n in checkpoint_steps(steps, budget)}

    # The last checkpoint is the trained policy: a run ends at or past its budget.
    final = stages.once(
        f"{args.suite}: train ppo, {budget:,} steps",
        saved[budget],
        lambda _: ppo.train(ppo.PPOConfig(suite=args.suite, total_steps=budget), checkpoints=saved),
    )
    ppo_rows = []
    for n, path in saved.items():
        policy = ppo.PPOPolicy.load(path)
        results = stages.score(
            args.suite,
            f"ppo-{budget}-at-{n}",
            "baselines.ppo:make_agent",
            "realtime",
            {ppo.MODEL_VARIABLE: str(path)},
        )
        ppo_rows.append(Row("PPO from scratch", "realtime", results, env_steps=policy.env_steps))
    student_model = stages.bc_student(args.suite)
    student = Row(
        "BC student",
        "realtime",
        stages.score(
            args.suite,
            "bc",
            "baselines.bc:make_agent",
            "realtime",
            {bc.MODEL_VARIABLE: str(student_model)},
        ),
        env_steps=steps,
    )
    recorded = stages.record_seconds(STAGE_SECONDS)
    figures = args.doc.parent / args.doc.stem
    ppo.PPOPolicy.load(final).curve.plot(figures / "ppo-curve.png", title=f"PPO ({args.suite})")
    page = document(
        args.suite,
        ppo_rows,
        student,
        (steps, imagined),
        describe_dataset(data),
        recorded,
        args.doc,
        args.workers,
    )
    args.doc.write_text(page)
    print(f"wrote {args.doc}")


if __name__ == "__main__":
    main()
