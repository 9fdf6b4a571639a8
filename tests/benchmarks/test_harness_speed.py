"""The harness's parallel scaling and per-episode overhead, as ratios measured in one run.

Scaling: the scripted agent on smoke-v0 with 2 local workers against 1, in episodes per
second from the first finished episode to the last (worker start-up excluded). Overhead:
the harness's seconds per episode (1 worker, the agent in the worker) minus an in-process
loop's over the same episodes (env and agent alone), against the loop's env seconds per
episode. Isolation: seconds per episode with the agent in its own process, behind the
protocol, against the agent in the worker (target <= 1.10x).
``pytest tests/benchmarks --benchmark-enable -s`` measures and checks the targets.
"""

import os
import time

import gymnasium
import numpy as np
import pytest

from portia_envs.harness.agents import build_agent
from portia_envs.harness.local import run_local
from portia_envs.harness.protocol import Channel
from portia_envs.harness.runner import iter_jobs
from portia_envs.suites import get_suite
from tests.portia_envs.harness.harness_runs import config
from wrappers.adapters import reset_agent
from wrappers.time_pause import TimePause

MIN_SCALING = 1.7  # targets from the harness issue
MAX_OVERHEAD = 0.05
MAX_ISOLATION_COST = 1.10  # target from the issue that put the agent in its own process


def _episodes_per_s(jobs, workers, isolation="in-process"):
    """Episodes per second of the local backend, first record to last."""
    finished = []
    for record in run_local(config(isolation=isolation), jobs, workers):
        assert record["status"] == "ok", record["error"]
        finished.append(time.perf_counter())
    return (len(finished) - 1) / (finished[-1] - finished[0])


def _direct_s(jobs):
    """Seconds per episode of env and agent alone, in this process: (env, env + agent)."""
    envs = {}
    env_s = agent_s = 0.0
    for job in jobs:
        if job.task_id not in envs:
            env = TimePause(
                gymnasium.make("Portia/Arm-v0", suite="smoke-v0", task=job.task_id, split=job.split)
            )
            envs[job.task_id] = (env, build_agent("scripted", env))
        env, agent = envs[job.task_id]
        reset_agent(agent, job.reset_seed)
        t = time.perf_counter()
        observation, _ = env.reset(seed=job.reset_seed)
        env_s += time.perf_counter() - t
        done = False
        while not done:
            t = time.perf_counter()
            action = agent.act(observation)
            u = time.perf_counter()
            observation, _, terminated, truncated, _ = env.step(action)
            env_s += time.perf_counter() - u
            agent_s += u - t
            done = terminated or truncated
    return env_s / len(jobs), (env_s + agent_s) / len(jobs)


@pytest.mark.skipif(os.cpu_count() < 2, reason="scaling to 2 workers needs 2 cores")
def test_two_workers_scale_and_the_harness_adds_little(benchmark, measuring):
    episodes = 20 if measuring else 1
    jobs = list(iter_jobs(get_suite("smoke-v0"), episodes, [0]))
    warm_up = benchmark.pedantic(_episodes_per_s, args=(jobs, 1), rounds=1)
    # Measuring, the first run only warms up; once through, it is the 1-worker run.
    one = 0.0 if measuring else warm_up
    two = 0.0
    env_s = direct_s = float("inf")
    # Alternating rounds, the best of each counts (a shared machine's noise only slows).
    for _ in range(3 if measuring else 1):
        if measuring:
            one = max(one, _episodes_per_s(jobs, 1))
        two = max(two, _episodes_per_s(jobs, 2))
        round_env_s, round_direct_s = _direct_s(jobs)
        if round_direct_s < direct_s:
            env_s, direct_s = round_env_s, round_direct_s
    overhead = (1 / one - direct_s) / env_s
    benchmark.extra_info.update({"scaling": two / one, "overhead": overhead})
    print(
        f"\nharness on smoke-v0 (scripted): 1 worker {one:.1f} episodes/s, 2 workers "
        f"{two:.1f} ({two / one:.2f}x); per episode: env {1e3 * env_s:.1f} ms, env + agent "
        f"{1e3 * direct_s:.1f} ms, harness {1e3 / one:.1f} ms, overhead {overhead:.1%} of env time"
    )
    if measuring:
        assert two / one >= MIN_SCALING
        assert overhead <= MAX_OVERHEAD


def test_the_agent_in_its_own_process_costs_little(benchmark, measuring):
    episodes = 10 if measuring else 1
    jobs = list(iter_jobs(get_suite("smoke-v0"), episodes, [0]))
    warm_up = benchmark.pedantic(_episodes_per_s, args=(jobs, 1, "process"), rounds=1)
    # Measuring, the first run only warms up; once through, it is the isolated run.
    isolated = 0.0 if measuring else warm_up
    in_worker = 0.0
    for _ in range(3 if measuring else 1):  # alternating rounds, the best of each
        if measuring:
            isolated = max(isolated, _episodes_per_s(jobs, 1, "process"))
        in_worker = max(in_worker, _episodes_per_s(jobs, 1, "in-process"))
    cost = in_worker / isolated
    benchmark.extra_info["isolation_cost"] = cost
    rounds = 20_000 if measuring else 200  # the floors printed beside it
    print(
        f"\nagent in its own process on smoke-v0 (scripted): {1e3 / isolated:.1f} ms per "
        f"episode, in the worker {1e3 / in_worker:.1f} ms: {cost:.3f}x; per decision: a pipe "
        f"round trip between two processes {1e6 * _pipe_round_trip_s(rounds):.0f} us, encoding "
        f"and decoding an observation and an action {1e6 * _codec_round_trip_s(rounds):.0f} us"
    )
    if measuring:
        assert cost <= MAX_ISOLATION_COST


def _pipe_round_trip_s(rounds=20_000):
    """Seconds for 4 bytes to go to a forked process and back through pipes: the floor."""
    to_child, from_parent = os.pipe()
    to_parent, from_child = os.pipe()
    pid = os.fork()
    if pid == 0:
        for _ in range(rounds):
            os.read(to_child, 4)
            os.write(from_child, b"pong")
        os._exit(0)
    started = time.perf_counter()
    for _ in range(rounds):
        os.write(from_parent, b"ping")
        os.read(to_parent, 4)
    elapsed = time.perf_counter() - started
    os.waitpid(pid, 0)
    for fd in (to_child, from_parent, to_parent, from_child):
        os.close(fd)
    return elapsed / rounds


def _codec_round_trip_s(rounds=20_000):
    """Seconds to send and receive one act and one action message, in one process."""
    env = gymnasium.make("Portia/Arm-v0", suite="smoke-v0", task="push-centre")
    observation, _ = env.reset(seed=0)
    act = {"type": "act", "observation": observation}
    action = {"type": "action", "action": np.zeros(7, np.float32)}
    read_fd, write_fd = os.pipe()
    channel = Channel(read_fd, write_fd)
    started = time.perf_counter()
    for _ in range(rounds):
        channel.send(act)
        channel.receive(time.monotonic() + 1)
        channel.send(action)
        channel.receive(time.monotonic() + 1)
    elapsed = time.perf_counter() - started
    os.close(read_fd)
    os.close(write_fd)
    return elapsed / rounds
