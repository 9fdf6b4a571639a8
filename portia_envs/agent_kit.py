"""Write an agent program in Python that speaks Portia's agent protocol by itself.

A program that speaks the protocol (``docs/protocol.md``) is run by the harness as
``portia bench --agent "exec:python my_agent.py"``, once per worker. This module does the
protocol's part of such a program: subclass ``ProtocolAgent``, write ``act`` (and
``on_task`` and ``reset`` where needed), and hand the class to ``serve``::

    import sys

    import numpy as np

    from portia_envs.agent_kit import ProtocolAgent, serve


    class Still(ProtocolAgent):
        name = "still"

        def on_task(self, task):
            self.action = np.zeros(task["action_space"]["shape"], np.float32)

        def act(self, observation, imagine):
            return self.action


    if __name__ == "__main__":
        sys.exit(serve(Still))

``serve`` takes standard output for the protocol and sends whatever is printed from then on
to standard error, the agent's log (``stdio_channel``); a program prints nothing before it.
It answers the harness's ``hello`` (and refuses another protocol version), calls the
agent for ``task``, ``reset`` and ``act``, and returns at ``close``. When the agent raises,
the harness gets an ``error`` with the exception and where it was raised, and the program
goes on; a message of an unknown type gets an ``error`` too. During ``act`` the agent may
call ``imagine(plans)``, which asks the harness to roll the plans out from the scored
env's current state and returns the future.

A Python agent that is an agent factory (``module:attribute``, ``file.py``) needs none of
this: the harness hosts it (``harness.agent_host``) and hands it an env. The kit is for a
program that owns its process: its start-up, its imports, its command line.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

from portia_envs.errors import InvalidTypeError, PortiaError
from portia_envs.harness.protocol import (
    PROTOCOL_VERSION,
    Channel,
    PeerClosedError,
    ProtocolError,
)

# What ``serve`` returns, the program's exit code: 0 after ``close`` or the end of its
# input, 1 after a ``hello`` of another protocol version or a message it cannot read.
EXIT_CLOSED = 0
EXIT_REFUSED = 1
# Frames of a traceback sent with an error (the innermost).
TRACEBACK_FRAMES = 3
# The message types an agent answers.
REQUESTS = ("hello", "task", "reset", "act", "close")

# ``imagine(plans) -> future``: plans of shape (batch, horizon, *action_shape) in, the
# future (``observation``, ``reward``, ``terminated``, ``is_success``, reward terms, each
# of leading shape (batch, horizon)) out.
Imagine = Callable[[Any], dict[str, Any]]


class ImagineRefusedError(PortiaError, RuntimeError):
    """The harness refused an ``imagine`` request (its message says why)."""


class ProtocolAgent:
    """An agent as a program sees the protocol; subclass it and write ``act``.

    Attributes:
        name: The name the results file records (the ``hello``'s ``agent.name``).
        version: Its version, or None.
        native_spaces: In a suite of several bodies, act in each body's own spaces (True)
            rather than the suite's shared ones.
    """

    name: str = "agent"
    version: str | None = None
    native_spaces: bool = False

    def on_task(self, task: dict[str, Any]) -> None:
        """Get ready for a suite task; by default nothing.

        Args:
            task: The ``task`` message: ``task`` (id, split, family, body, suite), ``env``
                (id and kwargs), ``observation_space`` and ``action_space`` (as
                ``harness.protocol.space_to_json`` writes them; ``space_from_json``
                rebuilds them), ``dt`` and ``shared_layout``.
        """

    def reset(self, seed: int) -> None:
        """Start an episode with the agent's seed for it; by default nothing."""

    def act(self, observation: Any, imagine: Imagine) -> Any:
        """Return the action for ``observation`` (numpy arrays, a dict of them for a Dict space).

        Args:
            observation: What the agent sees.
            imagine: Rolls plans out from the scored env's current state (see ``Imagine``);
                raises ``ImagineRefusedError`` if the harness refuses them.

        Returns:
            An array of the action space's shape (or anything ``numpy.asarray`` makes one).
        """
        raise NotImplementedError(f"{type(self).__name__} must define act")


def serve(make_agent: Callable[[], ProtocolAgent], channel: Channel | None = None) -> int:
    """Answer the harness's messages with the agent ``make_agent`` returns, until ``close``.

    Args:
        make_agent: Makes the agent (a ``ProtocolAgent`` subclass itself will do).
        channel: Where messages come and go; None: standard input and output
            (``stdio_channel``, which also sends ``print`` to standard error).

    Returns:
        The exit code: ``EXIT_CLOSED`` after ``close`` or the end of the input,
        ``EXIT_REFUSED`` after a ``hello`` of another protocol version or a broken message.
    """
    channel = stdio_channel() if channel is None else channel
    return _Session(make_agent(), channel).run()


def stdio_channel() -> Channel:
    """Return a channel on standard input and output; standard output then goes to stderr.

    The protocol keeps the real standard output; ``print`` and anything else written to
    file descriptor 1 go to standard error, the agent's log.
    """
    protocol_out = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return Channel(0, protocol_out)


def request_imagine(channel: Channel, plans: Any) -> dict[str, Any]:
    """Send ``imagine`` with ``plans`` and return the harness's ``future``.

    Raises:
        ImagineRefusedError: If the harness answered ``error`` (its message says why).
        ProtocolError: If it answered anything else.
    """
    channel.send({"type": "imagine", "plans": np.asarray(plans)})
    reply = channel.receive()
    if reply["type"] == "error":
        raise ImagineRefusedError(reply.get("message", "imagine was refused"))
    if reply["type"] != "future":
        raise ProtocolError(f"expected 'future' after 'imagine', got {reply['type']!r}")
    return reply["future"]


def describe_error(error: BaseException) -> str:
    """Return ``Type: message``, then where it was raised: the last frames, one a line."""
    frames = traceback.extract_tb(error.__traceback__)[-TRACEBACK_FRAMES:]
    where = [f"  at {frame.filename}:{frame.lineno} in {frame.name}" for frame in frames]
    return "\n".join([f"{type(error).__name__}: {error}", *where])


class _Session:
    """One agent answering one harness over one channel (``serve``)."""

    def __init__(self, agent: ProtocolAgent, channel: Channel) -> None:
        self.agent, self.channel = agent, channel
        self.has_task = False

    def run(self) -> int:
        """Answer messages until ``close``; return the exit code (see ``serve``)."""
        while True:
            try:
                message = self.channel.receive()
                kind = message["type"]
                if kind == "close":
                    return EXIT_CLOSED
                if kind == "hello" and message.get("protocol") != PROTOCOL_VERSION:
                    self._error(
                        f"this agent speaks protocol {PROTOCOL_VERSION}; the harness asked for "
                        f"{message.get('protocol')!r}"
                    )
                    return EXIT_REFUSED
                self.channel.send(self._answer(kind, message))
            except PeerClosedError:
                return EXIT_CLOSED
            except ProtocolError as error:
                self._error(f"a message this agent cannot read: {error}")
                return EXIT_REFUSED

    def _answer(self, kind: str, message: dict[str, Any]) -> dict[str, Any]:
        """Return the reply to one request; an error of the agent's becomes an ``error``."""
        if kind == "hello":
            return {
                "type": "hello",
                "protocol": PROTOCOL_VERSION,
                "agent": {"name": self.agent.name, "version": self.agent.version},
                "native_spaces": self.agent.native_spaces,
            }
        if kind not in REQUESTS:
            return {
                "type": "error",
                "message": f"unknown message type {kind!r}; accepted: {', '.join(REQUESTS)}",
            }
        if kind != "task" and not self.has_task:
            return {"type": "error", "message": f"{kind!r} before any 'task' message"}
        try:
            if kind == "task":
                self.has_task = False
                self.agent.on_task(message)
                self.has_task = True
                return {"type": "ready"}
            if kind == "reset":
                self.agent.reset(int(message["seed"]))
                return {"type": "ready"}
            action = np.asarray(
                self.agent.act(
                    message["observation"], lambda plans: request_imagine(self.channel, plans)
                )
            )
            if action.dtype.kind not in "biuf":
                raise InvalidTypeError(f"act returned {action.dtype} values; an action is numeric")
            return {"type": "action", "action": action}
        except ProtocolError:
            raise
        except Exception as error:  # the agent's code: anything may fail
            return {"type": "error", "message": describe_error(error)}

    def _error(self, message: str) -> None:
        """Send an ``error``, unless the harness is gone."""
        try:
            self.channel.send({"type": "error", "message": message})
        except PeerClosedError:
            pass
