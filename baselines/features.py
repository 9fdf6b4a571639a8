"""The flat input the students and PPO act on: the observation, conditioned on goal and task.

One function for every baseline that takes a Portia ``Dict`` observation as a vector, so
that a BC student and a PPO policy see the same features of the same observation.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike, NDArray

from portia_envs.errors import PortiaError

# The observation keys the features are built from, in order; ``task`` is used when present.
FEATURE_KEYS = ("observation", "desired_goal", "achieved_goal", "task")
# What stands for ``observation`` behind ``wrappers.MultiEmbodiment``: the shared layout's
# proprioception and exteroception, zero-padded (their masks and the descriptor describe the
# body, so they come in only with ``embodiment``).
SHARED_LAYOUT_KEYS = ("proprio", "exteroception")
# Keys every observation must have, besides ``observation`` or the shared layout's.
GOAL_KEYS = ("desired_goal", "achieved_goal")


class ObservationError(PortiaError, ValueError):
    """An observation a baseline cannot turn into features (keys, shapes)."""


def goal_task_features(
    observation: Mapping[str, ArrayLike], *, embodiment: bool = False
) -> NDArray[np.float32]:
    """Return the flat feature vector a baseline acts on, from a Dict observation.

    The parts, concatenated along the last axis: ``observation`` (proprioception and
    objects), ``desired_goal``, ``achieved_goal``, ``desired_goal - achieved_goal`` (where
    the goal is relative to what is being moved, which a policy needs in every task) and
    ``task`` (the family's one-hot) when the observation has it. For the arm:
    55 + 3 + 3 + 3 + 6 = 70 features. Behind ``wrappers.MultiEmbodiment`` (a suite of several
    bodies) the shared layout's ``proprio`` and ``exteroception`` stand for ``observation``.
    With ``embodiment``, the ``embodiment`` descriptor of such an observation (one row per
    action slot, saying what it drives) follows, flattened.

    Args:
        observation: A Dict observation; arrays may carry leading batch axes, the same on
            every key.
        embodiment: Whether to append the flattened ``embodiment`` descriptor.

    Returns:
        float32 features, shape ``(..., n_features)``.

    Raises:
        ObservationError: If the observation is not a mapping with the required keys (and
            ``embodiment`` when asked for), or its arrays' leading axes disagree.
    """
    shared = isinstance(observation, Mapping) and "observation" not in observation
    state_keys = SHARED_LAYOUT_KEYS if shared else ("observation",)
    if not isinstance(observation, Mapping) or not all(
        k in observation for k in (*state_keys, *GOAL_KEYS)
    ):
        got = sorted(observation) if isinstance(observation, Mapping) else type(observation)
        raise ObservationError(
            f"a Dict observation is needed, with keys observation (or, behind "
            f"MultiEmbodiment, {' and '.join(SHARED_LAYOUT_KEYS)}), {', '.join(GOAL_KEYS)} "
            f"(and task, if the env has it), got {got}"
        )
    keys = [*state_keys, *(key for key in FEATURE_KEYS[1:] if key in observation)]
    parts = {key: np.asarray(observation[key], dtype=np.float32) for key in keys}
    batch = {key: part.shape[:-1] for key, part in parts.items()}
    if any(part.ndim == 0 for part in parts.values()) or len(set(batch.values())) != 1:
        shapes = {key: part.shape for key, part in parts.items()}
        raise ObservationError(
            f"the observation's arrays must be vectors with the same leading axes, got {shapes}"
        )
    goal, achieved = parts["desired_goal"], parts["achieved_goal"]
    ordered = [*(parts[key] for key in state_keys), goal, achieved, goal - achieved]
    if "task" in parts:
        ordered.append(parts["task"])
    if embodiment:
        ordered.append(_descriptor(observation, goal.shape[:-1]))
    return np.concatenate(ordered, axis=-1)


def _descriptor(observation: Mapping[str, ArrayLike], batch: tuple[int, ...]) -> NDArray:
    """Return the ``embodiment`` descriptor flattened to ``(*batch, slots x features)``.

    Raises:
        ObservationError: If the observation has no descriptor of two axes after ``batch``.
    """
    if "embodiment" not in observation:
        raise ObservationError(
            "features with the embodiment descriptor need the observation's 'embodiment' key, "
            f"which only a multi-embodiment env gives (wrappers.MultiEmbodiment); got keys "
            f"{sorted(observation)}"
        )
    rows = np.asarray(observation["embodiment"], dtype=np.float32)
    if rows.shape[:-2] != batch or rows.ndim != len(batch) + 2:
        raise ObservationError(
            f"the embodiment descriptor must be (slots, features) per observation, got shape "
            f"{rows.shape} for observations of batch shape {batch}"
        )
    return rows.reshape(*batch, -1)
