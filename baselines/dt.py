"""Decision Transformer: actions predicted from return-to-go, states and past actions.

Chen et al., 2021, "Decision Transformer: Reinforcement Learning via Sequence Modeling".
An episode is a sequence of steps ``(R_t, s_t, a_t)``: the return-to-go ``R_t`` (the sum of
the rewards from step ``t`` to the end), the state and the action. The last ``K`` steps
(``context``) become ``3K`` tokens, interleaved ``R_0, s_0, a_0, R_1, s_1, a_1, ...``; each
token is a linear embedding of its value plus a learned embedding of its step's timestep
(the step's index in the episode). A small GPT (pre-norm blocks of causal self-attention
and an MLP) reads them; the action ``a_t`` is predicted from the output at ``s_t``'s token,
which sees every return, state and action before it and ``R_t`` and ``s_t``, never ``a_t``
or anything later (``causal_mask``). The loss is the mean squared error of the predicted
actions. Training windows end at a step drawn uniformly from the dataset's steps, so the
window's last position sees exactly what the policy sees at that step; windows that start
before the episode are padded on the left, and padding is masked from attention.

The state is the arm env's ``Dict`` observation flattened: ``observation`` (55,),
``achieved_goal`` (3,), ``desired_goal`` (3,) and the ``task`` one-hot (6,), so the policy
is conditioned on the goal and on the task family. The continuous parts are normalized by
the dataset's mean and standard deviation, kept in the model (the one-hot is left as it
is); the return-to-go is divided by ``return_scale``.

At evaluation the policy is given a target return at the start of an episode and lowers it
by each step's reward. By default the target is a quantile (``target_quantile``; 1.0 is the
best) of the returns of the dataset's episodes of the observed task family (episodes of
different families have returns of different sizes), or of all episodes for a family the
dataset does not hold; ``target_return`` fixes it instead. The agent contract gives the
policy observations only, so the reward of the last action is the one passed to
``observe_reward`` if it was called, else estimated from the new observation as
``estimate_reward``: minus the distance from ``achieved_goal`` to ``desired_goal``, the arm
env's ``reward_distance``. The estimate omits ``reward_approach`` (minus 0.5 times the
grip-to-block distance; 0 for reach), so it is exact for reach and, for the families that
handle a block or the drawer, lowers the return-to-go by less than the env's reward would.

Train with ``portia train dt --dataset DIR --out MODEL.pt``, which also writes the training
curve to ``MODEL-curve.png``; score with
``PORTIA_DT_MODEL=MODEL.pt portia bench --agent baselines.dt:make_agent ...``.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray
from torch import nn

from baselines.common import agent_from_variable, load_checkpoint, model_variable, save_checkpoint
from portia_envs.errors import PortiaError

logger = logging.getLogger(__name__)
# ``portia train dt``: the config its options come from, and the unit of its progress.
PROGRESS_UNIT = "gradient step"

# The environment variable ``make_agent`` reads the model's path from.
MODEL_VARIABLE = model_variable("dt")
# The observation keys a state is made of, in order; ``TASK_KEY``'s part is a one-hot.
STATE_KEYS = ("observation", "achieved_goal", "desired_goal", "task")
TASK_KEY = "task"
# Normalized state values are clipped to +-STATE_CLIP, so that a held-out task's states far
# outside the training data cannot dominate the embedding.
STATE_CLIP = 10.0
# A state dimension whose standard deviation in the dataset is below this is only centred.
MIN_STD = 1e-6


class DTError(PortiaError, ValueError):
    """A Decision Transformer setting, model file or observation that cannot be used."""


@dataclass
class DTConfig:
    """Settings of a Decision Transformer and its training run.

    Raises:
        DTError: If a value is out of its range (checked on construction).
    """

    dataset: str = ""
    """A Portia dataset: the ``--out`` of ``portia collect``, or a dataset's directory."""
    context: int = 20
    """Context length K: the steps the transformer sees, each three tokens (>= 1)."""
    embed_dim: int = 64
    """Size of every token's embedding (a multiple of ``n_heads``); the paper's is 128."""
    n_layers: int = 2
    """Transformer blocks (>= 1); the paper's 3."""
    n_heads: int = 2
    """Attention heads per block (>= 1); the paper's 1."""
    dropout: float = 0.1
    """Dropout after the embeddings, in attention and after each block, in [0, 1)."""
    learning_rate: float = 1e-3
    """AdamW's peak learning rate (> 0)."""
    weight_decay: float = 1e-4
    """AdamW's weight decay (>= 0)."""
    warmup_steps: int = 100
    """Steps over which the learning rate rises linearly from 0; a cosine decay to 0 follows."""
    grad_clip: float = 0.25
    """Gradients are clipped to this global norm (> 0)."""
    batch_size: int = 64
    """Windows of ``context`` steps per gradient step (>= 1)."""
    steps: int = 2000
    """Gradient steps (>= 1)."""
    seed: int = 0
    """Seeds torch and the window sampler: the same config and dataset give the same model."""
    target_quantile: float = 1.0
    """The target return is this quantile of the dataset's episode returns of the observed
    task family, in [0, 1]: 1.0 is the best episode's return, 0.5 the median."""
    target_return: float | None = None
    """A fixed target return for every episode instead (the env's units); None: the quantile."""
    return_scale: float = 10.0
    """Returns-to-go are divided by this before they are embedded (> 0)."""
    device: str = "cpu"
    """The torch device to train on; the saved model loads onto the CPU unless told."""
    log_every: int = 100
    """Steps between progress reports, each the mean loss over those steps (>= 1)."""

    def __post_init__(self) -> None:
        for name, minimum in (
            ("context", 1),
            ("embed_dim", 1),
            ("n_layers", 1),
            ("n_heads", 1),
            ("warmup_steps", 0),
            ("batch_size", 1),
            ("steps", 1),
            ("log_every", 1),
        ):
            value = getattr(self, name)
            if not _is_integer(value) or value < minimum:
                raise DTError(f"{name} must be an integer >= {minimum}, got {value!r}")
        if not _is_integer(self.seed):
            raise DTError(f"seed must be an integer, got {self.seed!r}")
        if self.embed_dim % self.n_heads:
            raise DTError(
                f"embed_dim ({self.embed_dim}) must be a multiple of n_heads ({self.n_heads})"
            )
        for name, accepts, accepted in (
            ("dropout", lambda v: 0 <= v < 1, "in [0, 1)"),
            ("learning_rate", lambda v: v > 0, "> 0"),
            ("weight_decay", lambda v: v >= 0, ">= 0"),
            ("grad_clip", lambda v: v > 0, "> 0"),
            ("target_quantile", lambda v: 0 <= v <= 1, "in [0, 1]"),
            ("return_scale", lambda v: v > 0, "> 0"),
        ):
            value = getattr(self, name)
            if not _is_real(value) or not accepts(value):
                raise DTError(f"{name} must be a finite number {accepted}, got {value!r}")
        if self.target_return is not None and not _is_real(self.target_return):
            raise DTError(
                f"target_return must be a finite number or None, got {self.target_return!r}"
            )


# --- The maths --------------------------------------------------------------------------


def returns_to_go(rewards: NDArray) -> NDArray[np.float64]:
    """Return the undiscounted return-to-go of each step: ``R_t = r_t + r_{t+1} + ... + r_{T-1}``.

    Args:
        rewards: One episode's rewards, shape ``(T,)``.

    Returns:
        Shape ``(T,)`` float64; ``R_0`` is the episode's return and ``R_{T-1} = r_{T-1}``.

    Raises:
        DTError: If ``rewards`` is not one-dimensional or holds a NaN or infinity.
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    if rewards.ndim != 1:
        raise DTError(f"rewards must have shape (T,), got {rewards.shape}")
    if not np.all(np.isfinite(rewards)):
        raise DTError("rewards must be finite")
    return np.cumsum(rewards[::-1])[::-1].copy()


def causal_mask(n: int) -> torch.Tensor:
    """Return which tokens each token may attend to, when no token may see a later one.

    Args:
        n: The number of tokens.

    Returns:
        Shape ``(n, n)`` bool: entry ``[i, j]`` (query ``i``, key ``j``) is True iff ``j <= i``.
    """
    return torch.ones(n, n, dtype=torch.bool).tril()


def attention_mask(valid: torch.Tensor) -> torch.Tensor:
    """Return the attention mask of interleaved ``(R, s, a)`` tokens over left-padded windows.

    A token may attend to a key that is not later (``causal_mask``) and not padding. A
    padding token, whose output is never used, attends to itself only, so that no row of
    the mask is empty (an empty row would make the softmax NaN).

    Args:
        valid: Shape ``(B, K)`` bool: which steps of each window are real, not padding.

    Returns:
        Shape ``(B, 1, 3K, 3K)`` bool, True where attention is allowed (as
        ``torch.nn.functional.scaled_dot_product_attention`` takes it).
    """
    tokens = valid.repeat_interleave(3, dim=1)  # (B, 3K): each step's R, s and a
    n = tokens.shape[1]
    allowed = causal_mask(n).to(valid.device) & tokens[:, None, :]
    position = torch.arange(n, device=valid.device)
    allowed = allowed | (position[:, None] == position[None, :])  # each token sees itself
    return allowed[:, None]


def action_loss(predicted: torch.Tensor, target: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Return the mean squared error of the predicted actions over the real steps.

    Args:
        predicted: Shape ``(B, K, A)``.
        target: Shape ``(B, K, A)``.
        valid: Shape ``(B, K)`` bool; padding steps do not count.

    Returns:
        A scalar: the mean over real steps and action dimensions of the squared error.
    """
    squared = (predicted - target).pow(2).mean(dim=-1)  # (B, K)
    return squared[valid].mean()


def estimate_reward(observation: Mapping[str, Any]) -> float:
    """Return the arm env's ``reward_distance`` for an observation (see the module docstring).

    Args:
        observation: The arm env's ``Dict`` observation after a step.

    Returns:
        Minus the distance (m) from ``achieved_goal`` to ``desired_goal``.
    """
    achieved = np.asarray(observation["achieved_goal"], dtype=np.float64)
    desired = np.asarray(observation["desired_goal"], dtype=np.float64)
    return -float(np.linalg.norm(achieved - desired))


# --- The model --------------------------------------------------------------------------


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention under a boolean mask, as in GPT-2."""

    def __init__(self, embed_dim: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.qkv = nn.Linear(embed_dim, 3 * embed_dim)
        self.proj = nn.Linear(embed_dim, embed_dim)
        self.dropout = dropout
        self.proj_drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Attend over ``x`` (``(B, L, D)``) where ``mask`` (``(B, 1, L, L)`` bool) allows."""
        batch, length, dim = x.shape
        q, k, v = self.qkv(x).split(dim, dim=2)
        q, k, v = (
            t.view(batch, length, self.n_heads, dim // self.n_heads).transpose(1, 2)
            for t in (q, k, v)
        )
        dropout = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout)
        y = y.transpose(1, 2).reshape(batch, length, dim)
        return self.proj_drop(self.proj(y))


class Block(nn.Module):
    """A pre-norm transformer block: masked self-attention, then an MLP, each residual."""

    def __init__(self, embed_dim: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(embed_dim)
        self.attention = CausalSelfAttention(embed_dim, n_heads, dropout)
        self.ln_2 = nn.LayerNorm(embed_dim)
        self.mlp = nn.Sequential(
            nn.Linear(embed_dim, 4 * embed_dim),
            nn.GELU(),
            nn.Linear(4 * embed_dim, embed_dim),
            nn.Dropout(dropout),
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Return the block's output for tokens ``x`` (``(B, L, D)``)."""
        x = x + self.attention(self.ln_1(x), mask)
        return x + self.mlp(self.ln_2(x))


class DecisionTransformer(nn.Module):
    """The transformer over ``(R, s, a)`` tokens; it normalizes its inputs itself.

    Args:
        state_dim: Size of a state (``encode_state``).
        action_dim: Size of an action.
        max_timestep: Timesteps ``0 .. max_timestep - 1`` have embeddings; later ones use
            the last.
        embed_dim: Size of every token's embedding.
        n_layers: Transformer blocks.
        n_heads: Attention heads per block.
        dropout: Dropout rate.
        return_scale: Returns-to-go are divided by this before they are embedded.
    """

    def __init__(
        self,
        *,
        state_dim: int,
        action_dim: int,
        max_timestep: int,
        embed_dim: int,
        n_layers: int,
        n_heads: int,
        dropout: float,
        return_scale: float,
    ) -> None:
        super().__init__()
        self.max_timestep = max_timestep
        self.return_scale = return_scale
        # The dataset's state statistics, saved with the weights (``set_normalizer``).
        self.register_buffer("state_mean", torch.zeros(state_dim))
        self.register_buffer("state_std", torch.ones(state_dim))
        self.embed_timestep = nn.Embedding(max_timestep, embed_dim)
        self.embed_return = nn.Linear(1, embed_dim)
        self.embed_state = nn.Linear(state_dim, embed_dim)
        self.embed_action = nn.Linear(action_dim, embed_dim)
        self.embed_ln = nn.LayerNorm(embed_dim)
        self.embed_drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(embed_dim, n_heads, dropout) for _ in range(n_layers))
        self.ln_f = nn.LayerNorm(embed_dim)
        self.predict_action = nn.Sequential(nn.Linear(embed_dim, action_dim), nn.Tanh())

    def set_normalizer(self, mean: NDArray, std: NDArray) -> None:
        """Store the state statistics: states become ``(state - mean) / std``, clipped."""
        self.state_mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.state_std.copy_(torch.as_tensor(std, dtype=torch.float32))

    def forward(
        self,
        returns_to_go: torch.Tensor,
        states: torch.Tensor,
        actions: torch.Tensor,
        timesteps: torch.Tensor,
        valid: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Predict each step's action from the tokens up to and including its state.

        Args:
            returns_to_go: Shape ``(B, K)``, in the env's reward units.
            states: Shape ``(B, K, state_dim)``, unnormalized.
            actions: Shape ``(B, K, action_dim)``; the last step's is not looked at for
                the last prediction (nor any later step's for an earlier one).
            timesteps: Shape ``(B, K)`` int64, each step's index in its episode.
            valid: Shape ``(B, K)`` bool, which steps are real (padding is on the left);
                None: all.

        Returns:
            The predicted actions, shape ``(B, K, action_dim)``, in [-1, 1].
        """
        batch, context = timesteps.shape
        if valid is None:
            valid = torch.ones(batch, context, dtype=torch.bool, device=timesteps.device)
        states = ((states - self.state_mean) / self.state_std).clamp(-STATE_CLIP, STATE_CLIP)
        time = self.embed_timestep(timesteps.clamp(0, self.max_timestep - 1))
        tokens = torch.stack(
            (
                self.embed_return(returns_to_go[..., None] / self.return_scale) + time,
                self.embed_state(states) + time,
                self.embed_action(actions) + time,
            ),
            dim=2,
        ).reshape(batch, 3 * context, -1)  # R_0, s_0, a_0, R_1, ...
        x = self.embed_drop(self.embed_ln(tokens))
        mask = attention_mask(valid)
        for block in self.blocks:
            x = block(x, mask)
        x = self.ln_f(x).reshape(batch, context, 3, -1)
        return self.predict_action(x[:, :, 1])  # from each state's token


# --- The data ---------------------------------------------------------------------------


def encode_state(observation: Mapping[str, Any]) -> NDArray[np.float32]:
    """Return an observation (or a stack of them) as one state vector: ``STATE_KEYS`` joined.

    Args:
        observation: The arm env's ``Dict`` observation, or a dict of arrays ``(T, ...)``.

    Returns:
        Shape ``(67,)`` for the six-joint arm (``(..., 67)`` for a stack), float32.

    Raises:
        DTError: If a key is missing.
    """
    missing = [key for key in STATE_KEYS if key not in observation]
    if missing:
        raise DTError(
            f"the observation has no {', '.join(missing)}; the Decision Transformer takes the "
            f"arm env's Dict observation with keys {', '.join(STATE_KEYS)}"
        )
    parts = [np.asarray(observation[key], dtype=np.float32) for key in STATE_KEYS]
    return np.concatenate(parts, axis=-1)


def task_slice(observation: Mapping[str, Any]) -> slice:
    """Return where the ``task`` one-hot lies in the state ``encode_state`` makes."""
    start = sum(np.shape(observation[key])[-1] for key in STATE_KEYS[: STATE_KEYS.index(TASK_KEY)])
    return slice(start, start + np.shape(observation[TASK_KEY])[-1])


@dataclass
class Trajectories:
    """A dataset's episodes as padded arrays, ready for sampling windows.

    ``N`` episodes, ``T`` the longest one's steps; steps beyond an episode's length are 0.

    Attributes:
        states: ``(N, T, state_dim)`` float32, each step's state before its action.
        actions: ``(N, T, action_dim)`` float32.
        returns_to_go: ``(N, T)`` float32.
        lengths: ``(N,)`` int64, each episode's steps.
        returns: ``(N,)`` float64, each episode's return.
        families: ``(N,)`` int64, each episode's task family (its ``task`` one-hot's index).
        task_slice: Where the one-hot lies in a state.
    """

    states: NDArray[np.float32]
    actions: NDArray[np.float32]
    returns_to_go: NDArray[np.float32]
    lengths: NDArray[np.int64]
    returns: NDArray[np.float64]
    families: NDArray[np.int64]
    task_slice: slice

    @property
    def max_length(self) -> int:
        """The longest episode's steps, ``T``."""
        return self.states.shape[1]


def load_trajectories(path: Path | str) -> Trajectories:
    """Read a Portia dataset's episodes (``portia_envs.datasets.load_dataset``).

    Raises:
        portia_envs.datasets.DatasetError: If ``path`` holds no single Portia dataset.
        DTError: If its observations are not the arm env's ``Dict`` or it has no episodes.
    """
    from portia_envs.datasets import load_dataset

    dataset = load_dataset(path)
    episodes = list(dataset.iterate_episodes())
    if not episodes:
        raise DTError(f"the dataset at {path} has no episodes")
    if not isinstance(episodes[0].observations, Mapping):
        raise DTError(f"the dataset at {path} does not hold Dict observations")
    n, longest = len(episodes), max(len(episode.rewards) for episode in episodes)
    first = encode_state(episodes[0].observations)
    action_dim = int(np.prod(episodes[0].actions.shape[1:]))
    states = np.zeros((n, longest, first.shape[-1]), np.float32)
    actions = np.zeros((n, longest, action_dim), np.float32)
    rtg = np.zeros((n, longest), np.float32)
    lengths = np.zeros(n, np.int64)
    returns = np.zeros(n, np.float64)
    families = np.zeros(n, np.int64)
    for i, episode in enumerate(episodes):
        length = len(episode.rewards)
        states[i, :length] = encode_state(episode.observations)[:length]  # drop the last
        actions[i, :length] = episode.actions.reshape(length, action_dim)
        rtg[i, :length] = returns_to_go(episode.rewards)
        lengths[i] = length
        returns[i] = float(np.sum(episode.rewards))
        families[i] = int(np.argmax(episode.observations[TASK_KEY][0]))
    return Trajectories(
        states, actions, rtg, lengths, returns, families, task_slice(episodes[0].observations)
    )


def state_statistics(data: Trajectories) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Return the mean and standard deviation of the dataset's states, per dimension.

    The task one-hot keeps mean 0 and std 1; a dimension that (nearly) never changes gets
    std 1, so it is only centred.
    """
    real = np.arange(data.max_length)[None, :] < data.lengths[:, None]
    states = data.states[real].astype(np.float64)
    mean, std = states.mean(axis=0), states.std(axis=0)
    std[std < MIN_STD] = 1.0
    mean[data.task_slice], std[data.task_slice] = 0.0, 1.0
    return mean.astype(np.float32), std.astype(np.float32)


def target_returns(
    data: Trajectories, quantile: float, n_families: int
) -> tuple[list[float | None], float]:
    """Return the target return of each task family and of all episodes together.

    Args:
        data: The dataset's episodes.
        quantile: Which quantile of the episode returns, in [0, 1].
        n_families: The length of the task one-hot.

    Returns:
        A list with each family's quantile (None for a family with no episode), and the
        quantile over all episodes.
    """
    per_family: list[float | None] = [
        float(np.quantile(data.returns[data.families == f], quantile))
        if np.any(data.families == f)
        else None
        for f in range(n_families)
    ]
    return per_family, float(np.quantile(data.returns, quantile))


@dataclass
class Batch:
    """Windows of ``K`` steps, left-padded: the model's inputs and the actions to predict.

    Attributes:
        returns_to_go: ``(B, K)``.
        states: ``(B, K, state_dim)``.
        actions: ``(B, K, action_dim)``.
        timesteps: ``(B, K)`` int64.
        valid: ``(B, K)`` bool, False for padding.
    """

    returns_to_go: torch.Tensor
    states: torch.Tensor
    actions: torch.Tensor
    timesteps: torch.Tensor
    valid: torch.Tensor


def sample_batch(
    data: Trajectories, batch_size: int, context: int, rng: np.random.Generator, device: str = "cpu"
) -> Batch:
    """Draw windows that end at steps drawn uniformly from all of the dataset's steps.

    A window ending at step ``t`` of an episode holds steps ``t - K + 1 .. t``; those before
    the episode's first step are padding (zeros, ``valid`` False), on the left.

    Args:
        data: The dataset's episodes.
        batch_size: Windows to draw, ``B``.
        context: Steps per window, ``K``.
        rng: The generator that draws them.
        device: The torch device of the tensors.
    """
    flat = rng.integers(0, int(data.lengths.sum()), size=batch_size)
    ends = np.cumsum(data.lengths)
    episode = np.searchsorted(ends, flat, side="right")
    last = flat - (ends[episode] - data.lengths[episode])  # the window's last step
    steps = last[:, None] - np.arange(context - 1, -1, -1)[None, :]  # (B, K)
    valid = steps >= 0
    steps = np.where(valid, steps, 0)
    rows = episode[:, None]

    def take(array: NDArray) -> torch.Tensor:
        values = array[rows, steps]
        values[~valid] = 0
        return torch.as_tensor(values, device=device)

    return Batch(
        returns_to_go=take(data.returns_to_go),
        states=take(data.states),
        actions=take(data.actions),
        timesteps=torch.as_tensor(steps, dtype=torch.int64, device=device),
        valid=torch.as_tensor(valid, device=device),
    )


# --- Training ---------------------------------------------------------------------------


def learning_rate_factor(step: int, warmup_steps: int, total_steps: int) -> float:
    """Return the learning rate's share of its peak at ``step`` (from 0): warmup, then cosine."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def train(
    config: DTConfig,
    *,
    on_progress: Callable[[int, int, dict[str, float]], None] | None = None,
) -> DTPolicy:
    """Train a Decision Transformer on ``config.dataset`` and return it as a policy.

    Args:
        config: The settings.
        on_progress: Called every ``config.log_every`` steps (and at the last) as
            ``on_progress(step, config.steps, {"train_loss": mean loss since the last call})``
            (``portia train dt`` draws the curve from it).

    Returns:
        The trained policy, in eval mode.

    Raises:
        portia_envs.datasets.DatasetError: If ``config.dataset`` holds no Portia dataset.
        DTError: If it holds no arm-env episodes.
    """
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    data = load_trajectories(config.dataset)
    n_families = data.task_slice.stop - data.task_slice.start
    per_family, overall = target_returns(data, config.target_quantile, n_families)
    model = DecisionTransformer(
        state_dim=data.states.shape[-1],
        action_dim=data.actions.shape[-1],
        max_timestep=data.max_length,
        embed_dim=config.embed_dim,
        n_layers=config.n_layers,
        n_heads=config.n_heads,
        dropout=config.dropout,
        return_scale=config.return_scale,
    )
    model.set_normalizer(*state_statistics(data))
    model.to(config.device)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: learning_rate_factor(step, config.warmup_steps, config.steps)
    )
    logger.info(
        "training on %d episodes (%d steps), %d parameters",
        len(data.lengths),
        int(data.lengths.sum()),
        sum(p.numel() for p in model.parameters()),
    )

    model.train()
    total, count = 0.0, 0
    for step in range(1, config.steps + 1):
        batch = sample_batch(data, config.batch_size, config.context, rng, config.device)
        predicted = model(
            batch.returns_to_go, batch.states, batch.actions, batch.timesteps, batch.valid
        )
        loss = action_loss(predicted, batch.actions, batch.valid)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        scheduler.step()
        total, count = total + loss.item(), count + 1
        if step % config.log_every == 0 or step == config.steps:
            logger.info("step %d: loss %.5f", step, total / count)
            if on_progress is not None:
                on_progress(step, config.steps, {"train_loss": total / count})
            total, count = 0.0, 0

    model.eval()
    return DTPolicy(model.cpu(), config, per_family, overall)


# --- The policy -------------------------------------------------------------------------


class DTPolicy:
    """A trained Decision Transformer acting in an episode: the agent contract and SB3's verbs.

    The policy keeps the running episode's last ``context`` states, returns-to-go and
    actions. ``reset`` clears them; each ``act`` appends the observation's state and the
    return-to-go (the target at the first step, then lowered by the last reward: see the
    module docstring) and returns the action predicted at the newest state. It is
    deterministic.

    Args:
        model: The transformer (put in eval mode).
        config: The settings it was trained with.
        family_targets: The target return of each task family, None where the dataset had
            no episode of it.
        default_target: The target return for a family without one.
    """

    name = "dt"

    def __init__(
        self,
        model: DecisionTransformer,
        config: DTConfig,
        family_targets: Sequence[float | None],
        default_target: float,
    ) -> None:
        self.model = model.eval()
        self.config = config
        self.family_targets = list(family_targets)
        self.default_target = default_target
        self.state_dim = model.embed_state.in_features
        self.action_dim = model.embed_action.in_features
        self.reset()

    def reset(self, *, target_return: float | None = None) -> None:
        """Forget the episode; the next ``act`` is an episode's first.

        Args:
            target_return: The return to ask for in the coming episode (the env's units);
                None: ``config.target_return``, else the observed family's quantile.
        """
        context = self.config.context
        self._states: deque[NDArray[np.float32]] = deque(maxlen=context)
        self._returns: deque[float] = deque(maxlen=context)
        self._actions: deque[NDArray[np.float32]] = deque(maxlen=context)
        self._timestep = 0
        self._target = target_return if target_return is not None else self.config.target_return
        self._reward: float | None = None

    @property
    def context_returns(self) -> NDArray[np.float64]:
        """The returns-to-go of the steps in the context, oldest first (env units)."""
        return np.array(self._returns, dtype=np.float64)

    def target_for(self, observation: Mapping[str, Any]) -> float:
        """Return the target return an episode starting with ``observation`` is given."""
        if self._target is not None:
            return float(self._target)
        family = int(np.argmax(observation[TASK_KEY]))
        target = self.family_targets[family] if family < len(self.family_targets) else None
        return self.default_target if target is None else target

    def observe_reward(self, reward: float) -> None:
        """Give the reward of the last action; the next ``act`` lowers the return-to-go by it.

        Without this call the next ``act`` estimates the reward (``estimate_reward``).

        Raises:
            DTError: If no action was taken in this episode yet.
        """
        if not self._actions:
            raise DTError("observe_reward gives the reward of the last action; call act first")
        self._reward = float(reward)

    def act(self, observation: Mapping[str, Any]) -> NDArray[np.float32]:
        """Append ``observation`` to the episode's context and return the action for it.

        Args:
            observation: The arm env's ``Dict`` observation.

        Returns:
            The action, shape ``(action_dim,)`` float32 in [-1, 1].

        Raises:
            DTError: If the observation lacks a key or has another size than the model's.
        """
        state = encode_state(observation)
        if state.shape != (self.state_dim,):
            raise DTError(
                f"the observation makes a state of shape {state.shape}; this model takes "
                f"({self.state_dim},): the six-joint arm's observation, achieved_goal, "
                f"desired_goal and task (Portia/Arm-v0)"
            )
        if not self._actions:
            rtg = self.target_for(observation)
        else:
            reward = estimate_reward(observation) if self._reward is None else self._reward
            rtg = self._returns[-1] - reward
        self._reward = None
        self._states.append(state)
        self._returns.append(rtg)
        self._actions.append(np.zeros(self.action_dim, np.float32))  # not seen: a placeholder
        n = len(self._states)
        timesteps = torch.arange(self._timestep - n + 1, self._timestep + 1)[None]
        with torch.inference_mode():
            predicted = self.model(
                torch.tensor([list(self._returns)], dtype=torch.float32),
                torch.as_tensor(np.stack(self._states))[None],
                torch.as_tensor(np.stack(self._actions))[None],
                timesteps,
            )
        action = predicted[0, -1].numpy().astype(np.float32)
        self._actions[-1] = action
        self._timestep += 1
        return action

    def predict(
        self,
        observation: Mapping[str, Any],
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = True,
    ) -> tuple[NDArray[np.float32], None]:
        """Stable-Baselines3's verb: ``act``, after a ``reset`` if ``episode_start`` is true.

        The episode's context lives in the policy, not in ``state``, which is ignored;
        the policy is deterministic whatever ``deterministic`` says.

        Returns:
            The action and None (no recurrent state).
        """
        if episode_start is not None and bool(np.any(episode_start)):
            self.reset()
        return self.act(observation), None

    def save(self, path: Path | str) -> Path:
        """Write the weights, the normalizer, the targets and the config to ``path``.

        The file is a ``dt`` checkpoint (``baselines.common``); its folder is created.

        Returns:
            The path written.
        """
        content = {
            "config": dataclasses.asdict(self.config),
            "shape": {
                "state_dim": self.state_dim,
                "action_dim": self.action_dim,
                "max_timestep": self.model.max_timestep,
            },
            "family_targets": self.family_targets,
            "default_target": self.default_target,
            "state_dict": self.model.state_dict(),
        }
        return save_checkpoint(path, "dt", content)

    @classmethod
    def load(cls, path: Path | str, device: str = "cpu") -> DTPolicy:
        """Read a policy ``save`` wrote (with ``torch.load(weights_only=True)``).

        Raises:
            DTError: If ``path`` does not exist or holds no ``dt`` checkpoint of a version
                this Portia reads.
        """
        saved = load_checkpoint(path, "dt", DTError)
        try:
            config = DTConfig(**{**saved["config"], "device": device})
            model = DecisionTransformer(
                **saved["shape"],
                embed_dim=config.embed_dim,
                n_layers=config.n_layers,
                n_heads=config.n_heads,
                dropout=config.dropout,
                return_scale=config.return_scale,
            )
            model.load_state_dict(saved["state_dict"])
            targets, default = saved["family_targets"], saved["default_target"]
        except (KeyError, TypeError, RuntimeError) as error:
            raise DTError(f"{path} is a damaged Decision Transformer model: {error}") from error
        return cls(model.to(device), config, targets, default)


def _is_integer(value: Any) -> bool:
    """Whether ``value`` is an integer (bools are not)."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    """Whether ``value`` is a finite real number (bools are not)."""
    return (
        isinstance(value, int | float | np.integer | np.floating)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


TRAIN_CONFIG = DTConfig


def load_agent(path: str | Path, env: Any) -> DTPolicy:
    """Return the Decision Transformer saved at ``path`` (the ``dt`` checkpoint loader)."""
    return DTPolicy.load(path)


# ``--agent baselines.dt:make_agent``: the model at ``$PORTIA_DT_MODEL``.
make_agent = agent_from_variable("dt", load_agent, DTError, "")
