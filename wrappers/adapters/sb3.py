"""A Stable-Baselines3 model (or anything with its ``predict``) as an agent."""

from __future__ import annotations

from typing import Any

import numpy as np

from wrappers.adapters.agent import AgentTypeError


class SB3Agent:
    """Acts by ``model.predict``, carrying a recurrent model's state through the episode.

    Stable-Baselines3 is not imported: any object with SB3's ``predict(observation,
    state=None, episode_start=None, deterministic=False) -> (action, state)`` works, such
    as ``PPO.load(path)`` or ``RecurrentPPO`` from sb3-contrib. The first ``act`` of an
    episode passes ``episode_start=[True]`` and no state, so recurrent models start afresh.

    Args:
        model: The model.
        deterministic: Passed to ``predict``: True plays the mode of the policy.
    """

    def __init__(self, model: Any, *, deterministic: bool = True) -> None:
        if not callable(getattr(model, "predict", None)):
            raise AgentTypeError(f"model must have a predict method, got {type(model).__name__}")
        self.model = model
        self.deterministic = deterministic
        self.name = type(model).__name__
        self.reset()

    def act(self, observation: Any) -> Any:
        """Return ``model.predict(observation, ...)``'s action for one observation."""
        action, self._state = self.model.predict(
            observation,
            state=self._state,
            episode_start=np.array([self._episode_start]),
            deterministic=self.deterministic,
        )
        self._episode_start = False
        return action

    def reset(self) -> None:
        """Start a new episode: drop the recurrent state."""
        self._state: Any = None
        self._episode_start = True
