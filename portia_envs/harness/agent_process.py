"""The harness's side of an agent in its own process: start it, limit it, talk to it.

``AgentProcess`` starts the agent as a child process (for a Python spec,
``python -m portia_envs.harness.agent_host SPEC``), with a memory limit, a CPU limit per
episode, and a parent-death signal so that it never outlives the worker. It speaks the
protocol of ``harness.protocol`` over the child's standard input and output; the child's
standard error goes to a log file whose tail explains a failure. Every way an agent can fail
(an ``error`` reply, a broken message, a crash, a limit, a deadline) raises
``AgentFailure`` with a status and a curated reason.
"""

from __future__ import annotations

import ctypes
import math
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from portia_envs.errors import PortiaError
from portia_envs.harness.protocol import (
    PROTOCOL_VERSION,
    Channel,
    PeerClosedError,
    ProtocolError,
    ReceiveTimeoutError,
    SendTimeoutError,
)

# The memory an agent process may map, MiB, unless --agent-memory-mb says otherwise: room
# for torch and a mid-sized model, well under a 2-core, 24 GB machine's memory per worker.
DEFAULT_AGENT_MEMORY_MB = 4096
# Threads an agent computes with unless --agent-threads says otherwise: one, so that a
# decision's latency does not depend on how many workers share the machine's cores.
DEFAULT_AGENT_THREADS = 1
# The environment variable that tells an agent process its number of threads.
THREADS_VARIABLE = "PORTIA_AGENT_THREADS"
# Seconds the agent has to start and say hello (imports included).
START_TIMEOUT_S = 120.0
# Seconds a closed agent gets to exit before it is killed.
EXIT_WAIT_S = 2.0
# Lines of the agent's standard error kept in a failure's reason.
LOG_TAIL_LINES = 8
# prctl(2) option that sends the child a signal when its parent dies.
_PR_SET_PDEATHSIG = 1
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class AgentFailure(PortiaError, RuntimeError):
    """The agent failed an episode.

    Attributes:
        status: ``"error"`` (it raised, crashed, broke the protocol or a limit) or
            ``"timeout"`` (the episode's deadline passed while it was deciding).
        reason: What happened, in words, with the end of the agent's log where it helps.
        fatal: Whether the agent process is beyond use (dead, hung, out of step with the
            protocol); False when it answered with an ``error`` and waits for the next
            request.
    """

    def __init__(self, status: str, reason: str, *, fatal: bool = True) -> None:
        super().__init__(reason)
        self.status, self.reason, self.fatal = status, reason, fatal


def python_agent_command(spec: str) -> list[str]:
    """Return the command that hosts a Python agent spec in a fresh interpreter."""
    return [sys.executable, "-m", "portia_envs.harness.agent_host", spec]


def set_parent_death_signal(sig: int = signal.SIGKILL) -> None:
    """Ask Linux to send ``sig`` to this process when its parent exits (no-op elsewhere)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)


class AgentProcess:
    """One agent in its own process, for one harness worker.

    Args:
        command: The program and its arguments (``python_agent_command(spec)``).
        memory_mb: The address-space limit of the process, MiB.
        cpu_s: CPU seconds the agent may use per episode (all its threads together).
        threads: Threads it may compute with: ``PORTIA_AGENT_THREADS`` (read by the
            Python host's model agents) and ``OMP_NUM_THREADS`` in its environment.
    """

    def __init__(
        self,
        command: list[str],
        *,
        memory_mb: int,
        cpu_s: float,
        threads: int = DEFAULT_AGENT_THREADS,
    ) -> None:
        self.command, self.memory_mb, self.cpu_s = command, memory_mb, cpu_s
        self._log = tempfile.NamedTemporaryFile(prefix="portia-agent-", suffix=".log")
        limit = memory_mb * 1024 * 1024
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env={**os.environ, THREADS_VARIABLE: str(threads), "OMP_NUM_THREADS": str(threads)},
            start_new_session=True,  # its own process group: killed as one
            preexec_fn=lambda: _limit_child(limit),
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        # Non-blocking: a message to an agent that stopped reading waits only until the
        # request's deadline.
        os.set_blocking(self.process.stdin.fileno(), False)
        self.channel = Channel(self.process.stdout.fileno(), self.process.stdin.fileno())
        self.hello: dict[str, Any] = {}

    def handshake(self, run: dict[str, Any], deadline: float | None = None) -> dict[str, Any]:
        """Send ``hello`` and return the agent's (its name, version and spaces).

        Args:
            run: What the ``hello`` tells the agent of the run.
            deadline: ``time.monotonic()`` by which the agent's ``hello`` must arrive (the
                episode's deadline); it waits ``START_TIMEOUT_S`` at most either way.

        Raises:
            AgentFailure: If the agent cannot start, does not answer in time, or speaks
                another protocol version.
        """
        limit = time.monotonic() + START_TIMEOUT_S
        reply = self.request(
            {"type": "hello", "protocol": PROTOCOL_VERSION, "run": run},
            "hello",
            limit if deadline is None else min(limit, deadline),
        )
        if reply.get("protocol") != PROTOCOL_VERSION:
            raise AgentFailure(
                "error",
                self._with_log(
                    f"the agent speaks protocol {reply.get('protocol')!r}; this harness speaks "
                    f"{PROTOCOL_VERSION} (docs/protocol.md)"
                ),
            )
        self.hello = reply
        return reply

    def request(self, message: dict[str, Any], expected: str, deadline: float) -> dict[str, Any]:
        """Send ``message`` and return the agent's reply of type ``expected``.

        Raises:
            AgentFailure: On an ``error`` reply, another type, a dead agent or the deadline.
        """
        self._send(message, deadline)
        return self._expect(expected, deadline)

    def act(
        self,
        observation: Any,
        imagine: Callable[[Any], dict[str, Any]],
        deadline: float,
    ) -> Any:
        """Send an observation; serve the agent's ``imagine`` requests; return its action.

        Args:
            observation: What the agent sees.
            imagine: Serves one ``imagine`` request: plans in, the future out. A
                ``PortiaError`` it raises (bad plans) goes back to the agent as ``error``.
            deadline: ``time.monotonic()`` by which the action must have arrived.

        Raises:
            AgentFailure: As for ``request``.
        """
        self._send({"type": "act", "observation": observation}, deadline)
        while True:
            reply = self._expect(("action", "imagine"), deadline)
            if reply["type"] == "action":
                if "action" not in reply:
                    raise AgentFailure("error", "the agent's 'action' message has no 'action'")
                return reply["action"]
            try:
                answer = {"type": "future", "future": imagine(reply.get("plans"))}
            except PortiaError as error:
                answer = {"type": "error", "message": f"imagine refused: {error}"}
            self._send(answer, deadline)

    def start_episode(self) -> None:
        """Give the agent a fresh CPU allowance of ``cpu_s`` seconds for the next episode."""
        used = _cpu_seconds(self.process.pid)
        if used is None:
            return
        soft = math.ceil(used + self.cpu_s)
        _, hard = resource.prlimit(self.process.pid, resource.RLIMIT_CPU)
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.prlimit(self.process.pid, resource.RLIMIT_CPU, (soft, hard))

    def close(self) -> None:
        """Ask the agent to exit, then kill its process group if it does not."""
        if self.process.poll() is None:
            try:
                self.channel.send({"type": "close"}, time.monotonic() + EXIT_WAIT_S)
                self.process.wait(EXIT_WAIT_S)
            except (ProtocolError, subprocess.TimeoutExpired):
                pass
        self.kill()

    def kill(self) -> None:
        """Kill the agent's whole process group at once, and release its pipes and log."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        self._log.close()

    def log_tail(self) -> str:
        """Return the last lines the agent wrote to its standard error."""
        try:
            text = Path(self._log.name).read_bytes()[-8192:].decode(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-LOG_TAIL_LINES:])

    def _send(self, message: dict[str, Any], deadline: float) -> None:
        """Send a message; a closed pipe means the agent died, a full one that it hung."""
        try:
            self.channel.send(message, deadline)
        except SendTimeoutError:
            raise AgentFailure(
                "timeout",
                self._with_log(
                    f"the agent stopped reading: it had not taken {message['type']!r} by the "
                    f"deadline"
                ),
            ) from None
        except PeerClosedError:
            raise self._death() from None

    def _expect(self, expected: str | tuple[str, ...], deadline: float) -> dict[str, Any]:
        """Receive a message of an expected type (see ``request``)."""
        try:
            reply = self.channel.receive(deadline)
        except ReceiveTimeoutError:
            reason = "the agent did not answer before the deadline"
            if expected == "hello":
                reason = (
                    "the agent did not answer the harness's 'hello' before the deadline (a "
                    "program reads it on its standard input and answers with its own 'hello': "
                    "docs/protocol.md)"
                )
            raise AgentFailure("timeout", self._with_log(reason)) from None
        except PeerClosedError:
            raise self._death() from None
        except ProtocolError as error:
            raise AgentFailure(
                "error", self._with_log(f"the agent broke the protocol: {error}")
            ) from None
        if reply["type"] == "error":
            message = str(reply.get("message", "(no message)"))
            if message.startswith("MemoryError"):
                message += f"\n(the agent process may map {self.memory_mb} MiB: --agent-memory-mb)"
            raise AgentFailure("error", message, fatal=False)
        accepted = (expected,) if isinstance(expected, str) else expected
        if reply["type"] not in accepted:
            raise AgentFailure(
                "error",
                self._with_log(
                    f"the agent broke the protocol: it sent {reply['type']!r} where "
                    f"{' or '.join(map(repr, accepted))} was expected"
                ),
            )
        return reply

    def _with_log(self, reason: str) -> str:
        """Return ``reason`` followed by the last lines of the agent's log, if it wrote any."""
        tail = self.log_tail()
        return reason + (f"; its log ends:\n{tail}" if tail else "")

    def _death(self) -> AgentFailure:
        """Return the failure of an agent whose process exited: why, and its log's end."""
        try:
            code = self.process.wait(EXIT_WAIT_S)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.process.returncode
        return AgentFailure(
            "error", self._with_log(describe_exit(code, self.memory_mb, self.cpu_s))
        )


def describe_exit(code: int, memory_mb: int, cpu_s: float) -> str:
    """Return why an agent process with exit status ``code`` ended, in words."""
    if code >= 0:
        return f"the agent process exited with code {code} during the episode"
    sig = signal.Signals(-code)
    causes = {
        signal.SIGKILL: "killed (SIGKILL): out of memory, or killed from outside",
        signal.SIGXCPU: f"stopped for using more than its {cpu_s:g} CPU seconds per episode "
        f"(--agent-cpu-s)",
        signal.SIGSEGV: f"crashed (segmentation fault; its memory limit is {memory_mb} MiB)",
        signal.SIGABRT: "aborted (SIGABRT)",
    }
    return "the agent process " + causes.get(sig, f"was stopped by {sig.name}")


def _limit_child(memory_bytes: int) -> None:
    """In the child, before it runs the agent: memory limit, parent-death signal."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    set_parent_death_signal()


def _cpu_seconds(pid: int) -> float | None:
    """Return the CPU seconds (user + system) a live process has used, None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # Fields 14 and 15 of proc(5), utime and stime, counted after the ")" that ends field 2.
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
