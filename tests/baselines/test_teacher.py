import dataclasses
import json
import time

import gymnasium
import numpy as np
import pytest

import portia_envs  # noqa: F401  (registers the ids)
from baselines.teacher import (
    ARM_TEACHER_CONFIG,
    PlanningTeacher,
    TeacherConfig,
    TeacherConfigError,
    arm_teacher_config,
    make_teacher,
    run_episode,
    teacher_config_key,
)
from portia_envs.harness.agents import CORE_AGENTS
from portia_envs.suites import DetourSuite, get_suite
from portia_envs.suites.reference import REFERENCE_DIR
from wrappers.time_pause import TimePause

# A small budget, so that tests about the mechanics run fast.
SMALL = dataclasses.replace(ARM_TEACHER_CONFIG, samples=6, horizon=4, first_iterations=2)
# Success rates the teacher reaches in the paused world (scripts/teacher_success.py).
TARGET_RATES = {
    "Portia/ArmReach-v0": 0.95,
    "Portia/ArmPush-v0": 0.8,
    "Portia/ArmPickPlace-v0": 0.5,
}


def paused(env_id="Portia/ArmPush-v0", seed=0):
    env = TimePause(gymnasium.make(env_id))
    observation, _ = env.reset(seed=seed)
    return env, observation


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("samples", 1, r"samples must be an integer >= 2, got 1"),
        ("samples", 8.0, r"samples must be an integer >= 2, got 8.0"),
        ("horizon", 0, r"horizon must be an integer >= 1, got 0"),
        ("iterations", True, r"iterations must be an integer >= 1, got True"),
        ("first_iterations", -3, r"first_iterations must be an integer >= 1"),
        ("seed", "0", r"seed must be an integer, got '0'"),
        ("temperature", 0.0, r"temperature must be a finite number > 0, got 0.0"),
        ("temperature", float("nan"), r"temperature must be a finite number > 0, got nan"),
        ("noise_std", -0.1, r"noise_std must be > 0 \(one value, or one per action dimension\)"),
        ("noise_std", (0.1, 0.0), r"noise_std must be > 0"),
        ("noise_std", (), r"noise_std must be a finite number or a tuple of them, got \(\)"),
        ("min_noise_fraction", 0, r"min_noise_fraction must be a finite number in \(0, 1\]"),
        ("min_noise_fraction", 1.5, r"min_noise_fraction must be a finite number in \(0, 1\]"),
        ("noise_smoothing", 1.0, r"noise_smoothing must be a finite number in \[0, 1\)"),
        ("deviation_cost", -1.0, r"deviation_cost must be a finite number >= 0"),
        ("success_bonus", float("inf"), r"success_bonus must be a finite number >= 0"),
        ("termination_penalty", -0.5, r"termination_penalty must be a finite number >= 0"),
        ("initial_action", (0.0, float("nan")), r"initial_action must be a finite number or"),
        ("switch_fraction", 1.5, r"switch_fraction must be a finite number in \[0, 1\]"),
        ("switch_dims", (-1,), r"switch_dims must be a tuple of action dimension indices >= 0"),
        ("switch_dims", [6], r"switch_dims must be a tuple of action dimension indices"),
        ("keep_best", 1, r"keep_best must be True or False, got 1"),
    ],
)
def test_config_rejects_bad_values_with_a_clear_message(field, value, message):
    with pytest.raises(TeacherConfigError, match=message):
        TeacherConfig(**{field: value})


def test_config_errors_are_value_errors():
    assert issubclass(TeacherConfigError, ValueError)


def test_settings_that_do_not_fit_the_env_are_rejected():
    env, _ = paused()
    with pytest.raises(
        TeacherConfigError, match=r"noise_std must have one value or one per action"
    ):
        PlanningTeacher(env, TeacherConfig(noise_std=(0.1, 0.2)))
    with pytest.raises(TeacherConfigError, match=r"initial_action must lie in the action space"):
        PlanningTeacher(env, TeacherConfig(initial_action=(2.0,) * 7))
    with pytest.raises(TeacherConfigError, match=r"switch_dims \[7\] are not dimensions of the 7"):
        PlanningTeacher(env, TeacherConfig(switch_dims=(6, 7)))


def test_the_teacher_needs_a_paused_env():
    with pytest.raises(TypeError, match=r"wrap the env as TimePause\(gymnasium.make\(env_id\)\)"):
        PlanningTeacher(gymnasium.make("Portia/ArmPush-v0"))


def test_the_default_config_works_on_any_bounded_box_env():
    env = TimePause(gymnasium.make("Pendulum-v1"))
    observation, _ = env.reset(seed=0)
    action = PlanningTeacher(env, dataclasses.replace(TeacherConfig(), samples=4, horizon=3)).act(
        observation
    )
    assert env.action_space.contains(action)


def actions(config, *, n=4, seed=0):
    env, observation = paused(seed=seed)
    teacher = PlanningTeacher(env, config)
    played = []
    for _ in range(n):
        played.append(teacher.act(observation))
        observation, *_ = env.step(played[-1])
    return np.array(played)


def test_same_seed_gives_the_same_actions_and_another_seed_others():
    first = actions(SMALL)
    np.testing.assert_array_equal(first, actions(SMALL))
    assert not np.array_equal(first, actions(dataclasses.replace(SMALL, seed=1)))


def test_reset_restarts_the_teacher():
    env, observation = paused()
    teacher = PlanningTeacher(env, SMALL)
    first = teacher.act(observation)
    teacher.act(observation)
    teacher.reset()
    np.testing.assert_array_equal(teacher.act(observation), first)


def test_acting_only_imagines_the_real_state_is_untouched():
    env, observation = paused()
    for _ in range(3):
        before = env.unwrapped.get_state()
        action = PlanningTeacher(env, SMALL).act(observation)
        np.testing.assert_array_equal(env.unwrapped.get_state(), before)
        observation, *_ = env.step(action)


def test_actions_are_in_the_action_space():
    env, _ = paused()
    played = actions(SMALL, n=6)
    assert all(env.action_space.contains(action) for action in played)


def test_thinking_is_counted_in_info(monkeypatch):
    env, observation = paused()
    teacher = PlanningTeacher(env, SMALL)
    per_round = SMALL.samples * SMALL.horizon
    ticks = iter(range(1_000_000))  # each imagine reads the clock twice, 0.5 s apart
    monkeypatch.setattr(time, "perf_counter", lambda: next(ticks) * 0.5)
    *_, info = env.step(teacher.act(observation))
    monkeypatch.undo()
    assert info["think_steps"] == SMALL.first_iterations * per_round
    assert info["think_calls"] == SMALL.first_iterations
    assert info["think_s"] == 0.5 * SMALL.first_iterations
    *_, info = env.step(teacher.act(observation))
    assert info["think_steps"] == SMALL.iterations * per_round
    assert info["episode_think_steps"] == (SMALL.first_iterations + SMALL.iterations) * per_round


class RecordingPause(TimePause):
    """A TimePause that keeps every imagined batch and its future."""

    def __init__(self, env):
        super().__init__(env)
        self.calls = []

    def imagine(self, action_sequences):
        future = super().imagine(action_sequences)
        self.calls.append((np.array(action_sequences), future))
        return future


def recorded(config, decisions):
    env = RecordingPause(gymnasium.make("Portia/ArmPush-v0"))
    observation, _ = env.reset(seed=0)
    teacher = PlanningTeacher(env, config)
    for _ in range(decisions):
        observation, *_ = env.step(teacher.act(observation))
    return env.calls


def test_switched_dimensions_jump_to_a_bound_and_stay_there():
    config = dataclasses.replace(SMALL, horizon=6, switch_dims=(6,), switch_fraction=1.0)
    for sequences, _ in recorded(config, decisions=2):
        for gripper in sequences[1:, :, 6]:
            assert gripper[-1] in (-1.0, 1.0)
            start = np.flatnonzero(gripper != gripper[-1])
            held_from = 0 if start.size == 0 else start[-1] + 1
            assert np.all(gripper[held_from:] == gripper[-1])
    # Without switching, the noisy gripper values are spread between the bounds.
    free = recorded(dataclasses.replace(config, switch_dims=()), decisions=1)[0][0]
    assert np.mean(np.isin(free[1:, :, 6], (-1.0, 1.0))) < 0.9


def test_keep_best_imagines_the_best_variant_again_shifted_at_a_new_decision():
    config = dataclasses.replace(SMALL, keep_best=True, deviation_cost=0.0)
    calls = recorded(config, decisions=2)  # first_iterations = 2 rounds, then 1 round
    assert len(calls) == 3

    def best(call):
        sequences, future = call
        returns = (
            future["reward"]
            + config.success_bonus * future["is_success"]
            - config.termination_penalty * future["terminated"]
        ).sum(axis=1)
        return sequences[np.argmax(returns)]

    np.testing.assert_array_equal(calls[1][0][1], best(calls[0]))
    kept = best(calls[1])
    np.testing.assert_array_equal(calls[2][0][1], np.concatenate([kept[1:], kept[-1:]]))


def test_predict_is_act_with_no_recurrent_state():
    env, observation = paused()
    action, state = PlanningTeacher(env, SMALL).predict(observation, deterministic=True)
    assert state is None
    env.reset(seed=0)
    np.testing.assert_array_equal(action, PlanningTeacher(env, SMALL).act(observation))


def test_run_episode_reports_what_the_info_counted(monkeypatch):
    env = TimePause(gymnasium.make("Portia/ArmReach-v0", max_episode_steps=5))
    ticks = iter(range(1_000_000))  # each imagine reads the clock twice, 0.5 s apart
    monkeypatch.setattr(time, "perf_counter", lambda: next(ticks) * 0.5)
    result = run_episode(env, PlanningTeacher(env, SMALL), seed=0)
    monkeypatch.undo()
    per_round = SMALL.samples * SMALL.horizon
    assert result.decisions == 5
    assert result.think_steps == (SMALL.first_iterations + 4 * SMALL.iterations) * per_round
    assert result.think_s == 0.5 * (SMALL.first_iterations + 4 * SMALL.iterations)


# Seed 0 in the default run, cut at 40 of its 100 periods: the teacher reaches the goal by
# period 13 and stays there. Seed 1, whole, with -m slow (and 50 seeds below).
@pytest.mark.parametrize(
    ("seed", "periods"), [(0, 40), pytest.param(1, None, marks=pytest.mark.slow)]
)
def test_the_teacher_solves_seeded_reach_episodes(seed, periods):
    env = TimePause(gymnasium.make("Portia/ArmReach-v0", max_episode_steps=periods))
    result = run_episode(env, PlanningTeacher(env, ARM_TEACHER_CONFIG), seed)
    assert result.success and result.decisions == (periods or 100)


@pytest.mark.slow
@pytest.mark.parametrize(
    "env_id",
    [
        "Portia/ArmReach-v0",
        "Portia/ArmPush-v0",
        "Portia/ArmPickPlace-v0",
    ],
)
def test_teacher_success_rate_over_50_seeded_episodes(env_id):
    env = TimePause(gymnasium.make(env_id))
    teacher = PlanningTeacher(env, arm_teacher_config(env.unwrapped.task_name))
    rate = np.mean([run_episode(env, teacher, seed).success for seed in range(50)])
    assert rate >= TARGET_RATES[env_id]


def test_families_that_grasp_get_the_longer_sighted_config():
    for family in ("pick_place", "stack"):
        config = arm_teacher_config(family)
        assert (config.samples, config.horizon) == (64, 20)
        assert config.switch_dims == (6,) and config.keep_best
        assert config.noise_std == ARM_TEACHER_CONFIG.noise_std
    for family in ("reach", "push", "slide", "drawer"):
        assert arm_teacher_config(family) is ARM_TEACHER_CONFIG


@pytest.mark.parametrize("path", sorted(REFERENCE_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_shipped_reference_tables_were_made_with_the_current_teacher_configs(path):
    stored = json.loads(path.read_text())["teacher_config"]
    suite = get_suite(path.stem)
    if isinstance(suite, DetourSuite):  # its teacher is the planner, which has no settings
        assert stored == {"detour": {"agent": CORE_AGENTS["planner"]}}
        return
    pairs = {(task.family, task.embodiment) for task in suite.train + suite.heldout}
    assert set(stored) == {teacher_config_key(family, body) for family, body in pairs}
    for family, body in pairs:
        current = json.loads(json.dumps(dataclasses.asdict(arm_teacher_config(family, body))))
        assert stored[teacher_config_key(family, body)] == current, (family, body)


def test_a_four_hinge_arm_gets_the_arm_search_over_its_own_dimensions():
    for body in ("arm4", "arm4_long"):
        env = TimePause(gymnasium.make("Portia/Arm4Reach-v0", body=body))
        config = arm_teacher_config("reach", body)
        assert len(config.noise_std) == len(config.initial_action) == 5
        assert config.initial_action[-1] == -1.0
        env.reset(seed=0)
        rest = env.unwrapped.hold_action()
        assert np.allclose(config.initial_action[:4], rest[:4], atol=0.05)
        teacher = make_teacher(env)
        assert teacher.act(None).shape == (5,)
    assert teacher_config_key("reach", "arm4") == "arm4/reach"
    assert teacher_config_key("reach") == "reach"
