"""detour-v0 on the command line: listed, benched, validated and collected like any suite."""

import json

import numpy as np
from typer.testing import CliRunner

from portia_envs.cli import app
from portia_envs.datasets import load_dataset, replay_episode
from portia_envs.suites import get_suite

runner = CliRunner()


def _bench(tmp_path, agent, *options):
    out = tmp_path / agent
    result = runner.invoke(
        app,
        [
            *("bench", "--agent", agent, "--suite", "detour-v0", "--episodes", "3"),
            *("--seeds", "0", "--workers", "1", "--out", str(out), *options),
        ],
    )
    assert result.exit_code == 0, result.output
    return out / "results.json"


def test_portia_suites_lists_detour_v0_with_its_hash():
    result = runner.invoke(app, ["suites"])
    assert result.exit_code == 0, result.output
    (line,) = [row for row in result.output.splitlines() if row.startswith("detour-v0 ")]
    assert "level layout: unseen level seeds" in line and get_suite("detour-v0").hash in line


def test_portia_tasks_lists_each_split_s_levels():
    result = runner.invoke(app, ["tasks", "detour-v0"])
    assert result.exit_code == 0, result.output
    assert "detour-v0/heldout  heldout  detour  detour  level seeds 1000000..1000999" in (
        result.output
    )


def test_the_planner_benches_validates_and_beats_random(tmp_path):
    planner = _bench(tmp_path, "planner")
    randomly = _bench(tmp_path, "random", "--isolation", "in-process")
    for path in (planner, randomly):
        checked = runner.invoke(app, ["validate", str(path)])
        assert checked.exit_code == 0, checked.output
        assert f"{path}: valid; 2 tasks" in checked.output
    results = json.loads(planner.read_text())
    assert results["environment"] == get_suite("detour-v0").environment()
    assert [t["task_id"] for t in results["tasks"]] == ["detour-v0/train", "detour-v0/heldout"]
    scores = {"planner": results["scores"], "random": json.loads(randomly.read_text())["scores"]}
    for split in ("train", "heldout"):
        assert scores["planner"]["splits"][split]["success_rate"]["value"] == 1.0
        planner_iqm = scores["planner"]["splits"][split]["iqm"]["value"]
        assert planner_iqm > scores["random"]["splits"][split]["iqm"]["value"] + 50

    results["environment"] = {"Portia/Detour-v0": "0123456789abcdef"}
    planner.write_text(json.dumps(results))
    checked = runner.invoke(app, ["validate", str(planner)])
    assert checked.exit_code != 0
    assert "made with Portia/Detour-v0 of fingerprint 0123456789abcdef, but this" in (
        checked.output
    )


def test_collect_writes_a_detour_dataset_that_replays(tmp_path):
    out = tmp_path / "detour"
    result = runner.invoke(
        app,
        [
            *("collect", "--agent", "planner", "--suite", "detour-v0", "--split", "heldout"),
            *("--episodes", "2", "--out", str(out)),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "2 episodes" in result.output and "100% success" in result.output
    dataset = load_dataset(out)
    assert dataset.spec.dataset_id == "portia/detour-v0-heldout/planner-v0"
    assert dataset.storage.metadata["portia"]["environment"] == {
        "Portia/Detour-v0": get_suite("detour-v0").fingerprint()
    }
    env = dataset.recover_environment()
    for index, episode in enumerate(dataset.iterate_episodes()):
        replay = replay_episode(dataset, index)
        assert np.array_equal(replay.observations, episode.observations)
        assert np.array_equal(replay.rewards, episode.rewards)
        (meta,) = dataset.storage.get_episode_metadata([index])
        observation, info = env.reset(seed=meta["seed"])
        assert info["task_id"] == meta["task_id"] == "detour-v0/heldout"
        assert np.array_equal(observation, episode.observations[0])
