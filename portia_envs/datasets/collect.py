"""``collect``: an agent's episodes on a suite split, written as a local Minari dataset.

Episode ``i`` of ``N`` runs on the split's task ``i mod n_tasks`` (round robin, in suite
order) as that task's episode ``i // n_tasks`` under the run seed, so its reset seed is the
one ``portia bench`` gives the same task, seed and episode (``EpisodeJob.reset_seed``).
Envs and agents are built by the harness (``harness.episode.build_env_and_agent``, the
paused track): a ``TimePause`` around each task's env, so a planner may imagine, and in a
suite of several bodies ``MultiEmbodiment`` around that. Each step's thinking is counted in
its infos. Episodes are played by ``harness.parallel.ordered_map``: in this process, in
local worker processes or as Ray tasks, and stored in plan order, so the dataset is the same
whichever plays them.

The dataset is written into a temporary directory beside ``out_dir`` and moved there when
every episode is in, so an interrupted or failed collection leaves ``out_dir`` as it was.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.metadata
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np

from portia_envs.datasets.store import (
    FORMAT_VERSION,
    INFO_KEYS,
    TEXT_INFO_KEYS,
    DatasetError,
    DatasetWriter,
    Episode,
    copy_observation,
    dataset_id,
    find_datasets,
    stack_observations,
)
from portia_envs.errors import InvalidParameterError, PortiaError
from portia_envs.harness.agents import (
    DEFAULT_FILE_ATTRIBUTE,
    builtin_agents,
    describe_agent,
    load_factory,
    resolve_spec,
)
from portia_envs.harness.episode import EpisodeJob, RunConfig, build_env_and_agent
from portia_envs.harness.parallel import check_map_options, ordered_map
from portia_envs.results import versions
from portia_envs.suites import AnySuite, get_suite
from wrappers.adapters import Agent, reset_agent

# Collection runs on the paused track: the world waits for every decision.
TRACK = "paused"
# The Python packages whose exact versions reproduce a dataset, as Minari requirements.
REQUIREMENTS = ("portia-envs", "mujoco", "gymnasium", "numpy")


class EpisodeFailedError(PortiaError, RuntimeError):
    """An episode that failed while collecting (the agent or the env raised); nothing is written."""


# What one job gives: the episode and the (observation, action) spaces of its env.
PlayedRecord = tuple[Episode, tuple[gymnasium.Space, gymnasium.Space]]


@dataclass(frozen=True)
class EpisodeSummary:
    """What one collected episode was, for progress reports.

    Attributes:
        index: The episode's index in the dataset, from 0.
        task_id: Its suite task.
        seed: Its reset seed.
        length: Steps (decisions) taken.
        success: ``info["is_success"]`` at its last step.
        think_steps: Control periods imagined, summed over the episode.
        think_s: Wall seconds spent imagining, summed over the episode.
    """

    index: int
    task_id: str
    seed: int
    length: int
    success: bool
    think_steps: int
    think_s: float

    @classmethod
    def of(cls, index: int, episode: Episode) -> EpisodeSummary:
        """Return the summary of ``episode``, stored at ``index``."""
        return cls(
            index=index,
            task_id=episode.task_id,
            seed=episode.seed,
            length=episode.length,
            success=bool(episode.metadata["success"]),
            think_steps=int(episode.metadata["think_steps"]),
            think_s=float(episode.metadata["think_s"]),
        )


@dataclass(frozen=True)
class CollectionSummary:
    """What a collection wrote.

    Attributes:
        path: The datasets root written (``out_dir``).
        dataset_id: The dataset's Minari id.
        episodes: Episodes collected.
        steps: Steps over all episodes.
        successes: Episodes that ended in success.
        think_steps: Control periods imagined over all episodes.
        think_s: Wall seconds spent imagining over all episodes.
        size_bytes: The dataset's size on disk.
    """

    path: Path
    dataset_id: str
    episodes: int
    steps: int
    successes: int
    think_steps: int
    think_s: float
    size_bytes: int

    @property
    def success_rate(self) -> float:
        """The share of episodes that ended in success, 0 to 1."""
        return self.successes / self.episodes

    @property
    def think_s_per_decision(self) -> float:
        """Wall seconds spent imagining per step."""
        return self.think_s / self.steps


def plan_episodes(suite: AnySuite, split: str, episodes: int, seed: int) -> list[EpisodeJob]:
    """Return the jobs of a collection: episode ``i`` on task ``i mod n_tasks``.

    Args:
        suite: The suite.
        split: ``"train"`` or ``"heldout"``.
        episodes: How many episodes (>= 1).
        seed: The run seed.

    Raises:
        UnknownSuiteError: On an unknown split.
        ValueError: If ``episodes < 1``.
    """
    if episodes < 1:
        raise InvalidParameterError(f"episodes must be >= 1, got {episodes}")
    tasks = suite.tasks(split)
    return [
        EpisodeJob(task.task_id, split, task.family, seed, index // len(tasks))
        for index in range(episodes)
        for task in (tasks[index % len(tasks)],)
    ]


def recording_config(suite: AnySuite, agent: str) -> RunConfig:
    """Return the run an agent's episodes are recorded in: time paused, no timeout.

    Args:
        suite: The suite.
        agent: The agent spec as workers load it (``agents.resolve_spec``).
    """
    return RunConfig(
        suite=suite.name,
        suite_hash=suite.hash,
        track=TRACK,
        agent=agent,
        budget_ms=None,
        clock=None,
        timeout_s=math.inf,
    )


def agent_name(spec: str) -> str:
    """Return the name an agent's dataset is called by: a built-in's, else its factory's.

    A factory named ``make_agent`` (a file spec's default) is called by its file or module.
    """
    if spec in builtin_agents():
        return spec
    name = describe_agent(spec)["name"] or "agent"
    if name == DEFAULT_FILE_ATTRIBUTE:
        location = spec.rpartition(":")[0] if ":" in spec else spec
        name = Path(location).stem if location.endswith(".py") else location.rpartition(".")[2]
    return name


def collect(
    agent: str,
    suite: str,
    split: str,
    episodes: int,
    out_dir: Path | str,
    *,
    seed: int = 0,
    overwrite: bool = False,
    workers: int = 1,
    backend: str = "local",
    address: str | None = None,
    on_episode: Callable[[EpisodeSummary], None] | None = None,
) -> CollectionSummary:
    """Collect an agent's episodes on a suite split and write them as a Minari dataset.

    Args:
        agent: The agent spec (``random``, ``scripted``, ``teacher``, ``module:attribute``
            or ``path/to/file.py[:attribute]``).
        suite: The suite's name.
        split: ``"train"`` or ``"heldout"``.
        episodes: How many episodes, spread round robin over the split's tasks (>= 1).
        out_dir: The directory to write (a Minari datasets root holding one dataset).
        seed: The run seed the reset seeds derive from.
        overwrite: Replace a dataset that ``out_dir`` already holds.
        workers: Episodes played at once (>= 1): processes of the local backend (1 plays
            them in this process), or Ray tasks in flight. The dataset is the same for any
            number and either backend: episodes are stored in plan order.
        backend: ``"local"`` (worker processes on this machine) or ``"ray"`` (Ray tasks;
            ``pip install "portia-envs[scale]"``), as ``harness.parallel.ordered_map`` runs them.
        address: The Ray cluster to join (``ray`` backend); None starts a local Ray, on
            127.0.0.1, for the collection.
        on_episode: Called with each episode's summary once it is stored, in plan order.

    Returns:
        What was written.

    Raises:
        UnknownSuiteError: On an unknown suite or split.
        ValueError: If ``episodes < 1``, ``workers < 1``, the backend is unknown, or an
            address is given to the local backend.
        ImportError: If the backend is ray and Ray is not installed.
        AgentSpecError: If the agent cannot be loaded.
        DatasetError: If ``out_dir`` is not empty and ``overwrite`` is False, or holds
            something other than a Portia dataset.
        EpisodeFailedError: If an episode raises (the message says which and why);
            ``out_dir`` is left as it was.
    """
    check_map_options(workers, backend, address)
    chosen = get_suite(suite)
    jobs = plan_episodes(chosen, split, episodes, seed)
    resolved = resolve_spec(agent)
    load_factory(resolved)  # fail before any env is built
    out_dir = Path(out_dir)
    _check_out_dir(out_dir, overwrite)
    config = recording_config(chosen, resolved)
    name = agent_name(agent)
    identifier = dataset_id(chosen.name, split, name)
    played: list[EpisodeSummary] = []

    def summarize(episode: Episode) -> None:
        played.append(EpisodeSummary.of(len(played), episode))
        if on_episode is not None:
            on_episode(played[-1])

    player = functools.partial(_EpisodePlayer, config, split)
    size = write_episodes(
        out_dir,
        play_jobs(player, jobs, out_dir, workers=workers, backend=backend, address=address),
        dataset_id=identifier,
        env_spec=split_env_spec(chosen, split),
        metadata=dataset_metadata(config, chosen, split, agent, episodes, seed),
        algorithm_name=name,
        description=(
            f"{name} on the {split} tasks of Portia suite {chosen.name} "
            f"({chosen.hash}), {episodes} episodes, run seed {seed}"
        ),
        on_written=summarize,
    )
    return CollectionSummary(
        path=out_dir,
        dataset_id=identifier,
        episodes=len(played),
        steps=sum(episode.length for episode in played),
        successes=sum(episode.success for episode in played),
        think_steps=sum(episode.think_steps for episode in played),
        think_s=math.fsum(episode.think_s for episode in played),
        size_bytes=size,
    )


def write_episodes(
    out_dir: Path,
    played: Iterable[PlayedRecord],
    *,
    dataset_id: str,
    env_spec: gymnasium.envs.registration.EnvSpec | None,
    metadata: Mapping[str, Any],
    algorithm_name: str,
    description: str,
    on_written: Callable[[Episode], None] | None = None,
) -> int:
    """Write played episodes as one Minari dataset at ``out_dir``, whole or not at all.

    The dataset is written in a staging directory beside ``out_dir`` and moved into place
    once the last episode is stored (replacing what ``out_dir`` held); if anything fails,
    the staging directory is removed and ``out_dir`` is left as it was.

    Args:
        out_dir: The datasets root to write.
        played: Each episode with its env's ``(observation_space, action_space)``, in the
            order to store them; at least one.
        dataset_id: The dataset's Minari id.
        env_spec: The env that reproduces the episodes, or None.
        metadata: Portia's dataset metadata.
        algorithm_name: Minari's name of the agent.
        description: Minari's description.
        on_written: Called with each episode once it is stored.

    Returns:
        The dataset's size on disk, bytes.
    """
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.staging-", dir=out_dir.parent))
    try:
        writer: DatasetWriter | None = None
        for episode, (observation_space, action_space) in played:
            if writer is None:
                writer = DatasetWriter(
                    staging,
                    dataset_id,
                    observation_space=observation_space,
                    action_space=action_space,
                    env_spec=env_spec,
                    metadata=metadata,
                    algorithm_name=algorithm_name,
                    description=description,
                    requirements=pinned_requirements(),
                )
            writer.add(episode)
            if on_written is not None:
                on_written(episode)
        if writer is None:
            raise InvalidParameterError("a dataset needs at least one episode, none was played")
        size = sum(file.stat().st_size for file in writer.data_path.rglob("*") if file.is_file())
        _move_into_place(staging, out_dir)
        return size
    finally:
        if isinstance(played, Generator):
            played.close()
        shutil.rmtree(staging, ignore_errors=True)


def play_episode(
    job: EpisodeJob, env: gymnasium.Env, agent: Agent, options: dict[str, Any]
) -> Episode:
    """Play one episode from the job's reset seed and return it as arrays.

    Each action is cast to the action space's dtype before it acts, so the stored action
    is exactly the one that acted.

    Args:
        job: The episode: its task and reset seed.
        env: The task's env (a ``TimePause`` inside it, so infos count thinking).
        agent: The agent, reset with the reset seed before the episode.
        options: The reset options stored with the episode (``suite.reset_options``).
    """
    dtype = env.action_space.dtype
    reset_agent(agent, job.reset_seed)
    observation, info = env.reset(seed=job.reset_seed)
    parameters = dict(info.get("task_parameters", {}))
    observations, infos = [copy_observation(observation)], [info]
    actions, rewards, terminations, truncations = [], [], [], []
    total = 0.0  # summed in step order, as the harness sums an episode's return
    while True:
        action = np.array(agent.act(observation), dtype=dtype)
        observation, reward, terminated, truncated, info = env.step(action)
        actions.append(action)
        observations.append(copy_observation(observation))
        infos.append(info)
        rewards.append(float(reward))
        terminations.append(bool(terminated))
        truncations.append(bool(truncated))
        total += float(reward)
        if terminated or truncated:
            break
    if not math.isfinite(total):
        raise InvalidParameterError(f"the episode's return is not finite ({total})")
    return Episode(
        seed=job.reset_seed,
        task_id=job.task_id,
        options=options,
        observations=stack_observations(observations),
        actions=np.stack(actions),
        rewards=np.array(rewards, dtype=np.float64),
        terminations=np.array(terminations, dtype=bool),
        truncations=np.array(truncations, dtype=bool),
        infos={key: info_column(key, [step[key] for step in infos]) for key in INFO_KEYS},
        metadata={
            "task_id": job.task_id,
            "family": job.family,
            "run_seed": job.seed,
            "episode": job.episode,
            "return": total,
            "success": bool(info["is_success"]),
            "length": len(rewards),
            "think_steps": int(info["episode_think_steps"]),
            "think_s": float(info["episode_think_s"]),
            "task_parameters": {key: float(value) for key, value in parameters.items()},
        },
    )


def play_jobs(
    make_worker: Callable[[], Callable[[EpisodeJob], PlayedRecord]],
    jobs: Sequence[EpisodeJob],
    out_dir: Path,
    *,
    workers: int = 1,
    backend: str = "local",
    address: str | None = None,
    noun: str = "episode",
) -> Iterator[PlayedRecord]:
    """Play ``jobs`` with ``ordered_map`` on the backend and yield them in plan order.

    Args:
        make_worker: The workers' factory (``ordered_map``): a worker plays a job and
            returns its episode and env spaces.
        jobs: The episodes to play.
        out_dir: Where the episodes will be written, for the error message.
        workers: Processes that play them.
        backend: ``"local"`` or ``"ray"``.
        address: The Ray cluster to join; None starts a local one.
        noun: What the error message calls an episode (``"rollout"``, say).

    Raises:
        EpisodeFailedError: On the first job that raises, naming it.
    """
    played = ordered_map(make_worker, jobs, workers=workers, backend=backend, address=address)
    try:
        for index, job in enumerate(jobs):
            try:
                yield next(played)
            except Exception as error:  # the agent is the user's code: anything may fail
                raise EpisodeFailedError(
                    f"{noun} {index} (task {job.task_id}, reset seed {job.reset_seed}) "
                    f"failed: {type(error).__name__}: {error}; nothing was written to {out_dir}"
                ) from error
    finally:
        played.close()  # the workers stop, whether or not every episode was taken


class _EpisodePlayer:
    """Plays jobs, building each task's env and agent once and keeping them."""

    def __init__(self, config: RunConfig, split: str) -> None:
        self.config = config
        self.split = split
        self.built: dict[str, tuple[gymnasium.Env, Agent]] = {}

    def __call__(self, job: EpisodeJob) -> PlayedRecord:
        """Play one job; return its episode and its env's spaces."""
        if job.task_id not in self.built:
            self.built[job.task_id] = build_env_and_agent(self.config, job.task_id, self.split)
        env, agent = self.built[job.task_id]
        options = get_suite(self.config.suite).reset_options(job.task_id)
        return play_episode(job, env, agent, options), (env.observation_space, env.action_space)

    def close(self) -> None:
        """Close every env built."""
        for env, _ in self.built.values():
            env.close()


def split_env_spec(suite: AnySuite, split: str) -> gymnasium.envs.registration.EnvSpec | None:
    """Return the spec of the split's env, which ``recover_environment()`` makes.

    ``reset(seed=seed, options=options)`` in it, with an episode's stored reset options
    (``suite.reset_options``), starts the same episode as the task's own env (the
    harness's) does with ``reset(seed=seed)``. A suite of several bodies has none: its
    episodes ran behind ``MultiEmbodiment``, which a spec cannot hold.
    """
    if len(suite.bodies) > 1:
        return None
    registered = gymnasium.spec(suite.env_id)
    task_kwargs = suite.env_kwargs(suite.tasks(split)[0].task_id, split)
    task_kwargs.pop("task", None)  # the split's env draws each of the split's tasks
    return dataclasses.replace(registered, kwargs={**registered.kwargs, **task_kwargs})


def dataset_metadata(
    config: RunConfig, suite: AnySuite, split: str, agent: str, episodes: int, seed: int
) -> dict[str, Any]:
    """Return Portia's metadata of a dataset: what it is and what reproduces it."""
    return {
        "format_version": FORMAT_VERSION,
        "suite": {"name": suite.name, "hash": suite.hash},
        "split": split,
        "tasks": [task.task_id for task in suite.tasks(split)],
        "track": config.track,
        "agent": {**describe_agent(agent), "resolved": config.agent},
        "episodes": episodes,
        "seed": seed,
        "environment": {suite.env_id: suite.fingerprint()},
        "info_keys": list(INFO_KEYS),
        "versions": versions(),
    }


def pinned_requirements() -> list[str]:
    """Return ``REQUIREMENTS`` pinned to the installed versions."""
    pinned = []
    for name in REQUIREMENTS:
        try:
            pinned.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            pinned.append(name)
    return pinned


def _check_out_dir(out_dir: Path, overwrite: bool) -> None:
    """Refuse an output path that is a file, or a non-empty directory unless overwriting.

    Overwriting replaces only a directory that holds a Portia dataset and nothing else, so
    a mistyped ``--out`` never deletes anything else.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise DatasetError(f"--out {out_dir} is a file; give a directory for the dataset")
    if not out_dir.is_dir() or not any(out_dir.iterdir()):
        return
    found = find_datasets(out_dir)
    if not overwrite:
        what = "a Portia dataset" if found else "other files"
        raise DatasetError(
            f"{out_dir} is not empty (it holds {what}); pass --overwrite to replace a dataset "
            f"written by portia collect, or choose another --out"
        )
    others = [entry.name for entry in out_dir.iterdir() if entry.name != "portia"]
    if not found or others:
        raise DatasetError(
            f"{out_dir} holds files that are not a Portia dataset "
            f"({', '.join(sorted(others)[:3]) or 'no dataset'}); --overwrite replaces only a "
            f"directory written by portia collect, so choose another --out"
        )


def _move_into_place(staging: Path, out_dir: Path) -> None:
    """Move the finished dataset root ``staging`` to ``out_dir``, replacing what was there."""
    if out_dir.is_dir() and any(out_dir.iterdir()):
        old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
        os.replace(out_dir, old / out_dir.name)
        os.replace(staging, out_dir)
        shutil.rmtree(old)
    else:
        os.replace(staging, out_dir)


def info_column(key: str, values: list[Any]) -> list[str] | np.ndarray:
    """Return one info key's values over an episode: text as ``str``, the rest as an array."""
    if key in TEXT_INFO_KEYS:
        return [str(value) for value in values]
    return np.asarray(values)
