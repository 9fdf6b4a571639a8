"""Error types that Portia raises for bad input, so users can catch them precisely."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """Return a " (did you mean 'x'?)" hint for a misspelt name, or an empty string.

    Args:
        name: The name the user gave.
        known: The names that are accepted.

    Returns:
        The hint, ready to append to an error message.
    """
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class PortiaError(Exception):
    """Base class of every error Portia raises on purpose."""


class UnknownTaskError(PortiaError, KeyError):
    """A task family or task id that Portia does not know."""

    def __str__(self) -> str:
        # KeyError quotes its message; show it as written.
        return str(self.args[0])


class InvalidActionError(PortiaError, ValueError):
    """An action of the wrong shape, dtype or with non-finite values."""


class InvalidStateError(PortiaError, ValueError):
    """A state vector that does not belong to this environment."""


class UnknownSuiteError(PortiaError, KeyError):
    """A suite name or split that Portia does not know."""

    def __str__(self) -> str:
        return str(self.args[0])


class InvalidScoresError(PortiaError, ValueError):
    """A score matrix of the wrong shape or with non-finite values."""


class AgentSpecError(PortiaError, ValueError):
    """An agent spec (``module:attr``, a file, a built-in name) that does not name an agent."""


class RecordsError(PortiaError, ValueError):
    """An episode-records file that is corrupt, or belongs to another run than the one asked."""


class ResultsError(PortiaError, ValueError):
    """A results file that is unreadable, breaks the schema, or whose scores do not add up."""


class InvalidTypeError(PortiaError, TypeError):
    """An argument of a kind Portia cannot use (an env without the expected spaces, say)."""


class InvalidParameterError(PortiaError, ValueError):
    """An environment argument or reset option outside the values it accepts."""


class UnknownEnvError(PortiaError, KeyError):
    """An environment id that Portia does not register."""

    def __str__(self) -> str:
        return str(self.args[0])


class UnknownAgentError(PortiaError, KeyError):
    """An agent name that a multi-agent environment does not have."""

    def __str__(self) -> str:
        return str(self.args[0])


class AgentPreflightError(PortiaError, RuntimeError):
    """An agent that cannot act: the harness's preflight step failed, so nothing was run."""


class InfrastructureError(PortiaError, RuntimeError):
    """Episodes lost to the machinery (a worker killed from outside), to be run again."""


class DatasetIntegrityError(PortiaError, ValueError):
    """A dataset file whose bytes are not those written: truncated, unreadable, or changed."""
