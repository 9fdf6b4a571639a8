"""TorchScript policies: the same contract as ONNX, in TorchScript's terms.

A TorchScript policy file (``torch.jit.save``) keeps the ONNX contract
(``harness.onnx_policy``) with these forms:

- ``forward(self, observation: Dict[str, Tensor]) -> Tensor``: every observation key of the
  env as float32 ``[1, n]``; the action float32 ``[1, action_dim]``; or, recurrent,
- ``forward(self, observation: Dict[str, Tensor], state: Dict[str, Tensor])
  -> Tuple[Tensor, Dict[str, Tensor]]`` with a method ``initial_state() -> Dict[str,
  Tensor]`` giving the state at an episode's start;
- the metadata, the same keys as ONNX's ``metadata_props``, as the JSON object of the
  archive's extra file ``portia.json`` (``torch.jit.save(..., _extra_files=...)``).

The file is checked to be a TorchScript archive (a zip with ``code/`` and
``constants.pkl``) before torch reads it: a bare pickle, or a ``torch.save`` checkpoint of
Python objects, is refused without being unpickled.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np

from portia_envs.harness.onnx_policy import (
    MAX_POLICY_BYTES,
    META_NAME,
    META_VERSION,
    PolicyContractError,
    agent_threads,
    check_metadata,
    observation_sizes,
    shared_layout_of,
)

# The archive's extra file that holds the metadata.
METADATA_FILE = "portia.json"


def is_torchscript_archive(path: Path) -> bool:
    """Whether ``path`` is a TorchScript archive: a zip holding ``code/`` and constants."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    return any("/code/" in name for name in names) and any(
        name.endswith("/constants.pkl") for name in names
    )


class TorchScriptPolicy:
    """A TorchScript policy acting in an env, its recurrent state kept between calls.

    Args:
        path: The archive.
        env: The env it acts in (its spaces are checked).

    Raises:
        PolicyContractError: If the file is no TorchScript archive, or breaks the contract.
    """

    def __init__(self, path: Path, env: gymnasium.Env) -> None:
        import torch

        if path.stat().st_size > MAX_POLICY_BYTES:
            raise PolicyContractError(
                f"{path} is over the {MAX_POLICY_BYTES / 2**20:.0f} MiB a policy file may be"
            )
        if not is_torchscript_archive(path):
            raise PolicyContractError(
                f"{path} is not a TorchScript archive (torch.jit.save writes one); it is not "
                f"read further, since unpickling a file of unknown origin can run its code"
            )
        torch.set_num_threads(agent_threads())
        extra = {METADATA_FILE: ""}
        try:
            self.module = torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
        except Exception as error:  # torch raises RuntimeError and others on a bad archive
            raise PolicyContractError(f"{path} is a damaged TorchScript archive: {error}") from None
        self.module.eval()
        try:
            metadata = json.loads(extra[METADATA_FILE] or "null")
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise PolicyContractError(f"{path}'s {METADATA_FILE} is not JSON: {error}") from None
        if not isinstance(metadata, dict):
            raise PolicyContractError(
                f"{path} has no extra file {METADATA_FILE} with the contract's metadata (a "
                f"JSON object of the keys ONNX keeps in metadata_props); `portia export "
                f"--format torchscript` writes it"
            )
        name = str(path)
        check_metadata(
            {str(k): str(v) for k, v in metadata.items()},
            env.observation_space,
            env.action_space,
            shared_layout_of(env),
            name,
        )
        self.recurrent = len(self.module.forward.schema.arguments) == 3
        if self.recurrent and not hasattr(self.module, "initial_state"):
            raise PolicyContractError(
                f"{name}'s forward takes a state, but it has no method initial_state() "
                f"-> Dict[str, Tensor]"
            )
        self._keys = list(observation_sizes(env.observation_space))
        self._action_shape = (1, *env.action_space.shape)
        self.name = str(metadata.get(META_NAME) or path.stem)
        self.version = metadata.get(META_VERSION)
        self.reset()
        zero = {
            key: np.zeros(size, np.float32)
            for key, size in observation_sizes(env.observation_space).items()
        }
        self._forward(zero, check=True)
        self.reset()

    def reset(self) -> None:
        """Start an episode: the state back to ``initial_state()``."""
        self._state = self.module.initial_state() if self.recurrent else None

    def act(self, observation: Any) -> np.ndarray:
        """Return the policy's action for one observation, shape ``(action_dim,)`` float32."""
        return self._forward(observation)

    def _forward(self, observation: Any, check: bool = False) -> np.ndarray:
        """Run ``forward`` once; with ``check``, refuse an output of the wrong shape."""
        import torch

        tensors = {
            key: torch.as_tensor(
                np.asarray(
                    observation[key] if isinstance(observation, Mapping) else observation,
                    dtype=np.float32,
                ).reshape(1, -1)
            )
            for key in self._keys
        }
        with torch.inference_mode():
            if self.recurrent:
                action, self._state = self.module(tensors, self._state)
            else:
                action = self.module(tensors)
        if check and (
            not isinstance(action, torch.Tensor)
            or tuple(action.shape) != self._action_shape
            or action.dtype != torch.float32
        ):
            found = (
                f"{action.dtype} {list(action.shape)}"
                if isinstance(action, torch.Tensor)
                else type(action).__name__
            )
            raise PolicyContractError(
                f"the TorchScript policy returns {found}; the contract needs float32 "
                f"{list(self._action_shape)}"
            )
        return action.numpy()[0]
