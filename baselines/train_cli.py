"""The ``portia train`` command: train a baseline, with a progress bar and a training curve.

Examples::

    portia train bc --dataset data/smoke --out bc_smoke.pt
    portia train bc --dataset data/reach --out bc_reach.pt --epochs 50 --hidden-sizes 128 128
    portia train bc --help

``portia train ALGORITHM`` imports ``baselines.<module>`` of ``ALGORITHMS`` (only then, so
``import portia_envs`` never imports torch), turns the fields of its config into options,
trains, saves the policy to ``--out`` and draws the curve beside it (``MODEL-curve.png``).

The contract a baselines module meets to be trained here (one line in ``ALGORITHMS``):

- ``TRAIN_CONFIG``: a ``@dataclass`` type. ``tyro`` makes each field an option
  ``--field-name`` of its annotated type (a ``bool`` is ``--x/--no-x``, a tuple takes
  several values, ``--hidden-sizes 64 64``, an optional value may be ``None``); a field
  without a default is a required option; the field's docstring is its help. The config
  checks its own values and raises a ``PortiaError`` for a bad one.
- ``train(config, *, on_progress=None) -> policy``: ``on_progress(done, total, metrics)``
  after each unit of work (``done`` may start at 0, before any), ``metrics`` a mapping of
  names to floats, such as ``{"train_loss": 0.1, "validation_loss": 0.2}``. It raises a
  ``PortiaError`` (such as ``DatasetError``) for bad input.
- the policy's ``save(path)`` writes it to the path ``--out`` names.
- optionally ``PROGRESS_UNIT``, the name of the unit ``done`` counts (default ``"step"``).

The curve has one panel for every metric whose name ends in ``loss`` (log scale when all are
positive) and one per other metric, against ``done``.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import math
import types
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from portia_envs.cli.common import (
    EXIT_BAD_FILE,
    EXIT_INTERRUPTED,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    fail,
)
from portia_envs.errors import PortiaError, did_you_mean

# Algorithm name -> the baselines module that trains it (see the module docstring).
ALGORITHMS = {
    "bc": "baselines.bc",
    "dt": "baselines.dt",
    "ppo": "baselines.ppo",
    "dagger": "baselines.dagger",
}
# How ``portia_envs.cli`` registers the command: its options are the algorithm's, parsed here.
TRAIN_CONTEXT_SETTINGS = {
    "allow_extra_args": True,
    "ignore_unknown_options": True,
    "help_option_names": [],
}
# The options every algorithm has, besides its config's.
OUT_HELP = "Where the trained policy is written; the curve goes beside it as <stem>-curve.png."
OVERWRITE_HELP = "Replace the file --out names if it exists."
# The words a user asks for help with.
HELP_FLAGS = ("--help", "-h")


def train(
    ctx: typer.Context,
    algorithm: Annotated[
        str | None,
        typer.Argument(
            help=f"What to train: {', '.join(ALGORITHMS)}. `portia train ALGORITHM --help` "
            "lists its options.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Train a baseline policy (bc, dt, ppo or dagger) and save it with its training curve.

    `portia train bc --dataset DIR --out MODEL.pt` trains behaviour cloning on a dataset
    written by `portia collect`. A progress bar goes to stderr; when it is done the final
    metrics and the files written are printed: the policy at --out, and its training curve
    (train and validation loss per epoch) beside it as MODEL-curve.png. Score the policy
    with `portia bench`, through a factory that loads it (for bc:
    `PORTIA_BC_MODEL=MODEL.pt portia bench --agent baselines.bc:make_agent ...`).
    """
    arguments = list(ctx.args)
    if algorithm is None or algorithm in HELP_FLAGS:
        if algorithm in HELP_FLAGS or any(flag in arguments for flag in HELP_FLAGS):
            typer.echo(ctx.get_help())
            raise typer.Exit(0)
        fail(
            f"name what to train: {', '.join(ALGORITHMS)}; for example "
            f"`portia train bc --dataset DIR --out MODEL.pt`",
            EXIT_USAGE,
        )
    if algorithm not in ALGORITHMS:
        fail(
            f"unknown algorithm {algorithm!r}{did_you_mean(algorithm, ALGORITHMS)}; "
            f"accepted: {', '.join(ALGORITHMS)}",
            EXIT_USAGE,
        )
    module = load_algorithm(algorithm)
    config, out, overwrite = parse_options(algorithm, module, arguments)
    if out.is_dir():
        fail(
            f"--out {out} is a directory; give the file to write, such as {out}/model.pt",
            EXIT_USAGE,
        )
    if out.exists() and not overwrite:
        fail(f"{out} exists; pass --overwrite to replace it", EXIT_USAGE)
    from baselines.common import write_curve  # after load_algorithm: it needs torch

    curve_path = out.with_name(f"{out.stem}-curve.png")
    unit = str(getattr(module, "PROGRESS_UNIT", "step"))
    curve: list[tuple[int, dict[str, float]]] = []
    policy = _train_with_progress(module, config, algorithm, unit, out, curve)
    out.parent.mkdir(parents=True, exist_ok=True)
    policy.save(out)
    write_curve(curve, unit, curve_path, title=f"{algorithm} on {_source(config)}")
    final = _metrics_text(curve[-1][1]) if curve else "no metrics reported"
    size_kb = out.stat().st_size / 1e3 if out.is_file() else math.nan
    done = curve[-1][0] if curve else 0
    typer.echo(
        f"trained {algorithm} for {done} {unit}s: {final}; wrote the policy to {out} "
        f"({size_kb:.0f} KB) and its training curve to {curve_path}"
    )


def load_algorithm(algorithm: str) -> types.ModuleType:
    """Import the module that trains ``algorithm`` and check it meets the contract.

    Exits with code 1 if it or what it needs (torch) is not installed, or it does not
    meet the contract.
    """
    name = ALGORITHMS[algorithm]
    try:
        module = importlib.import_module(name)
    except ImportError as error:
        missing = error.name or str(error)
        if missing == name:
            fail(f"{name} is not installed, so {algorithm!r} cannot be trained", EXIT_UNAVAILABLE)
        fail(
            f'portia train {algorithm} needs {missing}: pip install "portia-envs[baselines]"',
            EXIT_UNAVAILABLE,
        )
    config_class = getattr(module, "TRAIN_CONFIG", None)
    if not (inspect.isclass(config_class) and dataclasses.is_dataclass(config_class)):
        fail(
            f"{name} has no TRAIN_CONFIG dataclass, so portia train cannot run it", EXIT_UNAVAILABLE
        )
    if not callable(getattr(module, "train", None)):
        fail(
            f"{name} has no train(config, on_progress=...), so portia train cannot run it",
            EXIT_UNAVAILABLE,
        )
    return module


def parse_options(
    algorithm: str, module: types.ModuleType, arguments: Sequence[str]
) -> tuple[Any, Path, bool]:
    """Return ``(config, out, overwrite)`` parsed by ``tyro`` from ``arguments``.

    The options are ``--out``, ``--overwrite`` and one per field of ``module.TRAIN_CONFIG``.
    ``--help`` prints them and exits 0; a missing, unknown or malformed option is
    reported by ``tyro`` (with the options that come close) and exits 2, as does a value the
    config refuses.
    """
    try:
        import tyro  # here, not at the top: `portia --help` need not load it
    except ImportError:
        fail(
            f'portia train {algorithm} needs tyro: pip install "portia-envs[baselines]"',
            EXIT_UNAVAILABLE,
        )

    config_class = module.TRAIN_CONFIG

    # Built, not written as a class: the config's type is known only now.
    run_options = dataclasses.make_dataclass(
        "TrainRun",
        [
            ("out", Annotated[Path, tyro.conf.arg(help=OUT_HELP)]),
            ("config", Annotated[config_class, tyro.conf.arg(name="")]),
            ("overwrite", Annotated[bool, tyro.conf.arg(help=OVERWRITE_HELP)], False),
        ],
        frozen=True,
    )

    summary = (inspect.getdoc(module) or "").split("\n")[0]
    try:
        run = tyro.cli(
            run_options, args=list(arguments), prog=f"portia train {algorithm}", description=summary
        )
    except PortiaError as error:
        fail(f"{error}; see `portia train {algorithm} --help`", EXIT_USAGE)
    return run.config, run.out, run.overwrite


def _train_with_progress(
    module: types.ModuleType,
    config: Any,
    algorithm: str,
    unit: str,
    out: Path,
    curve: list[tuple[int, dict[str, float]]],
) -> Any:
    """Run ``module.train`` under a progress bar on stderr, recording what it reports."""
    progress = Progress(
        TextColumn(f"{algorithm}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(f"{unit}s"),
        TextColumn("{task.fields[metrics]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    bar = progress.add_task(algorithm, total=None, metrics="")

    def on_progress(done: int, total: int, metrics: Mapping[str, float]) -> None:
        if not curve:  # the bar shows once training has begun, not while data loads
            progress.start()
        curve.append((int(done), {name: float(value) for name, value in metrics.items()}))
        progress.update(bar, completed=done, total=total, metrics=_metrics_text(metrics))

    try:
        return module.train(config, on_progress=on_progress)
    except KeyboardInterrupt:
        fail(f"interrupted: nothing was written to {out}", EXIT_INTERRUPTED)
    except PortiaError as error:
        fail(str(error), EXIT_BAD_FILE)
    finally:
        if curve:
            progress.stop()


def _metrics_text(metrics: Mapping[str, float]) -> str:
    """Return metrics as ``train loss 0.0123, validation loss 0.0145``."""
    return ", ".join(f"{name.replace('_', ' ')} {value:.4g}" for name, value in metrics.items())


def _source(config: Any) -> str:
    """Return what the config trains on, for the curve's title: its dataset or suite."""
    for name in ("dataset", "suite", "env_id"):
        value = getattr(config, name, None)
        if value is not None:
            return Path(str(value)).name if name == "dataset" else str(value)
    return type(config).__name__


def register(app: typer.Typer) -> None:
    """Add ``portia train`` to the ``portia`` command line (the ``portia.commands`` entry point)."""
    app.command(context_settings=TRAIN_CONTEXT_SETTINGS)(train)
