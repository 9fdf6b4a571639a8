"""Error types raised by the wrappers, so users can catch them precisely."""

from __future__ import annotations

from typing import Any

from gymnasium.vector import VectorEnv


class WrapperError(Exception):
    """Base class of every error the wrappers raise on purpose."""


class WrapperInputError(WrapperError, ValueError):
    """An argument or input a wrapper cannot accept."""


class ThinkBudgetExceededError(WrapperError, RuntimeError):
    """An agent asked to imagine more than its think budget allows for one decision."""


def refuse_vector_env(env: Any, wrapper: str) -> None:
    """Raise ``WrapperInputError`` if ``env`` is a vector env: ``wrapper`` wraps one env.

    Args:
        env: What the wrapper was given.
        wrapper: The wrapper's name, for the message.
    """
    if isinstance(env, VectorEnv):
        raise WrapperInputError(
            f"{wrapper} wraps one env, and {type(env).__name__} is a vector env of "
            f"{env.num_envs} worlds: per-world thinking budgets and latencies over a batched "
            f"step are not supported. Wrap each world instead: gymnasium.make_vec(id, "
            f"num_envs, vectorization_mode='sync', wrappers=[lambda env: {wrapper}(env, ...)])"
        )
