import itertools

import mujoco
import numpy as np
import pytest

from portia_envs.embodiments.arm import ARM_JOINT_RANGES, HOME_ARM_QPOS
from portia_envs.experts.ik import ArmIK, hand_rotation
from portia_envs.scenes.handover import HANDOFF_CENTER, HANDOFF_RADIUS_M, HANDOVER_CAMERAS
from portia_envs.scenes.tabletop import BLOCK_HALF_M
from portia_envs.sim.compose import handover_spec
from portia_envs.tasks.handover import HANDOVER_RANGES

GOAL_RADIUS_M = 0.05
# A held block's centre lies at most a half-size beyond the fingertips.
HELD_OFFSET_M = BLOCK_HALF_M
# Starts from which the out-of-reach checks stretch each arm.
STARTS = (np.array(HOME_ARM_QPOS), np.zeros(6), np.array([0.0, 1.2, 0.3, 0.0, 0.3, 0.0]))


@pytest.fixture(scope="module")
def model():
    return handover_spec(GOAL_RADIUS_M).compile()


def grid(*keys, z=None):
    """Each range's ends and middle, combined: the nearest and farthest points included."""
    points = itertools.product(*(np.linspace(*HANDOVER_RANGES[key], 3) for key in keys))
    return [np.array([*p, z] if z is not None else p) for p in points]


BLOCK_STARTS = grid("block_x", "block_y", z=BLOCK_HALF_M)
GOALS = grid("goal_x", "goal_y", "goal_z")
# The zone's centre and its rim, at the height of a block's centre resting there.
R = HANDOFF_RADIUS_M
ZONE = [
    np.array([HANDOFF_CENTER[0] + dx, HANDOFF_CENTER[1] + dy, BLOCK_HALF_M])
    for dx, dy in ((0.0, 0.0), (R, 0.0), (-R, 0.0), (0.0, R), (0.0, -R))
]


def hand_down_error(ik, target):
    """Grip-to-target distance (m) of the best hand-down pose the solver finds."""
    joints = ik.solve(np.array(HOME_ARM_QPOS), target, hand_rotation(0.0))
    return np.linalg.norm(ik.grip_pose(joints)[0] - target)


def closest_stretch(model, prefix, target):
    """The closest (m) the grip site gets to ``target`` in any orientation, from STARTS."""
    ik = ArmIK(
        model,
        prefix=prefix,
        joint_ranges=ARM_JOINT_RANGES,
        iterations=300,
        orientation_weight_m=1e-4,
    )
    errors = []
    for start in STARTS:
        joints = ik.solve(start, target, hand_rotation(0.0))
        errors.append(np.linalg.norm(ik.grip_pose(joints)[0] - target))
    return min(errors)


def tip_reach(model, prefix):
    """The shoulder's position, and the farthest a fingertip gets from it (m): arm straight."""
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    shoulder = data.body(f"{prefix}upper_arm").xpos.copy()
    pad = data.geom(f"{prefix}finger_left_pad")
    tip = pad.xpos[2] + model.geom(f"{prefix}finger_left_pad").size[2]
    return shoulder, tip - shoulder[2]


@pytest.mark.parametrize(
    ("prefix", "points"), [("giver_", BLOCK_STARTS + ZONE), ("taker_", ZONE + GOALS)]
)
def test_each_arm_reaches_its_points_with_the_hand_pointing_down(model, prefix, points):
    ik = ArmIK(model, prefix=prefix, iterations=200)
    for point in points:
        assert hand_down_error(ik, point) < 0.003, point


def test_the_taker_cannot_touch_the_block_where_it_starts(model):
    shoulder, reach = tip_reach(model, "taker_")
    # The block's corners lie within a half-diagonal of its centre.
    margin = reach + np.sqrt(3) * BLOCK_HALF_M
    for block in BLOCK_STARTS:
        assert np.linalg.norm(block - shoulder) > margin, block
        assert closest_stretch(model, "taker_", block) > np.sqrt(3) * BLOCK_HALF_M + 0.01


def test_the_giver_cannot_bring_a_held_block_to_the_goal(model):
    shoulder, reach = tip_reach(model, "giver_")
    for goal in GOALS:
        assert np.linalg.norm(goal - shoulder) > reach + HELD_OFFSET_M + GOAL_RADIUS_M, goal
        assert closest_stretch(model, "giver_", goal) > HELD_OFFSET_M + GOAL_RADIUS_M


def test_the_scene_names_its_marks_and_cameras(model):
    assert model.site("handoff").size[0] == HANDOFF_RADIUS_M
    assert model.site("goal").size[0] == GOAL_RADIUS_M
    assert [model.camera(i).name for i in range(model.ncam)] == list(HANDOVER_CAMERAS)
    sensors = [model.sensor(i).name for i in range(model.nsensor)]
    assert sensors[0] == "giver_joint_pos_base_yaw" and sensors[18] == "taker_joint_pos_base_yaw"
    assert sensors[36:] == ["block_pos", "block_quat", "block_vel", "block_angvel"]
