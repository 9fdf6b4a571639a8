"""Adapters that give policies from elsewhere Portia's agent contract.

An agent is anything with ``act(observation) -> action`` and ``reset()`` (``Agent``).
``as_agent`` turns what it is given into one: an agent as it is, a Stable-Baselines3 model
(anything with ``predict``) through ``SB3Agent``, and a plain callable through
``CallableAgent``. ``NativeAgent`` lets an agent of one body's own spaces act behind
``MultiEmbodiment``::

    from wrappers.adapters import as_agent

    agent = as_agent(lambda observation: env.action_space.sample())
    agent.reset()
    action = agent.act(observation)
"""

from wrappers.adapters.agent import Agent, AgentTypeError, as_agent, reset_agent
from wrappers.adapters.callable import CallableAgent
from wrappers.adapters.native import NativeAgent
from wrappers.adapters.sb3 import SB3Agent

__all__ = [
    "Agent",
    "AgentTypeError",
    "CallableAgent",
    "NativeAgent",
    "SB3Agent",
    "as_agent",
    "reset_agent",
]
