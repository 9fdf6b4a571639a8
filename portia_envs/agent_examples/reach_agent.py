"""The reference controller as a program that speaks the agent protocol (``agent_kit``).

Run it with ``portia bench --suite smoke-v0 --agent "exec:python -m
portia_envs.agent_examples.reach_agent"`` (or ``exec:python path/to/reach_agent.py``). The
controller is ``reach_controller.PatternSearch``; ``reach_agent.c`` and ``reach_agent.js``
are the same agent in C and Node.js.
"""

from __future__ import annotations

import sys
from typing import Any

from portia_envs.agent_examples.reach_controller import PatternSearch
from portia_envs.agent_kit import Imagine, ProtocolAgent, serve


class ReachAgent(ProtocolAgent):
    """Pattern search through ``imagine``, in each body's own action space."""

    name = "reach-search-python"
    version = "1"
    native_spaces = True

    def __init__(self) -> None:
        self.search: PatternSearch | None = None

    def on_task(self, task: dict[str, Any]) -> None:
        """Size the controller to the task's action space (a ``Box`` of one dimension).

        Raises:
            ValueError: For any other action space.
        """
        space = task["action_space"]
        if space["type"] != "box" or len(space["shape"]) != 1:
            raise ValueError(
                f"the reach agent acts in a Box action space of one dimension, got a "
                f"{space['type']} of shape {space.get('shape')}"
            )
        self.search = PatternSearch(int(space["shape"][0]))

    def reset(self, seed: int) -> None:
        """Start an episode (the controller draws no random numbers)."""
        assert self.search is not None
        self.search.reset()

    def act(self, observation: Any, imagine: Imagine) -> Any:
        """Imagine the candidates and return the chosen action (``PatternSearch.act``)."""
        assert self.search is not None
        return self.search.act(imagine)


if __name__ == "__main__":
    sys.exit(serve(ReachAgent))
