import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tests.wrappers.bodies import ChainEnv
from wrappers import MultiEmbodiment, SharedLayout
from wrappers.errors import WrapperInputError
from wrappers.multi_embodiment import PADDING_NAME
from wrappers.shared_layout import DESCRIPTOR_FEATURES


@pytest.fixture
def layout():
    return SharedLayout.covering([ChainEnv((0.3, 0.2)), ChainEnv((0.4, 0.3, 0.2, 0.1))])


def test_covering_takes_the_largest_body_and_every_key(layout):
    assert layout.action_size == 5
    assert layout.proprio_size == 8
    assert layout.exteroception_size == 3
    assert layout.key_sizes == (("desired_goal", 3),)
    assert layout.bound == 10.0


@settings(max_examples=50, deadline=None)
@given(arrays(np.float32, 3, elements=st.floats(-1, 1, width=32)))
def test_native_to_unified_to_native_is_exact(native):
    env = MultiEmbodiment(ChainEnv((0.3, 0.2)), SharedLayout.covering([ChainEnv((1, 1, 1, 1))]))
    unified = env.to_unified_action(native)
    assert unified.shape == (5,) and unified.dtype == np.float32
    assert np.array_equal(unified[3:], np.zeros(2))
    back = env.to_native_action(unified)
    assert back.dtype == np.float32 and np.array_equal(back, native)


def test_padded_slots_are_ignored_even_when_nan(layout):
    inner = ChainEnv((0.3, 0.2))
    env = MultiEmbodiment(inner, layout)
    env.reset(seed=0)
    env.step(np.array([0.1, -0.2, 0.3, np.nan, 7.0], dtype=np.float32))
    assert np.array_equal(inner.received[-1], np.array([0.1, -0.2, 0.3], dtype=np.float32))


def test_the_masks_mark_the_bodys_own_slots(layout):
    small, large = (
        MultiEmbodiment(ChainEnv((0.3, 0.2)), layout),
        MultiEmbodiment(ChainEnv((0.4, 0.3, 0.2, 0.1)), layout),
    )
    observation, _ = small.reset(seed=0)
    assert observation["action_mask"].tolist() == [1, 1, 1, 0, 0]
    assert observation["proprio_mask"].tolist() == [1, 1, 1, 1, 0, 0, 0, 0]
    assert observation["exteroception_mask"].tolist() == [1, 1, 1]
    observation, _ = large.reset(seed=0)
    assert observation["action_mask"].tolist() == [1] * 5
    assert observation["proprio_mask"].tolist() == [1] * 8


def test_proprioception_and_exteroception_come_from_the_named_indices(layout):
    inner = ChainEnv((0.3, 0.2))
    env = MultiEmbodiment(inner, layout)
    env.reset(seed=3)
    inner_observation = inner._observation()
    unified = env.unify_observation(inner_observation)
    vector = inner_observation["observation"]
    assert np.array_equal(unified["proprio"][:4], vector[3:7])
    assert np.array_equal(unified["proprio"][4:], np.zeros(4))
    assert np.array_equal(unified["exteroception"], vector[:3])
    assert np.array_equal(unified["desired_goal"], inner_observation["desired_goal"])
    assert env.proprio_names[0] == "j0_pos: joint_position (rad, joint)"
    assert env.proprio_names[4:] == (PADDING_NAME,) * 4


def test_the_descriptor_says_what_each_slot_drives(layout):
    env = MultiEmbodiment(ChainEnv((0.3, 0.2)), layout)
    observation, _ = env.reset(seed=0)
    rows = observation["embodiment"]
    column = {name: i for i, name in enumerate(DESCRIPTOR_FEATURES)}
    assert rows.shape == (5, len(DESCRIPTOR_FEATURES))
    assert rows[:3, column["valid"]].tolist() == [1, 1, 1]
    assert rows[:2, column["link_length_m"]].tolist() == [0.3, 0.2]
    assert rows[:2, column["chain_depth"]].tolist() == [0, 1]
    assert rows[:2, column["joint_hinge"]].tolist() == [1, 1]
    assert rows[0, column["low"]] == -1.5 and rows[0, column["high"]] == 1.5
    assert rows[2, column["quantity_gripper_command"]] == 1
    assert rows[2, column["joint_hinge"]] == 0
    assert not rows[3:].any()
    assert env.action_names[:2] == (
        "j0: joint_position_target (rad, joint)",
        "j1: joint_position_target (rad, joint)",
    )
    assert env.action_names[3:] == (PADDING_NAME, PADDING_NAME)


def test_observations_are_fresh_arrays(layout):
    env = MultiEmbodiment(ChainEnv((0.3, 0.2)), layout)
    first, _ = env.reset(seed=0)
    second, *_ = env.step(env.action_space.sample())
    for key in first:
        assert not np.shares_memory(first[key], second[key]), key


def test_bodies_under_one_layout_share_spaces_and_batch(layout):
    envs = [MultiEmbodiment(ChainEnv(lengths), layout) for lengths in ((0.3, 0.2), (1, 1, 1, 1))]
    assert envs[0].observation_space == envs[1].observation_space
    assert envs[0].action_space == envs[1].action_space
    vector = gymnasium.vector.SyncVectorEnv(
        [
            lambda: MultiEmbodiment(ChainEnv((0.3, 0.2)), layout),
            lambda: MultiEmbodiment(ChainEnv((1, 1, 1, 1)), layout),
        ]
    )
    observations, infos = vector.reset(seed=0)
    assert observations["action_mask"].tolist() == [[1, 1, 1, 0, 0], [1] * 5]
    observations, rewards, *_ = vector.step(np.ones((2, 5), dtype=np.float32))
    assert rewards.tolist() == [3.0, 5.0]
    vector.close()


def test_the_wrapped_env_passes_the_env_checker(layout):
    env = MultiEmbodiment(ChainEnv((0.3, 0.2)), layout)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env, skip_render_check=True)
    # The checker always notes that it was handed a wrapper; nothing else may be said.
    messages = [
        str(w.message) for w in caught if "different from the unwrapped" not in str(w.message)
    ]
    assert messages == []


def test_other_native_bounds_map_affinely():
    inner = ChainEnv((0.3,), action_low=-0.4, action_high=0.4)
    env = MultiEmbodiment(inner, SharedLayout.covering([inner]))
    native = np.array([0.4, -0.2], dtype=np.float32)
    assert np.array_equal(env.to_unified_action(native), [1.0, -0.5])
    assert np.allclose(env.to_native_action(env.to_unified_action(native)), native)


def test_bad_input_is_refused_with_what_is_accepted(layout):
    with pytest.raises(WrapperInputError, match="does not describe its body"):
        MultiEmbodiment(gymnasium.make("CartPole-v1"), layout)
    small = SharedLayout.covering([ChainEnv((0.3,))])
    with pytest.raises(WrapperInputError, match="build the layout with SharedLayout.covering"):
        MultiEmbodiment(ChainEnv((0.3, 0.2, 0.1)), small)
    env = MultiEmbodiment(ChainEnv((0.3, 0.2)), layout)
    with pytest.raises(WrapperInputError, match=r"shared shape \(5,\)"):
        env.step(np.zeros(3))
    with pytest.raises(WrapperInputError, match=r"shape \(3,\)"):
        env.to_unified_action(np.zeros(5))
    with pytest.raises(WrapperInputError, match="at least one"):
        SharedLayout.covering([])
    with pytest.raises(WrapperInputError, match="clash"):
        SharedLayout(2, 2, 0, (("proprio", 3),), 1.0)


def test_a_native_agent_acts_in_the_shared_spaces(layout):
    from wrappers.adapters import NativeAgent

    class FirstJointUp:
        def __init__(self):
            self.seen, self.seeds = [], []

        def act(self, observation):
            self.seen.append(observation)
            return np.array([0.5, 0.0, -1.0], dtype=np.float32)

        def reset(self, seed=None):
            self.seeds.append(seed)

    inner = ChainEnv((0.3, 0.2))
    env = MultiEmbodiment(inner, layout)
    native = FirstJointUp()
    agent = NativeAgent(native, env)
    agent.reset(seed=4)
    observation, _ = env.reset(seed=0)
    action = agent.act(observation)
    assert action.tolist() == [0.5, 0.0, -1.0, 0.0, 0.0]
    assert native.seen[0] is env.native_observation and "observation" in native.seen[0]
    env.step(action)
    assert inner.received[-1].tolist() == [0.5, 0.0, -1.0]
    assert native.seeds == [4]


def test_make_vector_refuses_unknown_modes_and_empty_lists(layout):
    from wrappers.multi_embodiment import make_vector

    with pytest.raises(WrapperInputError, match="accepted: sync, async"):
        make_vector(["CartPole-v1"], layout=layout, vectorization_mode="ray")
    with pytest.raises(WrapperInputError, match="at least one env id"):
        make_vector([], layout=layout)
