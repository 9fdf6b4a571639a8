"""The planning teacher: MPPI through ``TimePause.imagine``, warm-started from its last plan.

With the world paused, the teacher imagines a batch of noisy variants of its plan (a
sequence of ``horizon`` actions), scores each imagined future by its planning return (the
env's rewards, plus a bonus per imagined step of success, minus a penalty per imagined step
after a termination), and moves the plan to the average of the variants weighted by
``exp(return / temperature)`` (MPPI). It plays the plan's first action; the next decision
starts from the same plan shifted by one step. Optionally (``keep_best``) the best variant
found is imagined again in the next round, as in iCEM (Pinneri et al., 2020, "Sample-efficient
Cross-Entropy Method for Real-time Planning"), so that a rare good find survives the average.
The planner knows nothing of the task beyond what ``imagine`` returns: no phases, no inverse
kinematics, no waypoints. What it is told about the body is a prior for the search, in its
config: the action an episode's plan starts from, the noise per action dimension, and which
dimensions act like a switch (a gripper: ``switch_dims``). ``ARM_TEACHER_CONFIG`` holds the
arm's; ``arm_teacher_config(family)`` picks it, or a longer-sighted one that switches the
gripper for the families that grasp; ``arm_teacher_config(family, body)`` gives a
four-hinge arm's (``arm4``, ``arm4_long``), the same search over its five dimensions.

Cost per decision: ``iterations x samples x horizon`` imagined control periods, counted by
``TimePause`` in ``info["think_steps"]`` and ``info["think_s"]``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from portia_envs.envs.arm import arm_body
from portia_envs.errors import InvalidTypeError, PortiaError
from wrappers.time_pause import TimePause


class TeacherConfigError(PortiaError, ValueError):
    """A teacher setting that cannot be used: out of its range, or not fitting the env."""


# The real-valued settings that are one number: (accepts, what is accepted).
_SCALAR_RANGES: dict[str, tuple[Callable[[float], bool], str]] = {
    "temperature": (lambda v: v > 0, "> 0"),
    "min_noise_fraction": (lambda v: 0 < v <= 1, "in (0, 1]"),
    "noise_smoothing": (lambda v: 0 <= v < 1, "in [0, 1)"),
    "deviation_cost": (lambda v: v >= 0, ">= 0"),
    "success_bonus": (lambda v: v >= 0, ">= 0"),
    "termination_penalty": (lambda v: v >= 0, ">= 0"),
    "switch_fraction": (lambda v: 0 <= v <= 1, "in [0, 1]"),
}
# The integer settings and their smallest values.
_INTEGER_MINIMA = {"samples": 2, "horizon": 1, "iterations": 1, "first_iterations": 1}


@dataclass(frozen=True)
class TeacherConfig:
    """Settings of the planning teacher; the defaults suit any env with a bounded ``Box``.

    Each variant's noise is smooth in time (``noise_smoothing``) and, in each action
    dimension, scaled by its own rung of a geometric ladder from 1 down to
    ``min_noise_fraction``, shuffled per dimension: some variants move one dimension widely
    while keeping another nearly still, so the search is broad and fine at once.
    ``deviation_cost`` favours the variants nearest the plan where rewards are alike, so
    the plan stays put instead of wandering where the rewards do not look (a gripper holding
    a block stays shut).

    Raises:
        TeacherConfigError: If a value is out of its range (checked on construction).
    """

    samples: int = 32
    """Action sequences imagined per iteration, the unperturbed plan among them (>= 2)."""
    horizon: int = 15
    """Control periods each imagined sequence looks ahead (>= 1)."""
    iterations: int = 1
    """Imagine-and-update rounds per decision (>= 1)."""
    first_iterations: int = 4
    """Rounds for an episode's first decision, which has no plan to warm-start from (>= 1)."""
    temperature: float = 0.1
    """MPPI temperature in units of planning return (> 0); lower follows the best closer."""
    noise_std: float | tuple[float, ...] = 0.15
    """Noise std in action half-ranges (> 0): one value, or one per action dimension."""
    min_noise_fraction: float = 0.1
    """Lowest rung of the noise-scale ladder, relative to the top rung of 1, in (0, 1]."""
    noise_smoothing: float = 0.9
    """Correlation of the noise between consecutive steps, in [0, 1): 0 is white noise."""
    deviation_cost: float = 0.3
    """Return subtracted per unit of a variant's mean squared noise, in noise stds (>= 0)."""
    success_bonus: float = 3.0
    """Planning return added per imagined step on which the env reports success (>= 0)."""
    termination_penalty: float = 10.0
    """Planning return subtracted per imagined step at or after a termination (>= 0)."""
    initial_action: tuple[float, ...] | None = None
    """The action an episode's first plan repeats; None: the middle of the action space."""
    switch_dims: tuple[int, ...] = ()
    """Flat indices of action dimensions that act like a switch (a gripper): in a share of
    the variants, each jumps to its low or high bound at a random step and stays there."""
    switch_fraction: float = 0.5
    """Share of the noisy variants in which each of ``switch_dims`` switches, in [0, 1]."""
    keep_best: bool = False
    """Whether the best variant of a round is imagined again in the next (shifted by a step
    at a new decision), so a good but rare find is not averaged away."""
    seed: int = 0
    """Seed of the noise generator; ``reset()`` restarts it, so episodes are repeatable."""

    def __post_init__(self) -> None:
        for name, minimum in _INTEGER_MINIMA.items():
            value = getattr(self, name)
            if not _is_integer(value) or value < minimum:
                raise TeacherConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
        if not _is_integer(self.seed):
            raise TeacherConfigError(f"seed must be an integer, got {self.seed!r}")
        for name, (accepts, accepted) in _SCALAR_RANGES.items():
            value = getattr(self, name)
            if not _is_real(value) or not accepts(value):
                raise TeacherConfigError(
                    f"{name} must be a finite number {accepted}, got {value!r}"
                )
        if not all(v > 0 for v in _reals("noise_std", self.noise_std)):
            raise TeacherConfigError(
                f"noise_std must be > 0 (one value, or one per action dimension), "
                f"got {self.noise_std!r}"
            )
        if self.initial_action is not None:
            _reals("initial_action", self.initial_action)
        if not isinstance(self.switch_dims, tuple) or not all(
            _is_integer(d) and d >= 0 for d in self.switch_dims
        ):
            raise TeacherConfigError(
                f"switch_dims must be a tuple of action dimension indices >= 0, "
                f"got {self.switch_dims!r}"
            )
        if not isinstance(self.keep_best, bool):
            raise TeacherConfigError(f"keep_best must be True or False, got {self.keep_best!r}")


def _is_integer(value: Any) -> bool:
    """Whether ``value`` is an integer (bools are not)."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    """Whether ``value`` is a finite real number (bools are not)."""
    return (
        isinstance(value, int | float | np.number)
        and not isinstance(value, bool)
        and bool(np.isfinite(value))
    )


def _reals(name: str, value: Any) -> tuple[float, ...]:
    """Return a finite number, or a non-empty sequence of them, as a tuple of floats.

    Raises:
        TeacherConfigError: If ``value`` is anything else.
    """
    values = value if isinstance(value, tuple | list) else (value,)
    if not values or not all(_is_real(v) for v in values):
        raise TeacherConfigError(
            f"{name} must be a finite number or a tuple of them, got {value!r}"
        )
    return tuple(float(v) for v in values)


def _rest_action(body: str) -> tuple[float, ...]:
    """A body's action that holds its home pose (where episodes start), the gripper open."""
    description = arm_body(body)
    low, high = np.array(description.joint_ranges).T
    joints = (2 * np.array(description.home_qpos) - (high + low)) / (high - low)
    return (*(float(v) for v in joints), -1.0)


# The arm's search prior, and the settings `scripts/teacher_success.py` measured. Plans start
# at rest (gripper open) rather than mid-range, which would tilt the hand and half-close the
# gripper. The roll joints get less noise: turning the forearm tilts the hand, which the
# rewards see only once the hand hits something, and the wrist roll moves nothing they
# measure. The gripper gets more: closing it pays off only when the block is then lifted.
ARM_TEACHER_CONFIG = TeacherConfig(
    noise_std=(0.1, 0.15, 0.15, 0.03, 0.15, 0.03, 0.75),
    initial_action=_rest_action("arm"),
)
# Grasping pays off only once the block is lifted, more than 15 periods (0.6 s) after the
# gripper starts to close: families that grasp look 20 periods ahead, with twice the
# samples. Smooth noise rarely closes the gripper and then lifts within one horizon, and an
# average of variants half-closes it: so half the variants switch the gripper shut or open
# at a random step, and the best variant found is kept for the next decision. On
# pick_place seeds 0-9 the longer sight alone solved 5 episodes where ARM_TEACHER_CONFIG
# solved 1; with switching and keeping the best, 8, and 37 of seeds 0-49 (it was 17 of 50)
# at 0.6 s per decision (scripts/teacher_success.py).
ARM_GRASP_TEACHER_CONFIG = dataclasses.replace(
    ARM_TEACHER_CONFIG, samples=64, horizon=20, switch_dims=(6,), keep_best=True
)
# The arm families that grasp, and so get ARM_GRASP_TEACHER_CONFIG.
GRASPING_FAMILIES = ("pick_place", "stack")


# A four-hinge arm's dimensions are base yaw, shoulder, elbow and wrist pitch and the
# gripper: the six-joint arm's noise without its two roll joints. Its families (reach, push)
# do not grasp.
ARM4_NOISE_STD = (0.1, 0.15, 0.15, 0.15, 0.75)


def arm_teacher_config(family: str, body: str = "arm") -> TeacherConfig:
    """Return the teacher settings for a task family (see ``GRASPING_FAMILIES``) and body.

    Args:
        family: The task family.
        body: ``"arm"`` (six joints), or a four-hinge arm (``"arm4"``, ``"arm4_long"``):
            the arm's search over its own dimensions, from its own rest action.
    """
    if body != "arm":
        return dataclasses.replace(
            ARM_TEACHER_CONFIG, noise_std=ARM4_NOISE_STD, initial_action=_rest_action(body)
        )
    return ARM_GRASP_TEACHER_CONFIG if family in GRASPING_FAMILIES else ARM_TEACHER_CONFIG


def teacher_config_key(family: str, body: str = "arm") -> str:
    """Return the name a reference table stores a config under: ``family``, or ``body/family``."""
    return family if body == "arm" else f"{body}/{family}"


class PlanningTeacher:
    """Acts by MPPI over futures imagined in a paused env; see the module docstring.

    Args:
        env: The paused env to act in. ``act`` imagines from its current state, so call it
            with the observation this env returned last, and ``reset()`` the teacher when
            the env is reset.
        config: Planner settings; ``TeacherConfig()`` if None.

    Raises:
        TypeError: If ``env`` is not a ``TimePause`` or its action space is not a bounded
            ``Box``.
        TeacherConfigError: If ``noise_std`` or ``initial_action`` has neither one value nor
            one per action dimension, ``initial_action`` is outside the action space, or a
            switch dimension is not one of the action's.
    """

    def __init__(self, env: TimePause, config: TeacherConfig | None = None) -> None:
        if not isinstance(env, TimePause):
            raise InvalidTypeError(
                f"PlanningTeacher thinks through TimePause.imagine; wrap the env as "
                f"TimePause(gymnasium.make(env_id)), got {type(env).__name__}"
            )
        space = env.action_space
        if not isinstance(space, spaces.Box) or not space.is_bounded():
            raise InvalidTypeError(f"PlanningTeacher needs a bounded Box action space, got {space}")
        self.env = env
        self.config = TeacherConfig() if config is None else config
        self._low = space.low.astype(np.float64)
        self._high = space.high.astype(np.float64)
        self._dtype = space.dtype
        half_range = (self._high - self._low) / 2
        self._noise_std = self._per_dimension("noise_std", self.config.noise_std) * half_range
        if self.config.initial_action is None:
            self._initial_action = (self._low + self._high) / 2
        else:
            initial = self._per_dimension("initial_action", self.config.initial_action)
            if np.any((initial < self._low) | (initial > self._high)):
                raise TeacherConfigError(
                    f"initial_action must lie in the action space {space}, "
                    f"got {self.config.initial_action}"
                )
            self._initial_action = initial
        too_large = [d for d in self.config.switch_dims if d >= self._low.size]
        if too_large:
            raise TeacherConfigError(
                f"switch_dims {too_large} are not dimensions of the {self._low.size} "
                f"action dimensions"
            )
        # The noise scales of the variants but the first, which is the plan itself.
        self._ladder = np.geomspace(1.0, self.config.min_noise_fraction, self.config.samples - 1)
        self.reset()

    def reset(self) -> None:
        """Forget the plan and restart the noise generator; call it at every episode start."""
        self._rng = np.random.default_rng(self.config.seed)
        self._plan: NDArray[np.float64] | None = None
        self._best: NDArray[np.float64] | None = None

    def act(self, observation: Any) -> NDArray:
        """Plan from the env's current state and return the action to play now.

        Args:
            observation: The observation the env returned last. The planner reads the state
                through ``env.imagine``; the argument is there for the agent interface.

        Returns:
            The action, shaped and typed like the action space, within its bounds.
        """
        config = self.config
        if self._plan is None:
            plan = np.broadcast_to(self._initial_action, (config.horizon, *self._low.shape))
            iterations = config.first_iterations
        else:
            plan = np.concatenate([self._plan[1:], self._plan[-1:]])
            iterations = config.iterations
            if self._best is not None:
                self._best = np.concatenate([self._best[1:], self._best[-1:]])
        for _ in range(iterations):
            plan = self._improve(plan)
        self._plan = plan
        return np.clip(plan[0], self._low, self._high).astype(self._dtype)

    def predict(
        self,
        observation: Any,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = True,
    ) -> tuple[NDArray, None]:
        """Stable-Baselines3's verb: ``(act(observation), None)``.

        Args:
            observation: As for ``act``.
            state: Ignored: the teacher keeps its plan itself, not in a recurrent state.
            episode_start: Ignored: call ``reset()`` at episode starts.
            deterministic: Ignored: given its seed, the teacher is always deterministic.

        Returns:
            The action and None (no recurrent state).
        """
        return self.act(observation), None

    def _per_dimension(self, name: str, value: float | tuple[float, ...]) -> NDArray[np.float64]:
        """Return a setting as one value per action dimension, shape ``action_shape``."""
        values = np.asarray(value, dtype=np.float64)
        if values.size == 1:
            return np.full(self._low.shape, values.item())
        if values.shape != self._low.shape:
            raise TeacherConfigError(
                f"{name} must have one value or one per action dimension, shape "
                f"{self._low.shape}; got {values.size} values"
            )
        return values

    def _improve(self, plan: NDArray[np.float64]) -> NDArray[np.float64]:
        """One MPPI round: imagine noisy variants of ``plan`` and return their weighted mean.

        The mean is taken over the variants before clipping to the action space, so a plan
        can rest at a bound (a gripper held shut) without the noise pulling it inwards;
        variants, and so plans, stay within one noise standard deviation of the bounds.
        """
        variants = np.clip(
            plan + self._noise(), self._low - self._noise_std, self._high + self._noise_std
        )
        variants = self._switch(variants)
        if self.config.keep_best and self._best is not None:
            variants[1] = self._best
        future = self.env.imagine(np.clip(variants, self._low, self._high).astype(self._dtype))
        deviation = np.square((variants - plan) / self._noise_std)
        returns = self._returns(future) - self.config.deviation_cost * np.mean(
            deviation, axis=tuple(range(1, deviation.ndim))
        )
        weights = np.exp((returns - returns.max()) / self.config.temperature)
        if self.config.keep_best:
            self._best = variants[int(np.argmax(returns))]
        return np.tensordot(weights / weights.sum(), variants, axes=1)

    def _switch(self, variants: NDArray[np.float64]) -> NDArray[np.float64]:
        """Return the variants with ``switch_dims`` switched in a share of the noisy ones.

        Each chosen variant jumps to the dimension's low or high bound (even odds) at a
        step drawn uniformly over the horizon, and holds it to the end.
        """
        config = self.config
        if not config.switch_dims:
            return variants
        samples, horizon = variants.shape[:2]
        flat = variants.reshape(samples, horizon, -1).copy()
        low, high = self._low.reshape(-1), self._high.reshape(-1)
        for dim in config.switch_dims:
            chosen = 1 + np.flatnonzero(self._rng.random(samples - 1) < config.switch_fraction)
            starts = self._rng.integers(0, horizon, len(chosen))
            to_high = self._rng.random(len(chosen)) < 0.5
            bounds = np.where(to_high, high[dim], low[dim])
            late = np.arange(horizon)[None, :] >= starts[:, None]
            flat[chosen, :, dim] = np.where(late, bounds[:, None], flat[chosen, :, dim])
        return flat.reshape(variants.shape)

    def _noise(self) -> NDArray[np.float64]:
        """Draw time-correlated noise, shape ``(samples, horizon, *action_shape)``.

        Each variant's noise is an AR(1) process of unit variance per dimension, times the
        dimension's scale for that variant and its standard deviation; variant 0 gets none.
        """
        config = self.config
        white = self._rng.standard_normal((config.samples, config.horizon, *self._low.shape))
        alpha = config.noise_smoothing
        noise = np.empty_like(white)
        noise[:, 0] = white[:, 0]
        for t in range(1, config.horizon):
            noise[:, t] = alpha * noise[:, t - 1] + np.sqrt(1 - alpha**2) * white[:, t]
        # Each dimension of each variant gets its own scale: the ladder, shuffled per dimension.
        ladder = np.broadcast_to(self._ladder[:, None], (config.samples - 1, self._low.size))
        scales = self._rng.permuted(ladder, axis=0).reshape(-1, 1, *self._low.shape)
        noise[1:] *= scales
        noise[0] = 0.0
        return noise * self._noise_std

    def _returns(self, future: dict[str, Any]) -> NDArray[np.float64]:
        """Return each imagined sequence's planning return, shape ``(samples,)``.

        The env's rewards summed over the horizon, plus ``success_bonus`` per step that
        succeeds, minus ``termination_penalty`` per step at or after a termination (where
        ``imagine`` reports reward 0, which must not look better than carrying on).
        """
        config = self.config
        per_step = (
            future["reward"]
            + config.success_bonus * future["is_success"]
            - config.termination_penalty * future["terminated"]
        )
        return per_step.sum(axis=1)


def make_teacher(env: TimePause) -> PlanningTeacher:
    """Return the planning teacher for a Portia arm env: the harness's ``teacher`` agent.

    Args:
        env: A ``TimePause`` around an arm env whose task is fixed (the harness makes one
            per suite task); its family picks the config (``arm_teacher_config``).

    Returns:
        The teacher, imagining in ``env``.
    """
    base = env.unwrapped
    return PlanningTeacher(env, arm_teacher_config(base.task_name, base.body))


# The harness builds it on the body's own paused env, also in a suite of several bodies.
make_teacher.acts_in_native_spaces = True


@dataclass(frozen=True)
class EpisodeResult:
    """What one teacher episode achieved and what its thinking cost.

    Attributes:
        success: ``info["is_success"]`` of the last step.
        decisions: Steps taken (one decision each).
        think_s: Wall seconds spent imagining, summed over the episode.
        think_steps: Control periods imagined, summed over the episode.
    """

    success: bool
    decisions: int
    think_s: float
    think_steps: int


def run_episode(env: TimePause, teacher: PlanningTeacher, seed: int) -> EpisodeResult:
    """Run one episode of ``env`` from ``reset(seed=seed)`` with ``teacher`` acting.

    Args:
        env: The paused env the teacher imagines in, with a time limit (``gymnasium.make``
            adds the registered one underneath).
        teacher: The teacher, built on ``env``; it is reset first.
        seed: The reset seed.

    Returns:
        The episode's success and thinking totals (from the ``TimePause`` info).
    """
    teacher.reset()
    observation, _ = env.reset(seed=seed)
    decisions = 0
    while True:
        observation, _, terminated, truncated, info = env.step(teacher.act(observation))
        decisions += 1
        if terminated or truncated:
            return EpisodeResult(
                success=bool(info["is_success"]),
                decisions=decisions,
                think_s=float(info["episode_think_s"]),
                think_steps=int(info["episode_think_steps"]),
            )
