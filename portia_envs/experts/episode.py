"""Running a scripted agent for one episode: the measure of an expert's success rate."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import gymnasium
from numpy.typing import NDArray


class Agent(Protocol):
    """An agent that acts on one observation at a time and is told when an episode starts."""

    def act(self, observation: Mapping[str, NDArray]) -> Any:
        """Return the action for one (unbatched) observation."""
        ...

    def reset(self) -> None:
        """Start a new episode."""
        ...


def run_episode(env: gymnasium.Env, expert: Agent, seed: int) -> bool:
    """Run one episode of ``env`` from ``reset(seed=seed)`` with ``expert`` acting.

    Args:
        env: A Portia env with a time limit (as ``gymnasium.make`` returns it).
        expert: The agent acting (``ScriptedExpert``, ``SpiderExpert``).
        seed: The reset seed.

    Returns:
        ``info["is_success"]`` of the episode's last step.
    """
    expert.reset()
    observation, _ = env.reset(seed=seed)
    while True:
        observation, _, terminated, truncated, info = env.step(expert.act(observation))
        if terminated or truncated:
            return bool(info["is_success"])
