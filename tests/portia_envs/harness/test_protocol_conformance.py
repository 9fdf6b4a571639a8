"""The reference agents in C, Node.js and Python pass the same protocol cases, and each beats
the random agent through ``portia bench``, playing the same episodes as the others."""

import json
import os
import struct
import subprocess
import tempfile
import time

import numpy as np
import pytest
from typer.testing import CliRunner

from portia_envs.agent_examples.reach_controller import HORIZON, PatternSearch
from portia_envs.cli import app
from portia_envs.harness.agent_link import task_message
from portia_envs.harness.episode import build_task_env
from portia_envs.harness.protocol import Channel, PeerClosedError, ReceiveTimeoutError, as_array
from tests.portia_envs.harness.harness_runs import config
from tests.portia_envs.harness.reference_agents import LANGUAGES, command, exec_spec

# Seconds an answer may take (a fresh interpreter's imports included), and an exit.
ANSWER_S = 15.0
EXIT_S = 2.0
NAMES = {"c": "reach-search-c", "node": "reach-search-js", "python": "reach-search-python"}


class Harness:
    """The harness's end of one agent process, driven by hand."""

    def __init__(self, argv):
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log
        )
        self.channel = Channel(self.process.stdout.fileno(), self.process.stdin.fileno())

    def send(self, message, *, binary=True):
        self.channel.binary = binary
        self.channel.send(message)

    def receive(self):
        return self.channel.receive(time.monotonic() + ANSWER_S)

    def request(self, message):
        self.send(message)
        return self.receive()

    def write(self, data):
        os.write(self.process.stdin.fileno(), data)

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process.stdin.close()
        self.process.stdout.close()
        self.log.close()


@pytest.fixture(params=LANGUAGES)
def agent(request, c_reach_agent):
    harness = Harness(command(request.param, c_reach_agent))
    yield harness
    harness.close()


@pytest.fixture(scope="module")
def task():
    task = build_task_env(config(), "reach-centre", "train")
    yield task
    task.env.close()


def hello(agent, version=1):
    return agent.request(
        {
            "type": "hello",
            "protocol": version,
            "run": {"suite": "smoke-v0", "track": "paused", "budget_ms": None},
        }
    )


def start_episode(agent, task):
    """Hello, task and reset; returns the episode's first observation."""
    assert hello(agent)["type"] == "hello"
    assert agent.request(task_message(task, native=True))["type"] == "ready"
    assert agent.request({"type": "reset", "seed": 7})["type"] == "ready"
    observation, _ = task.env.reset(seed=0)
    return observation


def assert_refused(agent):
    """The agent answered ``error`` or exited with a non-zero code, and did not hang."""
    try:
        reply = agent.receive()
    except PeerClosedError:
        assert agent.process.wait(EXIT_S) != 0
        return
    except ReceiveTimeoutError:
        pytest.fail(f"the agent neither answered nor exited within {ANSWER_S} s")
    assert reply["type"] == "error" and reply["message"], reply


def test_hello_is_answered_with_protocol_1_and_the_agents_name(agent):
    reply = hello(agent)
    assert reply["type"] == "hello" and reply["protocol"] == 1
    assert reply["agent"]["name"] in NAMES.values() and reply["agent"]["version"] == "1"


def test_a_hello_of_another_version_gets_an_error_naming_both_then_a_non_zero_exit(agent):
    reply = hello(agent, version=2)
    assert reply["type"] == "error"
    assert "protocol 1" in reply["message"] and "2" in reply["message"]
    assert agent.process.wait(EXIT_S) != 0


def test_task_and_reset_are_answered_ready(agent, task):
    start_episode(agent, task)


def test_act_imagines_then_sends_an_action_of_the_action_space(agent, task):
    observation = start_episode(agent, task)
    space = task.env.action_space
    for _ in range(3):
        agent.send({"type": "act", "observation": observation})
        imagined = 0
        while (reply := agent.receive())["type"] == "imagine":
            imagined += 1
            plans = as_array(reply["plans"], "plans")
            agent.send({"type": "future", "future": task.paused.imagine(plans)})
        assert reply["type"] == "action" and imagined == 1
        action = as_array(reply["action"], "the action")
        assert action.shape == space.shape and action.dtype == np.float32
        assert space.contains(action)
        observation, *_ = task.env.step(action)


@pytest.mark.parametrize("encoding", ["<f8 buffers", "<f4 buffers", "JSON lists"])
def test_every_agent_runs_the_same_controller_whatever_the_futures_encoding(agent, task, encoding):
    observation = start_episode(agent, task)
    search = PatternSearch(7)
    rewards = np.zeros((13, HORIZON))  # 1 + 2 x 6 joints
    rewards[6, -1] = 1.0  # joint 2 down wins at the horizon's end
    rewards[3, 0] = 5.0  # earlier rewards do not count
    for _ in range(2):
        agent.send({"type": "act", "observation": observation})
        plans = as_array(agent.receive()["plans"], "plans")
        candidates = search.candidates()
        expected = np.repeat(candidates.astype(np.float32)[:, None], HORIZON, axis=1)
        np.testing.assert_array_equal(plans, expected)
        future = dict(task.paused.imagine(plans))
        future["reward"] = rewards.astype(np.float32 if encoding == "<f4 buffers" else np.float64)
        agent.send({"type": "future", "future": future}, binary=encoding != "JSON lists")
        search.choose(candidates, rewards[:, -1])
        action = as_array(agent.receive()["action"], "the action")
        np.testing.assert_array_equal(action, search.action.astype(np.float32))
    assert search.action[2] == pytest.approx(-0.3)  # two moves: steps of 0.1, then 0.2


def test_a_header_that_is_not_json_gets_an_error_or_a_non_zero_exit(agent):
    hello(agent)
    agent.write(struct.pack("<I", 4) + b"{x:1")
    assert_refused(agent)


def test_an_unknown_message_type_gets_an_error_or_a_non_zero_exit(agent):
    hello(agent)
    agent.send({"type": "dance"})
    assert_refused(agent)


def test_close_ends_the_agent_with_code_0_within_2_s(agent, task):
    start_episode(agent, task)
    agent.send({"type": "close"})
    assert agent.process.wait(EXIT_S) == 0


def test_the_end_of_its_input_ends_the_agent_with_code_0(agent):
    hello(agent)
    agent.process.stdin.close()
    assert agent.process.wait(EXIT_S) == 0


@pytest.fixture(scope="module")
def benched(tmp_path_factory, c_reach_agent):
    """``portia bench`` results by agent spec, run once each: smoke-v0, 1 episode, seed 0."""
    results = {}

    def bench(spec):
        if spec not in results:
            out = tmp_path_factory.mktemp("bench")
            done = CliRunner().invoke(
                app,
                ["bench", "--agent", spec, "--suite", "smoke-v0", "--episodes", "1"]
                + ["--seeds", "0", "--out", str(out)],
            )
            assert done.exit_code == 0, done.output
            results[spec] = json.loads((out / "results.json").read_text())
        return results[spec]

    return bench


def scores(results):
    splits = results["scores"]["splits"]
    return {
        split: (splits[split]["iqm"]["value"], splits[split]["success_rate"]["value"])
        for split in ("train", "heldout")
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_reference_agent_beats_random_through_portia_bench(benched, c_reach_agent, language):
    results = benched(exec_spec(language, c_reach_agent))
    baseline = benched("random")
    assert results["agent"]["name"] == NAMES[language] and results["agent"]["version"] == "1"
    assert all(record["status"] == "ok" for record in results["episodes"])
    for split, (iqm, success) in scores(results).items():
        random_iqm, random_success = scores(baseline)[split]
        assert iqm > random_iqm + 50 and success > random_success, (split, iqm, random_iqm)


def test_the_three_reference_agents_play_the_same_episodes(benched, c_reach_agent):
    returns = {
        language: [r["return"] for r in benched(exec_spec(language, c_reach_agent))["episodes"]]
        for language in LANGUAGES
    }
    assert returns["c"] == returns["node"] == returns["python"], returns
