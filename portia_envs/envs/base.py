"""The base under every single-agent Portia MuJoCo env: actions, stepping, rollouts, rewards.

The simulation, its state, rendering and pickling are ``EnvCore``'s and ``EpisodePickle``'s
(``envs.core``), shared with the multi-agent ``HandoverEnv``. A Portia env implements the
small protocol that ``wrappers`` rely on without importing ``portia_envs``: ``get_state()``
/ ``set_state(state)`` (exact), ``rollout(actions)`` (a batch of open-loop futures with
their rewards, the env untouched) and ``dt``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

import gymnasium
import numpy as np
from numpy.typing import NDArray

from portia_envs.envs.core import EnvCore, EpisodePickle, HoldsCore
from portia_envs.errors import InvalidActionError, InvalidParameterError, InvalidStateError
from portia_envs.rendering import RENDER_MODES
from portia_envs.sim.controls import clip_to_controls

# No task parameter comes near this: a task value beyond it is from another vector, or corrupt.
TASK_VALUE_BOUND = 1e3


class TaskScores(Protocol):
    """A task's verdict on a batch of states: a ``NamedTuple`` of arrays of shape ``(n,)``.

    Its fields are the reward terms (which ``info`` carries by name), ``is_success`` and
    ``terminated``; ``reward`` is the terms' sum.
    """

    @property
    def reward(self) -> NDArray[np.float64]:
        """The reward: the sum of the terms."""
        ...

    @property
    def is_success(self) -> NDArray[np.bool_]:
        """Whether each state solves the task."""
        ...

    @property
    def terminated(self) -> NDArray[np.bool_]:
        """Whether each state ended its episode."""
        ...

    @property
    def _fields(self) -> tuple[str, ...]: ...

    def _asdict(self) -> dict[str, NDArray]: ...


class PortiaEnv(HoldsCore, gymnasium.Env, EpisodePickle):
    """Shared machinery of Portia envs; subclasses compose a body, a scene and a task.

    Subclasses make their ``EnvCore`` from the composed scene (``sim.compose``) and pass it
    up, then build ``self.action_space``, ``self.observation_space`` and the affine action
    map ``ctrl = ctrl_matrix @ clip(action) + ctrl_offset``, and implement ``task_state`` /
    ``set_task_state`` (the task's parameters as a flat vector). Their ``reset`` draws the
    task and sets the physics, then returns ``_start(parameters)``; ``step`` and ``rollout``
    are shared, built on three pieces each subclass implements: ``_observe`` (sensor
    readings to observation arrays), ``_score`` (observations to ``TaskScores``) and
    ``_goal_reward`` (the goal term, which ``compute_reward`` recomputes; it takes the term
    named ``GOAL_FREE_TERM`` from ``info``). A step's ``info`` holds ``is_success``,
    ``task_id`` and ``instruction`` (from ``_task_id`` and ``_instruction``, which the
    subclass keeps current) and every ``reward_*`` term. The env pickles mid-episode
    (``EpisodePickle``).

    Args:
        core: The env's simulation, state, rendering and release.
    """

    metadata: dict[str, Any] = {"render_modes": list(RENDER_MODES), "render_fps": 25}
    # The reward term that does not depend on the goal, which compute_reward reads from info.
    GOAL_FREE_TERM: ClassVar[str]
    ctrl_matrix: NDArray[np.float64]
    ctrl_offset: NDArray[np.float64]
    _task_id: str
    _instruction: str

    def __init__(self, core: EnvCore) -> None:
        self.core = core
        self._delayed: tuple[NDArray[np.float64], int] | None = None
        self._started = False

    @property
    def instruction(self) -> str:
        """The current episode's one-line instruction."""
        return self._instruction

    def controls(self, actions: Any, leading: tuple[int, ...] = ()) -> NDArray[np.float64]:
        """Check actions and map them to MuJoCo controls (clipping to ``[-1, 1]`` first).

        Args:
            actions: One action, or a batch with leading axes ``leading``.
            leading: The leading shape expected before the action axis.

        Returns:
            Controls, shape ``(*leading, nu)``.

        Raises:
            InvalidActionError: On a wrong shape, a non-numeric dtype, NaN or infinity.
        """
        expected = (*leading, *self.action_space.shape)
        try:
            array = np.asarray(actions, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise InvalidActionError(f"action must be numeric, shape {expected}: {error}") from None
        if array.shape != expected:
            raise InvalidActionError(
                f"action must have shape {expected} (values in [-1, 1]), got {array.shape}"
            )
        ctrl = np.empty((*leading, self.sim.model.nu))
        flat = array.reshape(-1, expected[-1])
        if not clip_to_controls(
            flat, self.ctrl_matrix, self.ctrl_offset, ctrl.reshape(flat.shape[0], -1)
        ):
            raise InvalidActionError(
                f"action contains NaN or infinite values: {array}; all values must be finite"
            )
        return ctrl

    def step(self, action: NDArray) -> tuple[dict[str, NDArray], float, bool, bool, dict[str, Any]]:
        """Apply ``action`` for one control period (``dt``); see the class docstring.

        Returns:
            ``(observation, reward, terminated, truncated, info)``; ``truncated`` is always
            False here (the registered time limit truncates).

        Raises:
            InvalidStateError: If no episode has started (call ``reset`` first).
            InvalidActionError: On a wrong shape, a non-numeric dtype, NaN or infinity.
        """
        if not self._started:
            raise InvalidStateError("call reset() before step()")
        self.advance(self.controls(action))
        observation = self._observe(self.sim.data.sensordata)
        scores = self._score(observation)
        info = self._info(scores)
        if self.render_mode == "human":
            self.render()
        return observation, float(scores.reward[0]), bool(scores.terminated[0]), False, info

    def rollout(self, actions: NDArray, *, nthread: int = 1) -> dict[str, NDArray]:
        """Roll out a batch of open-loop action sequences from the current state, natively.

        The env (its state, task and random generator) is left untouched. Every sequence
        runs its whole horizon, even past a termination; ``terminated`` marks where.

        Args:
            actions: Shape ``(batch, horizon, action size)``; clipped to [-1, 1] as in
                ``step``.
            nthread: Threads that share the batch.

        Returns:
            A dict of arrays with leading shape ``(batch, horizon)``: the ``step``
            observation keys, ``reward``, each reward term, ``is_success`` and
            ``terminated``, each equal to what ``step`` would return after those actions.

        Raises:
            InvalidStateError: If no episode has started (call ``reset`` first).
            InvalidActionError: On a wrong shape, horizon 0, NaN or infinity.
        """
        if not self._started:
            raise InvalidStateError("call reset() before rollout()")
        shape = np.shape(actions)
        if len(shape) != 3 or shape[0] < 1 or shape[1] < 1:
            raise InvalidActionError(
                f"actions must have shape (batch >= 1, horizon >= 1, "
                f"{self.action_space.shape[0]}), got {shape}"
            )
        sensors = self.sim.rollout(self.controls(actions, leading=shape[:2]), nthread=nthread)
        future = self._observe(sensors)
        scores = self._score(future)
        return {
            **future,
            **{key: value.reshape(shape[:2]) for key, value in scores._asdict().items()},
            "reward": scores.reward.reshape(shape[:2]),
        }

    def compute_reward(
        self, achieved_goal: NDArray, desired_goal: NDArray, info: Any
    ) -> NDArray[np.float64]:
        """Recompute rewards for (possibly relabelled) goals, vectorized over leading axes.

        The goal term is recomputed from the goals; the goal-independent term (the class
        docstring names it) is taken from ``info``: one info dict, a sequence (or object
        array) of info dicts matching the batch, or a dict of arrays. With ``info=None``,
        or info dicts without it (Stable-Baselines3's ``HerReplayBuffer`` passes empty ones
        unless ``copy_info_dict=True``), it counts as 0 and the reward is the goal term.

        Args:
            achieved_goal: Achieved goals, shape ``(..., 3)``.
            desired_goal: Desired goals, shape ``(..., 3)``.
            info: The step infos, as above.

        Returns:
            Rewards of shape ``(...)``; for the original goals and the step's info, equal to
            the step reward.
        """
        goal = self._goal_reward(np.asarray(achieved_goal), np.asarray(desired_goal))
        return goal + _info_term(info, self.GOAL_FREE_TERM, goal.shape)

    def delay_next_step(self, previous_action: Any, substeps: int) -> None:
        """Make the next ``step`` apply ``previous_action`` for its first ``substeps`` substeps.

        The action given to that ``step`` takes over for the rest of the period: this is how a
        latency that is not a whole number of periods plays out (see ``LatencyBudget``).

        Args:
            previous_action: The action still in effect, shape of the action space.
            substeps: Physics steps it keeps acting, 0 to ``n_substeps``.

        Raises:
            InvalidActionError: If the action is malformed.
            ValueError: If ``substeps`` is out of range.
        """
        if not 0 <= substeps <= self.sim.n_substeps:
            raise InvalidParameterError(
                f"substeps must be 0..{self.sim.n_substeps}, got {substeps}"
            )
        self._delayed = (self.controls(previous_action), substeps)

    @property
    def n_substeps(self) -> int:
        """Physics steps per control period."""
        return self.sim.n_substeps

    def advance(self, ctrl: NDArray[np.float64]) -> None:
        """Advance one control period with controls ``ctrl``, honouring ``delay_next_step``."""
        if self._delayed is None:
            self.sim.step(ctrl)
        else:
            before, substeps = self._delayed
            self._delayed = None
            self.sim.step_switching(before, substeps, ctrl)

    def _start(self, parameters: dict[str, float]) -> tuple[dict[str, NDArray], dict[str, Any]]:
        """End a reset whose physics is set: start the episode, return its observation and info.

        Args:
            parameters: The value drawn for each of the task's parameters, by name; the
                info's ``task_parameters``.
        """
        self._delayed = None
        self._started = True
        observation = self._observe(self.sim.data.sensordata)
        info = self._info(self._score(observation))
        info["task_parameters"] = parameters
        if self.render_mode == "human":
            self.render()
        return observation, info

    def _observe(self, sensors: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
        """Build fresh observation arrays from sensor readings of any leading shape."""
        raise NotImplementedError

    def _score(self, observation: dict[str, NDArray[np.float64]]) -> TaskScores:
        """Score observations of any leading shape, flattened to one batch axis ``(n,)``."""
        raise NotImplementedError

    def _info(self, scores: TaskScores) -> dict[str, Any]:
        """Return the info of a single step (scores of batch 1), reward terms in field order."""
        info: dict[str, Any] = {
            "is_success": bool(scores.is_success[0]),
            "task_id": self._task_id,
            "instruction": self._instruction,
        }
        for name in scores._fields:
            if name.startswith("reward_"):
                info[name] = float(getattr(scores, name)[0])
        return info

    def _goal_reward(
        self, achieved_goal: NDArray[np.float64], desired_goal: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """Return the reward term that depends on the goals, shape ``broadcast[:-1]``."""
        raise NotImplementedError

    def task_state(self) -> NDArray[np.float64]:
        """Return the task's parameters as a flat vector (part of ``get_state``)."""
        raise NotImplementedError

    def set_task_state(self, task_state: NDArray[np.float64]) -> None:
        """Restore the task's parameters from ``task_state``."""
        raise NotImplementedError

    def get_state(self) -> NDArray[np.float64]:
        """Return the full state: physics (with sensor readings) then task parameters.

        ``set_state`` of this vector, on this env or a fresh one of the same id and
        arguments, continues the episode bit-identically. The random generator is not part
        of the state (it is used at reset only).
        """
        return self.core.get_state(self.task_state())

    def set_state(self, state: NDArray[np.float64]) -> None:
        """Restore a state returned by ``get_state``, or refuse it and change nothing.

        Everything is checked before anything changes: the length, that every value is
        finite, the physics as ``Simulation.check_state`` checks it (joint positions within
        ±1000 rad or m, velocities within ±10000 rad/s or m/s, unit quaternions), task
        values within ``±TASK_VALUE_BOUND``, then what ``set_task_state`` checks. A refused
        state leaves the env exactly as it was.

        Raises:
            InvalidStateError: Naming the first value not accepted, its index and field.
        """
        self.core.set_state(state, self.task_state().size, self._restore_task)

    def _restore_task(self, task_state: NDArray[np.float64]) -> None:
        """Check the task part of a state, make it current and start the episode.

        Raises:
            InvalidStateError: If a value is beyond ``±TASK_VALUE_BOUND`` or refused by
                ``set_task_state``; nothing has changed then.
        """
        check_task_values(task_state, first_index=self.sim.state_size)
        self._set_task_state_or_nothing(task_state)
        self._started = True

    def _set_task_state_or_nothing(self, task_state: NDArray[np.float64]) -> None:
        """Call ``set_task_state``; if it refuses, put back every attribute it had set.

        A subclass checks a task state before it writes anything into the model, but may
        set its own attributes first (``ArmEnv``'s object parameters are checked as they
        are written); those are restored here, so a refused state changes nothing.
        """
        attributes = dict(vars(self))
        try:
            self.set_task_state(task_state)
        except InvalidStateError:
            vars(self).clear()
            vars(self).update(attributes)
            raise

    @property
    def _episode_running(self) -> bool:
        """Whether an episode has started (by ``reset`` or ``set_state``): it pickles along."""
        return self._started


def check_task_values(task_state: NDArray[np.float64], *, first_index: int = 0) -> None:
    """Raise unless every value of a task part is finite and within ``±TASK_VALUE_BOUND``.

    Args:
        task_state: The task part of a state vector.
        first_index: Its index in the whole state vector, for the message.

    Raises:
        InvalidStateError: Naming the first value that is not accepted and its index.
    """
    finite = np.isfinite(task_state)
    if not finite.all():
        j = int(np.argmin(finite))
        raise InvalidStateError(
            f"the task part of the state contains NaN or infinite values: "
            f"state[{first_index + j}] (task value {j}) is {task_state[j]:g}; accepted: finite "
            f"values. Pass a vector from get_state() of this env"
        )
    beyond = np.abs(task_state) > TASK_VALUE_BOUND
    if beyond.any():
        j = int(np.argmax(beyond))
        raise InvalidStateError(
            f"state[{first_index + j}] (task value {j}) is {task_state[j]:g}; accepted: finite "
            f"values within ±{TASK_VALUE_BOUND:g}. Pass a vector from get_state() of this env"
        )


def _info_term(info: Any, key: str, shape: tuple[int, ...]) -> NDArray[np.float64]:
    """Return ``info[key]`` (one dict, a sequence of dicts, or a dict of arrays) as an array.

    Where ``info`` is None or a dict lacks ``key`` (the empty infos Stable-Baselines3's
    ``HerReplayBuffer`` passes unless ``copy_info_dict=True``), the term is 0.
    """
    if info is None:
        return np.zeros(shape)
    if isinstance(info, dict):
        return np.broadcast_to(np.asarray(info.get(key, 0.0), dtype=np.float64), shape)
    items = np.ravel(np.asarray(info, dtype=object))
    values = np.array([item.get(key, 0.0) for item in items], dtype=np.float64)
    return values.reshape(shape)
