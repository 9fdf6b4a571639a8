"""Detour's native vector env: all worlds step in one compiled call, with next-step autoreset."""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space
from numpy.typing import NDArray

from portia_envs.detour.env import RENDER_MODES, DetourEnv, detour_spaces, level_stream, to_motion
from portia_envs.detour.world import REWARD_TERMS
from portia_envs.detour.worlds import Worlds
from portia_envs.errors import InvalidParameterError
from portia_envs.registration import DETOUR_SPECS

# The registered time limit, for a vector env built without gymnasium.make_vec.
DEFAULT_MAX_EPISODE_STEPS = DETOUR_SPECS["Portia/Detour-v0"][1]


class DetourVectorEnv(VectorEnv):
    """``num_envs`` Detour worlds stepped together by one numba kernel.

    Each world behaves exactly as a ``DetourEnv`` with the same arguments under the id's
    time limit: the same seed gives the same levels and the same trajectory.

    Autoreset is Gymnasium's next-step mode (``metadata["autoreset_mode"]`` is
    ``AutoresetMode.NEXT_STEP``): the step that ends an episode (``terminated`` or
    ``truncated``) returns that episode's last observation; the next ``step`` ignores that
    world's action and returns the first observation of a new episode on its stream's next
    level, with reward 0, ``terminated`` and ``truncated`` False.

    ``reset(seed=s)`` seeds world ``i`` with ``s + i`` (a list gives one seed per world).
    ``info`` holds arrays over the worlds, each with its ``_key`` mask (all True):
    ``is_success``, ``level`` and the reward terms.

    Args:
        num_envs: Number of worlds.
        max_episode_steps: Time limit of an episode, steps (from the registered id).
        action_type: ``"continuous"`` or ``"discrete"``.
        suite: The Detour suite whose levels are played.
        split: ``"train"`` or ``"heldout"``.
        difficulty: ``"easy"``, ``"medium"`` or ``"hard"``; None for the suite's.
        maze_density: Overrides the difficulty's wall density.
        gap_width: Overrides the difficulty's gap width.
        size: Level side in cells; None for the suite's.
        render_mode: None or ``"rgb_array"`` (a frame of each world).
        cell_px: Side of a cell in rendered pixels.
    """

    metadata: dict[str, Any] = {
        "autoreset_mode": AutoresetMode.NEXT_STEP,
        "render_modes": ["rgb_array"],
        "render_fps": DetourEnv.metadata["render_fps"],
    }

    def __init__(
        self,
        num_envs: int = 1,
        *,
        max_episode_steps: int = DEFAULT_MAX_EPISODE_STEPS,
        action_type: str = "continuous",
        suite: str = "detour-v0",
        split: str = "train",
        difficulty: str | None = None,
        maze_density: float | None = None,
        gap_width: int | None = None,
        size: int | None = None,
        render_mode: str | None = None,
        cell_px: int = 40,
    ) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
            raise InvalidParameterError(f"num_envs must be an int >= 1, got {num_envs!r}")
        if max_episode_steps < 1:
            raise InvalidParameterError(f"max_episode_steps must be >= 1, got {max_episode_steps}")
        if render_mode not in (None, "rgb_array"):
            raise InvalidParameterError(
                f"unknown render_mode {render_mode!r} for the vector env; accepted: None, "
                f"rgb_array ({', '.join(RENDER_MODES)} on a single env)"
            )
        self._worlds = Worlds(num_envs, suite, split, difficulty, maze_density, gap_width, size)
        self.suite, self.config = self._worlds.suite, self._worlds.config
        self.num_envs = num_envs
        self.max_episode_steps = max_episode_steps
        self.render_mode = render_mode
        self.cell_px = cell_px
        self.single_action_space, self.single_observation_space = detour_spaces(action_type)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self._discrete = action_type == "discrete"
        self._autoreset = np.zeros(num_envs, dtype=np.bool_)
        self._all = np.ones(num_envs, dtype=np.bool_)
        self._renderer: Any = None

    def reset(
        self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        """Start a new episode in every world.

        Args:
            seed: None (fresh entropy), an int (world ``i`` gets ``seed + i``) or one int
                per world.
            options: Accepted for the API; must be None or empty.

        Raises:
            InvalidParameterError: For a seed list of the wrong length, or any option.
        """
        if options:
            raise InvalidParameterError(
                f"the Detour vector env takes no reset options, got {sorted(options)}; "
                f"play a given level with a single env's options={{'level': k}}"
            )
        if seed is None:
            seeds: list[int | None] = [None] * self.num_envs
        elif isinstance(seed, int):
            seeds = [seed + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise InvalidParameterError(
                    f"seed must be None, an int or {self.num_envs} ints, got {len(seeds)}"
                )
        for i, world_seed in enumerate(seeds):
            rng, _ = seeding.np_random(world_seed)
            self._worlds.streams[i] = level_stream(rng)
            if i == 0:
                self._np_random, self._np_random_seed = rng, world_seed
        obs = self._worlds.start(self._all)
        self._autoreset[:] = False
        success = np.zeros(self.num_envs, dtype=np.bool_)
        return obs, self._info(success, np.zeros((self.num_envs, len(REWARD_TERMS))))

    def step(
        self, actions: Any
    ) -> tuple[
        NDArray[np.float32], NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_], dict
    ]:
        """Step every world (or autoreset it, see the class docstring).

        Args:
            actions: ``(num_envs, 3)`` floats, or ``(num_envs,)`` ints for the discrete variant.

        Raises:
            InvalidActionError: On a wrong shape or dtype, NaN, infinity or unknown index.
        """
        motion = to_motion(actions, self._discrete, (self.num_envs,))
        obs, reward, terminated, truncated, success, terms = self._worlds.step(
            motion, self._autoreset, self.max_episode_steps
        )
        return obs, reward, terminated, truncated, self._info(success, terms)

    def render(self) -> tuple[NDArray[np.uint8], ...] | None:
        """Return one RGB frame per world for ``"rgb_array"`` (None without a render mode)."""
        if self.render_mode is None:
            gymnasium.logger.warn("render() called with render_mode=None; nothing to render")
            return None
        if self._renderer is None:
            from portia_envs.detour.render import DetourRenderer

            self._renderer = DetourRenderer(self.config.size, cell_px=self.cell_px)
        return tuple(
            self._renderer.draw(self._worlds.grid[i], self._worlds.body[i], None)
            for i in range(self.num_envs)
        )

    def close_extras(self, **kwargs: Any) -> None:
        """Release the renderer."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def _info(self, success: NDArray[np.bool_], terms: NDArray[np.float64]) -> dict[str, Any]:
        """The step's info: per-world arrays, each with its all-True ``_key`` mask."""
        info: dict[str, Any] = {"is_success": success, "level": self._worlds.levels.copy()}
        for k, name in enumerate(REWARD_TERMS):
            info[name] = terms[:, k].copy()
        for key in list(info):
            info[f"_{key}"] = self._all.copy()
        return info
