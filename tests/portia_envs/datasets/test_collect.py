import os
import re
import sys
from pathlib import Path

import gymnasium
import numpy as np
import pytest

from portia_envs.datasets import (
    INFO_KEYS,
    DatasetError,
    EpisodeFailedError,
    collect,
    load_dataset,
    text_info,
)
from portia_envs.datasets.collect import plan_episodes
from portia_envs.errors import AgentSpecError, UnknownSuiteError
from portia_envs.harness.episode import EpisodeRunner, RunConfig
from portia_envs.harness.runner import iter_jobs
from portia_envs.suites import get_suite
from tests.portia_envs.datasets.conftest import SCRIPTED_EPISODES
from tests.portia_envs.harness.isolated_network import needs_isolated_network, run_isolated

SMOKE = get_suite("smoke-v0")
RAISING = f"{Path(__file__).parents[1] / 'harness' / 'fake_agents.py'}:Raising"
IMAGINING = f"{Path(__file__).parents[1] / 'harness' / 'fake_agents.py'}:ImaginingExpert"


def episodes_of(dataset):
    return list(dataset.iterate_episodes()), list(
        dataset.storage.get_episode_metadata(range(dataset.total_episodes))
    )


def test_episodes_go_round_robin_over_the_tasks_with_the_harness_reset_seeds():
    jobs = plan_episodes(SMOKE, "train", 5, seed=3)
    assert [job.task_id for job in jobs] == ["reach-centre", "push-centre"] * 2 + ["reach-centre"]
    assert [job.episode for job in jobs] == [0, 0, 1, 1, 2]
    bench = {job.key: job.reset_seed for job in iter_jobs(SMOKE, episodes=3, seeds=[3])}
    assert [job.reset_seed for job in jobs] == [bench[job.key] for job in jobs]
    assert len({job.reset_seed for job in jobs}) == 5
    heldout = plan_episodes(SMOKE, "heldout", 2, seed=0)
    assert [job.task_id for job in heldout] == ["reach-high-left"] * 2


def test_plan_refuses_bad_input():
    with pytest.raises(ValueError, match="episodes must be >= 1, got 0"):
        plan_episodes(SMOKE, "train", 0, seed=0)
    with pytest.raises(UnknownSuiteError, match="unknown split 'trian'.*did you mean 'train'"):
        plan_episodes(SMOKE, "trian", 2, seed=0)


def test_the_dataset_has_every_key_with_its_dtype_and_shape(scripted):
    assert scripted.spec.dataset_id == "portia/smoke-v0-train/scripted-v0"
    assert scripted.total_episodes == 3
    episodes, metadata = episodes_of(scripted)
    assert scripted.total_steps == sum(len(episode) for episode in episodes)
    space = gymnasium.make("Portia/Arm-v0").observation_space
    assert scripted.observation_space == space
    for episode in episodes:
        steps = len(episode)
        assert set(episode.observations) == {"observation", "achieved_goal", "desired_goal", "task"}
        for key, observations in episode.observations.items():
            assert observations.dtype == space[key].dtype == np.float64
            assert observations.shape == (steps + 1, *space[key].shape)
        assert episode.actions.dtype == np.float32 and episode.actions.shape == (steps, 7)
        assert episode.rewards.dtype == np.float64 and episode.rewards.shape == (steps,)
        assert episode.terminations.dtype == bool and episode.truncations.dtype == bool
        assert episode.terminations[-1] or episode.truncations[-1]
        assert not (episode.terminations[:-1] | episode.truncations[:-1]).any()
        assert set(episode.infos) == set(INFO_KEYS)
        assert all(len(values) == steps + 1 for values in episode.infos.values())
        assert episode.infos["is_success"].dtype == bool
        assert episode.infos["think_steps"].dtype == np.int64
        assert episode.infos["think_s"].dtype == np.float64


def test_infos_carry_the_task_and_its_instruction(scripted):
    episodes, metadata = episodes_of(scripted)
    assert [m["task_id"] for m in metadata] == ["reach-centre", "push-centre", "reach-centre"]
    for episode, meta in zip(episodes, metadata, strict=True):
        assert set(text_info(episode.infos["task_id"])) == {meta["task_id"]}
        (instruction,) = set(text_info(episode.infos["instruction"]))
        assert ("block" in instruction) == (meta["family"] == "push")
        assert bool(episode.infos["is_success"][-1]) == meta["success"]


def test_the_metadata_says_what_was_collected_and_how(scripted):
    portia = scripted.storage.metadata["portia"]
    assert portia["suite"] == {"name": "smoke-v0", "hash": SMOKE.hash}
    assert portia["split"] == "train" and portia["track"] == "paused"
    assert portia["tasks"] == ["reach-centre", "push-centre"]
    assert portia["agent"]["spec"] == "scripted"
    assert portia["agent"]["resolved"] == "portia_envs.experts:ScriptedExpert"
    assert portia["episodes"] == 3 and portia["seed"] == 0
    env = gymnasium.make("Portia/Arm-v0", suite="smoke-v0", task="push-centre")
    assert portia["environment"] == {"Portia/Arm-v0": env.unwrapped.fingerprint}
    assert scripted.storage.metadata["algorithm_name"] == "scripted"
    assert scripted.storage.metadata["data_format"] == "hdf5"
    assert any(r.startswith("mujoco==") for r in scripted.storage.metadata["requirements"])

    episodes, metadata = episodes_of(scripted)
    jobs = plan_episodes(SMOKE, "train", 3, seed=0)
    for episode, meta, job in zip(episodes, metadata, jobs, strict=True):
        assert meta["seed"] == job.reset_seed and meta["options"] == {"task": job.task_id}
        assert (meta["run_seed"], meta["episode"], meta["family"]) == (0, job.episode, job.family)
        assert meta["length"] == len(episode) == meta["total_steps"]
        assert meta["return"] == pytest.approx(float(episode.rewards.sum()), abs=1e-9)
        assert meta["think_steps"] == 0 and meta["think_s"] == 0.0
        assert set(meta["task_parameters"]) >= {"goal_x", "goal_y"}


def test_episodes_are_those_the_harness_plays(scripted):
    """Same env and agent construction as `portia bench`: the same returns and lengths."""
    config = RunConfig(
        suite="smoke-v0",
        suite_hash=SMOKE.hash,
        track="paused",
        agent="portia_envs.experts:ScriptedExpert",
        budget_ms=None,
        clock=None,
        timeout_s=600.0,
    )
    runner = EpisodeRunner(config)
    try:
        records = [runner.run(job) for job in plan_episodes(SMOKE, "train", 3, seed=0)]
    finally:
        runner.close()
    _, metadata = episodes_of(scripted)
    for record, meta in zip(records, metadata, strict=True):
        assert record["status"] == "ok"
        assert (record["return"], record["length"], record["success"]) == (
            meta["return"],
            meta["length"],
            meta["success"],
        )


def test_what_an_agent_s_thinking_cost_is_recorded(thinker):
    assert thinker.spec.dataset_id == "portia/smoke-v0-train/imaginingexpert-v0"
    (episode,) = thinker.iterate_episodes()
    (meta,) = thinker.storage.get_episode_metadata([0])
    assert meta["task_id"] == "reach-centre"
    think_steps, think_s = episode.infos["think_steps"], episode.infos["think_s"]
    assert think_steps[0] == 0 and think_s[0] == 0.0  # the reset: nothing imagined yet
    assert (think_steps[1:] == 20).all() and (think_s[1:] > 0).all()  # 4 plans of 5 periods
    assert meta["think_steps"] == think_steps.sum() == 20 * len(episode)
    assert meta["think_s"] == pytest.approx(think_s.sum(), rel=1e-9)
    assert thinker.storage.metadata["portia"]["agent"]["resolved"] == IMAGINING


def test_collect_restores_minari_s_datasets_path(tmp_path, monkeypatch):
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "elsewhere"))
    collect("random", "smoke-v0", "heldout", 1, tmp_path / "out")
    assert os.environ["MINARI_DATASETS_PATH"] == str(tmp_path / "elsewhere")
    assert not (tmp_path / "elsewhere").exists()
    monkeypatch.delenv("MINARI_DATASETS_PATH")
    collect("random", "smoke-v0", "heldout", 1, tmp_path / "again")
    assert "MINARI_DATASETS_PATH" not in os.environ


def test_collect_refuses_bad_input_before_playing(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(UnknownSuiteError, match="unknown suite 'smok-v0'"):
        collect("scripted", "smok-v0", "train", 1, out)
    with pytest.raises(UnknownSuiteError, match="unknown split 'test'"):
        collect("scripted", "smoke-v0", "test", 1, out)
    with pytest.raises(AgentSpecError, match="did you mean 'scripted'"):
        collect("scriptd", "smoke-v0", "train", 1, out)
    with pytest.raises(ValueError, match="episodes must be >= 1"):
        collect("scripted", "smoke-v0", "train", 0, out)
    with pytest.raises(ValueError, match="workers must be >= 1, got 0"):
        collect("scripted", "smoke-v0", "train", 1, out, workers=0)
    with pytest.raises(ValueError, match="unknown backend 'dask'; accepted: local, ray"):
        collect("scripted", "smoke-v0", "train", 1, out, backend="dask")
    assert not out.exists()


def assert_same_dataset(mine, theirs):
    """The same episodes, bit for bit, with the same checksums and metadata."""
    ours, others = episodes_of(mine), episodes_of(theirs)
    for episode, other in zip(ours[0], others[0], strict=True):
        assert np.array_equal(episode.actions, other.actions)
        assert np.array_equal(episode.rewards, other.rewards)
        for key, observations in episode.observations.items():
            assert np.array_equal(observations, other.observations[key])
    assert [meta["sha256"] for meta in ours[1]] == [meta["sha256"] for meta in others[1]]
    assert ours[1] == others[1]
    assert mine.storage.metadata["portia"] == theirs.storage.metadata["portia"]


def test_worker_processes_write_the_same_dataset_in_plan_order(tmp_path, scripted):
    seen = []
    collect(
        "scripted",
        "smoke-v0",
        "train",
        SCRIPTED_EPISODES,
        tmp_path / "data",
        workers=2,
        on_episode=lambda episode: seen.append(episode.index),
    )
    assert seen == list(range(SCRIPTED_EPISODES))
    assert_same_dataset(load_dataset(tmp_path / "data"), scripted)


@pytest.mark.slow  # Ray starts, some 10 s: run with -m slow
@needs_isolated_network
def test_ray_tasks_write_the_same_dataset(tmp_path, scripted):
    command = (
        f"{sys.executable} -c 'from portia_envs.cli import app; app()' collect --agent scripted "
        f"--suite smoke-v0 --episodes {SCRIPTED_EPISODES} --workers 2 --backend ray "
        f"--out {tmp_path / 'data'}"
    )
    done = run_isolated(command)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith(f"collected {SCRIPTED_EPISODES} episodes")
    assert_same_dataset(load_dataset(tmp_path / "data"), scripted)


def test_a_failed_episode_writes_nothing(tmp_path):
    out = tmp_path / "out"
    # The fake agent raises on even reset seeds: the third episode's is.
    assert [job.reset_seed % 2 for job in plan_episodes(SMOKE, "train", 3, 0)] == [1, 1, 0]
    message = re.escape("episode 2 (task reach-centre, reset seed 2576708506) failed: RuntimeError")
    for workers in (1, 2):
        with pytest.raises(EpisodeFailedError, match=message):
            collect(RAISING, "smoke-v0", "train", 3, out, workers=workers)
        assert list(tmp_path.iterdir()) == []


def test_a_non_empty_out_dir_is_kept_unless_overwriting_a_dataset(tmp_path, scripted_dir):
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(DatasetError, match="is not empty .*other files.*--overwrite"):
        collect("random", "smoke-v0", "train", 1, other)
    with pytest.raises(DatasetError, match="not a Portia dataset \\(notes.txt\\)"):
        collect("random", "smoke-v0", "train", 1, other, overwrite=True)
    assert [p.name for p in other.iterdir()] == ["notes.txt"]
    (tmp_path / "file").write_text("")
    with pytest.raises(DatasetError, match="is a file"):
        collect("random", "smoke-v0", "train", 1, tmp_path / "file")

    out = tmp_path / "out"
    collect("random", "smoke-v0", "train", 1, out)
    with pytest.raises(DatasetError, match="holds a Portia dataset.*pass --overwrite"):
        collect("random", "smoke-v0", "train", 2, out)
    summary = collect("scripted", "smoke-v0", "train", 2, out, overwrite=True)
    assert summary.dataset_id == "portia/smoke-v0-train/scripted-v0"
    assert [p.name for p in (out / "portia" / "smoke-v0-train").iterdir() if p.is_dir()] == [
        "scripted-v0"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "other", "out"]
