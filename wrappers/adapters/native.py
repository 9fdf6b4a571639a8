"""An agent of one body's native spaces, acting behind ``MultiEmbodiment``."""

from __future__ import annotations

from typing import Any

from numpy.typing import NDArray

from wrappers.adapters.agent import Agent, reset_agent
from wrappers.multi_embodiment import MultiEmbodiment


class NativeAgent:
    """Lets an agent built for a body's own spaces act in the shared ones.

    Each decision reads the native observation the wrapper returned last
    (``MultiEmbodiment.native_observation``), asks the agent, and pads its native action
    into the shared action (``to_unified_action``). So a planner or scripted expert of one
    body runs unchanged where every agent sees the shared spaces, as in a cross-body suite.
    Call ``act`` with the observation the wrapper returned last, as a harness does.

    Args:
        agent: The native agent.
        wrapper: The ``MultiEmbodiment`` whose env the agent was built for.
    """

    def __init__(self, agent: Agent, wrapper: MultiEmbodiment) -> None:
        self.agent = agent
        self.wrapper = wrapper
        self.name = getattr(agent, "name", type(agent).__name__)

    def act(self, observation: Any) -> NDArray:
        """Return the shared action for the agent's native decision.

        Args:
            observation: The shared observation the wrapper returned last (its native
                counterpart is what the agent sees).
        """
        return self.wrapper.to_unified_action(self.agent.act(self.wrapper.native_observation))

    def reset(self, seed: int | None = None) -> None:
        """Reset the agent, passing ``seed`` on if its ``reset`` takes one."""
        if seed is None:
            self.agent.reset()
        else:
            reset_agent(self.agent, seed)
