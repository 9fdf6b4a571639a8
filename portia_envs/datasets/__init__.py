"""Demonstrations as local Minari datasets: collect an agent's episodes, open and replay them.

``collect(agent, suite, split, episodes, out_dir)`` plays an agent's episodes on a suite
split, built as the harness builds them, and writes them to ``out_dir`` as a Minari
dataset (``portia collect`` on the command line); ``load_dataset(out_dir)`` opens it and
``replay_episode(dataset, i)`` replays an episode's actions from its reset seed. Needs
Minari with HDF5 (``pip install "portia-envs[baselines]"``).
"""

from portia_envs.datasets.collect import (
    CollectionSummary,
    EpisodeFailedError,
    EpisodeSummary,
    collect,
)
from portia_envs.datasets.replay import Replay, episode_env, replay_episode
from portia_envs.datasets.store import (
    INFO_KEYS,
    DatasetError,
    dataset_id,
    find_datasets,
    load_dataset,
    text_info,
)

__all__ = [
    "INFO_KEYS",
    "CollectionSummary",
    "DatasetError",
    "EpisodeFailedError",
    "EpisodeSummary",
    "Replay",
    "collect",
    "dataset_id",
    "episode_env",
    "find_datasets",
    "load_dataset",
    "replay_episode",
    "text_info",
]
