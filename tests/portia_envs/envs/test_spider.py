import pickle

import gymnasium
import mujoco
import numpy as np
import pytest

import portia_envs  # noqa: F401  (registers the ids)
from portia_envs.embodiments.spider import LEG_LENGTH_M, SPIDER_JOINTS, joint_ranges
from portia_envs.envs.spider import TASK_STATE_SIZE, SpiderEnv
from portia_envs.errors import InvalidActionError, InvalidStateError, UnknownTaskError
from portia_envs.registration import SPIDER_SPECS
from portia_envs.scenes.arena import WALL_HALF_THICKNESS_M, WALL_PARKED_POS
from portia_envs.tasks.spider import (
    FLIPPED_UP_Z,
    SPIDER_OBSERVATION_LAYOUT,
    SPIDER_PARTS,
    DetourTask,
    PreyTask,
)
from tests.portia_envs.checks import (
    assert_same_steps,
    random_trajectory,
    trajectory_digests,
)
from wrappers.embodiment import Embodiment

SPIDER_IDS = sorted(SPIDER_SPECS)
FAMILIES = ("prey", "detour")


def heading(quat):
    w, x, y, z = quat
    return np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))


def to_heading_frame(point_xy, origin_xy, yaw):
    c, s = np.cos(yaw), np.sin(yaw)
    dx, dy = np.subtract(point_xy, origin_xy)
    return np.array([c * dx + s * dy, c * dy - s * dx])


def test_ids_are_registered_with_the_spider_entry_point():
    assert SPIDER_IDS == ["Portia/SpiderDetour-v0", "Portia/SpiderPrey-v0"]
    for env_id in SPIDER_IDS:
        spec = gymnasium.spec(env_id)
        assert spec.entry_point == "portia_envs.envs.spider:SpiderEnv"
        assert spec.max_episode_steps == SPIDER_SPECS[env_id][1]
        assert gymnasium.make(env_id).unwrapped.task_name == spec.kwargs["task"]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_make_vec_steps_the_spider(mode):
    envs = gymnasium.make_vec("Portia/SpiderDetour-v0", num_envs=2, vectorization_mode=mode)
    observations, infos = envs.reset(seed=[1, 2])
    assert observations["observation"].shape == (2, 51)
    for _ in range(3):
        observations, rewards, *_ = envs.step(envs.action_space.sample())
    assert rewards.shape == (2,) and np.isfinite(rewards).all()
    assert not np.array_equal(observations["observation"][0], observations["observation"][1])
    envs.close()


def test_docstring_layout_matches_the_spaces():
    env = SpiderEnv()
    size = sum(size for _, size, _ in SPIDER_OBSERVATION_LAYOUT)
    assert env.observation_space["observation"].shape == (size,) == (51,)
    doc = " ".join(SpiderEnv.__doc__.split())
    assert f"``observation`` ({size},)" in doc
    for name, part_size, _ in SPIDER_OBSERVATION_LAYOUT:
        assert f"{name} ({part_size}," in doc
    for key in ("achieved_goal", "desired_goal"):
        assert env.observation_space[key].shape == (3,)
        assert f"``{key}`` (3,)" in doc
    assert set(env.observation_space.spaces) == {"observation", "achieved_goal", "desired_goal"}
    assert env.action_space.shape == (16,)
    assert "``Box(-1, 1, (16,), float32)``" in doc
    assert env.dt == pytest.approx(0.04)
    assert "``dt`` = 0.04 s: 10 physics steps of 4 ms" in doc
    assert env.n_substeps * env.sim.model.opt.timestep == pytest.approx(env.dt)


def step_and_replay(env, action):
    """Step ``env``; return its observation and a copy of the physics where its sensors read.

    MuJoCo evaluates sensors at the start of a physics step, so the readings after a
    control period are those of the state one physics step before its end.
    """
    model, data = env.sim.model, env.sim.data
    replay = mujoco.MjData(model)
    mujoco.mj_copyData(replay, model, data)
    replay.ctrl[:] = env.controls(action)
    observation, *_ = env.step(action)
    mujoco.mj_step(model, replay, nstep=env.n_substeps - 1)
    mujoco.mj_forward(model, replay)
    return observation, replay


@pytest.mark.parametrize("task", FAMILIES)
def test_observation_parts_are_the_named_quantities(task):
    env = SpiderEnv(task=task)
    env.reset(seed=3)
    for _ in range(15):
        env.step(env.action_space.sample())
    observation, data = step_and_replay(env, env.action_space.sample())
    model = env.sim.model
    vector = observation["observation"]
    part = {name: vector[where] for name, where in SPIDER_PARTS.items()}
    qpos = [data.joint(j).qpos[0] for j in SPIDER_JOINTS]
    qvel = [data.joint(j).qvel[0] for j in SPIDER_JOINTS]
    np.testing.assert_array_equal(part["joint_pos"], qpos)
    np.testing.assert_array_equal(part["joint_vel"], qvel)
    torso = data.body("torso")
    np.testing.assert_allclose(part["torso_height"], torso.xpos[2], atol=1e-12)
    np.testing.assert_allclose(part["torso_quat"], torso.xquat, atol=1e-12)
    # Velocities in the torso's frame, as an IMU reads them.
    velocity = np.empty(6)
    mujoco.mj_objectVelocity(
        model, data, mujoco.mjtObj.mjOBJ_SITE, model.site("torso").id, velocity, 1
    )
    np.testing.assert_allclose(part["torso_angvel"], velocity[:3], atol=1e-9)
    np.testing.assert_allclose(part["torso_vel"], velocity[3:], atol=1e-9)
    yaw = heading(torso.xquat)
    prey = data.body("prey").xpos
    np.testing.assert_allclose(
        part["prey_rel_pos"][:2], to_heading_frame(prey[:2], torso.xpos[:2], yaw), atol=1e-9
    )
    np.testing.assert_allclose(part["prey_rel_pos"][2], prey[2] - torso.xpos[2], atol=1e-12)
    fangs = data.site("fangs").xpos
    np.testing.assert_allclose(observation["achieved_goal"], [fangs[0], fangs[1], 0], atol=1e-12)
    np.testing.assert_array_equal(observation["desired_goal"], [prey[0], prey[1], 0])
    if task == "prey":
        assert part["wall_present"] == 0 and not part["wall_ends"].any()
        np.testing.assert_array_equal(data.body("wall").xpos, WALL_PARKED_POS)
    else:
        wall = data.body("wall")
        along = wall.xmat.reshape(3, 3)[:, 1] * model.geom("wall").size[1]
        ends = [wall.xpos[:2] - along[:2], wall.xpos[:2] + along[:2]]
        expected = np.concatenate([to_heading_frame(e, torso.xpos[:2], yaw) for e in ends])
        assert part["wall_present"] == 1
        np.testing.assert_allclose(part["wall_ends"], expected, atol=1e-9)


def test_same_seed_gives_the_same_episode_in_two_processes():
    assert len(trajectory_digests("Portia/SpiderDetour-v0", 200)) == 1


def test_observations_are_fresh_arrays_in_the_space():
    env = SpiderEnv(task="detour")
    previous, _ = env.reset(seed=0)
    env.action_space.seed(0)
    for _ in range(5):
        observation, *_ = env.step(env.action_space.sample())
        assert env.observation_space.contains(observation)
        for key in observation:
            assert not np.shares_memory(observation[key], previous[key])
        previous = observation


@pytest.mark.parametrize("task", FAMILIES)
def test_set_state_mid_episode_reproduces_the_continuation(task):
    env = SpiderEnv(task=task)
    rng = np.random.default_rng(1)
    env.reset(seed=2)
    for _ in range(30):
        env.step(rng.uniform(-1, 1, 16))
    state = env.get_state()
    actions = rng.uniform(-1, 1, (40, 16))
    original = [env.step(a) for a in actions]

    env.set_state(state)
    np.testing.assert_array_equal(env.get_state(), state)
    assert_same_steps([env.step(a) for a in actions], original)

    # A fresh env takes the task (the fly, the wall) from the state too.
    fresh = SpiderEnv(task=task)
    fresh.set_state(state)
    assert_same_steps([fresh.step(a) for a in actions], original)
    assert fresh.instruction == env.instruction


def test_set_state_restores_the_wall_after_another_reset():
    env = SpiderEnv(task="detour")
    env.reset(seed=0)
    state = env.get_state()
    wall = env.sim.model.body_pos[env.sim.model.body("wall").id].copy()
    env.reset(seed=1)
    env.set_state(state)
    np.testing.assert_array_equal(env.sim.model.body_pos[env.sim.model.body("wall").id], wall)
    np.testing.assert_array_equal(env.get_state(), state)


def test_bad_states_are_refused():
    env = SpiderEnv(task="detour")
    with pytest.raises(InvalidStateError, match="reset"):
        env.step(np.zeros(16))
    env.reset(seed=0)
    with pytest.raises(InvalidStateError, match="get_state"):
        env.set_state(np.zeros(3))
    state = env.get_state()
    bad = state.copy()
    bad[-1] = np.nan
    with pytest.raises(InvalidStateError, match="task part of the state contains NaN"):
        env.set_state(bad)
    with pytest.raises(InvalidStateError, match=f"has {TASK_STATE_SIZE} values"):
        env.set_state(np.concatenate([state, [0.0]]))
    prey = SpiderEnv(task="prey")
    with pytest.raises(InvalidStateError, match="this env's family is 'prey'"):
        prey.set_state(state)
    bad = state.copy()
    bad[-1] = 3.0  # a wall longer than the arena's
    with pytest.raises(InvalidStateError, match="half-length"):
        env.set_state(bad)


def test_reward_is_the_sum_of_its_terms_and_compute_reward_agrees_batched():
    env = gymnasium.make("Portia/SpiderDetour-v0")
    steps = random_trajectory(env, seed=9, n_steps=150)[1:]
    achieved = np.array([s[0]["achieved_goal"] for s in steps])
    desired = np.array([s[0]["desired_goal"] for s in steps])
    rewards = np.array([s[1] for s in steps])
    infos = [s[4] for s in steps]
    for reward, info in zip(rewards, infos, strict=True):
        assert reward == info["reward_distance"] + info["reward_upright"]
    assert min(info["reward_upright"] for info in infos) < 0.0  # random legs tilt the torso
    base = env.unwrapped
    np.testing.assert_array_equal(base.compute_reward(achieved, desired, infos), rewards)
    np.testing.assert_array_equal(base.compute_reward(achieved, desired, np.array(infos)), rewards)
    terms = {"reward_upright": np.array([i["reward_upright"] for i in infos])}
    np.testing.assert_array_equal(base.compute_reward(achieved, desired, terms), rewards)
    assert base.compute_reward(achieved[7], desired[7], infos[7]) == rewards[7]


def test_compute_reward_relabels_goals_in_the_ground_plane():
    env = SpiderEnv()
    achieved = np.array([[1.0, 0.0, 0.0], [1.3, 0.4, 0.7]])
    desired = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    # A 3-4-5 triangle on the ground; height does not count.
    np.testing.assert_allclose(env.compute_reward(achieved, desired, None), [0.0, -0.5])
    with pytest.raises(ValueError, match="last axis of size 3"):
        env.compute_reward(np.zeros(2), np.zeros(2), None)


def test_rollout_rejects_bad_batches():
    env = SpiderEnv()
    with pytest.raises(InvalidStateError, match="reset"):
        env.rollout(np.zeros((1, 1, 16)))
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match=r"horizon >= 1"):
        env.rollout(np.zeros((2, 0, 16)))
    with pytest.raises(InvalidActionError, match=r"\(batch >= 1, horizon >= 1, 16\)"):
        env.rollout(np.zeros((2, 16)))
    with pytest.raises(InvalidActionError, match="NaN"):
        env.rollout(np.full((1, 2, 16), np.nan))


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (np.zeros(15), r"shape \(16,\) \(values in \[-1, 1\]\), got \(15,\)"),
        (np.zeros((1, 16)), r"shape \(16,\)"),
        (np.array([np.nan] + [0.0] * 15), "NaN"),
        (np.array([np.inf] + [0.0] * 15), "finite"),
        (["a"] * 16, "numeric"),
    ],
)
def test_bad_actions_say_what_is_accepted(action, message):
    env = SpiderEnv()
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match=message):
        env.step(action)


def test_out_of_range_actions_are_clipped():
    clipped, wild = SpiderEnv(), SpiderEnv()
    clipped.reset(seed=1)
    wild.reset(seed=1)
    action = np.linspace(-5.0, 5.0, 16)
    for _ in range(5):
        assert pickle.dumps(clipped.step(np.clip(action, -1, 1))) == pickle.dumps(wild.step(action))


def test_unknown_tasks_options_and_arguments_are_refused():
    with pytest.raises(UnknownTaskError, match=r"'pray'.*prey, detour.*did you mean 'prey'"):
        gymnasium.make("Portia/SpiderPrey-v0", task="pray")
    env = SpiderEnv()
    with pytest.raises(ValueError, match="accepts none"):
        env.reset(options={"task": "detour"})
    with pytest.raises(ValueError, match="success_radius_m must be > 0"):
        SpiderEnv(success_radius_m=0.0)
    with pytest.raises(ValueError, match="accepted: None, human, rgb_array"):
        SpiderEnv(render_mode="video")
    with pytest.raises(ValueError, match="accepted: overview, top"):
        SpiderEnv(camera="side")
    with pytest.raises(ValueError, match=r"2000x100 is not accepted: width must be 1..1280"):
        SpiderEnv(render_mode="rgb_array", width=2000, height=100)


@pytest.mark.parametrize(("task", "family"), [("prey", PreyTask), ("detour", DetourTask)])
def test_info_carries_success_task_instruction_and_parameters(task, family):
    env = SpiderEnv(task=task)
    _, info = env.reset(seed=0)
    step_keys = {"is_success", "task_id", "instruction", "reward_distance", "reward_upright"}
    assert set(info) == step_keys | {"task_parameters"}
    assert set(info["task_parameters"]) == set(family.default_ranges)
    for name, value in info["task_parameters"].items():
        low, high = family.default_ranges[name]
        assert low <= value <= high
    assert set(env.step(np.zeros(16))[-1]) == step_keys
    assert info["task_id"] == f"spider-{task}"
    assert " m away" in info["instruction"] and "\n" not in info["instruction"]
    if task == "detour":
        assert info["instruction"].startswith("the fly is behind a wall")
    else:
        assert info["instruction"].startswith("walk to the fly")
    assert env.reset(seed=0)[1]["instruction"] == info["instruction"]


def test_instruction_names_the_side_and_distance():
    env = SpiderEnv()
    for seed in range(30):
        _, info = env.reset(seed=seed)
        bearing = info["task_parameters"]["prey_bearing"]
        distance = info["task_parameters"]["prey_distance"]
        assert f"about {distance:.1f} m away" in info["instruction"]
        if np.pi / 8 < bearing < 7 * np.pi / 8:
            assert "your left" in info["instruction"]
        if -7 * np.pi / 8 < bearing < -np.pi / 8:
            assert "your right" in info["instruction"]


def test_prey_parameters_place_the_fly():
    env = SpiderEnv()
    for seed in range(10):
        observation, info = env.reset(seed=seed)
        p = info["task_parameters"]
        assert np.hypot(*observation["desired_goal"][:2]) == pytest.approx(p["prey_distance"])
        rel = observation["observation"][SPIDER_PARTS["prey_rel_pos"]]
        assert np.arctan2(rel[1], rel[0]) == pytest.approx(p["prey_bearing"], abs=0.02)


def test_detour_wall_stands_across_the_straight_line_to_the_fly():
    env = SpiderEnv(task="detour")
    for seed in range(40):
        observation, info = env.reset(seed=seed)
        p = info["task_parameters"]
        vector = observation["observation"]
        prey = vector[SPIDER_PARTS["prey_rel_pos"]][:2]
        a, b = vector[SPIDER_PARTS["wall_ends"]].reshape(2, 2)
        # The wall is perpendicular to the line to the fly and crosses it where drawn.
        along = (b - a) / np.linalg.norm(b - a)
        assert abs(along @ prey) / np.linalg.norm(prey) < 0.03  # the torso is near the origin
        assert np.linalg.norm(b - a) == pytest.approx(2 * p["wall_half_length"])
        crossing = np.linalg.solve(np.column_stack([prey, a - b]), a)
        t, s = crossing  # along the line to the fly, along the wall from a
        assert 0.3 < t < 0.7 and 0.0 < s < 1.0
        assert abs(s - 0.5) * 2 * p["wall_half_length"] == pytest.approx(
            abs(p["wall_shift"]), abs=0.03
        )
        # The wall is solid, standing on the floor; the fly is never blocked by it.
        model = env.sim.model
        wall = model.geom("wall").id
        assert model.geom_contype[wall] & model.geom_conaffinity[model.geom("torso").id]
        assert model.geom_size[wall][0] == WALL_HALF_THICKNESS_M
        assert env.sim.data.geom_xpos[wall][2] == model.geom_size[wall][2]


def test_detour_ranges_must_keep_the_line_crossing_the_wall():
    with pytest.raises(ValueError, match=r"\|wall_shift\| < wall_half_length"):
        DetourTask().ranges({"wall_shift": (-0.4, 0.4), "wall_half_length": (0.3, 0.5)})
    with pytest.raises(ValueError, match="has no parameter 'wall_colour'"):
        DetourTask().ranges({"wall_colour": (0, 1)})
    narrowed = DetourTask().ranges({"prey_bearing": (0.0, 0.0)})
    sample, values = DetourTask().sample(np.random.default_rng(0), {"prey_bearing": (0.0, 0.0)})
    assert narrowed["prey_bearing"] == (0.0, 0.0) and values["prey_bearing"] == 0.0
    assert sample.wall is not None


def test_the_wall_blocks_the_spider():
    # Push the spider at the wall with every leg striding straight ahead: it stays behind.
    env = SpiderEnv(task="detour")
    env.reset(seed=0)
    model, data = env.sim.model, env.sim.data
    torso_joint = model.joint("torso").qposadr[0]
    wall = model.body("wall")
    yaw = float(np.arctan2(*model.body_quat[wall.id][[3, 0]]) * 2)
    towards = np.array([np.cos(yaw), np.sin(yaw)])
    start = model.body_pos[wall.id][:2] - 0.4 * towards
    data.qpos[torso_joint : torso_joint + 2] = start
    data.qpos[torso_joint + 3 : torso_joint + 7] = np.cos(yaw / 2), 0, 0, np.sin(yaw / 2)
    mujoco.mj_forward(model, data)
    from portia_envs.experts.spider import SpiderExpert, gait_targets

    expert = SpiderExpert(env)
    low, high = joint_ranges().T
    for k in range(200):
        targets = gait_targets(k * 0.5, 1.0, 0.0, expert._sides, expert._offsets)
        env.step((2 * targets - high - low) / (high - low))
    ahead = (data.body("torso").xpos[:2] - model.body_pos[wall.id][:2]) @ towards
    assert ahead < -WALL_HALF_THICKNESS_M  # still on the near side


def test_flipping_over_terminates_the_episode():
    env = SpiderEnv()
    env.reset(seed=0)
    torso = env.sim.model.joint("torso").qposadr[0]
    env.sim.data.qpos[torso + 2] = 0.2
    env.sim.data.qpos[torso + 3 : torso + 7] = [0.0, 1.0, 0.0, 0.0]  # upside down
    mujoco.mj_forward(env.sim.model, env.sim.data)
    _, reward, terminated, truncated, info = env.step(env.hold_action())
    assert terminated and not truncated
    assert info["reward_upright"] < -2 * 0.1 * (1 - FLIPPED_UP_Z)
    assert reward == info["reward_distance"] + info["reward_upright"]


def test_random_actions_do_not_flip_the_standing_spider_in_a_few_steps():
    env = SpiderEnv()
    env.reset(seed=0)
    for _ in range(25):
        _, _, terminated, _, info = env.step(np.random.default_rng(0).uniform(-1, 1, 16))
        assert not terminated
    assert info["reward_upright"] > -0.05


def test_hold_action_keeps_the_spider_standing_still():
    env = SpiderEnv(task="prey")
    env.reset(seed=2)
    for _ in range(10):  # settle onto its feet
        env.step(env.hold_action())
    before = env.sim.data.body("torso").xpos.copy()
    joints = env.sim.data.sensordata[:16].copy()
    targets = env.sim.data.ctrl.copy()
    for _ in range(50):
        env.step(env.hold_action())
    assert np.linalg.norm(env.sim.data.body("torso").xpos - before) < 0.002
    np.testing.assert_allclose(env.sim.data.sensordata[:16], joints, atol=0.005)
    np.testing.assert_allclose(env.sim.data.ctrl, targets, atol=1e-6)
    assert env.hold_action().dtype == np.float32 and env.hold_action().shape == (16,)


def test_embodiment_describes_the_spider():
    env = SpiderEnv()
    observation, _ = env.reset(seed=0)
    body = env.embodiment
    assert isinstance(body, Embodiment) and body.name == "spider"
    assert [j.name for j in body.joints] == list(SPIDER_JOINTS)
    assert len(body.actions) == env.action_space.shape[0] == 16
    assert [a.quantity for a in body.actions] == ["joint_position_target"] * 16
    ranges = joint_ranges()
    for i, (action, joint) in enumerate(zip(body.actions, body.joints, strict=True)):
        assert action.joint == i and action.unit == "rad" and action.frame == "joint"
        assert (action.low, action.high) == tuple(ranges[i]) == (joint.low, joint.high)
        assert joint.kind == "hinge" and joint.link_length_m == pytest.approx(LEG_LENGTH_M)
        model = env.sim.model
        assert tuple(model.jnt_range[model.joint(joint.name).id]) == (joint.low, joint.high)
    assert body.proprio_key == "observation"
    assert len(body.proprioception) == len(body.proprio_indices) == 43
    quantities = [d.quantity for d in body.proprioception]
    assert quantities == (
        ["joint_position"] * 16
        + ["joint_velocity"] * 16
        + ["position"]
        + ["orientation"] * 4
        + ["linear_velocity"] * 3
        + ["angular_velocity"] * 3
    )
    for i, index in enumerate(body.proprio_indices):
        assert body.proprioception[i].name.startswith(
            ("leg_", "torso_height", "torso_quat", "torso_vel", "torso_angvel")
        )
        assert 0 <= index < observation["observation"].shape[0]
    # The proprioceptive joint positions are the leg hinges' qpos: at reset, and after a
    # step (where the sensors read, one physics step before the end of the period).
    for i, name in enumerate(SPIDER_JOINTS):
        assert (
            observation["observation"][body.proprio_indices[i]] == env.sim.data.joint(name).qpos[0]
        )
    for _ in range(5):
        env.step(env.action_space.sample())
    observation, data = step_and_replay(env, env.action_space.sample())
    vector = observation["observation"]
    for i, name in enumerate(SPIDER_JOINTS):
        assert vector[body.proprio_indices[i]] == data.joint(name).qpos[0]
        assert vector[body.proprio_indices[16 + i]] == data.joint(name).qvel[0]
    np.testing.assert_allclose(
        vector[body.proprio_indices[32]], data.body("torso").xpos[2], atol=1e-12
    )
    np.testing.assert_allclose(
        vector[list(body.proprio_indices[33:37])], data.body("torso").xquat, atol=1e-12
    )
    orientation = body.proprioception[33]
    assert (orientation.unit, orientation.low, orientation.high, orientation.frame) == (
        "1",
        -1.0,
        1.0,
        "world",
    )
    assert body.proprioception[16].high == 10.0 and body.proprioception[16].unit == "rad/s"


def test_embodiment_joint_axes_and_chain_match_the_model():
    env = SpiderEnv()
    model = env.sim.model
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)  # zero pose: the torso's frame is the world's
    body = env.embodiment
    for i, joint in enumerate(body.joints):
        np.testing.assert_allclose(data.xaxis[model.joint(joint.name).id], joint.axis, atol=1e-12)
        assert joint.parent == (None if joint.name.endswith("_yaw") else i - 1)


def test_rgb_array_rendering_shows_the_scene():
    env = SpiderEnv(task="detour", render_mode="rgb_array", width=160, height=120)
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (120, 160, 3) and frame.dtype == np.uint8
    assert frame.std() > 10
    top = SpiderEnv(task="detour", render_mode="rgb_array", camera="top", width=160, height=120)
    top.reset(seed=0)
    assert not np.array_equal(top.render(), frame)
    env.close()
    top.close()


def test_human_rendering_opens_a_window():
    env = SpiderEnv(render_mode="human", width=64, height=48)
    env.reset(seed=0)
    env.step(np.zeros(16))
    import pygame

    assert pygame.display.get_surface().get_size() == (64, 48)
    env.close()
    assert pygame.display.get_surface() is None


def test_time_pause_imagines_what_stepping_does():
    from wrappers import TimePause

    env = TimePause(gymnasium.make("Portia/SpiderDetour-v0"))
    env.reset(seed=0)
    actions = np.random.default_rng(0).uniform(-1, 1, (2, 5, 16))
    future = env.imagine(actions)
    for t in range(5):
        observation, reward, *_ = env.step(actions[0, t])
    np.testing.assert_array_equal(
        future["observation"]["observation"][0, -1], observation["observation"]
    )
    assert future["reward"][0, -1] == reward
