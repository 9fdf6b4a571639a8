"""Model files as agents: which kind a file is, from its own contents, and the agent it makes.

``portia bench --agent policy.onnx`` (or ``.pt``, ``.ts``, ``.zip``) runs the model in the
agent's process. The kind is read from the file, never trusted from its name:

- a TorchScript archive (a zip with ``code/``): ``harness.torchscript_policy``;
- a Stable-Baselines3 archive (a zip with ``data`` and ``policy.pth``): kind ``sb3``,
  loaded without unpickling anything;
- a ``torch.save`` checkpoint (a zip with ``data.pkl``), read with
  ``torch.load(weights_only=True)`` (tensors and plain values only) and recognized by its
  header (``checkpoint_kind``): a Portia BC, DT or PPO model (kind ``bc``, ``dt``, ``ppo``);
- any other file must parse as ONNX: ``harness.onnx_policy``.

A bare pickle, or a checkpoint of another origin, is refused without being unpickled.
The loaders of the checkpoint kinds are contributed (the ``portia.checkpoints`` entry
points, ``portia_envs.plugins``: ``baselines`` contributes all four).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import gymnasium

from portia_envs.errors import AgentSpecError
from portia_envs.harness.onnx_policy import (
    OnnxPolicy,
    PolicyContractError,
    agent_threads,
    read_policy,
)
from portia_envs.harness.torchscript_policy import TorchScriptPolicy, is_torchscript_archive
from portia_envs.plugins import CHECKPOINTS, PluginError, load
from wrappers.adapters import Agent

# The ``format`` entry of every Portia checkpoint: ``{"format": CHECKPOINT_FORMAT, "version":
# N, "kind": KIND, "content": {...}}`` (written by ``baselines.common.save_checkpoint``).
CHECKPOINT_FORMAT = "portia-checkpoint"
# The ``format`` entries of the checkpoints written before that one, and their kinds.
LEGACY_FORMATS = {"portia-bc": "bc", "portia-ppo/1": "ppo", "portia-dt": "dt"}
# The entries of a Decision Transformer checkpoint written before it had a ``format``.
_DT_ENTRIES = {"format_version", "config", "shape", "family_targets", "state_dict"}
# Every kind of model file, and what it is.
MODEL_KINDS = {
    "onnx": "an ONNX policy",
    "torchscript": "a TorchScript policy",
    "sb3": "a Stable-Baselines3 model",
    "bc": "a Portia behaviour-cloning checkpoint",
    "dt": "a Portia Decision Transformer checkpoint",
    "ppo": "a Portia PPO checkpoint",
}


def model_kind(path: Path) -> str:
    """Return which kind of model ``path`` holds (a key of ``MODEL_KINDS``), from its bytes.

    Raises:
        PolicyContractError: If it is none of them (a bare pickle is not unpickled).
    """
    if zipfile.is_zipfile(path):
        if is_torchscript_archive(path):
            return "torchscript"
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
        if {"data", "policy.pth"} <= names:
            return "sb3"
        if any(name.endswith("/data.pkl") for name in names):
            return _checkpoint_kind(path)
        raise PolicyContractError(
            f"{path} is a zip archive of no kind Portia knows (TorchScript, a "
            f"Stable-Baselines3 .zip, or a Portia checkpoint)"
        )
    try:
        read_policy(path)
    except PolicyContractError as error:
        raise PolicyContractError(
            f"{path} is no model Portia can run: not a zip archive (TorchScript, "
            f"Stable-Baselines3, a torch checkpoint) and not ONNX ({error}). A bare pickle is "
            f"never read: unpickling a file of unknown origin can run its code"
        ) from None
    return "onnx"


def model_factory(path: Path) -> Callable[[gymnasium.Env], Agent]:
    """Return the agent factory for a model file: called with the env, returns the agent.

    The factory carries ``name`` (the file's name), ``version`` (None: results identify
    the file by its hash) and ``kind``; the kind is found here, so
    a file of no known kind fails before any env is built.

    Raises:
        PolicyContractError: If the file is of no known kind.
    """
    kind = model_kind(path)

    def factory(env: gymnasium.Env) -> Agent:
        return build_model_agent(path, kind, env)

    factory.name = path.name  # type: ignore[attr-defined]
    factory.version = None  # type: ignore[attr-defined]  # the file's hash identifies it
    factory.kind = kind  # type: ignore[attr-defined]
    return factory


def build_model_agent(path: Path, kind: str, env: gymnasium.Env) -> Agent:
    """Return the agent that plays the model at ``path`` (of ``kind``) in ``env``.

    Raises:
        PolicyContractError: If an ONNX or TorchScript file breaks the contract.
        AgentSpecError: If no installed package loads checkpoints of ``kind``; or the
            loader's own errors, if a checkpoint does not fit ``env``.
    """
    if kind == "onnx":
        return OnnxPolicy(path, env)
    if kind == "torchscript":
        return TorchScriptPolicy(path, env)
    import torch

    torch.set_num_threads(agent_threads())
    # Checkpoints are the baselines' formats: their loaders are contributed, not imported.
    try:
        load_agent = load(CHECKPOINTS, kind)
    except PluginError as error:
        raise AgentSpecError(f"cannot play model {path}: {error}") from error
    return load_agent(path, env)


def _checkpoint_kind(path: Path) -> str:
    """Return the kind of a ``torch.save`` checkpoint, read with ``weights_only=True``."""
    import torch

    try:
        saved = torch.load(io.BytesIO(path.read_bytes()), map_location="cpu", weights_only=True)
    except Exception as error:  # torch refuses anything but tensors and plain values
        raise PolicyContractError(
            f"{path} is a torch checkpoint holding more than tensors and plain values; it is "
            f"not unpickled ({type(error).__name__}). Export the policy to ONNX or TorchScript"
        ) from None
    kind = checkpoint_kind(saved)
    if kind is None:
        found = saved.get("format") if isinstance(saved, dict) else None
        raise PolicyContractError(
            f"{path} is a torch checkpoint of no Portia format (its format entry: {found!r}; "
            f"known: {CHECKPOINT_FORMAT!r}). Export the policy to ONNX or TorchScript"
        )
    return kind


def checkpoint_kind(saved: object) -> str | None:
    """Return the kind a loaded Portia checkpoint names (``"bc"``, ...), or None if none.

    Args:
        saved: What ``torch.load`` returned.

    Returns:
        The ``kind`` entry of a ``CHECKPOINT_FORMAT`` file; for a file written before that
        format, the kind its ``format`` entry (``LEGACY_FORMATS``) or its entries imply.
    """
    if not isinstance(saved, dict):
        return None
    found = saved.get("format")
    if found == CHECKPOINT_FORMAT:
        kind = saved.get("kind")
        return kind if isinstance(kind, str) else None
    if isinstance(found, str) and found in LEGACY_FORMATS:
        return LEGACY_FORMATS[found]
    if found is None and _DT_ENTRIES <= set(saved):
        return "dt"
    return None
