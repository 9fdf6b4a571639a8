"""An arm on the tabletop, with reach, push, pick-and-place, slide, stack and drawer tasks.

The body is data: the six-joint arm (``body="arm"``) or a four-hinge arm
(``"arm4"``, ``"arm4_long"``), which does the families that need no turn of the hand.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from portia_envs.embodiments import arm
from portia_envs.embodiments.arm_bodies import arm_body, arm_embodiment
from portia_envs.envs.base import PortiaEnv
from portia_envs.envs.core import EnvCore
from portia_envs.errors import (
    InvalidParameterError,
    InvalidStateError,
    UnknownTaskError,
)
from portia_envs.scenes.tabletop import CAMERAS
from portia_envs.sim.compose import arm_tabletop_spec, fingerprint
from portia_envs.suites import Suite, TaskSpec, get_suite
from portia_envs.tasks import ARM_TASK_NAMES, ARM_TASKS, arm_task_index
from portia_envs.tasks.base import Scores, goal_distance
from portia_envs.tasks.objects import OBJECT_PARAMS, ObjectWriter, default_objects
from portia_envs.tasks.observation import PARTS, Layout, observation_layout
from wrappers.embodiment import Embodiment

N_SUBSTEPS = 20
GRIP_POS = PARTS["grip_pos"]
START_JOINT_NOISE_RAD = 0.05
# The task part of the state: task index, goal xyz, object parameters.
TASK_STATE_SIZE = 4 + len(OBJECT_PARAMS)
OPTION_KEYS = ("task",)
# Without a suite, the env draws from every family over its default ranges.
DEFAULT_CHOICES = tuple(TaskSpec(f"arm-{name}", name) for name in ARM_TASK_NAMES)


class ArmEnv(PortiaEnv):
    """An arm with a parallel gripper at a table with two blocks and a drawer.

    The body (``body``) is the six-joint arm (``"arm"``, the default), or a four-hinge arm:
    ``"arm4"`` (base yaw and three pitch hinges, no roll; upper arm 0.38 m, forearm 0.34 m,
    a short hand) or ``"arm4_long"`` (upper arm and forearm 15% longer), which do ``reach``
    and ``push`` only (``embodiments.arm4``). ``embodiment`` describes the body's every
    action and proprioception dimension.

    Every reset draws a task instance: the task (uniformly unless fixed: one of the
    body's families, or one of a suite split's tasks), then its parameters from the task's
    ranges (goal, start poses, the objects' sizes, masses, frictions and colours, where the
    cabinet stands), all from ``np_random``. Objects a task does not use wait out of the way.
    Without a suite the ranges are each family's defaults (``tasks``), which include the
    suites' held-out bands: the single-family ids (``Portia/ArmReach-v0``, ...) are not a
    suite's train split; ``suite=..., split="train"`` is.

    **Action** ``Box(-1, 1, (7,), float32)`` for ``"arm"``: dimensions 0-5 are joint
    position targets for base_yaw, shoulder_pitch, elbow_pitch, forearm_roll, wrist_pitch
    and wrist_roll, scaled so that -1 and +1 are the ends of each joint's range (rad, see
    ``embodiments.arm.ARM_JOINT_RANGES``); dimension 6 is the gripper, -1 fully open
    (fingers 8 cm apart) to +1 fully closed. ``Box(-1, 1, (5,), float32)`` for the arm4
    bodies: dimensions 0-3 for base_yaw, shoulder_pitch, elbow_pitch and wrist_pitch
    (``embodiments.arm4.ARM4_JOINT_RANGES``), dimension 4 the gripper. Stiff, critically
    damped position servos with torque limits track the targets. Values outside [-1, 1] are
    clipped; a wrong shape, NaN or infinity raises ``InvalidActionError``. The map from
    action to MuJoCo controls is affine and held for the whole control period.

    **Observation** ``Dict``:

    - ``observation`` (55,) float64 for ``"arm"``, (51,) for the arm4 bodies
      (``tasks.observation.observation_layout``): the body's parts, joint_pos (6, rad; 4
      for arm4), joint_vel (6, rad/s; 4 for arm4), finger_pos (2, m, 0 closed to 0.04
      open), finger_vel (2, m/s), grip_pos (3, m, world frame), grip_vel (3, m/s); then the
      scene's, block_pos (3, m), block_quat (4, w x y z), block_vel (3, m/s), block_angvel
      (3, rad/s), support_pos (3, m), support_quat (4), handle_pos (3, m), drawer_pos (1, m
      open), drawer_vel (1, m/s), block_rel_pos (3, m, block minus grip), handle_rel_pos (3,
      m, handle minus grip), block_size and support_size (1 each, half-size in m).
    - ``achieved_goal`` (3,) float64, m: the grip site for ``reach``, the drawer's handle
      for ``drawer``, the block otherwise.
    - ``desired_goal`` (3,) float64, m: the goal's centre (for ``stack``, the spot on top
      of the support block, wherever it is now).
    - ``task`` (6,) float64: one-hot family, in the order reach, push, pick_place, slide,
      stack, drawer (for every body).

    Readings come from MuJoCo sensors evaluated in the last physics substep.

    **Reward** = ``reward_distance`` + ``reward_approach`` (both in ``info``):
    ``reward_distance`` is minus the distance (m) from achieved to desired goal;
    ``reward_approach`` is minus 0.5 times the distance (m) from the grip to the block (to
    the handle for ``drawer``; 0 for reach). ``compute_reward`` recomputes it from goals
    and ``info``.

    **Start**: the arm near its home pose (each joint within ±0.05 rad), gripper open; the
    arm4 bodies' home holds the grip site at ``embodiments.arm4.HOME_GRIP_POS_M``, pointing
    down. Each family's parameter ranges are in its class (``portia_envs.tasks``) and in
    the README, the same for every body; ``portia tasks SUITE`` prints a suite's.

    **Info**: ``is_success``, ``task_id``, ``instruction``, ``reward_distance`` and
    ``reward_approach``; the reset's info also has ``task_parameters``, the value drawn for
    each of the task's parameters (``{name: value}``, e.g. ``block_mass``). Without a
    suite the task ids are ``<body>-<family>``, e.g. ``arm-push``, ``arm4-reach``.

    **Episode end**: ``terminated`` when the centre of a block the task moves leaves the
    table top, past an edge or below it; ``truncated`` by the registered time limit. Success
    (``info["is_success"]``) is the achieved goal within ``goal_radius_m`` of the desired
    goal (within 2 cm for ``stack`` and ``drawer``).

    ``dt`` = 0.04 s: 20 physics steps of 2 ms per control period.

    Args:
        task: Fix the task: a family (``"reach"``, ``"push"``, ``"pick_place"``,
            ``"slide"``, ``"stack"`` or ``"drawer"``; ``"reach"`` or ``"push"`` for the arm4
            bodies), or with a suite one of its task ids; None draws one per reset.
            ``reset(options={"task": name})`` fixes it for one episode.
        suite: Draw tasks from this suite (``portia_envs.suites``; ``portia suites`` lists
            them) instead of every family over its default ranges. Its tasks must be for
            ``body`` (``TaskSpec.embodiment``).
        split: The suite's ``"train"`` or ``"heldout"`` tasks; a train env never draws a
            held-out task.
        goal_radius_m: Success radius around the goal, m (``stack`` and ``drawer`` have
            their own, 2 cm).
        body: ``"arm"``, ``"arm4"`` or ``"arm4_long"``.
        render_mode: None, ``"human"`` (a window) or ``"rgb_array"``.
        camera: ``"overview"`` (front right, the default) or ``"top"``.
        width: Rendered frame width, pixels.
        height: Rendered frame height, pixels.

    Raises:
        InvalidParameterError: On an unknown body (with a "did you mean"), or a suite whose
            tasks are for another body.
        UnknownTaskError: On a task the body does not do; the message lists those it does.
    """

    GOAL_FREE_TERM = "reward_approach"

    def __init__(
        self,
        *,
        task: str | None = None,
        suite: str | None = None,
        split: str = "train",
        goal_radius_m: float = 0.05,
        body: str = "arm",
        render_mode: str | None = None,
        camera: str = "overview",
        width: int = 480,
        height: int = 480,
    ) -> None:
        if goal_radius_m <= 0:
            raise InvalidParameterError(f"goal_radius_m must be > 0 (metres), got {goal_radius_m}")
        self.goal_radius_m = goal_radius_m
        self.body = body
        self._body = arm_body(body)
        self._layout: Layout = observation_layout(len(self._body.joints))
        self.suite = None if suite is None else get_suite(suite)
        self.split = split
        if self.suite is None and body == "arm":
            self._choices = DEFAULT_CHOICES
        elif self.suite is None:
            families = self._body.families
            self._choices = tuple(TaskSpec(f"{body}-{name}", name) for name in families)
        else:
            self._choices = self._suite_choices(self.suite, split, body)
        self._fixed_choice = None if task is None else self._choice_index(task)

        super().__init__(
            EnvCore(
                arm_tabletop_spec(goal_radius_m, body),
                n_substeps=N_SUBSTEPS,
                render_mode=render_mode,
                camera=camera,
                cameras=CAMERAS,
                width=width,
                height=height,
            )
        )
        model = self.sim.model
        slices = self._layout.slices
        assert model.nsensordata == self._layout.n_sensor_readings
        for part in ("grip_pos", "block_pos", "support_pos", "handle_pos", "drawer_vel"):
            assert model.sensor_adr[model.sensor(part).id] == slices[part].start
        self._objects = ObjectWriter(model)
        joints = self._body.joints
        self.ctrl_matrix, self.ctrl_offset = self._body.ctrl_map(model)
        self._arm_qpos = np.array([model.joint(j).qposadr[0] for j in joints])
        self._finger_qpos = np.array([model.joint(j).qposadr[0] for j in arm.FINGER_JOINTS])
        self._block_qpos = model.joint("block").qposadr[0]
        self._support_qpos = model.joint("support").qposadr[0]
        self._drawer_qpos = model.joint("drawer").qposadr[0]
        self._joint_low, self._joint_high = np.array(self._body.joint_ranges).T
        self._arm_actuators = np.array([model.actuator(j).id for j in joints])
        self._finger_actuators = np.array([model.actuator(j).id for j in arm.FINGER_JOINTS])
        self._goal_site = model.site("goal").id
        self._embodiment = arm_embodiment(self._body, model)

        self.action_space = spaces.Box(-1.0, 1.0, (self._body.action_size,), np.float32)
        bound = self._layout.bound
        vector = spaces.Box(-bound, bound, dtype=np.float64)
        point = spaces.Box(-10.0, 10.0, (3,), np.float64)
        self.observation_space = spaces.Dict(
            {
                "observation": vector,
                "achieved_goal": point,
                "desired_goal": point,
                "task": spaces.Box(0.0, 1.0, (len(ARM_TASKS),), np.float64),
            }
        )
        first = 0 if self._fixed_choice is None else self._fixed_choice
        self._set_task(first, np.zeros(3), default_objects())
        self._instruction = ""

    @property
    def embodiment(self) -> Embodiment:
        """The body's description: its joints and every action and proprioception dimension.

        Proprioception is the body's part of ``observation["observation"]`` (joint
        positions and velocities, finger positions and velocities, the grip site's position
        and velocity), at ``proprio_indices``; link lengths are measured in the compiled
        model at the zero configuration.
        """
        return self._embodiment

    @property
    def task_name(self) -> str:
        """The current episode's task family."""
        return self._family.name

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, NDArray], dict[str, Any]]:
        """Start an episode with a fresh task instance; see the class docstring."""
        super().reset(seed=seed)
        options = options or {}
        unknown = set(options) - set(OPTION_KEYS)
        if unknown:
            raise InvalidParameterError(
                f"unknown reset options {sorted(unknown)}; accepted: {', '.join(OPTION_KEYS)}"
            )
        if options.get("task") is not None:
            choice = self._choice_index(options["task"])
        elif self._fixed_choice is not None:
            choice = self._fixed_choice
        else:
            choice = int(self.np_random.integers(len(self._choices)))
        spec = self._choices[choice]
        family = ARM_TASKS[arm_task_index(spec.family)]
        sample = family.sample(self.np_random, spec.ranges)

        model = self.sim.model
        qpos = np.zeros(model.nq)
        noise = self.np_random.uniform(-1.0, 1.0, len(self._arm_qpos)) * START_JOINT_NOISE_RAD
        qpos[self._arm_qpos] = np.asarray(self._body.home_qpos) + noise
        qpos[self._finger_qpos] = arm.FINGER_OPEN_M
        for address, pose in (
            (self._block_qpos, sample.block_pose),
            (self._support_qpos, sample.support_pose),
        ):
            qpos[address : address + 3] = pose[:3]
            qpos[address + 3 : address + 7] = [np.cos(pose[3] / 2), 0, 0, np.sin(pose[3] / 2)]
        qpos[self._drawer_qpos] = sample.drawer_opening
        # The objects first: the model's constants must be set before the state is.
        self._set_task(choice, sample.goal, sample.objects)
        ctrl = np.empty(model.nu)
        ctrl[self._arm_actuators] = qpos[self._arm_qpos]
        ctrl[self._finger_actuators] = arm.FINGER_OPEN_M
        self.sim.reset(qpos, ctrl)
        return self._start(family.parameters(sample))

    def hold_action(self) -> NDArray[np.float32]:
        """Return the action that holds the arm and gripper where they are now.

        Shape ``(7,)`` for ``"arm"``, ``(5,)`` for the arm4 bodies. It is the action in
        effect at the start of an episode under ``LatencyBudget``.
        """
        slices = self._layout.slices
        joints = self.sim.data.sensordata[slices["joint_pos"]]
        fingers = self.sim.data.sensordata[slices["finger_pos"]]
        n = len(self._arm_qpos)
        action = np.empty(self._body.action_size, dtype=np.float32)
        action[:n] = (2.0 * joints - self._joint_high - self._joint_low) / (
            self._joint_high - self._joint_low
        )
        action[n] = 1.0 - 2.0 * float(np.mean(fingers)) / arm.FINGER_OPEN_M
        return np.clip(action, -1.0, 1.0)

    @property
    def fingerprint(self) -> str:
        """A hash of the model, task code version and MuJoCo major version (see ``compose``)."""
        return fingerprint(self.core.spec)

    @property
    def task_ids(self) -> tuple[str, ...]:
        """The ids of the tasks this env draws from (a suite split's, or one per family)."""
        return tuple(spec.task_id for spec in self._choices)

    def task_state(self) -> NDArray[np.float64]:
        """Return ``[task index (in task_ids), goal x, y, z, *object parameters]``.

        The object parameters are ``tasks.objects.OBJECT_PARAMS``, in order.
        """
        return np.array([self._choice, *self._goal, *self._object_values])

    def set_task_state(self, task_state: NDArray[np.float64]) -> None:
        """Restore ``[task index (in task_ids), goal x, y, z, *object parameters]``."""
        size = TASK_STATE_SIZE
        if task_state.shape != (size,):
            raise InvalidStateError(
                f"the task part of an Arm state has {size} values (task index, goal xyz, "
                f"{', '.join(OBJECT_PARAMS)}), got {task_state.shape[0]}"
            )
        if not np.isfinite(task_state).all():
            raise InvalidStateError("the task part of the state contains NaN or infinite values")
        index = task_state[0]
        if index != int(index) or not 0 <= index < len(self._choices):
            raise InvalidStateError(
                f"task index must be 0..{len(self._choices) - 1} for this env, got {index}"
            )
        self._set_task(int(index), task_state[1:4], task_state[4:])

    def _choice_index(self, name: str) -> int:
        """Return the index of the task called ``name``: a task id with a suite, else a family.

        Raises:
            UnknownTaskError: If this env has no such task, or its body does not do that
                family; the message lists the known ones.
        """
        if self.suite is not None:
            spec = self.suite.task(name, self.split)
            if spec.task_id not in self.task_ids:
                raise UnknownTaskError(
                    f"task {spec.task_id!r} of suite {self.suite.name!r} is for body "
                    f"{spec.embodiment!r}, and this env's body is {self.body!r}: make it with "
                    f"body={spec.embodiment!r}; this body's {self.split} tasks: "
                    f"{', '.join(self.task_ids)}"
                )
            return self.task_ids.index(spec.task_id)
        arm_task_index(name)
        families = tuple(spec.family for spec in self._choices)
        if name not in families:
            raise UnknownTaskError(
                f"body {self.body!r} does not do task {name!r}; its tasks: {', '.join(families)}"
            )
        return families.index(name)

    @staticmethod
    def _suite_choices(suite: Suite, split: str, body: str) -> tuple[TaskSpec, ...]:
        """Return the tasks of ``suite``'s ``split`` that ``body`` performs.

        Raises:
            InvalidParameterError: If the split has no task for the body.
        """
        tasks = suite.tasks(split)
        mine = tuple(spec for spec in tasks if spec.embodiment == body)
        if not mine:
            bodies = sorted({spec.embodiment for spec in tasks})
            raise InvalidParameterError(
                f"suite {suite.name!r} has no {split} task for body {body!r}; its {split} "
                f"tasks are for {', '.join(bodies)}: make the env with body= one of them"
            )
        return mine

    def _set_task(
        self, choice: int, goal: NDArray[np.float64], objects: NDArray[np.float64]
    ) -> None:
        """Make task ``choice`` current with ``goal`` and ``objects``; move the goal marker."""
        spec = self._choices[choice]
        family = arm_task_index(spec.family)
        self._choice = choice
        self._family = ARM_TASKS[family]
        self._goal = np.array(goal, dtype=np.float64)
        self._object_values = np.array(objects, dtype=np.float64)
        self._objects.apply(self._object_values)
        self._sizes = self._object_values[
            [OBJECT_PARAMS.index("block_size"), OBJECT_PARAMS.index("support_size")]
        ]
        self._radius = self._family.radius(self.goal_radius_m)
        self._instruction = self._family.instruction(self._goal, self._object_values)
        self._task_id = spec.task_id
        self._one_hot = np.eye(len(ARM_TASKS))[family]
        self._achieved = self._layout.slices[f"{self._family.achieved}_pos"]
        self.sim.model.site_pos[self._goal_site] = self._goal
        self.sim.model.site_size[self._goal_site, 0] = self._radius

    def _observe(self, sensors: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
        """Build fresh observation arrays from sensor readings (``(..., 47)`` for the arm)."""
        leading = sensors.shape[:-1]
        layout = self._layout
        parts = layout.slices
        vector = np.empty((*leading, layout.size))
        vector[..., : layout.n_sensor_readings] = sensors
        grip = sensors[..., parts["grip_pos"]]
        vector[..., parts["block_rel_pos"]] = sensors[..., parts["block_pos"]] - grip
        vector[..., parts["handle_rel_pos"]] = sensors[..., parts["handle_pos"]] - grip
        vector[..., parts["block_size"].start] = self._sizes[0]
        vector[..., parts["support_size"].start] = self._sizes[1]
        task = np.empty((*leading, len(ARM_TASKS)))
        task[...] = self._one_hot
        return {
            "observation": vector,
            "achieved_goal": vector[..., self._achieved].copy(),
            "desired_goal": self._family.desired_goals(vector, self._goal, layout.shift),
            "task": task,
        }

    def _score(self, observation: dict[str, NDArray[np.float64]]) -> Scores:
        """Score observations of any leading shape against the goal, as one batch."""
        vectors = observation["observation"].reshape(-1, self._layout.size)
        return self._family.score(vectors, self._goal, self._radius, self._layout.shift)

    def _goal_reward(
        self, achieved_goal: NDArray[np.float64], desired_goal: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """Return minus the distance (m) from achieved to desired goals."""
        return -goal_distance(achieved_goal, desired_goal)
