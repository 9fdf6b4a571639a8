import pickle
import warnings

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test, parallel_seed_test

import portia_envs
from portia_envs.envs.handover import AGENTS, TASK_STATE_SIZE, HandoverEnv, parallel_env
from portia_envs.errors import (
    InvalidActionError,
    InvalidParameterError,
    InvalidStateError,
    UnknownAgentError,
    UnknownEnvError,
)
from portia_envs.tasks.handover import (
    HANDOVER_OBSERVATION_LAYOUT,
    HANDOVER_PARTS,
    TABLE_TOP_X_M,
    score_handover,
)

TERMS = ("reward_distance", "reward_giver_approach", "reward_taker_approach")


def random_actions(rng):
    return {agent: rng.uniform(-1.2, 1.2, 7) for agent in AGENTS}


def trajectory(env, seed, n_steps, action_seed=0):
    """Reset with ``seed`` and step with seeded random actions; return every step."""
    rng = np.random.default_rng(action_seed)
    steps = [env.reset(seed=seed)]
    for _ in range(n_steps):
        steps.append(env.step(random_actions(rng)))
    return steps


def test_pettingzoo_parallel_api_test_passes():
    env = HandoverEnv()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parallel_api_test(env, num_cycles=40)
    assert [str(w.message) for w in caught] == []
    # The API test sets the time limit; both agents left when it ran out.
    assert env.max_cycles == 40 and env.agents == []


def test_pettingzoo_parallel_seed_test_passes():
    parallel_seed_test(parallel_env)


def test_same_seed_gives_bit_identical_episodes_and_other_seeds_other_starts():
    first = trajectory(HandoverEnv(), seed=7, n_steps=40)
    second = trajectory(HandoverEnv(), seed=7, n_steps=40)
    assert pickle.dumps(first) == pickle.dumps(second)
    other = HandoverEnv().reset(seed=8)[0]
    assert not np.array_equal(first[0][0]["giver"], other["giver"])


def test_docstring_layout_matches_the_spaces():
    env = HandoverEnv()
    doc = " ".join(HandoverEnv.__doc__.split())
    assert "``Box((50,), float64)``" in doc and "``Box(-1, 1, (7,), float32)``" in doc
    for agent in AGENTS:
        assert env.observation_space(agent).shape == (50,)
        assert env.observation_space(agent).dtype == np.float64
        assert env.action_space(agent).shape == (7,)
    assert sum(size for _, size, _ in HANDOVER_OBSERVATION_LAYOUT) == 50
    for name, size, _ in HANDOVER_OBSERVATION_LAYOUT:
        assert f"{name} ({size}" in doc, name
    assert env.dt == pytest.approx(0.04) and env.max_cycles == 300
    assert HandoverEnv.metadata["name"] == "portia_handover_v0"


def test_observations_are_the_named_quantities_and_fresh_arrays():
    env = HandoverEnv()
    observations, _ = env.reset(seed=1)
    data = env.sim.data
    giver, taker = observations["giver"], observations["taker"]
    np.testing.assert_array_equal(giver[HANDOVER_PARTS["grip_pos"]], data.site("giver_grip").xpos)
    np.testing.assert_array_equal(
        giver[HANDOVER_PARTS["partner_grip_pos"]], data.site("taker_grip").xpos
    )
    np.testing.assert_array_equal(
        taker[HANDOVER_PARTS["partner_grip_pos"]], data.site("giver_grip").xpos
    )
    np.testing.assert_array_equal(giver[HANDOVER_PARTS["block_pos"]], data.body("block").xpos)
    assert giver[HANDOVER_PARTS["partner_opening"]][0] == pytest.approx(0.04)
    np.testing.assert_array_equal(giver[HANDOVER_PARTS["role"]], [1.0, 0.0])
    np.testing.assert_array_equal(taker[HANDOVER_PARTS["role"]], [0.0, 1.0])
    np.testing.assert_array_equal(giver[HANDOVER_PARTS["handoff_pos"]], [0.55, 0.0, 0.0])
    np.testing.assert_array_equal(giver[HANDOVER_PARTS["goal_pos"]], data.site("goal").xpos)
    following, *_ = env.step({agent: np.zeros(7) for agent in AGENTS})
    for agent in AGENTS:
        assert env.observation_space(agent).contains(following[agent])
        assert not np.shares_memory(following[agent], observations[agent])
        assert not np.shares_memory(following[agent], env.sim.data.sensordata)


def test_reward_is_shared_and_equals_the_sum_of_its_info_terms():
    env = HandoverEnv()
    rng = np.random.default_rng(0)
    env.reset(seed=2)
    for _ in range(30):
        observations, rewards, _, _, infos = env.step(random_actions(rng))
        for agent in AGENTS:
            terms = [infos[agent][term] for term in TERMS]
            assert rewards[agent] == terms[0] + terms[1] + terms[2]
        assert infos["giver"] == infos["taker"] and infos["giver"] is not infos["taker"]
        assert rewards["giver"] == rewards["taker"]
        # One state scored alone or in a batch gets the same numbers.
        giver = observations["giver"]
        batch = np.stack([giver, giver, giver])
        scores = score_handover(
            batch[:, HANDOVER_PARTS["block_pos"]],
            batch[:, HANDOVER_PARTS["grip_pos"]],
            batch[:, HANDOVER_PARTS["partner_grip_pos"]],
            giver[HANDOVER_PARTS["goal_pos"]],
            0.05,
        )
        np.testing.assert_array_equal(scores.reward, rewards["giver"])


def test_the_approach_terms_switch_when_the_block_is_handed_over():
    block = np.array([[0.3, 0.0, 0.02], [0.55, 0.0, 0.02]])
    grips = np.zeros((2, 3))
    scores = score_handover(block, grips, grips + [1.1, 0, 0], np.array([0.9, 0, 0.1]), 0.05)
    assert scores.handed_over.tolist() == [False, True]
    assert scores.reward_giver_approach[0] == pytest.approx(-0.5 * np.linalg.norm(block[0]))
    assert scores.reward_taker_approach[0] == 0.0 and scores.reward_giver_approach[1] == 0.0
    assert scores.reward_taker_approach[1] == pytest.approx(-0.5 * 0.55, abs=1e-3)


def test_info_has_success_task_id_instruction_and_the_reset_parameters():
    env = HandoverEnv()
    _, infos = env.reset(seed=3)
    for agent in AGENTS:
        info = infos[agent]
        assert info["task_id"] == "handover" and info["is_success"] is False
        assert "\n" not in info["instruction"] and "handoff" in info["instruction"]
        parameters = info["task_parameters"]
        assert set(parameters) == {"block_x", "block_y", "block_yaw", "goal_x", "goal_y", "goal_z"}
        np.testing.assert_allclose(
            env.sim.data.site("goal").xpos, [parameters[k] for k in ("goal_x", "goal_y", "goal_z")]
        )


def test_set_state_of_get_state_continues_bit_identically():
    env = HandoverEnv()
    rng = np.random.default_rng(4)
    env.reset(seed=4)
    for _ in range(25):
        env.step(random_actions(rng))
    state = env.get_state()
    assert state.shape == (env.sim.state_size + TASK_STATE_SIZE,)
    actions = [random_actions(rng) for _ in range(25)]
    original = [env.step(a) for a in actions]
    twin = HandoverEnv()
    twin.reset(seed=99)
    twin.set_state(state)
    np.testing.assert_array_equal(twin.get_state(), state)
    assert twin.agents == list(AGENTS)
    assert pickle.dumps([twin.step(a) for a in actions]) == pickle.dumps(original)


def test_pickling_round_trips_a_running_episode():
    env = HandoverEnv()
    rng = np.random.default_rng(5)
    env.reset(seed=5)
    for _ in range(10):
        env.step(random_actions(rng))
    clone = pickle.loads(pickle.dumps(env))
    np.testing.assert_array_equal(clone.get_state(), env.get_state())
    action = random_actions(rng)
    assert pickle.dumps(clone.step(action)) == pickle.dumps(env.step(action))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda s: s[:-1], r"shape \(\d+,\)"),
        (lambda s: np.append(s[:-1], np.nan), "periods elapsed"),
        (lambda s: np.append(s[:-1], -1.0), "periods elapsed"),
        (lambda s: np.append(s[:-1], 2.5), "periods elapsed"),
    ],
)
def test_set_state_rejects_vectors_of_other_envs(change, match):
    env = HandoverEnv()
    env.reset(seed=0)
    with pytest.raises(InvalidStateError, match=match):
        env.set_state(change(env.get_state()))


@pytest.mark.parametrize(
    ("actions", "match"),
    [
        ({"giver": np.zeros(7)}, r"missing: \['taker'\]"),
        (
            {"giver": np.zeros(7), "taker": np.zeros(7), "thief": np.zeros(7)},
            "unknown: \\['thief'\\]",
        ),
        ({"giver": np.zeros(6), "taker": np.zeros(7)}, r"giver's action must have shape \(7,\)"),
        ({"giver": np.zeros(7), "taker": np.full(7, np.nan)}, "taker's action contains NaN"),
        (
            {"giver": np.zeros(7), "taker": [0, 0, 0, "x", 0, 0, 0]},
            "taker's action must be numeric",
        ),
        ([np.zeros(7), np.zeros(7)], "dict of one action per agent"),
    ],
)
def test_bad_actions_raise_clear_errors(actions, match):
    env = HandoverEnv()
    env.reset(seed=0)
    state = env.get_state()
    with pytest.raises(InvalidActionError, match=match):
        env.step(actions)
    np.testing.assert_array_equal(env.get_state(), state)


def test_out_of_range_actions_are_clipped():
    env, twin = HandoverEnv(), HandoverEnv()
    env.reset(seed=0)
    twin.reset(seed=0)
    big = {agent: np.full(7, 5.0) for agent in AGENTS}
    ones = {agent: np.ones(7) for agent in AGENTS}
    assert pickle.dumps(env.step(big)) == pickle.dumps(twin.step(ones))


def test_truncation_ends_the_episode_for_both_agents():
    env = HandoverEnv(max_cycles=3)
    env.reset(seed=0)
    zeros = {agent: np.zeros(7) for agent in AGENTS}
    for _ in range(2):
        _, _, terminations, truncations, _ = env.step(zeros)
        assert not any(truncations.values()) and env.agents == list(AGENTS)
    _, _, terminations, truncations, _ = env.step(zeros)
    assert all(truncations.values()) and not any(terminations.values())
    assert env.agents == []
    with pytest.raises(InvalidStateError, match="call reset"):
        env.step(zeros)


def test_a_block_off_the_table_terminates_the_episode():
    env = HandoverEnv()
    env.reset(seed=0)
    address = env.sim.model.joint("block").qposadr[0]
    env.sim.data.qpos[address] = TABLE_TOP_X_M[0] - 0.05
    _, _, terminations, truncations, infos = env.step({agent: np.zeros(7) for agent in AGENTS})
    assert all(terminations.values()) and not any(truncations.values())
    assert env.agents == [] and not infos["taker"]["is_success"]


def test_step_before_reset_and_unknown_agents_are_refused():
    env = HandoverEnv()
    with pytest.raises(InvalidStateError, match="call reset"):
        env.step({agent: np.zeros(7) for agent in AGENTS})
    with pytest.raises(UnknownAgentError, match="unknown agent 'thief'; this env's agents: giver"):
        env.observation_space("thief")
    with pytest.raises(UnknownAgentError, match="unknown agent"):
        env.action_space("thief")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"render_mode": "ascii"}, "unknown render_mode 'ascii'"),
        ({"camera": "side"}, "unknown camera 'side'; accepted: overview, top"),
        ({"goal_radius_m": 0.0}, "goal_radius_m must be > 0"),
        ({"max_cycles": 0}, "max_cycles must be >= 1"),
        ({"width": 5000}, "frame size"),
    ],
)
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        HandoverEnv(**kwargs)


def test_make_parallel_builds_the_registered_env():
    env = portia_envs.make_parallel("Portia/Handover-v0", max_cycles=10)
    assert isinstance(env, HandoverEnv) and env.max_cycles == 10
    assert portia_envs.make_parallel("Portia/Handover-v0").max_cycles == 300
    assert "Portia/Handover-v0" in portia_envs.PARALLEL_ENV_SPECS


@pytest.mark.parametrize(
    ("env_id", "match"),
    [
        ("Portia/Handover-v1", "unknown multi-agent env id .*did you mean 'Portia/Handover-v0'"),
        ("Portia/Arm-v0", r"single-agent env: gymnasium.make\('Portia/Arm-v0'\)"),
    ],
)
def test_make_parallel_refuses_unknown_ids_with_a_hint(env_id, match):
    with pytest.raises(UnknownEnvError, match=match):
        portia_envs.make_parallel(env_id)


def test_rgb_array_rendering_returns_frames():
    env = HandoverEnv(render_mode="rgb_array", width=64, height=48, camera="top")
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (48, 64, 3) and frame.dtype == np.uint8 and frame.any()
    env.close()
