"""Many arm worlds' observations and scores in one pass, for the vector env."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from portia_envs.envs.arm import ArmEnv
from portia_envs.tasks import ARM_TASKS
from portia_envs.tasks.base import Scores, TaskRows


class ArmWorlds:
    """The task of each of a vector env's arm worlds as arrays, observed and scored together.

    Row ``i`` mirrors world ``i``'s task (``refresh`` after the world resets). ``observe``
    returns, for each row, what ``ArmEnv.step`` returns for that world alone, to the last
    bit: the same parts copied or subtracted, and the scoring kernel's arithmetic.

    Args:
        worlds: The vector env's single envs, all of one body.
    """

    def __init__(self, worlds: tuple[ArmEnv, ...]) -> None:
        self._layout = worlds[0]._layout
        n = len(worlds)
        self._rows = TaskRows(n, self._layout.shift)
        self._sizes = np.zeros((n, 2))
        self._one_hot = np.zeros((n, len(ARM_TASKS)))
        for i, world in enumerate(worlds):
            self.refresh(i, world)

    def refresh(self, i: int, world: ArmEnv) -> None:
        """Copy world ``i``'s current task into row ``i``."""
        self._rows.set(i, world._family, world._goal, world._radius)
        self._sizes[i] = world._sizes
        self._one_hot[i] = world._one_hot

    def observe(
        self, sensors: NDArray[np.float64]
    ) -> tuple[dict[str, NDArray[np.float64]], Scores]:
        """Return the observations (batched) and scores of sensor readings ``(n, readings)``."""
        layout = self._layout
        parts = layout.slices
        vector = np.empty((sensors.shape[0], layout.size))
        vector[:, : layout.n_sensor_readings] = sensors
        grip = sensors[:, parts["grip_pos"]]
        vector[:, parts["block_rel_pos"]] = sensors[:, parts["block_pos"]] - grip
        vector[:, parts["handle_rel_pos"]] = sensors[:, parts["handle_pos"]] - grip
        vector[:, parts["block_size"].start] = self._sizes[:, 0]
        vector[:, parts["support_size"].start] = self._sizes[:, 1]
        observation = {
            "observation": vector,
            "achieved_goal": self._rows.achieved_goals(vector),
            "desired_goal": self._rows.desired_goals(vector),
            "task": self._one_hot.copy(),
        }
        return observation, self._rows.score(vector)
