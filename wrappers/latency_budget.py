"""Latency budget: the world keeps moving while the agent decides."""

from __future__ import annotations

import copy
import math
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from wrappers.clocks import Clock, ComputeClock, WallClock
from wrappers.errors import WrapperInputError, refuse_vector_env
from wrappers.protocol import SubstepDelayable

OVERRUN_POLICIES = ("continue", "penalize", "terminate")
# Latencies within this fraction of a boundary count as on it (float noise in L / dt).
_BOUNDARY_TOLERANCE = 1e-9


class LatencyBudget(gymnasium.Wrapper, gymnasium.utils.RecordConstructorArgs):
    """The world does not wait: the previous action acts while the agent decides.

    A decision that took ``L`` seconds (as the clock says): the action in effect (the
    previous one; at an episode's start ``default_action``) keeps acting for those ``L``
    seconds, then the new action takes over and stays in effect until the next one arrives
    (the wrapper keeps a copy of it: changing the array passed to ``step`` afterwards
    changes nothing).
    A step returns the observation after ``n = max(1, ceil(L / dt))`` control periods, with
    the rewards of all ``n`` periods summed; if the episode terminates or is truncated in
    one of them, the step ends there. So ``L = 0`` is the ordinary MDP and ``L = dt`` is
    Real-Time RL's one-step delay: the action chosen now acts during the next period.

    Where the new action takes over: on Portia envs (``wrappers.protocol.SubstepDelayable``)
    at the first physics substep at or after ``L``, mid-period; on other envs at the next
    whole period, so any ``0 < L <= dt`` acts like ``L = dt``.

    The env's own time limit (``TimeLimit`` inside this wrapper) counts elapsed periods, so
    a slow agent gets fewer decisions. ``info`` gains ``latency_s``, ``periods_elapsed`` and
    ``overran`` (``L > budget_s``); the rest of ``info`` is the last period's. On an overrun:
    ``"continue"`` (the default: only counted), ``"penalize"`` (``overrun_penalty`` is
    subtracted from the reward and reported as ``info["reward_overrun"]``, 0 on other
    steps), or ``"terminate"`` (the episode ends after the step).

    With ``observe_action=True`` the observation also carries the action now in effect,
    the one the world keeps executing during the next decision (as in Real-Time RL): a new
    ``action_in_effect`` key for ``Dict`` observations, or appended to a flat ``Box``. It
    belongs to this wrapper and not to one of its own: the action in effect is state only
    this wrapper holds (it is what the delay leaves acting), and the delayed MDP is Markov
    only with it in the observation, so the two are one change to the MDP. A separate
    wrapper outside would have to reach in for it, and one inside cannot know it.

    Args:
        env: The env; ``dt`` is read from ``env.unwrapped.dt`` unless given.
        budget_s: The latency a decision may take, seconds (>= 0).
        clock: What measures latency: ``WallClock()`` (the default), ``FixedLatency``,
            ``RandomLatency`` or ``ComputeClock`` from ``wrappers.clocks``.
        dt: The control period in seconds, for envs that do not say.
        overrun: ``"continue"``, ``"penalize"`` or ``"terminate"``.
        overrun_penalty: Reward subtracted per overrun under ``"penalize"``.
        default_action: The action in effect at an episode's start. None: the env's
            ``hold_action()`` if it has one (Portia envs: stay still), else zeros (clipped
            to the action space).
        observe_action: Add the action in effect to the observation.
    """

    def __init__(
        self,
        env: gymnasium.Env,
        *,
        budget_s: float,
        clock: Clock | None = None,
        dt: float | None = None,
        overrun: str = "continue",
        overrun_penalty: float = 1.0,
        default_action: Any = None,
        observe_action: bool = False,
    ) -> None:
        refuse_vector_env(env, "LatencyBudget")
        gymnasium.utils.RecordConstructorArgs.__init__(
            self,
            budget_s=budget_s,
            clock=clock,
            dt=dt,
            overrun=overrun,
            overrun_penalty=overrun_penalty,
            default_action=default_action,
            observe_action=observe_action,
        )
        gymnasium.Wrapper.__init__(self, env)
        if not (isinstance(budget_s, int | float) and math.isfinite(budget_s) and budget_s >= 0):
            raise WrapperInputError(
                f"budget_s must be a finite number of seconds >= 0, got {budget_s!r}"
            )
        if overrun not in OVERRUN_POLICIES:
            raise WrapperInputError(
                f"overrun must be one of {', '.join(OVERRUN_POLICIES)}, got {overrun!r}"
            )
        if dt is None:
            dt = getattr(env.unwrapped, "dt", None)
            if dt is None:
                raise WrapperInputError(
                    f"{type(env.unwrapped).__name__} has no dt: pass dt=<seconds per step>"
                )
        if not (math.isfinite(dt) and dt > 0):
            raise WrapperInputError(f"dt must be a positive number of seconds, got {dt!r}")
        self.budget_s = float(budget_s)
        self.clock: Clock = WallClock() if clock is None else clock
        self.dt = float(dt)
        self.overrun = overrun
        self.overrun_penalty = float(overrun_penalty)
        self.observe_action = observe_action
        self._default_action = default_action
        base = env.unwrapped
        self._substeps = base.n_substeps if isinstance(base, SubstepDelayable) else None
        self._in_effect: Any = None
        if observe_action:
            self.observation_space = _with_action(env.observation_space, env.action_space)

    @property
    def action_in_effect(self) -> Any:
        """The action the world is executing now (the last one that arrived)."""
        return self._in_effect

    def declare_compute(self, flops: float) -> None:
        """Declare the current decision's compute, for a ``ComputeClock``.

        Raises:
            WrapperInputError: If the clock is not a ``ComputeClock``.
        """
        if not isinstance(self.clock, ComputeClock):
            raise WrapperInputError(
                f"declare_compute needs a ComputeClock; this wrapper's clock is a "
                f"{type(self.clock).__name__}"
            )
        self.clock.declare(flops)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset the env; the pending action is cleared and the default takes effect."""
        observation, info = self.env.reset(seed=seed, options=options)
        self._in_effect = self._start_action()
        self.clock.reset(seed)
        self.clock.start()
        return self._observe(observation), info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Play the decision's latency out, then the new action; see the class docstring."""
        if self._in_effect is None:
            raise WrapperInputError("call reset() before step()")
        latency = self.clock.latency_s()
        if not (math.isfinite(latency) and latency >= 0):
            raise WrapperInputError(
                f"{type(self.clock).__name__} returned a latency of {latency!r} s; "
                "latencies must be finite and >= 0"
            )
        periods = max(1, math.ceil(latency / self.dt - _BOUNDARY_TOLERANCE))
        previous, total, elapsed = self._in_effect, 0.0, 0
        for period in range(periods):
            if period < periods - 1:
                step_action = previous
            else:
                step_action = self._last_period_action(previous, action, latency, periods)
            observation, reward, terminated, truncated, info = self.env.step(step_action)
            total += float(reward)
            elapsed += 1
            if terminated or truncated:
                break
        # Kept as a copy: an agent that writes its next action into the same buffer must
        # not change the action the world is still executing.
        self._in_effect = copy.deepcopy(action)
        overran = latency > self.budget_s
        info = {**info, "latency_s": latency, "periods_elapsed": elapsed, "overran": overran}
        if self.overrun == "penalize":
            info["reward_overrun"] = -self.overrun_penalty if overran else 0.0
            total += info["reward_overrun"]
        elif self.overrun == "terminate" and overran:
            terminated = True
        self.clock.start()
        return self._observe(observation), total, terminated, truncated, info

    def _last_period_action(self, previous: Any, action: Any, latency: float, periods: int) -> Any:
        """Return what the last period steps with, arming a mid-period switch on Portia envs."""
        if latency == 0:
            return action
        if self._substeps is None:
            return previous  # whole periods: the new action takes over at the next one
        substep_s = self.dt / self._substeps
        held = math.ceil(latency / substep_s - _BOUNDARY_TOLERANCE) - (periods - 1) * self._substeps
        held = min(max(held, 0), self._substeps)
        if held == self._substeps:
            return previous
        self.env.unwrapped.delay_next_step(previous, held)
        return action

    def _start_action(self) -> Any:
        """Return the action in effect at an episode's start."""
        if self._default_action is not None:
            return self._default_action
        hold = getattr(self.env.unwrapped, "hold_action", None)
        if callable(hold):
            return hold()
        space = self.action_space
        if isinstance(space, spaces.Box):
            return np.clip(np.zeros(space.shape, dtype=space.dtype), space.low, space.high)
        if isinstance(space, spaces.Discrete):
            return space.start
        raise WrapperInputError(
            f"no default action for a {type(space).__name__} action space: pass default_action"
        )

    def _observe(self, observation: Any) -> Any:
        """Add the action in effect to the observation when asked to."""
        if not self.observe_action:
            return observation
        in_effect = np.asarray(self._in_effect, dtype=self.action_space.dtype)
        if isinstance(observation, dict):
            return {**observation, "action_in_effect": in_effect}
        flat = np.concatenate([observation, in_effect.ravel()])
        return flat.astype(self.observation_space.dtype)


def _with_action(observation_space: spaces.Space, action_space: spaces.Space) -> spaces.Space:
    """Return the observation space extended with the action in effect."""
    if isinstance(observation_space, spaces.Dict):
        return spaces.Dict({**observation_space.spaces, "action_in_effect": action_space})
    if (
        isinstance(observation_space, spaces.Box)
        and len(observation_space.shape) == 1
        and isinstance(action_space, spaces.Box)
    ):
        return spaces.Box(
            np.concatenate([observation_space.low, action_space.low.ravel()]),
            np.concatenate([observation_space.high, action_space.high.ravel()]),
            dtype=observation_space.dtype,
        )
    raise WrapperInputError(
        "observe_action needs a Dict observation space, or flat Box observations and actions; "
        f"got {observation_space} and {action_space}"
    )
