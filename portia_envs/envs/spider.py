"""The eight-legged spider in the arena, with prey (walk to a fly) and detour (around a wall)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from portia_envs.embodiments.spider import (
    ACTION_SIZE,
    LEG_LENGTH_M,
    LEG_MOUNT_RAD,
    LEGS,
    N_SENSOR_READINGS,
    SPIDER_JOINTS,
    action_to_ctrl_map,
    joint_ranges,
    stand_height_m,
    stand_qpos,
)
from portia_envs.envs.base import PortiaEnv
from portia_envs.envs.core import EnvCore
from portia_envs.errors import InvalidParameterError, InvalidStateError
from portia_envs.scenes.arena import (
    CAMERAS,
    PREY_HEIGHT_M,
    WALL_MAX_HALF_LENGTH_M,
    ArenaWriter,
)
from portia_envs.sim.compose import fingerprint, spider_arena_spec
from portia_envs.tasks.spider import (
    SENSOR_ADDRESS,
    SPIDER_OBSERVATION_BOUND,
    SPIDER_OBSERVATION_SIZE,
    SPIDER_PARTS,
    SPIDER_TASK_CODE_VERSION,
    SPIDER_TASKS,
    TASK_STATE_FIELDS,
    SpiderScores,
    SpiderTaskSample,
    ground_distance,
    observe,
    score,
    spider_task_index,
)
from wrappers.embodiment import Dimension, Embodiment, Joint

# 10 physics steps of 4 ms per control period: dt = 0.04 s.
N_SUBSTEPS = 10
START_JOINT_NOISE_RAD = 0.05
TASK_STATE_SIZE = len(TASK_STATE_FIELDS)
# Nominal ranges of the proprioceptive readings, as the embodiment describes them: what
# walking reaches, not hard limits (random actions swing a leg at up to about 25 rad/s).
JOINT_VELOCITY_RANGE_RAD_S = 10.0
TORSO_HEIGHT_RANGE_M = (0.0, 0.3)
TORSO_SPEED_RANGE_M_S = 2.0
TORSO_ANGVEL_RANGE_RAD_S = 10.0
# Bounds of the goals' space, m: the same as the observation's positions.
GOAL_BOUND_M = 100.0


class SpiderEnv(PortiaEnv):
    """An eight-legged spider on a flat floor walks to a fly, around a wall if one is in the way.

    Every reset draws a task instance of the family (``task``) from ``np_random``: the
    spider's start heading, the fly's bearing and distance and, for ``detour``, a wall
    across the straight line to the fly (``tasks.spider`` names every range). The fly
    stays where it is and is never touched: the spider's fangs must reach it.

    **Action** ``Box(-1, 1, (16,), float32)``: position targets of the 16 leg hinges,
    leg by leg (L1 to L4, then R1 to R4; ``embodiments.spider.SPIDER_JOINTS``), yaw then
    lift, scaled so that -1 and +1 are the ends of each hinge's range: yaw -0.6 to 0.6 rad
    (positive swings the leg towards the head), lift -0.5 to 0.9 rad (positive raises the
    foot). Position servos with torque limits track the targets. Values outside [-1, 1]
    are clipped; a wrong shape, NaN or infinity raises ``InvalidActionError``. The map
    from action to MuJoCo controls is affine and held for the whole control period.

    **Observation** ``Dict``:

    - ``observation`` (51,) float64 (``tasks.spider.SPIDER_OBSERVATION_LAYOUT``),
      proprioception first: joint_pos (16, rad), joint_vel (16, rad/s), torso_height (1,
      m, world z of the torso's centre), torso_quat (4, w x y z, world frame), torso_vel
      (3, m/s, torso frame), torso_angvel (3, rad/s, torso frame); then what the spider
      sees, in its heading frame (origin at the torso's centre, x along its forward axis
      projected on the ground, y to its left, z up): prey_rel_pos (3, m, the fly minus
      the torso), wall_ends (4, m, x and y of the wall's two ends; zeros without a wall),
      wall_present (1, 1 with a wall, 0 without).
    - ``achieved_goal`` (3,) float64, m: the fangs (front tip of the torso), z set to 0.
    - ``desired_goal`` (3,) float64, m: the fly, z set to 0.

    Readings come from MuJoCo sensors evaluated in the last physics substep.

    **Reward** = ``reward_distance`` + ``reward_upright`` (both in ``info``):
    ``reward_distance`` is minus the ground-plane distance (m) from the fangs to the fly;
    ``reward_upright`` is ``0.1 * (up_z - 1)``, with ``up_z`` the world z of the torso's
    up axis (0 when level, down to -0.2 upside down). ``compute_reward`` recomputes it
    from goals and ``info``.

    **Start**: the spider stands at the origin, heading drawn from ``start_yaw``, each
    hinge within ±0.05 rad of the standing pose. ``prey``: the fly 0.6-1.5 m away at any
    bearing. ``detour``: a wall 0.6-1.0 m long stands 0.45-0.6 m away across the straight
    line to the fly, which sits 0.4-0.7 m behind it; the line crosses the wall up to
    0.15 m from its middle, so walking straight runs into it.

    **Info**: ``is_success``, ``task_id`` (``spider-prey`` or ``spider-detour``),
    ``instruction`` (e.g. "walk to the fly on your left, about 1.2 m away"),
    ``reward_distance`` and ``reward_upright``; the reset's info also has
    ``task_parameters``, the value drawn for each of the family's parameters.

    **Episode end**: ``terminated`` when the spider has flipped over (``up_z`` below 0.2,
    tilted by more than about 78 degrees); ``truncated`` by the registered time limit.
    Success (``info["is_success"]``) is the fangs within ``success_radius_m`` of the fly in
    the ground plane; it does not end the episode.

    ``dt`` = 0.04 s: 10 physics steps of 4 ms per control period.

    Args:
        task: The task family, ``"prey"`` or ``"detour"``.
        success_radius_m: Success radius around the fly, m (ground plane).
        render_mode: None, ``"human"`` (a window) or ``"rgb_array"``.
        camera: ``"overview"`` (fixed, seeing the whole play area, the default) or
            ``"top"`` (straight down).
        width: Rendered frame width, pixels.
        height: Rendered frame height, pixels.
    """

    GOAL_FREE_TERM = "reward_upright"

    def __init__(
        self,
        *,
        task: str = "prey",
        success_radius_m: float = 0.12,
        render_mode: str | None = None,
        camera: str = "overview",
        width: int = 480,
        height: int = 480,
    ) -> None:
        if not success_radius_m > 0:
            raise InvalidParameterError(
                f"success_radius_m must be > 0 (metres), got {success_radius_m}"
            )
        self._family_index = spider_task_index(task)
        self._family = SPIDER_TASKS[self._family_index]
        self._task_id = f"spider-{self._family.name}"
        self.success_radius_m = float(success_radius_m)
        super().__init__(
            EnvCore(
                spider_arena_spec(self.success_radius_m),
                n_substeps=N_SUBSTEPS,
                render_mode=render_mode,
                camera=camera,
                cameras=CAMERAS,
                width=width,
                height=height,
            )
        )
        model = self.sim.model
        assert model.nsensordata == N_SENSOR_READINGS
        for name, address in SENSOR_ADDRESS.items():
            assert model.sensor_adr[model.sensor(name).id] == address
        self._arena = ArenaWriter(model)
        self.ctrl_matrix, self.ctrl_offset = action_to_ctrl_map(model)
        self._joint_qpos = np.array([model.joint(j).qposadr[0] for j in SPIDER_JOINTS])
        self._actuators = np.array([model.actuator(j).id for j in SPIDER_JOINTS])
        self._torso_qpos = model.joint("torso").qposadr[0]
        self._joint_low, self._joint_high = joint_ranges().T

        self.action_space = spaces.Box(-1.0, 1.0, (ACTION_SIZE,), np.float32)
        point = spaces.Box(-GOAL_BOUND_M, GOAL_BOUND_M, (3,), np.float64)
        self.observation_space = spaces.Dict(
            {
                "observation": spaces.Box(
                    -SPIDER_OBSERVATION_BOUND, SPIDER_OBSERVATION_BOUND, dtype=np.float64
                ),
                "achieved_goal": point,
                "desired_goal": point,
            }
        )
        self._embodiment = _spider_embodiment()
        first, _ = self._family.sample(np.random.default_rng(0))
        self._set_task(first)

    @property
    def task_name(self) -> str:
        """The task family: ``"prey"`` or ``"detour"``."""
        return self._family.name

    @property
    def task_id(self) -> str:
        """The task's id, ``spider-<family>``."""
        return self._task_id

    @property
    def embodiment(self) -> Embodiment:
        """The spider's description: its 16 hinges, actions and proprioception, all named."""
        return self._embodiment

    @property
    def fingerprint(self) -> str:
        """A hash of the model, the task code version and MuJoCo's major version."""
        return fingerprint(self.core.spec, SPIDER_TASK_CODE_VERSION)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, NDArray], dict[str, Any]]:
        """Start an episode with a fresh task instance; see the class docstring.

        Raises:
            ValueError: If ``options`` is given any key (none is accepted).
        """
        super().reset(seed=seed)
        if options:
            raise InvalidParameterError(
                f"unknown reset options {sorted(options)}; SpiderEnv accepts none"
            )
        sample, parameters = self._family.sample(self.np_random)
        model = self.sim.model
        qpos = np.zeros(model.nq)
        yaw = sample.start_yaw
        torso = self._torso_qpos
        qpos[torso : torso + 3] = 0.0, 0.0, stand_height_m()
        qpos[torso + 3 : torso + 7] = math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)
        noise = self.np_random.uniform(-1.0, 1.0, ACTION_SIZE) * START_JOINT_NOISE_RAD
        qpos[self._joint_qpos] = stand_qpos() + noise
        # The task first: the model's constants must be set before the state is.
        self._set_task(sample)
        ctrl = np.empty(model.nu)
        ctrl[self._actuators] = qpos[self._joint_qpos]
        self.sim.reset(qpos, ctrl)
        return self._start(parameters)

    def hold_action(self) -> NDArray[np.float32]:
        """Return the action of the servo targets in effect now, shape ``(16,)``.

        The spider keeps the posture its servos hold (at reset: its start pose). Targets,
        not joint readings: the legs give a little under the body's weight, and re-aiming
        the servos at where they sag would lower the spider step by step. It is the action
        in effect at the start of an episode under ``LatencyBudget``.
        """
        targets = self.sim.data.ctrl[self._actuators]
        action = (2.0 * targets - self._joint_high - self._joint_low) / (
            self._joint_high - self._joint_low
        )
        return np.clip(action, -1.0, 1.0).astype(np.float32)

    def task_state(self) -> NDArray[np.float64]:
        """Return the task's parameters (``tasks.spider.TASK_STATE_FIELDS``, in order)."""
        return self._sample.vector

    def set_task_state(self, task_state: NDArray[np.float64]) -> None:
        """Restore the task's parameters (``tasks.spider.TASK_STATE_FIELDS``, in order)."""
        if task_state.shape != (TASK_STATE_SIZE,):
            raise InvalidStateError(
                f"the task part of a Spider state has {TASK_STATE_SIZE} values "
                f"({', '.join(TASK_STATE_FIELDS)}), got {task_state.shape[0]}"
            )
        if not np.isfinite(task_state).all():
            raise InvalidStateError("the task part of the state contains NaN or infinite values")
        if task_state[0] != self._family_index:
            raise InvalidStateError(
                f"the state is of task family {task_state[0]:g}, but this env's family is "
                f"{self._family.name!r} ({self._family_index}): restore it in an env of its task"
            )
        if task_state[4] not in (0.0, 1.0) or (
            task_state[4] == 1.0 and not 0.0 < task_state[8] <= WALL_MAX_HALF_LENGTH_M
        ):
            raise InvalidStateError(
                f"wall_present must be 0 or 1 and a wall's half-length in "
                f"(0, {WALL_MAX_HALF_LENGTH_M}] m, got {task_state[4]:g} and {task_state[8]:g}"
            )
        self._set_task(SpiderTaskSample.from_vector(task_state))

    def _set_task(self, sample: SpiderTaskSample) -> None:
        """Make ``sample`` the current task instance; place the fly and the wall."""
        self._sample = sample
        self._prey = np.array([*sample.prey_xy, PREY_HEIGHT_M])
        self._arena.place_prey(sample.prey_xy)
        if sample.wall is None:
            self._arena.park_wall()
        else:
            x, y, yaw, half = sample.wall
            self._arena.place_wall(np.array([x, y]), float(yaw), float(half))
        self._wall = np.array([*sample.wall_ends, float(sample.wall is not None)])
        self._instruction = self._family.instruction(sample)

    def _observe(self, sensors: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
        """Build fresh observation arrays from sensor readings of shape ``(..., 48)``."""
        vector, achieved, desired = observe(sensors, self._prey, self._wall)
        return {"observation": vector, "achieved_goal": achieved, "desired_goal": desired}

    def _score(self, observation: dict[str, NDArray[np.float64]]) -> SpiderScores:
        """Score observations of any leading shape, as one batch."""
        return score(
            observation["observation"].reshape(-1, SPIDER_OBSERVATION_SIZE),
            observation["achieved_goal"].reshape(-1, 3),
            self._prey,
            self.success_radius_m,
        )

    def _goal_reward(
        self, achieved_goal: NDArray[np.float64], desired_goal: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """Return minus the ground-plane distance (m) from achieved to desired goals."""
        return -ground_distance(achieved_goal, desired_goal)


def _spider_embodiment() -> Embodiment:
    """Return the spider's description: hinges, actions, and where proprioception sits."""
    ranges = joint_ranges()
    joints = []
    for index, name in enumerate(SPIDER_JOINTS):
        leg = LEGS.index(name.split("_")[1])
        mount = LEG_MOUNT_RAD[leg]
        if name.endswith("_yaw"):
            # About the torso's z axis, the sign making positive a swing towards the head.
            axis = (0.0, 0.0, -1.0) if name.startswith("leg_L") else (0.0, 0.0, 1.0)
            parent = None
        else:
            # About -y of the hip frame, which is the torso's frame turned by the mount.
            axis = (math.sin(mount), -math.cos(mount), 0.0)
            parent = index - 1
        low, high = ranges[index]
        joints.append(Joint(name, "hinge", float(low), float(high), axis, LEG_LENGTH_M, parent))
    actions = tuple(
        Dimension(name, "joint_position_target", "rad", "joint", float(low), float(high), i)
        for i, (name, (low, high)) in enumerate(zip(SPIDER_JOINTS, ranges, strict=True))
    )
    v = JOINT_VELOCITY_RANGE_RAD_S
    proprio = [
        Dimension(f"{name}_pos", "joint_position", "rad", "joint", float(low), float(high), i)
        for i, (name, (low, high)) in enumerate(zip(SPIDER_JOINTS, ranges, strict=True))
    ]
    proprio += [
        Dimension(f"{name}_vel", "joint_velocity", "rad/s", "joint", -v, v, i)
        for i, name in enumerate(SPIDER_JOINTS)
    ]
    proprio.append(Dimension("torso_height", "position", "m", "world", *TORSO_HEIGHT_RANGE_M))
    proprio += [
        Dimension(f"torso_quat_{c}", "orientation", "1", "world", -1.0, 1.0) for c in "wxyz"
    ]
    speed, spin = TORSO_SPEED_RANGE_M_S, TORSO_ANGVEL_RANGE_RAD_S
    proprio += [
        Dimension(f"torso_vel_{c}", "linear_velocity", "m/s", "torso", -speed, speed) for c in "xyz"
    ]
    proprio += [
        Dimension(f"torso_angvel_{c}", "angular_velocity", "rad/s", "torso", -spin, spin)
        for c in "xyz"
    ]
    indices = tuple(range(SPIDER_PARTS["joint_pos"].start, SPIDER_PARTS["torso_angvel"].stop))
    return Embodiment("spider", tuple(joints), actions, tuple(proprio), "observation", indices)
