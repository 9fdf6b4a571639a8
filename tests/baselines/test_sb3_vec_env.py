"""SB3 on Portia's batched vector env: the same steps as SB3's DummyVecEnv, and it trains."""

import gymnasium
import numpy as np
import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import DummyVecEnv

from baselines.sb3_vec_env import Sb3VecEnv, make_sb3_vec_env
from portia_envs.errors import InvalidParameterError


def assert_same(a, b, where):
    if isinstance(a, dict):
        assert set(a) == set(b), (where, set(a) ^ set(b))
        for key in a:
            assert_same(a[key], b[key], f"{where}/{key}")
    else:
        x, y = np.asarray(a), np.asarray(b)
        assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes(), where


def test_each_step_equals_sb3s_dummy_vec_env_across_resets():
    limit, n = 8, 3
    ours = make_sb3_vec_env("Portia/Arm-v0", n, max_episode_steps=limit, nthread=2)
    dummy = DummyVecEnv(
        [lambda: gymnasium.make("Portia/Arm-v0", max_episode_steps=limit) for _ in range(n)]
    )
    ours.seed(21)
    dummy.seed(21)
    assert_same(ours.reset(), dummy.reset(), "reset")
    for i in range(n):
        assert_same(ours.reset_infos[i], dummy.reset_infos[i], f"reset info {i}")
    rng = np.random.default_rng(3)
    ended = 0
    for t in range(20):
        actions = rng.uniform(-1, 1, (n, 7)).astype(np.float32)
        ours.step_async(actions)
        dummy.step_async(actions)
        (obs, rewards, dones, infos), expected = ours.step_wait(), dummy.step_wait()
        assert_same(obs, expected[0], f"step {t} obs")
        assert_same(rewards, expected[1], f"step {t} rewards")
        assert_same(dones, expected[2], f"step {t} dones")
        for i in range(n):
            assert_same(infos[i], expected[3][i], f"step {t} info {i}")
            assert_same(ours.reset_infos[i], dummy.reset_infos[i], f"step {t} reset info {i}")
        ended += int(dones.sum())
    assert ended >= n  # every world reset at least once
    ours.close()
    dummy.close()


def test_attributes_and_methods_reach_the_worlds():
    envs = make_sb3_vec_env("Portia/ArmPush-v0", 2)
    assert envs.get_attr("task_name") == ["push", "push"]
    assert envs.get_attr("render_mode") == [None, None]
    assert envs.env_is_wrapped(gymnasium.Wrapper) == [False, False]
    envs.reset()
    holds = envs.env_method("hold_action", indices=[1])
    assert len(holds) == 1 and holds[0].shape == (7,)
    envs.set_attr("note", "x", indices=0)
    assert envs.get_attr("note", indices=[0]) == ["x"]
    envs.close()


def test_a_next_step_vector_env_or_a_single_env_is_refused():
    next_step = gymnasium.make_vec("Portia/ArmReach-v0", 2, vectorization_mode="vector_entry_point")
    with pytest.raises(InvalidParameterError, match="same-step autoreset"):
        Sb3VecEnv(next_step)
    with pytest.raises(InvalidParameterError, match="make_sb3_vec_env"):
        Sb3VecEnv(gymnasium.make("Portia/ArmReach-v0"))
    next_step.close()


def test_sb3_ppo_trains_on_it_briefly():
    envs = make_sb3_vec_env("Portia/ArmReach-v0", 4, nthread=2)
    model = PPO("MultiInputPolicy", envs, n_steps=32, batch_size=64, n_epochs=1, seed=0)
    model.learn(256)
    assert model.num_timesteps == 256
    action, _ = model.predict(envs.reset(), deterministic=True)
    assert action.shape == (4, 7)
    envs.close()
