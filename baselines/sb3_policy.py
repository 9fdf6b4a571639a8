"""Stable-Baselines3 models read without unpickling: the policy network and its weights.

An SB3 ``.zip`` holds ``data`` (JSON, where every non-JSON value is a cloudpickle blob),
``policy.pth`` (the policy's state dict) and the optimizer's. SB3's own ``load``
unpickles the blobs, which runs whatever code the file carries. Here nothing is unpickled:

- the policy's class is found from the readable fields SB3 writes beside the blob (its
  module, which must be ``stable_baselines3``'s, and the class named in its ``__init__``);
- the observation and action spaces are the env's, not the file's;
- ``policy_kwargs`` must be plain JSON (a pickled one, e.g. a custom ``activation_fn``, is
  refused with the reason);
- the weights are read with ``torch.load(weights_only=True)``, tensors only.

Observation normalization by ``VecNormalize`` lives outside the ``.zip`` and is not
applied: a model trained behind it must be exported with its statistics folded in.

``SB3Agent`` plays the policy as SB3's ``predict(deterministic=True)`` does.
"""

from __future__ import annotations

import importlib
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import torch

from portia_envs.errors import AgentSpecError

# The JSON key SB3 marks a pickled value with.
SERIALIZED = ":serialized:"
# Where a policy class must come from.
SB3_PACKAGE = "stable_baselines3"


class SB3ModelError(AgentSpecError):
    """A Stable-Baselines3 archive that cannot be read safely or does not fit the env."""


def read_archive(path: Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Return an SB3 archive's ``data`` (JSON, blobs left as they are) and policy weights.

    Raises:
        SB3ModelError: If ``data`` or ``policy.pth`` is missing or unreadable.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            data = json.loads(archive.read("data"))
            weights = torch.load(
                io.BytesIO(archive.read("policy.pth")), map_location="cpu", weights_only=True
            )
    except (KeyError, zipfile.BadZipFile, json.JSONDecodeError, RuntimeError) as error:
        raise SB3ModelError(
            f"{path} is not a readable Stable-Baselines3 archive: {error}"
        ) from None
    except Exception as error:  # weights_only refuses anything but tensors
        raise SB3ModelError(
            f"{path}'s policy.pth holds more than tensors ({type(error).__name__}); it is not "
            f"unpickled"
        ) from None
    return data, weights


def policy_class(data: dict[str, Any], path: Path) -> type:
    """Return the policy class an archive's ``data`` names, without unpickling it.

    Raises:
        SB3ModelError: If the class is not a ``stable_baselines3`` policy.
    """
    from stable_baselines3.common.policies import BasePolicy

    entry = data.get("policy_class")
    module = entry.get("__module__", "") if isinstance(entry, dict) else ""
    match = re.match(r"<function (\w+)\.__init__", str(entry.get("__init__", "")) if entry else "")
    if not module.startswith(SB3_PACKAGE + ".") or match is None:
        raise SB3ModelError(
            f"{path} names no Stable-Baselines3 policy class (module {module!r}); only SB3's "
            f"own policies are loaded from a .zip: export others to ONNX"
        )
    try:
        found = getattr(importlib.import_module(module), match.group(1))
    except (ImportError, AttributeError) as error:
        raise SB3ModelError(f"{path}'s policy class cannot be found: {error}") from None
    if not (isinstance(found, type) and issubclass(found, BasePolicy)):
        raise SB3ModelError(f"{path} names {found!r}, which is no SB3 policy")
    return found


def load_policy(path: Path, env: gymnasium.Env) -> Any:
    """Return the archive's SB3 policy, built for ``env``'s spaces with the saved weights.

    Raises:
        SB3ModelError: If the archive cannot be read safely or its weights do not fit.
    """
    data, weights = read_archive(path)
    cls = policy_class(data, path)
    kwargs = data.get("policy_kwargs", {})
    if not isinstance(kwargs, dict) or SERIALIZED in kwargs:
        raise SB3ModelError(
            f"{path}'s policy_kwargs are pickled Python objects (such as a custom "
            f"activation_fn); they are not unpickled. Export the model to ONNX with "
            f"`portia export` where it was trained, or train with JSON-only policy_kwargs"
        )
    if data.get("use_sde"):
        kwargs = {**kwargs, "use_sde": True}
    try:
        policy = cls(env.observation_space, env.action_space, lambda _: 0.0, **kwargs)
        policy.load_state_dict(weights)
    except (RuntimeError, TypeError, ValueError, KeyError) as error:
        raise SB3ModelError(
            f"{path} does not fit this env ({env.observation_space} -> {env.action_space}): "
            f"{str(error).splitlines()[0]}"
        ) from None
    policy.set_training_mode(False)
    return policy


class SB3Agent:
    """An SB3 policy acting as Portia's agent: ``predict(observation, deterministic=True)``.

    Args:
        policy: The SB3 policy (``load_policy``).
        name: How results name it.
    """

    def __init__(self, policy: Any, name: str) -> None:
        self.policy, self.name = policy, name

    @classmethod
    def load(cls, path: Path, env: gymnasium.Env) -> SB3Agent:
        """Return the agent of the SB3 archive at ``path``, for ``env`` (``load_policy``)."""
        return cls(load_policy(path, env), path.name)

    def act(self, observation: Any) -> np.ndarray:
        """Return the policy's deterministic action, clipped or unscaled as SB3 does."""
        action, _ = self.policy.predict(observation, deterministic=True)
        return np.asarray(action, dtype=np.float32)

    def reset(self) -> None:
        """Start an episode (the policy keeps no state)."""


def load_agent(path: str | Path, env: gymnasium.Env) -> SB3Agent:
    """Return the SB3 model saved at ``path`` as an agent for ``env`` (the ``sb3`` loader)."""
    return SB3Agent.load(path, env)
