"""A compiled MuJoCo model stepped in fixed control periods, with exact state save and restore."""

from __future__ import annotations

import mujoco
import numpy as np
from mujoco import rollout as mj_rollout
from numpy.typing import NDArray

from portia_envs.errors import InvalidStateError

# Everything mj_step reads: time, qpos, qvel, act, ctrl, applied forces, mocap and the solver's
# warm start. Restoring it (and not only qpos/qvel) is what makes a continuation bit-identical.
STATE_SPEC = mujoco.mjtState.mjSTATE_INTEGRATION
ROLLOUT_SPEC = mujoco.mjtState.mjSTATE_FULLPHYSICS


class Simulation:
    """One MuJoCo model and its data, advanced one control period at a time.

    A control period is ``n_substeps`` physics steps with the controls held constant, so a
    sequence of per-period controls maps to physics controls by repetition alone and can be
    rolled out natively by ``mujoco.rollout`` with no Python per physics step.

    The state vector is MuJoCo's integration state followed by the sensor readings, so that
    after ``set_state`` the readings (and the observation built from them) are exactly those
    seen when the state was taken.

    Args:
        model: The compiled model. The simulation owns it from now on.
        n_substeps: Physics steps per control period (>= 1).
    """

    def __init__(self, model: mujoco.MjModel, *, n_substeps: int) -> None:
        if n_substeps < 1:
            raise ValueError(f"n_substeps must be >= 1, got {n_substeps}")
        self.model = model
        self.data = mujoco.MjData(model)
        self.n_substeps = n_substeps
        self.dt = float(model.opt.timestep) * n_substeps
        self.physics_state_size = mujoco.mj_stateSize(model, STATE_SPEC)
        self.state_size = self.physics_state_size + model.nsensordata
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

    def set_state(self, state: NDArray[np.float64]) -> None:
        """Restore a state from ``get_state``; the continuation is bit-identical.

        Args:
            state: A vector from ``get_state`` of this model, shape ``(state_size,)``.

        Raises:
            InvalidStateError: If the shape is wrong or values are not finite.
        """
        state = np.asarray(state, dtype=np.float64)
        if state.shape != (self.state_size,):
            raise InvalidStateError(
                f"state must have shape ({self.state_size},) for this model, got {state.shape}"
            )
        if not np.isfinite(state).all():
            raise InvalidStateError("state contains NaN or infinite values")
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
            raise ValueError(f"nthread must be >= 1, got {nthread}")
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
