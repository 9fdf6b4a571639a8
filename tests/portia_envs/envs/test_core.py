"""Every MuJoCo env, single- or multi-agent, holds one ``EnvCore`` and pickles as ``EpisodePickle``.

The Gymnasium envs and the PettingZoo handover share their simulation, state, rendering and
pickling: the same checks, the same messages, the same continuation after a round trip.
"""

import copy
import functools
import pickle
import warnings

import gymnasium
import numpy as np
import pytest

import portia_envs
from portia_envs.envs.arm import ArmEnv
from portia_envs.envs.core import EnvCore, EpisodePickle
from portia_envs.envs.handover import AGENTS, HandoverEnv
from portia_envs.envs.spider import SpiderEnv
from portia_envs.errors import InvalidParameterError, InvalidStateError

MUJOCO_IDS = sorted(
    env_id
    for env_id in gymnasium.registry
    if env_id.startswith("Portia/") and not env_id.startswith("Portia/Detour")
)
STEPS = 12


def make_unwrapped(env_id):
    """The registered env ``env_id`` without its wrappers."""
    return gymnasium.make(env_id).unwrapped


MAKERS = [
    *(pytest.param(functools.partial(make_unwrapped, env_id), id=env_id) for env_id in MUJOCO_IDS),
    pytest.param(HandoverEnv, id="Portia/Handover-v0"),
]


def actions_for(env, n, seed):
    """``n`` seeded random actions for ``env``: arrays, or a dict per agent for the handover."""
    rng = np.random.default_rng(seed)
    if isinstance(env, HandoverEnv):
        return [{agent: rng.uniform(-1.2, 1.2, 7) for agent in AGENTS} for _ in range(n)]
    return list(rng.uniform(-1.2, 1.2, (n, *env.action_space.shape)))


def test_the_ids_cover_every_single_agent_mujoco_env():
    assert len(MUJOCO_IDS) == 12  # 10 arm ids, 2 spider
    assert {type(gymnasium.make(i).unwrapped) for i in MUJOCO_IDS} == {ArmEnv, SpiderEnv}


@pytest.mark.parametrize("make", MAKERS)
def test_every_env_holds_a_core_and_pickles_through_episode_pickle(make):
    env = make()
    assert isinstance(env.core, EnvCore) and isinstance(env, EpisodePickle)
    assert env.sim is env.core.sim and env.dt == env.core.sim.dt
    assert env.render_mode is None


@pytest.mark.parametrize("make", MAKERS)
def test_a_pickled_env_continues_its_episode_bit_identically_pickled_again(make):
    env = make()
    actions = actions_for(env, 2 * STEPS, seed=3)
    env.reset(seed=6)
    for action in actions[:STEPS]:
        env.step(action)
    twice = pickle.loads(pickle.dumps(pickle.loads(pickle.dumps(env))))
    deep = copy.deepcopy(env)
    np.testing.assert_array_equal(twice.get_state(), env.get_state())
    ours = pickle.dumps([env.step(action) for action in actions[STEPS:]])
    assert pickle.dumps([twice.step(action) for action in actions[STEPS:]]) == ours
    assert pickle.dumps([deep.step(action) for action in actions[STEPS:]]) == ours
    # The generator came along: the next episodes agree too.
    assert pickle.dumps(twice.reset()) == pickle.dumps(env.reset()) == pickle.dumps(deep.reset())


def test_the_arguments_an_env_was_made_with_travel_with_it():
    arm = pickle.loads(pickle.dumps(ArmEnv(body="arm4", task="push", goal_radius_m=0.07)))
    assert (arm.body, arm.task_name, arm.goal_radius_m) == ("arm4", "push", 0.07)
    assert arm.action_space.shape == (5,)
    made = gymnasium.make("Portia/SpiderDetour-v0", success_radius_m=0.2).unwrapped
    spider = pickle.loads(pickle.dumps(made))
    assert (spider.task_name, spider.success_radius_m) == ("detour", 0.2)
    handover = pickle.loads(pickle.dumps(portia_envs.make_parallel("Portia/Handover-v0")))
    assert handover.max_cycles == 300
    view = pickle.loads(pickle.dumps(HandoverEnv(render_mode="rgb_array", width=32, height=24)))
    assert view.render_mode == "rgb_array" and view.render().shape == (24, 32, 3)


def test_a_handover_whose_episode_ended_pickles_as_a_new_env():
    env = HandoverEnv(max_cycles=2)
    env.reset(seed=1)
    for action in actions_for(env, 2, seed=1):
        env.step(action)
    assert env.agents == []
    clone = pickle.loads(pickle.dumps(env))
    assert clone.agents == []
    assert pickle.dumps(clone.reset()) == pickle.dumps(env.reset())


@pytest.mark.parametrize("make", MAKERS)
def test_a_state_of_the_wrong_length_is_refused_in_the_same_words(make):
    env = make()
    env.reset(seed=0)
    state = env.get_state()
    task = state.size - env.sim.state_size
    with pytest.raises(InvalidStateError) as refused:
        env.set_state(state[:-1])
    assert str(refused.value) == (
        f"state must be a flat vector of {state.size} values from get_state() of this env "
        f"({env.sim.state_size} of physics and sensor readings, then the task part, which has "
        f"{task} values); got shape ({state.size - 1},)"
    )


def test_a_restored_handover_draws_its_goal_where_it_is():
    env, other = HandoverEnv(), HandoverEnv()
    env.reset(seed=3)
    other.reset(seed=4)
    other.set_state(env.get_state())
    # The goal marker is moved before the physics is set, so its drawn position is current.
    np.testing.assert_array_equal(other.sim.data.site("goal").xpos, env.sim.data.site("goal").xpos)


@pytest.mark.parametrize(
    "make",
    [pytest.param(lambda: ArmEnv(), id="arm"), pytest.param(lambda: HandoverEnv(), id="handover")],
)
def test_render_without_a_mode_warns_at_the_callers_line_and_returns_none(make):
    env = make()
    env.reset(seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert env.render() is None
    assert len(caught) == 1 and "nothing to render" in str(caught[0].message)
    assert caught[0].filename == __file__  # the line that called render(), not Portia's


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"render_mode": "ascii"}, "unknown render_mode 'ascii'; accepted: None, human, rgb_array"),
        ({"camera": "side"}, "unknown camera 'side'; accepted: overview, top"),
        ({"width": 0}, "frame size 0x480 is not accepted: width must be 1..1280"),
    ],
)
@pytest.mark.parametrize("make", [ArmEnv, SpiderEnv, HandoverEnv])
def test_every_env_refuses_a_bad_view_in_the_same_words(make, kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        make(**kwargs)


def test_closing_releases_the_renderer_and_a_closed_env_renders_again():
    env = HandoverEnv(render_mode="rgb_array", width=32, height=24)
    env.reset(seed=0)
    first = env.render()
    env.close()
    np.testing.assert_array_equal(env.render(), first)
    env.close()
