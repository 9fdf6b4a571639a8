"""The scripted expert agent: one stateless expert per arm task family, picked per step."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import gymnasium
import numpy as np
from numpy.typing import NDArray

from portia_envs.envs.arm import ArmEnv
from portia_envs.errors import InvalidParameterError, InvalidTypeError
from portia_envs.experts.arm4 import ARM4_EXPERTS, Arm4IK
from portia_envs.experts.drawer import drawer_expert
from portia_envs.experts.ik import ArmIK
from portia_envs.experts.pick_place import pick_place_expert
from portia_envs.experts.push import push_expert
from portia_envs.experts.reach import reach_expert
from portia_envs.experts.slide import slide_expert
from portia_envs.experts.stack import stack_expert
from portia_envs.tasks import ARM_TASK_NAMES

Expert = Callable[[Mapping[str, NDArray], ArmIK], NDArray[np.float32]]
# Each arm task family's expert, by family name.
EXPERTS: dict[str, Expert] = {
    "reach": reach_expert,
    "push": push_expert,
    "pick_place": pick_place_expert,
    "slide": slide_expert,
    "stack": stack_expert,
    "drawer": drawer_expert,
}


class ScriptedExpert:
    """Acts in any Portia arm env with the scripted expert of the episode's task family.

    The six-joint arm has an expert for every family; the four-hinge bodies (``arm4``,
    ``arm4_long``) for theirs, reach and push (``experts.arm4``).

    The family is read from each observation's one-hot ``task`` key, and every expert is a
    feedback policy of the observation alone, so the agent is deterministic (the same
    observation gives the same action) and works from any state, mid-episode included.
    Inverse kinematics runs on the agent's own copy of the env's model data; the env is
    only read.

    Args:
        env: A Portia arm env (``ArmEnv``), wrapped or not.

    Raises:
        TypeError: If ``env`` is not an ``ArmEnv`` underneath its wrappers.
    """

    # The harness builds it on the body's own env, also in a suite of several bodies.
    acts_in_native_spaces = True

    def __init__(self, env: gymnasium.Env) -> None:
        base = env.unwrapped
        if not isinstance(base, ArmEnv):
            raise InvalidTypeError(
                f"ScriptedExpert acts in Portia arm envs (ArmEnv, e.g. "
                f"gymnasium.make('Portia/Arm-v0')), got {type(base).__name__}"
            )
        self._ik: ArmIK | Arm4IK
        self._experts: Mapping[str, Callable[[Mapping[str, NDArray], Any], NDArray[np.float32]]]
        if base.body == "arm":
            self._ik, self._experts = ArmIK(base.sim.model), EXPERTS
        else:
            self._ik, self._experts = Arm4IK.for_body(base.body), ARM4_EXPERTS

    def act(self, observation: Mapping[str, NDArray]) -> NDArray[np.float32]:
        """Return the action for one (unbatched) observation.

        Args:
            observation: An ``ArmEnv`` observation dict.

        Returns:
            The action, shape ``(7,)`` (``(5,)`` for a four-hinge body), float32, values in
            [-1, 1].

        Raises:
            ValueError: If ``observation["task"]`` is not a one-hot vector over the families.
        """
        task = np.asarray(observation["task"])
        if task.shape != (len(ARM_TASK_NAMES),) or np.count_nonzero(task) != 1:
            raise InvalidParameterError(
                f"observation['task'] must be one-hot over {', '.join(ARM_TASK_NAMES)} "
                f"(shape ({len(ARM_TASK_NAMES)},)), got {task}"
            )
        return self._experts[ARM_TASK_NAMES[int(np.argmax(task))]](observation, self._ik)

    def reset(self) -> None:
        """Start a new episode; there is nothing to forget, as the experts keep no state."""
