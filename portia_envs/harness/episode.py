"""One episode of one agent on one suite task, as a record: what every worker runs.

A run is fixed by a ``RunConfig`` (suite, track, budget, clock, agent); its work is a list
of ``EpisodeJob`` (task, seed, episode index). ``EpisodeRunner`` runs jobs in whatever
process it lives in and returns each as a plain, JSON-ready record (see
``portia_envs/results.schema.json``, ``$defs/episode``). A record depends only on its
config and job, never on which worker ran it or what ran before, so a run split over
workers, interrupted and resumed gives the same records.
"""

from __future__ import annotations

import functools
import math
import traceback
import zlib
from dataclasses import dataclass
from typing import Any

import gymnasium
import numpy as np

from portia_envs.harness.agents import build_agent, load_factory
from portia_envs.suites import get_suite
from wrappers.adapters import Agent, NativeAgent, reset_agent
from wrappers.clocks import Clock, FixedLatency, WallClock
from wrappers.latency_budget import LatencyBudget
from wrappers.multi_embodiment import MultiEmbodiment
from wrappers.shared_layout import SharedLayout
from wrappers.time_pause import TimePause

# The env every suite task runs in, with the task's body (the reference tables were
# measured in it too).
SUITE_ENV_ID = "Portia/Arm-v0"
# What an agent factory sets to True to act in a body's own spaces: in a suite of several
# bodies it is built on the task's ``TimePause`` and acts through ``NativeAgent``, while
# every other agent sees the shared spaces.
NATIVE_SPACES_ATTRIBUTE = "acts_in_native_spaces"
# Lines of a traceback kept in a failed episode's record.
TRACEBACK_LINES = 6


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
    """

    suite: str
    suite_hash: str
    track: str
    agent: str
    budget_ms: float | None
    clock: str | None
    timeout_s: float

    def make_clock(self) -> Clock:
        """Return a new clock of the kind ``clock`` names."""
        if self.clock == "wall":
            return WallClock()
        kind, _, milliseconds = (self.clock or "").partition(":")
        if kind == "fixed":
            return FixedLatency(float(milliseconds) / 1e3)
        raise ValueError(f"unknown clock {self.clock!r}; accepted: wall, fixed:MS")


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

    def failed(self, status: str, error: str) -> dict[str, Any]:
        """Return the record of this episode failing with ``status`` and ``error``."""
        return {
            **self.identity(),
            "status": status,
            "error": error,
            "return": 0.0,
            "success": False,
            "length": 0,
            "periods": 0,
            "think_steps": 0,
            "think_s": 0.0,
            "latencies_ms": None,
            "overran": None,
        }

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


class EpisodeRunner:
    """Runs episode jobs of one run, keeping one env and agent per task for reuse.

    Args:
        config: The run.
    """

    def __init__(self, config: RunConfig) -> None:
        self.config = config
        self._built: dict[str, tuple[gymnasium.Env, Agent]] = {}

    def run(self, job: EpisodeJob) -> dict[str, Any]:
        """Run ``job`` and return its record; an error anywhere makes a failed record.

        After a failure the task's env and agent are rebuilt for its next episode, so a
        broken one cannot leak into other episodes.
        """
        try:
            env, agent = self._env_and_agent(job)
            return self._play(job, env, agent)
        except Exception as error:  # the agent is the user's code: anything may fail
            self._built.pop(job.task_id, None)
            return job.failed("error", _describe(error))

    def close(self) -> None:
        """Close every env built."""
        for env, _ in self._built.values():
            env.close()
        self._built.clear()

    def _env_and_agent(self, job: EpisodeJob) -> tuple[gymnasium.Env, Agent]:
        """Return the task's env (as the track has it) and agent, building them once."""
        if job.task_id not in self._built:
            self._built[job.task_id] = build_env_and_agent(self.config, job.task_id, job.split)
        return self._built[job.task_id]

    def _play(self, job: EpisodeJob, env: gymnasium.Env, agent: Agent) -> dict[str, Any]:
        """Play one episode and return its record."""
        realtime = self.config.track == "realtime"
        reset_agent(agent, job.reset_seed)
        observation, info = env.reset(seed=job.reset_seed)
        total, length, periods, overran = 0.0, 0, 0, 0
        latencies: list[float] = []
        while True:
            action = agent.act(observation)
            observation, reward, terminated, truncated, info = env.step(action)
            total += float(reward)
            length += 1
            if realtime:
                periods += info["periods_elapsed"]
                overran += bool(info["overran"])
                latencies.append(round(1e3 * info["latency_s"], 4))
            else:
                periods += 1
            if terminated or truncated:
                break
        if not math.isfinite(total):
            raise ValueError(f"the episode's return is not finite ({total})")
        return {
            **job.identity(),
            "status": "ok",
            "error": None,
            "return": total,
            "success": bool(info["is_success"]),
            "length": length,
            "periods": periods,
            "think_steps": int(info["episode_think_steps"]),
            "think_s": float(info["episode_think_s"]),
            "latencies_ms": latencies if realtime else None,
            "overran": overran if realtime else None,
        }


def build_env(config: RunConfig, task_id: str, split: str) -> tuple[gymnasium.Env, TimePause]:
    """Return a suite task's env as the run's track has it, and the ``TimePause`` inside it.

    The task's env (``SUITE_ENV_ID`` with the task and its body) is wrapped in ``TimePause``,
    on the realtime track in ``LatencyBudget`` around that, and in a suite of several bodies
    behind ``MultiEmbodiment`` with the suite's shared layout, so one agent acts for every
    body.
    """
    suite = get_suite(config.suite)
    body = suite.task(task_id, split).embodiment
    task_env = gymnasium.make(
        SUITE_ENV_ID, suite=config.suite, split=split, task=task_id, body=body
    )
    paused = TimePause(task_env)
    env: gymnasium.Env = paused
    if config.track == "realtime":
        assert config.budget_ms is not None
        env = LatencyBudget(paused, budget_s=config.budget_ms / 1e3, clock=config.make_clock())
    if len(suite.bodies) > 1:
        env = MultiEmbodiment(env, suite_layout(suite.name))
    return env, paused


def build_env_and_agent(config: RunConfig, task_id: str, split: str) -> tuple[gymnasium.Env, Agent]:
    """Return a suite task's env (``build_env``) and the run's agent, built to act in it.

    Agent factories are called with the ``TimePause`` in a suite of one body, else with the
    env behind ``MultiEmbodiment``; there a factory that declares
    ``acts_in_native_spaces = True`` (the scripted experts and the teacher do) is called
    with the ``TimePause`` and its agent acts through ``NativeAgent``.
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
    envs = [gymnasium.make(SUITE_ENV_ID, body=body) for body in get_suite(suite).bodies]
    try:
        return SharedLayout.covering(envs)
    finally:
        for env in envs:
            env.close()


def _describe(error: BaseException) -> str:
    """Return ``Type: message`` and the last lines of the traceback, for a record."""
    lines = traceback.format_exception(error)
    tail = "".join(lines[-TRACEBACK_LINES:]).strip()
    return f"{type(error).__name__}: {error}\n{tail}"
