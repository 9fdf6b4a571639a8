import mujoco
import numpy as np
import pytest

from portia_envs.sim.compose import arm_tabletop_spec
from portia_envs.tasks.objects import (
    OBJECT_PARAMS,
    ObjectWriter,
    colour_name,
    default_objects,
    hue_rgba,
)


def numeric_fields(model):
    for name in dir(model):
        value = getattr(model, name, None)
        if not name.startswith("_") and isinstance(value, np.ndarray) and value.dtype.kind in "fiu":
            yield name, value


def test_written_objects_equal_a_model_compiled_with_them():
    values = dict(zip(OBJECT_PARAMS, default_objects(), strict=True))
    values |= {
        "block_parked": 0.0,
        "block_size": 0.023,
        "block_mass": 0.17,
        "block_friction": 0.3,
        "block_hue": 0.3,
        "support_size": 0.018,
        "support_hue": 0.7,
        "cabinet_x": 0.6,
        "cabinet_y": 0.1,
        "cabinet_z": 0.0,
        "drawer_friction": 2.0,
    }
    written = arm_tabletop_spec(0.05).compile()
    ObjectWriter(written).apply(np.array([values[name] for name in OBJECT_PARAMS]))

    spec = arm_tabletop_spec(0.05)
    block, support = spec.geom("block"), spec.geom("support")
    block.size, block.mass, block.friction = [0.023] * 3, 0.17, [0.3, 0.01, 0.001]
    block.rgba = hue_rgba(0.3)
    support.contype = support.conaffinity = 0
    spec.body("support").gravcomp = 1.0
    support.size, support.rgba = [0.018] * 3, hue_rgba(0.7)
    spec.body("cabinet").pos = [0.6, 0.1, 0.0]
    spec.joint("drawer").frictionloss = 2.0
    compiled = spec.compile()

    # The compiler gives a geom built not colliding no bounding volume, while the writer
    # parks a block by its collision bits alone: the bounding-volume layout may differ.
    differing = [
        name
        for name, value in numeric_fields(compiled)
        if "bvh" not in name
        and not np.allclose(getattr(written, name), value, rtol=1e-9, atol=1e-12)
    ]
    assert differing == []


def test_the_defaults_are_the_model_as_built_with_both_blocks_parked():
    built = arm_tabletop_spec(0.05).compile()
    written = arm_tabletop_spec(0.05).compile()
    ObjectWriter(written).apply(default_objects())
    blocks = [built.body(name).id for name in ("block", "support")]
    geoms = [built.geom(name).id for name in ("block", "support")]
    parking = {
        "body_gravcomp": (blocks, 1.0),
        "body_contype": (blocks, 0),
        "body_conaffinity": (blocks, 0),
        "geom_contype": (geoms, 0),
        "geom_conaffinity": (geoms, 0),
    }
    for name, value in numeric_fields(built):
        expected = value.copy()
        if name in parking:
            where, parked = parking[name]
            expected[where] = parked
        if name == "ngravcomp":
            continue
        np.testing.assert_allclose(getattr(written, name), expected, rtol=1e-12, err_msg=name)


def test_a_parked_block_floats_still_and_touches_nothing():
    model = arm_tabletop_spec(0.05).compile()
    ObjectWriter(model).apply(default_objects())
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    start = data.body("block").xpos.copy()
    mujoco.mj_step(model, data, nstep=500)
    np.testing.assert_allclose(data.body("block").xpos, start, atol=1e-9)
    touching = {model.geom(c.geom1).name for c in data.contact} | {
        model.geom(c.geom2).name for c in data.contact
    }
    assert not touching & {"block", "support"}


def test_applying_objects_leaves_the_simulation_state_alone():
    model = arm_tabletop_spec(0.05).compile()
    data = mujoco.MjData(model)
    data.qpos[:] = np.random.default_rng(0).uniform(-0.1, 0.1, model.nq)
    before = data.qpos.copy()
    ObjectWriter(model).apply(default_objects())
    np.testing.assert_array_equal(data.qpos, before)


@pytest.mark.parametrize(
    ("hue", "name"),
    [
        (0.0, "red"),
        (0.98, "red"),
        (1.02, "red"),
        (0.07, "orange"),
        (0.15, "yellow"),
        (0.3, "green"),
        (0.5, "cyan"),
        (0.62, "blue"),
        (0.77, "purple"),
        (0.9, "pink"),
    ],
)
def test_colour_names(hue, name):
    assert colour_name(hue) == name
