"""The batched vector env: every world equals its single env, bit for bit; bad input refused."""

import pickle
import threading

import gymnasium
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import portia_envs  # noqa: F401  (registers the ids)
from portia_envs.envs.vector import ArmVectorEnv, PortiaVectorEnv, SpiderVectorEnv, tile
from portia_envs.errors import InvalidActionError, InvalidParameterError, InvalidStateError

# (id, keyword arguments, time limit): every arm family and body, the per-reset task draw,
# suites and splits, and the spider's two families. Short time limits force autoresets.
CASES = [
    ("Portia/Arm-v0", {}, 12),
    ("Portia/ArmReach-v0", {}, 12),
    ("Portia/ArmPush-v0", {}, 12),
    ("Portia/ArmPickPlace-v0", {}, 12),
    ("Portia/ArmSlide-v0", {}, 12),
    ("Portia/ArmStack-v0", {}, 12),
    ("Portia/ArmDrawer-v0", {}, 12),
    ("Portia/Arm4-v0", {}, 12),
    ("Portia/Arm4Push-v0", {"body": "arm4_long"}, 12),
    ("Portia/Arm-v0", {"suite": "arm-gen-v0", "split": "heldout"}, 12),
    ("Portia/Arm-v0", {"suite": "arm-bodies-v0", "body": "arm4"}, 12),
    ("Portia/SpiderPrey-v0", {}, 8),
    ("Portia/SpiderDetour-v0", {}, 8),
]
STEPS = 30


def make_vector(env_id, num_envs, max_episode_steps, **kwargs):
    return gymnasium.make_vec(
        env_id,
        num_envs=num_envs,
        vectorization_mode="vector_entry_point",
        max_episode_steps=max_episode_steps,
        **kwargs,
    )


def single_episode_steps(env_id, kwargs, limit, seed, actions):
    """One world by hand: the single env under next-step autoreset, every step's result."""
    env = gymnasium.make(env_id, max_episode_steps=limit, **kwargs)
    observation, info = env.reset(seed=seed)
    steps, ended = [(observation, info)], False
    for action in actions:
        if ended:
            observation, info = env.reset()
            steps.append((observation, 0.0, False, False, info))
            ended = False
        else:
            step = env.step(action)
            steps.append(step)
            ended = step[2] or step[3]
    env.close()
    return steps


def world_step(result, i):
    """World ``i``'s (observation, reward, terminated, truncated, info) from a vector step."""
    observations, rewards, terminated, truncated, info = result
    return (
        {key: value[i] for key, value in observations.items()},
        rewards[i],
        terminated[i],
        truncated[i],
        world_info(info, i),
    )


def world_info(info, i):
    """World ``i``'s info dict, as the single env returned it, from batched infos."""
    world = {}
    for key, value in info.items():
        if key.startswith("_") or not info[f"_{key}"][i]:
            continue
        world[key] = world_info(value, i) if isinstance(value, dict) else value[i]
    return world


def assert_bit_equal(a, b, where):
    if isinstance(a, dict):
        assert set(a) == set(b), (where, set(a) ^ set(b))
        for key in a:
            assert_bit_equal(a[key], b[key], f"{where}/{key}")
    elif isinstance(a, tuple):
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_bit_equal(x, y, f"{where}[{k}]")
    elif isinstance(a, np.ndarray) and a.dtype == object:
        assert b.dtype == object and a.shape == b.shape, where
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_bit_equal(x, y, f"{where}[{k}]")
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, (where, a.dtype, b.dtype)
        assert a.tobytes() == b.tobytes(), (where, a, b)
    else:
        assert type(a) is type(b) or np.asarray(a).dtype == np.asarray(b).dtype, (where, a, b)
        assert np.asarray(a).tobytes() == np.asarray(b).tobytes(), (where, a, b)


@pytest.mark.parametrize(("env_id", "kwargs", "limit"), CASES)
def test_each_world_equals_the_single_env_with_its_seed(env_id, kwargs, limit):
    envs = make_vector(env_id, 3, limit, nthread=2, **kwargs)
    actions = np.random.default_rng(7).uniform(-1.2, 1.2, (STEPS, *envs.action_space.shape))
    results = [envs.reset(seed=11)]
    results += [envs.step(action) for action in actions]
    task_ids = {str(task) for result in results for task in result[-1]["task_id"]}
    autoresets = 0
    for i in range(3):
        expected = single_episode_steps(env_id, kwargs, limit, 11 + i, actions[:, i])
        first_observation, first_info = results[0]
        assert_bit_equal(
            ({k: v[i] for k, v in first_observation.items()}, world_info(first_info, i)),
            expected[0],
            f"world {i} reset",
        )
        for t, (result, step) in enumerate(zip(results[1:], expected[1:], strict=True)):
            assert_bit_equal(world_step(result, i), step, f"world {i} step {t}")
            autoresets += "task_parameters" in step[-1]
    envs.close()
    assert autoresets >= 3  # every world started another episode
    if env_id == "Portia/Arm-v0" and "suite" not in kwargs:
        assert len(task_ids) > 1  # and the per-reset draw switched tasks


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_infos_and_autoreset_match_gymnasiums_sync_vector_env(mode):
    kwargs = {"max_episode_steps": 10}
    envs = make_vector("Portia/Arm-v0", 4, 10, autoreset_mode=mode)
    sync = gymnasium.make_vec(
        "Portia/Arm-v0",
        4,
        vectorization_mode="sync",
        vector_kwargs={"autoreset_mode": mode},
        **kwargs,
    )
    assert envs.metadata["autoreset_mode"] == mode
    assert_bit_equal(envs.reset(seed=3), sync.reset(seed=3), "reset")
    rng = np.random.default_rng(0)
    for t in range(25):
        action = rng.uniform(-1, 1, envs.action_space.shape)
        assert_bit_equal(envs.step(action), sync.step(action), f"step {t}")
    envs.close()
    sync.close()


def test_the_thread_count_does_not_change_a_single_bit():
    actions = np.random.default_rng(1).uniform(-1, 1, (20, 5, 7))
    runs = []
    for nthread in (1, 2, 3):
        envs = make_vector("Portia/ArmPickPlace-v0", 5, 150, nthread=nthread)
        assert envs.unwrapped.nthread == nthread
        steps = [envs.reset(seed=0)] + [envs.step(a) for a in actions]
        runs.append(pickle.dumps(steps))
        envs.close()
    assert runs[0] == runs[1] == runs[2]


def test_the_default_thread_count_is_the_cores_this_process_may_use():
    import os

    envs = make_vector("Portia/ArmReach-v0", 64, 100)
    assert envs.unwrapped.nthread == min(64, len(os.sched_getaffinity(0)))
    envs.close()


def test_spaces_and_spec_are_batched_from_the_single_env():
    envs = make_vector("Portia/SpiderPrey-v0", 4, 450)
    single = gymnasium.make("Portia/SpiderPrey-v0")
    assert isinstance(envs.unwrapped, SpiderVectorEnv)
    assert envs.single_action_space == single.action_space
    assert envs.single_observation_space == single.observation_space
    assert envs.action_space.shape == (4, 16)
    assert envs.observation_space["observation"].shape == (4, 51)
    assert envs.spec.id == "Portia/SpiderPrey-v0"
    assert envs.unwrapped.max_episode_steps == 450
    assert envs.unwrapped.dt == single.unwrapped.dt
    observations, _ = envs.reset(seed=0)
    assert envs.observation_space.contains(observations)
    envs.close()


def test_time_limit_truncates_every_world_and_the_next_step_starts_a_new_episode():
    envs = make_vector("Portia/ArmReach-v0", 2, 3)
    envs.reset(seed=0)
    hold = np.zeros(envs.action_space.shape)
    truncations = [envs.step(hold)[3] for _ in range(3)]
    assert [t.tolist() for t in truncations] == [[False, False], [False, False], [True, True]]
    _, rewards, terminated, truncated, info = envs.step(hold)
    assert rewards.tolist() == [0.0, 0.0]
    assert not terminated.any() and not truncated.any()
    assert info["_task_parameters"].all()
    envs.close()


def test_a_seed_per_world_and_reset_options_reach_every_world():
    envs = make_vector("Portia/Arm-v0", 3, 150)
    _, info = envs.reset(seed=[5, 6, 7], options={"task": "push"})
    assert info["task_id"].tolist() == ["arm-push"] * 3
    single = gymnasium.make("Portia/Arm-v0")
    _, single_info = single.reset(seed=6, options={"task": "push"})
    assert info["task_parameters"]["goal_x"][1] == single_info["task_parameters"]["goal_x"]
    with pytest.raises(InvalidParameterError, match="3 seeds"):
        envs.reset(seed=[1, 2])
    envs.close()


def test_bad_actions_are_refused_naming_the_world():
    envs = make_vector("Portia/ArmReach-v0", 4, 100)
    with pytest.raises(InvalidStateError, match="reset"):
        envs.step(np.zeros((4, 7)))
    envs.reset(seed=0)
    before = envs.unwrapped.worlds[2].get_state()
    with pytest.raises(InvalidActionError, match=r"shape \(4, 7\).*got \(3, 7\)"):
        envs.step(np.zeros((3, 7)))
    with pytest.raises(InvalidActionError, match=r"shape \(4, 7\).*got \(7,\)"):
        envs.step(np.zeros(7))
    bad = np.zeros((4, 7))
    bad[2, 3] = np.nan
    with pytest.raises(InvalidActionError, match="world 2 contains NaN"):
        envs.step(bad)
    bad[2, 3] = 0.0
    bad[3, 0] = np.inf
    with pytest.raises(InvalidActionError, match="world 3"):
        envs.step(bad)
    with pytest.raises(InvalidActionError, match="numeric"):
        envs.step([["a"] * 7] * 4)
    # A refused step changes nothing.
    assert envs.unwrapped.worlds[2].get_state().tobytes() == before.tobytes()
    envs.close()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_envs": 0}, "num_envs must be an int >= 1"),
        ({"nthread": 0}, "nthread must be an int >= 1"),
        ({"nthread": 1.5}, "nthread must be an int >= 1"),
        ({"max_episode_steps": 0}, "max_episode_steps must be an int >= 1"),
        ({"autoreset_mode": AutoresetMode.DISABLED}, "accepted: AutoresetMode.NEXT_STEP"),
        ({"autoreset_mode": "sometimes"}, "accepted: AutoresetMode.NEXT_STEP"),
        ({"render_mode": "ansi"}, "accepted: None, rgb_array, human"),
        ({"render_worlds": "some"}, "accepted: first, grid"),
        ({"render_mode": "human", "render_worlds": "grid"}, "a window shows world 0"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    arguments = {"num_envs": 2, "max_episode_steps": 10, **kwargs}
    with pytest.raises(InvalidParameterError, match=message):
        ArmVectorEnv(**arguments)


def test_the_single_envs_own_bad_arguments_are_refused_by_it():
    with pytest.raises(Exception, match="unknown suite|did you mean"):
        make_vector("Portia/Arm-v0", 2, 10, suite="arm-nope-v0")


def test_closing_stops_the_threads_and_recreating_works():
    baseline = threading.active_count()
    for _ in range(3):
        envs = make_vector("Portia/ArmReach-v0", 6, 100, nthread=3)
        envs.reset(seed=0)
        envs.step(np.zeros(envs.action_space.shape))
        # The pool starts a thread only when none is idle, so one may serve both tasks.
        assert baseline < threading.active_count() <= baseline + 2
        envs.close()
        assert threading.active_count() == baseline


def test_rgb_array_renders_world_zero_or_the_grid_of_every_world():
    single = gymnasium.make("Portia/ArmPush-v0", render_mode="rgb_array", width=64, height=48)
    single.reset(seed=4)
    first = make_vector("Portia/ArmPush-v0", 5, 150, render_mode="rgb_array", width=64, height=48)
    first.reset(seed=4)
    assert first.render().tobytes() == single.render().tobytes()
    grid = make_vector(
        "Portia/ArmPush-v0",
        5,
        150,
        render_mode="rgb_array",
        render_worlds="grid",
        width=64,
        height=48,
    )
    grid.reset(seed=0)
    frame = grid.render()
    assert frame.shape == (2 * 48, 3 * 64, 3)
    # Each tile is its own world, drawn with its own block (sizes and colours differ).
    tiles = [
        frame[r * 48 : (r + 1) * 48, c * 64 : (c + 1) * 64] for r in range(2) for c in range(3)
    ]
    world_four = gymnasium.make("Portia/ArmPush-v0", render_mode="rgb_array", width=64, height=48)
    world_four.reset(seed=4)
    assert tiles[4].tobytes() == world_four.render().tobytes()
    assert tiles[0].tobytes() != tiles[4].tobytes()
    assert not tiles[5].any()  # past the last world
    for env in (single, first, grid, world_four):
        env.close()


def test_tile_lays_frames_out_in_rows():
    frames = [np.full((2, 3, 3), k, dtype=np.uint8) for k in (1, 2, 3)]
    grid = tile(frames)
    assert grid.shape == (4, 6, 3)
    assert grid[0, 0, 0] == 1 and grid[0, 3, 0] == 2 and grid[2, 0, 0] == 3 and grid[2, 3, 0] == 0


def test_every_mujoco_id_has_the_vector_entry_point():
    from gymnasium.envs.registration import registry

    mujoco_ids = [
        env_id
        for env_id, spec in registry.items()
        if env_id.startswith("Portia/") and "detour" not in str(spec.entry_point)
    ]
    assert len(mujoco_ids) == 12
    for env_id in mujoco_ids:
        creator = gymnasium.envs.registration.load_env_creator(registry[env_id].vector_entry_point)
        assert issubclass(creator, PortiaVectorEnv)


def test_human_mode_shows_world_zero_in_a_window_closed_with_the_env():
    import pygame

    envs = make_vector("Portia/ArmReach-v0", 2, 100, render_mode="human", width=64, height=48)
    envs.reset(seed=0)
    envs.step(np.zeros(envs.action_space.shape))
    assert pygame.display.get_surface().get_size() == (64, 48)
    envs.close()
    assert pygame.display.get_surface() is None


def test_call_get_attr_and_set_attr_reach_every_world_as_in_sync_vector_env():
    envs = make_vector("Portia/Arm-v0", 3, 150)
    envs.reset(seed=0)
    assert envs.get_attr("task_name") == tuple(w.task_name for w in envs.unwrapped.worlds)
    holds = envs.call("hold_action")
    assert len(holds) == 3 and all(h.shape == (7,) for h in holds)
    assert envs.call("dt") == (0.04, 0.04, 0.04)  # an attribute is read, not called
    envs.set_attr("note", ["a", "b", "c"])
    assert envs.get_attr("note") == ("a", "b", "c")
    with pytest.raises(InvalidParameterError, match="one value for all worlds or 3 values"):
        envs.set_attr("note", ["a"])
    # A state restored through call is taken into the batch: the next step equals the
    # world's own from that state.
    other = make_vector("Portia/Arm-v0", 3, 150)
    other.reset(seed=9)
    states = other.call("get_state")
    envs.call("set_state", states[1])
    action = np.full((3, 7), 0.2)
    observations = envs.step(action)[0]
    expected = other.unwrapped.worlds[1].step(action[1])[0]
    assert observations["observation"][2].tobytes() == expected["observation"].tobytes()
    envs.close()
    other.close()


def test_gymnasiums_vector_wrappers_work_on_it():
    from gymnasium.wrappers.vector import FlattenObservation, RecordEpisodeStatistics

    envs = RecordEpisodeStatistics(make_vector("Portia/ArmReach-v0", 4, 5))
    envs.reset(seed=0)
    for _ in range(5):
        *_, info = envs.step(np.zeros((4, 7)))
    assert info["_episode"].all() and (info["episode"]["l"] == 5).all()
    flat = FlattenObservation(make_vector("Portia/ArmReach-v0", 2, 100))
    observations, _ = flat.reset(seed=0)
    assert observations.shape == (2, 55 + 3 + 3 + 6)
    envs.close()
    flat.close()
