"""Datasets collected once per session for the dataset tests."""

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
def thinker(tmp_path_factory):
    """The scripted expert imagining 4 random plans of 5 periods per decision, 1 episode:
    smoke-v0's first train task (reach-centre). Any planner's thinking is recorded alike;
    this one's costs a known number of periods, and far less time than the teacher's."""
    from tests.portia_envs.harness.harness_runs import fake

    out = tmp_path_factory.mktemp("thinker") / "data"
    collect(fake("ImaginingExpert"), "smoke-v0", "train", 1, out)
    return load_dataset(out)
