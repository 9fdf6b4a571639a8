"""Datasets collected once per session for the dataset tests (the teacher's takes ~15 s)."""

import pytest

from portia_envs.datasets import collect, load_dataset

SCRIPTED_EPISODES = 3


@pytest.fixture(scope="session")
def scripted_dir(tmp_path_factory):
    """A datasets root: the scripted agent, 3 episodes of smoke-v0's train split, seed 0."""
    out = tmp_path_factory.mktemp("scripted") / "data"
    collect("scripted", "smoke-v0", "train", SCRIPTED_EPISODES, out)
    return out


@pytest.fixture(scope="session")
def scripted(scripted_dir):
    return load_dataset(scripted_dir)


@pytest.fixture(scope="session")
def teacher(tmp_path_factory):
    """The planning teacher, 1 episode: smoke-v0's first train task (reach-centre)."""
    out = tmp_path_factory.mktemp("teacher") / "data"
    collect("teacher", "smoke-v0", "train", 1, out)
    return load_dataset(out)
