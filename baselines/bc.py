"""Behaviour cloning: an MLP from observation, goal and task to the demonstrated action.

A Portia dataset (``portia collect``) holds an agent's episodes; behaviour cloning fits a
deterministic policy to its (observation, action) pairs by regression. The policy sees
one flat feature vector (``features``): the proprioception, the desired and achieved goals,
their difference and the task's one-hot family, so one network serves every task of a
suite, conditioned on the goal and the task. Features are standardized by statistics of the
training set, stored with the model; the output is bounded to the action space [-1, 1] by
a ``tanh``. The loss (``bc_loss``) is the mean squared error to the demonstrated action.

Read top to bottom: the config, the features, the loss, the network, ``train`` (the loop)
and ``BCPolicy`` (SB3's ``predict``/``save``/``load``, Portia's ``act``/``reset``). Then
the agent factories that ``portia bench --agent`` names:

- ``baselines.bc:make_agent`` loads the model at ``$PORTIA_BC_MODEL``;
- ``baselines.bc:smoke_student`` and ``baselines.bc:arm_reach_student`` load the small
  students shipped in ``baselines/students/``, trained on the teacher's demonstrations of
  the ``smoke-v0`` and ``arm-reach-v0`` train tasks;
- ``baselines.bc:arm_gen_dagger_student`` loads the shipped DAgger student of
  ``arm-gen-v0`` (``baselines.dagger``; a BC network too).

Example::

    from baselines.bc import BCConfig, BCPolicy, train

    policy = train(BCConfig(dataset="data/smoke", epochs=20))
    policy.save("bc_smoke.pt")
    action = BCPolicy.load("bc_smoke.pt").act(observation)
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from torch import nn

from baselines.common import (
    agent_from_variable,
    is_integer,
    load_checkpoint,
    model_variable,
    save_checkpoint,
)
from baselines.features import ObservationError
from baselines.features import goal_task_features as features
from portia_envs.datasets import load_dataset
from portia_envs.errors import PortiaError

logger = logging.getLogger(__name__)

# A feature whose training std is below this is scaled by it instead: a constant feature (a
# family the dataset never shows) must not blow up when it changes at test time.
MIN_STD = 1e-2
# Standardized features are clipped to +-this many stds, as SB3's VecNormalize clips.
FEATURE_CLIP = 10.0
# The environment variable ``make_agent`` reads the model's path from.
MODEL_VARIABLE = model_variable("bc")
# The shipped students: factory name -> file under ``baselines/students/``.
STUDENTS = {
    "smoke_student": "smoke-v0.pt",
    "arm_reach_student": "arm-reach-v0.pt",
    "arm_gen_dagger_student": "arm-gen-v0-dagger.pt",
}
# The unit ``on_progress`` counts, for ``portia train``'s curve.
PROGRESS_UNIT = "epoch"

# ``on_progress(done, total, metrics)``: after ``done`` of ``total`` epochs (0: before any).
ProgressCallback = Callable[[int, int, Mapping[str, float]], None]


class BCConfigError(PortiaError, ValueError):
    """A behaviour-cloning setting out of its range."""


class BCInputError(ObservationError):
    """An observation, dataset or env that a BC policy cannot use (keys, shapes, spaces)."""


class BCModelError(PortiaError, ValueError):
    """A model file that is missing, is not a saved ``BCPolicy``, or does not fit the env."""


@dataclass(frozen=True)
class BCConfig:
    """Settings of behaviour cloning; every field is checked on construction.

    Raises:
        BCConfigError: If a value is out of its range.
    """

    dataset: str
    """Path to a Portia dataset: the ``--out`` directory of ``portia collect``."""
    hidden_sizes: tuple[int, ...] = (256, 256)
    """Widths of the MLP's hidden layers (ReLU between them), at least one, each >= 1."""
    learning_rate: float = 1e-3
    """AdamW's step size (> 0)."""
    batch_size: int = 256
    """(Observation, action) pairs per gradient step (>= 1)."""
    epochs: int = 100
    """Passes over the training pairs (>= 1)."""
    weight_decay: float = 1e-4
    """AdamW's decoupled weight decay (>= 0)."""
    validation_fraction: float = 0.1
    """Share of the episodes held out to measure the validation loss, in [0, 1); 0: none."""
    seed: int = 0
    """Seed of the initial weights, the validation split and the batch order."""
    device: str = "cpu"
    """Torch device to train on; the policy acts on the CPU."""
    embodiment_descriptor: bool = False
    """Whether the features end with the ``embodiment`` descriptor of a multi-embodiment
    suite's observations (what each action slot drives); other suites' have none."""

    def __post_init__(self) -> None:
        sizes = self.hidden_sizes
        if (
            not isinstance(sizes, tuple)
            or not sizes
            or not all(is_integer(h) and h >= 1 for h in sizes)
        ):
            raise BCConfigError(f"hidden_sizes must be a tuple of integers >= 1, got {sizes!r}")
        for name in ("batch_size", "epochs"):
            value = getattr(self, name)
            if not is_integer(value) or value < 1:
                raise BCConfigError(f"{name} must be an integer >= 1, got {value!r}")
        if not is_integer(self.seed):
            raise BCConfigError(f"seed must be an integer, got {self.seed!r}")
        checks = {
            "learning_rate": (lambda v: v > 0, "> 0"),
            "weight_decay": (lambda v: v >= 0, ">= 0"),
            "validation_fraction": (lambda v: 0 <= v < 1, "in [0, 1)"),
        }
        for name, (accepts, accepted) in checks.items():
            value = getattr(self, name)
            if not _is_real(value) or not accepts(value):
                raise BCConfigError(f"{name} must be a finite number {accepted}, got {value!r}")


# The config `portia train bc` builds from its options (baselines/train_cli.py).
TRAIN_CONFIG = BCConfig


def _is_real(value: Any) -> bool:
    """Whether ``value`` is a finite real number (bools are not)."""
    return is_integer(value) or (isinstance(value, float | np.floating) and math.isfinite(value))


def bc_loss(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Return the behaviour-cloning loss: the mean squared error over pairs and dimensions.

    Mean squared error, not a Gaussian negative log-likelihood: the demonstrators are
    deterministic and the policy plays one action, the mean; MSE is the Gaussian NLL with a
    fixed variance, without a learned variance to trade precision against fit.

    Args:
        predicted: The policy's actions, shape ``(batch, action_size)``.
        target: The demonstrated actions, the same shape.

    Returns:
        A scalar: ``mean((predicted - target) ** 2)``.

    Raises:
        BCInputError: If the shapes differ.
    """
    if predicted.shape != target.shape:
        raise BCInputError(
            f"predicted and target actions must have the same shape, got "
            f"{tuple(predicted.shape)} and {tuple(target.shape)}"
        )
    return torch.mean((predicted - target) ** 2)


class BCNetwork(nn.Module):
    """Standardize the features, an MLP with ReLUs, then ``tanh`` into [-1, 1].

    The standardization's mean and std are buffers, saved in the state dict with the weights.

    Args:
        feature_size: Length of the feature vector (``features``).
        action_size: Length of the action.
        hidden_sizes: Widths of the hidden layers.
    """

    def __init__(self, feature_size: int, action_size: int, hidden_sizes: tuple[int, ...]) -> None:
        super().__init__()
        self.register_buffer("feature_mean", torch.zeros(feature_size))
        self.register_buffer("feature_std", torch.ones(feature_size))
        layers: list[nn.Module] = []
        width = feature_size
        for hidden in hidden_sizes:
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        layers += [nn.Linear(width, action_size), nn.Tanh()]
        self.mlp = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return actions in [-1, 1], shape ``(batch, action_size)``, for raw features."""
        x = ((x - self.feature_mean) / self.feature_std).clamp(-FEATURE_CLIP, FEATURE_CLIP)
        return self.mlp(x)


@dataclass
class Demonstrations:
    """A dataset's (features, action) pairs, split by episode into training and validation.

    Attributes:
        train_x: Training features, ``(n_train, n_features)`` float32.
        train_y: Training actions, ``(n_train, action_size)`` float32.
        validation_x: Validation features, ``(n_validation, n_features)``; may be empty.
        validation_y: Validation actions, ``(n_validation, action_size)``.
        info: What the data is (dataset id, suite, split, episodes, steps), JSON-ready.
    """

    train_x: NDArray[np.float32]
    train_y: NDArray[np.float32]
    validation_x: NDArray[np.float32]
    validation_y: NDArray[np.float32]
    info: dict[str, Any]


def load_demonstrations(
    path: Path | str, validation_fraction: float, seed: int, *, embodiment: bool = False
) -> Demonstrations:
    """Read a dataset's pairs: step ``t``'s observation features and the action taken at ``t``.

    Whole episodes go to validation (``split_demonstrations``).

    Args:
        path: The dataset (``portia collect``'s ``--out``).
        validation_fraction: Share of the episodes held out, in [0, 1).
        seed: Seed of the split.
        embodiment: Whether the features include the embodiment descriptor.

    Raises:
        DatasetError: If ``path`` holds no Portia dataset.
        BCInputError: If its observations are not Dict observations with goals, or its
            actions are not a ``Box`` in [-1, 1].
    """
    dataset = load_dataset(path)
    check_dataset_spaces(dataset)
    xs, ys = [], []
    for episode in dataset.iterate_episodes():
        observations = {key: value[:-1] for key, value in episode.observations.items()}
        xs.append(features(observations, embodiment=embodiment))
        ys.append(np.asarray(episode.actions, dtype=np.float32))
    portia = dataset.storage.metadata.get("portia", {})
    info = {
        "dataset_id": str(dataset.spec.dataset_id),
        "suite": str(portia.get("suite", {}).get("name", "")),
        "split": str(portia.get("split", "")),
        "agent": str(portia.get("agent", {}).get("name", "")),
    }
    return split_demonstrations(xs, ys, validation_fraction, seed, info)


def check_dataset_spaces(dataset: Any) -> None:
    """Check that BC can learn from a Minari dataset: Dict observations, actions in [-1, 1].

    Raises:
        BCInputError: If it cannot.
    """
    space = dataset.action_space
    if not (
        isinstance(space, gymnasium.spaces.Box)
        and np.all(space.low == -1.0)
        and np.all(space.high == 1.0)
    ):
        raise BCInputError(f"BC needs actions in a Box of [-1, 1], the dataset has {space}")
    if not isinstance(dataset.observation_space, gymnasium.spaces.Dict):
        raise BCInputError(
            f"BC needs Dict observations with goals, the dataset has {dataset.observation_space}"
        )


def split_demonstrations(
    xs: list[NDArray[np.float32]],
    ys: list[NDArray[np.float32]],
    validation_fraction: float,
    seed: int,
    info: Mapping[str, Any],
) -> Demonstrations:
    """Split per-episode (features, actions) arrays into training and validation pairs.

    Whole episodes go to validation (steps of one episode are alike, so splitting steps
    would measure memory, not generalization): ``round(fraction * episodes)`` of them, at
    least one when the fraction is positive, chosen by ``seed``; at least one stays for
    training.

    Args:
        xs: Per episode, its features ``(T_i, n_features)``.
        ys: Per episode, the actions to learn ``(T_i, action_size)``.
        validation_fraction: Share of the episodes held out, in [0, 1).
        seed: Seed of the split.
        info: What the data is; ``episodes``, ``steps`` and ``validation_episodes`` are added.
    """
    n = len(xs)
    n_validation = 0 if validation_fraction == 0 else max(1, round(validation_fraction * n))
    n_validation = min(n_validation, n - 1)
    order = np.random.default_rng(seed).permutation(n)
    held = set(order[:n_validation].tolist())
    train = [i for i in range(n) if i not in held]
    validation = sorted(held)

    def stack(parts: list[NDArray], rows: list[int], width: int) -> NDArray[np.float32]:
        return np.concatenate([parts[i] for i in rows]) if rows else np.zeros((0, width), "f4")

    return Demonstrations(
        train_x=stack(xs, train, xs[0].shape[1]),
        train_y=stack(ys, train, ys[0].shape[1]),
        validation_x=stack(xs, validation, xs[0].shape[1]),
        validation_y=stack(ys, validation, ys[0].shape[1]),
        info={
            **info,
            "episodes": n,
            "steps": int(sum(len(y) for y in ys)),
            "validation_episodes": len(validation),
        },
    )


def train(config: BCConfig, *, on_progress: ProgressCallback | None = None) -> BCPolicy:
    """Fit a BC policy to a dataset's demonstrations with AdamW on ``bc_loss``.

    After each epoch the loss over all training pairs and over the validation pairs is
    recorded (``policy.history``; the first entry, epoch 0, is before any step) and passed
    to ``on_progress``. The same config, machine and number of torch threads give the same
    weights.

    Args:
        config: The settings.
        on_progress: Called as ``on_progress(epoch, config.epochs, {"train_loss": ...,
            "validation_loss": ...})`` after each epoch, and with epoch 0 before the first
            (the validation loss is NaN when nothing is held out).

    Returns:
        The trained policy, on the CPU.

    Raises:
        DatasetError: If ``config.dataset`` holds no Portia dataset.
        BCInputError: If its observations or actions cannot be used.
    """
    data = load_demonstrations(
        config.dataset,
        config.validation_fraction,
        config.seed,
        embodiment=config.embodiment_descriptor,
    )
    return fit(config, data, on_progress=on_progress)


def fit(
    config: BCConfig, data: Demonstrations, *, on_progress: ProgressCallback | None = None
) -> BCPolicy:
    """Fit a BC policy to given pairs with AdamW on ``bc_loss`` (``train`` without the reading).

    ``config.dataset`` is not read: ``data`` is what is learnt. See ``train`` for the rest.
    """
    torch.manual_seed(config.seed)
    shuffle = torch.Generator().manual_seed(config.seed)
    device = torch.device(config.device)
    train_x, train_y = torch.from_numpy(data.train_x), torch.from_numpy(data.train_y)
    validation_x = torch.from_numpy(data.validation_x).to(device)
    validation_y = torch.from_numpy(data.validation_y).to(device)
    network = BCNetwork(train_x.shape[1], train_y.shape[1], config.hidden_sizes)
    network.feature_mean.copy_(train_x.mean(dim=0))
    network.feature_std.copy_(train_x.std(dim=0, correction=0).clamp(min=MIN_STD))
    network.to(device)
    train_x, train_y = train_x.to(device), train_y.to(device)
    optimizer = torch.optim.AdamW(
        network.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    logger.info(
        "BC on %s: %d training pairs, %d validation pairs, %d features -> %d actions",
        data.info["dataset_id"],
        len(train_x),
        len(validation_x),
        train_x.shape[1],
        train_y.shape[1],
    )

    def evaluate(epoch: int) -> dict[str, float]:
        network.eval()
        with torch.no_grad():
            losses = {"train_loss": float(bc_loss(network(train_x), train_y))}
            losses["validation_loss"] = (
                float(bc_loss(network(validation_x), validation_y))
                if len(validation_x)
                else math.nan
            )
        network.train()
        history.append({"epoch": epoch, **losses})
        logger.info("epoch %d: %s", epoch, losses)
        if on_progress is not None:
            on_progress(epoch, config.epochs, losses)
        return losses

    history: list[dict[str, float]] = []
    evaluate(0)
    for epoch in range(1, config.epochs + 1):
        order = torch.randperm(len(train_x), generator=shuffle).to(device)
        for start in range(0, len(order), config.batch_size):
            batch = order[start : start + config.batch_size]
            loss = bc_loss(network(train_x[batch]), train_y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        evaluate(epoch)

    network.to("cpu").eval()
    return BCPolicy(network, config, history=history, data=data.info)


class BCPolicy:
    """A trained BC policy: SB3's ``predict``, ``save`` and ``load``; Portia's ``act``, ``reset``.

    It keeps no state between decisions, so ``reset`` does nothing and the deterministic
    and stochastic predictions are the same. Inference runs on the CPU in float32.

    Args:
        network: The trained network (on the CPU).
        config: The settings it was trained with.
        history: Per epoch: ``epoch``, ``train_loss``, ``validation_loss``.
        data: What it was trained on (``Demonstrations.info``).
    """

    name = "bc"

    def __init__(
        self,
        network: BCNetwork,
        config: BCConfig,
        *,
        history: list[dict[str, float]] | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        self.network = network.eval()
        self.config = config
        self.history = list(history or [])
        self.data = dict(data or {})
        self.feature_size = int(network.feature_mean.shape[0])
        self.action_size = int(network.mlp[-2].out_features)

    def act(self, observation: Mapping[str, ArrayLike]) -> NDArray[np.float32]:
        """Return the action for one observation, shape ``(action_size,)`` float32 in [-1, 1].

        Raises:
            BCInputError: If the observation does not give the features the model expects.
        """
        x = self._features(observation)
        if x.ndim != 1:
            raise BCInputError(f"act takes one observation, got a batch of shape {x.shape[:-1]}")
        with torch.inference_mode():
            return self.network(torch.from_numpy(x)[None])[0].numpy()

    def predict(
        self,
        observation: Mapping[str, ArrayLike],
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = True,
    ) -> tuple[NDArray[np.float32], None]:
        """Return ``(action, None)``, as Stable-Baselines3's ``predict`` does.

        Args:
            observation: One Dict observation, or a batch (arrays with a leading axis).
            state: Ignored: the policy has no recurrent state.
            episode_start: Ignored.
            deterministic: Ignored: the policy is deterministic.

        Returns:
            The action ``(action_size,)``, or actions ``(batch, action_size)``, and None.
        """
        x = self._features(observation)
        with torch.inference_mode():
            actions = self.network(torch.from_numpy(x.reshape(-1, self.feature_size))).numpy()
        return actions.reshape(*x.shape[:-1], self.action_size), None

    def reset(self) -> None:
        """Start an episode: nothing to forget."""

    def save(self, path: Path | str) -> None:
        """Write the model to ``path`` as a ``bc`` checkpoint (``baselines.common``).

        Args:
            path: The file (by convention ``.pt``); its folder is created.
        """
        state = {name: tensor.detach().cpu() for name, tensor in self.network.state_dict().items()}
        config = dataclasses.asdict(self.config)
        config["hidden_sizes"] = list(self.config.hidden_sizes)
        content = {
            "feature_size": self.feature_size,
            "action_size": self.action_size,
            "config": config,
            "state_dict": state,
            "history": self.history,
            "data": self.data,
        }
        save_checkpoint(path, "bc", content)

    @classmethod
    def load(cls, path: Path | str, env: gymnasium.Env | None = None) -> BCPolicy:
        """Read a model written by ``save`` (with ``torch.load(weights_only=True)``).

        Args:
            path: The file.
            env: If given, the env the policy will act in: its spaces are checked.

        Returns:
            The policy, on the CPU.

        Raises:
            BCModelError: If the file is missing, is not a ``bc`` checkpoint of a version
                this Portia reads, or does not fit ``env``'s observations and actions.
        """
        saved = load_checkpoint(path, "bc", BCModelError)
        try:
            values = dict(saved["config"])
            values["hidden_sizes"] = tuple(values["hidden_sizes"])
            config = BCConfig(**values)
            network = BCNetwork(
                int(saved["feature_size"]), int(saved["action_size"]), config.hidden_sizes
            )
            network.load_state_dict(saved["state_dict"])
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            raise BCModelError(f"{path} is a damaged BC model: {error}") from error
        policy = cls(network, config, history=saved.get("history"), data=saved.get("data"))
        if env is not None:
            policy.check_env(env)
        return policy

    def check_env(self, env: gymnasium.Env) -> None:
        """Check that this policy can act in ``env``: its features and action sizes.

        Raises:
            BCModelError: If they differ from the model's.
        """
        action_shape = env.action_space.shape
        if action_shape != (self.action_size,):
            raise BCModelError(
                f"the BC model acts with {self.action_size} numbers, the env's action space "
                f"is {env.action_space}"
            )
        try:
            sample = env.observation_space.sample()
            size = features(sample, embodiment=self.config.embodiment_descriptor).shape[-1]
        except ObservationError as error:
            raise BCModelError(
                f"the BC model cannot read this env's observations: {error}"
            ) from error
        if size != self.feature_size:
            raise BCModelError(
                f"the BC model reads {self.feature_size} features, the env's observations "
                f"give {size}"
            )

    def _features(self, observation: Mapping[str, ArrayLike]) -> NDArray[np.float32]:
        """Return the observation's features, checked against the model's size."""
        x = features(observation, embodiment=self.config.embodiment_descriptor)
        if x.shape[-1] != self.feature_size:
            raise BCInputError(
                f"the BC model reads {self.feature_size} features, the observation gives "
                f"{x.shape[-1]}"
            )
        return x


def student_path(name: str) -> Path:
    """Return the file of a shipped student (a key of ``STUDENTS``)."""
    return Path(str(resources.files("baselines") / "students" / STUDENTS[name]))


def smoke_student(env: gymnasium.Env) -> BCPolicy:
    """Return the shipped student of ``smoke-v0``: BC on the teacher's train-task episodes."""
    return BCPolicy.load(student_path("smoke_student"), env=env)


def arm_reach_student(env: gymnasium.Env) -> BCPolicy:
    """Return the shipped student of ``arm-reach-v0``: BC on the teacher's train-task episodes."""
    return BCPolicy.load(student_path("arm_reach_student"), env=env)


def arm_gen_dagger_student(env: gymnasium.Env) -> BCPolicy:
    """Return the shipped DAgger student of ``arm-gen-v0`` (``scripts/results_table.py``'s).

    BC on the teacher's first demonstrations of the train tasks, then DAgger iterations of
    its own rollouts labelled by the teacher; ``policy.data["dagger"]`` holds its history.
    """
    return BCPolicy.load(student_path("arm_gen_dagger_student"), env=env)


def load_agent(path: str | Path, env: gymnasium.Env) -> BCPolicy:
    """Return the BC policy saved at ``path``, checked against ``env`` (the ``bc`` loader)."""
    return BCPolicy.load(path, env=env)


# ``--agent baselines.bc:make_agent``: the model at ``$PORTIA_BC_MODEL``.
make_agent = agent_from_variable(
    "bc",
    load_agent,
    BCModelError,
    "; or play a shipped student: " + ", ".join(f"baselines.bc:{name}" for name in STUDENTS),
)
