"""A plain function as an agent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wrappers.adapters.agent import AgentTypeError


class CallableAgent:
    """Acts by calling ``policy(observation)``; keeps no state unless ``on_reset`` does.

    Args:
        policy: ``observation -> action``.
        on_reset: Called with no arguments at every episode start (to clear a policy's own
            memory, say); None: nothing to clear.
        name: What results files call the agent; the policy's ``__name__`` by default.
    """

    def __init__(
        self,
        policy: Callable[[Any], Any],
        *,
        on_reset: Callable[[], None] | None = None,
        name: str | None = None,
    ) -> None:
        if not callable(policy):
            raise AgentTypeError(f"policy must be callable, got {type(policy).__name__}")
        self.policy = policy
        self.on_reset = on_reset
        self.name = name or getattr(policy, "__name__", type(policy).__name__)

    def act(self, observation: Any) -> Any:
        """Return ``policy(observation)``."""
        return self.policy(observation)

    def reset(self) -> None:
        """Call ``on_reset``, if there is one."""
        if self.on_reset is not None:
            self.on_reset()
