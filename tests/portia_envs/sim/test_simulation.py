import mujoco
import numpy as np
import pytest

from portia_envs.errors import InvalidStateError
from portia_envs.sim import Simulation

PENDULUM = """
<mujoco>
  <option timestep="0.01"/>
  <worldbody>
    <body name="pole" pos="0 0 1">
      <joint name="hinge" type="hinge" axis="0 1 0"/>
      <geom type="capsule" fromto="0 0 0 0 0 -0.5" size="0.05"/>
    </body>
  </worldbody>
  <actuator><motor joint="hinge" ctrlrange="-1 1"/></actuator>
  <sensor><jointpos joint="hinge"/><jointvel joint="hinge"/></sensor>
</mujoco>
"""


@pytest.fixture
def sim():
    simulation = Simulation(mujoco.MjModel.from_xml_string(PENDULUM), n_substeps=5)
    simulation.reset(np.array([0.3]), np.array([0.0]))
    return simulation


def test_a_control_period_is_n_substeps(sim):
    assert sim.dt == pytest.approx(0.05)
    sim.step(np.array([0.5]))
    assert sim.data.time == pytest.approx(0.05)
    assert sim.data.ctrl[0] == 0.5


def test_state_round_trip_is_bit_exact_including_sensors(sim):
    sim.step(np.array([0.2]))
    state = sim.get_state()
    readings = sim.data.sensordata.copy()
    after = []
    for _ in range(3):
        sim.step(np.array([-0.7]))
        after.append(sim.get_state())
    sim.set_state(state)
    np.testing.assert_array_equal(sim.data.sensordata, readings)
    for expected in after:
        sim.step(np.array([-0.7]))
        np.testing.assert_array_equal(sim.get_state(), expected)


def test_rollout_matches_stepping_and_leaves_the_simulation_alone(sim):
    start = sim.get_state()
    ctrl = np.array([[[0.5], [-0.5], [1.0]], [[0.0], [0.0], [0.0]]])
    readings = sim.rollout(ctrl)
    np.testing.assert_array_equal(sim.get_state(), start)
    for b in range(2):
        sim.set_state(start)
        for t in range(3):
            sim.step(ctrl[b, t])
            np.testing.assert_array_equal(readings[b, t], sim.data.sensordata)


def test_bad_states_and_substeps_are_refused(sim):
    with pytest.raises(InvalidStateError, match=rf"shape \({sim.state_size},\)"):
        sim.set_state(np.zeros(3))
    with pytest.raises(InvalidStateError, match="NaN"):
        sim.set_state(np.full(sim.state_size, np.nan))
    with pytest.raises(ValueError, match="n_substeps must be >= 1"):
        Simulation(sim.model, n_substeps=0)
