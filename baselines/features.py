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
# Keys every observation must have.
REQUIRED_KEYS = ("observation", "desired_goal", "achieved_goal")


class ObservationError(PortiaError, ValueError):
    """An observation a baseline cannot turn into features (keys, shapes)."""


def goal_task_features(observation: Mapping[str, ArrayLike]) -> NDArray[np.float32]:
    """Return the flat feature vector a baseline acts on, from a Dict observation.

    The parts, concatenated along the last axis: ``observation`` (proprioception and
    objects), ``desired_goal``, ``achieved_goal``, ``desired_goal - achieved_goal`` (where
    the goal is relative to what is being moved, which a policy needs in every task) and
    ``task`` (the family's one-hot) when the observation has it. For the arm:
    55 + 3 + 3 + 3 + 6 = 70 features.

    Args:
        observation: A Dict observation; arrays may carry leading batch axes, the same on
            every key.

    Returns:
        float32 features, shape ``(..., n_features)``.

    Raises:
        ObservationError: If the observation is not a mapping with the required keys, or its
            arrays' leading axes disagree.
    """
    if not isinstance(observation, Mapping) or not all(k in observation for k in REQUIRED_KEYS):
        got = sorted(observation) if isinstance(observation, Mapping) else type(observation)
        raise ObservationError(
            f"a Dict observation is needed, with keys {', '.join(REQUIRED_KEYS)} "
            f"(and task, if the env has it), got {got}"
        )
    keys = [key for key in FEATURE_KEYS if key in observation]
    parts = {key: np.asarray(observation[key], dtype=np.float32) for key in keys}
    batch = {key: part.shape[:-1] for key, part in parts.items()}
    if any(part.ndim == 0 for part in parts.values()) or len(set(batch.values())) != 1:
        shapes = {key: part.shape for key, part in parts.items()}
        raise ObservationError(
            f"the observation's arrays must be vectors with the same leading axes, got {shapes}"
        )
    goal, achieved = parts["desired_goal"], parts["achieved_goal"]
    ordered = [parts["observation"], goal, achieved, goal - achieved]
    if "task" in parts:
        ordered.append(parts["task"])
    return np.concatenate(ordered, axis=-1)
