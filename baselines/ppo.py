"""PPO from scratch on a Portia suite's train tasks: one file, read top to bottom.

Proximal Policy Optimization (Schulman et al., 2017) with a clipped objective, generalized
advantage estimation (Schulman et al., 2016), a Gaussian MLP actor and a separate MLP
critic, running observation normalization, advantage normalization per minibatch, a
linearly annealed learning rate and a gradient norm clip, as in CleanRL's
``ppo_continuous_action.py``. The policy is conditioned on the goal and the task: it sees
one flat feature vector made from the whole ``Dict`` observation (``observation_features``).

Rollouts come from ``PPOConfig.num_envs`` worlds of ``Portia/Arm-v0`` with the suite's train
split (each reset draws one of its train tasks), stepped together by Portia's batched vector
env (``gymnasium.make_vec`` with ``vectorization_mode="vector_entry_point"``: every world's
physics in native threads; ``vectorization="sync"`` gives Gymnasium's ``SyncVectorEnv`` and
the same steps, bit for bit). Its autoreset is ``SAME_STEP``: the step that ends an episode
returns the next episode's first observation and puts the true final observation in
``info["final_obs"]``, so every step is a real env step and none is spent on a reset
(Gymnasium 1.x's default, ``NEXT_STEP``, would return the final observation there and spend
the next step resetting). Truncation (the time limit) bootstraps from the critic's value of
that final observation; termination (a block off the table) does not: ``compute_gae``.

Train, then score with the harness::

    portia train ppo --suite smoke-v0 --total-steps 200000 --out runs/ppo/smoke.pt
    export PORTIA_PPO_MODEL=runs/ppo/smoke.pt
    portia bench --agent baselines.ppo:make_agent --suite smoke-v0 --out runs/ppo/bench

Training writes the model (``PPOPolicy.save``: weights, normalizer, config, env steps
used and the training curve) and the curve as a PNG beside it (``smoke-curve.png``), and
prints the number of env steps it used, so PPO can be compared with other learners at
equal env steps.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import NDArray
from torch import nn

import portia_envs  # noqa: F401  (registers the Portia ids)
from baselines.common import agent_from_variable, load_checkpoint, model_variable, save_checkpoint
from baselines.features import FEATURE_KEYS, goal_task_features
from portia_envs.errors import PortiaError
from portia_envs.suites import SPLITS, get_suite

logger = logging.getLogger(__name__)

ENV_ID = "Portia/Arm-v0"
# gymnasium.make_vec's vectorization modes PPO accepts.
VECTORIZATIONS = ("vector_entry_point", "sync", "async")
# The Dict observation's keys, in the order they enter the feature vector.
OBSERVATION_KEYS = FEATURE_KEYS
# Normalized features are clipped to this many standard deviations.
OBS_CLIP = 10.0
# The env var naming the model ``make_agent`` loads.
MODEL_VARIABLE = model_variable("ppo")
# Episodes per task in the training curve's moving average.
CURVE_WINDOW = 20


class PPOConfigError(PortiaError, ValueError):
    """A PPO setting or training option that cannot be used."""


class PPOModelError(PortiaError, ValueError):
    """A PPO model that cannot be loaded or used: no file, not a model, wrong env."""


@dataclass(frozen=True)
class PPOConfig:
    """PPO's settings; the defaults learn smoke-v0's train tasks in 200k env steps.

    They are CleanRL's for continuous control but for four, each of which learnt faster on
    smoke-v0 in 200k steps: a larger step size (1e-3), a shorter horizon (gamma 0.97, about
    1.3 s of 40 ms periods), a smaller initial noise (std 0.3 rather than 1: the actions
    are joint position targets, and a std of 1 throws the arm about), and 8 minibatches
    of 256 rather than 32 of 64 (a third of the update's time). Rewards are scaled by 0.1
    (the arm's are minus distances in m, so returns of tens) to keep values near 1.

    Raises:
        PPOConfigError: If a value is out of its range (checked on construction).
        portia_envs.errors.UnknownSuiteError: If ``suite`` is not a known suite.
    """

    suite: str = "smoke-v0"
    """The suite whose tasks are trained on (``portia suites`` lists them)."""
    split: str = "train"
    """The suite's split to train on: ``"train"`` (or ``"heldout"``, to measure an upper bound)."""
    total_steps: int = 200_000
    """Env steps to train for, all envs together (rounded up to whole rollouts)."""
    num_envs: int = 8
    """Envs (worlds) stepped together in the vector env."""
    vectorization: str = "vector_entry_point"
    """How the envs are stepped: ``"vector_entry_point"`` (Portia's batched vector env),
    ``"sync"`` (Gymnasium's ``SyncVectorEnv``) or ``"async"`` (``AsyncVectorEnv``, a process
    per env). Every env's steps are the same in all three; only the speed differs."""
    env_threads: int | None = None
    """Threads stepping the batched vector env's physics; None for the cores available."""
    num_steps: int = 256
    """Steps per env in each rollout (one rollout, one update)."""
    epochs: int = 10
    """Passes over each rollout."""
    minibatches: int = 8
    """Minibatches per pass."""
    gamma: float = 0.97
    """Discount per control period."""
    gae_lambda: float = 0.95
    """GAE's lambda: 0 is one-step TD, 1 the Monte Carlo return."""
    clip_coef: float = 0.2
    """Clip of the probability ratio in the policy loss."""
    value_clip_coef: float | None = None
    """Clip of the value change in the value loss; None for a plain squared error."""
    ent_coef: float = 0.0
    """Weight of the entropy bonus."""
    vf_coef: float = 0.5
    """Weight of the value loss."""
    learning_rate: float = 1e-3
    """Adam's step size at the start."""
    anneal_lr: bool = True
    """Anneal the step size linearly to 0 over the run."""
    max_grad_norm: float = 0.5
    """Clip of the gradients' global norm."""
    reward_scale: float = 0.1
    """Rewards are multiplied by this for learning, so values stay near unit size."""
    init_log_std: float = -1.2
    """Initial log standard deviation of the Gaussian policy (actions are in [-1, 1])."""
    hidden_sizes: tuple[int, ...] = (64, 64)
    """Widths of the tanh hidden layers of the actor and of the critic."""
    seed: int = 0
    """Seeds torch and the envs' resets."""
    threads: int | None = None
    """Torch CPU threads for the updates (rollouts take one); None leaves torch's setting."""
    device: str = "cpu"
    """Torch device of the networks (``"cpu"``, ``"cuda"``)."""

    def __post_init__(self) -> None:
        get_suite(self.suite)  # an unknown suite fails here, with the known ones listed
        if self.split not in SPLITS:
            raise PPOConfigError(f"unknown split {self.split!r}; accepted: {', '.join(SPLITS)}")
        positive = ("total_steps", "num_envs", "num_steps", "epochs", "minibatches")
        for name in positive:
            if getattr(self, name) < 1:
                raise PPOConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.num_envs * self.num_steps < self.minibatches:
            raise PPOConfigError(
                f"a rollout of num_envs x num_steps = {self.num_envs * self.num_steps} steps "
                f"cannot make {self.minibatches} minibatches; lower minibatches"
            )
        for name in ("gamma", "gae_lambda"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise PPOConfigError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        for name in ("clip_coef", "learning_rate", "max_grad_norm", "reward_scale"):
            if not getattr(self, name) > 0:
                raise PPOConfigError(f"{name} must be > 0, got {getattr(self, name)}")
        for name in ("ent_coef", "vf_coef"):
            if not getattr(self, name) >= 0:
                raise PPOConfigError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.value_clip_coef is not None and not self.value_clip_coef > 0:
            raise PPOConfigError(f"value_clip_coef must be > 0 or None, got {self.value_clip_coef}")
        if not self.hidden_sizes or min(self.hidden_sizes) < 1:
            raise PPOConfigError(f"hidden_sizes must be widths >= 1, got {self.hidden_sizes}")
        for name in ("threads", "env_threads"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise PPOConfigError(f"{name} must be >= 1 or None, got {getattr(self, name)}")
        if self.vectorization not in VECTORIZATIONS:
            raise PPOConfigError(
                f"unknown vectorization {self.vectorization!r}; accepted: "
                f"{', '.join(VECTORIZATIONS)}"
            )

    @property
    def rollout_steps(self) -> int:
        """Env steps per rollout, all envs together."""
        return self.num_envs * self.num_steps

    @property
    def updates(self) -> int:
        """Rollouts (and updates) in the run: ``total_steps`` rounded up to whole rollouts."""
        return -(-self.total_steps // self.rollout_steps)


# --- What the policy sees ----------------------------------------------------------------


def observation_features(observation: Mapping[str, NDArray]) -> NDArray[np.float32]:
    """Return the flat feature vector the networks see, for one observation or a batch.

    ``baselines.features.goal_task_features``, the students' features, with the task
    required: ``observation``, ``desired_goal``, ``achieved_goal``, their difference (m,
    what the reward is minus the norm of) and ``task`` (the family one-hot). So the policy
    is conditioned on the goal and on the task: one policy for every task of a suite.

    Args:
        observation: A Portia ``Dict`` observation, each value of shape ``(k,)``, or a batch
            of them (a vector env's), each ``(batch, k)``.

    Returns:
        ``(F,)`` or ``(batch, F)`` float32 features.

    Raises:
        PPOModelError: If a key is missing.
    """
    missing = [key for key in OBSERVATION_KEYS if key not in observation]
    if missing:
        raise PPOModelError(
            f"the observation has no {', '.join(missing)}; PPO needs a Portia Dict "
            f"observation with keys {', '.join(OBSERVATION_KEYS)}"
        )
    return goal_task_features(observation)


def feature_size(space: spaces.Space) -> int:
    """Return the length of ``observation_features`` for observations of ``space``.

    Raises:
        PPOModelError: If ``space`` is not a ``Dict`` of flat ``Box`` es with the needed keys.
    """
    if not isinstance(space, spaces.Dict) or any(
        key not in space.spaces for key in OBSERVATION_KEYS
    ):
        raise PPOModelError(
            f"PPO needs a Dict observation space with keys {', '.join(OBSERVATION_KEYS)}, "
            f"got {space}"
        )
    sizes = {key: int(np.prod(space[key].shape)) for key in OBSERVATION_KEYS}
    return sum(sizes.values()) + sizes["desired_goal"]


class RunningNormalizer(nn.Module):
    """Running mean and variance of the features, and the normalization they make.

    ``update`` merges a batch into the running moments (Chan et al.'s parallel algorithm,
    as in Stable-Baselines3's ``RunningMeanStd``); calling the module returns
    ``clip((x - mean) / sqrt(var + 1e-8), -OBS_CLIP, OBS_CLIP)``. The moments are buffers,
    so they are saved and loaded with the model's state dict. A feature that never varied
    in training normalizes to 0 while it keeps its value.

    Args:
        size: Features per observation.
    """

    def __init__(self, size: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(size, dtype=torch.float64))
        self.register_buffer("var", torch.ones(size, dtype=torch.float64))
        # A tiny prior count, so the first batch does not divide by zero.
        self.register_buffer("count", torch.tensor(1e-4, dtype=torch.float64))

    def update(self, batch: NDArray) -> None:
        """Merge ``batch`` (``(n, size)``) into the running moments."""
        x = torch.as_tensor(batch, dtype=torch.float64, device=self.mean.device)
        n = x.shape[0]
        batch_mean, batch_var = x.mean(0), x.var(0, unbiased=False)
        total = self.count + n
        delta = batch_mean - self.mean
        m2 = self.var * self.count + batch_var * n + delta.square() * self.count * n / total
        self.mean += delta * n / total
        self.var.copy_(m2 / total)
        self.count.copy_(total)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Return ``features`` normalized and clipped, as float32."""
        z = (features.to(torch.float64) - self.mean) / torch.sqrt(self.var + 1e-8)
        return z.clamp(-OBS_CLIP, OBS_CLIP).to(torch.float32)


class ActorCritic(nn.Module):
    """A Gaussian MLP actor and an MLP critic on the normalized features.

    The actor's mean is linear in its last hidden layer; its log standard deviation is one
    learnt parameter per action dimension, independent of the state. Layers are
    orthogonally initialized (gain sqrt(2); 0.01 for the actor's mean, 1 for the value), as
    in CleanRL.

    Args:
        n_features: Length of the feature vector.
        n_actions: Action dimensions.
        hidden_sizes: Widths of the tanh hidden layers.
        init_log_std: The log standard deviation to start from.
    """

    def __init__(
        self, n_features: int, n_actions: int, hidden_sizes: Sequence[int], init_log_std: float
    ) -> None:
        super().__init__()
        self.actor_mean = _mlp(n_features, hidden_sizes, n_actions, head_gain=0.01)
        self.critic = _mlp(n_features, hidden_sizes, 1, head_gain=1.0)
        self.log_std = nn.Parameter(torch.full((n_actions,), float(init_log_std)))

    def value(self, x: torch.Tensor) -> torch.Tensor:
        """Return the state values of normalized features ``(batch, F)``, shape ``(batch,)``."""
        return self.critic(x).squeeze(-1)

    def distribution(self, x: torch.Tensor) -> torch.distributions.Normal:
        """Return the action distribution (independent Gaussians) for ``(batch, F)``."""
        mean = self.actor_mean(x)
        return torch.distributions.Normal(mean, self.log_std.exp().expand_as(mean))


def _mlp(n_in: int, hidden_sizes: Sequence[int], n_out: int, head_gain: float) -> nn.Sequential:
    """Return a tanh MLP, orthogonally initialized, its output layer with ``head_gain``."""
    layers: list[nn.Module] = []
    for width in hidden_sizes:
        layer = nn.Linear(n_in, width)
        nn.init.orthogonal_(layer.weight, np.sqrt(2))
        nn.init.zeros_(layer.bias)
        layers += [layer, nn.Tanh()]
        n_in = width
    head = nn.Linear(n_in, n_out)
    nn.init.orthogonal_(head.weight, head_gain)
    nn.init.zeros_(head.bias)
    return nn.Sequential(*layers, head)


# --- The maths: pure functions, tested on tiny inputs ------------------------------------


def compute_gae(
    rewards: NDArray,
    values: NDArray,
    terminated: NDArray,
    truncated: NDArray,
    next_values: NDArray,
    gamma: float,
    lam: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return generalized advantage estimates and value targets over a rollout.

    With ``d_t = terminated_t`` and ``e_t = terminated_t or truncated_t`` (the episode ended):

        delta_t = r_t + gamma * (1 - d_t) * next_values_t - values_t
        A_t = delta_t + gamma * lam * (1 - e_t) * A_{t+1},   A_T = 0

    so a termination does not bootstrap (the episode is over), a truncation does (from the
    value of the true final observation, in ``next_values``), and neither lets advantages
    of the next episode leak back. The last step bootstraps from ``next_values`` too.

    Args:
        rewards: ``(T, N)`` rewards of each step (N envs).
        values: ``(T, N)`` values of the observations acted on.
        terminated: ``(T, N)`` the step terminated the episode (bool or 0/1).
        truncated: ``(T, N)`` the step truncated it (the time limit).
        next_values: ``(T, N)`` values of the observations the steps led to: where an
            episode ended, of its final observation, not of the next episode's first.
        gamma: Discount.
        lam: GAE's lambda.

    Returns:
        ``(advantages, returns)``, each ``(T, N)`` float64; ``returns = advantages +
        values`` are the critic's targets.

    Raises:
        ValueError: If the arrays' shapes differ or are not 2-D.
    """
    rewards, values, next_values = (
        np.asarray(a, dtype=np.float64) for a in (rewards, values, next_values)
    )
    done, cut = np.asarray(terminated, dtype=bool), np.asarray(truncated, dtype=bool)
    if len({a.shape for a in (rewards, values, next_values, done, cut)}) != 1 or rewards.ndim != 2:
        raise PPOConfigError(
            f"compute_gae takes (T, N) arrays of one shape, got rewards {rewards.shape}, "
            f"values {values.shape}, terminated {done.shape}, truncated {cut.shape}, "
            f"next_values {next_values.shape}"
        )
    ended = done | cut
    advantages = np.zeros_like(rewards)
    carry = np.zeros(rewards.shape[1])
    for t in reversed(range(rewards.shape[0])):
        delta = rewards[t] + gamma * np.where(done[t], 0.0, next_values[t]) - values[t]
        carry = delta + gamma * lam * np.where(ended[t], 0.0, carry)
        advantages[t] = carry
    return advantages, advantages + values


def clipped_policy_loss(
    log_prob: torch.Tensor, old_log_prob: torch.Tensor, advantages: torch.Tensor, clip: float
) -> torch.Tensor:
    """Return PPO's clipped surrogate policy loss (to minimize), a scalar.

    ``-mean(min(ratio * A, clip(ratio, 1 - clip, 1 + clip) * A))`` with ``ratio =
    exp(log_prob - old_log_prob)``: the probability ratio of the new policy to the one
    that acted. Inside the clip range it is the plain policy gradient surrogate; outside,
    moving the ratio further in the direction the advantage favours earns nothing.

    Args:
        log_prob: ``(B,)`` log-probabilities of the taken actions under the current policy.
        old_log_prob: ``(B,)`` their log-probabilities when they were taken.
        advantages: ``(B,)`` advantages (normalized or not: the caller's choice).
        clip: The ratio's clip, e.g. 0.2.

    Returns:
        The loss, a 0-d tensor.
    """
    ratio = torch.exp(log_prob - old_log_prob)
    clipped = ratio.clamp(1.0 - clip, 1.0 + clip)
    return -torch.min(ratio * advantages, clipped * advantages).mean()


def clipped_value_loss(
    values: torch.Tensor,
    returns: torch.Tensor,
    old_values: torch.Tensor | None = None,
    clip: float | None = None,
) -> torch.Tensor:
    """Return the value loss, ``0.5 * mean(error ** 2)``, with PPO's value clip, a scalar.

    With a clip, the error is the larger of the new value's and that of the value moved
    from the old one by at most ``clip`` (``old + clip(values - old, -clip, clip)``), as in
    OpenAI Baselines and CleanRL; without (None), the plain squared error.

    Args:
        values: ``(B,)`` the critic's current values.
        returns: ``(B,)`` the targets (``compute_gae``'s returns).
        old_values: ``(B,)`` its values when the rollout was collected (needed with a clip).
        clip: The value change's clip, or None for none.

    Returns:
        The loss, a 0-d tensor.

    Raises:
        ValueError: If ``clip`` is given without ``old_values``.
    """
    unclipped = (values - returns).square()
    if clip is None:
        return 0.5 * unclipped.mean()
    if old_values is None:
        raise PPOConfigError("clipped_value_loss needs old_values to clip the value change")
    moved = old_values + (values - old_values).clamp(-clip, clip)
    return 0.5 * torch.max(unclipped, (moved - returns).square()).mean()


# --- The trained policy: SB3's verbs and Portia's agent contract -------------------------


@dataclass
class TrainingCurve:
    """Every finished training episode: when it ended, its task, return and success.

    Attributes:
        env_steps: Env steps taken (all envs together) when each episode ended.
        task_ids: Each episode's task.
        returns: Each episode's undiscounted return (the env's rewards, unscaled).
        successes: Each episode's ``is_success`` at its last step.
    """

    env_steps: list[int] = field(default_factory=list)
    task_ids: list[str] = field(default_factory=list)
    returns: list[float] = field(default_factory=list)
    successes: list[bool] = field(default_factory=list)

    def add(self, env_steps: int, task_id: str, episode_return: float, success: bool) -> None:
        """Record one finished episode."""
        self.env_steps.append(int(env_steps))
        self.task_ids.append(str(task_id))
        self.returns.append(float(episode_return))
        self.successes.append(bool(success))

    def recent(self, task_id: str | None = None, window: int = CURVE_WINDOW) -> float | None:
        """Return the mean return of the last ``window`` episodes (of a task), or None."""
        picked = [
            r for t, r in zip(self.task_ids, self.returns, strict=True) if task_id in (None, t)
        ]
        return float(np.mean(picked[-window:])) if picked else None

    def plot(self, path: str | Path, title: str = "PPO") -> Path:
        """Write the curve as a PNG: per task, each episode's return and a moving average.

        Args:
            path: The PNG to write (its folder is created).
            title: The plot's title.

        Returns:
            The path written.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        figure = Figure(figsize=(7, 4), layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        steps, returns = np.array(self.env_steps), np.array(self.returns)
        tasks = np.array(self.task_ids)
        for task_id in dict.fromkeys(self.task_ids):
            mine = tasks == task_id
            x, y = steps[mine], returns[mine]
            (line,) = axes.plot(x, _moving_average(y, CURVE_WINDOW), label=task_id)
            axes.scatter(x, y, s=4, alpha=0.25, color=line.get_color())
        axes.set_xlabel("env steps")
        axes.set_ylabel("episode return")
        axes.set_title(title)
        axes.grid(alpha=0.3)
        if self.task_ids:
            axes.legend(title=f"task (mean of last {CURVE_WINDOW})")
        figure.savefig(path, dpi=120)
        return path


def _moving_average(values: NDArray, window: int) -> NDArray[np.float64]:
    """Return the mean of each value and up to ``window - 1`` before it."""
    sums = np.cumsum(np.insert(np.asarray(values, dtype=np.float64), 0, 0.0))
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(ends - window, 0)
    return (sums[ends] - sums[starts]) / (ends - starts)


class PPOPolicy:
    """A trained PPO policy: acts with the Gaussian's mean on normalized features.

    Speaks Stable-Baselines3's verbs (``predict``, ``save``, ``load``) and Portia's agent
    contract (``act``, ``reset``), so ``portia bench`` plays it either way; it keeps no
    state between steps.

    Args:
        model: The actor-critic.
        normalizer: The feature normalizer it was trained with (frozen here).
        config: The config it was trained with.
        action_low: ``(A,)`` lower bounds of the action space.
        action_high: ``(A,)`` upper bounds.
        env_steps: Env steps the training used.
        train_seconds: Wall seconds the training took.
        curve: The training curve.
    """

    name = "ppo"

    def __init__(
        self,
        model: ActorCritic,
        normalizer: RunningNormalizer,
        config: PPOConfig,
        action_low: NDArray,
        action_high: NDArray,
        env_steps: int,
        train_seconds: float,
        curve: TrainingCurve,
    ) -> None:
        self.model = model.eval()
        self.normalizer = normalizer.eval()
        self.config = config
        self.action_low = np.asarray(action_low, dtype=np.float32)
        self.action_high = np.asarray(action_high, dtype=np.float32)
        self.env_steps = int(env_steps)
        self.train_seconds = float(train_seconds)
        self.curve = curve

    @property
    def n_features(self) -> int:
        """Length of the feature vector the policy takes."""
        return int(self.normalizer.mean.shape[0])

    def predict(
        self,
        observation: Mapping[str, NDArray],
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = True,
    ) -> tuple[NDArray[np.float32], None]:
        """Return actions for one observation or a batch, and no recurrent state.

        Args:
            observation: A Portia ``Dict`` observation, or a batch of them.
            state: Unused (the policy has no memory); for Stable-Baselines3's signature.
            episode_start: Unused, likewise.
            deterministic: The Gaussian's mean if True, else a sample (torch's generator).

        Returns:
            ``(action, None)``: ``(A,)`` or ``(batch, A)`` float32 actions in the action
            space's bounds.

        Raises:
            PPOModelError: If the observation does not fit the policy's features.
        """
        features = observation_features(observation)
        if features.shape[-1] != self.n_features:
            raise PPOModelError(
                f"this policy takes {self.n_features} features, the observation gives "
                f"{features.shape[-1]}: it was trained for another body (suite "
                f"{self.config.suite!r})"
            )
        device = self.normalizer.mean.device
        with torch.no_grad():
            x = self.normalizer(
                torch.as_tensor(features, device=device).reshape(-1, features.shape[-1])
            )
            distribution = self.model.distribution(x)
            action = distribution.mean if deterministic else distribution.sample()
        action = action.cpu().numpy().reshape(*features.shape[:-1], -1)
        return np.clip(action, self.action_low, self.action_high).astype(np.float32), None

    def act(self, observation: Mapping[str, NDArray]) -> NDArray[np.float32]:
        """Return the deterministic action for one observation (Portia's agent contract)."""
        return self.predict(observation, deterministic=True)[0]

    def reset(self) -> None:
        """Start an episode; the policy keeps no state, so there is nothing to forget."""

    def save(self, path: str | Path) -> Path:
        """Save weights, normalizer, config, env steps and curve to ``path``.

        The file is a ``ppo`` checkpoint (``baselines.common``): tensors and plain values
        only, read back with ``torch.load(weights_only=True)``.

        Returns:
            The path written (its folder is created).
        """
        content = {
            "config": dataclasses.asdict(self.config),
            "model": self.model.state_dict(),
            "normalizer": self.normalizer.state_dict(),
            "action_low": self.action_low.tolist(),
            "action_high": self.action_high.tolist(),
            "env_steps": self.env_steps,
            "train_seconds": self.train_seconds,
            "curve": dataclasses.asdict(self.curve),
        }
        return save_checkpoint(path, "ppo", content)

    def check_env(self, env: gymnasium.Env, source: str) -> None:
        """Check that the policy can act in ``env``: its features and its action space.

        Args:
            env: The env it will act in.
            source: How messages name the model (its file).

        Raises:
            PPOModelError: If the env's observations give another number of features, or
                its action space is another ``Box``.
        """
        size = feature_size(env.observation_space)
        if size != self.n_features:
            raise PPOModelError(
                f"{source} takes {self.n_features} features, this env's observations give "
                f"{size}: the model was trained on suite {self.config.suite!r}, for another body"
            )
        space = env.action_space
        if not isinstance(space, spaces.Box) or space.shape != self.action_low.shape:
            raise PPOModelError(
                f"{source} acts in Box{self.action_low.shape}, this env's action space is {space}"
            )

    @classmethod
    def load(cls, path: str | Path, device: str | None = None) -> PPOPolicy:
        """Load a policy saved by ``save``.

        Args:
            path: The model file.
            device: Where to put the networks; None for the config's device.

        Returns:
            The policy.

        Raises:
            PPOModelError: If the file is missing or is not a ``ppo`` checkpoint of a
                version this Portia reads.
        """
        checkpoint = load_checkpoint(path, "ppo", PPOModelError)
        try:
            options = dict(checkpoint["config"])
            options["hidden_sizes"] = tuple(options["hidden_sizes"])
            config = PPOConfig(**options)
            state = checkpoint["model"]
            n_features = state["critic.0.weight"].shape[1]
            model = ActorCritic(
                n_features, len(checkpoint["action_low"]), config.hidden_sizes, config.init_log_std
            )
            model.load_state_dict(state)
            normalizer = RunningNormalizer(n_features)
            normalizer.load_state_dict(checkpoint["normalizer"])
            curve = TrainingCurve(**checkpoint["curve"])
        except (KeyError, TypeError, RuntimeError, PPOConfigError) as error:
            raise PPOModelError(f"{path} is a damaged PPO model: {error}") from error
        device = config.device if device is None else device
        return cls(
            model.to(device),
            normalizer.to(device),
            config,
            np.array(checkpoint["action_low"]),
            np.array(checkpoint["action_high"]),
            checkpoint["env_steps"],
            checkpoint["train_seconds"],
            curve,
        )


# --- Training ----------------------------------------------------------------------------


def make_envs(config: PPOConfig) -> VectorEnv:
    """Return the training envs: ``num_envs`` of ``Portia/Arm-v0`` on the suite's split.

    Autoreset is ``SAME_STEP``, so the final observation of an episode is in
    ``info["final_obs"]`` (see the module docstring).
    """
    kwargs: dict[str, Any] = {"suite": config.suite, "split": config.split}
    if config.vectorization == "vector_entry_point":
        kwargs |= {"autoreset_mode": AutoresetMode.SAME_STEP, "nthread": config.env_threads}
    else:
        kwargs["vector_kwargs"] = {"autoreset_mode": AutoresetMode.SAME_STEP}
    return gymnasium.make_vec(
        ENV_ID, num_envs=config.num_envs, vectorization_mode=config.vectorization, **kwargs
    )


def final_features(
    next_observation: Mapping[str, NDArray], info: Mapping[str, Any], ended: NDArray[np.bool_]
) -> NDArray[np.float32]:
    """Return the features of the observation each env's step led to, for bootstrapping.

    Under ``SAME_STEP`` autoreset, an env whose episode just ended returned the next
    episode's first observation; the one its step led to is ``info["final_obs"]``.

    Args:
        next_observation: The batch of observations ``step`` returned.
        info: ``step``'s info.
        ended: ``(N,)`` the step ended the env's episode (terminated or truncated).

    Returns:
        ``(N, F)`` features: of the final observation where ``ended``, else of the next.
    """
    features = observation_features(next_observation)
    for i in np.flatnonzero(ended):
        features[i] = observation_features(info["final_obs"][i])
    return features


def train(
    config: PPOConfig,
    *,
    on_progress: Callable[[int, int, dict[str, float]], None] | None = None,
    checkpoints: Mapping[int, str | Path] | None = None,
) -> PPOPolicy:
    """Train a policy with PPO on the suite's split; see the module docstring.

    Args:
        config: The settings.
        on_progress: Called after each update as ``on_progress(env steps so far, total env
            steps, metrics)``, the metrics being the update's ``policy_loss`` and
            ``value_loss`` and the mean ``episode_return`` of the recent episodes of every
            task (``portia train ppo`` shows the bar and draws the curve from it).
        checkpoints: Env step counts and model paths: after the first update at which
            training has taken at least that many env steps, the policy as it is then is
            saved there (``PPOPolicy.save``), to score one run at several budgets. Counts
            above the run's total are never reached.

    Returns:
        The trained policy, with the env steps used and the training curve.

    Raises:
        PPOConfigError: If a checkpoint's env step count is below 1.
    """
    pending = sorted((checkpoints or {}).items())
    if pending and pending[0][0] < 1:
        raise PPOConfigError(f"checkpoint env steps must be >= 1, got {pending[0][0]}")
    # Seeding first: torch (weights, sampling, minibatch order) and the envs' resets.
    torch.manual_seed(config.seed)
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    update_threads = torch.get_num_threads()
    device = torch.device(config.device)
    envs = make_envs(config)
    observation, _ = envs.reset(seed=config.seed)
    features = observation_features(observation)
    n_envs, n_features = features.shape
    low, high = envs.single_action_space.low, envs.single_action_space.high
    n_actions = low.shape[0]

    model = ActorCritic(n_features, n_actions, config.hidden_sizes, config.init_log_std).to(device)
    normalizer = RunningNormalizer(n_features).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate, eps=1e-5)

    # The rollout's buffers, (steps, envs, ...).
    shape = (config.num_steps, n_envs)
    obs_buf = np.zeros((*shape, n_features), dtype=np.float32)  # normalized, as acted on
    next_obs_buf = np.zeros((*shape, n_features), dtype=np.float32)  # normalized, for bootstrap
    act_buf = np.zeros((*shape, n_actions), dtype=np.float32)  # as sampled, before the clip
    logp_buf, value_buf = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
    reward_buf = np.zeros(shape)
    term_buf, trunc_buf = np.zeros(shape, bool), np.zeros(shape, bool)

    curve = TrainingCurve()
    episode_returns = np.zeros(n_envs)
    env_steps = 0
    updates = config.updates
    batch_size = config.rollout_steps
    minibatch_size = batch_size // config.minibatches
    started = time.perf_counter()
    for update in range(updates):
        if config.anneal_lr:
            for group in optimizer.param_groups:
                group["lr"] = config.learning_rate * (1.0 - update / updates)

        # Collect a rollout with the current policy. Its forward passes are small and take
        # one torch thread: torch's idle threads spin-wait, and would take the cores from
        # the vector env's physics threads (the actions are the same with any thread count).
        torch.set_num_threads(1)
        for t in range(config.num_steps):
            normalizer.update(features)
            with torch.no_grad():
                x = normalizer(torch.as_tensor(features, device=device))
                distribution = model.distribution(x)
                action = distribution.sample()
                logp_buf[t] = distribution.log_prob(action).sum(-1).cpu().numpy()
                value_buf[t] = model.value(x).cpu().numpy()
            obs_buf[t], act_buf[t] = x.cpu().numpy(), action.cpu().numpy()
            # The env gets the action in its bounds; the loss sees the action sampled.
            observation, reward, terminated, truncated, info = envs.step(
                np.clip(act_buf[t], low, high)
            )
            ended = terminated | truncated
            reward_buf[t], term_buf[t], trunc_buf[t] = reward, terminated, truncated
            bootstrap = final_features(observation, info, ended)
            with torch.no_grad():
                next_obs_buf[t] = normalizer(torch.as_tensor(bootstrap, device=device)).cpu()
            env_steps += n_envs
            episode_returns += reward
            for i in np.flatnonzero(ended):
                final = info["final_info"]
                curve.add(
                    env_steps, final["task_id"][i], episode_returns[i], final["is_success"][i]
                )
                episode_returns[i] = 0.0
            features = observation_features(observation)

        torch.set_num_threads(update_threads)
        # Advantages: termination does not bootstrap, truncation does.
        with torch.no_grad():
            flat_next = torch.as_tensor(next_obs_buf.reshape(-1, n_features), device=device)
            next_values = model.value(flat_next).cpu().numpy().reshape(shape)
        advantages, returns = compute_gae(
            config.reward_scale * reward_buf,
            value_buf,
            term_buf,
            trunc_buf,
            next_values,
            config.gamma,
            config.gae_lambda,
        )

        # Learn from it: epochs of shuffled minibatches.
        b_obs = torch.as_tensor(obs_buf.reshape(batch_size, n_features), device=device)
        b_act = torch.as_tensor(act_buf.reshape(batch_size, n_actions), device=device)
        b_logp = torch.as_tensor(logp_buf.reshape(-1), device=device)
        b_values = torch.as_tensor(value_buf.reshape(-1), device=device)
        b_adv = torch.as_tensor(advantages.reshape(-1), dtype=torch.float32, device=device)
        b_ret = torch.as_tensor(returns.reshape(-1), dtype=torch.float32, device=device)
        for _ in range(config.epochs):
            order = torch.randperm(batch_size, device=device)
            for start in range(0, minibatch_size * config.minibatches, minibatch_size):
                idx = order[start : start + minibatch_size]
                distribution = model.distribution(b_obs[idx])
                log_prob = distribution.log_prob(b_act[idx]).sum(-1)
                adv = b_adv[idx]
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                policy_loss = clipped_policy_loss(log_prob, b_logp[idx], adv, config.clip_coef)
                value_loss = clipped_value_loss(
                    model.value(b_obs[idx]), b_ret[idx], b_values[idx], config.value_clip_coef
                )
                entropy = distribution.entropy().sum(-1).mean()
                loss = policy_loss + config.vf_coef * value_loss - config.ent_coef * entropy
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
                optimizer.step()

        while pending and pending[0][0] <= env_steps:
            snapshot = PPOPolicy(
                copy.deepcopy(model),
                copy.deepcopy(normalizer),
                config,
                low,
                high,
                env_steps,
                time.perf_counter() - started,
                copy.deepcopy(curve),
            )
            snapshot.save(pending.pop(0)[1])

        recent = {task_id: curve.recent(task_id) for task_id in dict.fromkeys(curve.task_ids)}
        shown = "  ".join(f"{t} {r:.1f}" for t, r in recent.items() if r is not None)
        if on_progress is not None:
            done = [r for r in recent.values() if r is not None]
            metrics = {"policy_loss": policy_loss.item(), "value_loss": value_loss.item()}
            if done:
                metrics["episode_return"] = float(np.mean(done))
            on_progress(env_steps, updates * batch_size, metrics)
        logger.info(
            "update %d/%d  env steps %d  policy loss %.4f  value loss %.4f  std %.3f  %s",
            update + 1,
            updates,
            env_steps,
            policy_loss.item(),
            value_loss.item(),
            model.log_std.exp().mean().item(),
            shown,
        )
    envs.close()
    seconds = time.perf_counter() - started
    return PPOPolicy(model, normalizer, config, low, high, env_steps, seconds, curve)


def summary(policy: PPOPolicy) -> str:
    """Return a one-paragraph account of a training run: env steps, time, final returns."""
    seconds = policy.train_seconds
    rate = policy.env_steps / seconds if seconds > 0 else float("nan")
    lines = [
        f"PPO on {policy.config.suite} ({policy.config.split}): {policy.env_steps:,} env steps "
        f"in {seconds:.0f} s ({rate:,.0f} steps/s), {len(policy.curve.returns)} episodes"
    ]
    for task_id in dict.fromkeys(policy.curve.task_ids):
        mine = [
            s
            for t, s in zip(policy.curve.task_ids, policy.curve.successes, strict=True)
            if t == task_id
        ]
        lines.append(
            f"  {task_id}: mean return of the last {CURVE_WINDOW} episodes "
            f"{policy.curve.recent(task_id):.2f}, success {np.mean(mine[-CURVE_WINDOW:]):.0%}"
        )
    return "\n".join(lines)


# --- Entry points: the harness and `portia train` -------------------------------------


# ``portia train ppo``: the config its options come from, and the unit of its progress.
TRAIN_CONFIG = PPOConfig
PROGRESS_UNIT = "env step"


def load_agent(path: str | Path, env: gymnasium.Env) -> PPOPolicy:
    """Return the PPO policy saved at ``path``, checked against ``env`` (the ``ppo`` loader)."""
    policy = PPOPolicy.load(path, device="cpu")
    policy.check_env(env, str(path))
    return policy


# ``--agent baselines.ppo:make_agent``: the model at ``$PORTIA_PPO_MODEL``.
make_agent = agent_from_variable("ppo", load_agent, PPOModelError, "")
