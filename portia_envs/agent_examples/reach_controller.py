"""Drive an arm toward its goal by pattern search through ``imagine``: the reference controller.

The controller keeps one action: joint targets (every dimension but the last, starting at
0, the middle of each joint's range) and the gripper (the last dimension, held open at
-1). At each decision it imagines a batch of candidates, each held for ``HORIZON`` control
periods: the current action first, then for each joint the current action with that
joint's target ``step`` higher, then ``step`` lower (clipped to [-1, 1]). It takes the
candidate whose reward at the horizon's end is highest (the first of equals; NaN counts as
-infinity). When the current action wins, the step halves (down to ``MIN_STEP``); when a
move wins, the controller takes it and the step doubles (up to ``MAX_STEP``). It never
looks at the observation and draws no random numbers: its episodes depend on the env only.

Candidates are computed in float64 and imagined as float32; the action sent is the float32
of the winning candidate. ``reach_agent.c`` and ``reach_agent.js`` do the same arithmetic,
so the three reference agents play the same episodes. If the harness refuses an
``imagine``, the decision keeps the current action.

``ReachSearch`` is the agent factory for the harness (``module:attribute``): it imagines
through the env it is given, in the worker with ``--isolation in-process``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import gymnasium
import numpy as np

from portia_envs.agent_kit import ImagineRefusedError
from wrappers.errors import ThinkBudgetExceededError

# Control periods each candidate is held for in imagination.
HORIZON = 3
# The step of a joint target (the action's [-1, 1] scale) at the start of an episode, and
# its bounds.
FIRST_STEP = 0.1
MIN_STEP = 0.01
MAX_STEP = 0.25
# What the step is multiplied by when the current action wins, and when a move wins.
SHRINK = 0.5
GROW = 2.0
# The gripper's action, held throughout: fully open.
GRIPPER = -1.0


class PatternSearch:
    """The controller's state and decisions for one action size (see the module docstring).

    Args:
        action_size: The action's length: joint targets, then the gripper (at least 1).
    """

    def __init__(self, action_size: int) -> None:
        if action_size < 1:
            raise ValueError(f"the action size must be at least 1, got {action_size}")
        self.action_size = action_size
        self.reset()

    def reset(self) -> None:
        """Start an episode: every joint target at 0, the gripper open, the first step."""
        self.action = np.zeros(self.action_size)
        self.action[-1] = GRIPPER
        self.step = FIRST_STEP

    def candidates(self) -> np.ndarray:
        """Return the candidates, shape ``(1 + 2 * joints, action_size)``, float64."""
        joints = self.action_size - 1
        candidates = np.repeat(self.action[None], 1 + 2 * joints, axis=0)
        for joint in range(joints):
            candidates[1 + 2 * joint, joint] = min(1.0, self.action[joint] + self.step)
            candidates[2 + 2 * joint, joint] = max(-1.0, self.action[joint] - self.step)
        return candidates

    def choose(self, candidates: np.ndarray, final_rewards: np.ndarray) -> None:
        """Move to the best candidate, or shrink the step if the current action is best.

        Args:
            candidates: What ``candidates`` returned.
            final_rewards: Each candidate's imagined reward at the horizon's end (the
                first ones' only, if the harness cut the batch).
        """
        scores = np.where(np.isnan(final_rewards), -np.inf, final_rewards)
        best = int(np.argmax(scores))
        if best == 0:
            self.step = max(self.step * SHRINK, MIN_STEP)
        else:
            self.action = candidates[best].copy()
            self.step = min(self.step * GROW, MAX_STEP)

    def act(self, imagine: Callable[[np.ndarray], Mapping[str, Any]]) -> np.ndarray:
        """Decide: imagine the candidates, choose, and return the action (float32).

        Args:
            imagine: Rolls plans of shape ``(batch, horizon, action_size)`` out and returns
                the future, whose ``reward`` has shape ``(batch, horizon)``.
        """
        candidates = self.candidates()
        plans = np.repeat(candidates.astype(np.float32)[:, None], HORIZON, axis=1)
        try:
            future = imagine(plans)
        except (ImagineRefusedError, ThinkBudgetExceededError):
            return self.action.astype(np.float32)
        rewards = np.asarray(future["reward"], dtype=np.float64).reshape(-1, HORIZON)
        self.choose(candidates, rewards[:, -1])
        return self.action.astype(np.float32)


class ReachSearch:
    """The controller as an agent factory: it imagines through the env's ``imagine``.

    It acts in each body's own spaces (``acts_in_native_spaces``), where ``imagine`` takes
    its plans, so the harness builds it on the task's ``TimePause`` in every suite.

    Args:
        env: The task's ``TimePause``, with a ``Box`` action space of one dimension.

    Raises:
        ValueError: If ``env`` cannot imagine or its action space is not such a ``Box``.
    """

    name = "reach-search"
    version = "1"
    acts_in_native_spaces = True

    def __init__(self, env: gymnasium.Env) -> None:
        space = env.action_space
        if not isinstance(space, gymnasium.spaces.Box) or len(space.shape) != 1:
            raise ValueError(
                f"the reach controller acts in a Box action space of one dimension, got {space}"
            )
        if not callable(getattr(env, "imagine", None)):
            raise ValueError(
                f"the reach controller imagines through env.imagine; {type(env).__name__} has "
                f"none (a TimePause has)"
            )
        self.imagine = env.imagine
        self.search = PatternSearch(space.shape[0])

    def reset(self, seed: int | None = None) -> None:
        """Start an episode (the controller draws no random numbers: ``seed`` is unused)."""
        self.search.reset()

    def act(self, observation: Any) -> np.ndarray:
        """Return the action (the controller imagines; it does not read ``observation``)."""
        return self.search.act(self.imagine)
