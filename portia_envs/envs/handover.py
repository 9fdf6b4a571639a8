"""Two arms at one table, one handing a block to the other: a PettingZoo ``ParallelEnv``.

::

    import portia_envs
    from portia_envs.experts import HandoverExpert

    env = portia_envs.make_parallel("Portia/Handover-v0")  # or handover.parallel_env()
    expert = HandoverExpert(env)
    observations, infos = env.reset(seed=0)
    while env.agents:
        observations, rewards, terminations, truncations, infos = env.step(
            expert.act(observations)
        )
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from numpy.typing import NDArray
from pettingzoo import ParallelEnv

from portia_envs.embodiments.arm import (
    ACTION_SIZE,
    ARM_JOINTS,
    FINGER_JOINTS,
    FINGER_OPEN_M,
    HOME_ARM_QPOS,
    action_to_ctrl_map,
)
from portia_envs.envs.core import EnvCore, EpisodePickle, HoldsCore
from portia_envs.errors import (
    InvalidActionError,
    InvalidParameterError,
    InvalidStateError,
    UnknownAgentError,
)
from portia_envs.rendering import RENDER_MODES
from portia_envs.scenes.handover import (
    GIVER_PREFIX,
    HANDOFF_CENTER,
    HANDOVER_CAMERAS,
    TAKER_PREFIX,
)
from portia_envs.sim.compose import handover_spec
from portia_envs.sim.controls import clip_to_controls
from portia_envs.tasks.handover import (
    HANDOVER_OBSERVATION_BOUND,
    HANDOVER_OBSERVATION_SIZE,
    HANDOVER_PARTS,
    TASK_ID,
    HandoverScores,
    handover_instruction,
    sample_handover,
    score_handover,
)

AGENTS = ("giver", "taker")
PREFIXES = {"giver": GIVER_PREFIX, "taker": TAKER_PREFIX}
N_SUBSTEPS = 20
DEFAULT_MAX_CYCLES = 300
START_JOINT_NOISE_RAD = 0.05
# Sensor readings per arm: joint positions and velocities (6 each), finger positions and
# velocities (2 each), grip position and velocity (3 each); then the block's 13.
ARM_READINGS = 22
BLOCK_READINGS = 13
# The task part of the state: goal x, y, z and the control periods elapsed.
TASK_STATE_SIZE = 4
# How far from the origin a goal may lie on each axis (m): as far as the observation's
# goal_pos part reaches (``tasks.handover.HANDOVER_OBSERVATION_LAYOUT``).
GOAL_BOUND_M = 10.0
# Where the readings go in an observation vector: the arm's first, the block's next.
_ARM_PART = slice(0, ARM_READINGS)
_BLOCK_PART = slice(ARM_READINGS, ARM_READINGS + BLOCK_READINGS)
_GRIP = HANDOVER_PARTS["grip_pos"]
_FINGERS = HANDOVER_PARTS["finger_pos"]


class HandoverEnv(HoldsCore, ParallelEnv, EpisodePickle):
    """Two six-joint arms face each other across a long table; one hands a block to the other.

    The giver stands at the world origin facing +x, the taker 1.1 m away facing -x
    (``scenes.handover``). The block starts on the giver's side, out of the taker's reach;
    the goal floats on the taker's side, out of the giver's reach; the yellow disc half way
    between them is the handoff zone, which both reach. So the giver must bring the block
    to the zone and let go, and the taker must take it from there to the goal.

    **Agents** ``("giver", "taker")``, acting simultaneously each control period.

    **Action** (each agent) ``Box(-1, 1, (7,), float32)``, the arm's native action
    (as ``ArmEnv``): joint position targets for base_yaw, shoulder_pitch, elbow_pitch,
    forearm_roll, wrist_pitch and wrist_roll, -1 and +1 being the ends of each joint's
    range, then the gripper, -1 fully open to +1 fully closed. Values outside [-1, 1] are
    clipped. ``step`` needs an action for every live agent; a wrong shape, NaN or
    infinity, a missing or an unknown agent raises ``InvalidActionError``.

    **Observation** (each agent) ``Box((50,), float64)``, every position in the world
    frame (``tasks.handover.HANDOVER_OBSERVATION_LAYOUT``; ``HANDOVER_PARTS`` gives each
    part's slice): the agent's own arm: joint_pos (6, rad), joint_vel (6, rad/s),
    finger_pos (2, m, 0 closed to 0.04 open), finger_vel (2, m/s), grip_pos (3, m),
    grip_vel (3, m/s); the block: block_pos (3, m), block_quat (4, w x y z), block_vel
    (3, m/s), block_angvel (3, rad/s); goal_pos (3, m); the partner: partner_grip_pos
    (3, m) and partner_opening (1, m, the mean of its two finger positions); handoff_pos
    (3, m, the zone's centre on the table top); block_rel_pos (3, m, block minus own grip);
    role (2, one-hot: giver, taker).

    **Reward**, shared by the team: ``reward_distance`` + ``reward_giver_approach`` +
    ``reward_taker_approach`` (all three in each agent's ``info``): minus the block-to-goal
    distance (m); until the block is handed over (its centre within the zone's radius of
    the zone's centre line x = 0.55 m, or past it), minus 0.5 times the giver's
    grip-to-block distance (m), else 0; once it is, minus 0.5 times the taker's
    grip-to-block distance (m), else 0.

    **Start**: both arms near their home pose (each joint within ±0.05 rad), grippers open;
    the block at rest on the table at x in [0.2, 0.3] m, y in [-0.15, 0.15] m, yaw in
    [-pi/4, pi/4]; the goal at x in [0.85, 0.92] m, y in [-0.15, 0.15] m, z in [0.1, 0.2] m
    (``tasks.handover.HANDOVER_RANGES``), all drawn from the env's seeded generator.

    **Info** (each agent): ``is_success`` (the block's centre within ``goal_radius_m`` of
    the goal's), ``handed_over``, ``task_id`` (``"handover"``), ``instruction`` (one line)
    and the three reward terms; the reset's info also has ``task_parameters``, the value
    drawn for each parameter (``{name: value}``).

    **Episode end**: ``terminations`` when the block's centre leaves the table top (past
    an edge, or below it); ``truncations`` after ``max_cycles`` control periods (300: 12 s).
    Either ends the episode for both agents, and both leave ``agents``.

    ``dt`` = 0.04 s: 20 physics steps of 2 ms per control period. Same seed, same
    actions: bit-identical episodes. ``get_state`` / ``set_state`` save and restore the
    whole episode (physics, goal, periods elapsed) exactly, and a pickled env continues its
    running episode bit-identically. The simulation, its state, rendering and pickling are
    the same component as the single-agent envs' (``envs.core``).

    Args:
        goal_radius_m: Success radius around the goal, m.
        max_cycles: Control periods before truncation (PettingZoo's name for the limit).
        render_mode: None, ``"human"`` (a window) or ``"rgb_array"``.
        camera: ``"overview"`` (from the front, the default) or ``"top"``.
        width: Rendered frame width, pixels.
        height: Rendered frame height, pixels.
    """

    metadata: dict[str, Any] = {
        "name": "portia_handover_v0",
        "render_modes": list(RENDER_MODES),
        "render_fps": 25,
        "is_parallelizable": True,
    }

    def __init__(
        self,
        *,
        goal_radius_m: float = 0.05,
        max_cycles: int = DEFAULT_MAX_CYCLES,
        render_mode: str | None = None,
        camera: str = "overview",
        width: int = 640,
        height: int = 480,
    ) -> None:
        if not goal_radius_m > 0:
            raise InvalidParameterError(f"goal_radius_m must be > 0 (m), got {goal_radius_m}")
        if max_cycles < 1:
            raise InvalidParameterError(f"max_cycles must be >= 1, got {max_cycles}")
        self.goal_radius_m = goal_radius_m
        self.max_cycles = max_cycles
        self.core = EnvCore(
            handover_spec(goal_radius_m),
            n_substeps=N_SUBSTEPS,
            render_mode=render_mode,
            camera=camera,
            cameras=HANDOVER_CAMERAS,
            width=width,
            height=height,
        )
        model = self.sim.model
        self.possible_agents = list(AGENTS)
        self.agents: list[str] = []

        maps = [action_to_ctrl_map(model, prefix=PREFIXES[agent]) for agent in AGENTS]
        self._ctrl_matrix = np.hstack([matrix for matrix, _ in maps])
        self._ctrl_offset = sum(offset for _, offset in maps)
        self._arm_qpos = {
            agent: np.array([model.joint(f"{PREFIXES[agent]}{j}").qposadr[0] for j in ARM_JOINTS])
            for agent in AGENTS
        }
        self._finger_qpos = {
            agent: np.array(
                [model.joint(f"{PREFIXES[agent]}{j}").qposadr[0] for j in FINGER_JOINTS]
            )
            for agent in AGENTS
        }
        self._arm_actuators = {
            agent: np.array([model.actuator(f"{PREFIXES[agent]}{j}").id for j in ARM_JOINTS])
            for agent in AGENTS
        }
        self._finger_actuators = {
            agent: np.array([model.actuator(f"{PREFIXES[agent]}{j}").id for j in FINGER_JOINTS])
            for agent in AGENTS
        }
        self._readings = {
            agent: model.sensor(f"{PREFIXES[agent]}joint_pos_{ARM_JOINTS[0]}").adr[0]
            for agent in AGENTS
        }
        self._block_readings = model.sensor("block_pos").adr[0]
        self._block_qpos = model.joint("block").qposadr[0]
        self._goal_site = model.site("goal").id

        self.action_spaces = {
            agent: spaces.Box(-1.0, 1.0, (ACTION_SIZE,), np.float32) for agent in AGENTS
        }
        self.observation_spaces = {
            agent: spaces.Box(
                -HANDOVER_OBSERVATION_BOUND, HANDOVER_OBSERVATION_BOUND, dtype=np.float64
            )
            for agent in AGENTS
        }
        self._roles = {agent: np.eye(len(AGENTS))[i] for i, agent in enumerate(AGENTS)}
        self._np_random: np.random.Generator | None = None
        self._goal = np.zeros(3)
        self._steps = 0
        self._instruction = ""

    @property
    def np_random(self) -> np.random.Generator:
        """The env's random generator (seeded by ``reset(seed=...)``; unseeded otherwise)."""
        if self._np_random is None:
            self._np_random, _ = seeding.np_random()
        return self._np_random

    @property
    def instruction(self) -> str:
        """The current episode's one-line instruction."""
        return self._instruction

    def observation_space(self, agent: str) -> spaces.Box:
        """Return ``agent``'s observation space (the same object on every call).

        Raises:
            UnknownAgentError: If the env has no such agent.
        """
        return self.observation_spaces[self._known(agent)]

    def action_space(self, agent: str) -> spaces.Box:
        """Return ``agent``'s action space (the same object on every call).

        Raises:
            UnknownAgentError: If the env has no such agent.
        """
        return self.action_spaces[self._known(agent)]

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, NDArray[np.float64]], dict[str, dict[str, Any]]]:
        """Start an episode with a fresh block start and goal; see the class docstring.

        Args:
            seed: Seeds the env's generator; None continues its sequence (or seeds it from
                the operating system on the first reset).
            options: Not read: every instance is drawn from the seeded generator. Accepted
                so that generic multi-agent code (and PettingZoo's API test) can pass any.

        Returns:
            ``(observations, infos)``, each keyed by agent.
        """
        if seed is not None:
            self._np_random, _ = seeding.np_random(seed)
        rng = self.np_random
        sample = sample_handover(rng)
        model = self.sim.model
        qpos = np.zeros(model.nq)
        ctrl = np.zeros(model.nu)
        for agent in AGENTS:
            noise = rng.uniform(-1.0, 1.0, len(ARM_JOINTS)) * START_JOINT_NOISE_RAD
            qpos[self._arm_qpos[agent]] = np.asarray(HOME_ARM_QPOS) + noise
            qpos[self._finger_qpos[agent]] = FINGER_OPEN_M
            ctrl[self._arm_actuators[agent]] = qpos[self._arm_qpos[agent]]
            ctrl[self._finger_actuators[agent]] = FINGER_OPEN_M
        x, y, z, yaw = sample.block_pose
        address = self._block_qpos
        qpos[address : address + 7] = [x, y, z, np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)]
        self._set_task(sample.goal, steps=0)
        self.sim.reset(qpos, ctrl)
        self.agents = list(AGENTS)

        sensors = self.sim.data.sensordata
        infos = self._infos(self._score(sensors))
        for info in infos.values():
            info["task_parameters"] = sample.parameters()
        if self.render_mode == "human":
            self.render()
        return self._observe(sensors), infos

    def step(
        self, actions: Mapping[str, Any]
    ) -> tuple[
        dict[str, NDArray[np.float64]],
        dict[str, float],
        dict[str, bool],
        dict[str, bool],
        dict[str, dict[str, Any]],
    ]:
        """Apply each agent's action for one control period (``dt``); see the class docstring.

        Args:
            actions: One action per live agent, keyed by agent name.

        Returns:
            ``(observations, rewards, terminations, truncations, infos)``, each keyed by
            agent.

        Raises:
            InvalidStateError: If no episode is running (call ``reset`` first).
            InvalidActionError: On a missing or unknown agent, a wrong shape, NaN or infinity.
        """
        if not self.agents:
            raise InvalidStateError("no episode is running: call reset() before step()")
        self.sim.step(self.controls(actions))
        self._steps += 1
        sensors = self.sim.data.sensordata
        scores = self._score(sensors)
        reward = float(scores.reward[0])
        terminated = bool(scores.terminated[0])
        truncated = self._steps >= self.max_cycles
        observations = self._observe(sensors)
        infos = self._infos(scores)
        rewards = dict.fromkeys(AGENTS, reward)
        terminations = dict.fromkeys(AGENTS, terminated)
        truncations = dict.fromkeys(AGENTS, truncated)
        if terminated or truncated:
            self.agents = []
        if self.render_mode == "human":
            self.render()
        return observations, rewards, terminations, truncations, infos

    def controls(self, actions: Mapping[str, Any]) -> NDArray[np.float64]:
        """Check the agents' actions and map them to MuJoCo controls (clipping first).

        Args:
            actions: One action per live agent, keyed by agent name.

        Returns:
            The controls of both arms, shape ``(nu,)``.

        Raises:
            InvalidActionError: On a missing or unknown agent, a wrong shape, a non-numeric
                dtype, NaN or infinity.
        """
        if not isinstance(actions, Mapping):
            raise InvalidActionError(
                f"actions must be a dict of one action per agent ({', '.join(AGENTS)}), "
                f"got {type(actions).__name__}"
            )
        unknown = sorted(str(agent) for agent in set(actions) - set(self.agents))
        missing = [agent for agent in self.agents if agent not in actions]
        if unknown or missing:
            raise InvalidActionError(
                f"actions must have one entry per live agent ({', '.join(self.agents)}); "
                f"unknown: {unknown or 'none'}, missing: {missing or 'none'}"
            )
        stacked = np.empty((1, len(AGENTS) * ACTION_SIZE))
        for i, agent in enumerate(AGENTS):
            try:
                array = np.asarray(actions[agent], dtype=np.float64)
            except (TypeError, ValueError) as error:
                raise InvalidActionError(
                    f"{agent}'s action must be numeric, shape ({ACTION_SIZE},): {error}"
                ) from None
            if array.shape != (ACTION_SIZE,):
                raise InvalidActionError(
                    f"{agent}'s action must have shape ({ACTION_SIZE},) (values in [-1, 1]), "
                    f"got {array.shape}"
                )
            stacked[0, i * ACTION_SIZE : (i + 1) * ACTION_SIZE] = array
        ctrl = np.empty((1, self.sim.model.nu))
        if not clip_to_controls(stacked, self._ctrl_matrix, self._ctrl_offset, ctrl):
            bad = [agent for agent in AGENTS if not np.isfinite(actions[agent]).all()]
            raise InvalidActionError(
                f"{' and '.join(bad)}'s action contains NaN or infinite values; all values "
                "must be finite"
            )
        return ctrl[0]

    def get_state(self) -> NDArray[np.float64]:
        """Return the full state: physics (with sensor readings), goal xyz, periods elapsed.

        ``set_state`` of this vector, on this env or a fresh one with the same arguments,
        continues the episode bit-identically. The random generator is not part of the
        state (it is used at reset only).
        """
        return self.core.get_state(np.array([*self._goal, self._steps], dtype=np.float64))

    def set_state(self, state: NDArray[np.float64]) -> None:
        """Restore a state returned by ``get_state``; both agents are live afterwards.

        Everything is checked before anything changes: the length, the physics as
        ``Simulation.check_state`` checks it, a goal within ``GOAL_BOUND_M`` of the origin
        on each axis, and periods elapsed a whole number from 0 to ``max_cycles``. A refused
        state leaves the env exactly as it was.

        Raises:
            InvalidStateError: Naming the first value not accepted, its index and field.
        """
        self.core.set_state(state, TASK_STATE_SIZE, self._restore_task)

    def _restore_task(self, task: NDArray[np.float64]) -> None:
        """Check ``task`` (goal x, y, z, periods elapsed), make it current, make both agents live.

        Raises:
            InvalidStateError: If ``_check_task`` refuses it; nothing has changed then.
        """
        self._check_task(task)
        self._set_task(task[:3], steps=int(task[3]))
        self.agents = list(AGENTS)

    def _check_task(self, task: NDArray[np.float64]) -> None:
        """Raise unless ``task`` (goal x, y, z, periods elapsed) is one ``set_state`` accepts."""
        first = self.sim.state_size
        for axis, value in enumerate(task[:3]):
            if not abs(value) <= GOAL_BOUND_M:  # also refuses NaN
                raise InvalidStateError(
                    f"state[{first + axis}] (goal {'xyz'[axis]}) is {value:g}; accepted: finite "
                    f"values within ±{GOAL_BOUND_M:g} m. Pass a vector from get_state() of this env"
                )
        steps = task[3]
        if not (0 <= steps <= self.max_cycles and steps == int(steps)):
            raise InvalidStateError(
                f"state[{first + 3}] (periods elapsed) is {steps:g}; accepted: whole numbers "
                f"from 0 to max_cycles ({self.max_cycles}). Pass a vector from get_state() of "
                f"this env"
            )

    @property
    def _episode_running(self) -> bool:
        """Whether an episode is under way (live agents): it pickles along."""
        return bool(self.agents)

    def _known(self, agent: str) -> str:
        """Return ``agent`` if the env has it.

        Raises:
            UnknownAgentError: Otherwise; the message lists the agents.
        """
        if agent not in self.possible_agents:
            raise UnknownAgentError(
                f"unknown agent {agent!r}; this env's agents: {', '.join(self.possible_agents)}"
            )
        return agent

    def _set_task(self, goal: NDArray[np.float64], *, steps: int) -> None:
        """Make ``goal`` current (moving the marker) with ``steps`` periods elapsed."""
        self._goal = np.array(goal, dtype=np.float64)
        self._steps = steps
        self._instruction = handover_instruction(self._goal)
        self.sim.model.site_pos[self._goal_site] = self._goal

    def _arm(self, sensors: NDArray[np.float64], agent: str) -> NDArray[np.float64]:
        """Return ``agent``'s 22 arm readings from the sensor vector."""
        start = self._readings[agent]
        return sensors[start : start + ARM_READINGS]

    def _observe(self, sensors: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
        """Build each agent's fresh observation vector from the sensor readings."""
        block = sensors[self._block_readings : self._block_readings + BLOCK_READINGS]
        observations = {}
        for agent, partner in zip(AGENTS, AGENTS[::-1], strict=True):
            own, other = self._arm(sensors, agent), self._arm(sensors, partner)
            vector = np.empty(HANDOVER_OBSERVATION_SIZE)
            vector[_ARM_PART] = own
            vector[_BLOCK_PART] = block
            vector[HANDOVER_PARTS["goal_pos"]] = self._goal
            vector[HANDOVER_PARTS["partner_grip_pos"]] = other[_GRIP]
            vector[HANDOVER_PARTS["partner_opening"]] = np.mean(other[_FINGERS])
            vector[HANDOVER_PARTS["handoff_pos"]] = HANDOFF_CENTER
            vector[HANDOVER_PARTS["block_rel_pos"]] = block[:3] - own[_GRIP]
            vector[HANDOVER_PARTS["role"]] = self._roles[agent]
            observations[agent] = vector
        return observations

    def _score(self, sensors: NDArray[np.float64]) -> HandoverScores:
        """Score the state whose sensor readings are ``sensors``."""
        block = sensors[None, self._block_readings : self._block_readings + 3]
        giver = self._arm(sensors, "giver")[None, _GRIP]
        taker = self._arm(sensors, "taker")[None, _GRIP]
        return score_handover(block, giver, taker, self._goal, self.goal_radius_m)

    def _infos(self, scores: HandoverScores) -> dict[str, dict[str, Any]]:
        """Return each agent's info (its own dict) for scores of batch 1."""
        info = {
            "is_success": bool(scores.is_success[0]),
            "handed_over": bool(scores.handed_over[0]),
            "task_id": TASK_ID,
            "instruction": self._instruction,
            "reward_distance": float(scores.reward_distance[0]),
            "reward_giver_approach": float(scores.reward_giver_approach[0]),
            "reward_taker_approach": float(scores.reward_taker_approach[0]),
        }
        return {agent: dict(info) for agent in AGENTS}


def parallel_env(**kwargs: Any) -> HandoverEnv:
    """Return a ``HandoverEnv`` (PettingZoo's conventional factory name).

    Args:
        **kwargs: ``HandoverEnv``'s keyword arguments.
    """
    return HandoverEnv(**kwargs)
