import pickle
import time

import gymnasium
import numpy as np
import pytest

import portia_envs  # noqa: F401  (registers the ids)
from wrappers.errors import ThinkBudgetExceededError, WrapperInputError
from wrappers.time_pause import TimePause

ARM_IDS = ["Portia/ArmReach-v0", "Portia/ArmPush-v0", "Portia/ArmPickPlace-v0"]


def actions_for(env, n, seed):
    space = env.action_space
    rng = np.random.default_rng(seed)
    if isinstance(space, gymnasium.spaces.Discrete):
        return rng.integers(space.n, size=n)
    return rng.uniform(space.low, space.high, (n, *space.shape))


def trajectory(env_id, *, imagine_between, seed=3, n=40):
    env = TimePause(gymnasium.make(env_id))
    steps = [env.reset(seed=seed)]
    for action in actions_for(env, n, seed):
        if imagine_between:
            env.imagine(actions_for(env, 2 * 5, seed + 1).reshape(2, 5, *env.action_space.shape))
        step = env.step(action)
        strip = {k: v for k, v in step[4].items() if not k.startswith(("think", "episode_think"))}
        steps.append((*step[:4], strip))
        if step[2] or step[3]:
            break
    return steps


@pytest.mark.parametrize("env_id", [*ARM_IDS, "Pusher-v5", "CartPole-v1"])
def test_imagining_never_changes_the_real_episode(env_id):
    plain = trajectory(env_id, imagine_between=False)
    thoughtful = trajectory(env_id, imagine_between=True)
    assert pickle.dumps(plain) == pickle.dumps(thoughtful)


def _step_copy(env_id, seed, warmup, sequence):
    """Step a fresh env to the same point, then play ``sequence``; return each step."""
    env = gymnasium.make(env_id)
    env.reset(seed=seed)
    for action in warmup:
        env.step(action)
    return [env.step(action) for action in sequence]


@pytest.mark.parametrize("env_id", [*ARM_IDS, "Pusher-v5", "CartPole-v1"])
def test_imagine_equals_stepping_a_copy(env_id):
    env = TimePause(gymnasium.make(env_id))
    env.reset(seed=1)
    warmup = actions_for(env, 6, 0)
    for action in warmup:
        env.step(action)
    sequences = actions_for(env, 3 * 8, 5).reshape(3, 8, *env.action_space.shape)
    future = env.imagine(sequences)
    assert future["reward"].shape == (3, 8)
    for b in range(3):
        steps = _step_copy(env_id, 1, warmup, sequences[b])
        for t, (observation, reward, terminated, _, info) in enumerate(steps):
            if isinstance(observation, dict):
                for key in observation:
                    np.testing.assert_allclose(
                        future["observation"][key][b, t], observation[key], atol=1e-9
                    )
            else:
                np.testing.assert_allclose(future["observation"][b, t], observation, atol=1e-9)
            assert future["reward"][b, t] == pytest.approx(reward, abs=1e-9)
            assert future["is_success"][b, t] == info.get("is_success", False)
            assert future["terminated"][b, t] == terminated
            if terminated:
                assert not future["reward"][b, t + 1 :].any()
                assert future["terminated"][b, t:].all()
                break


def fake_clock(monkeypatch, tick_s):
    """Make ``time.perf_counter`` advance by ``tick_s`` at each call, from 0."""
    ticks = iter(range(1_000_000))
    monkeypatch.setattr(time, "perf_counter", lambda: next(ticks) * tick_s)


def test_thinking_is_counted_per_decision_and_per_episode(monkeypatch):
    env = TimePause(gymnasium.make("Portia/ArmPush-v0"))
    _, info = env.reset(seed=0)
    assert (info["think_steps"], info["think_calls"], info["episode_think_steps"]) == (0, 0, 0)
    fake_clock(monkeypatch, 0.25)  # each imagine reads the clock twice: 0.25 s apart
    env.imagine(np.zeros((4, 5, 7)))
    env.imagine(np.zeros((2, 3, 7)))
    *_, info = env.step(np.zeros(7))
    assert info["think_steps"] == 26 and info["think_calls"] == 2
    assert info["think_s"] == 0.5 and info["episode_think_s"] == 0.5
    env.imagine(np.zeros((1, 4, 7)))
    *_, info = env.step(np.zeros(7))
    assert info["think_steps"] == 4 and info["episode_think_steps"] == 30
    assert info["think_s"] == 0.25 and info["episode_think_s"] == 0.75
    *_, info = env.step(np.zeros(7))
    assert info["think_steps"] == 0 and info["episode_think_steps"] == 30
    _, info = env.reset()
    assert info["episode_think_steps"] == 0


def test_think_budget_raises_or_cuts():
    strict = TimePause(gymnasium.make("Portia/ArmReach-v0"), think_budget_steps=20)
    strict.reset(seed=0)
    strict.imagine(np.zeros((3, 5, 7)))
    assert strict.think_steps_left == 5
    with pytest.raises(ThinkBudgetExceededError, match=r"2 x 5 = 10 .* 5 left .* budget of 20"):
        strict.imagine(np.zeros((2, 5, 7)))
    strict.step(np.zeros(7))
    assert strict.think_steps_left == 20

    cutting = TimePause(
        gymnasium.make("Portia/ArmReach-v0"), think_budget_steps=20, over_budget="cut"
    )
    cutting.reset(seed=0)
    assert cutting.imagine(np.zeros((6, 5, 7)))["reward"].shape == (4, 5)
    with pytest.raises(ThinkBudgetExceededError):
        cutting.imagine(np.zeros((1, 5, 7)))
    *_, info = cutting.step(np.zeros(7))
    assert info["think_steps"] == 20


@pytest.mark.parametrize(
    ("sequences", "message"),
    [
        (np.zeros((2, 0, 7)), r"\(batch >= 1, horizon >= 1, 7\)"),
        (np.zeros((2, 7)), r"got \(2, 7\)"),
        (np.zeros((2, 3, 6)), r"got \(2, 3, 6\)"),
        (np.full((1, 2, 7), np.nan), "NaN"),
        ([[["x"] * 7]], "numeric"),
    ],
)
def test_bad_sequences_are_refused(sequences, message):
    env = TimePause(gymnasium.make("Portia/ArmPush-v0"))
    env.reset(seed=0)
    with pytest.raises(WrapperInputError, match=message):
        env.imagine(sequences)


def test_bad_arguments_are_refused():
    env = gymnasium.make("Portia/ArmPush-v0")
    with pytest.raises(WrapperInputError, match="think_budget_steps"):
        TimePause(env, think_budget_steps=0)
    with pytest.raises(WrapperInputError, match="raise, cut"):
        TimePause(env, over_budget="wait")
    with pytest.raises(WrapperInputError, match="nthread"):
        TimePause(env, nthread=0)


def test_threads_give_the_same_futures():
    env = TimePause(gymnasium.make("Portia/ArmPickPlace-v0"), nthread=2)
    env.reset(seed=2)
    sequences = np.random.default_rng(0).uniform(-1, 1, (6, 10, 7))
    threaded = env.imagine(sequences)
    env.nthread = 1
    single = env.imagine(sequences)
    np.testing.assert_array_equal(threaded["reward"], single["reward"])
    np.testing.assert_array_equal(
        threaded["observation"]["observation"], single["observation"]["observation"]
    )


def test_wrappers_do_not_import_portia_envs():
    import subprocess
    import sys

    code = "import sys, wrappers.time_pause; print('portia_envs' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
