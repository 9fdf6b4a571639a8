"""Batched vector envs for the MuJoCo Portia bodies: every world's physics in native threads.

``gymnasium.make_vec(ID, num_envs=N, vectorization_mode="vector_entry_point")`` builds one
for every arm and spider id. Each world is a single env of the id (its own compiled model,
which its tasks write sizes, masses and frictions into, and its own data and random
generator). A step maps every world's action to controls in one compiled pass, advances
every world's physics for one control period in ``nthread`` threads that call MuJoCo's
``mj_step`` (which runs without Python's lock) on the worlds, taking them one at a time,
then builds observations and scores for the whole batch with the bodies' kernels
(``ArmWorlds``, ``SpiderWorlds``).

Why threads over ``mjData`` rather than ``mujoco.rollout``: a rollout returns the state
without the constraint solver's warm start, so chaining one rollout per control period
starts each period's solver from another guess than ``mj_step`` does, and contacts drift
from the single env in the last bits; keeping one ``mjData`` per world keeps its warm start,
and each world stays bit-identical to the single env (chained rollouts of a pick-and-place
episode part from ``mj_step`` at its first contacts). MuJoCo 4's ``mujoco.batch.Batch``
keeps warm starts and measured as fast as these threads here, but Portia supports MuJoCo
from 3.2.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar, Protocol

import gymnasium
import mujoco
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space
from numpy.typing import NDArray

from portia_envs.envs.arm import ArmEnv
from portia_envs.envs.arm_worlds import ArmWorlds
from portia_envs.envs.base import PortiaEnv
from portia_envs.envs.spider import SpiderEnv
from portia_envs.envs.spider_worlds import SpiderWorlds
from portia_envs.errors import InvalidActionError, InvalidParameterError, InvalidStateError
from portia_envs.rendering import SceneRenderer
from portia_envs.sim.controls import clip_to_controls

AUTORESET_MODES = (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP)
VECTOR_RENDER_MODES = ("rgb_array", "human")
# What a vector env renders: world 0 alone, or every world tiled in a grid.
RENDER_WORLDS = ("first", "grid")


class WorldRows(Protocol):
    """A body's worlds as rows: their tasks mirrored, observed and scored in one pass."""

    def __init__(self, worlds: tuple[Any, ...]) -> None: ...

    def refresh(self, i: int, world: Any) -> None:
        """Copy world ``i``'s current task into row ``i``."""
        ...

    def observe(self, sensors: NDArray[np.float64]) -> tuple[dict[str, NDArray], Any]:
        """Return batched observations and scores of readings ``(n, nsensordata)``."""
        ...


def default_nthread() -> int:
    """Return the cores this process may run on: the default thread count."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class PortiaVectorEnv(VectorEnv):
    """``num_envs`` worlds of one Portia MuJoCo env, stepped together.

    World ``i`` behaves exactly as ``gymnasium.make(ID, **kwargs)`` reset with seed
    ``seed + i`` and driven by the same actions, under the id's time limit: the same
    observations, rewards, flags and info values, bit for bit, across autoresets and task
    switches (``reset`` of a world draws its next task from that world's own generator).

    **Autoreset** (``autoreset_mode``), as Gymnasium's ``SyncVectorEnv``:

    - ``AutoresetMode.NEXT_STEP`` (the default): the step that ends an episode
      (``terminated`` or ``truncated``) returns its last observation; the next ``step``
      ignores that world's action and returns the first observation of a new episode,
      reward 0, ``terminated`` and ``truncated`` False, and the reset's info.
    - ``AutoresetMode.SAME_STEP``: the world resets within the step that ended its
      episode; the step returns the new episode's first observation, with the last one in
      ``info["final_obs"]`` (an object array, None for the other worlds) and its info in
      ``info["final_info"]``.

    **Info**: arrays over the worlds, each with its ``_key`` mask: ``is_success``,
    ``task_id``, ``instruction`` and the reward terms; ``task_parameters`` (a dict of
    arrays, masked to the worlds that reset) after a reset.

    **Threads**: ``nthread`` threads share the worlds' physics (1 runs it on the calling
    thread). They live until ``close``.

    Args:
        num_envs: Number of worlds (>= 1).
        max_episode_steps: Time limit of an episode, steps (``make_vec`` passes the id's).
        nthread: Threads stepping the physics; None for the cores this process may use.
        autoreset_mode: ``AutoresetMode.NEXT_STEP`` or ``AutoresetMode.SAME_STEP`` (or
            their values, ``"NextStep"``, ``"SameStep"``).
        render_mode: None, ``"rgb_array"`` or ``"human"`` (a window).
        render_worlds: ``"first"`` (world 0) or ``"grid"`` (every world, tiled in rows of
            ``ceil(sqrt(num_envs))``; ``"rgb_array"`` only).
        camera: The camera that renders (the single env's choices).
        width: Width of one world's frame, pixels.
        height: Height of one world's frame, pixels.
        **env_kwargs: The single env's other arguments (``task``, ``suite``, ``split``,
            ``body``, ...).

    Raises:
        InvalidParameterError: On a bad count, thread count, time limit, autoreset mode or
            render choice; the single env raises on its own bad arguments.
    """

    env_class: ClassVar[type[PortiaEnv]]
    # Observes and scores every world in one pass, each row for its world's task.
    rows_class: ClassVar[type[WorldRows]]
    metadata: dict[str, Any] = {
        "autoreset_mode": AutoresetMode.NEXT_STEP,
        "render_modes": list(VECTOR_RENDER_MODES),
        "render_fps": PortiaEnv.metadata["render_fps"],
    }

    def __init__(
        self,
        num_envs: int = 1,
        *,
        max_episode_steps: int,
        nthread: int | None = None,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        render_mode: str | None = None,
        render_worlds: str = "first",
        camera: str = "overview",
        width: int = 480,
        height: int = 480,
        **env_kwargs: Any,
    ) -> None:
        _check_count("num_envs", num_envs)
        _check_count("max_episode_steps", max_episode_steps)
        nthread = default_nthread() if nthread is None else nthread
        _check_count("nthread", nthread)
        self.autoreset_mode = _autoreset_mode(autoreset_mode)
        _check_render(render_mode, render_worlds)
        self.metadata = {**self.metadata, "autoreset_mode": self.autoreset_mode}
        view = {"camera": camera, "width": width, "height": height}
        self.worlds: tuple[PortiaEnv, ...] = tuple(
            self.env_class(**env_kwargs, **view) for _ in range(num_envs)
        )
        first = self.worlds[0]
        self.num_envs = num_envs
        self.max_episode_steps = max_episode_steps
        self.nthread = min(nthread, num_envs)
        self.render_mode = render_mode
        self.render_worlds = render_worlds
        self._view = view
        self.single_action_space = first.action_space
        self.single_observation_space = first.observation_space
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self._models = [world.sim.model for world in self.worlds]
        self._datas = [world.sim.data for world in self.worlds]
        # Views into each world's MjData, kept: making one per access costs more than using it.
        self._ctrl = [data.ctrl for data in self._datas]
        self._sensordata = [data.sensordata for data in self._datas]
        self._n_substeps = first.sim.n_substeps
        self._nu = first.sim.model.nu
        self._pool = ThreadPoolExecutor(self.nthread - 1) if self.nthread > 1 else None
        self._rows = self.rows_class(self.worlds)
        self._task_ids = np.array([w._task_id for w in self.worlds], dtype=object)
        self._instructions = np.array([w._instruction for w in self.worlds], dtype=object)
        self._elapsed = np.zeros(num_envs, dtype=np.int64)
        self._ended = np.zeros(num_envs, dtype=np.bool_)
        self._started = False
        self._renderer: SceneRenderer | None = None

    @property
    def dt(self) -> float:
        """The control period in seconds, as the single env's."""
        return self.worlds[0].dt

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, NDArray], dict[str, Any]]:
        """Start a new episode in every world.

        Args:
            seed: None (fresh entropy), an int (world ``i`` gets ``seed + i``) or one seed
                per world.
            options: The single env's reset options, given to every world (e.g.
                ``{"task": "push"}`` for the arm).

        Returns:
            ``(observations, info)``: batched observations and the worlds' reset infos.

        Raises:
            InvalidParameterError: For a seed list of the wrong length.
        """
        if seed is None or isinstance(seed, int):
            seeds = [None if seed is None else seed + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise InvalidParameterError(
                    f"seed must be None, an int or {self.num_envs} seeds (one per world), "
                    f"got {len(seeds)}"
                )
        observations, infos = [], {}
        for i, world in enumerate(self.worlds):
            observation, info = world.reset(seed=seeds[i], options=options)
            self._refresh(i)
            observations.append(observation)
            infos = self._add_info(infos, info, i)
        self._np_random = self.worlds[0].np_random
        self._elapsed[:] = 0
        self._ended[:] = False
        self._started = True
        return _stack(observations), infos

    def step(
        self, actions: Any
    ) -> tuple[dict[str, NDArray], NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_], dict]:
        """Advance every world one control period (or autoreset it, see the class docstring).

        Args:
            actions: Shape ``(num_envs, action size)``, values in [-1, 1] (clipped).

        Returns:
            ``(observations, rewards, terminated, truncated, info)``, batched.

        Raises:
            InvalidStateError: If ``reset`` has not been called.
            InvalidActionError: On a wrong shape, a non-numeric dtype, or NaN or infinity
                (naming the first world whose action has it).
        """
        if not self._started:
            raise InvalidStateError("call reset() before step()")
        ctrl = self._controls(actions)
        resetting = self._ended.copy() if self.autoreset_mode == AutoresetMode.NEXT_STEP else None
        stepping = np.flatnonzero(~resetting) if resetting is not None else None
        self._advance(ctrl, stepping)
        self._elapsed += 1
        sensors = np.stack(self._sensordata)
        observations, scores = self._rows.observe(sensors)
        rewards = scores.reward
        terminated = scores.terminated.copy()
        truncated = self._elapsed >= self.max_episode_steps
        info = self._step_info(scores)
        if resetting is not None and resetting.any():
            self._autoreset(np.flatnonzero(resetting), observations, info)
            rewards[resetting] = 0.0
            terminated[resetting] = False
            truncated[resetting] = False
        self._ended = terminated | truncated
        if self.autoreset_mode == AutoresetMode.SAME_STEP and self._ended.any():
            ended = np.flatnonzero(self._ended)
            info["final_obs"] = np.full(self.num_envs, None, dtype=object)
            info["_final_obs"] = self._ended.copy()
            final_info: dict[str, Any] = {}
            for i in ended:
                info["final_obs"][i] = {key: value[i].copy() for key, value in observations.items()}
                final_info = self._add_info(final_info, world_info(info, i), int(i))
            info["final_info"], info["_final_info"] = final_info, self._ended.copy()
            self._autoreset(ended, observations, info)
            self._ended[:] = False
        if self.render_mode == "human":
            self.render()
        return observations, rewards, terminated, truncated, info

    def _controls(self, actions: Any) -> NDArray[np.float64]:
        """Check a batch of actions and map them to controls, shape ``(num_envs, nu)``."""
        expected = self.action_space.shape
        try:
            array = np.asarray(actions, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise InvalidActionError(
                f"actions must be numeric, shape {expected} (one row per world): {error}"
            ) from None
        if array.shape != expected:
            raise InvalidActionError(
                f"actions must have shape {expected} (one row per world, values in [-1, 1]), "
                f"got {array.shape}"
            )
        ctrl = np.empty((self.num_envs, self._nu))
        first = self.worlds[0]
        if not clip_to_controls(array, first.ctrl_matrix, first.ctrl_offset, ctrl):
            world = int(np.flatnonzero(~np.isfinite(array).all(axis=1))[0])
            raise InvalidActionError(
                f"the action of world {world} contains NaN or infinite values: {array[world]}; "
                f"all values must be finite"
            )
        return ctrl

    def _advance(self, ctrl: NDArray[np.float64], stepping: NDArray[np.intp] | None) -> None:
        """Step the physics of the worlds in ``stepping`` (all when None) for one period.

        The threads (the calling one among them) take the worlds one at a time from a shared
        iterator, so a thread whose worlds are in contact (dearer to step) takes fewer.
        """
        models, datas, nstep = self._models, self._datas, self._n_substeps
        order = range(self.num_envs) if stepping is None else stepping.tolist()
        for i in order:
            self._ctrl[i][:] = ctrl[i]
        if self._pool is None:
            for i in order:
                mujoco.mj_step(models[i], datas[i], nstep=nstep)
            return
        # next() on a shared iterator is atomic: each world is taken by exactly one thread.
        worlds = iter(order)

        def run() -> None:
            for i in worlds:
                mujoco.mj_step(models[i], datas[i], nstep=nstep)

        pending = [self._pool.submit(run) for _ in range(self.nthread - 1)]
        run()
        for future in pending:
            future.result()

    def _autoreset(
        self, worlds: NDArray[np.intp], observations: dict[str, NDArray], info: dict[str, Any]
    ) -> None:
        """Reset ``worlds``: their first observation and reset info replace this step's."""
        for i in worlds:
            observation, reset_info = self.worlds[i].reset()
            self._refresh(i)
            for key, value in observation.items():
                observations[key][i] = value
            for key, value in reset_info.items():
                if key == "task_parameters":
                    parameters = info.get("task_parameters", {})
                    info["task_parameters"] = self._add_info(parameters, value, int(i))
                    mask = info.get("_task_parameters", np.zeros(self.num_envs, dtype=np.bool_))
                    mask[i] = True
                    info["_task_parameters"] = mask
                else:
                    info[key][i] = value
            self._elapsed[i] = 0

    def call(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        """Call method ``name`` of every world (or read the attribute); return the results.

        As ``SyncVectorEnv.call``. A call that changes a world's task or state (``set_state``,
        say) is taken into the batch afterwards; the worlds' step counts are not changed.
        """
        results = []
        for world in self.worlds:
            attribute = getattr(world, name)
            results.append(attribute(*args, **kwargs) if callable(attribute) else attribute)
        for i in range(self.num_envs):
            self._refresh(i)
        return tuple(results)

    def get_attr(self, name: str) -> tuple[Any, ...]:
        """Return attribute ``name`` of every world."""
        return tuple(getattr(world, name) for world in self.worlds)

    def set_attr(self, name: str, values: Any) -> None:
        """Set attribute ``name`` of every world: one value each (a list or tuple), or one for all.

        Raises:
            InvalidParameterError: For a list or tuple of another length than ``num_envs``.
        """
        if not isinstance(values, list | tuple):
            values = [values] * self.num_envs
        if len(values) != self.num_envs:
            raise InvalidParameterError(
                f"set_attr takes one value for all worlds or {self.num_envs} values (one per "
                f"world), got {len(values)}"
            )
        for world, value in zip(self.worlds, values, strict=True):
            setattr(world, name, value)

    def _refresh(self, i: int) -> None:
        """Take world ``i``'s new task (after its reset) into the batch's rows."""
        world = self.worlds[i]
        self._rows.refresh(i, world)
        self._task_ids[i] = world._task_id
        self._instructions[i] = world._instruction

    def _step_info(self, scores: Any) -> dict[str, Any]:
        """The step's info: per-world arrays, as ``SyncVectorEnv`` batches single infos."""
        info: dict[str, Any] = {
            "is_success": scores.is_success.copy(),
            "task_id": self._task_ids.copy(),
            "instruction": self._instructions.copy(),
        }
        for name in scores._fields:
            if name.startswith("reward_"):
                info[name] = getattr(scores, name).copy()
        for key in list(info):
            info[f"_{key}"] = np.ones(self.num_envs, dtype=np.bool_)
        return info

    def render(self) -> NDArray[np.uint8] | None:
        """Return world 0's frame, or the grid of every world's, for ``"rgb_array"``.

        For ``"human"`` it draws world 0 in a window and returns None; without a render
        mode it warns and returns None.
        """
        if self.render_mode is None:
            gymnasium.logger.warn("render() called with render_mode=None; nothing to render")
            return None
        first = self.worlds[0]
        if self._renderer is None:
            self._renderer = SceneRenderer(first.sim.model, **self._view)
        if self.render_mode == "human":
            self._renderer.show(first.sim.data, self.metadata["render_fps"])
            return None
        if self.render_worlds == "first":
            return self._renderer.rgb(first.sim.data)
        frames = [
            self._renderer.rgb(world.sim.data, model=world.sim.model) for world in self.worlds
        ]
        return tile(frames)

    def close_extras(self, **kwargs: Any) -> None:
        """Stop the threads, release the renderer and every world."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        for world in self.worlds:
            world.close()


class ArmVectorEnv(PortiaVectorEnv):
    """Arm worlds (every body, family and suite of ``ArmEnv``) stepped together."""

    env_class = ArmEnv
    rows_class = ArmWorlds


class SpiderVectorEnv(PortiaVectorEnv):
    """Spider worlds (``SpiderEnv``) stepped together."""

    env_class = SpiderEnv
    rows_class = SpiderWorlds


def tile(frames: list[NDArray[np.uint8]]) -> NDArray[np.uint8]:
    """Tile equal frames in rows of ``ceil(sqrt(n))``, black where a row runs short.

    Args:
        frames: RGB frames, each ``(height, width, 3)``.

    Returns:
        One frame, ``(rows * height, columns * width, 3)``.
    """
    columns = math.ceil(math.sqrt(len(frames)))
    rows = math.ceil(len(frames) / columns)
    height, width, _ = frames[0].shape
    grid = np.zeros((rows * height, columns * width, 3), dtype=np.uint8)
    for k, frame in enumerate(frames):
        r, c = divmod(k, columns)
        grid[r * height : (r + 1) * height, c * width : (c + 1) * width] = frame
    return grid


def world_info(info: dict[str, Any], i: int) -> dict[str, Any]:
    """Return world ``i``'s info dict from a vector env's batched info (its ``_key`` masks).

    Args:
        info: The batched info: arrays over the worlds and nested dicts of them.
        i: The world.

    Returns:
        The keys world ``i`` has, with plain Python values where the array holds scalars.
    """
    world: dict[str, Any] = {}
    for key, value in info.items():
        if key.startswith("_") or key in ("final_obs", "final_info"):
            continue
        if not info.get(f"_{key}", np.ones(i + 1, dtype=bool))[i]:
            continue
        if isinstance(value, dict):
            world[key] = world_info(value, i)
        else:
            item = value[i]
            world[key] = item.item() if isinstance(item, np.generic) else item
    return world


def _stack(observations: list[dict[str, NDArray]]) -> dict[str, NDArray]:
    """Batch single observations (dicts of arrays) into one dict of ``(n, ...)`` arrays."""
    return {key: np.stack([o[key] for o in observations]) for key in observations[0]}


def _check_count(name: str, value: Any) -> None:
    """Raise ``InvalidParameterError`` unless ``value`` is an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InvalidParameterError(f"{name} must be an int >= 1, got {value!r}")


def _autoreset_mode(mode: AutoresetMode | str) -> AutoresetMode:
    """Return the autoreset mode ``mode`` names, or raise naming those accepted."""
    accepted = ", ".join(f"AutoresetMode.{m.name} ({m.value!r})" for m in AUTORESET_MODES)
    try:
        chosen = AutoresetMode(mode)
    except ValueError:
        chosen = None
    if chosen not in AUTORESET_MODES:
        raise InvalidParameterError(
            f"autoreset_mode {mode!r} is not supported; accepted: {accepted}"
        )
    return chosen


def _check_render(render_mode: str | None, render_worlds: str) -> None:
    """Raise ``InvalidParameterError`` on a render mode or world choice not accepted."""
    if render_mode is not None and render_mode not in VECTOR_RENDER_MODES:
        raise InvalidParameterError(
            f"unknown render_mode {render_mode!r}; accepted: None, {', '.join(VECTOR_RENDER_MODES)}"
        )
    if render_worlds not in RENDER_WORLDS:
        raise InvalidParameterError(
            f"unknown render_worlds {render_worlds!r}; accepted: {', '.join(RENDER_WORLDS)}"
        )
    if render_mode == "human" and render_worlds == "grid":
        raise InvalidParameterError(
            "render_worlds='grid' is for render_mode='rgb_array'; a window shows world 0 "
            "(render_worlds='first')"
        )
