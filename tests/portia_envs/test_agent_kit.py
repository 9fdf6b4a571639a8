"""portia_envs.agent_kit: a Python program's side of the protocol, driven by hand."""

import os
import sys
import threading
import time

import numpy as np
import pytest

from portia_envs.agent_kit import (
    EXIT_CLOSED,
    EXIT_REFUSED,
    ImagineRefusedError,
    ProtocolAgent,
    serve,
)
from portia_envs.harness.agent_process import AgentProcess
from portia_envs.harness.protocol import Channel


class Recorder(ProtocolAgent):
    """Records its calls; what ``act`` does depends on the observation's one value."""

    name, version, native_spaces = "recorder", "3", True

    def __init__(self):
        self.calls = []

    def on_task(self, task):
        self.calls.append(("task", task["task"]["id"]))
        if task["task"]["id"] == "broken":
            raise ValueError("no such task")

    def reset(self, seed):
        self.calls.append(("reset", seed))

    def act(self, observation, imagine):
        mode = int(observation[0])
        if mode == 1:
            return imagine(np.zeros((2, 3, 1), np.float32))["reward"][:, -1]
        if mode == 2:
            try:
                imagine(np.zeros((1, 1, 1)))
            except ImagineRefusedError as error:
                self.calls.append(("refused", str(error)))
                return [-1.0]
        if mode == 3:
            raise ValueError("cannot decide")
        if mode == 4:
            return "left"
        return observation + 1


class Session:
    """``serve`` on a thread, over pipes; the test is the harness."""

    def __init__(self):
        to_agent, self.to_agent = os.pipe()
        self.from_agent, from_harness = os.pipe()
        self.fds = [to_agent, self.from_agent, from_harness]
        self.agent = Recorder()
        self.code = None
        channel = Channel(to_agent, from_harness)
        self.thread = threading.Thread(target=self._serve, args=(channel,), daemon=True)
        self.thread.start()
        self.harness = Channel(self.from_agent, self.to_agent)

    def _serve(self, channel):
        self.code = serve(lambda: self.agent, channel)

    def ask(self, message):
        self.harness.send(message)
        return self.harness.receive(time.monotonic() + 5)

    def exit_code(self):
        self.thread.join(5)
        assert not self.thread.is_alive()
        return self.code

    def ready_for_act(self):
        assert self.ask(TASK)["type"] == "ready"
        assert self.ask({"type": "reset", "seed": 5})["type"] == "ready"

    def end_input(self):
        """Close the harness's end of the agent's input: the agent reads its end."""
        if self.to_agent is not None:
            os.close(self.to_agent)
            self.to_agent = None

    def close(self):
        # The thread stops before its descriptors close: none is reused under it.
        self.end_input()
        self.thread.join(5)
        for fd in self.fds:
            os.close(fd)


TASK = {"type": "task", "task": {"id": "reach-centre"}, "action_space": {"shape": [1]}}


def act(value):
    return {"type": "act", "observation": np.array([value], np.float64)}


@pytest.fixture
def session():
    session = Session()
    yield session
    session.close()


def test_hello_names_the_agent_and_its_spaces(session):
    assert session.ask({"type": "hello", "protocol": 1, "run": {}}) == {
        "type": "hello",
        "protocol": 1,
        "agent": {"name": "recorder", "version": "3"},
        "native_spaces": True,
    }


def test_a_hello_of_another_version_is_refused_naming_both_and_ends_the_program(session):
    reply = session.ask({"type": "hello", "protocol": 2, "run": {}})
    assert reply == {
        "type": "error",
        "message": "this agent speaks protocol 1; the harness asked for 2",
    }
    assert session.exit_code() == EXIT_REFUSED


def test_task_reset_and_act_reach_the_agent(session):
    session.ready_for_act()
    reply = session.ask(act(0.5))
    assert reply["type"] == "action"
    np.testing.assert_array_equal(reply["action"], [1.5])
    assert session.agent.calls == [("task", "reach-centre"), ("reset", 5)]


def test_imagine_sends_the_plans_and_returns_the_future(session):
    session.ready_for_act()
    session.harness.send(act(1))
    request = session.harness.receive(time.monotonic() + 5)
    assert request["type"] == "imagine" and request["plans"].shape == (2, 3, 1)
    reward = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 2.0]])
    reply = session.ask({"type": "future", "future": {"reward": reward}})
    np.testing.assert_array_equal(reply["action"], [1.0, 2.0])


def test_a_refused_imagine_raises_in_the_agent_with_the_harness_message(session):
    session.ready_for_act()
    session.harness.send(act(2))
    assert session.harness.receive(time.monotonic() + 5)["type"] == "imagine"
    reply = session.ask({"type": "error", "message": "over the think budget"})
    np.testing.assert_array_equal(reply["action"], [-1.0])
    assert session.agent.calls[-1] == ("refused", "over the think budget")


def test_an_agent_error_is_answered_with_where_it_was_raised_and_the_program_goes_on(session):
    session.ready_for_act()
    reply = session.ask(act(3))
    assert reply["type"] == "error"
    assert reply["message"].startswith("ValueError: cannot decide\n  at ")
    assert reply["message"].endswith("in act")
    np.testing.assert_array_equal(session.ask(act(0))["action"], [1.0])
    reply = session.ask(act(4))
    assert reply == {
        "type": "error",
        "message": reply["message"],
    } and reply["message"].startswith(
        "InvalidTypeError: act returned <U4 values; an action is numeric"
    )


def test_a_task_that_fails_leaves_the_agent_without_one(session):
    reply = session.ask({**TASK, "task": {"id": "broken"}})
    assert reply["type"] == "error" and "ValueError: no such task" in reply["message"]
    assert session.ask(act(0)) == {"type": "error", "message": "'act' before any 'task' message"}
    assert session.ask({"type": "reset", "seed": 1})["message"] == (
        "'reset' before any 'task' message"
    )


def test_an_unknown_message_is_answered_with_error_and_the_program_goes_on(session):
    assert session.ask({"type": "dance"}) == {
        "type": "error",
        "message": "unknown message type 'dance'; accepted: hello, task, reset, act, close",
    }
    assert session.ask({"type": "hello", "protocol": 1})["type"] == "hello"


def test_a_header_that_is_not_json_is_answered_with_error_and_ends_the_program(session):
    os.write(session.to_agent, (4).to_bytes(4, "little") + b"{x:1")
    reply = session.harness.receive(time.monotonic() + 5)
    assert reply["type"] == "error"
    assert reply["message"].startswith("a message this agent cannot read: a message header")
    assert session.exit_code() == EXIT_REFUSED


def test_close_and_the_end_of_the_input_end_the_program_with_code_0(session):
    session.harness.send({"type": "close"})
    assert session.exit_code() == EXIT_CLOSED
    other = Session()
    other.end_input()
    try:
        assert other.exit_code() == EXIT_CLOSED
    finally:
        other.close()


def test_a_program_prints_to_its_log_while_the_protocol_keeps_standard_output(tmp_path):
    script = tmp_path / "agent.py"
    script.write_text(
        "import sys\n"
        "from portia_envs.agent_kit import ProtocolAgent, serve\n"
        "class Chatty(ProtocolAgent):\n"
        "    def __init__(self):\n"
        "        print('a word on standard output')\n"
        "sys.exit(serve(Chatty))\n"
    )
    process = AgentProcess([sys.executable, str(script)], memory_mb=4096, cpu_s=60.0)
    try:
        hello = process.handshake({"suite": "smoke-v0", "track": "paused", "budget_ms": None})
        assert hello["agent"] == {"name": "agent", "version": None}
        assert process.log_tail() == "a word on standard output"
    finally:
        process.close()
    assert process.process.returncode == 0
