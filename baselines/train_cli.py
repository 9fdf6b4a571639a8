"""The ``portia train`` command: train a baseline, with a progress bar and a training curve.

Examples::

    portia train bc --dataset data/smoke --out bc_smoke.pt
    portia train bc --dataset data/reach --out bc_reach.pt --epochs 50 --hidden-sizes 128,128
    portia train bc --help

``portia train ALGORITHM`` imports ``baselines.<module>`` of ``ALGORITHMS`` (only then, so
``import portia_envs`` never imports torch), turns the fields of its config into options,
trains, saves the policy to ``--out`` and draws the curve beside it (``MODEL-curve.png``).

The contract a baselines module meets to be trained here (one line in ``ALGORITHMS``):

- ``TRAIN_CONFIG``: a ``@dataclass`` type. Each field is an option ``--field-name``, typed
  by its annotation (``int``, ``float``, ``str``, ``bool`` as ``--x/--no-x``, ``Path``,
  ``tuple[int, ...]`` or ``tuple[float, ...]`` as ``1,2,3``, or any of these ``| None``,
  given as ``none``); a field without a default is a required option; the field's
  docstring is its help. Options may be abbreviated to a unique prefix (``--hidden``).
  The config checks its own values and raises ``ValueError`` for a bad one.
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

import argparse
import ast
import dataclasses
import importlib
import inspect
import math
import textwrap
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn

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
from portia_envs.errors import InvalidTypeError, PortiaError, did_you_mean

# Algorithm name -> the baselines module that trains it (see the module docstring).
ALGORITHMS = {
    "bc": "baselines.bc",
    "dt": "baselines.dt",
    "ppo": "baselines.ppo",
}
# How ``portia_envs.cli`` registers the command: its options are the algorithm's, parsed here.
TRAIN_CONTEXT_SETTINGS = {
    "allow_extra_args": True,
    "ignore_unknown_options": True,
    "help_option_names": [],
}
# The options every algorithm has, besides its config's.
OUT_HELP = "Where the trained policy is written; the curve goes beside it as <stem>-curve.png."
# The words a user asks for help with.
HELP_FLAGS = ("--help", "-h")
# Resolution of the curve's PNG.
CURVE_DPI = 100


class _UsageError(PortiaError):
    """A bad option, raised by the parser instead of exiting."""


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that raises ``_UsageError`` instead of printing and exiting."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


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
    """Train a baseline policy (bc, dt or ppo) and save it with its training curve.

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
    summary = (inspect.getdoc(module) or "").split("\n")[0]
    parser = config_parser(algorithm, module.TRAIN_CONFIG, summary)
    if any(flag in arguments for flag in HELP_FLAGS):
        typer.echo(parser.format_help())
        raise typer.Exit(0)
    try:
        options = parse_options(parser, arguments)
    except _UsageError as error:
        fail(f"{error}; see `portia train {algorithm} --help`", EXIT_USAGE)
    out, overwrite = Path(options.pop("out")), options.pop("overwrite")
    try:
        config = module.TRAIN_CONFIG(**options)
    except (TypeError, ValueError) as error:
        fail(str(error), EXIT_USAGE)
    if out.is_dir():
        fail(
            f"--out {out} is a directory; give the file to write, such as {out}/model.pt",
            EXIT_USAGE,
        )
    if out.exists() and not overwrite:
        fail(f"{out} exists; pass --overwrite to replace it", EXIT_USAGE)
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


def config_parser(
    algorithm: str, config_class: type, description: str = ""
) -> argparse.ArgumentParser:
    """Return the parser of ``portia train ALGORITHM``: ``--out``, ``--overwrite``, the config's.

    Args:
        algorithm: The algorithm's name, for the usage line.
        config_class: The config dataclass; see the module docstring for the field types.
        description: What the help says above the options.

    Raises:
        TypeError: If a field's type is none of those accepted (a bug of the module).
    """
    parser = _Parser(
        prog=f"portia train {algorithm}",
        description=description,
        add_help=False,
    )
    parser.add_argument("--out", required=True, metavar="PATH", help=OUT_HELP)
    parser.add_argument(
        "--overwrite", action="store_true", help="Replace the file --out names if it exists."
    )
    hints = typing.get_type_hints(config_class)
    docs = field_docs(config_class)
    for field in dataclasses.fields(config_class):
        flag = "--" + field.name.replace("_", "-")
        convert, metavar, is_bool = _converter(field.name, hints[field.name])
        kwargs: dict[str, Any] = {"dest": field.name, "help": docs.get(field.name, " ")}
        if is_bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs.update(type=convert, metavar=metavar)
        if field.default is not dataclasses.MISSING:
            kwargs["default"] = field.default
        elif field.default_factory is not dataclasses.MISSING:
            kwargs["default"] = field.default_factory()
        if "default" in kwargs:
            shown = kwargs["default"]
            shown = ",".join(map(str, shown)) if isinstance(shown, tuple) else shown
            kwargs["help"] += f" Default: {shown}."
        else:
            kwargs["required"] = True
            kwargs["help"] += " Required."
        parser.add_argument(flag, **kwargs)
    return parser


def parse_options(parser: argparse.ArgumentParser, arguments: Sequence[str]) -> dict[str, Any]:
    """Return the options parsed from ``arguments``, refusing any the parser does not know.

    Raises:
        _UsageError: For a missing, malformed or unknown option (with a did-you-mean).
    """
    namespace, unknown = parser.parse_known_args(list(arguments))
    if unknown:
        flags = [flag for action in parser._actions for flag in action.option_strings]
        first = unknown[0]
        if first.startswith("-"):
            name = first.partition("=")[0]
            raise _UsageError(f"unknown option {name!r}{did_you_mean(name, flags)}")
        raise _UsageError(f"unexpected argument {first!r}")
    return vars(namespace)


def field_docs(config_class: type) -> dict[str, str]:
    """Return each field's docstring (the string under its annotation), joined on one line."""
    try:
        source = textwrap.dedent(inspect.getsource(config_class))
    except (OSError, TypeError):
        return {}
    body = ast.parse(source).body[0].body  # type: ignore[attr-defined]
    docs = {}
    for node, following in zip(body, body[1:], strict=False):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            # Help is plain text: reStructuredText's double backquotes become single.
            text = " ".join(following.value.value.split()).replace("``", "`")
            docs[node.target.id] = text
    return docs


def write_curve(
    curve: Sequence[tuple[int, Mapping[str, float]]], unit: str, path: Path, *, title: str
) -> None:
    """Draw the metrics reported during training against progress, as a PNG.

    Args:
        curve: ``(done, metrics)`` as ``on_progress`` reported them, in order.
        unit: What ``done`` counts (the x axis).
        path: The PNG to write.
        title: The figure's title.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = list(dict.fromkeys(name for _, metrics in curve for name in metrics))
    losses = [name for name in names if name.endswith("loss")]
    panels = ([losses] if losses else []) + [[name] for name in names if name not in losses]
    panels = panels or [[]]
    figure = Figure(figsize=(6.5, 3.2 * len(panels)), dpi=CURVE_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(title)
    for index, panel in enumerate(panels):
        axes = figure.add_subplot(len(panels), 1, index + 1)
        values: list[float] = []
        for name in panel:
            points = [(done, m[name]) for done, m in curve if math.isfinite(m.get(name, math.nan))]
            if points:
                axes.plot(*zip(*points, strict=True), marker="." if len(points) < 30 else None)
                axes.lines[-1].set_label(name.replace("_", " "))
                values += [value for _, value in points]
        if panel is losses and values and min(values) > 0:
            axes.set_yscale("log")
        axes.set_xlabel(unit)
        axes.set_ylabel("loss" if panel is losses else (panel[0] if panel else ""))
        axes.grid(alpha=0.3)
        if axes.lines:
            axes.legend()
    figure.savefig(path, format="png")


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


def _converter(name: str, annotation: Any) -> tuple[Any, str, bool]:
    """Return (parse text -> value, metavar, is a bool flag) for a config field's type.

    Raises:
        TypeError: If the type is none of those accepted (see the module docstring).
    """
    optional = False
    if typing.get_origin(annotation) in (types.UnionType, typing.Union):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        optional = len(members) < len(typing.get_args(annotation))
        if len(members) != 1:
            raise InvalidTypeError(f"field {name!r}: a union other than X | None is not accepted")
        annotation = members[0]
    if annotation is bool:
        return bool, "", True
    if annotation in (int, float, str, Path):
        parse, metavar = annotation, {int: "INT", float: "FLOAT", str: "TEXT", Path: "PATH"}
        metavar = metavar[annotation]
    elif typing.get_origin(annotation) is tuple and typing.get_args(annotation)[1:] == (...,):
        item = typing.get_args(annotation)[0]
        if item not in (int, float):
            raise InvalidTypeError(f"field {name!r}: only tuples of int or float are accepted")

        def parse(text: str) -> tuple[Any, ...]:
            return tuple(item(part) for part in text.split(",") if part.strip())

        metavar = "A,B,..."
    else:
        raise InvalidTypeError(
            f"field {name!r}: type {annotation!r} is not accepted by portia train"
        )
    kind = {int: "an integer", float: "a number", str: "text", Path: "a path"}

    def convert(text: str) -> Any:
        if optional and text.strip().lower() == "none":
            return None
        try:
            return parse(text)
        except ValueError:
            expected = kind.get(annotation, "comma-separated numbers, such as 256,256")
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None

    return convert, metavar, False


def register(app: typer.Typer) -> None:
    """Add ``portia train`` to the ``portia`` command line (the ``portia.commands`` entry point)."""
    app.command(context_settings=TRAIN_CONTEXT_SETTINGS)(train)
