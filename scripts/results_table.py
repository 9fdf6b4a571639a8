"""The baselines' results table: teacher -> dataset -> students, scored by the harness.

For each suite (``arm-reach-v0`` and ``arm-gen-v0`` by default) the script

1. collects the planning teacher's demonstrations of the train tasks (time paused, run
   seed 0: ``portia collect``);
2. trains a BC student and a Decision Transformer on them, PPO from scratch with as
   many environment steps as the dataset holds (rounded up to whole rollouts), and a DAgger
   student (``baselines.dagger``) that starts from BC on part of the demonstrations and is
   corrected by the teacher in its own states, to about as many teacher labels in all as
   the BC student learnt from (``DAGGER``);
3. scores, on every train and held-out task with run seed 1 (other reset seeds than the
   demonstrations'): the teacher paused, the teacher in real time with its own wall-clock
   thinking as latency, and the learners in real time (the DAgger student after each
   iteration), all under a 20 ms budget;
4. trains students of several widths and scores each in real time (how small can the
   student be?): BC on ``arm-reach-v0`` (or the first suite), DAgger on the headline suite;

then writes the tables to ``--doc`` (Markdown) with two plots beside it, and the headline
suite's table (``arm-gen-v0``) into the README's Results section. Every stage writes
its output under ``--out`` and is skipped when that output is already there, so an
interrupted run goes on where it stopped; delete a stage's file to redo it.

Usage: ``python scripts/results_table.py`` (the defaults made ``docs/results.md``), or
``python scripts/results_table.py --suites arm-reach-v0 --episodes 2 --out runs/quick``.
The run's wall time, per stage, is at the end of the page it writes.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from baselines import bc, dagger, dt, ppo
from baselines.common import model_variable
from portia_envs.datasets import collect, load_dataset
from portia_envs.harness.agents import resolve_spec
from portia_envs.harness.episode import RunConfig
from portia_envs.harness.runner import bench
from portia_envs.harness.scores import compute_scores
from portia_envs.suites import get_suite
from portia_envs.suites.reference import load_reference

SUITES = ("arm-reach-v0", "arm-gen-v0")
# The suite whose table the README shows, in its section of this title.
HEADLINE_SUITE = "arm-gen-v0"
README_SECTION = "## Results"
# Teacher episodes per suite: a third of its train tasks' count would be too few to learn.
DEMOS = {"arm-reach-v0": 60, "arm-gen-v0": 50}
# Scored episodes per task and agent, per suite (the grasping teacher takes ~90 s each).
EPISODES = {"arm-reach-v0": 5, "arm-gen-v0": 5}
# Fewer for the paused teacher where its episodes are long (~90 s each on arm-gen-v0).
PAUSED_TEACHER_EPISODES = {"arm-gen-v0": 3}
BUDGET_MS = 20.0
COLLECT_SEED = 0
SCORE_SEED = 1
# The students' settings: the shipped students' BC width, the DT's defaults.
BC_HIDDEN = (128, 128)
# Hidden widths (two layers each) of the BC size sweep, on SWEEP_SUITE (or the first suite).
SWEEP_WIDTHS = (4, 8, 16, 32, 64, 128, 256)
SWEEP_SUITE = "arm-reach-v0"
# PPO's rollout length per env: small budgets (~10,000 steps) still get several updates.
PPO_ROLLOUT = 64
# DAgger per suite: (demonstration episodes its first student clones, iterations, student
# rollouts per iteration), so that its last student learns from no more teacher labels than
# the BC student's demonstrations hold (on arm-reach-v0, whose episodes all last 150 steps,
# 30 + 3 x 10 episodes against 60).
DAGGER = {"arm-reach-v0": (30, 3, 10), "arm-gen-v0": (25, 2, 10)}
# Hidden widths (two layers each) of the DAgger size sweep on the headline suite.
DAGGER_SWEEP_WIDTHS = (16, 64, 128, 256)


@dataclass(frozen=True)
class Row:
    """One scored agent on one suite.

    Attributes:
        agent: What it is, as the table names it.
        track: ``paused`` or ``realtime``.
        results: Its ``results.json``.
        env_steps: Environment steps it learnt from (the teacher's: those of its
            demonstrations); for BC, the DT and DAgger one teacher label each.
        parameters: Its trainable parameters (learners only).
        imagined: Control periods the teacher imagined to decide those steps' actions.
    """

    agent: str
    track: str
    results: Mapping[str, Any]
    env_steps: int | None = None
    parameters: int | None = None
    imagined: int | None = None


def interval(estimate: Mapping[str, float]) -> str:
    """Format an estimate with its CI: ``97.9 [96.5, 98.6]``."""
    return f"{estimate['value']:.1f} [{estimate['low']:.1f}, {estimate['high']:.1f}]"


def percent_interval(estimate: Mapping[str, float]) -> str:
    """Format a rate (a fraction) with its CI in whole percentages: ``80% [67, 91]``."""
    low, high = 100 * estimate["low"], 100 * estimate["high"]
    return f"{100 * estimate['value']:.0f}% [{low:.0f}, {high:.0f}]"


def points_interval(estimate: Mapping[str, float]) -> str:
    """Format a difference of rates with its CI in percentage points: ``20 points [5, 35]``."""
    low, high = 100 * estimate["low"], 100 * estimate["high"]
    return f"{100 * estimate['value']:.0f} points [{low:.0f}, {high:.0f}]"


def success_scores(results: Mapping[str, Any]) -> Mapping[str, Any]:
    """Return a run's scores with its success gap: the stored ones, or recomputed.

    A ``results.json`` cached before the harness scored the success gap lacks
    ``success_gap``; its scores are then recomputed from its episodes with the suite's
    reference table and the stored bootstrap settings, which gives every stored number
    again (the success gap is drawn last) and the gap.

    Args:
        results: A run's ``results.json``.

    Returns:
        Its scores (``harness.scores.compute_scores``), ``success_gap`` included.
    """
    scores = results["scores"]
    if "success_gap" in scores:
        return scores
    suite = get_suite(results["suite"]["name"])
    bootstrap = scores["bootstrap"]
    return compute_scores(
        suite,
        results["episodes"],
        load_reference(suite),
        budget_ms=results["budget_ms"] if results["track"] == "realtime" else None,
        reps=bootstrap["reps"],
        confidence=bootstrap["confidence"],
        seed=bootstrap["seed"],
    )


def compliance(results: Mapping[str, Any]) -> str:
    """The share of decisions within the budget and their median latency, or ``-`` paused."""
    latency = results["scores"]["latency"]
    if latency is None or latency["compliance"] is None:
        return "-"
    return f"{100 * latency['compliance']:.0f}% (p50 {latency['p50_ms']:.2f} ms)"


def count(value: int | None) -> str:
    """A count with thousands separators, or ``-``."""
    return "-" if value is None else f"{value:,}"


def scores_table(rows: Sequence[Row]) -> str:
    """Return the Markdown table of agents: success first, then IQM, each with its 95% CI.

    Per split the success rate, then the success gap (train minus held out, in percentage
    points), then the IQM of the normalized scores; scores come from ``success_scores``.
    """
    lines = [
        "| agent | track | train success [95% CI] | held-out success [95% CI] "
        "| success gap [95% CI] | train IQM [95% CI] | held-out IQM [95% CI] "
        "| decisions within 20 ms | env steps | teacher-imagined periods |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        scores = success_scores(row.results)
        splits = scores["splits"]
        lines.append(
            f"| {row.agent} | {row.track} "
            f"| {percent_interval(splits['train']['success_rate'])} "
            f"| {percent_interval(splits['heldout']['success_rate'])} "
            f"| {points_interval(scores['success_gap'])} "
            f"| {interval(splits['train']['iqm'])} | {interval(splits['heldout']['iqm'])} "
            f"| {compliance(row.results)} | {count(row.env_steps)} | {count(row.imagined)} |"
        )
    return "\n".join(lines)


def family_table(rows: Sequence[Row]) -> str:
    """Return the Markdown table of success per task family: train tasks, then held out.

    A family's rate is the mean of its tasks' success rates in that split (``-`` where the
    split has none of its tasks), so one can see which families a learner fails on.
    """
    tasks = [task for row in rows for task in row.results["scores"]["tasks"].values()]
    families = list(dict.fromkeys(task["family"] for task in tasks))
    header = " | ".join(
        f"{family} ({split})" for split in ("train", "held out") for family in families
    )
    lines = [
        f"| agent | track | {header} |",
        "|---|---|" + "---|" * (2 * len(families)),
    ]
    for row in rows:
        cells = []
        for split in ("train", "heldout"):
            for family in families:
                rates = [
                    task["success_rate"]
                    for task in row.results["scores"]["tasks"].values()
                    if task["family"] == family and task["split"] == split
                ]
                cells.append(f"{100 * sum(rates) / len(rates):.0f}%" if rates else "-")
        lines.append(f"| {row.agent} | {row.track} | {' | '.join(cells)} |")
    return "\n".join(lines)


def sweep_table(rows: Sequence[Row]) -> str:
    """Return the Markdown table of the size sweep: size, latency, success then IQM per split."""
    lines = [
        "| hidden widths | parameters | p50 latency | train success [95% CI] "
        "| held-out success [95% CI] | train IQM [95% CI] | held-out IQM [95% CI] |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        splits = success_scores(row.results)["splits"]
        latency = row.results["scores"]["latency"]
        lines.append(
            f"| {row.agent} | {count(row.parameters)} | {latency['p50_ms']:.3f} ms "
            f"| {percent_interval(splits['train']['success_rate'])} "
            f"| {percent_interval(splits['heldout']['success_rate'])} "
            f"| {interval(splits['train']['iqm'])} | {interval(splits['heldout']['iqm'])} |"
        )
    return "\n".join(lines)


# (key in scores["splits"][split], factor to the plotted unit, panel title, axis label),
# success first.
PLOTTED = (
    ("success_rate", 100.0, "success rate", "success rate, %"),
    ("iqm", 1.0, "normalized score", "IQM (teacher 100, random 0)"),
)
SPLIT_LABELS = {"train": "train", "heldout": "held out"}


def _bars(
    estimates: Sequence[Mapping[str, float]], factor: float
) -> tuple[list[float], list[list[float]]]:
    """Return estimates' heights and error bars (below, above; shape ``(2, n)``) x ``factor``."""
    heights = [factor * e["value"] for e in estimates]
    errors = [
        [factor * (e["value"] - e["low"]) for e in estimates],
        [factor * (e["high"] - e["value"]) for e in estimates],
    ]
    return heights, errors


def plot_scores(tables: Mapping[str, Sequence[Row]], path: Path) -> None:
    """Draw each suite's train and held-out success rate per agent, and below it the IQM.

    One column of panels per suite: on top the success rate (the headline), below the IQM
    of the normalized scores, each as grouped bars with 95% CIs.
    """
    figure = Figure(figsize=(6.5 * len(tables), 9.0), layout="constrained")
    FigureCanvasAgg(figure)
    grid = figure.subplots(len(PLOTTED), len(tables), squeeze=False)
    for column, (suite, rows) in enumerate(tables.items()):
        splits = [success_scores(row.results)["splits"] for row in rows]
        for ax, (key, factor, title, label) in zip(grid[:, column], PLOTTED, strict=True):
            for offset, split in ((-0.2, "train"), (0.2, "heldout")):
                heights, errors = _bars([s[split][key] for s in splits], factor)
                positions = [index + offset for index in range(len(rows))]
                ax.bar(positions, heights, 0.4, yerr=errors, capsize=3, label=SPLIT_LABELS[split])
            ax.set_xticks(
                range(len(rows)),
                [f"{r.agent}, {r.track}" for r in rows],
                fontsize=8,
                rotation=30,
                ha="right",
                rotation_mode="anchor",
            )
            ax.axhline(100, color="grey", linewidth=0.8, linestyle="--")
            ax.set_title(f"{suite}: {title}")
            ax.set_ylabel(label)
            ax.legend(loc="lower left")
    figure.savefig(path, dpi=110)


def plot_sweep(suite: str, rows: Sequence[Row], path: Path, learner: str = "BC") -> None:
    """Draw success rate, and below it IQM, against parameter count (log scale), with 95% CIs."""
    figure = Figure(figsize=(6, 7), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(PLOTTED), 1, sharex=True)
    sizes = [row.parameters for row in rows]
    splits = [success_scores(row.results)["splits"] for row in rows]
    for ax, (key, factor, title, label) in zip(axes, PLOTTED, strict=True):
        for split in ("train", "heldout"):
            heights, errors = _bars([s[split][key] for s in splits], factor)
            ax.errorbar(
                sizes, heights, yerr=errors, marker="o", capsize=3, label=SPLIT_LABELS[split]
            )
        ax.set_xscale("log")
        ax.set_title(title)
        ax.set_ylabel(label)
        ax.legend()
    axes[-1].set_xlabel(f"{learner} student parameters")
    figure.suptitle(
        f"How small can the {learner} student be? ({suite}, real time {BUDGET_MS:g} ms)"
    )
    figure.savefig(path, dpi=110)


def paused_teacher_episodes(suite: str) -> int:
    """Episodes per task the paused teacher is scored on: never more than the others'."""
    episodes = EPISODES.get(suite, 5)
    return min(PAUSED_TEACHER_EPISODES.get(suite, episodes), episodes)


def dagger_plan(suite: str) -> tuple[int, int, int]:
    """The suite's DAgger settings (``DAGGER``): demonstration episodes, iterations, rollouts.

    A suite not in ``DAGGER`` starts from half its demonstrations, with two iterations of a
    rollout per train task; the demonstrations used are never more than half of those
    collected (``--demos``).
    """
    default = (DEMOS.get(suite, 10) // 2, 2, len(get_suite(suite).train))
    demos, iterations, episodes = DAGGER.get(suite, default)
    return max(1, min(demos, DEMOS.get(suite, 10) // 2)), iterations, episodes


class Stages:
    """Runs the stages under ``out``, skipping those whose output exists, and times them."""

    def __init__(self, out: Path, workers: int) -> None:
        self.out = out
        self.workers = workers
        self.seconds: dict[str, float] = {}

    def once(self, name: str, path: Path, make: Callable[[Path], None]) -> Path:
        """Make ``path`` with ``make(path)`` unless it exists; return it."""
        if not path.exists():
            print(f"-- {name}", flush=True)
            started = time.perf_counter()
            make(path)
            self.seconds[name] = time.perf_counter() - started
            print(f"   {name}: {self.seconds[name]:.0f} s", flush=True)
        return path

    def dataset(self, suite: str) -> Path:
        """The teacher's demonstrations of the suite's train tasks."""
        return self.once(
            f"{suite}: collect",
            self.out / suite / "teacher-data",
            lambda path: collect(
                "teacher",
                suite,
                "train",
                DEMOS.get(suite, 10 * len(get_suite(suite).train)),
                path,
                seed=COLLECT_SEED,
                workers=self.workers,
            ),
        )

    def model(self, name: str, path: Path, train: Callable[[], Any]) -> Path:
        """A trained model saved at ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        return self.once(name, path, lambda target: train().save(target))

    def bc_student(self, suite: str) -> Path:
        """The table's BC student, trained on the suite's demonstrations."""
        data = self.dataset(suite)
        return self.model(
            f"{suite}: train bc",
            self.out / suite / "models" / "bc.pt",
            lambda: bc.train(bc.BCConfig(dataset=str(data), hidden_sizes=BC_HIDDEN)),
        )

    def dagger(
        self,
        suite: str,
        hidden: tuple[int, ...] = BC_HIDDEN,
        name: str | None = None,
        **changes: Any,
    ) -> dagger.DAggerRun:
        """The suite's DAgger run of students of ``hidden`` widths (``DAGGER``), finished.

        ``changes`` replace fields of its ``DAggerConfig`` (``warm_start=False``,
        ``iterations=4``, ...) in a run of its own, under ``out/SUITE/NAME``; ``name``
        defaults to ``dagger``, or ``dagger-WxW`` for other widths.
        """
        demos, iterations, episodes = dagger_plan(suite)
        if name is None:
            name = "dagger" if hidden == BC_HIDDEN else "dagger-" + "x".join(map(str, hidden))
        config = dagger.DAggerConfig(
            suite=suite,
            work_dir=str(self.out / suite / name),
            demonstrations=str(self.dataset(suite)),
            demonstration_episodes=demos,
            iterations=iterations,
            episodes=episodes,
            hidden_sizes=hidden,
            workers=self.workers,
        )
        config = dataclasses.replace(config, **changes)
        run = dagger.DAggerRun(config)
        self.once(
            f"{suite}: train {name}",
            run.student_path(config.iterations),
            lambda _: dagger.train(config),
        )
        return run

    def record_seconds(self, name: str = "stage-seconds.json") -> dict[str, float]:
        """Merge this run's stage times into the JSON file ``out/name``; return them all."""
        timings = self.out / name
        recorded = json.loads(timings.read_text()) if timings.exists() else {}
        recorded.update(self.seconds)
        timings.parent.mkdir(parents=True, exist_ok=True)
        timings.write_text(json.dumps(recorded, indent=1))
        return recorded

    def score(
        self,
        suite: str,
        run: str,
        agent: str,
        track: str,
        variables: Mapping[str, str],
        episodes: int | None = None,
    ) -> dict[str, Any]:
        """A harness run's results, with ``variables`` set for its agent factory.

        ``episodes`` per task: the suite's (``EPISODES``) unless given.
        """
        path = self.out / suite / "runs" / run

        def make(target: Path) -> None:
            chosen = get_suite(suite)
            realtime = track == "realtime"
            config = RunConfig(
                suite=chosen.name,
                suite_hash=chosen.hash,
                track=track,
                agent=resolve_spec(agent),
                budget_ms=BUDGET_MS if realtime else None,
                clock="wall" if realtime else None,
                timeout_s=900.0,
            )
            os.environ.update(variables)  # spawned workers inherit it
            bench(
                config,
                agent_spec=agent,
                episodes=episodes or EPISODES.get(suite, 5),
                seeds=[SCORE_SEED],
                out_dir=target,
                workers=self.workers,
            )

        self.once(f"{suite}: {run}", path / "results.json", lambda _: make(path))
        return json.loads((path / "results.json").read_text())


def demonstration_cost(path: Path) -> tuple[int, int]:
    """Return a dataset's ``(steps, imagined)``: env steps it holds, periods its agent imagined."""
    dataset = load_dataset(path)
    episodes = dataset.storage.get_episode_metadata(range(dataset.total_episodes))
    return int(dataset.total_steps), sum(int(meta["think_steps"]) for meta in episodes)


def describe_dataset(path: Path) -> str:
    """Say what a dataset of demonstrations holds and what it cost, in one sentence."""
    dataset = load_dataset(path)
    episodes = list(dataset.storage.get_episode_metadata(range(dataset.total_episodes)))
    steps, imagined = demonstration_cost(path)
    successes = sum(bool(meta["success"]) for meta in episodes)
    think_s = sum(float(meta["think_s"]) for meta in episodes)
    agent = dataset.storage.metadata["portia"]["agent"]["spec"]
    return (
        f"Demonstrations: {len(episodes)} {agent} episodes of the train tasks, {steps:,} "
        f"steps, {100 * successes / len(episodes):.0f}% success, {think_s / steps:.3f} s "
        f"thinking and {imagined / steps:.0f} imagined periods per decision."
    )


def parameter_count(module: Any) -> int:
    """Trainable parameters of a torch module."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def suite_rows(stages: Stages, suite: str) -> list[Row]:
    """Collect, train and score everything of one suite; return its table's rows."""
    data = stages.dataset(suite)
    steps, imagined = demonstration_cost(data)
    models = stages.out / suite / "models"
    bc_path = stages.bc_student(suite)
    dt_path = stages.model(
        f"{suite}: train dt", models / "dt.pt", lambda: dt.train(dt.DTConfig(dataset=str(data)))
    )
    ppo_path = stages.model(
        f"{suite}: train ppo",
        models / "ppo.pt",
        lambda: ppo.train(ppo.PPOConfig(suite=suite, total_steps=steps, num_steps=PPO_ROLLOUT)),
    )
    # Per learner: its row's name, run, kind (baselines.KIND:make_agent plays the model),
    # model, steps, imagined periods, network.
    bc_policy, dt_policy = bc.BCPolicy.load(bc_path), dt.DTPolicy.load(dt_path)
    ppo_policy = ppo.PPOPolicy.load(ppo_path)
    learners = [
        ("BC student", "bc", "bc", bc_path, steps, imagined, bc_policy.network),
        *dagger_learners(stages.dagger(suite)),
        ("DT student", "dt", "dt", dt_path, steps, imagined, dt_policy.model),
        (
            "PPO from scratch",
            "ppo",
            "ppo",
            ppo_path,
            ppo_policy.env_steps,
            None,
            ppo_policy.model.actor_mean,
        ),
    ]
    # The learners are scored first: the paused teacher is the longest stage.
    students = [
        Row(
            label,
            "realtime",
            stages.score(
                suite,
                run,
                f"baselines.{kind}:make_agent",
                "realtime",
                {model_variable(kind): str(model)},
            ),
            env_steps=used,
            parameters=parameter_count(network),
            imagined=thought,
        )
        for label, run, kind, model, used, thought, network in learners
    ]
    return [*teacher_rows(stages, suite), *students]


def teacher_rows(stages: Stages, suite: str) -> list[Row]:
    """Score the teacher paused, then in real time, on the suite; their rows.

    The paused teacher's row costs what its demonstrations did.
    """
    steps, imagined = demonstration_cost(stages.dataset(suite))
    realtime = stages.score(suite, "teacher-realtime", "teacher", "realtime", {})
    paused = stages.score(
        suite, "teacher-paused", "teacher", "paused", {}, episodes=paused_teacher_episodes(suite)
    )
    return [
        Row("teacher", "paused", paused, env_steps=steps, imagined=imagined),
        Row("teacher", "realtime", realtime),
    ]


def dagger_learners(
    run: dagger.DAggerRun, label: str = "DAgger student"
) -> list[tuple[str, str, str, Path, int, int, Any]]:
    """A finished DAgger run's students after each iteration, as ``suite_rows``' learners.

    Each is a BC checkpoint played by ``baselines.bc:make_agent``, named ``label, k
    iterations`` and run ``NAME-k`` (``NAME`` the run's directory); its cost is that of every
    label it learnt from (``DAggerRun.cost``).
    """
    name = run.root.name
    learners = []
    for index in range(1, run.config.iterations + 1):
        path = run.student_path(index)
        labels, imagined = run.cost(index)
        plural = "s" if index > 1 else ""
        learners.append(
            (
                f"{label}, {index} iteration{plural}",
                f"{name}-{index}",
                "bc",
                path,
                labels,
                imagined,
                bc.BCPolicy.load(path).network,
            )
        )
    return learners


def student_row(
    stages: Stages,
    suite: str,
    label: str,
    run: str,
    model: Path,
    env_steps: int | None = None,
    imagined: int | None = None,
) -> Row:
    """Score a BC checkpoint (a BC or DAgger student) in real time as run ``run``; its row."""
    results = stages.score(
        suite, run, "baselines.bc:make_agent", "realtime", {bc.MODEL_VARIABLE: str(model)}
    )
    network = bc.BCPolicy.load(model).network
    return Row(
        label,
        "realtime",
        results,
        env_steps=env_steps,
        parameters=parameter_count(network),
        imagined=imagined,
    )


def sweep_rows(stages: Stages, suite: str, widths: Sequence[int]) -> list[Row]:
    """Train and score a BC student per width (two hidden layers) on the suite's dataset."""
    data = stages.dataset(suite)
    rows = []
    for width in widths:
        # The table's BC student is one of the widths: its model and run are reused.
        name = "bc" if (width, width) == BC_HIDDEN else f"bc-{width}x{width}"
        config = bc.BCConfig(dataset=str(data), hidden_sizes=(width, width))
        path = stages.model(
            f"{suite}: train {name}",
            stages.out / suite / "models" / f"{name}.pt",
            lambda config=config: bc.train(config),
        )
        rows.append(student_row(stages, suite, f"{width}, {width}", name, path))
    return rows


def dagger_sweep_rows(stages: Stages, suite: str, widths: Sequence[int]) -> list[Row]:
    """Run DAgger per width (two hidden layers) on the suite; score each final student."""
    rows = []
    for width in widths:
        last = dagger_learners(stages.dagger(suite, (width, width)))[-1]
        _, run, _, model, used, thought, _ = last
        rows.append(student_row(stages, suite, f"{width}, {width}", run, model, used, thought))
    return rows


# A size sweep for the page: (learner, suite, rows).
Sweep = tuple[str, str, Sequence[Row]]
# What each learner's sweep students were trained on, for the page.
SWEEP_TRAINING = {
    "BC": "trained on the same demonstrations",
    "DAgger": "each its own DAgger run with the table's settings (the students it rolls out "
    "are its own width)",
}


def timings_table(seconds: Mapping[str, float]) -> str:
    """Return the Markdown table of the stages' wall times, in minutes."""
    lines = ["| stage | minutes |", "|---|---|"]
    lines += [f"| {name} | {value / 60:.1f} |" for name, value in seconds.items()]
    return "\n".join(lines)


def document(
    tables: Mapping[str, Sequence[Row]],
    sweeps: Sequence[Sweep],
    seconds: Mapping[str, float],
    doc: Path,
    workers: int,
    datasets: Mapping[str, str] | None = None,
) -> str:
    """Return the Markdown page: how it was made, the tables, the plots."""
    figures = doc.parent / doc.stem
    figures.mkdir(parents=True, exist_ok=True)
    plot_scores(tables, figures / "scores.png")
    parts = [
        "# Results: the teacher, its students and PPO",
        "",
        f"Made by `python scripts/results_table.py` in {sum(seconds.values()) / 60:.0f} min "
        f"on a {os.cpu_count()}-core machine with {workers} worker processes (each stage's "
        "time is at the end). Success rate leads: per task the share of episodes that "
        "succeeded, averaged over the split's tasks, with bootstrap 95% intervals; the success "
        "gap is the train rate minus the held-out rate, in percentage points. Normalized "
        "scores (the reference teacher 100, random 0; IQM over episodes with bootstrap 95% "
        "intervals) come second: a dense distance reward normalized to the teacher saturates, "
        "so a student that hovers near the goal without reaching it still scores 90 or more. "
        f"Scored with run seed {SCORE_SEED}: "
        f"other reset seeds than the demonstrations' (run seed {COLLECT_SEED}). Real time: "
        f"a {BUDGET_MS:g} ms budget, latency measured on the wall clock (the teacher's is its "
        "thinking). Env steps: the states each learner learnt from, one teacher label each "
        "for BC, the DT and DAgger (the demonstrations' steps, and for DAgger its rollouts' "
        "too), the steps PPO took; on the teacher's row, those of its demonstrations. "
        "Teacher-imagined periods: the control periods the teacher imagined, time paused, to "
        "decide those labels, the other cost of a student. The DAgger student after k "
        "iterations learnt from the first demonstrations (BC) and k rounds of its own "
        "rollouts, every visited state labelled by the teacher (`baselines.dagger`).",
    ]
    for suite, rows in tables.items():
        episodes, paused = EPISODES.get(suite, 5), paused_teacher_episodes(suite)
        scored = f"Scored: {episodes} episodes per task" + (
            f" (the paused teacher: {paused})." if paused != episodes else "."
        )
        parts += [
            "",
            f"## {suite}",
            "",
            f"{(datasets or {}).get(suite, '')} {scored}".strip(),
            "",
            scores_table(rows),
            "",
            "Success per task family (mean over the family's tasks in each split):",
            "",
            family_table(rows),
        ]
    parts += ["", f"![success rate and IQM per agent and split]({figures.name}/scores.png)"]
    for learner, suite, rows in sweeps:
        image = f"student-size-{learner.lower()}-{suite}.png"
        plot_sweep(suite, rows, figures / image, learner)
        parts += [
            "",
            f"## How small can the {learner} student be? ({suite})",
            "",
            f"{learner} students with two hidden layers of each width, "
            f"{SWEEP_TRAINING.get(learner, '')}, scored in real time ({BUDGET_MS:g} ms).",
            "",
            sweep_table(rows),
            "",
            f"![success rate and IQM against {learner} student size]({figures.name}/{image})",
        ]
    parts += ["", "## Run time per stage", "", timings_table(seconds)]
    return "\n".join(parts) + "\n"


def with_headline_table(readme: str, table: str) -> str:
    """Return ``readme`` with the first table of its Results section replaced by ``table``.

    Raises:
        ValueError: If the README has no Results section, or no table in it.
    """
    head, found, rest = readme.partition(f"\n{README_SECTION}\n")
    lines = rest.split("\n")
    rows = [index for index, line in enumerate(lines) if line.startswith("|")]
    if not found or not rows:
        raise ValueError(f"the README has no table under {README_SECTION!r} to replace")
    first = rows[0]
    last = first
    while last + 1 < len(lines) and lines[last + 1].startswith("|"):
        last += 1
    lines[first : last + 1] = table.rstrip("\n").split("\n")
    return head + found + "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Run every stage not yet done and write the page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suites", nargs="+", default=list(SUITES))
    parser.add_argument("--out", type=Path, default=Path("runs/results"))
    parser.add_argument("--doc", type=Path, default=Path("docs/results.md"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--episodes", type=int, help="Scored episodes per task (all suites).")
    parser.add_argument("--demos", type=int, help="Teacher episodes per suite (all suites).")
    parser.add_argument("--widths", type=int, nargs="*", default=list(SWEEP_WIDTHS))
    parser.add_argument(
        "--dagger-widths",
        type=int,
        nargs="*",
        default=list(DAGGER_SWEEP_WIDTHS),
        help=f"Widths of the DAgger size sweep on {HEADLINE_SUITE} (none: no sweep).",
    )
    parser.add_argument(
        "--readme", type=Path, default=Path("README.md"), help="Whose Results table to write."
    )
    args = parser.parse_args(argv)
    for suite in args.suites:
        get_suite(suite)  # an unknown name fails here, before any work
        if args.episodes is not None:
            EPISODES[suite] = args.episodes
        if args.demos is not None:
            DEMOS[suite] = args.demos
    stages = Stages(args.out, args.workers)
    tables = {suite: suite_rows(stages, suite) for suite in args.suites}
    sweeps: list[Sweep] = []
    if args.widths:
        suite = SWEEP_SUITE if SWEEP_SUITE in args.suites else args.suites[0]
        sweeps.append(("BC", suite, sweep_rows(stages, suite, args.widths)))
    if args.dagger_widths and HEADLINE_SUITE in args.suites:
        rows = dagger_sweep_rows(stages, HEADLINE_SUITE, args.dagger_widths)
        sweeps.append(("DAgger", HEADLINE_SUITE, rows))
    recorded = stages.record_seconds()
    datasets = {suite: describe_dataset(stages.dataset(suite)) for suite in args.suites}
    args.doc.write_text(document(tables, sweeps, recorded, args.doc, args.workers, datasets))
    print(f"wrote {args.doc}")
    if HEADLINE_SUITE in tables and args.readme.is_file():
        readme = args.readme.read_text()
        args.readme.write_text(with_headline_table(readme, scores_table(tables[HEADLINE_SUITE])))
        print(f"wrote the {HEADLINE_SUITE} table into {args.readme}")


if __name__ == "__main__":
    main()
