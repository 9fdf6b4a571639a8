import numpy as np
import pytest

from wrappers.adapters import Agent, AgentTypeError, CallableAgent, SB3Agent, as_agent


class Recurrent:
    """An SB3-like model that counts its steps in the recurrent state."""

    def __init__(self):
        self.calls = []

    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        self.calls.append((state, episode_start.tolist(), deterministic))
        return np.full(2, observation), (0 if state is None else state) + 1


class Plain:
    def act(self, observation):
        return observation

    def reset(self):
        pass


def test_an_agent_is_returned_as_it_is():
    agent = Plain()
    assert as_agent(agent) is agent
    assert isinstance(agent, Agent)


def test_a_model_with_predict_becomes_an_sb3_agent_that_carries_its_state():
    model = Recurrent()
    agent = as_agent(model)
    assert isinstance(agent, SB3Agent) and agent.name == "Recurrent"
    agent.reset()
    assert np.array_equal(agent.act(3.0), [3.0, 3.0])
    agent.act(4.0)
    agent.reset()
    agent.act(5.0)
    assert model.calls == [(None, [True], True), (1, [False], True), (None, [True], True)]
    SB3Agent(model, deterministic=False).act(1.0)
    assert model.calls[-1][2] is False


def test_a_callable_becomes_a_callable_agent():
    resets = []

    def double(observation):
        return 2 * observation

    agent = as_agent(double)
    assert isinstance(agent, CallableAgent) and agent.name == "double"
    assert agent.act(2) == 4
    agent.reset()
    counting = CallableAgent(double, on_reset=lambda: resets.append(1), name="twice")
    counting.reset()
    assert resets == [1] and counting.name == "twice"


def test_anything_else_is_refused_with_what_is_accepted():
    with pytest.raises(AgentTypeError, match=r"cannot use a int as an agent; accepted: .*act"):
        as_agent(3)
    with pytest.raises(TypeError, match="policy must be callable"):
        CallableAgent(3)
    with pytest.raises(TypeError, match="must have a predict method"):
        SB3Agent(object())
