"""Checksums: a dataset whose bytes changed, or that was cut short, is refused by name."""

import json
import logging
import re
import shutil

import h5py
import numpy as np
import pytest

from portia_envs.datasets import episode_env, find_datasets, load_dataset, replay_episode
from portia_envs.datasets.store import CHECKSUM_KEY, DATA_FILE
from portia_envs.errors import DatasetIntegrityError, PortiaError

DATASET_ID = "portia/smoke-v0-train/scripted-v0"


@pytest.fixture
def copy(scripted_dir, tmp_path):
    """A copy of the scripted dataset, free to damage; returns its HDF5 file."""
    root = tmp_path / "copy"
    shutil.copytree(scripted_dir, root)
    (data,) = find_datasets(root)
    return data / DATA_FILE


def flip_bytes(file, name, count=4):
    """Invert the first ``count`` bytes of dataset ``name``'s raw data, in place."""
    with h5py.File(file, "r") as h5:
        dataset = h5[name]
        if dataset.chunks is None:
            offset = dataset.id.get_offset()
        else:
            offset = dataset.id.get_chunk_info(0).byte_offset
    with open(file, "r+b") as raw:
        raw.seek(offset)
        data = raw.read(count)
        raw.seek(offset)
        raw.write(bytes(b ^ 0xFF for b in data))


def test_the_error_is_a_portia_error_and_a_value_error():
    assert issubclass(DatasetIntegrityError, PortiaError)
    assert issubclass(DatasetIntegrityError, ValueError)


def test_every_episode_carries_a_checksum_and_an_untouched_dataset_replays(copy):
    dataset = load_dataset(copy.parent)
    assert dataset.storage.metadata["portia"]["checksum"] == "sha256"
    for meta in dataset.storage.get_episode_metadata(range(dataset.total_episodes)):
        assert re.fullmatch("[0-9a-f]{64}", meta[CHECKSUM_KEY])
    (episode,) = dataset.iterate_episodes([1])
    replay = replay_episode(dataset, 1)
    assert np.array_equal(replay.rewards, episode.rewards)
    for key, stored in episode.observations.items():
        assert np.array_equal(replay.observations[key], stored)


@pytest.mark.parametrize(
    ("episode", "name"),
    [
        (1, "actions"),
        (2, "observations/observation"),
        (0, "rewards"),
        (1, "terminations"),
        (2, "infos/think_s"),
    ],
)
def test_flipped_bytes_are_refused_naming_the_episode(copy, episode, name):
    opened = load_dataset(copy.parent)
    flip_bytes(copy, f"episode_{episode}/{name}")
    match = rf"episode {episode} of dataset {DATASET_ID} \(.*{DATA_FILE}\) does not match its "
    with pytest.raises(DatasetIntegrityError, match=match + "checksum.*collect dataset .* again"):
        load_dataset(copy.parent)
    with pytest.raises(DatasetIntegrityError, match=match):
        replay_episode(opened, episode)
    with pytest.raises(DatasetIntegrityError, match=match):
        episode_env(opened, episode)
    intact = (episode + 1) % 3
    replay_episode(opened, intact)  # the other episodes still replay


def test_a_changed_episode_attribute_is_refused(copy):
    with h5py.File(copy, "a") as h5:
        h5["episode_2"].attrs["return"] = 123.0
    with pytest.raises(DatasetIntegrityError, match="episode 2 of dataset .* does not match"):
        load_dataset(copy.parent)


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.0])
def test_a_truncated_file_is_refused_naming_the_file(copy, keep):
    opened = load_dataset(copy.parent)
    data = copy.read_bytes()
    copy.write_bytes(data[: int(len(data) * keep)])
    match = rf"{re.escape(str(copy))} of dataset {DATASET_ID} is truncated or unreadable .*collect"
    with pytest.raises(DatasetIntegrityError, match=match):
        load_dataset(copy.parent)
    with pytest.raises(DatasetIntegrityError, match=match):
        replay_episode(opened, 0)


def test_a_file_that_is_not_hdf5_is_refused(copy):
    copy.write_bytes(b"not a dataset" * 100)
    with pytest.raises(DatasetIntegrityError, match="truncated or unreadable"):
        load_dataset(copy.parent)


def test_a_missing_episode_or_checksum_is_refused(copy):
    with h5py.File(copy, "a") as h5:
        del h5["episode_2"]
    with pytest.raises(DatasetIntegrityError, match="episode 2 of dataset .* is missing from"):
        load_dataset(copy.parent)
    with h5py.File(copy, "a") as h5:
        del h5["episode_1"].attrs[CHECKSUM_KEY]
    with pytest.raises(DatasetIntegrityError, match="episode 1 of dataset .* has no checksum"):
        load_dataset(copy.parent)


def test_a_dataset_written_before_checksums_loads_with_a_warning(copy, caplog):
    with h5py.File(copy, "a") as h5:
        for index in range(3):
            del h5[f"episode_{index}"].attrs[CHECKSUM_KEY]
    metadata_file = copy.parent / "metadata.json"
    metadata = json.loads(metadata_file.read_text())
    del metadata["portia"]["checksum"]
    metadata_file.write_text(json.dumps(metadata))
    with caplog.at_level(logging.WARNING, logger="portia_envs.datasets.store"):
        dataset = load_dataset(copy.parent)
    assert f"dataset {DATASET_ID}" in caplog.text
    assert "written before Portia stored checksums" in caplog.text
    assert "collect it again" in caplog.text
    assert dataset.total_episodes == 3
    (episode,) = dataset.iterate_episodes([0])
    assert np.array_equal(replay_episode(dataset, 0).rewards, episode.rewards)
