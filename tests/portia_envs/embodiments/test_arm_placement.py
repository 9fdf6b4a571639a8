import hashlib

import mujoco
import numpy as np
import pytest

from portia_envs.embodiments.arm import ACTION_SIZE, HOME_ARM_QPOS, action_to_ctrl_map, add_arm
from portia_envs.scenes.tabletop import new_tabletop_spec
from portia_envs.sim.compose import arm_fingerprint

# The hash of the table with the default arm's XML, and the arm env's fingerprint, as they
# were before add_arm took a prefix and a pose: the defaults must not change the model.
PINNED_ARM_XML_HASH = "8f5c341248c7d904"
PINNED_ARM_FINGERPRINT = "8a5fa589939d84b9"
OBJECT_TYPES = ("body", "joint", "geom", "site", "actuator", "sensor")


def arm_model(**kwargs):
    spec = new_tabletop_spec()
    add_arm(spec, **kwargs)
    return spec, spec.compile()


def names(model, kind):
    count = {
        "body": model.nbody,
        "joint": model.njnt,
        "geom": model.ngeom,
        "site": model.nsite,
        "actuator": model.nu,
        "sensor": model.nsensor,
    }[kind]
    return [getattr(model, kind)(i).name for i in range(count)]


def test_default_arguments_leave_the_model_byte_identical():
    plain, _ = arm_model()
    explicit, _ = arm_model(prefix="", pos=(0.0, 0.0, 0.0), yaw_rad=0.0)
    assert plain.to_xml() == explicit.to_xml()
    assert hashlib.sha256(plain.to_xml().encode()).hexdigest()[:16] == PINNED_ARM_XML_HASH
    assert arm_fingerprint() == PINNED_ARM_FINGERPRINT


def test_a_prefix_goes_on_every_named_element_of_the_arm():
    _, plain = arm_model()
    _, prefixed = arm_model(prefix="left_")
    scene = {"world", "table", "floor"}
    for kind in OBJECT_TYPES:
        expected = [n if n in scene else f"left_{n}" for n in names(plain, kind)]
        assert names(prefixed, kind) == expected, kind


def test_two_prefixed_arms_share_one_model():
    spec = new_tabletop_spec()
    add_arm(spec, prefix="a_")
    add_arm(spec, prefix="b_", pos=(1.0, 0.0, 0.0), yaw_rad=np.pi)
    model = spec.compile()
    assert model.nu == 2 * 8 and model.nsensor == 2 * 18


@pytest.mark.parametrize("yaw", [0.0, np.pi / 2, np.pi, -2.0])
def test_the_base_pose_moves_and_turns_the_whole_arm(yaw):
    _, plain = arm_model()
    _, placed = arm_model(pos=(0.7, -0.2, 0.0), yaw_rad=yaw)
    poses = []
    for model in (plain, placed):
        data = mujoco.MjData(model)
        data.qpos[:6] = HOME_ARM_QPOS
        mujoco.mj_forward(model, data)
        poses.append(data.site("grip").xpos.copy())
    turn = np.array([[np.cos(yaw), -np.sin(yaw), 0], [np.sin(yaw), np.cos(yaw), 0], [0, 0, 1]])
    np.testing.assert_allclose(poses[1], turn @ poses[0] + [0.7, -0.2, 0.0], atol=1e-12)


def test_action_maps_of_prefixed_arms_drive_only_their_arm_and_add_up():
    _, single = arm_model()
    reference = action_to_ctrl_map(single)
    spec = new_tabletop_spec()
    add_arm(spec, prefix="a_")
    add_arm(spec, prefix="b_", pos=(1.0, 0.0, 0.0), yaw_rad=np.pi)
    model = spec.compile()
    (matrix_a, offset_a), (matrix_b, offset_b) = (
        action_to_ctrl_map(model, prefix=p) for p in ("a_", "b_")
    )
    assert matrix_a.shape == (16, ACTION_SIZE)
    a_rows = [model.actuator(i).name.startswith("a_") for i in range(model.nu)]
    np.testing.assert_array_equal(matrix_a[a_rows], reference[0])
    np.testing.assert_array_equal(matrix_b[np.logical_not(a_rows)], reference[0])
    assert not matrix_a[np.logical_not(a_rows)].any() and not matrix_b[a_rows].any()
    np.testing.assert_array_equal((offset_a + offset_b)[a_rows], reference[1])
