"""Replaying a stored episode: its actions, from its reset seed, in a freshly built env.

A Portia env is exactly reproducible from a seed, so an episode replayed this way gives
back the stored observations and rewards bit for bit; ``replay_episode`` is how that is
checked. The env is built as the harness built it when the episode was collected
(``harness.episode.build_env``: the task's env, ``TimePause``, and ``MultiEmbodiment`` in a
suite of several bodies). Both functions check the episode against its checksum first
(``store.verify_episodes``), as the file is at the time of the call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import gymnasium
import numpy as np
from numpy.typing import NDArray

from portia_envs.datasets.store import (
    METADATA_KEY,
    DatasetError,
    copy_observation,
    stack_observations,
    verify_episodes,
)
from portia_envs.harness.episode import RunConfig, build_env
from portia_envs.suites import get_suite

if TYPE_CHECKING:
    from minari import MinariDataset


@dataclass(frozen=True)
class Replay:
    """What replaying an episode's actions gave.

    Attributes:
        observations: Shaped like the stored ones: a dict of arrays ``(T + 1, ...)`` for a
            ``Dict`` space, else one array.
        rewards: ``(T,)`` float64.
        terminations: ``(T,)`` bool.
        truncations: ``(T,)`` bool.
    """

    observations: dict[str, NDArray] | NDArray
    rewards: NDArray
    terminations: NDArray
    truncations: NDArray


def episode_env(dataset: MinariDataset, episode_index: int) -> gymnasium.Env:
    """Return a fresh env of the kind the dataset's episode ``episode_index`` was collected in.

    Raises:
        DatasetError: If the dataset is not Portia's, or was collected from another version
            of its suite (another hash: replaying it would not reproduce it).
        DatasetIntegrityError: If the data file is truncated or unreadable, or the episode
            does not match its checksum.
    """
    verify_episodes(dataset, [episode_index])
    return _episode_env(dataset, episode_index)


def _episode_env(dataset: MinariDataset, episode_index: int) -> gymnasium.Env:
    """Return ``episode_env``'s env without checking the episode (the caller has)."""
    portia = dataset.storage.metadata.get(METADATA_KEY)
    if not isinstance(portia, dict):
        raise DatasetError("the dataset has no Portia metadata; it was not written by collect")
    suite = get_suite(portia["suite"]["name"])
    if suite.hash != portia["suite"]["hash"]:
        raise DatasetError(
            f"the dataset was collected on {suite.name} with hash {portia['suite']['hash']}; "
            f"this Portia's {suite.name} has hash {suite.hash}, so its episodes would not replay"
        )
    (metadata,) = dataset.storage.get_episode_metadata([episode_index])
    config = RunConfig(
        suite=suite.name,
        suite_hash=suite.hash,
        track=portia["track"],
        agent=portia["agent"]["resolved"],
        budget_ms=None,
        clock=None,
        timeout_s=math.inf,
    )
    env, _ = build_env(config, str(metadata["task_id"]), portia["split"])
    return env


def replay_episode(dataset: MinariDataset, episode_index: int) -> Replay:
    """Replay a stored episode's actions from its reset seed in a fresh env (``episode_env``).

    Args:
        dataset: A Portia dataset (``store.load_dataset``).
        episode_index: Which episode, from 0.

    Returns:
        The observations, rewards, terminations and truncations the env gave.

    Raises:
        DatasetError: As ``episode_env``.
        DatasetIntegrityError: As ``episode_env``, before anything is replayed.
    """
    verify_episodes(dataset, [episode_index])
    (episode,) = dataset.iterate_episodes([episode_index])
    (metadata,) = dataset.storage.get_episode_metadata([episode_index])
    env = _episode_env(dataset, episode_index)
    try:
        observation, _ = env.reset(seed=int(metadata["seed"]))
        observations = [copy_observation(observation)]
        rewards, terminations, truncations = [], [], []
        for action in episode.actions:
            observation, reward, terminated, truncated, _ = env.step(action)
            observations.append(copy_observation(observation))
            rewards.append(float(reward))
            terminations.append(bool(terminated))
            truncations.append(bool(truncated))
    finally:
        env.close()
    return Replay(
        observations=stack_observations(observations),
        rewards=np.array(rewards, dtype=np.float64),
        terminations=np.array(terminations, dtype=bool),
        truncations=np.array(truncations, dtype=bool),
    )
