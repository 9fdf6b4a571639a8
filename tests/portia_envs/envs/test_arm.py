import pickle

import gymnasium
import mujoco
import numpy as np
import pytest

import portia_envs
from portia_envs.envs.arm import TASK_STATE_SIZE, ArmEnv
from portia_envs.errors import InvalidActionError, InvalidStateError, UnknownTaskError
from portia_envs.tasks import ARM_TASK_NAMES
from portia_envs.tasks.observation import OBSERVATION_LAYOUT, PARTS
from portia_envs.tasks.push import PushTask
from tests.portia_envs.checks import (
    assert_rollout_equals_stepping,
    assert_same_steps,
    random_trajectory,
    trajectory_digests,
)

ENV_IDS = sorted(portia_envs.ENV_SPECS)


def test_docstring_layout_matches_observation_space():
    env = ArmEnv()
    assert (
        sum(size for _, size, _ in OBSERVATION_LAYOUT)
        == env.observation_space["observation"].shape[0]
    )
    assert env.observation_space["observation"].shape == (55,)
    doc = " ".join(ArmEnv.__doc__.split())
    assert "``observation`` (55,)" in doc
    for name, size, _ in OBSERVATION_LAYOUT:
        assert f"{name} ({size}" in doc or name.endswith("_size")
    for key, shape in (("achieved_goal", (3,)), ("desired_goal", (3,)), ("task", (6,))):
        assert env.observation_space[key].shape == shape
        assert f"``{key}`` {shape}" in ArmEnv.__doc__
    assert env.action_space.shape == (7,)
    assert env.dt == pytest.approx(0.04)


@pytest.mark.parametrize("task", ARM_TASK_NAMES)
def test_observation_parts_are_the_named_quantities(task):
    env = ArmEnv(task=task)
    observation, _ = env.reset(seed=3)
    model, data = env.sim.model, env.sim.data
    vector = observation["observation"]
    part = {name: vector[where] for name, where in PARTS.items()}
    np.testing.assert_allclose(part["grip_pos"], data.site("grip").xpos, atol=1e-12)
    for body in ("block", "support"):
        np.testing.assert_allclose(part[f"{body}_pos"], data.body(body).xpos, atol=1e-12)
        np.testing.assert_allclose(part[f"{body}_size"], model.geom(body).size[:1])
    np.testing.assert_allclose(part["handle_pos"], data.site("handle").xpos, atol=1e-12)
    np.testing.assert_allclose(part["drawer_pos"], data.joint("drawer").qpos)
    np.testing.assert_allclose(part["block_rel_pos"], part["block_pos"] - part["grip_pos"])
    np.testing.assert_allclose(part["handle_rel_pos"], part["handle_pos"] - part["grip_pos"])
    achieved = {"reach": "grip_pos", "drawer": "handle_pos"}.get(task, "block_pos")
    np.testing.assert_array_equal(observation["achieved_goal"], part[achieved])
    np.testing.assert_array_equal(observation["task"], np.eye(6)[ARM_TASK_NAMES.index(task)])


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_same_seed_gives_bit_identical_500_steps(env_id):
    first = random_trajectory(gymnasium.make(env_id), seed=11, n_steps=500)
    second = random_trajectory(gymnasium.make(env_id), seed=11, n_steps=500)
    assert_same_steps(first, second)


def test_same_seed_gives_the_same_episode_in_two_processes():
    assert len(trajectory_digests("Portia/Arm-v0", 500)) == 1


def test_observations_are_fresh_arrays_in_the_space(push_env):
    previous, _ = push_env.reset(seed=0)
    push_env.action_space.seed(0)
    for _ in range(5):
        observation, *_ = push_env.step(push_env.action_space.sample())
        assert push_env.observation_space.contains(observation)
        for key in observation:
            assert not np.shares_memory(observation[key], previous[key])
        previous = observation


@pytest.mark.parametrize("env_id", ["Portia/ArmPush-v0", "Portia/ArmPickPlace-v0"])
def test_observations_stay_in_their_space_under_random_actions(env_id):
    # Random actions can fling the block: the episode ends before it leaves the bounds.
    env = gymnasium.make(env_id)
    for seed in range(12):
        observation, _ = env.reset(seed=seed)
        env.action_space.seed(seed)
        done = False
        while not done:
            assert env.observation_space.contains(observation)
            observation, _, terminated, truncated, _ = env.step(env.action_space.sample())
            done = terminated or truncated
        assert env.observation_space.contains(observation)


def test_set_state_mid_episode_reproduces_the_continuation():
    env = ArmEnv(task="pick_place")
    rng = np.random.default_rng(1)
    env.reset(seed=2)
    for _ in range(30):
        env.step(rng.uniform(-1, 1, 7))
    state = env.get_state()
    actions = rng.uniform(-1, 1, (40, 7))
    original = [env.step(a) for a in actions]

    env.set_state(state)
    assert_same_steps([env.step(a) for a in actions], original)

    fresh = ArmEnv(task="pick_place")
    fresh.set_state(state)
    assert_same_steps([fresh.step(a) for a in actions], original)


def test_set_state_restores_the_task_of_a_multi_task_env():
    env = ArmEnv()
    env.reset(seed=0, options={"task": "reach"})
    state = env.get_state()
    env.reset(seed=0, options={"task": "push"})
    env.set_state(state)
    assert env.task_name == "reach"
    np.testing.assert_array_equal(env.get_state(), state)


def test_reward_is_the_sum_of_its_terms_and_compute_reward_agrees_batched(push_env):
    steps = random_trajectory(push_env, seed=9, n_steps=120)[1:]
    achieved = np.array([s[0]["achieved_goal"] for s in steps])
    desired = np.array([s[0]["desired_goal"] for s in steps])
    rewards = np.array([s[1] for s in steps])
    infos = [s[4] for s in steps]
    for reward, info in zip(rewards, infos, strict=True):
        assert reward == info["reward_distance"] + info["reward_approach"]
    env = push_env.unwrapped
    np.testing.assert_array_equal(env.compute_reward(achieved, desired, infos), rewards)
    np.testing.assert_array_equal(env.compute_reward(achieved, desired, np.array(infos)), rewards)
    one = env.compute_reward(achieved[7], desired[7], infos[7])
    assert one == rewards[7]


def test_compute_reward_relabels_goals():
    env = ArmEnv(task="reach")
    achieved = np.array([[0.4, 0.0, 0.1], [0.4, 0.3, 0.5]])
    desired = np.array([[0.4, 0.0, 0.1], [0.4, 0.0, 0.1]])
    # A 3-4-5 triangle: the second goal is 0.5 m away; reach has no approach term.
    np.testing.assert_allclose(env.compute_reward(achieved, desired, None), [0.0, -0.5])


def test_empty_infos_score_the_goal_term_alone(push_env):
    """Stable-Baselines3's HerReplayBuffer passes empty info dicts (copy_info_dict=False)."""
    steps = random_trajectory(push_env, seed=5, n_steps=40)[1:]
    achieved = np.array([s[0]["achieved_goal"] for s in steps])
    desired = np.array([s[0]["desired_goal"] for s in steps])
    distance = np.array([s[4]["reward_distance"] for s in steps])
    env = push_env.unwrapped
    empty = np.array([{} for _ in steps], dtype=object).reshape(-1, 1)
    goal_alone = env.compute_reward(achieved[:, None], desired[:, None], empty)
    np.testing.assert_array_equal(goal_alone[:, 0], distance)
    np.testing.assert_array_equal(env.compute_reward(achieved, desired, {}), distance)
    assert np.any(distance != np.array([s[1] for s in steps]))  # the approach term is gone


@pytest.mark.parametrize("task", ["reach", "push", "pick_place"])
def test_rollout_equals_stepping_and_leaves_the_env_untouched(task):
    env = ArmEnv(task=task)
    env.reset(seed=7)
    for _ in range(5):
        env.step(env.action_space.sample())
    actions = np.random.default_rng(3).uniform(-1.3, 1.3, (3, 12, 7))
    assert_rollout_equals_stepping(env, actions, atol=1e-9)


def test_rollout_rejects_bad_batches(push_env):
    env = push_env.unwrapped
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match=r"horizon >= 1"):
        env.rollout(np.zeros((2, 0, 7)))
    with pytest.raises(InvalidActionError, match=r"\(batch >= 1, horizon >= 1, 7\)"):
        env.rollout(np.zeros((2, 7)))
    with pytest.raises(InvalidActionError, match="NaN"):
        env.rollout(np.full((1, 2, 7), np.nan))


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (np.zeros(6), r"shape \(7,\)"),
        (np.zeros((1, 7)), r"shape \(7,\)"),
        (np.array([np.nan, 0, 0, 0, 0, 0, 0]), "NaN"),
        (np.array([np.inf, 0, 0, 0, 0, 0, 0]), "finite"),
        (["a"] * 7, "numeric"),
    ],
)
def test_bad_actions_say_what_is_accepted(push_env, action, message):
    push_env.reset(seed=0)
    with pytest.raises(InvalidActionError, match=message):
        push_env.step(action)


def test_out_of_range_actions_are_clipped():
    clipped, wild = ArmEnv(task="push"), ArmEnv(task="push")
    clipped.reset(seed=1)
    wild.reset(seed=1)
    action = np.array([3.0, -7.0, 0.5, 1.0, -1.0, 40.0, 2.0])
    for _ in range(5):
        a = clipped.step(np.clip(action, -1, 1))
        b = wild.step(action)
        assert pickle.dumps(a) == pickle.dumps(b)


def test_unknown_task_names_list_the_known_ones():
    with pytest.raises(
        UnknownTaskError, match=r"'puhs'.*reach, push, pick_place.*did you mean 'push'"
    ):
        gymnasium.make("Portia/Arm-v0", task="puhs")
    env = ArmEnv()
    with pytest.raises(UnknownTaskError, match="known arm tasks"):
        env.reset(options={"task": "lift"})
    with pytest.raises(ValueError, match="accepted: task"):
        env.reset(options={"goal": 1})


def test_task_is_drawn_per_reset_unless_fixed():
    env = ArmEnv()
    drawn = {env.reset(seed=seed)[1]["task_id"] for seed in range(40)}
    assert drawn == {f"arm-{name}" for name in ARM_TASK_NAMES}
    fixed = ArmEnv(task="push")
    assert {fixed.reset(seed=seed)[1]["task_id"] for seed in range(5)} == {"arm-push"}
    _, info = fixed.reset(seed=0, options={"task": "reach"})
    assert info["task_id"] == "arm-reach"
    assert fixed.reset(seed=0)[1]["task_id"] == "arm-push"


def test_info_carries_success_task_and_instruction(push_env):
    _, info = push_env.reset(seed=0)
    step_keys = {"is_success", "task_id", "instruction", "reward_distance", "reward_approach"}
    assert set(info) == step_keys | {"task_parameters"}
    assert set(info["task_parameters"]) == set(PushTask.default_ranges)
    assert set(push_env.step(np.zeros(7))[-1]) == step_keys
    assert info["instruction"].startswith("push the ")
    assert " block to the green target " in info["instruction"]
    _, again = push_env.reset(seed=0)
    assert again["instruction"] == info["instruction"]


def test_block_falling_off_the_table_terminates_the_episode():
    env = ArmEnv(task="push")
    env.reset(seed=0)
    block = env.sim.model.joint("block").qposadr[0]
    env.sim.data.qpos[block : block + 3] = [0.9, 0.0, 0.05]  # just past the table's far edge
    mujoco.mj_forward(env.sim.model, env.sim.data)
    hold = env.get_state()
    terminated = False
    for _ in range(10):
        *_, terminated, truncated, _ = env.step(np.zeros(7))
        if terminated:
            break
    assert terminated
    assert env.get_state()[:3].tolist() != hold[:3].tolist()


def test_step_before_reset_and_bad_states_are_refused():
    env = ArmEnv()
    with pytest.raises(InvalidStateError, match="reset"):
        env.step(np.zeros(7))
    env.reset(seed=0)
    with pytest.raises(InvalidStateError, match="get_state"):
        env.set_state(np.zeros(3))
    state = env.get_state()
    bad = state.copy()
    bad[-1] = np.nan
    with pytest.raises(InvalidStateError, match="task part of the state contains NaN"):
        env.set_state(bad)
    state[-TASK_STATE_SIZE] = 7
    with pytest.raises(InvalidStateError, match="0..5"):
        env.set_state(state)


def test_rgb_array_rendering_shows_the_scene():
    env = ArmEnv(task="push", render_mode="rgb_array", width=160, height=120)
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (120, 160, 3) and frame.dtype == np.uint8
    assert frame.std() > 10  # not a blank image
    top = ArmEnv(task="push", render_mode="rgb_array", camera="top", width=160, height=120)
    top.reset(seed=0)
    assert not np.array_equal(top.render(), frame)
    env.close()
    top.close()


def test_human_rendering_opens_a_window():
    env = ArmEnv(task="reach", render_mode="human", width=64, height=48)
    env.reset(seed=0)
    env.step(np.zeros(7))
    import pygame

    assert pygame.display.get_surface().get_size() == (64, 48)
    env.close()
    assert pygame.display.get_surface() is None


def test_bad_render_arguments_are_refused():
    with pytest.raises(ValueError, match="accepted: None, human, rgb_array"):
        ArmEnv(render_mode="video")
    with pytest.raises(ValueError, match="accepted: overview, top"):
        ArmEnv(camera="side")
    with pytest.raises(ValueError, match=r"2000x100 is not accepted: width must be 1..1280"):
        ArmEnv(render_mode="rgb_array", width=2000, height=100)
