"""Small ONNX policies built by hand for the contract tests: each can be bent one way."""

from __future__ import annotations

from pathlib import Path

import gymnasium
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import portia_envs  # noqa: F401  (registers the ids)
from portia_envs.harness.onnx_policy import policy_metadata

SMOKE_ENV = "Portia/Arm-v0"


def smoke_env() -> gymnasium.Env:
    return gymnasium.make(SMOKE_ENV)


def value(name, width, dtype=TensorProto.FLOAT, batch="batch"):
    return helper.make_tensor_value_info(name, dtype, [batch, width])


def goal_policy(
    *,
    inputs=None,
    action=None,
    nodes=None,
    initializers=None,
    outputs_extra=(),
    metadata=None,
    domain_nodes=(),
) -> onnx.ModelProto:
    """``action = tanh((desired_goal - achieved_goal) @ W)``, W fixed: a valid policy.

    Every keyword replaces one part, to break the contract in one place.
    """
    env = smoke_env()
    weights = np.linspace(-1, 1, 21, dtype=np.float32).reshape(3, 7)
    graph_inputs = inputs or [value("desired_goal", 3), value("achieved_goal", 3)]
    graph_nodes = nodes or [
        helper.make_node("Sub", ["desired_goal", "achieved_goal"], ["error"]),
        helper.make_node("MatMul", ["error", "W"], ["raw"]),
        helper.make_node("Tanh", ["raw"], ["action"]),
    ]
    graph = helper.make_graph(
        [*graph_nodes, *domain_nodes],
        "policy",
        graph_inputs,
        [action or value("action", 7), *outputs_extra],
        initializer=initializers or [numpy_helper.from_array(weights, "W")],
    )
    opsets = [helper.make_opsetid("", 17)]
    opsets += [helper.make_opsetid(node.domain, 1) for node in domain_nodes]
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 8
    props = (
        policy_metadata(env.observation_space, env.action_space, suite="smoke-v0")
        if metadata is None
        else metadata
    )
    helper.set_model_props(model, props)
    return model


def counter_policy() -> onnx.ModelProto:
    """A recurrent policy: ``state_out.count = state_in.count + 1``; the action is the count.

    Every action entry equals the number of decisions before this one in the episode (the
    state starts at zero), scaled by 0.1 and clipped to 1.
    """
    env = smoke_env()
    graph = helper.make_graph(
        [
            helper.make_node("Add", ["state_in.count", "one"], ["state_out.count"]),
            helper.make_node("Mul", ["state_in.count", "tenth"], ["scaled"]),
            helper.make_node("Min", ["scaled", "one"], ["clipped"]),
            helper.make_node("Expand", ["clipped", "shape"], ["action"]),
        ],
        "counter",
        [value("desired_goal", 3), value("state_in.count", 1)],
        [value("action", 7), value("state_out.count", 1)],
        initializer=[
            numpy_helper.from_array(np.ones((1, 1), np.float32), "one"),
            numpy_helper.from_array(np.full((1, 1), 0.1, np.float32), "tenth"),
            numpy_helper.from_array(np.array([1, 7], np.int64), "shape"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(
        model, policy_metadata(env.observation_space, env.action_space, suite="smoke-v0")
    )
    return model


def save(model: onnx.ModelProto, path: Path) -> Path:
    path.write_bytes(model.SerializeToString())
    return path
