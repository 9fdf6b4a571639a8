import gymnasium
import numpy as np
import pytest

import portia_envs  # noqa: F401  (registers the ids)
from portia_envs.errors import AgentSpecError
from portia_envs.experts import ScriptedExpert
from portia_envs.harness.agents import (
    RandomAgent,
    agent_hash,
    build_agent,
    builtin_agents,
    describe_agent,
    resolve_spec,
)
from tests.portia_envs.harness.harness_runs import FAKE_AGENTS, fake, run
from wrappers.adapters import AgentTypeError, CallableAgent, SB3Agent, reset_agent
from wrappers.time_pause import TimePause


@pytest.fixture(scope="module")
def env():
    env = TimePause(gymnasium.make("Portia/Arm-v0", suite="smoke-v0", task="push-centre"))
    yield env
    env.close()


def test_built_in_names_expand_and_file_specs_become_absolute(tmp_path, monkeypatch):
    assert resolve_spec("scripted") == builtin_agents()["scripted"]
    assert resolve_spec("teacher") == "baselines.teacher:make_teacher"  # contributed
    assert resolve_spec("pkg.module:attr") == "pkg.module:attr"
    monkeypatch.chdir(FAKE_AGENTS.parent)
    assert resolve_spec("fake_agents.py") == f"{FAKE_AGENTS}:make_agent"
    assert resolve_spec("fake_agents.py:Slow") == f"{FAKE_AGENTS}:Slow"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("scriptd", r"unknown agent 'scriptd' \(did you mean 'scripted'\?\); accepted: a built-in"),
        ("missing.py", r"agent file 'missing.py' \(in spec 'missing.py'\) does not exist"),
        ("", "must be a non-empty string"),
    ],
)
def test_specs_of_no_accepted_form_are_refused(spec, message):
    with pytest.raises(AgentSpecError, match=message):
        resolve_spec(spec)


def test_specs_that_do_not_load_say_why(env):
    with pytest.raises(AgentSpecError, match=r"cannot import module 'no_such_module'"):
        build_agent("no_such_module:agent", env)
    with pytest.raises(AgentSpecError, match=r"has no attribute 'Slw'.*did you mean 'Slow'"):
        build_agent(fake("Slw"), env)
    with pytest.raises(AgentSpecError, match="names a int; accepted: a factory"):
        build_agent(fake("NOT_AN_AGENT"), env)
    with pytest.raises(AgentTypeError, match="cannot use a NoneType as an agent"):
        build_agent(fake("make_nothing"), env)


def test_classes_and_factories_are_called_with_the_env(env):
    scripted = build_agent("scripted", env)
    assert isinstance(scripted, ScriptedExpert)
    hold = build_agent(fake("make_hold"), env)
    assert isinstance(hold, CallableAgent)
    observation, _ = env.reset(seed=0)
    assert np.array_equal(hold.act(observation), np.zeros(7, np.float32))
    assert build_agent("teacher", env).config.horizon >= 1


def test_the_random_agent_is_reproducible_per_episode_seed(env):
    agent = build_agent("random", env)
    assert isinstance(agent, RandomAgent)
    reset_agent(agent, 5)
    first = [agent.act(None) for _ in range(3)]
    reset_agent(agent, 5)
    assert np.array_equal(first, [agent.act(None) for _ in range(3)])
    reset_agent(agent, 6)
    assert not np.array_equal(first[0], agent.act(None))
    assert env.action_space.contains(first[0])


def test_describe_names_the_agent_its_version_and_content_hash():
    assert describe_agent("random") == {
        "spec": "random",
        "name": "random",
        "version": portia_envs.__version__,
        "hash": agent_hash("random"),
    }
    assert describe_agent("scripted")["name"] == "ScriptedExpert"
    slow = describe_agent(fake("Slow"))
    assert (slow["name"], slow["version"]) == ("Slow", None)


def test_the_agent_hash_covers_the_source_and_the_attribute_not_the_path(tmp_path):
    first, second = tmp_path / "a" / "agent.py", tmp_path / "b" / "agent.py"
    for file in (first, second):
        file.parent.mkdir()
        file.write_text("import sys\nsys.exit('never run')\ndef make_agent(env): ...\n")
    assert agent_hash(str(first)) == agent_hash(str(second))  # found without running it
    assert agent_hash(str(first)).startswith("sha256:") and len(agent_hash(str(first))) == 71
    assert agent_hash(f"{first}:other") != agent_hash(str(first))
    second.write_text(second.read_text() + "# changed\n")
    assert agent_hash(str(first)) != agent_hash(str(second))
    assert agent_hash("scripted") != agent_hash("random")
    with pytest.raises(AgentSpecError, match="cannot find the source of module 'no_such_pkg.x'"):
        agent_hash("no_such_pkg.x:make")


def test_a_stable_baselines3_model_is_scored_through_its_predict(env, tmp_path):
    agent = build_agent(fake("make_sb3"), env)
    assert isinstance(agent, SB3Agent)
    observation, _ = env.reset(seed=0)
    agent.reset()
    assert env.action_space.contains(agent.act(observation))
    # In the worker: torch is imported once there, not in a preflight and an agent process.
    results = run(tmp_path, fake("make_sb3"), episodes=1, isolation="in-process")
    assert all(r["status"] == "ok" for r in results["episodes"])
    assert results["agent"]["name"] == "make_sb3"
