"""The agent contract, and ``as_agent``, which adapts whatever fits it."""

from __future__ import annotations

import inspect
from typing import Any, Protocol, runtime_checkable

from wrappers.errors import WrapperError


class AgentTypeError(WrapperError, TypeError):
    """An object that cannot act as an agent: no ``act``/``reset``, no ``predict``, not callable."""


@runtime_checkable
class Agent(Protocol):
    """What the harness runs: ``act`` once per decision, ``reset`` at every episode start.

    An agent whose ``reset`` takes a ``seed`` keyword is given each episode's seed, so a
    stochastic agent is reproducible; ``reset()`` without it must make the agent forget
    everything of earlier episodes all the same.
    """

    def act(self, observation: Any) -> Any:
        """Return the action for ``observation``, an element of the env's action space."""

    def reset(self) -> None:
        """Forget the last episode; called before each episode's first ``act``."""


def as_agent(policy: Any) -> Agent:
    """Return ``policy`` as an agent.

    Args:
        policy: An agent (``act`` and ``reset``), which is returned as it is; an object with
            Stable-Baselines3's ``predict(observation, state, episode_start, deterministic)``,
            wrapped in ``SB3Agent``; or a callable ``observation -> action``, wrapped in
            ``CallableAgent``.

    Returns:
        The agent.

    Raises:
        AgentTypeError: If ``policy`` is none of these.
    """
    # Deferred: the adapters import this module for the protocol.
    from wrappers.adapters.callable import CallableAgent
    from wrappers.adapters.sb3 import SB3Agent

    if callable(getattr(policy, "act", None)) and callable(getattr(policy, "reset", None)):
        return policy
    if callable(getattr(policy, "predict", None)):
        return SB3Agent(policy)
    if callable(policy):
        return CallableAgent(policy)
    raise AgentTypeError(
        f"cannot use a {type(policy).__name__} as an agent; accepted: an object with "
        f"act(observation) and reset(), a Stable-Baselines3 model (predict), or a callable "
        f"observation -> action"
    )


def reset_agent(agent: Agent, seed: int) -> None:
    """Reset ``agent`` for an episode, passing ``seed`` if its ``reset`` takes one."""
    try:
        takes_seed = "seed" in inspect.signature(agent.reset).parameters
    except (TypeError, ValueError):  # builtins without a signature
        takes_seed = False
    if takes_seed:
        agent.reset(seed=seed)
    else:
        agent.reset()
