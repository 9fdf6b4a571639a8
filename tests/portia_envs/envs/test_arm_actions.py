"""Property tests of the action contract: any finite action is clipped, anything else refused."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from portia_envs.envs.arm import ArmEnv
from portia_envs.errors import InvalidActionError

ENV = ArmEnv(task="push")
ENV.reset(seed=0)
FINITE = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, (7,), elements=FINITE))
def test_any_finite_action_maps_like_its_clipped_self(action):
    np.testing.assert_array_equal(ENV.controls(action), ENV.controls(np.clip(action, -1, 1)))


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, array_shapes(min_dims=0, max_dims=3), elements=FINITE))
def test_actions_of_any_other_shape_are_refused(action):
    if action.shape == (7,):
        return
    with pytest.raises(InvalidActionError, match=r"shape \(7,\)"):
        ENV.controls(action)


@settings(max_examples=40, deadline=None)
@given(
    arrays(np.float64, (7,), elements=FINITE),
    st.integers(0, 6),
    st.sampled_from([np.nan, np.inf, -np.inf]),
)
def test_a_single_non_finite_value_is_refused(action, index, bad):
    action[index] = bad
    with pytest.raises(InvalidActionError, match="NaN or infinite"):
        ENV.controls(action)


def test_controls_span_the_joint_ranges():
    model = ENV.sim.model
    low, high = ENV.controls(-np.ones(7)), ENV.controls(np.ones(7))
    for name in ("base_yaw", "shoulder_pitch", "elbow_pitch", "forearm_roll", "wrist_pitch"):
        actuator = model.actuator(name).id
        joint_range = model.jnt_range[model.joint(name).id]
        assert low[actuator] == pytest.approx(joint_range[0])
        assert high[actuator] == pytest.approx(joint_range[1])
    fingers = [model.actuator(name).id for name in ("finger_left", "finger_right")]
    np.testing.assert_allclose(low[fingers], 0.04)  # -1: open
    np.testing.assert_allclose(high[fingers], 0.0)  # +1: closed
