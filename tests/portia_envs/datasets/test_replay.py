import json

import numpy as np
import pytest

from portia_envs.datasets import DatasetError, collect, load_dataset, replay_episode


def assert_replays_exactly(dataset):
    for index, episode in enumerate(dataset.iterate_episodes()):
        replay = replay_episode(dataset, index)
        assert set(replay.observations) == set(episode.observations)
        for key, stored in episode.observations.items():
            assert replay.observations[key].dtype == stored.dtype
            assert np.array_equal(replay.observations[key], stored), (index, key)
        assert np.array_equal(replay.rewards, episode.rewards)
        assert np.array_equal(replay.terminations, episode.terminations)
        assert np.array_equal(replay.truncations, episode.truncations)


def test_stored_actions_replay_to_the_stored_observations_and_rewards(scripted):
    assert_replays_exactly(scripted)


def test_thinking_leaves_no_trace_in_the_replay(thinker):
    assert_replays_exactly(thinker)


def test_minari_s_recovered_env_replays_from_the_stored_seed_and_options(scripted):
    env = scripted.recover_environment()
    try:
        for index, episode in enumerate(scripted.iterate_episodes()):
            (meta,) = scripted.storage.get_episode_metadata([index])
            observation, info = env.reset(seed=meta["seed"], options=meta["options"])
            assert info["task_id"] == meta["task_id"]
            rewards = []
            for action in episode.actions:
                observation, reward, *_ = env.step(action)
                rewards.append(reward)
            for key, stored in episode.observations.items():
                assert np.array_equal(observation[key], stored[-1])
            assert np.array_equal(np.array(rewards), episode.rewards)
    finally:
        env.close()


def test_a_suite_of_several_bodies_replays_behind_the_shared_spaces(tmp_path):
    collect("scripted", "arm-bodies-v0", "train", 3, tmp_path)
    dataset = load_dataset(tmp_path)
    assert "env_spec" not in dataset.storage.metadata  # MultiEmbodiment does not fit a spec
    assert {"proprio_mask", "action_mask"} <= set(dataset.observation_space.spaces)
    fingerprints = dataset.storage.metadata["portia"]["environment"]["Portia/Arm-v0"]
    assert set(fingerprints) == {"arm", "arm4", "arm4_long"}
    assert_replays_exactly(dataset)


def test_a_dataset_of_another_suite_version_is_refused(scripted_dir, tmp_path):
    (data,) = scripted_dir.rglob("data/metadata.json")
    copy = tmp_path / "copy"
    target = copy / data.parent.relative_to(scripted_dir)
    target.mkdir(parents=True)
    (target / "main_data.hdf5").write_bytes((data.parent / "main_data.hdf5").read_bytes())
    metadata = json.loads(data.read_text())
    metadata["portia"]["suite"]["hash"] = "0000000000000000"
    (target / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(DatasetError, match="hash 0000000000000000.*would not replay"):
        replay_episode(load_dataset(copy), 0)
