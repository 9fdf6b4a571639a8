"""What BC, DT and PPO share: the checkpoint file, the model variable, ``make_agent``, the curve.

**The checkpoint.** Every baseline saves one format, a ``torch.save`` of::

    {"format": "portia-checkpoint", "version": 1, "kind": "bc", "content": {...}}

``content`` holds tensors and plain values only, so ``load_checkpoint`` reads it with
``torch.load(weights_only=True)``, which runs no code from the file. ``kind`` names the
algorithm (``bc``, ``dt``, ``ppo``) whose ``load_agent`` plays it; ``portia bench --agent
MODEL.pt`` reads the header with ``portia_envs.harness.model_agents.checkpoint_kind``.
Files written before this format (a ``format`` of ``portia-bc``, ``portia-dt`` or
``portia-ppo/1``, the content beside it) are read as they are: nothing saved is lost.

**The model variable.** ``baselines.KIND:make_agent``, the agent spec the harness calls,
plays the model at ``$PORTIA_KIND_MODEL`` (``model_variable``), e.g.
``PORTIA_BC_MODEL=bc.pt portia bench --agent baselines.bc:make_agent ...``.

**The curve.** ``write_curve`` draws what training reported through ``on_progress``:
``portia train`` writes it beside the model as ``MODEL-curve.png``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import torch

from portia_envs.errors import PortiaError
from portia_envs.harness.model_agents import CHECKPOINT_FORMAT, checkpoint_kind
from portia_envs.harness.onnx_policy import agent_threads

# The version of the checkpoint layout ``save_checkpoint`` writes and ``load_checkpoint`` reads.
CHECKPOINT_VERSION = 1
# The header entries of a checkpoint written before ``CHECKPOINT_FORMAT``; the rest is content.
_LEGACY_HEADER = ("format", "format_version")
# How messages name each kind's models.
KIND_NAMES = {"bc": "BC", "dt": "Decision Transformer", "ppo": "PPO"}
# Resolution of the curve's PNG.
CURVE_DPI = 100


def is_integer(value: Any) -> bool:
    """Whether ``value`` is an integer, Python's or NumPy's (bools are not)."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def model_variable(kind: str) -> str:
    """Return the variable naming the model ``make_agent`` plays, such as ``PORTIA_BC_MODEL``."""
    return f"PORTIA_{kind.upper()}_MODEL"


def save_checkpoint(path: Path | str, kind: str, content: Mapping[str, Any]) -> Path:
    """Write a checkpoint of ``kind`` holding ``content`` to ``path`` (its folder is created).

    Args:
        path: The file to write (by convention ``.pt``).
        kind: The algorithm that reads it back: ``"bc"``, ``"dt"`` or ``"ppo"``.
        content: Tensors and plain values only (``weights_only`` loading refuses others).

    Returns:
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "kind": kind}
    torch.save({**header, "content": dict(content)}, path)
    return path


def load_checkpoint(path: Path | str, kind: str, error: type[PortiaError]) -> dict[str, Any]:
    """Return the content of the ``kind`` checkpoint at ``path``, read on the CPU.

    Args:
        path: The file.
        kind: The kind it must be (``"bc"``, ``"dt"``, ``"ppo"``).
        error: The error to raise, the algorithm's own (such as ``BCModelError``).

    Returns:
        What ``save_checkpoint`` was given as ``content`` (for a file written before
        ``CHECKPOINT_FORMAT``, its entries but the header).

    Raises:
        error: If the file is missing, is not a checkpoint torch reads with
            ``weights_only=True``, is of another kind, or of a newer version.
    """
    path, name = Path(path), KIND_NAMES.get(kind, kind)
    if not path.is_file():
        raise error(
            f"no {name} model at {path}: the file does not exist; "
            f"`portia train {kind} ... --out {path}` writes one"
        )
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as failure:  # torch raises many types for a file that is not its own
        raise error(
            f"{path} is not a {name} model: torch does not read it with weights_only=True "
            f"({type(failure).__name__}: {failure})"
        ) from failure
    found = checkpoint_kind(saved)
    if found != kind:
        what = f"a {KIND_NAMES.get(found, found)} model" if found else "no Portia checkpoint"
        raise error(f"{path} is not a {name} model: it is {what}")
    if saved.get("format") != CHECKPOINT_FORMAT:
        return {key: value for key, value in saved.items() if key not in _LEGACY_HEADER}
    version = saved.get("version")
    if version != CHECKPOINT_VERSION or not isinstance(saved.get("content"), dict):
        raise error(
            f"{path} is a {name} model of checkpoint version {version!r}; this Portia reads "
            f"version {CHECKPOINT_VERSION}"
        )
    return saved["content"]


def agent_from_variable(
    kind: str, load_agent: Callable[[str, gymnasium.Env], Any], error: type[PortiaError], hint: str
) -> Callable[[gymnasium.Env], Any]:
    """Return ``make_agent(env)``: the policy at ``$PORTIA_KIND_MODEL``, loaded for ``env``.

    The returned factory is what ``--agent baselines.KIND:make_agent`` names. It sets torch
    to the threads an agent process may use (``PORTIA_AGENT_THREADS``, default 1), as the
    harness does for a model file given as ``--agent MODEL.pt``.

    Args:
        kind: The algorithm (``"bc"``, ...): its variable is ``model_variable(kind)``.
        load_agent: ``load_agent(path, env)``, the algorithm's loader.
        error: The error to raise when the variable is unset.
        hint: Said after how to set the variable, such as the shipped models' specs.
    """
    variable = model_variable(kind)

    def make_agent(env: gymnasium.Env) -> Any:
        path = os.environ.get(variable)
        if not path:
            raise error(
                f"set {variable} to the path of a {KIND_NAMES.get(kind, kind)} model (`portia "
                f"train {kind} ... "
                f"--out MODEL.pt` writes one): {variable}=MODEL.pt portia bench --agent "
                f"baselines.{kind}:make_agent ...{hint}"
            )
        torch.set_num_threads(agent_threads())
        return load_agent(path, env)

    make_agent.__doc__ = (
        f"Return the {kind} policy at ``${variable}``, checked against ``env``: the agent "
        f"spec ``baselines.{kind}:make_agent``."
    )
    return make_agent


def write_curve(
    curve: Sequence[tuple[int, Mapping[str, float]]], unit: str, path: Path, *, title: str
) -> None:
    """Draw the metrics reported during training against progress, as a PNG.

    One panel holds every metric whose name ends in ``loss`` (log scale when all are
    positive); each other metric has a panel of its own.

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
