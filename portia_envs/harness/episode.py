"""One episode of one agent on one suite task, as a record: what every worker runs.

A run is fixed by a ``RunConfig`` (suite, track, budget, clock, agent, isolation); its work
is a stream of ``EpisodeJob`` (task, seed, episode index). ``EpisodeRunner`` runs jobs in
whatever process it lives in, holding the envs and reaching the agent through a link
(``harness.agent_link``: by default a child process speaking ``harness.protocol``), and
returns each as a plain, JSON-ready record (see
``portia_envs/results.schema.json``, ``$defs/episode``). A record depends only on its
config and job, never on which worker ran it or what ran before, so a run split over
workers, interrupted and resumed gives the same records.
"""

from __future__ import annotations

import functools
import math
import time
import traceback
import zlib
from dataclasses import dataclass, field
from typing import Any

import gymnasium
import numpy as np

from portia_envs.errors import InvalidParameterError
from portia_envs.harness.agent_link import (
    InProcessLink,
    ProcessLink,
    TaskEnv,
    checked_action,
)
from portia_envs.harness.agent_process import (
    DEFAULT_AGENT_MEMORY_MB,
    DEFAULT_AGENT_THREADS,
    AgentFailure,
    python_agent_command,
)
from portia_envs.harness.agents import build_agent, exec_command, is_exec_spec, load_factory
from portia_envs.results import ISOLATIONS
from portia_envs.suites import get_suite
from wrappers.adapters import Agent, NativeAgent
from wrappers.clocks import Clock, FixedLatency, WallClock
from wrappers.latency_budget import LatencyBudget
from wrappers.multi_embodiment import MultiEmbodiment
from wrappers.shared_layout import SharedLayout
from wrappers.time_pause import TimePause

# What an agent factory sets to True to act in a body's own spaces: in a suite of several
# bodies it is built on the task's ``TimePause`` and acts through ``NativeAgent``, while
# every other agent sees the shared spaces.
NATIVE_SPACES_ATTRIBUTE = "acts_in_native_spaces"
# Lines of a traceback kept in a failed episode's record.
TRACEBACK_LINES = 6
# Mixed into an episode's reset seed to give the agent's seed: the agent never learns the
# seed that draws the scored episode's task and start.
AGENT_SEED_SALT = 0x6167656E74


@dataclass(frozen=True)
class RunConfig:
    """What a run is: everything that decides its records, and so must match on resume.

    Attributes:
        suite: The suite's name.
        suite_hash: The suite's content hash when the run started.
        track: ``"paused"`` (the world waits for every decision) or ``"realtime"``.
        agent: The agent spec as workers load it (``agents.resolve_spec``).
        budget_ms: The latency budget per decision, ms (realtime only).
        clock: What measures latency (realtime only): ``"wall"``, or ``"fixed:MS"`` for a
            fixed latency of MS milliseconds per decision.
        timeout_s: Wall seconds an episode may take before it is stopped and recorded as
            failed.
        isolation: ``"process"`` (the agent in its own process, behind the protocol) or
            ``"in-process"`` (built in the worker; for debugging).
        agent_memory_mb: The agent process's memory limit, MiB.
        agent_cpu_s: CPU seconds the agent process may use per episode; None: ``timeout_s``.
        agent_threads: Threads the agent process may compute with (onnxruntime's intra-op
            threads, torch's threads; ``PORTIA_AGENT_THREADS`` and ``OMP_NUM_THREADS`` in
            its environment).
        agent_prefix: A program and its arguments that the agent process's command runs
            under, such as ``("unshare", "-n")`` for an agent without network; empty:
            none. It must exec the agent's command in place (same process).
    """

    suite: str
    suite_hash: str
    track: str
    agent: str
    budget_ms: float | None
    clock: str | None
    timeout_s: float
    isolation: str = "process"
    agent_memory_mb: int = DEFAULT_AGENT_MEMORY_MB
    agent_cpu_s: float | None = None
    agent_threads: int = DEFAULT_AGENT_THREADS
    agent_prefix: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.isolation not in ISOLATIONS:
            raise InvalidParameterError(
                f"unknown isolation {self.isolation!r}; accepted: {', '.join(ISOLATIONS)}"
            )
        if self.isolation == "in-process" and is_exec_spec(self.agent):
            raise InvalidParameterError(
                f"agent {self.agent!r} is a program of its own; it runs only with "
                f"isolation 'process'"
            )

    def make_link(self) -> ProcessLink | InProcessLink:
        """Return the link to this run's agent, as ``isolation`` says."""
        if self.isolation == "in-process":
            return InProcessLink(self.agent)
        return ProcessLink(
            self.agent,
            memory_mb=self.agent_memory_mb,
            cpu_s=self.timeout_s if self.agent_cpu_s is None else self.agent_cpu_s,
            run={"suite": self.suite, "track": self.track, "budget_ms": self.budget_ms},
            command=[
                *self.agent_prefix,
                *(
                    exec_command(self.agent)
                    if is_exec_spec(self.agent)
                    else python_agent_command(self.agent)
                ),
            ],
            threads=self.agent_threads,
        )

    def make_clock(self) -> Clock:
        """Return a new clock of the kind ``clock`` names."""
        if self.clock == "wall":
            return WallClock()
        kind, _, milliseconds = (self.clock or "").partition(":")
        if kind == "fixed":
            return FixedLatency(float(milliseconds) / 1e3)
        raise InvalidParameterError(f"unknown clock {self.clock!r}; accepted: wall, fixed:MS")


@dataclass(frozen=True)
class EpisodeJob:
    """One episode to run: a task of the suite, a run seed and an episode index.

    Attributes:
        task_id: The suite task.
        split: ``"train"`` or ``"heldout"``.
        family: The task's family.
        seed: The run seed (``--seeds``).
        episode: The episode's index under that seed, from 0.
    """

    task_id: str
    split: str
    family: str
    seed: int
    episode: int

    @property
    def key(self) -> tuple[str, int, int]:
        """``(task_id, seed, episode)``: what identifies the episode within its run."""
        return (self.task_id, self.seed, self.episode)

    @functools.cached_property
    def reset_seed(self) -> int:
        """The env's reset seed: a hash of task, seed and episode (distinct for each)."""
        entropy = [zlib.crc32(self.task_id.encode()), self.seed, self.episode]
        return int(np.random.SeedSequence(entropy).generate_state(1)[0])

    def failed(self, status: str, error: str, tally: Tally | None = None) -> dict[str, Any]:
        """Return the record of this episode failing with ``status`` and ``error``.

        What happened before the failure (``tally``: return, steps, periods, thinking,
        latencies) is kept; ``scores`` decides what a failed episode is worth.
        """
        record = (tally or Tally()).record(self, realtime=False)
        return {**record, "status": status, "error": error, "success": False}

    @property
    def agent_seed(self) -> int:
        """The seed the agent's ``reset`` gets (``agent_seed`` of the reset seed)."""
        return agent_seed(self.reset_seed)

    def identity(self) -> dict[str, Any]:
        """The record's fields that say which episode it is."""
        return {
            "task_id": self.task_id,
            "split": self.split,
            "family": self.family,
            "seed": self.seed,
            "episode": self.episode,
            "reset_seed": self.reset_seed,
        }


def agent_seed(reset_seed: int) -> int:
    """Return the agent's seed for an episode: derived from, and not equal to, its reset seed."""
    return int(np.random.SeedSequence([reset_seed, AGENT_SEED_SALT]).generate_state(1)[0])


@dataclass
class Tally:
    """An episode's running totals, kept as it is played so that a failure keeps them."""

    total: float = 0.0
    length: int = 0
    periods: int = 0
    overran: int = 0
    think_steps: int = 0
    think_s: float = 0.0
    success: bool = False
    latencies: list[float] = field(default_factory=list)

    def add(self, reward: float, info: dict[str, Any], realtime: bool) -> None:
        """Count one decision's step."""
        self.total += float(reward)
        self.length += 1
        self.success = bool(info["is_success"])
        self.think_steps = int(info["episode_think_steps"])
        self.think_s = float(info["episode_think_s"])
        if realtime:
            self.periods += info["periods_elapsed"]
            self.overran += bool(info["overran"])
            self.latencies.append(round(1e3 * info["latency_s"], 4))
        else:
            self.periods += 1

    def record(self, job: EpisodeJob, *, realtime: bool) -> dict[str, Any]:
        """Return the episode's record as completed (``status`` ok)."""
        return {
            **job.identity(),
            "status": "ok",
            "error": None,
            "return": self.total,
            "success": self.success,
            "length": self.length,
            "periods": self.periods,
            "think_steps": self.think_steps,
            "think_s": self.think_s,
            "latencies_ms": list(self.latencies) if realtime else None,
            "overran": self.overran if realtime else None,
        }


class EpisodeRunner:
    """Runs episode jobs of one run, keeping one env per task and one agent link for reuse.

    The runner alone holds the envs, their clocks and think counters; the agent is reached
    through the run's link (``RunConfig.make_link``), by default a child process that sees
    only messages. Each episode has ``timeout_s`` from its start: an agent still deciding
    then is stopped and the episode recorded as ``"timeout"``.

    Args:
        config: The run.
    """

    def __init__(self, config: RunConfig) -> None:
        self.config = config
        self.link = config.make_link()
        self._tasks: dict[str, TaskEnv] = {}

    def run(self, job: EpisodeJob) -> dict[str, Any]:
        """Run ``job`` and return its record; an error anywhere makes a failed record."""
        tally = Tally()
        try:
            task = self._task(job)
            self._play(job, task, tally)
            return tally.record(job, realtime=self.config.track == "realtime")
        except AgentFailure as failure:
            self.link.failed(failure)
            return self._failed(job, failure.status, failure.reason, tally)
        except Exception as error:  # an in-process agent is the user's code: anything fails
            # In-process, the agent could have changed its env: build it afresh.
            if self.config.isolation == "in-process":
                self._tasks.pop(job.task_id, None)
            self.link.failed(AgentFailure("error", str(error), fatal=False))
            return self._failed(job, "error", _describe(error), tally)

    def preflight(self, job: EpisodeJob) -> dict[str, Any]:
        """Build the agent for ``job``'s task and have it act once; return its ``hello``.

        Raises:
            AgentFailure: Whatever kept the agent from acting, with its reason.
        """
        deadline = time.monotonic() + self.config.timeout_s
        try:
            task = self._task(job)
            self.link.begin_task(task, deadline)
            self.link.reset(job.agent_seed, deadline)
            observation, _ = task.env.reset(seed=job.reset_seed)
            action = self.link.act(
                task.observation_for(observation, self.link.native), task, deadline
            )
            checked_action(action, task.agent_spaces(self.link.native)[1])
        except AgentFailure:
            raise
        except Exception as error:
            raise AgentFailure("error", _describe(error)) from error
        return self.link.start()

    def close(self) -> None:
        """Stop the agent and close every env built."""
        self.link.close()
        for task in self._tasks.values():
            task.env.close()
        self._tasks.clear()

    def _task(self, job: EpisodeJob) -> TaskEnv:
        """Return the task's env, building it once."""
        if job.task_id not in self._tasks:
            self._tasks[job.task_id] = build_task_env(self.config, job.task_id, job.split)
        return self._tasks[job.task_id]

    def _play(self, job: EpisodeJob, task: TaskEnv, tally: Tally) -> None:
        """Play one episode, counting it in ``tally``."""
        realtime = self.config.track == "realtime"
        deadline = time.monotonic() + self.config.timeout_s
        link = self.link
        link.begin_task(task, deadline)
        native = link.native
        action_space = task.agent_spaces(native)[1]
        # The agent is reset before the env, so the clock starts with the first observation.
        link.reset(job.agent_seed, deadline)
        observation, info = task.env.reset(seed=job.reset_seed)
        while True:
            action = link.act(task.observation_for(observation, native), task, deadline)
            action = checked_action(action, action_space)
            observation, reward, terminated, truncated, info = task.env.step(
                task.env_action(action, native)
            )
            tally.add(reward, info, realtime)
            if terminated or truncated:
                break
        if not math.isfinite(tally.total):
            raise InvalidParameterError(f"the episode's return is not finite ({tally.total})")

    def _failed(self, job: EpisodeJob, status: str, error: str, tally: Tally) -> dict[str, Any]:
        """Return a failed record that keeps what ``tally`` counted.

        A return that is not finite is not kept: the record then says nothing was played,
        so the episode scores the worst a whole episode can.
        """
        if not math.isfinite(tally.total):
            tally = Tally()
        record = job.failed(status, error, tally)
        if self.config.track == "realtime":
            record.update(latencies_ms=list(tally.latencies), overran=tally.overran)
        return record


def build_env(config: RunConfig, task_id: str, split: str) -> tuple[gymnasium.Env, TimePause]:
    """Return a suite task's env as the run's track has it, and the ``TimePause`` inside it.

    The task's env (the suite's ``env_id`` with ``env_kwargs``) is wrapped in ``TimePause``,
    on the realtime track in ``LatencyBudget`` around that, and in a suite of several bodies
    behind ``MultiEmbodiment`` with the suite's shared layout, so one agent acts for every
    body.
    """
    suite = get_suite(config.suite)
    task_env = gymnasium.make(suite.env_id, **suite.env_kwargs(task_id, split))
    paused = TimePause(task_env)
    env: gymnasium.Env = paused
    if config.track == "realtime":
        assert config.budget_ms is not None
        env = LatencyBudget(paused, budget_s=config.budget_ms / 1e3, clock=config.make_clock())
    if len(suite.bodies) > 1:
        env = MultiEmbodiment(env, suite_layout(suite.name))
    return env, paused


def build_task_env(config: RunConfig, task_id: str, split: str) -> TaskEnv:
    """Return a suite task's env as the run's track has it (``build_env``), with its parts."""
    env, paused = build_env(config, task_id, split)
    spec = get_suite(config.suite).task(task_id, split)
    return TaskEnv(
        task_id=task_id,
        split=split,
        family=spec.family,
        body=spec.embodiment,
        env_kwargs=env_kwargs(config, task_id, split),
        env=env,
        paused=paused,
        shared=env if isinstance(env, MultiEmbodiment) else None,
        suite=config.suite,
    )


def env_kwargs(config: RunConfig, task_id: str, split: str) -> dict[str, Any]:
    """Return what ``gymnasium.make(suite.env_id, ...)`` is given for a suite task."""
    return get_suite(config.suite).env_kwargs(task_id, split)


def build_env_and_agent(config: RunConfig, task_id: str, split: str) -> tuple[gymnasium.Env, Agent]:
    """Return a suite task's env (``build_env``) and the run's agent, built beside it.

    The agent lives in the caller's process, with a handle on the env: for recording a
    trusted agent's demonstrations (``portia collect``), never for scoring, where the
    agent runs behind ``EpisodeRunner``'s link. Agent factories are called with the
    ``TimePause`` in a suite of one body, else with the env behind ``MultiEmbodiment``;
    there a factory that declares ``acts_in_native_spaces = True`` (the scripted experts
    and the teacher do) is called with the ``TimePause`` and its agent acts through
    ``NativeAgent``.
    """
    env, paused = build_env(config, task_id, split)
    if len(get_suite(config.suite).bodies) == 1:
        return env, build_agent(config.agent, paused)
    if getattr(load_factory(config.agent), NATIVE_SPACES_ATTRIBUTE, False):
        return env, NativeAgent(build_agent(config.agent, paused), env)
    return env, build_agent(config.agent, env)


@functools.cache
def suite_layout(suite: str) -> SharedLayout:
    """Return the shared layout that fits every body of ``suite`` (one env each, measured)."""
    chosen = get_suite(suite)
    envs = [gymnasium.make(chosen.env_id, body=body) for body in chosen.bodies]
    try:
        return SharedLayout.covering(envs)
    finally:
        for env in envs:
            env.close()


def suite_agent_env(suite_name: str) -> gymnasium.Env:
    """Return the env of a suite's first train task as its agents see it.

    Its spaces are those of every task of the suite: the body's own, or in a suite of
    several bodies the shared ones (``MultiEmbodiment`` with ``suite_layout``).

    Raises:
        UnknownSuiteError: If there is no such suite.
    """
    suite = get_suite(suite_name)
    task = suite.train[0]
    env = gymnasium.make(suite.env_id, **suite.env_kwargs(task.task_id, "train"))
    return MultiEmbodiment(env, suite_layout(suite.name)) if len(suite.bodies) > 1 else env


def _describe(error: BaseException) -> str:
    """Return ``Type: message`` and the last lines of the traceback, for a record."""
    lines = traceback.format_exception(error)
    tail = "".join(lines[-TRACEBACK_LINES:]).strip()
    return f"{type(error).__name__}: {error}\n{tail}"
