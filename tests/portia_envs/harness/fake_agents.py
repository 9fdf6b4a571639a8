"""Agents for the harness tests, loaded by file spec (``fake_agents.py:NAME``) in workers.

Each misbehaves on episodes whose reset seed is even, and acts like the scripted expert
on the others, so a run mixes good and failed episodes deterministically.
"""

import os
import time

import numpy as np

from portia_envs.experts import ScriptedExpert


class _OnEvenSeeds:
    """The scripted expert, except that ``misbehave`` runs on episodes of even reset seed."""

    def __init__(self, env):
        self.expert = ScriptedExpert(env)
        self.bad = False

    def reset(self, seed=None):
        self.bad = seed is not None and seed % 2 == 0

    def act(self, observation):
        if self.bad:
            self.misbehave()
        return self.expert.act(observation)


class Raising(_OnEvenSeeds):
    def misbehave(self):
        raise RuntimeError("the agent broke on purpose")


class Hanging(_OnEvenSeeds):
    def misbehave(self):
        time.sleep(3600)


class Crashing(_OnEvenSeeds):
    def misbehave(self):
        os._exit(3)


class Slow(ScriptedExpert):
    """The scripted expert, 5 ms slower per decision: long enough to interrupt a run."""

    def act(self, observation):
        time.sleep(0.005)
        return super().act(observation)


def make_hold(env):
    """A factory returning a plain callable: hold still with the gripper open."""
    action = np.zeros(env.action_space.shape, dtype=np.float32)
    return lambda observation: action


def make_nothing(env):
    """A factory that returns no agent."""


NOT_AN_AGENT = 42


def make_sb3(env):
    """An untrained Stable-Baselines3 PPO model: the harness wraps it in SB3Agent."""
    from stable_baselines3 import PPO

    return PPO("MultiInputPolicy", env, n_steps=64, seed=0, device="cpu")


def shared_space_agent(env):
    """For suites of several bodies: checks it was given the shared spaces, then holds still.

    Holding still is the zero action of the body's own slots: every joint at the middle of
    its range, the gripper half shut.
    """
    from wrappers import MultiEmbodiment

    assert isinstance(env, MultiEmbodiment), type(env).__name__
    zeros = np.zeros(env.action_space.shape, dtype=np.float32)

    def act(observation):
        assert observation["embodiment"].shape[0] == env.action_space.shape[0]
        return zeros

    return act
