"""DAgger: a small student corrected by the planning teacher in the states it reaches itself.

Behaviour cloning learns only from the teacher's own states, so once the student drifts
it meets states it was never shown and its errors compound. DAgger (Ross, Gordon and
Bagnell, 2011, "A Reduction of Imitation Learning and Structured Prediction to No-Regret
Online Learning") asks the teacher what it would do in the states the *student* visits.
Portia makes that exact: every env restores its state, and the teacher plans through
``TimePause.imagine`` with the world paused, so a label is the teacher's decision from the
student's very state, however long it thinks.

One run, ``train(config)``:

1. **The first student.** With ``demonstrations`` (a ``portia collect`` dataset of the
   teacher; its first ``demonstration_episodes`` only, if set), behaviour cloning on it;
   without, none: iteration 0's rollouts are then the teacher's alone (beta 1), as in Ross
   et al.
2. **Iteration i** (``iterations`` of them):

   a. ``episodes`` rollouts on the suite's train tasks (round robin, reset seeds of run seed
      ``rollout_seed(seed, i)``, disjoint from the small run seeds scores use). At each
      step the teacher labels the state; the action played is the teacher's label with
      probability ``beta_i`` and the student's otherwise (a coin per step, seeded by the
      episode). The beta schedule (``mixing_beta``): ``beta_i = beta_start *
      beta_decay ** i``; from scratch iteration 0 has beta 1 and the schedule starts at
      iteration 1 (``beta_start * beta_decay ** (i - 1)``).
   b. Labels: every visited state is labelled (no subsample). With ``warm_start`` the
      teacher keeps its plan from one label to the next, shifted by a step, as it does when
      acting itself: consecutive states of a rollout are close, so one round of MPPI from
      the carried plan suffices where a plan from nothing takes ``first_iterations``
      rounds. Without, it forgets its plan before each label. The control periods it
      imagines are counted (``TimePause``) per episode and stored.
   c. The iteration's episodes are written as a Minari dataset
      (``WORK_DIR/iterations/NN``): observations, the actions that acted, and per step the
      teacher's label (info ``teacher_action``; the final observation has none, NaN) and
      whether the teacher's action was played (info ``teacher_acted``).
   d. **Aggregation and retraining.** A new student is fit by behaviour cloning
      (``bc.fit``) from initialization on every label so far: the demonstrations' actions
      and all iterations' teacher labels (``aggregate``).

The last student is returned; ``portia train dagger --out MODEL.pt`` saves it as a ``bc``
checkpoint, so ``portia bench --agent MODEL.pt`` and ``baselines.bc:make_agent`` play it.

**Files and resume.** Under ``work_dir``: ``run.json`` (the settings that decide the
result), ``students/student-NN.pt`` (the student that plays iteration NN; ``NN =
iterations`` is the final one) and ``iterations/NN/`` (that iteration's dataset). Each file
is written whole and then moved into place, so an interrupted run (a killed process, a
session that ended) resumes from the last finished step when run again with the same
settings: nothing finished is redone, and the result is the same as an uninterrupted run's.
A ``work_dir`` holding a run of other settings is refused. ``workers``, ``backend`` and
``address`` change only where episodes run, never what they hold.

**Cost.** ``history`` reports per iteration the env steps of the rollouts and the periods
the teacher imagined labelling them (``think_steps``), the two costs of a DAgger student;
``DAggerRun.cost(k)`` totals them for student ``k``, demonstrations included.

Example::

    from baselines.dagger import DAggerConfig, train

    student = train(DAggerConfig(suite="arm-reach-v0", demonstrations="data/reach",
                                 work_dir="runs/dagger-reach", iterations=3, episodes=12))
    student.save("dagger_reach.pt")
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
from numpy.typing import NDArray

from baselines import bc
from baselines.common import is_integer
from baselines.features import goal_task_features
from portia_envs.datasets import load_dataset
from portia_envs.datasets.collect import (
    PlayedRecord,
    dataset_metadata,
    plan_episodes,
    play_episode,
    play_jobs,
    recording_config,
    split_env_spec,
    write_episodes,
)
from portia_envs.datasets.store import INFO_KEYS, Episode, dataset_id
from portia_envs.errors import InvalidParameterError, PortiaError
from portia_envs.harness.agents import resolve_spec
from portia_envs.harness.episode import EpisodeJob, RunConfig, build_env_and_agent
from portia_envs.harness.parallel import check_map_options
from portia_envs.suites import get_suite
from wrappers.adapters import Agent, reset_agent

logger = logging.getLogger(__name__)

# The unit ``on_progress`` counts, for ``portia train``'s bar and curve.
PROGRESS_UNIT = "rollout"
# Rollouts of iteration i use run seed ROLLOUT_SEED_BASE + 1000 * seed + i: far from the
# small run seeds that collection (0) and scoring (1, 2, ...) use, so a student is never
# scored on an episode it was trained in.
ROLLOUT_SEED_BASE = 1_000_000
# The extra per-step infos of a DAgger dataset (``INFO_KEYS`` are stored too).
LABEL_KEY = "teacher_action"
ACTED_KEY = "teacher_acted"
# The settings that decide a run's result: a resume must find the same.
RESULT_FIELDS = (
    "suite",
    "teacher",
    "demonstrations",
    "demonstration_episodes",
    "iterations",
    "episodes",
    "beta_start",
    "beta_decay",
    "warm_start",
    "hidden_sizes",
    "epochs",
    "learning_rate",
    "batch_size",
    "embodiment_descriptor",
    "seed",
)

# ``on_progress(done, total, metrics)``: after ``done`` of ``total`` rollouts (0: the start).
ProgressCallback = Callable[[int, int, Mapping[str, float]], None]


class DAggerConfigError(PortiaError, ValueError):
    """A DAgger setting out of its range, or a work directory holding another run."""


@dataclass(frozen=True)
class DAggerConfig:
    """Settings of a DAgger run; every field is checked on construction.

    Raises:
        DAggerConfigError: If a value is out of its range.
        UnknownSuiteError: If ``suite`` is not a Portia suite.
    """

    suite: str = "arm-reach-v0"
    """The suite whose train tasks the student rolls out on."""
    work_dir: str = "runs/dagger"
    """Where the iterations' datasets and students go; a run resumes from what is there."""
    demonstrations: str | None = None
    """A teacher dataset (``portia collect``) the first student clones; None: from scratch."""
    demonstration_episodes: int | None = None
    """How many of the demonstrations' episodes to learn from, the first ones; None: all."""
    teacher: str = "teacher"
    """The agent that labels, built on the paused env: ``teacher`` (the planning teacher),
    or another spec such as ``scripted``."""
    iterations: int = 4
    """Rollout-label-retrain rounds (>= 1)."""
    episodes: int = 20
    """Student rollouts per iteration, round robin over the train tasks (>= 1)."""
    beta_start: float = 0.5
    """Probability of playing the teacher's label at the schedule's first iteration, [0, 1]."""
    beta_decay: float = 0.5
    """Factor beta shrinks by per iteration, in [0, 1]."""
    warm_start: bool = True
    """Whether the teacher carries its plan from one label to the next along a rollout."""
    hidden_sizes: tuple[int, ...] = (128, 128)
    """Widths of the student MLP's hidden layers (``bc.BCConfig``)."""
    epochs: int = 100
    """Passes over all labels when a student is fit (>= 1)."""
    learning_rate: float = 1e-3
    """AdamW's step size (> 0)."""
    batch_size: int = 256
    """Labels per gradient step (>= 1)."""
    embodiment_descriptor: bool = False
    """Whether the student reads the embodiment descriptor (multi-embodiment suites)."""
    seed: int = 0
    """Seed of the rollouts' reset seeds and coins and of every fit."""
    workers: int = 1
    """Processes that play rollouts (>= 1); results are the same for any number."""
    backend: str = "local"
    """Where rollouts run: ``local`` worker processes, or ``ray``."""
    address: str | None = None
    """The Ray cluster to join (``--backend ray``); None starts a local one for the run."""

    def __post_init__(self) -> None:
        get_suite(self.suite)
        for name, minimum in (("iterations", 1), ("episodes", 1), ("workers", 1)):
            value = getattr(self, name)
            if not is_integer(value) or value < minimum:
                raise DAggerConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
        for name in ("beta_start", "beta_decay"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise DAggerConfigError(f"{name} must be a number in [0, 1], got {value!r}")
        limit = self.demonstration_episodes
        if limit is not None and (not is_integer(limit) or limit < 1 or not self.demonstrations):
            raise DAggerConfigError(
                f"demonstration_episodes must be None or an integer >= 1 with demonstrations, "
                f"got {limit!r}"
            )
        try:
            check_map_options(self.workers, self.backend, self.address)
        except InvalidParameterError as error:
            raise DAggerConfigError(str(error)) from error
        self.bc_config()  # the student's settings are checked by BC's own rules

    def bc_config(self) -> bc.BCConfig:
        """Return the behaviour-cloning settings each student is fit with."""
        try:
            return bc.BCConfig(
                dataset=self.work_dir,
                hidden_sizes=self.hidden_sizes,
                learning_rate=self.learning_rate,
                batch_size=self.batch_size,
                epochs=self.epochs,
                seed=self.seed,
                embodiment_descriptor=self.embodiment_descriptor,
            )
        except bc.BCConfigError as error:
            raise DAggerConfigError(str(error)) from error

    def result_settings(self) -> dict[str, Any]:
        """Return the settings that decide the result (``RESULT_FIELDS``), JSON-ready."""
        values = dataclasses.asdict(self)
        settings = {name: values[name] for name in RESULT_FIELDS}
        settings["hidden_sizes"] = list(self.hidden_sizes)
        return settings


# The config `portia train dagger` builds from its options (baselines/train_cli.py).
TRAIN_CONFIG = DAggerConfig


def mixing_beta(iteration: int, beta_start: float, beta_decay: float, from_scratch: bool) -> float:
    """Return the probability that iteration ``iteration`` (from 0) plays the teacher's label.

    ``beta_start * beta_decay ** iteration``; from scratch there is no student at iteration
    0, so it is 1 there and the schedule starts at iteration 1.

    Raises:
        DAggerConfigError: If ``iteration`` is negative.
    """
    if iteration < 0:
        raise DAggerConfigError(f"iteration must be >= 0, got {iteration}")
    if from_scratch:
        return 1.0 if iteration == 0 else beta_start * beta_decay ** (iteration - 1)
    return beta_start * beta_decay**iteration


def rollout_seed(seed: int, iteration: int) -> int:
    """Return the run seed of iteration ``iteration``'s rollouts (see ``ROLLOUT_SEED_BASE``)."""
    return ROLLOUT_SEED_BASE + 1000 * seed + iteration


class LabellingAgent:
    """Plays the student mixed with the teacher, keeping the teacher's label of every state.

    At each decision the teacher decides from the env's current state, time paused (its
    imagining counted by ``TimePause`` in the step's info): that is the state's label.
    The action played is the label with probability ``beta`` (always without a student),
    else the student's; a coin is drawn every decision from a generator seeded by the
    reset seed, so an episode is the same wherever it runs.

    Args:
        teacher: The labeller, built on the env the episode is played in.
        student: The student, or None (the teacher plays).
        beta: Probability of playing the label, in [0, 1].
        warm_start: Whether the teacher keeps its plan between labels (else it is reset
            before each).
    """

    def __init__(self, teacher: Agent, student: Agent | None, beta: float, warm_start: bool):
        self.teacher = teacher
        self.student = student
        self.beta = beta
        self.warm_start = warm_start
        self.reset(0)

    def reset(self, seed: int) -> None:
        """Start an episode of reset seed ``seed``: reset both agents, the coins, the labels."""
        self.seed = seed
        self.coins = np.random.default_rng(seed)
        self.labels: list[NDArray] = []
        self.acted: list[bool] = []
        reset_agent(self.teacher, seed)
        if self.student is not None:
            reset_agent(self.student, seed)

    def act(self, observation: Any) -> NDArray:
        """Label the current state and return the action to play (the label or the student's)."""
        if not self.warm_start:
            reset_agent(self.teacher, self.seed)
        label = np.asarray(self.teacher.act(observation))
        teacher_plays = self.student is None or self.coins.random() < self.beta
        self.labels.append(label)
        self.acted.append(teacher_plays)
        return label if teacher_plays else np.asarray(self.student.act(observation))


def label_episode(
    job: EpisodeJob,
    env: gymnasium.Env,
    teacher: Agent,
    student: Agent | None,
    beta: float,
    warm_start: bool,
    options: Mapping[str, Any],
) -> Episode:
    """Roll out the student (mixed with the teacher) for one episode, labelling every state.

    The episode is played as ``portia collect`` plays one (``play_episode``), by a
    ``LabellingAgent``; its labels are added to the infos.

    Args:
        job: The episode: task, run seed and index (its reset seed).
        env: The task's env, a ``TimePause`` inside it, as the student sees it.
        teacher: The labeller, built on that env.
        student: The student, or None (the teacher plays).
        beta: Probability of playing the label, in [0, 1].
        warm_start: Whether the teacher keeps its plan between labels.
        options: The reset options stored with the episode.

    Returns:
        The episode: actions that acted, and infos ``teacher_action`` (the labels, in the
        action's dtype; NaN after the last step) and ``teacher_acted`` beside ``INFO_KEYS``;
        its metadata adds ``beta`` and ``teacher_steps`` (the steps the label was played).
    """
    agent = LabellingAgent(teacher, student, beta, warm_start)
    episode = play_episode(job, env, agent, dict(options))
    labels = np.asarray(agent.labels, dtype=episode.actions.dtype)
    after_last = np.full((1, *labels.shape[1:]), np.nan, dtype=labels.dtype)
    episode.infos[LABEL_KEY] = np.concatenate([labels, after_last])
    episode.infos[ACTED_KEY] = np.array([*agent.acted, False])
    episode.metadata.update(beta=float(beta), teacher_steps=int(sum(agent.acted)))
    return episode


@dataclass(frozen=True)
class Labelling:
    """What a labelling worker needs; calling it builds one (``ordered_map``'s factory).

    Attributes:
        config: The run the envs and the teacher are built for (track ``paused``).
        student: The student's model file, or None (the teacher plays).
        beta: Probability of playing the teacher's label.
        warm_start: Whether the teacher carries its plan between labels.
    """

    config: RunConfig
    student: str | None
    beta: float
    warm_start: bool

    def __call__(self) -> Labeller:
        """Return a worker that labels episodes with these settings."""
        return Labeller(self)


class Labeller:
    """Labels episodes, building each task's env and teacher once and keeping them."""

    def __init__(self, settings: Labelling) -> None:
        self.settings = settings
        self.student = None if settings.student is None else bc.BCPolicy.load(settings.student)
        self.built: dict[str, tuple[gymnasium.Env, Agent]] = {}

    def __call__(self, job: EpisodeJob) -> PlayedRecord:
        """Roll out and label one episode (``label_episode``); return it and its env's spaces."""
        config = self.settings.config
        if job.task_id not in self.built:
            env, teacher = build_env_and_agent(config, job.task_id, job.split)
            if self.student is not None:
                self.student.check_env(env)
            self.built[job.task_id] = (env, teacher)
        env, teacher = self.built[job.task_id]
        options = get_suite(config.suite).reset_options(job.task_id)
        episode = label_episode(
            job, env, teacher, self.student, self.settings.beta, self.settings.warm_start, options
        )
        return episode, (env.observation_space, env.action_space)

    def close(self) -> None:
        """Close every env built."""
        for env, _ in self.built.values():
            env.close()


def aggregate(
    demonstrations: str | None,
    iterations: Sequence[Path],
    embodiment: bool = False,
    demonstration_episodes: int | None = None,
) -> tuple[list[NDArray[np.float32]], list[NDArray[np.float32]]]:
    """Return every label so far as per-episode ``(features, actions)`` arrays.

    The demonstrations' pairs are (state, action the teacher played); an iteration's are
    (state the rollout visited, the teacher's label there), whoever acted.

    Args:
        demonstrations: A teacher dataset, or None.
        iterations: The iterations' dataset directories, in order.
        embodiment: Whether the features include the embodiment descriptor.
        demonstration_episodes: Use only the demonstrations' first episodes; None: all.

    Returns:
        ``(xs, ys)``: per episode, features ``(T, n_features)`` and actions ``(T, n_actions)``.
    """
    xs: list[NDArray[np.float32]] = []
    ys: list[NDArray[np.float32]] = []
    sources = ([(demonstrations, False, demonstration_episodes)] if demonstrations else []) + [
        (path, True, None) for path in iterations
    ]
    for path, labelled, limit in sources:
        dataset = load_dataset(path)
        bc.check_dataset_spaces(dataset)
        chosen = first_episodes(dataset, limit)
        for episode in dataset.iterate_episodes(chosen):
            observations = {key: value[:-1] for key, value in episode.observations.items()}
            xs.append(goal_task_features(observations, embodiment=embodiment))
            targets = episode.infos[LABEL_KEY][:-1] if labelled else episode.actions
            ys.append(np.asarray(targets, dtype=np.float32))
    return xs, ys


def first_episodes(dataset: Any, limit: int | None) -> range:
    """Return the indices of a dataset's first ``limit`` episodes (None: all of them).

    Raises:
        DAggerConfigError: If the dataset holds fewer than ``limit``.
    """
    total = int(dataset.total_episodes)
    if limit is not None and limit > total:
        raise DAggerConfigError(
            f"demonstration_episodes is {limit}, but the demonstrations hold {total} episodes"
        )
    return range(total if limit is None else limit)


def train(config: DAggerConfig, *, on_progress: ProgressCallback | None = None) -> bc.BCPolicy:
    """Run DAgger (see the module docstring), resuming from what ``work_dir`` holds.

    Args:
        config: The settings.
        on_progress: Called as ``on_progress(done, total, metrics)`` with ``done`` of
            ``total = iterations x episodes`` rollouts labelled: ``(0, total, {})`` at the
            start, with no metrics after each rollout, and after each iteration's student
            is fit with its rollouts' success rate, the labels so far and the student's
            train and validation losses.

    Returns:
        The final student; ``policy.data["dagger"]`` holds the per-iteration history.

    Raises:
        DAggerConfigError: If ``work_dir`` holds a run of other settings.
        DatasetError: If ``demonstrations`` holds no Portia dataset.
        EpisodeFailedError: If a rollout raises (nothing of that iteration is written).
    """
    run = DAggerRun(config)
    total = config.iterations * config.episodes
    report = on_progress or (lambda done, total, metrics: None)
    report(0, total, {})
    student = run.student(0)
    history: list[dict[str, Any]] = []
    for iteration in range(config.iterations):
        before = iteration * config.episodes

        def rolled_out(done: int, before: int = before) -> None:
            report(before + done, total, {})

        data = run.iteration_data(iteration, student, on_rollout=rolled_out)
        student = run.student(iteration + 1)
        policy = bc.BCPolicy.load(student)
        history.append(iteration_summary(iteration, data, policy, run.beta(iteration)))
        last = policy.history[-1]
        report(
            before + config.episodes,
            total,
            {
                "rollout_success": history[-1]["success_rate"],
                "labels": float(sum(h["labels"] for h in history)),
                "train_loss": last["train_loss"],
                "validation_loss": last["validation_loss"],
            },
        )
    policy = bc.BCPolicy.load(student)
    policy.data = {
        **policy.data,
        "dagger": {"settings": config.result_settings(), "history": history},
    }
    return policy


def iteration_summary(
    iteration: int, data: Path, policy: bc.BCPolicy, beta: float
) -> dict[str, Any]:
    """Return what one iteration did and cost, read from its dataset."""
    dataset = load_dataset(data)
    episodes = list(dataset.storage.get_episode_metadata(range(dataset.total_episodes)))
    steps = sum(int(meta["length"]) for meta in episodes)
    return {
        "iteration": iteration,
        "beta": beta,
        "episodes": len(episodes),
        "labels": steps,
        "env_steps": steps,
        "teacher_steps": sum(int(meta["teacher_steps"]) for meta in episodes),
        "imagined_periods": sum(int(meta["think_steps"]) for meta in episodes),
        "think_s": math.fsum(float(meta["think_s"]) for meta in episodes),
        "success_rate": sum(bool(meta["success"]) for meta in episodes) / len(episodes),
        "train_loss": policy.history[-1]["train_loss"],
    }


class DAggerRun:
    """A run's files under ``work_dir``: makes each that is missing, keeps those there."""

    def __init__(self, config: DAggerConfig) -> None:
        self.config = config
        self.root = Path(config.work_dir)
        self._claim()

    def beta(self, iteration: int) -> float:
        """The iteration's mixing probability (``mixing_beta``)."""
        config = self.config
        return mixing_beta(
            iteration, config.beta_start, config.beta_decay, config.demonstrations is None
        )

    def student_path(self, index: int) -> Path:
        """The file of the student that plays iteration ``index`` (the final one at the end)."""
        return self.root / "students" / f"student-{index:02d}.pt"

    def data_path(self, iteration: int) -> Path:
        """The dataset directory of iteration ``iteration``."""
        return self.root / "iterations" / f"{iteration:02d}"

    def student(self, index: int) -> Path | None:
        """Return student ``index``'s file, fitting it on the labels before it if missing.

        Student 0 clones the demonstrations, or is None without them.
        """
        if index == 0 and self.config.demonstrations is None:
            return None
        path = self.student_path(index)
        if path.is_file():
            return path
        xs, ys = aggregate(
            self.config.demonstrations,
            [self.data_path(i) for i in range(index)],
            self.config.embodiment_descriptor,
            self.config.demonstration_episodes,
        )
        info = {
            "dataset_id": f"DAgger labels before iteration {index} in {self.root}",
            "suite": self.config.suite,
            "split": "train",
            "agent": self.config.teacher,
        }
        settings = self.config.bc_config()
        data = bc.split_demonstrations(xs, ys, settings.validation_fraction, settings.seed, info)
        logger.info("student %d: fitting on %d labels", index, data.info["steps"])
        policy = bc.fit(settings, data)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        policy.save(partial)
        os.replace(partial, path)
        return path

    def cost(self, index: int) -> tuple[int, int]:
        """Return student ``index``'s cost: ``(labels, imagined)``.

        ``labels``: the env steps of every state it learnt from, one label each;
        ``imagined``: the control periods the teacher imagined deciding them. Reads the
        demonstrations (the episodes used) and iterations ``0 .. index - 1``.
        """
        datasets = [(self.data_path(i), None) for i in range(index)]
        if self.config.demonstrations:
            datasets.insert(
                0, (Path(self.config.demonstrations), self.config.demonstration_episodes)
            )
        labels = imagined = 0
        for path, limit in datasets:
            dataset = load_dataset(path)
            chosen = first_episodes(dataset, limit)
            for meta in dataset.storage.get_episode_metadata(chosen):
                labels += int(meta["length"])
                imagined += int(meta["think_steps"])
        return labels, imagined

    def iteration_data(
        self,
        iteration: int,
        student: Path | None,
        on_rollout: Callable[[int], None] | None = None,
    ) -> Path:
        """Return iteration ``iteration``'s dataset, rolling out and labelling if missing.

        ``on_rollout(done)`` is called after each rollout is stored (``done`` of them so
        far), or once with all of them if the dataset was already there.
        """
        path = self.data_path(iteration)
        on_rollout = on_rollout or (lambda done: None)
        if path.is_dir():
            on_rollout(self.config.episodes)
            return path
        config = self.config
        suite = get_suite(config.suite)
        run_config = recording_config(suite, resolve_spec(config.teacher))
        jobs = plan_episodes(suite, "train", config.episodes, rollout_seed(config.seed, iteration))
        labelling = Labelling(
            run_config,
            None if student is None else str(student),
            self.beta(iteration),
            config.warm_start,
        )
        name = f"dagger-{iteration:02d}"
        metadata = dataset_metadata(
            run_config, suite, "train", config.teacher, config.episodes, jobs[0].seed
        )
        metadata["dagger"] = {
            "iteration": iteration,
            "beta": self.beta(iteration),
            "labeller": config.teacher,
            "warm_start": config.warm_start,
        }
        metadata["info_keys"] = [*INFO_KEYS, LABEL_KEY, ACTED_KEY]
        stored = itertools.count(1)
        played = play_jobs(
            labelling,
            jobs,
            path,
            workers=config.workers,
            backend=config.backend,
            address=config.address,
            noun="rollout",
        )
        write_episodes(
            path,
            played,
            dataset_id=dataset_id(suite.name, "train", name),
            env_spec=split_env_spec(suite, "train"),
            metadata=metadata,
            algorithm_name=name,
            description=f"DAgger rollouts on the train tasks of {suite.name}, iteration "
            f"{iteration}, labelled by {config.teacher}",
            on_written=lambda _: on_rollout(next(stored)),
        )
        return path

    def _claim(self) -> None:
        """Record the run's settings in ``run.json``, or check they match those there.

        Raises:
            DAggerConfigError: If ``work_dir`` holds a run of other settings, or other files.
        """
        settings = self.config.result_settings()
        record = self.root / "run.json"
        if record.is_file():
            found = json.loads(record.read_text())
            if found != settings:
                changed = sorted(k for k in settings if found.get(k) != settings[k])
                raise DAggerConfigError(
                    f"{self.root} holds a DAgger run of other settings ({', '.join(changed)}); "
                    f"run with the same settings to resume it, or choose another work_dir"
                )
            return
        if self.root.is_dir() and any(self.root.iterdir()):
            raise DAggerConfigError(
                f"{self.root} is not empty and holds no DAgger run (no run.json); "
                f"choose another work_dir"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(settings, indent=1))
