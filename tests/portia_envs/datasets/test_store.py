import json
import os
import shutil

import minari
import pytest
from minari.dataset.minari_dataset import parse_dataset_id

from portia_envs.datasets import DatasetError, dataset_id, find_datasets, load_dataset
from portia_envs.datasets.store import minari_root


def test_dataset_ids_follow_minari_s_naming_rules():
    identifier = dataset_id("smoke-v0", "train", "My Agent!")
    assert identifier == "portia/smoke-v0-train/my_agent-v0"
    assert parse_dataset_id(identifier) == ("portia/smoke-v0-train", "my_agent", 0)
    assert dataset_id("arm-gen-v0", "heldout", "teacher", version=2) == (
        "portia/arm-gen-v0-heldout/teacher-v2"
    )


def test_minari_root_sets_the_variable_only_while_it_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("MINARI_DATASETS_PATH", "/somewhere")
    with minari_root(tmp_path):
        assert os.environ["MINARI_DATASETS_PATH"] == str(tmp_path.resolve())
    assert os.environ["MINARI_DATASETS_PATH"] == "/somewhere"
    monkeypatch.delenv("MINARI_DATASETS_PATH")
    with pytest.raises(RuntimeError), minari_root(tmp_path):
        raise RuntimeError
    assert "MINARI_DATASETS_PATH" not in os.environ


def test_a_dataset_opens_from_its_root_its_directory_or_its_data(scripted_dir):
    (data,) = find_datasets(scripted_dir)
    for path in (scripted_dir, data.parent, data):
        assert load_dataset(path).total_episodes == 3
    assert load_dataset(scripted_dir, "portia/smoke-v0-train/scripted-v0").total_episodes == 3


def test_minari_opens_it_by_id_with_the_datasets_path(scripted_dir, monkeypatch):
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(scripted_dir))
    assert "portia/smoke-v0-train/scripted-v0" in minari.list_local_datasets()
    dataset = minari.load_dataset("portia/smoke-v0-train/scripted-v0")
    assert dataset.total_episodes == 3


def test_opening_refuses_what_is_not_one_portia_dataset(tmp_path, scripted_dir):
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(tmp_path / "missing")
    with pytest.raises(DatasetError, match="no Portia dataset at .*portia collect"):
        load_dataset(tmp_path)
    with pytest.raises(DatasetError, match="no Portia dataset with id 'portia/x/y-v0'"):
        load_dataset(scripted_dir, "portia/x/y-v0")

    root = tmp_path / "two"
    shutil.copytree(scripted_dir, root)
    (data,) = find_datasets(root)
    twin = data.parents[1] / "twin-v0"
    shutil.copytree(data.parent, twin)
    metadata = json.loads((twin / "data" / "metadata.json").read_text())
    metadata["dataset_id"] = "portia/smoke-v0-train/twin-v0"
    (twin / "data" / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(DatasetError, match="several Portia datasets .*scripted-v0.*twin-v0"):
        load_dataset(root)
    assert load_dataset(root, "portia/smoke-v0-train/twin-v0").total_episodes == 3

    metadata["portia"]["format_version"] = 99
    (twin / "data" / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(DatasetError, match="format version 99; this Portia reads version 1"):
        load_dataset(twin)
    del metadata["portia"]
    (twin / "data" / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(DatasetError, match="no Portia dataset"):
        load_dataset(twin)
