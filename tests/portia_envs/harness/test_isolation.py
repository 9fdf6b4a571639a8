"""Scores you can trust: cheats that cannot reach their target, failures that never pay."""

import numpy as np
import pytest

from portia_envs.errors import AgentPreflightError
from portia_envs.harness.episode import EpisodeJob, EpisodeRunner
from portia_envs.harness.runner import PREFLIGHT_EPISODE, iter_jobs
from portia_envs.results import validate_results
from portia_envs.suites import get_suite
from tests.portia_envs.harness.harness_runs import config, fake, run

# The episodes of a run of smoke-v0, 1 episode, seed 0 (hold_still's), in suite order.
SMOKE_JOBS = list(iter_jobs(get_suite("smoke-v0"), 1, [0]))
# The episode of push-centre that every run of these tests plays (seed 0, episode 0).
PUSH = EpisodeJob("push-centre", "train", "push", 0, 0)


@pytest.fixture(scope="module")
def hold_still(tmp_path_factory):
    """The honest do-nothing agent's results: one episode per smoke task, paused."""
    return run(tmp_path_factory.mktemp("hold"), fake("make_hold_still"), episodes=1)


def _play(agent, *jobs, **options):
    """The records of ``jobs`` played in turn by one ``EpisodeRunner``, as a run's workers
    play them (the agent in its own process unless ``options`` say otherwise)."""
    runner = EpisodeRunner(config(agent, **options))
    try:
        return [runner.run(job) for job in jobs]
    finally:
        runner.close()


def outcomes(records):
    """What a run's scores are computed from, per episode."""
    return [(r["task_id"], r["status"], r["return"], r["success"]) for r in records]


def iqm(results, split):
    return results["scores"]["splits"][split]["iqm"]["value"]


def test_the_honest_baseline_completes_and_is_isolated(hold_still):
    assert all(r["status"] == "ok" for r in hold_still["episodes"])
    assert hold_still["isolation"] == "process"
    validate_results(hold_still)


@pytest.mark.parametrize("cheat", ["SetStateCheat", "RunnerPatch"])
def test_cheats_through_the_env_or_the_harness_score_exactly_as_holding_still(hold_still, cheat):
    # The episodes of hold_still's run, played as its worker did: the same records, so the
    # same scores (which are computed from the records alone).
    records = _play(fake(cheat), *SMOKE_JOBS)
    assert outcomes(records) == outcomes(hold_still["episodes"])
    assert [r["success"] for r in records] == [False, False, False]


def test_in_process_the_set_state_cheat_works_so_that_mode_says_so(tmp_path, hold_still):
    results = run(tmp_path, fake("SetStateCheat"), episodes=1, isolation="in-process")
    assert results["isolation"] == "in-process"
    assert all(r["success"] for r in results["episodes"])
    assert iqm(results, "train") > iqm(hold_still, "train")


def test_a_patched_clock_in_the_agent_does_not_change_the_measured_latency():
    runner = EpisodeRunner(
        config(fake("ClockPatch"), track="realtime", budget_ms=5.0, clock="wall")
    )
    try:
        record = runner.run(EpisodeJob("reach-centre", "train", "reach", 0, 0))
    finally:
        runner.close()
    assert record["status"] == "ok", record["error"]
    assert min(record["latencies_ms"]) >= 10.0  # the agent sleeps 10 ms per decision
    assert record["overran"] == record["length"]


def test_planning_on_the_agents_own_copy_is_planning_on_the_wrong_world(hold_still):
    # push-centre, where planning on the scored world (in-process) does beat holding still.
    (record,) = _play(fake("HiddenRollout"), PUSH)
    assert record["status"] == "ok" and record["think_steps"] == 0, record["error"]
    (honest,) = [r for r in hold_still["episodes"] if r["task_id"] == PUSH.task_id]
    assert record["return"] <= honest["return"]


def test_imagining_through_the_protocol_is_served_from_the_scored_state_and_counted():
    (record,) = _play(fake("ImaginingHold"), PUSH)
    assert record["status"] == "ok", record["error"]
    # 4 plans of 5 periods per decision, every one counted.
    assert record["think_steps"] == 20 * record["length"]


def test_failing_on_purpose_mid_episode_never_beats_holding_still(tmp_path, hold_still):
    results = run(tmp_path, fake("RaisingLate"), episodes=1)
    assert all(r["status"] == "error" and r["length"] == 19 for r in results["episodes"])
    assert all("giving up on purpose" in r["error"] for r in results["episodes"])
    honest = hold_still["scores"]["tasks"]
    for task_id, task in results["scores"]["tasks"].items():
        assert task["normalized"]["value"] < honest[task_id]["normalized"]["value"]
        assert task["failed"] == 1 and task["success_rate"] == 0.0
    validate_results(results)


@pytest.mark.parametrize(
    ("agent", "message"),
    [
        ("make_nothing", "cannot use a NoneType as an agent"),
        ("Broken", "RuntimeError: the agent broke on purpose"),
    ],
)
def test_an_agent_that_cannot_act_stops_the_run_before_anything_is_written(
    tmp_path, agent, message
):
    with pytest.raises(AgentPreflightError, match=f"cannot act .*{message}"):
        run(tmp_path / "out", fake(agent), episodes=1)
    assert not (tmp_path / "out").exists()


def test_the_preflight_episode_is_never_a_scored_one():
    from portia_envs.harness.runner import MAX_EPISODES_PER_SEED

    assert PREFLIGHT_EPISODE >= MAX_EPISODES_PER_SEED


@pytest.mark.parametrize(
    ("agent", "options", "status", "message"),
    [
        ("MemoryHog", {"agent_memory_mb": 1024}, "error", "may map 1024 MiB"),
        ("Spinning", {"agent_cpu_s": 1.0}, "error", "more than its 1 CPU seconds per episode"),
        ("SegfaultOnce", {}, "error", "crashed (segmentation fault"),
        ("NaNAction", {}, "error", "invalid action: NaN"),
        ("WrongShape", {}, "error", "invalid action: shape (3,); the action space needs (7,)"),
        ("PrintsToStdout", {}, "ok", None),
    ],
)
def test_limits_and_bad_actions_fail_the_episode_with_a_curated_reason(
    agent, options, status, message
):
    runner = EpisodeRunner(config(fake(agent), timeout_s=60.0, **options))
    try:
        record = runner.run(EpisodeJob("reach-centre", "train", "reach", 0, 0))
        after = runner.run(EpisodeJob("reach-centre", "train", "reach", 0, 1))
    finally:
        runner.close()
    assert record["status"] == status, record["error"]
    if message is not None:
        assert message in record["error"]
        assert not record["success"]
    assert after["status"] == "ok", after["error"]  # a new agent process takes over
    assert np.isfinite(after["return"])


@pytest.mark.slow
def test_the_teacher_plays_the_same_episodes_through_the_protocol(tmp_path):
    isolated = run(tmp_path / "process", "teacher", episodes=1)
    in_worker = run(tmp_path / "worker", "teacher", episodes=1, isolation="in-process")
    for first, second in zip(isolated["episodes"], in_worker["episodes"], strict=True):
        assert {key for key in first if first[key] != second[key]} <= {"think_s"}  # wall time
        assert first["think_steps"] > 0
    assert isolated["scores"] == in_worker["scores"]


def test_the_agent_runs_under_its_command_prefix(tmp_path, hold_still):
    prefixed = _play(fake("make_hold_still"), *SMOKE_JOBS, agent_prefix=("env",))
    assert outcomes(prefixed) == outcomes(hold_still["episodes"])
    with pytest.raises(AgentPreflightError):
        run(tmp_path / "false", fake("make_hold_still"), episodes=1, agent_prefix=("false",))
