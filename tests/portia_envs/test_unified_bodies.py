"""Portia's bodies behind MultiEmbodiment: the arm, the four-joint arm and the spider."""

import gymnasium
import numpy as np
import pytest

import portia_envs  # noqa: F401  (registers the ids)
from wrappers import MultiEmbodiment, SharedLayout
from wrappers.multi_embodiment import make_vector
from wrappers.shared_layout import DESCRIPTOR_FEATURES

BODY_IDS = ("Portia/ArmReach-v0", "Portia/Arm4Reach-v0", "Portia/SpiderPrey-v0")


@pytest.fixture(scope="module")
def layout():
    return SharedLayout.covering(list(BODY_IDS))


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_three_bodies_step_in_one_vector_env_with_one_batched_action(layout, mode):
    envs = make_vector(BODY_IDS, layout=layout, vectorization_mode=mode)
    observations, infos = envs.reset(seed=0)
    assert infos["embodiment"].tolist() == ["arm", "arm4", "spider"]
    sizes = [gymnasium.make(env_id).action_space.shape[0] for env_id in BODY_IDS]
    assert observations["action_mask"].sum(axis=1).tolist() == sizes
    actions = np.random.default_rng(0).uniform(-1, 1, (3, layout.action_size)).astype(np.float32)
    for _ in range(3):
        observations, rewards, terminated, truncated, infos = envs.step(actions)
    assert rewards.shape == (3,) and np.isfinite(rewards).all()
    assert observations["proprio"].shape == (3, layout.proprio_size)
    descriptors = observations["embodiment"]
    assert descriptors.shape == (3, layout.action_size, len(DESCRIPTOR_FEATURES))
    assert not np.array_equal(descriptors[0], descriptors[1])
    envs.close()


@pytest.mark.parametrize("env_id", BODY_IDS)
def test_native_to_unified_to_native_is_exact_and_the_mask_is_right(env_id, layout):
    env = MultiEmbodiment(gymnasium.make(env_id), layout)
    native_space = env.env.action_space
    native_space.seed(1)
    for _ in range(20):
        native = native_space.sample()
        unified = env.to_unified_action(native)
        assert np.array_equal(env.to_native_action(unified), native)
        assert not unified[native.size :].any()
    observation, _ = env.reset(seed=0)
    n = native_space.shape[0]
    assert observation["action_mask"].tolist() == [1] * n + [0] * (layout.action_size - n)
    assert len(env.action_names) == layout.action_size
    assert env.action_names[n:] == ("padding (ignored)",) * (layout.action_size - n)


@pytest.mark.parametrize("env_id", BODY_IDS)
def test_proprioception_is_the_bodys_joint_positions_first(env_id, layout):
    env = MultiEmbodiment(gymnasium.make(env_id), layout)
    observation, _ = env.reset(seed=2)
    body, model, data = env.body, env.unwrapped.sim.model, env.unwrapped.sim.data
    for slot, dimension in enumerate(body.proprioception):
        if dimension.quantity == "joint_position":
            joint = body.joints[dimension.joint]
            assert observation["proprio"][slot] == data.qpos[model.joint(joint.name).qposadr[0]]
    n = len(body.proprioception)
    assert observation["proprio_mask"].tolist() == [1] * n + [0] * (layout.proprio_size - n)


@pytest.mark.parametrize("env_id", BODY_IDS)
def test_the_wrapped_trajectory_is_the_unwrapped_one(env_id, layout):
    plain = gymnasium.make(env_id)
    wrapped = MultiEmbodiment(gymnasium.make(env_id), layout)
    plain.reset(seed=5)
    wrapped.reset(seed=5)
    rng = np.random.default_rng(5)
    for _ in range(10):
        unified = rng.uniform(-1, 1, layout.action_size).astype(np.float32)
        expected = plain.step(wrapped.to_native_action(unified))
        got = wrapped.step(unified)
        assert got[1:4] == expected[1:4]
        assert np.array_equal(wrapped.native_observation["observation"], expected[0]["observation"])
        assert np.array_equal(got[0]["desired_goal"], expected[0]["desired_goal"])


def test_a_held_out_body_variant_is_told_apart_by_its_descriptor(layout):
    short = MultiEmbodiment(gymnasium.make("Portia/Arm4Reach-v0"), layout)
    long = MultiEmbodiment(gymnasium.make("Portia/Arm4Reach-v0", body="arm4_long"), layout)
    length = DESCRIPTOR_FEATURES.index("link_length_m")
    a = short.reset(seed=0)[0]["embodiment"][:, length]
    b = long.reset(seed=0)[0]["embodiment"][:, length]
    assert (b >= a).all() and (b > a).any()
    assert short.observation_space == long.observation_space
