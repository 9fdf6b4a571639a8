"""Stable-Baselines3's ``VecEnv`` API over Portia's batched vector env.

SB3 resets a finished env within the step that ended it and hands back the last
observation in ``info["terminal_observation"]``: Gymnasium's same-step autoreset, which the
batched vector env offers. ``Sb3VecEnv`` turns its batched step into SB3's four values
(``dones``, and one info dict per world with ``TimeLimit.truncated``), so SB3's algorithms
train on every world's physics stepped in native threads::

    from stable_baselines3 import SAC
    from baselines.sb3_vec_env import make_sb3_vec_env

    envs = make_sb3_vec_env("Portia/ArmReach-v0", num_envs=8)
    SAC("MultiInputPolicy", envs).learn(10_000)

Each world's steps equal those of SB3's own ``DummyVecEnv`` over ``gymnasium.make`` of the
same id and seeds, bit for bit (tested). ``get_attr``, ``set_attr`` and ``env_method``
reach the worlds (the single envs, unwrapped).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from numpy.typing import NDArray
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices

from portia_envs.envs.vector import world_info
from portia_envs.errors import InvalidParameterError


def make_sb3_vec_env(env_id: str, num_envs: int, **kwargs: Any) -> Sb3VecEnv:
    """Build ``num_envs`` worlds of ``env_id`` as one SB3 ``VecEnv``.

    Args:
        env_id: A Portia MuJoCo id, e.g. ``"Portia/ArmReach-v0"``.
        num_envs: Number of worlds.
        **kwargs: The vector env's arguments (``nthread``, ``max_episode_steps``) and the
            single env's (``suite``, ``split``, ...).
    """
    envs = gymnasium.make_vec(
        env_id,
        num_envs=num_envs,
        vectorization_mode="vector_entry_point",
        autoreset_mode=AutoresetMode.SAME_STEP,
        **kwargs,
    )
    return Sb3VecEnv(envs)


class Sb3VecEnv(VecEnv):
    """SB3's ``VecEnv`` over a Gymnasium vector env with same-step autoreset.

    Args:
        envs: The vector env, its ``metadata["autoreset_mode"]`` ``AutoresetMode.SAME_STEP``
            (``make_sb3_vec_env`` builds one).

    Raises:
        InvalidParameterError: If ``envs`` is not a vector env with same-step autoreset.
    """

    def __init__(self, envs: VectorEnv) -> None:
        if not isinstance(envs, VectorEnv):
            raise InvalidParameterError(
                f"Sb3VecEnv takes a Gymnasium vector env, got {type(envs).__name__}: build one "
                f"with make_sb3_vec_env(env_id, num_envs)"
            )
        mode = envs.metadata.get("autoreset_mode")
        if mode != AutoresetMode.SAME_STEP:
            raise InvalidParameterError(
                f"Sb3VecEnv needs same-step autoreset, as SB3 resets within the step that ends "
                f"an episode; this vector env's is {mode}: make it with "
                f"autoreset_mode=AutoresetMode.SAME_STEP (make_sb3_vec_env does)"
            )
        self.envs = envs
        self._worlds = getattr(envs.unwrapped, "worlds", None)
        self._actions: NDArray | None = None
        super().__init__(envs.num_envs, envs.single_observation_space, envs.single_action_space)

    def reset(self) -> dict[str, NDArray]:
        """Reset every world with the seeds and options ``seed``/``set_options`` set."""
        seeds = None if all(s is None for s in self._seeds) else list(self._seeds)
        options = self._options[0] if self._options else {}
        if any(option != options for option in self._options):
            raise InvalidParameterError(
                "the batched vector env gives every world the same reset options; got "
                f"different ones per world: {self._options}"
            )
        observations, info = self.envs.reset(seed=seeds, options=options or None)
        self.reset_infos = [world_info(info, i) for i in range(self.num_envs)]
        self._reset_seeds()
        self._reset_options()
        return observations

    def step_async(self, actions: NDArray) -> None:
        """Keep the actions for ``step_wait``."""
        self._actions = actions

    def step_wait(self) -> tuple[dict[str, NDArray], NDArray, NDArray, list[dict[str, Any]]]:
        """Step every world; a finished one resets at once (SB3's convention).

        Returns:
            ``(observations, rewards, dones, infos)``: a finished world's observation is its
            next episode's first; its info is the step's, with ``terminal_observation`` and
            ``TimeLimit.truncated`` (truncated and not terminated), as SB3's own vector envs
            give (every world's info has ``TimeLimit.truncated``); its reset's info is in
            ``reset_infos``.
        """
        observations, rewards, terminated, truncated, info = self.envs.step(self._actions)
        dones = terminated | truncated
        infos = [world_info(info, i) for i in range(self.num_envs)]
        for i in np.flatnonzero(dones):
            infos[i] = world_info(info["final_info"], i)
            infos[i]["terminal_observation"] = info["final_obs"][i]
            self.reset_infos[i] = world_info(info, i)
        for i, world in enumerate(infos):
            world["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
        return observations, rewards.astype(np.float32), dones, infos

    def close(self) -> None:
        """Close the vector env (its threads and worlds)."""
        self.envs.close()

    def get_images(self) -> Sequence[NDArray | None]:
        """Return the vector env's frame (world 0, or the grid) as SB3's one image."""
        return [self.envs.render()]

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """Return ``attr_name`` of each world in ``indices`` (``render_mode``: the vector env's)."""
        if attr_name == "render_mode":
            return [self.envs.render_mode for _ in self._get_indices(indices)]
        return [getattr(self._world(i), attr_name) for i in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set ``attr_name`` of each world in ``indices``."""
        for i in self._get_indices(indices):
            setattr(self._world(i), attr_name, value)

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **kwargs: Any
    ) -> list[Any]:
        """Call ``method_name`` of each world in ``indices``; return the results."""
        return [
            getattr(self._world(i), method_name)(*method_args, **kwargs)
            for i in self._get_indices(indices)
        ]

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        """Return False for each world: the worlds are single envs, unwrapped."""
        return [False for _ in self._get_indices(indices)]

    def _world(self, i: int) -> gymnasium.Env:
        """Return world ``i``'s single env."""
        if self._worlds is None:
            raise InvalidParameterError(
                f"{type(self.envs.unwrapped).__name__} does not expose its worlds; get_attr, "
                f"set_attr and env_method need Portia's batched vector env"
            )
        return self._worlds[i]
