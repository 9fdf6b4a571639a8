"""Time pause: the world waits while the agent imagines futures from the exact current state."""

from __future__ import annotations

import copy
import time
from typing import Any

import gymnasium
import mujoco
import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from wrappers.errors import ThinkBudgetExceededError, WrapperInputError, refuse_vector_env
from wrappers.protocol import Snapshotable

OVER_BUDGET_POLICIES = ("raise", "cut")
_MJ_STATE = mujoco.mjtState.mjSTATE_INTEGRATION


class TimePause(gymnasium.Wrapper, gymnasium.utils.RecordConstructorArgs):
    """The world is frozen between ``step`` calls; ``imagine`` rolls out futures meanwhile.

    ``imagine(action_sequences)`` takes a batch of open-loop action sequences, shape
    ``(batch, horizon, *action_shape)``, and returns for each what ``step`` would have
    returned after those actions (observations, rewards, termination, success), all from
    the exact current state. The real episode (state, random generator, task, time limit)
    is untouched: with or without imagining, the trajectory is bit-identical.

    How futures are rolled out depends on the env underneath (``env.unwrapped``):

    - Portia envs (``wrappers.protocol.Snapshotable``): natively, by MuJoCo's multi-threaded
      ``mujoco.rollout`` with the task's vectorized rewards.
    - Gymnasium MuJoCo envs (``MujocoEnv``): the env itself steps each sequence from its full
      physics state (``mj_getState``), which is then restored with its random generator.
    - Any other env: a deep copy of it steps each sequence (works for pure-Python envs;
      envs holding handles that do not copy need one of the paths above).

    Imagined observations are those of ``env.unwrapped``: put ``TimePause`` right on the env
    that ``gymnasium.make`` returns, under observation-changing wrappers. Time limits do
    not apply inside a future. After a future terminates, its later entries repeat the
    terminal observation with reward 0 and ``terminated`` True.

    Thinking is counted, never free. Each ``step`` and ``reset`` adds to ``info``:
    ``think_steps`` (control periods imagined since the previous step, batch x horizon
    summed over calls), ``think_s`` (wall seconds spent imagining), ``think_calls``, and the
    episode's running totals ``episode_think_steps`` and ``episode_think_s``.
    Spaces, rewards and termination are unchanged.

    Args:
        env: The env to pause.
        think_budget_steps: Control periods that may be imagined per decision (between two
            steps); None for no limit.
        over_budget: What ``imagine`` does when a batch does not fit the remaining budget:
            ``"raise"`` a ``ThinkBudgetExceededError`` (the default), or ``"cut"`` the batch
            to the whole sequences that fit (raising only if none does).
        nthread: Threads for native rollouts (Portia envs).
    """

    def __init__(
        self,
        env: gymnasium.Env,
        *,
        think_budget_steps: int | None = None,
        over_budget: str = "raise",
        nthread: int = 1,
    ) -> None:
        refuse_vector_env(env, "TimePause")
        gymnasium.utils.RecordConstructorArgs.__init__(
            self, think_budget_steps=think_budget_steps, over_budget=over_budget, nthread=nthread
        )
        gymnasium.Wrapper.__init__(self, env)
        if think_budget_steps is not None and think_budget_steps < 1:
            raise WrapperInputError(
                f"think_budget_steps must be a positive number of control periods or None, "
                f"got {think_budget_steps}"
            )
        if over_budget not in OVER_BUDGET_POLICIES:
            raise WrapperInputError(
                f"over_budget must be one of {', '.join(OVER_BUDGET_POLICIES)}, got {over_budget!r}"
            )
        if nthread < 1:
            raise WrapperInputError(f"nthread must be >= 1, got {nthread}")
        self.think_budget_steps = think_budget_steps
        self.over_budget = over_budget
        self.nthread = nthread
        self._decision = _ThinkCount()
        self._episode = _ThinkCount()

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset the env and the think counters; ``info`` carries the (zero) counts."""
        observation, info = self.env.reset(seed=seed, options=options)
        self._episode = _ThinkCount()
        return observation, self._close_decision(info)

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        """Step the env; ``info`` carries what was imagined for this decision."""
        observation, reward, terminated, truncated, info = self.env.step(action)
        return observation, reward, terminated, truncated, self._close_decision(info)

    def imagine(self, action_sequences: Any) -> dict[str, Any]:
        """Roll out open-loop action sequences from the current state, leaving it untouched.

        Args:
            action_sequences: Shape ``(batch, horizon, *action_shape)``, numeric and finite.

        Returns:
            A dict with leading shape ``(batch, horizon)`` (``batch`` may be smaller after a
            ``"cut"``): ``observation`` (shaped like the observation space: a dict of arrays
            for a ``Dict`` space), ``reward``, ``terminated``, ``is_success`` (False where the
            env reports none) and any further per-step arrays the env's rollout provides.

        Raises:
            WrapperInputError: On a wrong shape or dtype, horizon 0, NaN or infinity.
            ThinkBudgetExceededError: If the batch does not fit the decision's budget.
        """
        sequences = self._check_sequences(action_sequences)
        sequences = self._fit_budget(sequences)
        started = time.perf_counter()
        future = self._roll_out(sequences)
        _mask_after_termination(future)
        self._decision.add(sequences.shape[0] * sequences.shape[1], time.perf_counter() - started)
        return future

    @property
    def think_steps_left(self) -> int | None:
        """Control periods that may still be imagined before the next step (None: no limit)."""
        if self.think_budget_steps is None:
            return None
        return self.think_budget_steps - self._decision.steps

    def _check_sequences(self, action_sequences: Any) -> NDArray:
        """Return the sequences as an array after checking shape and values.

        The dtype is kept, so an imagined step computes exactly what ``step`` would with
        the same action; for integer action spaces (``Discrete``) values are cast to it.
        """
        action_shape = self.action_space.shape
        sequences = np.asarray(action_sequences)
        if sequences.dtype.kind not in "biuf":
            raise WrapperInputError(
                f"action sequences must be numeric, got dtype {sequences.dtype}"
            )
        expected = f"(batch >= 1, horizon >= 1{''.join(f', {n}' for n in action_shape)})"
        if (
            sequences.ndim != 2 + len(action_shape)
            or sequences.shape[2:] != action_shape
            or sequences.shape[0] < 1
            or sequences.shape[1] < 1
        ):
            raise WrapperInputError(
                f"action sequences must have shape {expected}, got {sequences.shape}"
            )
        if not np.isfinite(sequences).all():
            raise WrapperInputError("action sequences contain NaN or infinite values")
        if np.issubdtype(self.action_space.dtype, np.integer):
            return sequences.astype(self.action_space.dtype)
        return sequences

    def _fit_budget(self, sequences: NDArray) -> NDArray:
        """Return the sequences that fit the remaining think budget (see ``over_budget``)."""
        left = self.think_steps_left
        batch, horizon = sequences.shape[:2]
        if left is None or batch * horizon <= left:
            return sequences
        fitting = left // horizon
        if self.over_budget == "raise" or fitting == 0:
            raise ThinkBudgetExceededError(
                f"imagining {batch} x {horizon} = {batch * horizon} control periods exceeds "
                f"the {left} left of this decision's budget of {self.think_budget_steps}; "
                f"imagine fewer or shorter sequences, or step to start a new decision"
            )
        return sequences[:fitting]

    def _roll_out(self, sequences: NDArray) -> dict[str, Any]:
        """Dispatch to the fastest exact way of rolling out this env."""
        base = self.env.unwrapped
        if isinstance(base, Snapshotable):
            return self._split_observation(base.rollout(sequences, nthread=self.nthread))
        if isinstance(getattr(base, "model", None), mujoco.MjModel) and isinstance(
            getattr(base, "data", None), mujoco.MjData
        ):
            return _step_each(base, sequences, _MujocoSnapshot(base))
        return _step_each(base, sequences, None)

    def _split_observation(self, rolled: dict[str, Any]) -> dict[str, Any]:
        """Gather a Portia rollout's observation entries under ``"observation"``."""
        space = self.env.unwrapped.observation_space
        if not isinstance(space, spaces.Dict):
            return rolled
        observation = {key: rolled.pop(key) for key in space.spaces}
        return {"observation": observation, **rolled}

    def _close_decision(self, info: dict[str, Any]) -> dict[str, Any]:
        """Add the decision's think counts to ``info`` and start a new decision."""
        self._episode.add(self._decision.steps, self._decision.seconds)
        info = {
            **info,
            "think_steps": self._decision.steps,
            "think_s": self._decision.seconds,
            "think_calls": self._decision.calls,
            "episode_think_steps": self._episode.steps,
            "episode_think_s": self._episode.seconds,
        }
        self._decision = _ThinkCount()
        return info


class _ThinkCount:
    """Running totals of imagined control periods, seconds and calls."""

    def __init__(self) -> None:
        self.steps, self.seconds, self.calls = 0, 0.0, 0

    def add(self, steps: int, seconds: float) -> None:
        self.steps += steps
        self.seconds += seconds
        self.calls += 1


class _MujocoSnapshot:
    """Takes and restores a Gymnasium ``MujocoEnv``'s full physics state and generator."""

    def __init__(self, env: Any) -> None:
        self._env = env
        self._state = np.empty(mujoco.mj_stateSize(env.model, _MJ_STATE))
        mujoco.mj_getState(env.model, env.data, self._state, _MJ_STATE)
        self._rng = copy.deepcopy(env.np_random.bit_generator.state)

    def restore(self) -> None:
        env = self._env
        mujoco.mj_setState(env.model, env.data, self._state, _MJ_STATE)
        mujoco.mj_forward(env.model, env.data)
        env.np_random.bit_generator.state = copy.deepcopy(self._rng)


def _step_each(env: Any, sequences: NDArray, snapshot: _MujocoSnapshot | None) -> dict[str, Any]:
    """Step each sequence on the env itself (restored after each) or on a deep copy of it."""
    batch, horizon = sequences.shape[:2]
    observations: list[list[Any]] = []
    reward = np.zeros((batch, horizon))
    terminated = np.zeros((batch, horizon), dtype=bool)
    success = np.zeros((batch, horizon), dtype=bool)
    for b in range(batch):
        world = env if snapshot is not None else copy.deepcopy(env)
        row: list[Any] = []
        for t in range(horizon):
            observation, r, done, _, info = world.step(sequences[b, t])
            row.append(observation)
            reward[b, t], terminated[b, t] = r, done
            success[b, t] = bool(info.get("is_success", False))
            if done:
                row.extend([observation] * (horizon - t - 1))
                terminated[b, t:] = True
                break
        observations.append(row)
        if snapshot is not None:
            snapshot.restore()
    return {
        "observation": _stack(observations),
        "reward": reward,
        "terminated": terminated,
        "is_success": success,
    }


def _stack(rows: list[list[Any]]) -> Any:
    """Stack a batch x horizon grid of observations (arrays or dicts of arrays)."""
    first = rows[0][0]
    if isinstance(first, dict):
        return {key: _stack([[o[key] for o in row] for row in rows]) for key in first}
    return np.array([[np.asarray(o) for o in row] for row in rows])


def _mask_after_termination(future: dict[str, Any]) -> None:
    """Make the entries after each sequence's first termination repeat it, with reward 0."""
    terminated = future["terminated"]
    first = np.argmax(terminated, axis=1)
    for b in np.nonzero(terminated[:, :-1].any(axis=1))[0]:
        _fill_after(future, b, first[b])


def _fill_after(future: dict[str, Any], b: int, t: int) -> None:
    """Copy entry ``t`` of sequence ``b`` over its later entries; later rewards are 0."""
    for key, value in future.items():
        if isinstance(value, dict):
            _fill_after(value, b, t)
        elif key == "reward" or key.startswith("reward_"):
            value[b, t + 1 :] = 0
        else:
            value[b, t + 1 :] = value[b, t]
