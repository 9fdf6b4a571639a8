"""Agents for the harness tests, loaded by file spec (``fake_agents.py:NAME``) in workers.

The first few misbehave on episodes whose agent seed (what ``reset`` gets) is even, and
act like the scripted expert on the others, so a run mixes good and failed episodes
deterministically. The cheats below them try to raise their score through the env, the
harness or its clock; each plays the same hold-still actions as ``make_hold_still``.
"""

import os
import time

import numpy as np

from portia_envs.experts import ScriptedExpert


class _OnEvenSeeds:
    """The scripted expert, except that ``misbehave`` runs on episodes of even agent seed."""

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


class RaisingLate:
    """Holds still, then raises at its 20th decision: failing on purpose mid-episode."""

    def __init__(self, env):
        self.hold = _hold_action(env)
        self.reset()

    def reset(self):
        self.decisions = 0

    def act(self, observation):
        self.decisions += 1
        if self.decisions == 20:
            raise RuntimeError("giving up on purpose")
        return self.hold


def _hold_action(env):
    """The action that holds the arm at the pose episodes start in, gripper open."""
    env.reset(seed=0)
    return env.unwrapped.hold_action()


def make_hold_still(env):
    """The honest do-nothing agent: hold the start pose."""
    hold = _hold_action(env)
    return lambda observation: hold


class _Holding:
    """Plays ``make_hold_still``'s actions; subclasses add what they try on the side."""

    def __init__(self, env):
        self.env = env
        self.hold = _hold_action(env)

    def reset(self):
        pass

    def act(self, observation):
        return self.hold


class SetStateCheat(_Holding):
    """Holds still, and moves the goal onto what must reach it through ``set_state``."""

    def act(self, observation):
        base = self.env.unwrapped
        state = base.get_state()
        goal = np.asarray(observation["desired_goal"], dtype=np.float64)
        for start in range(state.size - 2):
            if np.array_equal(state[start : start + 3], goal):
                state[start : start + 3] = observation["achieved_goal"]
                base.set_state(state)
                break
        return self.hold


class RunnerPatch(_Holding):
    """Holds still, and patches the harness so that every record says success and return 0."""

    def __init__(self, env):
        from portia_envs.harness import episode

        original = episode.Tally.record

        def forged(tally, job, *, realtime):
            return {**original(tally, job, realtime=realtime), "return": 0.0, "success": True}

        episode.Tally.record = forged
        super().__init__(env)


class ClockPatch(_Holding):
    """Takes 10 ms per decision, and patches the wall clock to say it took 1 ms."""

    def __init__(self, env):
        from wrappers import clocks

        clocks.WallClock.latency_s = lambda clock: 0.001
        super().__init__(env)

    def act(self, observation):
        time.sleep(0.01)
        return self.hold


class HiddenRollout:
    """Plans by ``env.unwrapped.rollout`` instead of ``imagine``: 8 random plans of 10
    periods scored on the env's own state, the best one's first action played."""

    def __init__(self, env):
        self.env = env
        env.reset(seed=0)
        self.rng = np.random.default_rng(0)

    def reset(self):
        self.rng = np.random.default_rng(0)

    def act(self, observation):
        plans = self.rng.uniform(-1, 1, (8, 10, *self.env.action_space.shape))
        future = self.env.unwrapped.rollout(plans.astype(np.float32))
        return plans[int(np.argmax(future["reward"].sum(axis=1))), 0].astype(np.float32)


class ImaginingHold(_Holding):
    """Holds still, imagining 4 plans of 5 periods through ``imagine`` at every decision."""

    def act(self, observation):
        future = self.env.imagine(np.broadcast_to(self.hold, (4, 5, *self.hold.shape)))
        assert future["reward"].shape == (4, 5)
        return self.hold


class ImaginingExpert(ScriptedExpert):
    """The scripted expert, imagining 4 random plans of 5 periods at every decision: a
    planner's thinking at a known, small cost, in episodes that move (a leak of the
    imagined futures into the scored state would show)."""

    def __init__(self, env):
        super().__init__(env)
        self.env = env
        self.rng = np.random.default_rng(0)

    def reset(self):
        self.rng = np.random.default_rng(0)

    def act(self, observation):
        plans = self.rng.uniform(-1, 1, (4, 5, *self.env.action_space.shape))
        assert self.env.imagine(plans.astype(np.float32))["reward"].shape == (4, 5)
        return super().act(observation)


class Broken:
    """An agent whose every decision raises."""

    def __init__(self, env):
        pass

    def reset(self):
        pass

    def act(self, observation):
        raise RuntimeError("the agent broke on purpose")


class _FirstEpisodeOnly:
    """Holds still, except that ``misbehave`` runs at the first decision of the episode
    ``(reach-centre, seed 0, episode 0)``, whatever process the agent lives in."""

    def __init__(self, env):
        from portia_envs.harness.episode import EpisodeJob

        self.hold = _hold_action(env)
        self.bad_seed = EpisodeJob("reach-centre", "train", "reach", 0, 0).agent_seed
        self.first = False

    def reset(self, seed=None):
        self.first = seed == self.bad_seed

    def act(self, observation):
        if self.first:
            self.first = False
            return self.misbehave()
        return self.hold


class MemoryHog(_FirstEpisodeOnly):
    def misbehave(self):
        return np.ones(2**31, dtype=np.uint8)  # 2 GiB


class Spinning(_FirstEpisodeOnly):
    def misbehave(self):
        while True:
            pass


class SegfaultOnce(_FirstEpisodeOnly):
    def misbehave(self):
        import ctypes

        ctypes.string_at(0)


class NaNAction(_FirstEpisodeOnly):
    def misbehave(self):
        return np.full_like(self.hold, np.nan)


class WrongShape(_FirstEpisodeOnly):
    def misbehave(self):
        return self.hold[:3]


class PrintsToStdout(_FirstEpisodeOnly):
    def misbehave(self):
        print("chatty agents print; the protocol must not care" * 100)
        return self.hold
