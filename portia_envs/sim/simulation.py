"""A compiled MuJoCo model stepped in fixed control periods, with exact state save and restore."""

from __future__ import annotations

import mujoco
import numpy as np
from mujoco import rollout as mj_rollout
from numpy.typing import NDArray

from portia_envs.errors import InvalidParameterError, InvalidStateError

# Everything mj_step reads: time, qpos, qvel, act, ctrl, applied forces, mocap and the solver's
# warm start. Restoring it (and not only qpos/qvel) is what makes a continuation bit-identical.
STATE_SPEC = mujoco.mjtState.mjSTATE_INTEGRATION
ROLLOUT_SPEC = mujoco.mjtState.mjSTATE_FULLPHYSICS
# What a state may hold, beyond being finite: no episode comes near these, so a value past
# them is a vector of something else, or corrupt. Positions of hinge, slide and free joints
# (rad or m), velocities of every degree of freedom (rad/s or m/s), how far the norm of a
# free or ball joint's quaternion (or a mocap body's) may be from 1 (MuJoCo keeps them
# normalized to rounding), and every other value (time, the solver's warm start, controls,
# applied forces, sensor readings; episodes stay below 1e5).
POSITION_BOUND = 1e3
VELOCITY_BOUND = 1e4
QUATERNION_TOLERANCE = 1e-6
VALUE_BOUND = 1e12


class Simulation:
    """One MuJoCo model and its data, advanced one control period at a time.

    A control period is ``n_substeps`` physics steps with the controls held constant, so a
    sequence of per-period controls maps to physics controls by repetition alone and can be
    rolled out natively by ``mujoco.rollout`` with no Python per physics step.

    The state vector is MuJoCo's integration state followed by the sensor readings, so that
    after ``set_state`` the readings (and the observation built from them) are exactly those
    seen when the state was taken. ``set_state`` refuses a vector that cannot be a state of
    this model (``check_state``) before it changes anything.

    Args:
        model: The compiled model. The simulation owns it from now on.
        n_substeps: Physics steps per control period (>= 1).
    """

    def __init__(self, model: mujoco.MjModel, *, n_substeps: int) -> None:
        if n_substeps < 1:
            raise InvalidParameterError(f"n_substeps must be >= 1, got {n_substeps}")
        self.model = model
        self.data = mujoco.MjData(model)
        self.n_substeps = n_substeps
        self.dt = float(model.opt.timestep) * n_substeps
        self.physics_state_size = mujoco.mj_stateSize(model, STATE_SPEC)
        self.state_size = self.physics_state_size + model.nsensordata
        self._layout = StateLayout(model)
        self._rollout_data: list[mujoco.MjData] = []
        self._pools: dict[int, mj_rollout.Rollout] = {}

    def reset(self, qpos: NDArray[np.float64], ctrl: NDArray[np.float64]) -> None:
        """Put the model at rest in configuration ``qpos`` holding controls ``ctrl``.

        Args:
            qpos: Generalized positions, shape ``(nq,)``.
            ctrl: Controls to hold, shape ``(nu,)``.
        """
        mujoco.mj_resetData(self.model, self.data)
        self.data.qpos[:] = qpos
        self.data.ctrl[:] = ctrl
        mujoco.mj_forward(self.model, self.data)

    def step(self, ctrl: NDArray[np.float64]) -> None:
        """Hold ``ctrl`` for one control period (``n_substeps`` calls of ``mj_step``).

        Args:
            ctrl: Controls, shape ``(nu,)``.
        """
        self.data.ctrl[:] = ctrl
        mujoco.mj_step(self.model, self.data, nstep=self.n_substeps)

    def step_switching(
        self, before: NDArray[np.float64], substeps: int, after: NDArray[np.float64]
    ) -> None:
        """Hold ``before`` for ``substeps`` physics steps, then ``after`` for the rest.

        Args:
            before: Controls in effect first, shape ``(nu,)``.
            substeps: Physics steps of ``before``, 0 to ``n_substeps``.
            after: Controls that take over, shape ``(nu,)``.
        """
        if substeps > 0:
            self.data.ctrl[:] = before
            mujoco.mj_step(self.model, self.data, nstep=substeps)
        self.data.ctrl[:] = after
        if substeps < self.n_substeps:
            mujoco.mj_step(self.model, self.data, nstep=self.n_substeps - substeps)

    def get_state(self) -> NDArray[np.float64]:
        """Return the state: integration state then sensor readings, shape ``(state_size,)``."""
        state = np.empty(self.state_size)
        mujoco.mj_getState(self.model, self.data, state[: self.physics_state_size], STATE_SPEC)
        state[self.physics_state_size :] = self.data.sensordata
        return state

    def check_state(self, state: NDArray[np.float64]) -> None:
        """Raise unless ``state`` is one ``set_state`` accepts; change nothing.

        Accepted, checked in this order: shape ``(state_size,)``, every value finite, time
        >= 0, joint positions within ``±POSITION_BOUND``, velocities within
        ``±VELOCITY_BOUND``, every value within ``±VALUE_BOUND``, quaternions of norm 1
        within ``QUATERNION_TOLERANCE``, equality constraints on (1) or off (0).

        Args:
            state: A vector from ``get_state`` of this model.

        Raises:
            InvalidStateError: Naming the first value that is not accepted, its index and
                field (``state[12] (qpos of joint 'shoulder')``).
        """
        state = np.asarray(state, dtype=np.float64)
        if state.shape != (self.state_size,):
            raise InvalidStateError(
                f"state must have shape ({self.state_size},) for this model, got {state.shape}"
            )
        self._layout.check(state)

    def set_state(self, state: NDArray[np.float64]) -> None:
        """Restore a state from ``get_state``; the continuation is bit-identical.

        Args:
            state: A vector from ``get_state`` of this model, shape ``(state_size,)``.

        Raises:
            InvalidStateError: As ``check_state``; the simulation is then left as it was.
        """
        state = np.asarray(state, dtype=np.float64)
        self.check_state(state)
        mujoco.mj_setState(self.model, self.data, state[: self.physics_state_size], STATE_SPEC)
        # Kinematics for rendering. mj_forward leaves the warm start alone: stepping is unchanged.
        mujoco.mj_forward(self.model, self.data)
        self.data.sensordata[:] = state[self.physics_state_size :]

    def rollout(
        self,
        ctrl: NDArray[np.float64],
        state: NDArray[np.float64] | None = None,
        *,
        nthread: int = 1,
    ) -> NDArray[np.float64]:
        """Roll out open-loop controls natively from a state, leaving the simulation untouched.

        Args:
            ctrl: Per-period controls, shape ``(batch, horizon, nu)``.
            state: Start state from ``get_state``, shape ``(state_size,)``; the current state
                when None.
            nthread: Threads that share the batch (MuJoCo's own pool; >= 1).

        Returns:
            Sensor readings at the end of every period, shape ``(batch, horizon, nsensordata)``:
            the same readings ``step`` would leave in ``data.sensordata``.
        """
        if nthread < 1:
            raise InvalidParameterError(f"nthread must be >= 1, got {nthread}")
        if state is None:
            state = self.get_state()
        batch = ctrl.shape[0]
        model, n = self.model, self.n_substeps
        physics = state[: self.physics_state_size]
        start = np.empty(mujoco.mj_stateSize(model, ROLLOUT_SPEC))
        mujoco.mj_extractState(model, physics, STATE_SPEC, start, ROLLOUT_SPEC)
        warmstart = np.empty(model.nv)
        mujoco.mj_extractState(
            model, physics, STATE_SPEC, warmstart, mujoco.mjtState.mjSTATE_WARMSTART
        )
        while len(self._rollout_data) < nthread:
            self._rollout_data.append(mujoco.MjData(model))
        if nthread not in self._pools:
            # A pool of 0 threads runs on the calling thread.
            self._pools[nthread] = mj_rollout.Rollout(nthread=0 if nthread == 1 else nthread)
        _, sensors = self._pools[nthread].rollout(
            model,
            self._rollout_data[:nthread],
            np.tile(start, (batch, 1)),
            np.repeat(ctrl, n, axis=1),
            initial_warmstart=np.tile(warmstart, (batch, 1)),
        )
        return sensors[:, n - 1 :: n]

    def close(self) -> None:
        """Stop the rollout thread pools, if any."""
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()


class StateLayout:
    """Where each field of a model's state vector lies, and what each may hold.

    The vector is MuJoCo's ``STATE_SPEC`` components in MuJoCo's order (time, qpos, qvel,
    ..., each present one), then the sensor readings.

    Args:
        model: The compiled model whose ``Simulation.get_state`` vectors are described.
    """

    def __init__(self, model: mujoco.MjModel) -> None:
        self._model = model
        self.components: dict[str, slice] = {}
        start, bit = 0, 1
        while bit <= int(STATE_SPEC):
            size = mujoco.mj_stateSize(model, bit) if int(STATE_SPEC) & bit else 0
            if size:
                name = mujoco.mjtState(bit).name.removeprefix("mjSTATE_").lower()
                self.components[name] = slice(start, start + size)
            start, bit = start + size, bit << 1
        assert start == mujoco.mj_stateSize(model, STATE_SPEC)
        self.components["sensordata"] = slice(start, start + model.nsensordata)
        qpos = self.components["qpos"].start
        free, ball = mujoco.mjtJoint.mjJNT_FREE, mujoco.mjtJoint.mjJNT_BALL
        positions, quaternions = [], []
        for joint in range(model.njnt):
            address = qpos + model.jnt_qposadr[joint]
            if model.jnt_type[joint] == free:
                positions += range(address, address + 3)
                quaternions.append(address + 3)
            elif model.jnt_type[joint] == ball:
                quaternions.append(address)
            else:
                positions.append(address)
        if "mocap_quat" in self.components:
            mocap = self.components["mocap_quat"]
            quaternions += range(mocap.start, mocap.stop, 4)
        self._positions = np.array(positions, dtype=np.intp)
        # Each quaternion's four indices, one row per quaternion.
        self._quaternions = np.array(quaternions, dtype=np.intp).reshape(-1, 1) + np.arange(4)
        indices = np.arange(self.size)
        self._time = indices[self.components["time"]]
        self._velocities = indices[self.components.get("qvel", slice(0))]
        self._eq_active = indices[self.components.get("eq_active", slice(0))]

    @property
    def size(self) -> int:
        """The length of a state vector: physics, then sensor readings."""
        return self.components["sensordata"].stop

    def check(self, state: NDArray[np.float64]) -> None:
        """Raise ``InvalidStateError`` naming a value of ``state`` that is not accepted.

        The checks run in the order of ``Simulation.check_state``'s docstring; the message
        names the first value that fails the first failing check.

        Args:
            state: A state vector of the model, shape ``(size,)`` (the caller checks it).
        """
        finite = np.isfinite(state)
        if not finite.all():
            self._refuse(state, np.flatnonzero(~finite), "finite values (no NaN or infinity)")
        self._refuse_where(state, self._time, state[self._time] < 0.0, "time >= 0 s")
        for indices, bound, unit in (
            (self._positions, POSITION_BOUND, "rad or m"),
            (self._velocities, VELOCITY_BOUND, "rad/s or m/s"),
        ):
            beyond = np.abs(state[indices]) > bound
            self._refuse_where(state, indices, beyond, f"finite values within ±{bound:g} {unit}")
        beyond = np.abs(state) > VALUE_BOUND
        if beyond.any():
            self._refuse(state, np.flatnonzero(beyond), f"finite values within ±{VALUE_BOUND:g}")
        norms = np.sqrt(np.square(state[self._quaternions]).sum(axis=1))
        unit = np.abs(norms - 1.0) <= QUATERNION_TOLERANCE
        if not unit.all():
            first = int(np.argmin(unit))
            address = int(self._quaternions[first, 0])
            field = self.describe(address).removesuffix(" (quat w)")
            raise InvalidStateError(
                f"state[{address}:{address + 4}] ({field}, a quaternion) has norm "
                f"{norms[first]:.9g}; accepted: unit quaternions, norm within "
                f"{QUATERNION_TOLERANCE:g} of 1. Pass a vector from get_state() of this env"
            )
        on_off = state[self._eq_active]
        self._refuse_where(
            state, self._eq_active, (on_off != 0.0) & (on_off != 1.0), "0 (off) or 1 (on)"
        )

    def _refuse_where(
        self,
        state: NDArray[np.float64],
        indices: NDArray[np.intp],
        bad: NDArray[np.bool_],
        accepted: str,
    ) -> None:
        """Raise ``InvalidStateError`` for the first of ``indices`` where ``bad`` holds, if any."""
        if bad.any():
            self._refuse(state, indices[bad], accepted)

    def _refuse(self, state: NDArray[np.float64], bad: NDArray[np.intp], accepted: str) -> None:
        """Raise ``InvalidStateError`` for the first index in ``bad``."""
        index = int(bad.min())
        raise InvalidStateError(
            f"state[{index}] ({self.describe(index)}) is {state[index]:g}; accepted: "
            f"{accepted}. Pass a vector from get_state() of this env"
        )

    def describe(self, index: int) -> str:
        """Return what ``state[index]`` holds, e.g. ``"qpos of joint 'shoulder'"``."""
        for name, part in self.components.items():
            if part.start <= index < part.stop:
                return self._describe_in(name, index - part.start)
        return f"index {index}, past the physics and sensor readings"

    def _describe_in(self, component: str, offset: int) -> str:
        """Name value ``offset`` of ``component``, by its joint, actuator, body or sensor."""
        model = self._model
        obj = mujoco.mjtObj
        if component == "qpos":
            joint = int(np.searchsorted(model.jnt_qposadr, offset, side="right") - 1)
            return f"qpos of joint {self._name(obj.mjOBJ_JOINT, joint)}{self._part(joint, offset)}"
        if component in ("qvel", "warmstart", "qfrc_applied"):
            joint = int(model.dof_jntid[offset])
            return f"{component} of joint {self._name(obj.mjOBJ_JOINT, joint)}"
        if component == "ctrl":
            return f"ctrl of actuator {self._name(obj.mjOBJ_ACTUATOR, offset)}"
        if component == "xfrc_applied":
            return f"xfrc_applied of body {self._name(obj.mjOBJ_BODY, offset // 6)}"
        if component in ("mocap_pos", "mocap_quat"):
            width = 3 if component == "mocap_pos" else 4
            body = int(np.flatnonzero(model.body_mocapid == offset // width)[0])
            return f"{component} of body {self._name(obj.mjOBJ_BODY, body)}"
        if component == "sensordata":
            sensor = int(np.searchsorted(model.sensor_adr, offset, side="right") - 1)
            return f"reading of sensor {self._name(obj.mjOBJ_SENSOR, sensor)}"
        return component

    def _name(self, kind: mujoco.mjtObj, index: int) -> str:
        """Return an object's quoted name, or ``#<index>`` if it has none."""
        name = mujoco.mj_id2name(self._model, kind, index)
        return repr(name) if name else f"#{index}"

    def _part(self, joint: int, offset: int) -> str:
        """Say which part of a free or ball joint's qpos ``offset`` is: `` (position x)``."""
        kind = self._model.jnt_type[joint]
        within = offset - int(self._model.jnt_qposadr[joint])
        if kind == mujoco.mjtJoint.mjJNT_FREE:
            names = ("position x", "position y", "position z", "quat w", "quat x", "quat y")
            return f" ({(*names, 'quat z')[within]})"
        if kind == mujoco.mjtJoint.mjJNT_BALL:
            return f" ({('quat w', 'quat x', 'quat y', 'quat z')[within]})"
        return ""
