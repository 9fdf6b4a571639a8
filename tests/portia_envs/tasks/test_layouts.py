"""Observation layouts per body: scoring reads the same quantities wherever they lie."""

import numpy as np
import pytest

from portia_envs.tasks import ARM_TASKS
from portia_envs.tasks.observation import (
    OBSERVATION_BOUND,
    OBSERVATION_LAYOUT,
    OBSERVATION_SIZE,
    PARTS,
    observation_layout,
)


def test_the_six_joint_layout_is_the_module_constants():
    arm = observation_layout(6)
    assert arm.parts == OBSERVATION_LAYOUT and arm.size == OBSERVATION_SIZE == 55
    assert arm.slices == PARTS and arm.shift == 0
    np.testing.assert_array_equal(arm.bound, OBSERVATION_BOUND)


def test_the_four_hinge_layout_puts_the_body_first_and_moves_the_scene():
    arm, arm4 = observation_layout(6), observation_layout(4)
    assert (arm4.size, arm4.shift, arm4.n_sensor_readings) == (51, -4, arm.n_sensor_readings - 4)
    assert [name for name, *_ in arm4.parts] == [name for name, *_ in arm.parts]
    assert arm4.slices["joint_vel"] == slice(4, 8) and arm4.slices["grip_pos"] == slice(12, 15)
    for name in ("block_pos", "support_pos", "handle_pos", "block_size", "support_size"):
        assert arm4.slices[name].start == arm.slices[name].start + arm4.shift


def to_arm4(vectors):
    """The same state in the four-hinge layout: two joints fewer, every other part kept."""
    arm, arm4 = observation_layout(6), observation_layout(4)
    out = np.empty((vectors.shape[0], arm4.size))
    for name, size, _ in arm4.parts:
        out[:, arm4.slices[name]] = vectors[:, arm.slices[name]][:, :size]
    return out


@pytest.mark.parametrize("task", ARM_TASKS, ids=lambda task: task.name)
def test_shifted_scoring_of_a_four_hinge_vector_equals_the_arms(task):
    rng = np.random.default_rng(0)
    vectors = rng.uniform(-0.6, 0.6, (64, OBSERVATION_SIZE))
    # Some blocks on the table, some off it, so that termination varies too.
    vectors[:32, PARTS["block_pos"]] = rng.uniform(0.0, 0.4, (32, 3))
    vectors[:, PARTS["block_size"]] = vectors[:, PARTS["support_size"]] = 0.02
    goal = np.array([0.4, 0.1, 0.05])
    arm = task.score(vectors, goal, 0.3)
    arm4 = task.score(to_arm4(vectors), goal, 0.3, shift=observation_layout(4).shift)
    for a, b in zip(arm, arm4, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(
        task.desired_goals(vectors, goal), task.desired_goals(to_arm4(vectors), goal, shift=-4)
    )
