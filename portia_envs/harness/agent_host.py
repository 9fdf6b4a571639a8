"""The agent's side of the protocol for Python agents, run as a child of the harness.

Command: ``python -m portia_envs.harness.agent_host SPEC``.

The harness starts this in a child process for each worker. It loads the agent spec,
answers the protocol's messages on its standard input and output (``harness.protocol``),
and builds one agent per suite task, as the in-process harness would: the factory is
called with the task's env, here a local copy that the agent may read, step or reset at
will without touching the scored one. On the paused track the copy is a ``TimePause``
whose ``imagine`` is served by the harness, from the scored env's exact current state,
and counted there.

Whatever the agent prints goes to standard error: standard output carries the protocol.
"""

from __future__ import annotations

import sys
from typing import Any

import gymnasium
import numpy as np

from portia_envs.agent_kit import describe_error, request_imagine, stdio_channel
from portia_envs.harness.protocol import PROTOCOL_VERSION, Channel, ProtocolError
from wrappers.adapters import Agent, reset_agent
from wrappers.multi_embodiment import MultiEmbodiment
from wrappers.time_pause import TimePause


class RemoteTimePause(TimePause):
    """The agent's copy of a paused env: ``imagine`` asks the harness, which holds the world.

    Everything else (spaces, ``unwrapped``, ``step``, ``reset``) is the local copy's, for
    the agent to read; changing it changes nothing that is scored.

    Args:
        env: The local copy of the task's env.
        channel: The protocol channel to the harness.
    """

    def __init__(self, env: gymnasium.Env, channel: Channel) -> None:
        super().__init__(env)
        self._channel = channel

    def imagine(self, action_sequences: Any) -> dict[str, Any]:
        """Ask the harness to roll out ``action_sequences`` from the scored env's state.

        Returns:
            What ``TimePause.imagine`` returns, computed by the harness.

        Raises:
            portia_envs.agent_kit.ImagineRefusedError: If the harness refused (bad shape,
                not allowed on this track or in these spaces); its message says why.
        """
        return request_imagine(self._channel, action_sequences)


class AgentHost:
    """Serves one agent spec over a channel: builds agents per task, resets and acts.

    Args:
        spec: The agent spec (``harness.agents``).
        channel: The channel to the harness.
    """

    def __init__(self, spec: str, channel: Channel) -> None:
        # Deferred: importing the agent's module is the agent's own business, in here.
        from portia_envs.harness.agents import agent_name_and_version, load_factory
        from portia_envs.harness.episode import NATIVE_SPACES_ATTRIBUTE

        self.spec = spec
        self.channel = channel
        self.factory = load_factory(spec)
        self.native = bool(getattr(self.factory, NATIVE_SPACES_ATTRIBUTE, False))
        self.name, self.version = agent_name_and_version(self.factory)
        self._agents: dict[str, Agent] = {}
        self._current: str | None = None

    def serve(self) -> None:
        """Answer messages until ``close`` or the end of the stream."""
        while True:
            message = self.channel.receive()
            kind = message["type"]
            if kind == "close":
                return
            try:
                self.channel.send(self._answer(kind, message))
            except ProtocolError:
                raise
            except Exception as error:  # the agent's code: anything may fail
                self._agents.pop(self._current or "", None)
                self.channel.send({"type": "error", "message": describe_error(error)})

    def _answer(self, kind: str, message: dict[str, Any]) -> dict[str, Any]:
        """Return the reply to one request."""
        if kind == "hello":
            if message.get("protocol") != PROTOCOL_VERSION:
                raise ProtocolError(
                    f"this agent host speaks protocol {PROTOCOL_VERSION}, the harness "
                    f"{message.get('protocol')!r}"
                )
            return {
                "type": "hello",
                "protocol": PROTOCOL_VERSION,
                "agent": {"name": self.name, "version": self.version},
                "native_spaces": self.native,
            }
        if kind == "task":
            self._current = message["task"]["id"]
            if self._current not in self._agents:
                self._agents[self._current] = self._build(message)
            return {"type": "ready"}
        agent = self._agents.get(self._current or "")
        if agent is None:
            raise ProtocolError(f"{kind!r} before a 'task' message")
        if kind == "reset":
            reset_agent(agent, int(message["seed"]))
            return {"type": "ready"}
        if kind == "act":
            return {"type": "action", "action": np.asarray(agent.act(message["observation"]))}
        raise ProtocolError(f"unknown message type {kind!r}; accepted: hello, task, reset, act")

    def _build(self, message: dict[str, Any]) -> Agent:
        """Build the agent for a task, on a local copy of its env.

        In a suite of several bodies (``shared_layout`` names the suite) an agent sees the
        shared spaces, behind ``MultiEmbodiment``, unless its factory acts in the body's own
        (``native_spaces``): then the harness sends native observations and pads its
        actions.
        """
        from portia_envs.harness.agents import build_agent
        from portia_envs.harness.episode import suite_layout

        env_spec = message["env"]
        paused = RemoteTimePause(gymnasium.make(env_spec["id"], **env_spec["kwargs"]), self.channel)
        if self.native or message.get("shared_layout") is None:
            return build_agent(self.spec, paused)
        return build_agent(
            self.spec, MultiEmbodiment(paused, suite_layout(message["shared_layout"]))
        )


def main(argv: list[str] | None = None) -> int:
    """Run the host on this process's standard streams; returns the exit code."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m portia_envs.harness.agent_host AGENT_SPEC", file=sys.stderr)
        return 2
    channel = stdio_channel()  # prints go to standard error
    try:
        host = AgentHost(args[0], channel)
    except Exception as error:  # a spec that does not load: say why, then stop
        hello = channel.receive()
        if hello["type"] == "hello":
            channel.send({"type": "error", "message": describe_error(error)})
        return 1
    host.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
