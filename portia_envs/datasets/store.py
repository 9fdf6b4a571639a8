"""Portia datasets in Minari's format, in a local directory: writing, finding and opening them.

A directory written by ``portia collect`` is a Minari datasets root holding one dataset::

    DIR/portia/<suite>-<split>/<agent>-v0/data/metadata.json   spaces, env spec, "portia"
    DIR/portia/<suite>-<split>/<agent>-v0/data/main_data.hdf5  one group per episode

Each episode's group carries a SHA-256 of its arrays and attributes (``episode_checksum``),
which ``load_dataset`` and the replay functions check before they use an episode, so that a
damaged or truncated file is refused rather than trained on. So
``MINARI_DATASETS_PATH=DIR`` makes it ``minari.load_dataset("portia/smoke-v0-train/
scripted-v0")``, and ``load_dataset(DIR)`` opens it without the variable. Minari's own
functions write it (``minari.create_dataset_from_buffers``, then the storage's
``update_episodes``), with the variable pointed at DIR for the duration of the call only;
nothing is read from or sent to a remote hub.

Minari (``pip install "portia-envs[baselines]"``) is imported inside the functions, so
importing this module costs nothing until a dataset is written or opened.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gymnasium
import numpy as np
from numpy.typing import NDArray

from portia_envs.errors import DatasetIntegrityError, PortiaError

if TYPE_CHECKING:
    import h5py
    from gymnasium.envs.registration import EnvSpec
    from minari import MinariDataset

logger = logging.getLogger(__name__)

# The environment variable by which Minari finds its datasets root.
MINARI_PATH_VARIABLE = "MINARI_DATASETS_PATH"
# Every Portia dataset id starts with this namespace.
NAMESPACE = "portia"
# Minari's storage format: HDF5 keeps every array's dtype and bits exactly.
DATA_FORMAT = "hdf5"
# The version of what Portia adds to Minari's format (the "portia" metadata, the infos).
FORMAT_VERSION = 1
# The dataset metadata key under which Portia's own metadata is stored.
METADATA_KEY = "portia"
# The per-step infos a Portia dataset stores, the reset's first (T + 1 entries an episode).
INFO_KEYS = ("task_id", "instruction", "is_success", "think_steps", "think_s")
# Info keys whose values are text (read back as bytes by h5py; see ``text_info``).
TEXT_INFO_KEYS = ("task_id", "instruction")
# Minari's HDF5 file in a dataset's data directory: one group per episode.
DATA_FILE = "main_data.hdf5"
# The episode attribute that holds the episode's SHA-256 (hex), and the Portia metadata key
# that says every episode of the dataset carries one (absent in datasets written before).
CHECKSUM_KEY = "sha256"
CHECKSUM_METADATA_KEY = "checksum"
# What an episode's checksum covers, in this order (each group's members sorted by name);
# then the episode's attributes (seed, options, total_steps, Portia's episode metadata).
CHECKSUMMED = ("observations", "actions", "rewards", "terminations", "truncations", "infos")
# Errors h5py raises on a damaged file: an unreadable header, a missing object, bad data.
_READ_ERRORS = (OSError, KeyError, ValueError, RuntimeError, TypeError)
# Minari's advice to fill in authorship and links, which a local dataset may leave out.
_ADVICE = r"`?(code_permalink|author|author_email|eval_env)`? is set to None|env_spec is None"


class DatasetError(PortiaError, ValueError):
    """A dataset directory that is missing, ambiguous, not Portia's, or not where it may go."""


@dataclass
class Episode:
    """One collected episode as arrays: what a dataset stores of it.

    ``T`` is the number of steps; observations and infos have ``T + 1`` entries (the
    reset's first), actions, rewards, terminations and truncations ``T``.

    Attributes:
        seed: The env's reset seed.
        task_id: The suite task.
        options: The reset options that, with ``seed``, start the episode in the split's
            env (``{"task": task_id}`` for an arm suite's; ``suite.reset_options``).
        observations: The observations, stacked: a dict of arrays ``(T + 1, ...)`` for a
            ``Dict`` space, else one array.
        actions: The actions that acted, ``(T, *action_shape)`` in the action space's dtype.
        rewards: ``(T,)`` float64.
        terminations: ``(T,)`` bool.
        truncations: ``(T,)`` bool.
        infos: ``INFO_KEYS`` each ``T + 1`` long: text as lists of ``str``, numbers as arrays.
        metadata: The episode's own metadata (task, return, success, thinking totals, the
            task's parameters); values are numbers, strings or dicts of them.
    """

    seed: int
    task_id: str
    options: dict[str, Any]
    observations: dict[str, NDArray] | NDArray
    actions: NDArray
    rewards: NDArray
    terminations: NDArray
    truncations: NDArray
    infos: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def length(self) -> int:
        """The number of steps, ``T``."""
        return len(self.rewards)


def dataset_id(suite: str, split: str, agent_name: str, version: int = 0) -> str:
    """Return the Minari id of an agent's dataset on a suite split.

    Args:
        suite: The suite's name, such as ``"smoke-v0"``.
        split: ``"train"`` or ``"heldout"``.
        agent_name: The agent's name; anything but letters, digits and ``_`` becomes ``_``.
        version: The dataset's version.

    Returns:
        ``portia/<suite>-<split>/<agent>-v<version>``, such as
        ``portia/smoke-v0-train/teacher-v0``.
    """
    name = re.sub(r"\W+", "_", agent_name.strip()).strip("_").lower() or "agent"
    return f"{NAMESPACE}/{suite}-{split}/{name}-v{version}"


@contextlib.contextmanager
def minari_root(path: Path) -> Iterator[None]:
    """Point Minari at the datasets root ``path`` for the duration, then restore the variable.

    Args:
        path: The directory Minari reads and writes datasets in.
    """
    previous = os.environ.get(MINARI_PATH_VARIABLE)
    os.environ[MINARI_PATH_VARIABLE] = str(Path(path).resolve())
    try:
        yield
    finally:
        if previous is None:
            del os.environ[MINARI_PATH_VARIABLE]
        else:
            os.environ[MINARI_PATH_VARIABLE] = previous


class DatasetWriter:
    """Writes one dataset into a datasets root, an episode at a time.

    The dataset (with no episodes yet) is created on construction; ``add`` appends an
    episode and its metadata. Each call points Minari at ``root`` only while it runs.

    Args:
        root: The datasets root (created if missing).
        dataset_id: The dataset's Minari id (``dataset_id``).
        observation_space: The space of the stored observations.
        action_space: The space of the stored actions.
        env_spec: The env ``MinariDataset.recover_environment()`` makes, or None if there
            is none that reproduces the episodes by their seed and reset options.
        metadata: Portia's dataset metadata, stored under ``"portia"`` (JSON-ready).
        algorithm_name: Minari's ``algorithm_name``: the agent's name.
        description: Minari's ``description``.
        requirements: Minari's ``requirements``, pip style.
    """

    def __init__(
        self,
        root: Path,
        dataset_id: str,
        *,
        observation_space: gymnasium.Space,
        action_space: gymnasium.Space,
        env_spec: EnvSpec | None,
        metadata: Mapping[str, Any],
        algorithm_name: str,
        description: str,
        requirements: list[str],
    ) -> None:
        import minari

        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.dataset_id = dataset_id
        with minari_root(self.root), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_ADVICE, category=UserWarning)
            dataset = minari.create_dataset_from_buffers(
                dataset_id,
                buffer=[],
                env=env_spec,
                observation_space=observation_space,
                action_space=action_space,
                algorithm_name=algorithm_name,
                description=description,
                data_format=DATA_FORMAT,
                requirements=requirements,
                jpeg_encoding=False,  # lossless: a dataset replays bit for bit
            )
        self._storage = dataset.storage
        portia = {**metadata, CHECKSUM_METADATA_KEY: CHECKSUM_KEY}
        self._storage.update_metadata({METADATA_KEY: portia})
        self.episodes = 0

    @property
    def data_path(self) -> Path:
        """The dataset's data directory (``.../<agent>-v0/data``)."""
        return Path(self._storage.data_path)

    def add(self, episode: Episode) -> None:
        """Append ``episode`` with its reset seed, reset options, metadata and checksum.

        The checksum is of the episode as read back from the file, so it covers exactly
        the bytes that later reads check.
        """
        from minari.data_collector import EpisodeBuffer

        buffer = EpisodeBuffer(
            id=self.episodes,
            seed=episode.seed,
            options=episode.options,
            observations=episode.observations,
            actions=episode.actions,
            rewards=episode.rewards,
            terminations=episode.terminations,
            truncations=episode.truncations,
            infos=episode.infos,
        )
        with minari_root(self.root):
            self._storage.update_episodes([buffer])
            self._storage.update_episode_metadata(
                [_flatten(episode.metadata)], episode_indices=[self.episodes]
            )
            digest = _read_checksums(self.data_path / DATA_FILE, [self.episodes])
            self._storage.update_episode_metadata(
                [{CHECKSUM_KEY: digest[self.episodes][1]}], episode_indices=[self.episodes]
            )
        self.episodes += 1


def find_datasets(path: Path | str) -> list[Path]:
    """Return the data directories of the Portia datasets at or under ``path``.

    Args:
        path: A datasets root (``--out`` of ``portia collect``), a dataset's directory, or
            its ``data`` directory.
    """
    path = Path(path)
    if (path / "metadata.json").is_file():
        candidates = [path]
    else:
        candidates = sorted(found.parent for found in path.rglob("data/metadata.json"))
    return [candidate for candidate in candidates if _portia_metadata(candidate) is not None]


def load_dataset(path: Path | str, dataset_id: str | None = None) -> MinariDataset:
    """Open a Portia dataset written to a local directory, without Minari's remote hub.

    Every episode is checked against its checksum before the dataset is returned, all of
    them at once: a dataset that opens is the one ``portia collect`` wrote. It costs about
    as much as reading the episodes once (50 episodes of 150 steps: 0.34 s, where Minari
    reads them all in 0.21 s), small beside training on them, and a damaged file fails
    here rather than midway through a run. The checks cover the file as it is now: the
    replay functions check an episode again before they replay it. A dataset written
    before Portia stored checksums opens with a logged warning that its episodes cannot
    be verified.

    Args:
        path: A datasets root (``--out`` of ``portia collect``), a dataset's directory or
            its ``data`` directory.
        dataset_id: Which dataset, when the root holds several.

    Returns:
        The ``minari.MinariDataset``; Portia's metadata is ``dataset.storage.metadata
        ["portia"]``, each episode's (task, seed, return, thinking totals, checksum) is
        ``dataset.storage.get_episode_metadata([i])``.

    Raises:
        DatasetError: If ``path`` holds no Portia dataset, several and ``dataset_id`` names
            none of them, or one of another format version.
        DatasetIntegrityError: If the data file is truncated or unreadable, or an episode
            does not match its checksum (the message names the file and the episode).
    """
    import minari

    path = Path(path)
    if not path.exists():
        raise DatasetError(f"no dataset at {path}: the path does not exist")
    found = find_datasets(path)
    if dataset_id is not None:
        found = [data for data in found if _read_metadata(data).get("dataset_id") == dataset_id]
    if not found:
        which = f" with id {dataset_id!r}" if dataset_id is not None else ""
        raise DatasetError(
            f"no Portia dataset{which} at {path}; `portia collect ... --out {path}` writes one"
        )
    if len(found) > 1:
        ids = ", ".join(sorted(str(_read_metadata(data).get("dataset_id")) for data in found))
        raise DatasetError(f"{path} holds several Portia datasets ({ids}); pass dataset_id=")
    metadata = _read_metadata(found[0])
    portia = metadata[METADATA_KEY]
    if portia.get("format_version") != FORMAT_VERSION:
        raise DatasetError(
            f"{found[0]} is a Portia dataset of format version {portia.get('format_version')}; "
            f"this Portia reads version {FORMAT_VERSION}"
        )
    name = str(metadata.get("dataset_id"))
    if CHECKSUM_METADATA_KEY not in portia:
        logger.warning(
            "dataset %s (%s) was written before Portia stored checksums: its episodes load "
            "unverified; collect it again (portia collect ... --overwrite) to have them checked",
            name,
            found[0],
        )
    else:
        _verify(found[0], name, range(int(metadata.get("total_episodes", 0))))
    return minari.MinariDataset(found[0])


def verify_episodes(dataset: MinariDataset, episode_indices: Iterable[int]) -> None:
    """Check episodes of a Portia dataset against their checksums, as they are on disk now.

    A dataset written before Portia stored checksums is not checked (``load_dataset``
    warned about it when it opened it).

    Args:
        dataset: A Portia dataset (``load_dataset``, or Minari's own ``load_dataset``).
        episode_indices: Which episodes, from 0.

    Raises:
        DatasetIntegrityError: If the data file is truncated or unreadable, or an episode
            is missing or does not match its checksum.
    """
    data_path = Path(dataset.storage.data_path)
    metadata = _read_metadata(data_path)
    if CHECKSUM_METADATA_KEY in metadata.get(METADATA_KEY, {}):
        _verify(data_path, str(metadata.get("dataset_id")), episode_indices)


def episode_checksum(group: h5py.Group) -> str:
    """Return the SHA-256 (hex) of an episode's group as stored.

    It covers ``CHECKSUMMED`` in order, each group's members sorted by name, every array
    by its path, dtype, shape and bytes (text element by element), then the group's
    attributes but the checksum itself, sorted by name.

    Args:
        group: The episode's group in the HDF5 file (``episode_<i>``).
    """
    digest = hashlib.sha256()
    for name in CHECKSUMMED:
        digest.update(f"{name}\0".encode())
        if name in group:
            _hash_node(digest, group[name], name)
    attributes = {key: _plain(value) for key, value in group.attrs.items() if key != CHECKSUM_KEY}
    digest.update(json.dumps(attributes, sort_keys=True).encode())
    return digest.hexdigest()


def _verify(data_path: Path, dataset_id: str, episode_indices: Iterable[int]) -> None:
    """Check the episodes ``episode_indices`` of the dataset at ``data_path``.

    Raises:
        DatasetIntegrityError: As ``verify_episodes``.
    """
    file = data_path / DATA_FILE
    indices = list(episode_indices)
    checksums = _read_checksums(file, indices, dataset_id)
    again = f"collect dataset {dataset_id} again (portia collect ... --overwrite)"
    for index in indices:
        if index not in checksums:
            raise DatasetIntegrityError(
                f"episode {index} of dataset {dataset_id} is missing from {file}: the file is "
                f"truncated or was changed; {again}"
            )
        stored, computed = checksums[index]
        if stored is None:
            raise DatasetIntegrityError(
                f"episode {index} of dataset {dataset_id} ({file}) has no checksum, though the "
                f"dataset was written with one for every episode: the file was changed; {again}"
            )
        if stored != computed:
            raise DatasetIntegrityError(
                f"episode {index} of dataset {dataset_id} ({file}) does not match its checksum: "
                f"its data changed after portia collect wrote it (damaged on disk or in a "
                f"copy); {again}, or restore the file from a good copy"
            )


def _read_checksums(
    file: Path, episode_indices: Iterable[int], dataset_id: str | None = None
) -> dict[int, tuple[str | None, str]]:
    """Return each present episode's ``(stored checksum or None, checksum of its data)``.

    Raises:
        DatasetIntegrityError: If h5py cannot read the file: truncated, or not HDF5.
    """
    import h5py

    checksums = {}
    try:
        with h5py.File(file, "r") as h5:
            for index in episode_indices:
                group = h5.get(f"episode_{index}")
                if isinstance(group, h5py.Group):
                    stored = group.attrs.get(CHECKSUM_KEY)
                    checksums[index] = (_plain(stored), episode_checksum(group))
    except _READ_ERRORS as error:
        which = f" of dataset {dataset_id}" if dataset_id is not None else ""
        raise DatasetIntegrityError(
            f"{file}{which} is truncated or unreadable ({type(error).__name__}: {error}); "
            f"collect the dataset again (portia collect ... --overwrite)"
        ) from None
    return checksums


def _hash_node(digest: Any, node: h5py.Group | h5py.Dataset, path: str) -> None:
    """Add a group (its members sorted by name) or a dataset to ``digest``."""
    import h5py

    if isinstance(node, h5py.Group):
        for key in sorted(node):
            _hash_node(digest, node[key], f"{path}/{key}")
        return
    data = np.asarray(node[()])
    digest.update(f"{path}|{data.dtype.str}|{data.shape}\0".encode())
    if data.dtype.kind == "O":  # text: each element's bytes, after its length
        for item in data.ravel():
            raw = item if isinstance(item, bytes) else str(item).encode()
            digest.update(len(raw).to_bytes(8, "little") + raw)
    else:
        digest.update(np.ascontiguousarray(data).tobytes())


def _plain(value: Any) -> Any:
    """Return an HDF5 attribute value as plain Python (numbers, text, lists), for JSON."""
    if isinstance(value, np.ndarray):
        return [_plain(item) for item in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bytes):
        return value.decode()
    return value


def copy_observation(observation: Any) -> Any:
    """Return a copy of an observation (a dict of arrays, or an array) that shares no memory."""
    if isinstance(observation, Mapping):
        return {key: np.array(value, copy=True) for key, value in observation.items()}
    return np.array(observation, copy=True)


def stack_observations(observations: list[Any]) -> dict[str, NDArray] | NDArray:
    """Stack per-step observations along a new first axis, key by key for dicts."""
    if isinstance(observations[0], Mapping):
        return {key: np.stack([step[key] for step in observations]) for key in observations[0]}
    return np.stack(observations)


def text_info(values: Any) -> list[str]:
    """Return a stored text info (``task_id``, ``instruction``) as ``str``, decoded from bytes."""
    return [value.decode() if isinstance(value, bytes) else str(value) for value in values]


def _read_metadata(data_path: Path) -> dict[str, Any]:
    """Return the ``metadata.json`` of a data directory, or an empty dict if unreadable."""
    try:
        metadata = json.loads((data_path / "metadata.json").read_text())
    except (OSError, ValueError):
        return {}
    return metadata if isinstance(metadata, dict) else {}


def _portia_metadata(data_path: Path) -> dict[str, Any] | None:
    """Return a data directory's Portia metadata, or None if it is not a Portia dataset."""
    portia = _read_metadata(data_path).get(METADATA_KEY)
    return portia if isinstance(portia, dict) else None


def _flatten(metadata: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested dicts to ``"outer/inner"`` keys, as Minari stores episode metadata."""
    flat: dict[str, Any] = {}
    for key, value in metadata.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}/"))
        else:
            flat[name] = value
    return flat
