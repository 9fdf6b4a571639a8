"""Several bodies behind one action space and one observation space, every dimension named.

``MultiEmbodiment`` puts an env whose body describes itself (``wrappers.embodiment``) behind
the spaces of a ``SharedLayout``: actions and proprioception zero-padded to shared sizes with
validity masks, and a per-slot descriptor of what each action dimension drives (quantity,
limits, joint type and axis, link length), so that one policy can act for bodies of
different joint counts, and meet a body it was not trained on with a description rather
than an id. Envs of different bodies wrapped with the same layout have equal spaces, so
they batch in one Gymnasium vector env.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from wrappers.embodiment import Embodiment
from wrappers.errors import WrapperInputError
from wrappers.shared_layout import (
    SharedLayout,
    body_of,
    check_action_space,
    descriptor,
    split_observation_space,
    unified_observation_space,
)

PADDING_NAME = "padding (ignored)"


class MultiEmbodiment(gymnasium.Wrapper, gymnasium.utils.RecordConstructorArgs):
    """One shared action and observation space for bodies of different shapes.

    **Action** ``Box(-1, 1, (layout.action_size,), float32)``: slot ``i`` is the body's
    native action dimension ``i`` (named by ``action_names``, described by the
    ``embodiment`` descriptor); slots past the body's own are padding and **ignored**
    (their values, even NaN, never reach the env). A native ``Box(low, high)`` is reached
    by the affine map from [-1, 1]; for the [-1, 1] actions of Portia bodies it is the
    identity, so native -> unified -> native is exact.

    **Observation** ``Dict`` (every continuous key ``float64`` within ``±layout.bound``):

    - ``proprio`` (proprio_size,): the body's proprioception (``proprio_names``), zeros past it.
    - ``proprio_mask`` (proprio_size,) MultiBinary: 1 where ``proprio`` holds a value.
    - ``exteroception`` (exteroception_size,): the rest of the proprioception key's vector
      in its order (objects, goals, obstacles), zeros past it.
    - ``exteroception_mask`` (exteroception_size,) MultiBinary.
    - ``action_mask`` (action_size,) MultiBinary: 1 for the body's action slots.
    - ``embodiment`` (action_size, len(shared_layout.DESCRIPTOR_FEATURES)): one row per action slot,
      constant for a body: valid, one-hot quantity (``wrappers.embodiment.QUANTITIES``),
      what -1 and +1 command (low, high, in the dimension's unit), one-hot joint kind, joint
      axis, link length (m) and the joint's depth in its chain; a padding row is all zeros.
    - every other key of the env's observation (``achieved_goal``, ``desired_goal``,
      ``task``, ...), flattened and zero-padded to its ``layout.key_sizes`` size.

    Rewards, termination and timing are unchanged; ``info["embodiment"]`` names the body,
    and ``native_observation`` keeps the env's own observation of the last reset or step.

    Args:
        env: The env; ``env.unwrapped.embodiment`` describes its body (or pass one).
        layout: The shared sizes (``SharedLayout.covering``).
        embodiment: The body's description, if the env has none of its own.

    Raises:
        WrapperInputError: If the body does not fit the layout, its action space is not a
            flat ``Box`` matching its description, or an observation key is missing.
    """

    def __init__(
        self, env: gymnasium.Env, layout: SharedLayout, *, embodiment: Embodiment | None = None
    ) -> None:
        gymnasium.utils.RecordConstructorArgs.__init__(self, layout=layout, embodiment=embodiment)
        gymnasium.Wrapper.__init__(self, env)
        body = embodiment if embodiment is not None else body_of(env)
        check_action_space(env.action_space, body)
        vector_space, others = split_observation_space(env.observation_space, body)
        n_actions, n_proprio = len(body.actions), len(body.proprioception)
        vector_size = int(np.prod(vector_space.shape))
        n_extero = vector_size - n_proprio
        if n_actions > layout.action_size or n_proprio > layout.proprio_size:
            raise WrapperInputError(
                f"body {body.name!r} has {n_actions} actions and {n_proprio} proprioception "
                f"values; the layout holds {layout.action_size} and {layout.proprio_size}: "
                f"build the layout with SharedLayout.covering over every body"
            )
        if n_extero > layout.exteroception_size:
            raise WrapperInputError(
                f"body {body.name!r} senses {n_extero} exteroception values; the layout "
                f"holds {layout.exteroception_size}"
            )
        key_sizes = dict(layout.key_sizes)
        for key, space in others.items():
            if key not in key_sizes or int(np.prod(space.shape)) > key_sizes[key]:
                raise WrapperInputError(
                    f"observation key {key!r} of size {int(np.prod(space.shape))} does not "
                    f"fit the layout's keys {layout.key_sizes}"
                )
        self.body = body
        self.layout = layout
        self.native_observation: Any = None
        self._proprio_index = np.array(body.proprio_indices, dtype=np.intp)
        self._extero_index = np.setdiff1d(np.arange(vector_size), self._proprio_index)
        self._vector_key = (
            body.proprio_key if isinstance(env.observation_space, spaces.Dict) else None
        )
        self._other_keys = tuple(others)
        self._n_actions = n_actions
        low, high = env.action_space.low, env.action_space.high
        self._native_identity = bool(np.all(low == -1.0) and np.all(high == 1.0))
        self._native_low, self._native_half = low.astype(np.float64), (high - low) / 2.0
        self._native_dtype = env.action_space.dtype

        # Each step's observation is two fresh buffers, copies of templates that hold what is
        # constant for the body (the masks, the descriptor); every key is a slice of one.
        self._mask_template = np.concatenate(
            [
                _mask(n_proprio, layout.proprio_size),
                _mask(n_extero, layout.exteroception_size),
                _mask(n_actions, layout.action_size),
            ]
        )
        self._mask_slices = _slices(
            (
                ("proprio_mask", layout.proprio_size),
                ("exteroception_mask", layout.exteroception_size),
                ("action_mask", layout.action_size),
            )
        )
        rows = descriptor(body, layout.action_size)
        self._slices = _slices(
            (
                ("proprio", layout.proprio_size),
                ("exteroception", layout.exteroception_size),
                *layout.key_sizes,
                ("embodiment", rows.size),
            )
        )
        self._template = np.zeros(self._slices["embodiment"].stop)
        self._template[self._slices["embodiment"]] = rows.reshape(-1)
        self._descriptor_shape = rows.shape
        extero_start = self._slices["exteroception"].start
        self._gather_from = np.concatenate([self._proprio_index, self._extero_index])
        self._gather_to = np.concatenate(
            [np.arange(n_proprio), extero_start + np.arange(n_extero)]
        ).astype(np.intp)
        # Portia bodies put proprioception first: then two slice copies do the gathering.
        self._proprio_first = bool(np.array_equal(self._proprio_index, np.arange(n_proprio)))
        self._split_at, self._extero_slice = n_proprio, slice(extero_start, extero_start + n_extero)
        self._key_starts = tuple((key, self._slices[key].start) for key in self._other_keys)
        self.action_space = spaces.Box(-1.0, 1.0, (layout.action_size,), np.float32)
        self.observation_space = unified_observation_space(layout)

    @property
    def action_names(self) -> tuple[str, ...]:
        """What each shared action slot drives, or ``"padding (ignored)"``.

        E.g. ``"shoulder_pitch: joint_position_target (rad, joint)"``.
        """
        names = [_describe(d) for d in self.body.actions]
        return tuple(names + [PADDING_NAME] * (self.layout.action_size - len(names)))

    @property
    def proprio_names(self) -> tuple[str, ...]:
        """What each ``proprio`` slot holds, or ``"padding (ignored)"``."""
        names = [_describe(d) for d in self.body.proprioception]
        return tuple(names + [PADDING_NAME] * (self.layout.proprio_size - len(names)))

    def to_native_action(self, action: Any) -> NDArray:
        """Return the body's native action for a shared action (padding slots dropped).

        Raises:
            WrapperInputError: If the action does not have the shared shape.
        """
        array = np.asarray(action)
        if array.shape != self.action_space.shape:
            raise WrapperInputError(
                f"action must have the shared shape {self.action_space.shape} (slots past "
                f"{self._n_actions} are ignored for body {self.body.name!r}), got {array.shape}"
            )
        native = array[: self._n_actions]
        if self._native_identity:
            return native.astype(self._native_dtype, copy=True)
        scaled = self._native_low + (native.astype(np.float64) + 1.0) * self._native_half
        return scaled.astype(self._native_dtype)

    def to_unified_action(self, native_action: Any) -> NDArray[np.float32]:
        """Return the shared action that ``to_native_action`` maps back to ``native_action``.

        Exact for native [-1, 1] spaces; padding slots are 0.
        """
        native = np.asarray(native_action, dtype=np.float64)
        if native.shape != (self._n_actions,):
            raise WrapperInputError(
                f"native action of body {self.body.name!r} must have shape "
                f"({self._n_actions},), got {native.shape}"
            )
        unified = np.zeros(self.action_space.shape, dtype=np.float32)
        if self._native_identity:
            unified[: self._n_actions] = native
        else:
            unified[: self._n_actions] = (native - self._native_low) / self._native_half - 1.0
        return unified

    def unify_observation(self, observation: Any) -> dict[str, NDArray]:
        """Return the shared observation for one native observation (fresh arrays)."""
        vector = observation if self._vector_key is None else observation[self._vector_key]
        values = self._template.copy()
        flat = np.asarray(vector, dtype=np.float64).reshape(-1)
        if self._proprio_first:
            values[: self._split_at] = flat[: self._split_at]
            values[self._extero_slice] = flat[self._split_at :]
        else:
            values[self._gather_to] = flat[self._gather_from]
        for key, start in self._key_starts:
            flat = np.asarray(observation[key], dtype=np.float64).reshape(-1)
            values[start : start + flat.size] = flat
        masks = self._mask_template.copy()
        unified = {key: values[where] for key, where in self._slices.items()}
        unified["embodiment"] = unified["embodiment"].reshape(self._descriptor_shape)
        for key, where in self._mask_slices.items():
            unified[key] = masks[where]
        return unified

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, NDArray], dict[str, Any]]:
        """Reset the env; see the class docstring for the observation."""
        observation, info = self.env.reset(seed=seed, options=options)
        info["embodiment"] = self.body.name
        self.native_observation = observation
        return self.unify_observation(observation), info

    def step(self, action: Any) -> tuple[dict[str, NDArray], Any, bool, bool, dict[str, Any]]:
        """Step with the body's slots of a shared action; padding slots are ignored."""
        observation, reward, terminated, truncated, info = self.env.step(
            self.to_native_action(action)
        )
        info["embodiment"] = self.body.name
        self.native_observation = observation
        return self.unify_observation(observation), reward, terminated, truncated, info


VECTORIZATION_MODES = ("sync", "async")


def make_vector(
    env_ids: Sequence[str],
    *,
    layout: SharedLayout | None = None,
    vectorization_mode: str = "sync",
) -> gymnasium.vector.VectorEnv:
    """Return a vector env with one sub-env per id, each behind ``MultiEmbodiment``.

    The ids may name different bodies: with one layout their spaces are equal, so one
    batched action of shape ``(len(env_ids), layout.action_size)`` steps them all.

    Args:
        env_ids: Registered ids, one per sub-env (repeats allowed).
        layout: The shared sizes; by default ``SharedLayout.covering(env_ids)``.
        vectorization_mode: ``"sync"`` (one process) or ``"async"`` (a process per sub-env).

    Raises:
        WrapperInputError: On an unknown mode or an empty list.
    """
    if vectorization_mode not in VECTORIZATION_MODES:
        raise WrapperInputError(
            f"unknown vectorization_mode {vectorization_mode!r}; accepted: "
            f"{', '.join(VECTORIZATION_MODES)}"
        )
    if not env_ids:
        raise WrapperInputError("make_vector needs at least one env id")
    shared = layout if layout is not None else SharedLayout.covering(list(dict.fromkeys(env_ids)))
    factories = [functools.partial(_make_unified, env_id, shared) for env_id in env_ids]
    if vectorization_mode == "sync":
        return gymnasium.vector.SyncVectorEnv(factories)
    return gymnasium.vector.AsyncVectorEnv(factories)


def _make_unified(env_id: str, layout: SharedLayout) -> MultiEmbodiment:
    """Make ``env_id`` behind ``MultiEmbodiment`` with ``layout`` (a picklable factory)."""
    return MultiEmbodiment(gymnasium.make(env_id), layout)


def _slices(sizes: Sequence[tuple[str, int]]) -> dict[str, slice]:
    """Return each key's slice of one flat buffer holding ``sizes`` in order."""
    slices, start = {}, 0
    for key, size in sizes:
        slices[key] = slice(start, start + size)
        start += size
    return slices


def _mask(valid: int, size: int) -> NDArray[np.int8]:
    """Return a mask of ``size`` with the first ``valid`` entries 1."""
    mask = np.zeros(size, dtype=np.int8)
    mask[:valid] = 1
    return mask


def _describe(dimension: Any) -> str:
    """Return e.g. ``"shoulder_pitch: joint_position_target (rad, joint)"``."""
    return f"{dimension.name}: {dimension.quantity} ({dimension.unit}, {dimension.frame})"
