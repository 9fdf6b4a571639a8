"""The ONNX policy contract, checked before anything runs, and the agent that plays one.

A policy file is scored (and re-run by the leaderboard) only if it keeps this contract,
the one place it is written down (``docs/agents.md`` explains it with examples):

- **Inputs** are named after keys of the observation the env gives (a ``Box``
  observation's one key is ``observation``); each is float32 of shape ``[batch, n]`` with
  ``n`` the key's flattened size and ``batch`` symbolic or 1. A policy may read a subset.
- **Output** ``action``: float32 ``[batch, action_dim]``, in the env's action space.
- **Recurrent state**, optional: pairs ``state_in.NAME`` (input) and ``state_out.NAME``
  (output) of the same float32 shape ``[batch, ...]``, fixed apart from ``batch``. Every
  state is zero at an episode's start; each decision feeds back the last ``state_out``.
- **Metadata** (``metadata_props``): ``portia.contract`` (``"1"``), ``portia.suite`` or
  ``portia.env_id``, ``portia.observation_keys`` (a JSON list: every key the env gives, in
  order), ``portia.action_space`` (the protocol's JSON of the action space) and, for a
  suite of several bodies, ``portia.shared_layout`` (the JSON of its
  ``wrappers.SharedLayout``). ``portia.name`` and ``portia.version`` are optional.
- **Refused**: files over ``MAX_POLICY_BYTES``; tensors stored outside the file (external
  data); operators outside the standard domains (``ALLOWED_DOMAINS``), local functions
  included; inputs or outputs that fit none of the above.

``read_policy`` checks the file alone (size, parse, external data, domains) without
running anything; ``check_contract`` checks it against the env's spaces; ``OnnxPolicy``
runs it with onnxruntime on the CPU.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from portia_envs.errors import AgentSpecError
from portia_envs.harness.agent_process import THREADS_VARIABLE
from portia_envs.harness.protocol import space_to_json

# The version of the contract this Portia checks (``portia.contract``).
CONTRACT_VERSION = "1"
# The largest policy file accepted, bytes: far above any policy that acts in milliseconds.
MAX_POLICY_BYTES = 64 * 1024 * 1024
# Operator domains of the ONNX standard ("" and "ai.onnx" are the same domain).
ALLOWED_DOMAINS = frozenset({"", "ai.onnx", "ai.onnx.ml"})
ACTION_OUTPUT = "action"
STATE_IN, STATE_OUT = "state_in.", "state_out."
# Metadata keys.
META_CONTRACT = "portia.contract"
META_SUITE = "portia.suite"
META_ENV_ID = "portia.env_id"
META_OBSERVATION_KEYS = "portia.observation_keys"
META_ACTION_SPACE = "portia.action_space"
META_SHARED_LAYOUT = "portia.shared_layout"
META_NAME = "portia.name"
META_VERSION = "portia.version"


class PolicyContractError(AgentSpecError):
    """A policy file that breaks the contract; the message names what and what is needed."""


@dataclass(frozen=True)
class PolicySignature:
    """What a checked policy reads and writes.

    Attributes:
        inputs: The observation keys it reads, in the graph's order.
        states: Recurrent state name -> its shape without the batch axis.
        metadata: Its ``metadata_props``.
    """

    inputs: tuple[str, ...]
    states: dict[str, tuple[int, ...]]
    metadata: dict[str, str]


def read_policy(path: Path) -> Any:
    """Read an ONNX file and check it alone, running nothing: size, parse, data, domains.

    Returns:
        The ``onnx.ModelProto``, with every tensor inside it.

    Raises:
        PolicyContractError: If the file is too large, is not ONNX, keeps tensors outside
            itself, or uses operators outside ``ALLOWED_DOMAINS``.
    """
    import onnx

    size = path.stat().st_size
    if size > MAX_POLICY_BYTES:
        raise PolicyContractError(
            f"{path} is {size / 2**20:.1f} MiB; a policy file may be at most "
            f"{MAX_POLICY_BYTES / 2**20:.0f} MiB"
        )
    try:
        model = onnx.load_model_from_string(path.read_bytes())
    except Exception as error:  # protobuf's DecodeError and friends
        raise PolicyContractError(
            f"{path} is not an ONNX model (truncated or another format): {error}"
        ) from None
    if not model.HasField("graph") or not model.graph.output:
        raise PolicyContractError(f"{path} is not an ONNX model: it has no graph with outputs")
    for tensor in _tensors(model.graph):
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            where = {entry.key: entry.value for entry in tensor.external_data}.get("location")
            raise PolicyContractError(
                f"{path} keeps tensor {tensor.name!r} outside the file (external data at "
                f"{where!r}); a policy must hold every tensor inside its one file"
            )
    used = {opset.domain for opset in model.opset_import}
    used |= {node.domain for node in _nodes(model.graph)}
    foreign = sorted(used - ALLOWED_DOMAINS)
    if foreign or model.functions:
        names = foreign or sorted({f"{f.domain}.{f.name}" for f in model.functions})
        raise PolicyContractError(
            f"{path} uses operators outside the ONNX standard domains ({', '.join(names)}); "
            f"accepted domains: '' (ai.onnx) and ai.onnx.ml, without local functions"
        )
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as error:
        raise PolicyContractError(f"{path} is not a valid ONNX model: {error}") from None
    return model


def check_contract(
    model: Any,
    observation_space: spaces.Space,
    action_space: spaces.Space,
    shared_layout: Any | None = None,
    name: str = "the policy",
) -> PolicySignature:
    """Check a policy's inputs, outputs and metadata against the env it will act in.

    Args:
        model: The ``onnx.ModelProto`` (``read_policy``).
        observation_space: The observation space the agent sees.
        action_space: The action space it acts in (a ``Box``).
        shared_layout: The ``SharedLayout`` of a suite of several bodies, else None.
        name: How messages name the policy (its file).

    Returns:
        What the policy reads and writes.

    Raises:
        PolicyContractError: Naming the input, output or metadata entry that is wrong and
            what the contract needs instead.
    """
    sizes = observation_sizes(observation_space)
    if not isinstance(action_space, spaces.Box) or len(action_space.shape) != 1:
        raise PolicyContractError(
            f"ONNX policies act in a one-axis Box action space; this env's is {action_space}"
        )
    initializers = {tensor.name for tensor in model.graph.initializer}
    graph_inputs = {v.name: v for v in model.graph.input if v.name not in initializers}
    outputs = {v.name: v for v in model.graph.output}
    keys, states = [], {}
    for input_name, value in graph_inputs.items():
        if input_name.startswith(STATE_IN):
            state = input_name.removeprefix(STATE_IN)
            states[state] = _state_shape(value, outputs.get(STATE_OUT + state), name)
        elif input_name in sizes:
            _check_tensor(value, sizes[input_name], name, "input")
            keys.append(input_name)
        else:
            raise PolicyContractError(
                f"{name} has input {input_name!r}, which is no observation key of this env "
                f"and no recurrent state; accepted inputs: {', '.join(sizes)} (each float32 "
                f"[batch, n]) and state_in.NAME"
            )
    if ACTION_OUTPUT not in outputs:
        raise PolicyContractError(
            f"{name} has no output {ACTION_OUTPUT!r} (its outputs: {', '.join(outputs)}); "
            f"the contract needs {ACTION_OUTPUT!r}, float32 [batch, {action_space.shape[0]}]"
        )
    _check_tensor(outputs[ACTION_OUTPUT], action_space.shape[0], name, "output")
    for output_name in outputs:
        state = output_name.removeprefix(STATE_OUT)
        if output_name != ACTION_OUTPUT and (
            not output_name.startswith(STATE_OUT) or state not in states
        ):
            raise PolicyContractError(
                f"{name} has output {output_name!r}; accepted outputs: {ACTION_OUTPUT!r} and "
                f"state_out.NAME for each input state_in.NAME"
            )
    metadata = {entry.key: entry.value for entry in model.metadata_props}
    check_metadata(metadata, observation_space, action_space, shared_layout, name)
    return PolicySignature(inputs=tuple(keys), states=states, metadata=metadata)


def policy_metadata(
    observation_space: spaces.Space,
    action_space: spaces.Space,
    *,
    suite: str | None = None,
    env_id: str | None = None,
    shared_layout: Any | None = None,
    name: str | None = None,
    version: str | None = None,
) -> dict[str, str]:
    """Return the metadata the contract asks of a policy acting in these spaces.

    Raises:
        PolicyContractError: If neither ``suite`` nor ``env_id`` is given.
    """
    if not suite and not env_id:
        raise PolicyContractError("a policy's metadata must name its suite or its env id")
    metadata = {
        META_CONTRACT: CONTRACT_VERSION,
        META_OBSERVATION_KEYS: json.dumps(list(observation_sizes(observation_space))),
        META_ACTION_SPACE: json.dumps(_jsonable(space_to_json(action_space))),
    }
    optional = {
        META_SUITE: suite,
        META_ENV_ID: env_id,
        META_SHARED_LAYOUT: None if shared_layout is None else layout_json(shared_layout),
        META_NAME: name,
        META_VERSION: version,
    }
    metadata.update({key: value for key, value in optional.items() if value})
    return metadata


def check_metadata(
    metadata: Mapping[str, str],
    observation_space: spaces.Space,
    action_space: spaces.Space,
    shared_layout: Any | None,
    name: str,
) -> None:
    """Check a policy's metadata against the env's spaces (see the module docstring).

    Raises:
        PolicyContractError: If an entry is missing or differs from the env's.
    """

    def need(key: str, what: str) -> str:
        if not metadata.get(key):
            raise PolicyContractError(
                f"{name} has no metadata_props entry {key!r} ({what}); `portia export` writes "
                f"it, or add it with onnx.helper.set_model_props (docs/agents.md)"
            )
        return metadata[key]

    if need(META_CONTRACT, "the contract version") != CONTRACT_VERSION:
        raise PolicyContractError(
            f"{name} keeps contract {metadata[META_CONTRACT]!r}; this Portia checks "
            f"contract {CONTRACT_VERSION!r}"
        )
    if not metadata.get(META_SUITE) and not metadata.get(META_ENV_ID):
        need(META_SUITE, f"the suite it was made for, or {META_ENV_ID!r}")
    keys = list(observation_sizes(observation_space))
    declared = _json_entry(need(META_OBSERVATION_KEYS, "a JSON list of keys"), name)
    if declared != keys:
        raise PolicyContractError(
            f"{name} declares observation keys {declared}; this env gives {keys}"
        )
    space = _json_entry(need(META_ACTION_SPACE, "the action space's JSON"), name)
    if not _same_box(space, action_space):
        raise PolicyContractError(
            f"{name} declares action space {space}; this env's is "
            f"{_jsonable(space_to_json(action_space))}"
        )
    layout = metadata.get(META_SHARED_LAYOUT)
    if shared_layout is None and layout:
        raise PolicyContractError(
            f"{name} was made for the shared layout of several bodies; this env has one body"
        )
    if shared_layout is not None:
        wanted = json.loads(layout_json(shared_layout))
        found = _json_entry(need(META_SHARED_LAYOUT, "the suite's shared layout"), name)
        if found != wanted:
            raise PolicyContractError(
                f"{name} was made for shared layout {found}; this suite's is {wanted}"
            )


def observation_sizes(space: spaces.Space) -> dict[str, int]:
    """Return each observation key's flattened size (a non-Dict space is ``observation``)."""
    if isinstance(space, spaces.Dict):
        return {key: int(spaces.flatdim(sub)) for key, sub in space.spaces.items()}
    return {"observation": int(spaces.flatdim(space))}


def layout_json(layout: Any) -> str:
    """Return a ``SharedLayout`` as the JSON the metadata holds."""
    return json.dumps(_jsonable(dataclasses.asdict(layout)), sort_keys=True)


def agent_threads() -> int:
    """Return the threads this agent process may compute with (``PORTIA_AGENT_THREADS``)."""
    value = os.environ.get(THREADS_VARIABLE, "1")
    return int(value) if value.isdigit() and int(value) >= 1 else 1


class OnnxPolicy:
    """An ONNX policy acting in an env: onnxruntime on the CPU, state kept between calls.

    Args:
        path: The policy file.
        env: The env it acts in (its spaces are checked against the contract).
        threads: onnxruntime's intra-op threads; None: ``agent_threads()``.

    Raises:
        PolicyContractError: If the file or its signature breaks the contract.
    """

    def __init__(self, path: Path, env: gymnasium.Env, threads: int | None = None) -> None:
        import onnxruntime

        model = read_policy(path)
        self.signature = check_contract(
            model, env.observation_space, env.action_space, shared_layout_of(env), str(path)
        )
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = agent_threads() if threads is None else threads
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        try:
            self._session = onnxruntime.InferenceSession(
                model.SerializeToString(), options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # onnxruntime's own error types, one per failure
            raise PolicyContractError(f"onnxruntime cannot run {path}: {error}") from None
        self._outputs = [ACTION_OUTPUT, *(STATE_OUT + state for state in self.signature.states)]
        self.name = self.signature.metadata.get(META_NAME) or path.stem
        self.version = self.signature.metadata.get(META_VERSION)
        self.reset()

    def reset(self) -> None:
        """Start an episode: every recurrent state back to zero."""
        self._state = {
            STATE_IN + state: np.zeros((1, *shape), np.float32)
            for state, shape in self.signature.states.items()
        }

    def act(self, observation: Any) -> np.ndarray:
        """Return the policy's action for one observation, shape ``(action_dim,)`` float32."""
        feeds = dict(self._state)
        for key in self.signature.inputs:
            value = observation[key] if isinstance(observation, Mapping) else observation
            feeds[key] = np.asarray(value, dtype=np.float32).reshape(1, -1)
        action, *states = self._session.run(self._outputs, feeds)
        self._state = {STATE_IN + s: v for s, v in zip(self.signature.states, states, strict=True)}
        return action[0]


def shared_layout_of(env: gymnasium.Env) -> Any | None:
    """Return the ``SharedLayout`` of a ``MultiEmbodiment`` env (outermost wrapper), else None."""
    from wrappers.multi_embodiment import MultiEmbodiment

    return env.layout if isinstance(env, MultiEmbodiment) else None


def _check_tensor(value: Any, width: int, name: str, role: str) -> None:
    """Check that a graph input or output is float32 ``[batch, width]``."""
    import onnx

    kind = value.type.WhichOneof("value")
    tensor = value.type.tensor_type
    dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim]
    wanted = f"float32 [batch, {width}] (batch symbolic or 1)"
    if kind != "tensor_type" or tensor.elem_type != onnx.TensorProto.FLOAT:
        found = onnx.TensorProto.DataType.Name(tensor.elem_type) if kind == "tensor_type" else kind
        raise PolicyContractError(f"{name}'s {role} {value.name!r} is {found}; needed: {wanted}")
    if len(dims) != 2 or dims[0] not in (None, 1) or dims[1] != width:
        shown = ["batch" if d is None else d for d in dims]
        raise PolicyContractError(
            f"{name}'s {role} {value.name!r} has shape {shown}; needed: {wanted}"
        )


def _state_shape(value: Any, output: Any | None, name: str) -> tuple[int, ...]:
    """Return a recurrent state's shape without batch, checking its input and output agree."""
    import onnx

    if output is None:
        raise PolicyContractError(
            f"{name} has input {value.name!r} but no output "
            f"{STATE_OUT + value.name.removeprefix(STATE_IN)!r}; states come in pairs"
        )
    shapes = []
    for end in (value, output):
        tensor = end.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim]
        if (
            end.type.WhichOneof("value") != "tensor_type"
            or tensor.elem_type != onnx.TensorProto.FLOAT
            or len(dims) < 2
            or dims[0] not in (None, 1)
            or any(d is None or d < 1 for d in dims[1:])
        ):
            raise PolicyContractError(
                f"{name}'s state {end.name!r} must be float32 [batch, d1, ...] with fixed "
                f"sizes after batch, got {['batch' if d is None else d for d in dims]}"
            )
        shapes.append(tuple(dims[1:]))
    if shapes[0] != shapes[1]:
        raise PolicyContractError(
            f"{name}'s state {value.name!r} has shape {shapes[0]} in and {shapes[1]} out"
        )
    return shapes[0]


def _nodes(graph: Any) -> Iterator[Any]:
    """Yield every node of a graph and of the subgraphs in its nodes' attributes."""
    for node in graph.node:
        yield node
        for attribute in node.attribute:
            subgraphs = [attribute.g] if attribute.HasField("g") else []
            for sub in [*subgraphs, *attribute.graphs]:
                yield from _nodes(sub)


def parameter_count(model: Any) -> int:
    """Return the parameters an ONNX model stores: the elements of its floating-point tensors.

    Initializers and constants count, in subgraphs too (weights, biases, normalizer
    statistics, bounds); integer tensors (shapes, indices) do not.
    """
    import onnx

    floating = {
        onnx.TensorProto.FLOAT,
        onnx.TensorProto.DOUBLE,
        onnx.TensorProto.FLOAT16,
        onnx.TensorProto.BFLOAT16,
    }
    return sum(
        math.prod(tensor.dims) for tensor in _tensors(model.graph) if tensor.data_type in floating
    )


def _tensors(graph: Any) -> Iterator[Any]:
    """Yield every tensor a graph stores: initializers and node attributes, subgraphs too."""
    yield from graph.initializer
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                yield attribute.t
            yield from attribute.tensors
            subgraphs = [attribute.g] if attribute.HasField("g") else []
            for sub in [*subgraphs, *attribute.graphs]:
                yield from _tensors(sub)


def _json_entry(text: str, name: str) -> Any:
    """Parse a metadata entry's JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise PolicyContractError(f"{name} has metadata that is not JSON: {error}") from None


def _same_box(declared: Any, space: spaces.Box) -> bool:
    """Whether a declared action-space JSON is ``space`` (shape and bounds)."""
    if not isinstance(declared, dict) or declared.get("type") != "box":
        return False
    try:
        low = np.asarray(declared["low"], dtype=np.float64)
        high = np.asarray(declared["high"], dtype=np.float64)
    except (KeyError, TypeError, ValueError):
        return False
    return (
        list(declared.get("shape", [])) == list(space.shape)
        and low.shape == space.shape
        and np.allclose(low, space.low, rtol=0, atol=1e-6)
        and np.allclose(high, space.high, rtol=0, atol=1e-6)
    )


def _jsonable(value: Any) -> Any:
    """Return ``value`` with arrays as lists and tuples as lists, for ``json.dumps``."""
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, dict):
        return {key: _jsonable(v) for key, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value
