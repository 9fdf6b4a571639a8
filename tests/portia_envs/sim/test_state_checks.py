import mujoco
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portia_envs.errors import InvalidStateError
from portia_envs.sim import Simulation
from portia_envs.sim.simulation import POSITION_BOUND, VELOCITY_BOUND

# Every kind of joint, a mocap body and an equality constraint: every field a state may hold.
SCENE = """
<mujoco>
  <option timestep="0.005"/>
  <worldbody>
    <body name="target" mocap="true" pos="0 0 1"><geom type="sphere" size="0.02"/></body>
    <body name="arm" pos="0 0 1">
      <joint name="shoulder" type="hinge" axis="0 1 0" range="-1 1"/>
      <geom type="capsule" fromto="0 0 0 0 0 -0.5" size="0.05"/>
      <body name="hand" pos="0 0 -0.5">
        <joint name="wrist" type="ball"/>
        <joint name="slider" type="slide" axis="1 0 0"/>
        <geom type="box" size="0.05 0.05 0.05"/>
      </body>
    </body>
    <body name="ball" pos="1 0 0.2">
      <freejoint name="ball"/>
      <geom type="sphere" size="0.1"/>
    </body>
  </worldbody>
  <equality><weld body1="target" body2="hand" active="false"/></equality>
  <actuator><motor name="shoulder_motor" joint="shoulder" ctrlrange="-1 1"/></actuator>
  <sensor><jointpos joint="shoulder"/><framepos objtype="body" objname="ball"/></sensor>
</mujoco>
"""


@pytest.fixture
def sim():
    model = mujoco.MjModel.from_xml_string(SCENE)
    simulation = Simulation(model, n_substeps=4)
    simulation.reset(model.qpos0.copy(), np.array([0.3]))
    for _ in range(3):
        simulation.step(np.array([0.3]))
    return simulation


def address(sim, component, offset=0):
    return sim._layout.components[component].start + offset


def test_the_layout_covers_the_whole_vector_in_order(sim):
    parts = list(sim._layout.components.values())
    assert parts[0].start == 0 and parts[-1].stop == sim.state_size
    assert all(a.stop == b.start for a, b in zip(parts, parts[1:], strict=False))
    assert {"time", "qpos", "qvel", "ctrl", "eq_active", "mocap_quat", "sensordata"} <= set(
        sim._layout.components
    )


def test_every_value_is_named_by_its_field(sim):
    layout = sim._layout
    model = sim.model
    ball = address(sim, "qpos", model.jnt_qposadr[model.joint("ball").id])
    assert layout.describe(0) == "time"
    assert layout.describe(address(sim, "qpos")) == "qpos of joint 'shoulder'"
    assert layout.describe(ball + 2) == "qpos of joint 'ball' (position z)"
    assert layout.describe(ball + 6) == "qpos of joint 'ball' (quat z)"
    assert layout.describe(address(sim, "qvel", 1)) == "qvel of joint 'wrist'"
    assert layout.describe(address(sim, "ctrl")) == "ctrl of actuator 'shoulder_motor'"
    assert layout.describe(address(sim, "mocap_quat", 3)) == "mocap_quat of body 'target'"
    assert layout.describe(address(sim, "sensordata", 2)) == "reading of sensor #1"


def test_a_state_of_a_running_simulation_is_accepted(sim):
    state = sim.get_state()
    sim.check_state(state)
    sim.set_state(state)
    np.testing.assert_array_equal(sim.get_state(), state)


@pytest.mark.parametrize(
    ("component", "offset", "value", "match"),
    [
        ("time", 0, -1.0, r"state\[0\] \(time\) is -1; accepted: time >= 0 s"),
        ("qpos", 0, 1e300, r"\(qpos of joint 'shoulder'\) is 1e\+300; accepted: finite values "),
        ("qpos", 5, -2e3, r"\(qpos of joint 'slider'\) is -2000; accepted: .*within ±1000"),
        ("qvel", 0, 2e4, r"\(qvel of joint 'shoulder'\) is 20000; accepted: .*within ±10000"),
        (
            "qpos",
            1,
            2.0,
            r"state\[2:6\] \(qpos of joint 'wrist', a quaternion\) has norm 2; accepted: unit",
        ),
        ("qpos", 9, 0.0, r"\(qpos of joint 'ball', a quaternion\) has norm 0; "),
        ("mocap_quat", 0, 0.5, r"\(mocap_quat of body 'target', a quaternion\) has norm"),
        ("eq_active", 0, 0.5, r"\(eq_active\) is 0.5; accepted: 0 \(off\) or 1 \(on\)"),
        ("ctrl", 0, np.nan, r"\(ctrl of actuator 'shoulder_motor'\) is nan; .*no NaN"),
        ("sensordata", 1, np.inf, r"\(reading of sensor #1\) is inf; accepted: finite"),
    ],
)
def test_a_refused_state_names_its_field_and_changes_nothing(sim, component, offset, value, match):
    before = sim.get_state()
    bad = before.copy()
    bad[address(sim, component, offset)] = value
    with pytest.raises(InvalidStateError, match=match):
        sim.set_state(bad)
    assert sim.get_state().tobytes() == before.tobytes()


def test_the_bounds_are_inclusive(sim):
    state = sim.get_state()
    state[address(sim, "qpos")] = -POSITION_BOUND
    state[address(sim, "qvel")] = VELOCITY_BOUND
    sim.check_state(state)


@settings(max_examples=60, deadline=None)
@given(index=st.integers(0, 200), value=st.sampled_from([np.nan, np.inf, -np.inf]))
def test_no_non_finite_value_is_accepted_anywhere(index, value):
    sim = Simulation(mujoco.MjModel.from_xml_string(SCENE), n_substeps=2)
    state = sim.get_state()
    state[index % sim.state_size] = value
    with pytest.raises(InvalidStateError, match=rf"state\[{index % sim.state_size}\] \("):
        sim.check_state(state)
