"""The harness on a suite of several bodies: one agent, one shared space, native built-ins."""

import numpy as np
import pytest

from portia_envs.harness.episode import EpisodeJob, EpisodeRunner, suite_layout
from portia_envs.results import validate_results
from portia_envs.suites import get_suite
from tests.portia_envs.harness.harness_runs import config, fake, run
from wrappers import MultiEmbodiment

SUITE = get_suite("arm-bodies-v0")
JOBS = [
    EpisodeJob(task.task_id, split, task.family, 0, 0)
    for split in ("train", "heldout")
    for task in SUITE.tasks(split)
]


def test_the_scripted_expert_acts_natively_for_every_body_and_succeeds():
    runner = EpisodeRunner(config("scripted", suite=SUITE.name))
    records = [runner.run(job) for job in JOBS]
    runner.close()
    assert [r["status"] for r in records] == ["ok"] * len(JOBS), [r["error"] for r in records]
    assert all(r["success"] for r in records)


def test_other_agents_get_the_shared_spaces_of_every_body_of_the_suite():
    layout = suite_layout(SUITE.name)
    assert layout.action_size == 7  # the six-joint arm's
    runner = EpisodeRunner(config(fake("shared_space_agent"), suite=SUITE.name))
    for job in JOBS:
        record = runner.run(job)
        assert record["status"] == "ok", record["error"]
        env = runner._tasks[job.task_id].env
        assert isinstance(env, MultiEmbodiment) and env.layout == layout
        assert env.body.name == SUITE.task(job.task_id).embodiment
    runner.close()


@pytest.mark.parametrize("agent", ["random"])
def test_random_actions_in_the_shared_space_move_only_the_bodys_own_slots(agent):
    runner = EpisodeRunner(config(agent, suite=SUITE.name))
    job = next(j for j in JOBS if j.task_id == "arm4_long-reach")
    first, second = runner.run(job), runner.run(job)
    runner.close()
    assert first["status"] == "ok" and np.isfinite(first["return"])
    assert first["return"] == second["return"]  # seeded per episode


def test_a_bench_of_the_bodies_suite_scores_every_body_and_validates(tmp_path):
    results = run(tmp_path, "scripted", suite=SUITE.name, episodes=1)
    tasks = results["scores"]["tasks"]
    assert set(tasks) == {task.task_id for task in SUITE.train + SUITE.heldout}
    assert all(task["success_rate"] == 1.0 for task in tasks.values())
    assert results["scores"]["splits"]["heldout"]["iqm"]["value"] > 50
    validate_results(results)


@pytest.mark.parametrize("isolation", ["process", "in-process"])
def test_a_factory_that_declares_native_spaces_gets_native_observations(isolation):
    from portia_envs.experts import ScriptedExpert

    assert ScriptedExpert.acts_in_native_spaces
    runner = EpisodeRunner(config("scripted", suite=SUITE.name, isolation=isolation))
    job = next(j for j in JOBS if j.task_id.startswith("arm4"))
    record = runner.run(job)
    task = runner._tasks[job.task_id]
    native_space, shared_space = task.agent_spaces(True)[1], task.agent_spaces(False)[1]
    runner.close()
    assert record["status"] == "ok" and record["success"], record["error"]
    assert runner.link.native
    assert native_space.shape == (5,) and shared_space.shape == (7,)
