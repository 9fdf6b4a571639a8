"""``portia export``: a trained policy as one ONNX or TorchScript file that keeps the contract.

Every step between the env's observation and its action goes into the graph, so the file
needs nothing but a runtime: the features (``baselines.features``: the goal difference,
the task), their standardization and clipping, the network, and the action's squashing,
clipping or unscaling. Each kind of model has a *core*, a ``torch.nn.Module`` from the
observation (a dict of float32 ``[batch, n]`` tensors) to the action; the Decision
Transformer's also takes and returns its recurrent state, its context of the last ``K``
steps, so that the exported policy needs no memory of its own:

- ``state_in.states`` ``[batch, K, state_dim]``, ``state_in.returns`` ``[batch, K]`` and
  ``state_in.actions`` ``[batch, K, action_dim]``: the context, newest last;
- ``state_in.step`` ``[batch, 1]``: decisions taken in the episode (0 at reset: the first
  decision asks for the family's target return).

All are zero at reset, as the contract says. ``export_policy`` writes the file with the
contract's metadata, checks it as ``portia bench`` would, and ``verify_export`` measures
how far its actions are from the original's.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import torch
from torch import nn

from baselines.features import FEATURE_KEYS
from portia_envs.errors import PortiaError

FORMATS = ("onnx", "torchscript")
# The ONNX operator set the files are written in (onnxruntime 1.17 and later run it).
OPSET = 17
# Observations ``verify_export`` compares the two policies on, unless told otherwise.
VERIFY_OBSERVATIONS = 1000


class ExportError(PortiaError, ValueError):
    """A model that cannot be exported as asked (its kind, the suite, the format)."""


# --- Cores: observation dict -> action, everything inside -----------------------------


def goal_task_tensor(observation: Mapping[str, torch.Tensor], task: bool) -> torch.Tensor:
    """Return ``baselines.features.goal_task_features`` of tensors, for a graph."""
    goal, achieved = observation["desired_goal"], observation["achieved_goal"]
    parts = [observation["observation"], goal, achieved, goal - achieved]
    if task:
        parts.append(observation["task"])
    return torch.cat(parts, dim=-1)


class BCCore(nn.Module):
    """A BC policy: features, then the network (standardization and ``tanh`` inside it)."""

    def __init__(self, network: nn.Module, task: bool) -> None:
        super().__init__()
        self.network, self.task = network, task
        self.keys = [key for key in FEATURE_KEYS if task or key != "task"]

    def forward(self, observation: dict[str, torch.Tensor]) -> torch.Tensor:
        """Return actions ``[batch, action_dim]`` for observations."""
        return self.network(goal_task_tensor(observation, self.task))


class PPOCore(nn.Module):
    """A PPO policy: features, the running normalizer (float64), the actor's mean, clipping."""

    def __init__(self, policy: Any) -> None:
        super().__init__()
        self.normalizer, self.actor = policy.normalizer, policy.model.actor_mean
        self.register_buffer("low", torch.as_tensor(policy.action_low))
        self.register_buffer("high", torch.as_tensor(policy.action_high))
        self.keys = list(FEATURE_KEYS)

    def forward(self, observation: dict[str, torch.Tensor]) -> torch.Tensor:
        """Return the deterministic actions, clipped to the action space."""
        mean = self.actor(self.normalizer(goal_task_tensor(observation, task=True)))
        return torch.maximum(torch.minimum(mean, self.high), self.low)


class SB3Core(nn.Module):
    """An SB3 policy's deterministic action, then SB3's own clipping or unscaling."""

    def __init__(self, policy: Any) -> None:
        super().__init__()
        self.policy = policy
        space = policy.action_space
        self.register_buffer("low", torch.as_tensor(space.low, dtype=torch.float32))
        self.register_buffer("high", torch.as_tensor(space.high, dtype=torch.float32))
        observation_space = policy.observation_space
        self.keys = (
            list(observation_space.spaces)
            if isinstance(observation_space, gymnasium.spaces.Dict)
            else ["observation"]
        )

    def forward(self, observation: dict[str, torch.Tensor]) -> torch.Tensor:
        """Return what ``policy.predict(observation, deterministic=True)`` returns."""
        shaped = {
            key: value.reshape(-1, *self.policy.observation_space[key].shape)
            for key, value in observation.items()
        }
        actions = self.policy._predict(shaped, deterministic=True)
        if self.policy.squash_output:  # tanh in [-1, 1], to the space's bounds
            return self.low + 0.5 * (actions + 1.0) * (self.high - self.low)
        return torch.maximum(torch.minimum(actions, self.high), self.low)


class DTCore(nn.Module):
    """A Decision Transformer's decision with its context as state (the module docstring).

    Each call does what ``DTPolicy.act`` does: the return-to-go is the family's target at
    the first decision, else the last one minus the reward estimated from the observation
    (``dt.estimate_reward``); the context shifts by one step; the transformer predicts the
    action at the newest state, attending only to the steps the episode has had.
    """

    def __init__(self, policy: Any) -> None:
        super().__init__()
        from baselines.dt import STATE_KEYS

        self.model = policy.model
        self.keys = list(STATE_KEYS)
        self.context = policy.config.context
        targets = [
            policy.default_target if target is None else target for target in policy.family_targets
        ]
        if policy.config.target_return is not None:
            targets = [policy.config.target_return] * max(1, len(targets))
        self.register_buffer("targets", torch.tensor(targets, dtype=torch.float32))
        self.fixed_target = policy.config.target_return is not None
        self.state_shapes = {
            "states": (self.context, policy.state_dim),
            "returns": (self.context,),
            "actions": (self.context, policy.action_dim),
            "step": (1,),
        }

    def forward(
        self, observation: dict[str, torch.Tensor], state: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Return the action ``[batch, action_dim]`` and the state after this decision."""
        current = torch.cat([observation[key] for key in self.keys], dim=-1)
        step = state["step"]  # [batch, 1]
        first = step < 0.5
        if self.fixed_target:
            target = self.targets[:1].expand_as(step)
        else:
            family = torch.argmax(observation["task"], dim=-1)
            target = self.targets[family.clamp(max=self.targets.shape[0] - 1)][:, None]
        reward = -torch.linalg.vector_norm(
            observation["achieved_goal"] - observation["desired_goal"], dim=-1, keepdim=True
        )
        rtg = torch.where(first, target, state["returns"][:, -1:] - reward)
        states = torch.cat([state["states"][:, 1:], current[:, None]], dim=1)
        returns = torch.cat([state["returns"][:, 1:], rtg], dim=1)
        blank = torch.zeros_like(state["actions"][:, :1])
        actions = torch.cat([state["actions"][:, 1:], blank], dim=1)
        offsets = torch.arange(self.context - 1, -1, -1, device=step.device)[None]  # K-1 .. 0
        valid = offsets <= step  # the last min(step + 1, K) positions
        timesteps = (step - offsets).clamp(min=0).to(torch.int64)
        predicted = self.model(returns, states, actions, timesteps, valid)
        action = predicted[:, -1]
        actions = torch.cat([actions[:, :-1], action[:, None]], dim=1)
        return action, {"states": states, "returns": returns, "actions": actions, "step": step + 1}


class _Positional(nn.Module):
    """A core with one positional tensor per ONNX input, in ``keys`` then states order."""

    def __init__(self, core: nn.Module, states: list[str]) -> None:
        super().__init__()
        self.core, self.states = core, states

    def forward(self, *tensors: torch.Tensor) -> Any:
        n = len(self.core.keys)
        observation = dict(zip(self.core.keys, tensors[:n], strict=True))
        if not self.states:
            return self.core(observation)
        action, state = self.core(observation, dict(zip(self.states, tensors[n:], strict=True)))
        return (action, *(state[name] for name in self.states))


class _RecurrentScript(nn.Module):
    """A traced recurrent core with ``initial_state()``, as the TorchScript contract asks."""

    def __init__(self, traced: nn.Module, zeros: dict[str, torch.Tensor]) -> None:
        super().__init__()
        self.inner = traced
        self.zeros = zeros

    def forward(
        self, observation: dict[str, torch.Tensor], state: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return self.inner(observation, state)

    @torch.jit.export
    def initial_state(self) -> dict[str, torch.Tensor]:
        """Return the state at an episode's start: zeros."""
        return {name: value.clone() for name, value in self.zeros.items()}


# --- Loading the original, and the env it acts in -------------------------------------


@dataclass
class Original:
    """A model to export: its core, the agent that plays it unexported, and its suite.

    Attributes:
        kind: ``bc``, ``ppo``, ``dt`` or ``sb3``.
        core: The export core.
        make_agent: Builds the unexported agent for an env (for ``verify_export``).
        suite: The suite it names itself, None if it names none.
    """

    kind: str
    core: nn.Module
    make_agent: Callable[[gymnasium.Env], Any]
    suite: str | None


def load_original(path: Path, env_for: Callable[[str | None], gymnasium.Env]) -> Original:
    """Load a model file for export (``harness.model_agents.model_kind`` says which kind).

    Args:
        path: The model file.
        env_for: Returns the env of a suite (None: the one ``--suite`` named); an SB3
            policy is built on its spaces.

    Raises:
        ExportError: If the file is already ONNX or TorchScript, or of no known kind.
    """
    from portia_envs.harness.model_agents import build_model_agent, model_kind

    kind = model_kind(path)
    if kind in ("onnx", "torchscript"):
        raise ExportError(f"{path} is already {kind}; export takes BC, DT, PPO or SB3 models")

    def make_agent(env: gymnasium.Env) -> Any:
        return build_model_agent(path, kind, env)

    if kind == "bc":
        from baselines.bc import BCPolicy

        policy = BCPolicy.load(path)
        suite = policy.data.get("suite") or None
        env = env_for(suite)
        return Original(
            kind, BCCore(policy.network, "task" in env.observation_space.spaces), make_agent, suite
        )
    if kind == "ppo":
        from baselines.ppo import PPOPolicy

        policy = PPOPolicy.load(path, device="cpu")
        return Original(kind, PPOCore(policy), make_agent, policy.config.suite)
    if kind == "dt":
        from baselines.dt import DTPolicy

        return Original(kind, DTCore(DTPolicy.load(path)), make_agent, None)
    from baselines.sb3_policy import load_policy

    return Original(kind, SB3Core(load_policy(path, env_for(None))), make_agent, None)


# --- Writing and checking ---------------------------------------------------------------


def example_inputs(
    core: nn.Module, env: gymnasium.Env
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Return a batch-of-one observation from ``env`` and a zero state, as tensors."""
    from portia_envs.harness.onnx_policy import observation_sizes

    observation, _ = env.reset(seed=0)
    sizes = observation_sizes(env.observation_space)
    tensors = {
        key: torch.as_tensor(
            np.asarray(observation[key] if isinstance(observation, Mapping) else observation)
            .astype(np.float32)
            .reshape(1, sizes[key])
        )
        for key in core.keys
    }
    shapes = getattr(core, "state_shapes", {})
    return tensors, {name: torch.zeros(1, *shape) for name, shape in shapes.items()}


def export_policy(
    original: Original,
    env: gymnasium.Env,
    fmt: str,
    out: Path,
    metadata: dict[str, str],
) -> None:
    """Write ``original`` as ``fmt`` to ``out`` with ``metadata``, then check it as bench would.

    Raises:
        ExportError: If the format is unknown.
        PolicyContractError: If the written file breaks the contract (a bug worth a report).
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; accepted: {', '.join(FORMATS)}")
    core = original.core.eval()
    observation, state = example_inputs(core, env)
    out.parent.mkdir(parents=True, exist_ok=True)
    validating = torch.distributions.Distribution._validate_args
    # SB3's policies build torch distributions; checking their arguments is a Python branch
    # a trace would freeze, and the graph needs none of it.
    torch.distributions.Distribution.set_default_validate_args(False)
    with torch.no_grad(), _restore_validation(validating):
        if fmt == "onnx":
            _write_onnx(core, observation, state, out, metadata, env.action_space.shape[0])
        else:
            _write_torchscript(core, observation, state, out, metadata)
    from portia_envs.harness.model_agents import build_model_agent

    build_model_agent(out, fmt, env)


@contextlib.contextmanager
def _restore_validation(validating: bool) -> Iterator[None]:
    """Set torch distributions' argument validation back to ``validating`` on exit."""
    try:
        yield
    finally:
        torch.distributions.Distribution.set_default_validate_args(validating)


def _write_onnx(
    core: nn.Module,
    observation: dict[str, torch.Tensor],
    state: dict[str, torch.Tensor],
    out: Path,
    metadata: dict[str, str],
    action_dim: int,
) -> None:
    """Export through torch's TorchScript-based ONNX exporter, then add the metadata.

    The outputs' shapes are written as the contract states them: the exporter's shape
    inference loses a fixed size behind some operators (SB3's squashed Gaussian).
    """
    import onnx

    names = list(state)
    inputs = [*core.keys, *(f"state_in.{name}" for name in names)]
    outputs = ["action", *(f"state_out.{name}" for name in names)]
    try:
        with warnings.catch_warnings():
            # The TorchScript-based exporter: deprecated in favour of the torch.export-based one,
            # which takes seconds per model and an extra package; this one is exact here.
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(
                _Positional(core, names),
                (*observation.values(), *state.values()),
                str(out),
                input_names=inputs,
                output_names=outputs,
                dynamic_axes={name: {0: "batch"} for name in [*inputs, *outputs]},
                opset_version=OPSET,
                dynamo=False,
            )
    except Exception as error:  # the exporter raises many kinds for an operator it lacks
        raise ExportError(f"torch cannot export this model to ONNX: {error}") from None
    model = onnx.load(str(out))
    shapes = {"action": (action_dim,)}
    shapes.update({f"state_out.{name}": tuple(value.shape[1:]) for name, value in state.items()})
    for output in model.graph.output:
        dims = output.type.tensor_type.shape.dim
        del dims[:]
        dims.add().dim_param = "batch"
        for size in shapes[output.name]:
            dims.add().dim_value = size
    onnx.helper.set_model_props(model, metadata)
    onnx.save(model, str(out))


def _write_torchscript(
    core: nn.Module,
    observation: dict[str, torch.Tensor],
    state: dict[str, torch.Tensor],
    out: Path,
    metadata: dict[str, str],
) -> None:
    """Trace the core on a dict observation; a recurrent one gets ``initial_state``."""
    from portia_envs.harness.torchscript_policy import METADATA_FILE

    if state:
        traced = torch.jit.trace(core, (observation, state), strict=False)
        module = torch.jit.script(
            _RecurrentScript(traced, {k: torch.zeros_like(v) for k, v in state.items()})
        )
    else:
        module = torch.jit.trace(core, (observation,), strict=False)
    torch.jit.save(module, str(out), _extra_files={METADATA_FILE: json.dumps(metadata)})


def verify_export(
    original: Original,
    exported: Path,
    fmt: str,
    env: gymnasium.Env,
    observations: int = VERIFY_OBSERVATIONS,
    seed: int = 0,
) -> float:
    """Return the largest absolute difference between the two policies' actions.

    Both play the same observations, those of episodes the original plays in ``env``
    (reset with ``seed``, ``seed + 1``, ...; each episode resets both, so recurrent state
    is compared too), until ``observations`` decisions have been compared.
    """
    from portia_envs.harness.model_agents import build_model_agent

    reference, candidate = original.make_agent(env), build_model_agent(exported, fmt, env)
    worst, compared, episode = 0.0, 0, 0
    while compared < observations:
        observation, _ = env.reset(seed=seed + episode)
        episode += 1
        for agent in (reference, candidate):
            agent.reset()
        done = False
        while not done and compared < observations:
            action = np.asarray(reference.act(observation), dtype=np.float32)
            other = np.asarray(candidate.act(observation), dtype=np.float32)
            worst = max(worst, float(np.max(np.abs(action - other))))
            compared += 1
            observation, _, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
    return worst
