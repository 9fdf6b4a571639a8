import pickle
import time

import gymnasium
import mujoco
import numpy as np
import pytest

import portia_envs  # noqa: F401  (registers the ids)
from portia_envs.envs.arm import ArmEnv
from wrappers.clocks import ComputeClock, FixedLatency, RandomLatency, WallClock
from wrappers.errors import WrapperInputError
from wrappers.latency_budget import LatencyBudget
from wrappers.time_pause import TimePause

DT = 0.04


def arm_actions(n, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 7))


@pytest.mark.parametrize("k", [0, 1, 3])
def test_whole_period_latency_equals_a_hand_built_delayed_rollout(k):
    actions = arm_actions(12)
    wrapped = LatencyBudget(ArmEnv(task="push"), budget_s=1.0, clock=FixedLatency(k * DT))
    reference = ArmEnv(task="push")
    wrapped.reset(seed=4)
    reference.reset(seed=4)
    previous = reference.hold_action()
    for action in actions:
        observation, reward, terminated, truncated, info = wrapped.step(action)
        if k == 0:
            expected = reference.step(action)
            expected_reward = expected[1]
        else:
            steps = [reference.step(previous) for _ in range(k)]
            expected, expected_reward = steps[-1], sum(step[1] for step in steps)
        previous = action
        assert pickle.dumps(observation) == pickle.dumps(expected[0])
        assert reward == expected_reward
        assert info["periods_elapsed"] == max(1, k)
        assert info["latency_s"] == k * DT


def test_an_agent_that_reuses_its_action_buffer_does_not_change_the_held_action():
    actions = arm_actions(6, seed=1)
    wrapped = LatencyBudget(ArmEnv(task="push"), budget_s=1.0, clock=FixedLatency(2 * DT))
    reference = ArmEnv(task="push")
    wrapped.reset(seed=2)
    reference.reset(seed=2)
    previous = reference.hold_action()
    buffer = np.empty(7)
    for action in actions:
        buffer[:] = action  # written in place, as many agents do
        observation = wrapped.step(buffer)[0]
        assert np.array_equal(wrapped.action_in_effect, action)
        expected = [reference.step(previous) for _ in range(2)][-1][0]
        previous = action
        assert pickle.dumps(observation) == pickle.dumps(expected)


def test_a_fractional_latency_switches_actions_mid_period_on_portia_envs():
    # 1.5 periods: the previous action for 30 physics steps, then the new one for 10.
    actions = arm_actions(8, seed=1)
    wrapped = LatencyBudget(ArmEnv(task="pick_place"), budget_s=1.0, clock=FixedLatency(1.5 * DT))
    reference = ArmEnv(task="pick_place")
    wrapped.reset(seed=2)
    reference.reset(seed=2)
    model, data = reference.sim.model, reference.sim.data
    previous = reference.hold_action()
    for action in actions:
        _, _, _, _, info = wrapped.step(action)
        for ctrl, substeps in ((previous, 30), (action, 10)):
            data.ctrl[:] = reference.controls(ctrl)
            mujoco.mj_step(model, data, nstep=substeps)
        previous = action
        assert info["periods_elapsed"] == 2
        np.testing.assert_array_equal(
            wrapped.unwrapped.get_state()[: reference.sim.physics_state_size],
            reference.get_state()[: reference.sim.physics_state_size],
        )


@pytest.mark.parametrize(("latency_periods", "periods"), [(0, 1), (1, 1), (3, 3), (1.5, 2)])
def test_other_envs_resolve_latency_to_whole_periods(latency_periods, periods):
    actions = np.random.default_rng(0).uniform(-2, 2, (6, 7))
    dt = gymnasium.make("Pusher-v5").unwrapped.dt
    wrapped = LatencyBudget(
        gymnasium.make("Pusher-v5"), budget_s=1.0, clock=FixedLatency(latency_periods * dt)
    )
    reference = gymnasium.make("Pusher-v5")
    wrapped.reset(seed=1)
    reference.reset(seed=1)
    previous = np.zeros(7, dtype=np.float32)
    for action in actions:
        observation, reward, *_ = wrapped.step(action)
        stepped = action if latency_periods == 0 else previous
        steps = [reference.step(stepped) for _ in range(periods)]
        previous = action
        np.testing.assert_array_equal(observation, steps[-1][0])
        assert reward == pytest.approx(sum(step[1] for step in steps), abs=1e-12)


def test_a_sleeping_agent_is_delayed_by_the_right_number_of_periods():
    env = LatencyBudget(gymnasium.make("Portia/ArmReach-v0"), budget_s=DT, clock=WallClock())
    env.reset(seed=0)
    time.sleep(0.1)  # 2.5 periods: the step spans 3
    _, _, _, _, info = env.step(np.zeros(7))
    assert 0.1 <= info["latency_s"] < 0.12
    assert info["periods_elapsed"] == 3 and info["overran"]
    _, _, _, _, info = env.step(np.zeros(7))  # no sleep: within one period
    assert info["periods_elapsed"] == 1 and not info["overran"]


def test_the_time_limit_counts_elapsed_periods():
    env = LatencyBudget(
        gymnasium.make("Portia/ArmReach-v0"), budget_s=1.0, clock=FixedLatency(3 * DT)
    )
    env.reset(seed=0)
    decisions, truncated, info = 0, False, {}
    while not truncated:
        _, _, terminated, truncated, info = env.step(np.zeros(7))
        decisions += 1
    assert decisions == 34  # 100 periods: 33 decisions of 3, then 1
    assert info["periods_elapsed"] == 1


def test_termination_inside_a_delay_ends_the_step_there():
    base = ArmEnv(task="push")
    env = LatencyBudget(base, budget_s=1.0, clock=FixedLatency(10 * DT))
    env.reset(seed=0)
    block = base.sim.model.joint("block").qposadr[0]
    base.sim.data.qpos[block : block + 3] = [0.86, 0.0, 0.05]  # over the table's edge
    mujoco.mj_forward(base.sim.model, base.sim.data)
    _, _, terminated, _, info = env.step(np.zeros(7))
    assert terminated
    assert 1 <= info["periods_elapsed"] < 10


def test_reset_clears_the_pending_action():
    env = LatencyBudget(ArmEnv(task="reach"), budget_s=1.0, clock=FixedLatency(DT))
    env.reset(seed=0)
    env.step(np.ones(7))
    assert np.array_equal(env.action_in_effect, np.ones(7))
    env.reset(seed=1)
    np.testing.assert_array_equal(env.action_in_effect, env.unwrapped.hold_action())
    custom = LatencyBudget(
        ArmEnv(task="reach"), budget_s=1.0, clock=FixedLatency(DT), default_action=np.zeros(7)
    )
    custom.reset(seed=0)
    np.testing.assert_array_equal(custom.action_in_effect, np.zeros(7))


def test_overrun_policies():
    slow = FixedLatency(2 * DT)
    plain = LatencyBudget(ArmEnv(task="reach"), budget_s=DT, clock=slow)
    penalized = LatencyBudget(
        ArmEnv(task="reach"), budget_s=DT, clock=slow, overrun="penalize", overrun_penalty=0.5
    )
    ending = LatencyBudget(ArmEnv(task="reach"), budget_s=DT, clock=slow, overrun="terminate")
    for env in (plain, penalized, ending):
        env.reset(seed=0)
    _, reward, terminated, _, info = plain.step(np.zeros(7))
    assert info["overran"] and not terminated
    _, penalized_reward, _, _, info = penalized.step(np.zeros(7))
    assert info["reward_overrun"] == -0.5 and penalized_reward == reward - 0.5
    _, _, terminated, _, _ = ending.step(np.zeros(7))
    assert terminated


def test_observe_action_adds_the_action_in_effect():
    env = LatencyBudget(
        gymnasium.make("Portia/ArmPush-v0"),
        budget_s=1.0,
        clock=FixedLatency(DT),
        observe_action=True,
    )
    observation, _ = env.reset(seed=0)
    assert env.observation_space.contains(observation)
    np.testing.assert_array_equal(observation["action_in_effect"], env.unwrapped.hold_action())
    action = np.full(7, 0.25, dtype=np.float32)
    observation, *_ = env.step(action)
    np.testing.assert_array_equal(observation["action_in_effect"], action)
    flat = LatencyBudget(
        gymnasium.make("Pusher-v5"), budget_s=1.0, clock=FixedLatency(0.0), observe_action=True
    )
    observation, _ = flat.reset(seed=0)
    assert observation.shape == (30,) and flat.observation_space.contains(observation)


def test_random_latency_is_seeded_and_compute_latency_declared():
    a, b = RandomLatency(0.0, 0.1, seed=1), RandomLatency(0.0, 0.1, seed=1)
    assert [a.latency_s() for _ in range(5)] == [b.latency_s() for _ in range(5)]
    a.reset(seed=7)
    b.reset(seed=7)
    assert a.latency_s() == b.latency_s()

    env = LatencyBudget(
        ArmEnv(task="reach"), budget_s=0.02, clock=ComputeClock(1e9, overhead_s=0.001)
    )
    env.reset(seed=0)
    with pytest.raises(WrapperInputError, match="declare"):
        env.step(np.zeros(7))
    env.declare_compute(5e7)
    _, _, _, _, info = env.step(np.zeros(7))
    assert info["latency_s"] == pytest.approx(0.051) and info["periods_elapsed"] == 2
    with pytest.raises(WrapperInputError, match="needs a ComputeClock"):
        LatencyBudget(ArmEnv(), budget_s=0.02, clock=FixedLatency(0)).declare_compute(1.0)


def test_bad_input_gets_clear_errors():
    with pytest.raises(WrapperInputError, match="budget_s must be a finite number of seconds >= 0"):
        LatencyBudget(ArmEnv(), budget_s=-0.1)
    with pytest.raises(WrapperInputError, match="CartPoleEnv has no dt: pass dt="):
        LatencyBudget(gymnasium.make("CartPole-v1"), budget_s=0.1)
    LatencyBudget(gymnasium.make("CartPole-v1"), budget_s=0.1, dt=0.02)
    with pytest.raises(WrapperInputError, match="overrun must be one of continue, penalize"):
        LatencyBudget(ArmEnv(), budget_s=0.1, overrun="wait")
    with pytest.raises(WrapperInputError, match="latency_s must be a finite number"):
        FixedLatency(-1.0)
    with pytest.raises(WrapperInputError, match="high_s"):
        RandomLatency(0.2, 0.1)

    ticks = iter([10.0, 9.0])
    backwards = LatencyBudget(ArmEnv(), budget_s=0.1, clock=WallClock(now=lambda: next(ticks)))
    backwards.reset(seed=0)
    with pytest.raises(WrapperInputError, match="went backwards"):
        backwards.step(np.zeros(7))


def test_vector_envs_keep_a_latency_per_sub_env():
    latencies = (0.0, 2 * DT)

    def make(latency):
        return lambda: LatencyBudget(
            gymnasium.make("Portia/ArmReach-v0"), budget_s=DT, clock=FixedLatency(latency)
        )

    envs = gymnasium.vector.SyncVectorEnv([make(latency) for latency in latencies])
    singles = [make(latency)() for latency in latencies]
    observations, _ = envs.reset(seed=[3, 4])
    for single, seed in zip(singles, (3, 4), strict=True):
        single.reset(seed=seed)
    for action in arm_actions(5):
        batch = np.stack([action, -action])
        observations, rewards, _, _, infos = envs.step(batch)
        for i, single in enumerate(singles):
            observation, reward, *_ = single.step(batch[i])
            np.testing.assert_array_equal(
                observations["observation"][i], observation["observation"]
            )
            assert rewards[i] == reward
    assert list(infos["periods_elapsed"]) == [1, 2]


def test_composes_with_time_pause():
    paused = LatencyBudget(
        TimePause(gymnasium.make("Portia/ArmPush-v0")), budget_s=0.0, clock=FixedLatency(0.0)
    )
    plain = gymnasium.make("Portia/ArmPush-v0")
    paused.reset(seed=0)
    plain.reset(seed=0)
    for action in arm_actions(5):
        paused.env.imagine(np.zeros((4, 3, 7)))
        mine, theirs = paused.step(action), plain.step(action)
        assert pickle.dumps(mine[0]) == pickle.dumps(theirs[0])
        assert mine[4]["think_steps"] == 12

    # Under a wall clock, time spent imagining is latency: thinking has a cost.
    thinking = LatencyBudget(
        TimePause(gymnasium.make("Portia/ArmPush-v0")), budget_s=DT, clock=WallClock()
    )
    thinking.reset(seed=0)
    thinking.env.imagine(np.zeros((64, 10, 7)))
    _, _, _, _, info = thinking.step(np.zeros(7))
    assert info["latency_s"] >= info["think_s"]
    assert info["periods_elapsed"] == int(np.ceil(info["latency_s"] / DT - 1e-9))
