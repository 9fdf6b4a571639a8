import math

import mujoco
import numpy as np
import pytest

from portia_envs.embodiments.arm4 import (
    ARM4_BODIES,
    ARM4_JOINT_RANGES,
    ARM4_JOINTS,
    HOME_GRIP_POS_M,
    Arm4Lengths,
    home_qpos,
    planar_angles,
)
from portia_envs.sim.compose import arm_tabletop_spec


@pytest.fixture(scope="module", params=sorted(ARM4_BODIES))
def body(request):
    model = arm_tabletop_spec(0.05, request.param).compile()
    return request.param, model, mujoco.MjData(model)


def grip_at(model, data, joints):
    data.qpos[[model.joint(name).qposadr[0] for name in ARM4_JOINTS]] = joints
    mujoco.mj_kinematics(model, data)
    return data.site("grip").xpos.copy(), data.site("grip").xmat.reshape(3, 3).copy()


def test_the_body_has_named_joints_servos_and_sensors_in_observation_order(body):
    _, model, _ = body
    hinges = [model.joint(name) for name in ARM4_JOINTS]
    assert [joint.type[0] for joint in hinges] == [mujoco.mjtJoint.mjJNT_HINGE] * 4
    for joint, limits in zip(hinges, ARM4_JOINT_RANGES, strict=True):
        np.testing.assert_array_equal(joint.range, limits)
    names = [model.actuator(i).name for i in range(model.nu)]
    assert names == [*ARM4_JOINTS, "finger_left", "finger_right"]
    sensors = [model.sensor(i).name for i in range(12)]
    assert sensors[:8] == [f"joint_{kind}_{j}" for kind in ("pos", "vel") for j in ARM4_JOINTS]
    assert sensors[8:12] == [
        "finger_left_pos",
        "finger_right_pos",
        "finger_left_vel",
        "finger_right_vel",
    ]
    assert [model.sensor_adr[model.sensor(name).id] for name in ("grip_pos", "grip_vel")] == [
        12,
        15,
    ]


def test_planar_angles_put_the_grip_where_asked_with_the_hand_down_or_leaning(body):
    name, model, data = body
    lengths = ARM4_BODIES[name]
    for target, lean in (((0.3, 0.1, 0.02), 0.0), ((0.55, -0.2, 0.3), 0.3), ((0.4, 0, 0.1), -0.2)):
        yaw = math.atan2(target[1], target[0])
        pitches = planar_angles(lengths, math.hypot(*target[:2]), target[2], math.pi - lean)
        position, rotation = grip_at(model, data, [yaw, *pitches])
        np.testing.assert_allclose(position, target, atol=1e-9)
        # The hand's +z (to the fingertips) points down, leaning away from the base by lean.
        radial = np.array([math.cos(yaw), math.sin(yaw), 0.0])
        expected = math.sin(lean) * radial + np.array([0.0, 0.0, -math.cos(lean)])
        np.testing.assert_allclose(rotation[:, 2], expected, atol=1e-9)


def test_home_pose_holds_the_grip_at_the_home_point_pointing_down_inside_the_ranges(body):
    name, model, data = body
    joints = home_qpos(ARM4_BODIES[name])
    position, rotation = grip_at(model, data, joints)
    np.testing.assert_allclose(position, HOME_GRIP_POS_M, atol=1e-9)
    np.testing.assert_allclose(rotation[:, 2], [0.0, 0.0, -1.0], atol=1e-9)
    low, high = np.array(ARM4_JOINT_RANGES).T
    assert np.all((low < joints) & (joints < high))


def test_the_long_arm_has_longer_links_and_reaches_higher():
    short, long = ARM4_BODIES["arm4"], ARM4_BODIES["arm4_long"]
    assert long.upper_arm_m == pytest.approx(1.15 * short.upper_arm_m)
    assert long.forearm_m == pytest.approx(1.15 * short.forearm_m)
    assert (long.shoulder_m, long.hand_m) == (short.shoulder_m, short.hand_m)
    heights = {}
    for name in ARM4_BODIES:
        model = arm_tabletop_spec(0.05, name).compile()
        # Straight up, at the zero configuration, the grip is at the arm's greatest height.
        position, _ = grip_at(model, mujoco.MjData(model), np.zeros(4))
        heights[name] = position[2]
    extra = 0.15 * (short.upper_arm_m + short.forearm_m)
    assert heights["arm4_long"] - heights["arm4"] == pytest.approx(extra)


def test_lengths_must_be_positive():
    with pytest.raises(ValueError, match="forearm_m must be a positive length"):
        Arm4Lengths(forearm_m=0.0)
    with pytest.raises(ValueError, match="hand_m"):
        Arm4Lengths(hand_m=float("nan"))
