"""A whole episode with the C reference agent over the protocol, against the same controller
in the worker, as a ratio measured in one run.

Both play ``smoke-v0``'s ``reach-centre`` from the same reset seed through
``EpisodeRunner``: the C agent (``portia_envs/agent_examples/reach_agent.c``) as
``exec:``, its process started before the timing, and ``reach_controller.ReachSearch`` with
``--isolation in-process``, which imagines through the scored ``TimePause`` directly. Each
decision imagines 13 candidates for 3 periods, so physics dominates both; what the protocol
adds is the act, imagine, future and action messages. Rounds alternate; the fastest of each
counts. Target: <= 1.3x. ``pytest tests/benchmarks/test_exec_agent_speed.py
--benchmark-enable -s`` measures.
"""

import time

from portia_envs.harness.episode import EpisodeJob, EpisodeRunner
from tests.benchmarks.timing import interleaved_best
from tests.portia_envs.harness.harness_runs import config

MAX_RATIO = 1.3  # target from the issue that let agents be any program
JOB = EpisodeJob("reach-centre", "train", "reach", 0, 0)


def _timer(runner, records):
    def episode():
        started = time.perf_counter()
        record = runner.run(JOB)
        elapsed = time.perf_counter() - started
        assert record["status"] == "ok", record["error"]
        records.append(record)
        return elapsed

    return episode


def test_the_c_agent_over_the_protocol_against_the_controller_in_the_worker(
    benchmark, measuring, c_reach_agent
):
    over = EpisodeRunner(config(f"exec:{c_reach_agent}"))
    inside = EpisodeRunner(
        config("portia_envs.agent_examples.reach_controller:ReachSearch", isolation="in-process")
    )
    records = {"protocol": [], "in-process": []}
    try:
        protocol_episode = _timer(over, records["protocol"])
        in_process_episode = _timer(inside, records["in-process"])
        protocol_episode()  # starts the agent process and builds the env: not timed
        warm_in_process = in_process_episode()
        timed_protocol = benchmark.pedantic(protocol_episode, rounds=1)
        if measuring:
            best_protocol, best_in_process = interleaved_best(
                protocol_episode, in_process_episode, 5
            )
        else:  # once through: the episodes so far, one of each after the agent's start
            best_protocol, best_in_process = timed_protocol, warm_in_process
    finally:
        over.close()
        inside.close()
    first = records["protocol"][0]
    for record in records["protocol"] + records["in-process"]:
        assert {key for key in record if record[key] != first[key]} <= {"think_s"}
    ratio = best_protocol / best_in_process
    benchmark.extra_info.update(
        {
            "protocol_episode_s": best_protocol,
            "in_process_episode_s": best_in_process,
            "ratio": ratio,
        }
    )
    periods = first["think_steps"] // first["length"]
    print(
        f"\nsmoke-v0 reach-centre, {first['length']} decisions of {periods} imagined periods: "
        f"the C agent over the protocol {1e3 * best_protocol:.0f} ms, the "
        f"same controller in the worker {1e3 * best_in_process:.0f} ms: {ratio:.3f}x"
    )
    if measuring:
        assert ratio <= MAX_RATIO
