"""What every Portia MuJoCo env holds, whichever its API: simulation, state, rendering, pickling.

``PortiaEnv`` (a ``gymnasium.Env``) and ``HandoverEnv`` (a PettingZoo ``ParallelEnv``) each
hold one ``EnvCore``: the composed scene compiled and stepped in control periods, the full
state (physics, then the task's part), rendering and release. Both pickle through
``EpisodePickle``: as the arguments they were made with, plus their running episode.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self

import gymnasium
import mujoco
import numpy as np
from gymnasium.utils import EzPickle
from numpy.typing import NDArray

from portia_envs.errors import InvalidParameterError, InvalidStateError
from portia_envs.rendering import RENDER_MODES, SceneRenderer
from portia_envs.scenes.base import MAX_FRAME_SIZE
from portia_envs.sim import Simulation


class EnvCore:
    """A composed scene, compiled and stepped, with its full state, rendering and release.

    The state vector is the simulation's (physics then sensor readings,
    ``Simulation.get_state``) followed by the task's part, a flat vector that the env
    supplies (``get_state``) and restores (``set_state``).

    Args:
        spec: The composed scene (``sim.compose``); compiled here, and kept as ``spec``
            for the env's fingerprint.
        n_substeps: Physics steps per control period.
        render_mode: None, ``"human"`` (a window) or ``"rgb_array"``.
        camera: The camera that renders, one of ``cameras``.
        cameras: The scene's cameras.
        width: Frame width, pixels: 1 to ``MAX_FRAME_SIZE[0]``.
        height: Frame height, pixels: 1 to ``MAX_FRAME_SIZE[1]``.

    Raises:
        InvalidParameterError: On an unknown render mode or camera, or a frame size out of
            range.
    """

    def __init__(
        self,
        spec: mujoco.MjSpec,
        *,
        n_substeps: int,
        render_mode: str | None,
        camera: str,
        cameras: tuple[str, ...],
        width: int,
        height: int,
    ) -> None:
        if render_mode is not None and render_mode not in RENDER_MODES:
            raise InvalidParameterError(
                f"unknown render_mode {render_mode!r}; accepted: None, {', '.join(RENDER_MODES)}"
            )
        check_view(camera, cameras, width, height)
        self.spec = spec
        self.sim = Simulation(spec.compile(), n_substeps=n_substeps)
        self.render_mode = render_mode
        self._view = {"camera": camera, "width": width, "height": height}
        self._scene: SceneRenderer | None = None

    def get_state(self, task_state: NDArray[np.float64]) -> NDArray[np.float64]:
        """Return the full state: the simulation's, then ``task_state`` (the task's part)."""
        return np.concatenate([self.sim.get_state(), task_state])

    def set_state(
        self,
        state: NDArray[np.float64],
        task_size: int,
        restore_task: Callable[[NDArray[np.float64]], None],
    ) -> None:
        """Restore a full state from ``get_state``, or refuse it and change nothing.

        The length and the physics (``Simulation.check_state``) are checked first; then
        ``restore_task`` checks the task's part and makes it current (it must raise
        ``InvalidStateError`` and change nothing if it refuses), before the physics is set:
        the model's constants that a task writes come before the state that depends on them.

        Args:
            state: A vector from ``get_state``.
            task_size: Values in the task's part.
            restore_task: Checks and restores the task's part, shape ``(task_size,)``.

        Raises:
            InvalidStateError: Naming the first value not accepted, its index and field.
        """
        state = np.asarray(state, dtype=np.float64)
        size = self.sim.state_size
        if state.shape != (size + task_size,):
            raise InvalidStateError(
                f"state must be a flat vector of {size + task_size} values from get_state() of "
                f"this env ({size} of physics and sensor readings, then the task part, which "
                f"has {task_size} values); got shape {state.shape}"
            )
        self.sim.check_state(state[:size])
        restore_task(state[size:])
        self.sim.set_state(state[:size])

    def render(self, fps: float) -> NDArray[np.uint8] | None:
        """Return an RGB frame for ``"rgb_array"``; draw the window for ``"human"``.

        The renderer opens on first use. With ``render_mode=None`` it warns that there is
        nothing to render and returns None.

        Args:
            fps: The most frames a second the window shows.
        """
        if self.render_mode is None:
            # Attributed to the line that called the env's render() (HoldsCore.render).
            gymnasium.logger.warn(
                "render() called with render_mode=None; nothing to render", stacklevel=3
            )
            return None
        if self._scene is None:
            self._scene = SceneRenderer(self.sim.model, **self._view)
        if self.render_mode == "human":
            self._scene.show(self.sim.data, fps)
            return None
        return self._scene.rgb(self.sim.data)

    def close(self) -> None:
        """Release the renderer, its window and the rollout threads."""
        self.sim.close()
        if self._scene is not None:
            self._scene.close()
            self._scene = None


class EpisodePickle(EzPickle):
    """Pickles an env as the arguments it was made with, plus its running episode.

    Gymnasium's ``EzPickle`` records the constructor's arguments; here ``__new__`` records
    them, so an env lists its arguments once, in its signature. Unpickling makes the env
    anew from them in place, restores its random generator and, if an episode was running,
    its state (``set_state``): the copy continues bit-identically.

    The env provides ``get_state`` and ``set_state``, a Gymnasium-style generator
    (``np_random``, and ``_np_random``: None until first used) and ``_episode_running``.
    """

    _np_random: np.random.Generator | None

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        """Make the env, recording the arguments it is made with (``__init__`` then runs)."""
        env = super().__new__(cls)
        EzPickle.__init__(env, *args, **kwargs)
        return env

    def __getstate__(self) -> dict[str, Any]:
        return {
            **super().__getstate__(),
            "state": self.get_state() if self._episode_running else None,
            "rng": None if self._np_random is None else self._np_random.bit_generator.state,
        }

    def __setstate__(self, pickled: dict[str, Any]) -> None:
        # In place, where EzPickle would make a second env and copy its attributes over.
        EzPickle.__init__(self, *pickled["_ezpickle_args"], **pickled["_ezpickle_kwargs"])
        self.__init__(*pickled["_ezpickle_args"], **pickled["_ezpickle_kwargs"])
        if pickled["rng"] is not None:
            self.np_random.bit_generator.state = pickled["rng"]
        if pickled["state"] is not None:
            self.set_state(pickled["state"])


def check_view(camera: str, cameras: tuple[str, ...], width: int, height: int) -> None:
    """Raise ``InvalidParameterError`` unless ``camera`` is one of ``cameras`` and the size fits.

    Args:
        camera: The camera asked for.
        cameras: The scene's cameras.
        width: Frame width, pixels: 1 to ``MAX_FRAME_SIZE[0]``.
        height: Frame height, pixels: 1 to ``MAX_FRAME_SIZE[1]``.
    """
    if camera not in cameras:
        raise InvalidParameterError(f"unknown camera {camera!r}; accepted: {', '.join(cameras)}")
    max_width, max_height = MAX_FRAME_SIZE
    if not (1 <= width <= max_width and 1 <= height <= max_height):
        raise InvalidParameterError(
            f"frame size {width}x{height} is not accepted: width must be 1..{max_width} "
            f"and height 1..{max_height} pixels"
        )


class HoldsCore:
    """What an env reads and does through its ``EnvCore``, whichever its API.

    Mixed in first, before ``gymnasium.Env`` or PettingZoo's ``ParallelEnv``, whose own
    ``render_mode``, ``render`` and ``close`` it replaces. The env sets ``core`` and has
    ``metadata["render_fps"]``.
    """

    core: EnvCore
    metadata: dict[str, Any]

    @property
    def sim(self) -> Simulation:
        """The simulation: the compiled model and its data, stepped in control periods."""
        return self.core.sim

    @property
    def render_mode(self) -> str | None:
        """None, ``"human"`` (a window) or ``"rgb_array"``, as made."""
        return self.core.render_mode

    @property
    def dt(self) -> float:
        """The control period in seconds: simulated time between two observations."""
        return self.sim.dt

    def render(self) -> NDArray[np.uint8] | None:
        """Return an RGB frame for ``"rgb_array"``; draw the window for ``"human"``."""
        return self.core.render(self.metadata["render_fps"])

    def close(self) -> None:
        """Release the renderer, its window and the rollout threads."""
        self.core.close()
