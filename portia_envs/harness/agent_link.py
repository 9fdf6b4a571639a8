"""How the episode runner reaches its agent: in the agent's own process, or in the worker.

Both links have the same verbs: ``begin_task`` (the agent is built for a suite task, on
its spaces), ``reset`` (a new episode, with the agent's seed), ``act`` (an observation
in, an action out, serving ``imagine`` meanwhile) and ``close``. ``ProcessLink`` is the
default and the only one whose results can be trusted: the agent is a child process that
sees messages, never the env, the clock or the records. ``InProcessLink`` builds the
agent in the worker, where it could reach all three; it is there for debugging, and its
results say ``"isolation": "in-process"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium
import numpy as np

from portia_envs.errors import PortiaError
from portia_envs.harness.agent_process import (
    DEFAULT_AGENT_THREADS,
    AgentFailure,
    AgentProcess,
    python_agent_command,
)
from portia_envs.harness.protocol import ProtocolError, as_array, space_to_json
from wrappers.adapters import Agent, reset_agent
from wrappers.errors import ThinkBudgetExceededError
from wrappers.multi_embodiment import MultiEmbodiment
from wrappers.time_pause import TimePause


@dataclass
class TaskEnv:
    """A suite task's env on the harness side, as the run's track has it.

    Attributes:
        task_id: The suite task.
        split: Its split.
        family: Its family.
        body: The body that performs it.
        env_kwargs: What ``gymnasium.make(env_id, ...)`` was given.
        env: The env the episode steps (``TimePause``, maybe ``LatencyBudget`` and
            ``MultiEmbodiment`` around it).
        paused: The ``TimePause`` inside it, which serves and counts ``imagine``.
        shared: The ``MultiEmbodiment`` outside it in a suite of several bodies, else None.
        suite: The suite's name.
    """

    task_id: str
    split: str
    family: str
    body: str
    env_kwargs: dict[str, Any]
    env: gymnasium.Env
    paused: TimePause
    shared: MultiEmbodiment | None
    suite: str

    def agent_spaces(self, native: bool) -> tuple[gymnasium.Space, gymnasium.Space]:
        """Return the observation and action spaces the agent acts in."""
        source = self.paused if native or self.shared is None else self.shared
        return source.observation_space, source.action_space

    def observation_for(self, observation: Any, native: bool) -> Any:
        """Return what the agent sees of ``observation`` (the env's last one)."""
        if native and self.shared is not None:
            return self.shared.native_observation
        return observation

    def env_action(self, action: Any, native: bool) -> Any:
        """Return the action the env steps for the agent's ``action``."""
        if native and self.shared is not None:
            return self.shared.to_unified_action(action)
        return action


def checked_action(action: Any, space: gymnasium.Space) -> np.ndarray:
    """Return an agent's action as an array of the action space's shape and dtype.

    An action with extra axes of size 1 (a batch of one, ``(1, 7)`` for ``(7,)``) is
    reshaped, as policies exported with a batch axis return it; any other shape is refused.

    Raises:
        AgentFailure: If it is not numeric, has another shape, or holds NaN or infinity.
    """
    try:
        array = as_array(action, "the action")
    except ProtocolError as error:
        raise AgentFailure("error", f"invalid action: {error}", fatal=False) from None
    shape = space.shape or ()
    if array.shape != shape:
        if array.size == int(np.prod(shape)) and array.squeeze().shape == tuple(
            n for n in shape if n != 1
        ):
            array = array.reshape(shape)
        else:
            raise AgentFailure(
                "error",
                f"invalid action: shape {array.shape}; the action space needs {shape}",
                fatal=False,
            )
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise AgentFailure("error", f"invalid action: NaN or infinity in {array}", fatal=False)
    return array.astype(space.dtype, copy=False)


def task_message(task: TaskEnv, native: bool) -> dict[str, Any]:
    """Return the protocol's ``task`` message for ``task``, in the spaces the agent acts in.

    Args:
        task: The suite task's env.
        native: Whether the agent acts in the body's own spaces (its ``hello`` said so).
    """
    observation_space, action_space = task.agent_spaces(native)
    return {
        "type": "task",
        "task": {
            "id": task.task_id,
            "split": task.split,
            "family": task.family,
            "body": task.body,
            "suite": task.suite,
        },
        "env": {"id": task.env.spec.id if task.env.spec else None, "kwargs": task.env_kwargs},
        "observation_space": space_to_json(observation_space),
        "action_space": space_to_json(action_space),
        "dt": float(task.paused.unwrapped.dt),
        "shared_layout": None if task.shared is None else task.suite,
    }


class ProcessLink:
    """The agent in its own process, over the protocol (see the module docstring).

    Args:
        spec: The resolved agent spec.
        memory_mb: The agent process's memory limit, MiB.
        cpu_s: CPU seconds the agent may use per episode.
        run: What the ``hello`` tells the agent of the run (suite, track, budget).
        command: The program that speaks the protocol; None: the Python host of ``spec``.
        threads: Threads the agent may compute with (``AgentProcess``).
    """

    isolation = "process"

    def __init__(
        self,
        spec: str,
        *,
        memory_mb: int,
        cpu_s: float,
        run: dict[str, Any],
        command: list[str] | None = None,
        threads: int = DEFAULT_AGENT_THREADS,
    ) -> None:
        self.spec, self.memory_mb, self.cpu_s, self.run = spec, memory_mb, cpu_s, run
        self.threads = threads
        self.command = python_agent_command(spec) if command is None else command
        self._process: AgentProcess | None = None
        self._task: str | None = None
        self.native = False

    def start(self, deadline: float | None = None) -> dict[str, Any]:
        """Start the agent process (if it is not running) and return its ``hello``.

        Args:
            deadline: ``time.monotonic()`` by which the agent must have said hello (the
                episode's deadline); ``AgentProcess.handshake`` bounds the wait either way.
        """
        if self._process is None:
            process = AgentProcess(
                self.command, memory_mb=self.memory_mb, cpu_s=self.cpu_s, threads=self.threads
            )
            try:
                process.handshake(self.run, deadline)
            except AgentFailure:
                process.kill()
                raise
            self._process, self._task = process, None
            self.native = bool(process.hello.get("native_spaces", False))
        return self._process.hello

    def begin_task(self, task: TaskEnv, deadline: float) -> None:
        """Have the agent built for ``task`` (once per task while it lives)."""
        self.start(deadline)
        assert self._process is not None
        if self._task == task.task_id:
            return
        self._process.request(task_message(task, self.native), "ready", deadline)
        self._task = task.task_id

    def reset(self, seed: int, deadline: float) -> None:
        """Start an episode: a CPU allowance, and ``reset`` with the agent's seed."""
        assert self._process is not None
        self._process.start_episode()
        self._process.request({"type": "reset", "seed": seed}, "ready", deadline)

    def act(self, observation: Any, task: TaskEnv, deadline: float) -> Any:
        """Return the agent's action, serving its ``imagine`` requests from ``task``."""
        assert self._process is not None
        return self._process.act(observation, lambda plans: _imagine(task, plans), deadline)

    def failed(self, failure: AgentFailure) -> None:
        """After a failure: a fatal one ends the process (a new one starts next time)."""
        self._task = None
        if failure.fatal and self._process is not None:
            self._process.kill()
            self._process = None

    def close(self) -> None:
        """Stop the agent process."""
        if self._process is not None:
            self._process.close()
            self._process = None


class InProcessLink:
    """The agent built in the worker (for debugging: it could reach the env).

    Args:
        spec: The resolved agent spec.
    """

    isolation = "in-process"

    def __init__(self, spec: str) -> None:
        from portia_envs.harness.agents import agent_name_and_version, load_factory
        from portia_envs.harness.episode import NATIVE_SPACES_ATTRIBUTE

        self.spec = spec
        factory = load_factory(spec)
        self.native = bool(getattr(factory, NATIVE_SPACES_ATTRIBUTE, False))
        name, version = agent_name_and_version(factory)
        self.hello = {"agent": {"name": name, "version": version}, "native_spaces": self.native}
        self._agents: dict[str, Agent] = {}
        self._agent: Agent | None = None

    def start(self) -> dict[str, Any]:
        """Return what a process agent's ``hello`` would say."""
        return self.hello

    def begin_task(self, task: TaskEnv, deadline: float) -> None:
        """Build the agent for ``task`` on its env, once per task."""
        from portia_envs.harness.agents import build_agent

        if task.task_id not in self._agents:
            target = task.paused if self.native or task.shared is None else task.shared
            self._agents[task.task_id] = build_agent(self.spec, target)
        self._agent = self._agents[task.task_id]

    def reset(self, seed: int, deadline: float) -> None:
        """Reset the agent with its seed."""
        assert self._agent is not None
        reset_agent(self._agent, seed)

    def act(self, observation: Any, task: TaskEnv, deadline: float) -> Any:
        """Return the agent's action (it imagines through ``task.paused`` itself)."""
        assert self._agent is not None
        return self._agent.act(observation)

    def failed(self, failure: AgentFailure) -> None:
        """Forget every agent built: the next episode builds afresh."""
        self._agents.clear()
        self._agent = None

    def close(self) -> None:
        """Nothing runs apart from the worker."""
        self._agents.clear()


def _imagine(task: TaskEnv, plans: Any) -> dict[str, Any]:
    """Serve an agent's ``imagine``: the scored env's ``TimePause`` rolls out and counts.

    Raises:
        PortiaError: If the plans are not an array, or ``TimePause`` refuses them (shape,
            values, think budget); the caller sends the message back to the agent.
    """
    try:
        return task.paused.imagine(as_array(plans, "the plans"))
    except (ValueError, ThinkBudgetExceededError) as error:  # ProtocolError is a ValueError
        raise PortiaError(str(error)) from None
