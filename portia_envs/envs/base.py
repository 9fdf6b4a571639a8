"""The base under every Portia environment: simulation, actions, state, rendering, pickling.

A Portia env implements the small protocol that ``wrappers`` rely on without importing
``portia_envs``: ``get_state()`` / ``set_state(state)`` (exact), ``rollout(actions)`` (a batch
of open-loop futures with their rewards, the env untouched) and ``dt``.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from numpy.typing import NDArray

from portia_envs.errors import InvalidActionError, InvalidStateError
from portia_envs.rendering import RENDER_MODES, SceneRenderer
from portia_envs.sim import Simulation
from portia_envs.sim.controls import clip_to_controls


class PortiaEnv(gymnasium.Env):
    """Shared machinery of Portia envs; subclasses compose a body, a scene and a task.

    Subclasses build ``self.sim``, ``self.action_space``, ``self.observation_space`` and the
    affine action map ``ctrl = ctrl_matrix @ clip(action) + ctrl_offset``, and implement
    ``task_state`` / ``set_task_state`` (the task's parameters as a flat vector).

    Args:
        init_kwargs: The subclass's keyword arguments, kept so that the env pickles.
        render_mode: None, ``"human"`` (a window) or ``"rgb_array"``.
        camera: Name of the camera that renders.
        width: Frame width in pixels.
        height: Frame height in pixels.
    """

    metadata: dict[str, Any] = {"render_modes": list(RENDER_MODES), "render_fps": 25}
    sim: Simulation
    ctrl_matrix: NDArray[np.float64]
    ctrl_offset: NDArray[np.float64]

    def __init__(
        self,
        init_kwargs: dict[str, Any],
        *,
        render_mode: str | None,
        camera: str,
        width: int,
        height: int,
    ) -> None:
        if render_mode is not None and render_mode not in RENDER_MODES:
            raise ValueError(
                f"unknown render_mode {render_mode!r}; accepted: None, {', '.join(RENDER_MODES)}"
            )
        self._init_kwargs = init_kwargs
        self.render_mode = render_mode
        self._camera, self._width, self._height = camera, width, height
        self._renderer: SceneRenderer | None = None
        self._delayed: tuple[NDArray[np.float64], int] | None = None

    @property
    def dt(self) -> float:
        """The control period in seconds: simulated time between two observations."""
        return self.sim.dt

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
            raise ValueError(f"substeps must be 0..{self.sim.n_substeps}, got {substeps}")
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
        return np.concatenate([self.sim.get_state(), self.task_state()])

    def set_state(self, state: NDArray[np.float64]) -> None:
        """Restore a state returned by ``get_state``.

        Raises:
            InvalidStateError: If the vector's size or values do not fit this env.
        """
        state = np.asarray(state, dtype=np.float64)
        size = self.sim.state_size
        if state.ndim != 1 or state.size <= size:
            raise InvalidStateError(
                f"state must be a flat vector from get_state() of this env, longer than "
                f"{size}; got shape {state.shape}"
            )
        self.set_task_state(state[size:])
        self.sim.set_state(state[:size])

    def render(self) -> NDArray[np.uint8] | None:
        """Return an RGB frame for ``"rgb_array"``; draw the window for ``"human"``."""
        if self.render_mode is None:
            gymnasium.logger.warn("render() called with render_mode=None; nothing to render")
            return None
        if self._renderer is None:
            self._renderer = SceneRenderer(
                self.sim.model, camera=self._camera, width=self._width, height=self._height
            )
        if self.render_mode == "human":
            self._renderer.show(self.sim.data, self.metadata["render_fps"])
            return None
        return self._renderer.rgb(self.sim.data)

    def close(self) -> None:
        """Release the renderer, its window and the rollout threads."""
        self.sim.close()
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def __getstate__(self) -> dict[str, Any]:
        started = getattr(self, "_started", False)
        return {
            "init_kwargs": self._init_kwargs,
            "state": self.get_state() if started else None,
            "rng": self.np_random.bit_generator.state if self._np_random is not None else None,
        }

    def __setstate__(self, pickled: dict[str, Any]) -> None:
        self.__init__(**pickled["init_kwargs"])
        if pickled["rng"] is not None:
            self.np_random.bit_generator.state = pickled["rng"]
        if pickled["state"] is not None:
            self.set_state(pickled["state"])
            self._started = True
