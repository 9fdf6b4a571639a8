"""Model files as agents: the ONNX contract, TorchScript, checkpoints, hostile files."""

import io
import json
import pickle
import zipfile

import numpy as np
import pytest
import torch
from onnx import TensorProto, helper

from portia_envs.harness import onnx_policy
from portia_envs.harness.agents import agent_hash, load_factory, resolve_spec
from portia_envs.harness.model_agents import model_factory, model_kind
from portia_envs.harness.onnx_policy import (
    OnnxPolicy,
    PolicyContractError,
    policy_metadata,
    read_policy,
)
from portia_envs.harness.torchscript_policy import TorchScriptPolicy
from tests.portia_envs.harness.onnx_models import (
    counter_policy,
    goal_policy,
    save,
    smoke_env,
    value,
)


class Marker:
    """Unpickling this creates ``path``: proof that a file's code ran."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_valid_onnx_policy_acts_as_its_graph_says(tmp_path):
    path = save(goal_policy(), tmp_path / "policy.onnx")
    env = smoke_env()
    observation, _ = env.reset(seed=0)
    policy = OnnxPolicy(path, env)
    weights = np.linspace(-1, 1, 21, dtype=np.float32).reshape(3, 7)
    error = (observation["desired_goal"] - observation["achieved_goal"]).astype(np.float32)
    np.testing.assert_allclose(policy.act(observation), np.tanh(error @ weights), atol=1e-6)
    assert policy.act(observation).shape == (7,)
    assert policy.signature.inputs == ("desired_goal", "achieved_goal")


def test_recurrent_state_starts_at_zero_and_is_fed_back(tmp_path):
    env = smoke_env()
    observation, _ = env.reset(seed=0)
    policy = OnnxPolicy(save(counter_policy(), tmp_path / "counter.onnx"), env)
    assert policy.signature.states == {"count": (1,)}
    actions = [policy.act(observation)[0] for _ in range(3)]
    np.testing.assert_allclose(actions, [0.0, 0.1, 0.2], atol=1e-6)
    policy.reset()
    assert policy.act(observation)[0] == 0.0


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (
            {"inputs": [value("goal", 3), value("desired_goal", 3), value("achieved_goal", 3)]},
            "input 'goal'",
        ),
        ({"inputs": [value("desired_goal", 4), value("achieved_goal", 3)]}, "[batch, 3]"),
        ({"inputs": [value("desired_goal", 3, batch=2), value("achieved_goal", 3)]}, "[2, 3]"),
        (
            {"inputs": [value("desired_goal", 3, TensorProto.DOUBLE), value("achieved_goal", 3)]},
            "DOUBLE",
        ),
        ({"action": value("action", 6)}, "'action' has shape ['batch', 6]"),
        ({"outputs_extra": [value("value", 1)]}, "output 'value'"),
    ],
)
def test_each_signature_violation_is_named(tmp_path, change, named):
    if "outputs_extra" in change:
        model = goal_policy(
            nodes=[
                helper.make_node("Sub", ["desired_goal", "achieved_goal"], ["error"]),
                helper.make_node("MatMul", ["error", "W"], ["raw"]),
                helper.make_node("Tanh", ["raw"], ["action"]),
                helper.make_node("ReduceSum", ["error"], ["value"], keepdims=1),
            ],
            **change,
        )
    else:
        model = goal_policy(**change)
    path = save(model, tmp_path / "policy.onnx")
    with pytest.raises(PolicyContractError) as caught:
        OnnxPolicy(path, smoke_env())
    assert named in str(caught.value)


def test_an_output_not_named_action_is_refused(tmp_path):
    model = goal_policy(
        nodes=[
            helper.make_node("Sub", ["desired_goal", "achieved_goal"], ["error"]),
            helper.make_node("MatMul", ["error", "W"], ["actions"]),
        ],
        action=value("actions", 7),
    )
    with pytest.raises(PolicyContractError, match="no output 'action'.*float32 \\[batch, 7\\]"):
        OnnxPolicy(save(model, tmp_path / "p.onnx"), smoke_env())


def test_a_state_without_its_pair_is_refused(tmp_path):
    model = goal_policy(
        inputs=[value("desired_goal", 3), value("achieved_goal", 3), value("state_in.h", 4)]
    )
    with pytest.raises(PolicyContractError, match="state_out.h"):
        OnnxPolicy(save(model, tmp_path / "p.onnx"), smoke_env())


@pytest.mark.parametrize(
    ("metadata", "named"),
    [
        ({}, "portia.contract"),
        ("drop:portia.observation_keys", "portia.observation_keys"),
        ("drop:portia.suite", "portia.suite"),
        ({"portia.observation_keys": json.dumps(["observation"])}, "declares observation keys"),
        ({"portia.contract": "2"}, "contract '2'"),
    ],
)
def test_metadata_is_checked_against_the_env(tmp_path, metadata, named):
    env = smoke_env()
    full = policy_metadata(env.observation_space, env.action_space, suite="smoke-v0")
    if isinstance(metadata, str):
        props = {k: v for k, v in full.items() if k != metadata.removeprefix("drop:")}
    else:
        props = {**full, **metadata} if metadata else {}
    path = save(goal_policy(metadata=props), tmp_path / "p.onnx")
    with pytest.raises(PolicyContractError, match=named):
        OnnxPolicy(path, env)


def test_an_action_space_of_other_bounds_is_refused(tmp_path):
    env = smoke_env()
    props = policy_metadata(env.observation_space, env.action_space, suite="smoke-v0")
    space = json.loads(props["portia.action_space"])
    space["high"] = [2.0] * 7
    props["portia.action_space"] = json.dumps(space)
    with pytest.raises(PolicyContractError, match="declares action space"):
        OnnxPolicy(save(goal_policy(metadata=props), tmp_path / "p.onnx"), env)


def test_operators_outside_the_standard_domains_are_refused(tmp_path):
    node = helper.make_node("Backdoor", ["desired_goal"], ["unused"], domain="com.example")
    path = save(goal_policy(domain_nodes=[node]), tmp_path / "p.onnx")
    with pytest.raises(PolicyContractError, match="com.example"):
        read_policy(path)


def test_external_data_is_refused_before_anything_reads_it(tmp_path):
    outside = tmp_path / "outside.bin"
    outside.write_bytes(np.ones(21, np.float32).tobytes())
    model = goal_policy()
    weights = model.graph.initializer[0]
    weights.ClearField("raw_data")
    weights.ClearField("float_data")
    weights.data_location = TensorProto.EXTERNAL
    weights.external_data.add(key="location", value="../outside.bin")
    folder = tmp_path / "model"
    folder.mkdir()
    path = save(model, folder / "p.onnx")
    with pytest.raises(PolicyContractError, match="outside the file.*outside.bin"):
        OnnxPolicy(path, smoke_env())


def test_truncated_and_oversized_files_are_refused(tmp_path, monkeypatch):
    whole = goal_policy().SerializeToString()
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(PolicyContractError, match="not an ONNX model|not a valid ONNX"):
        read_policy(truncated)
    path = save(goal_policy(), tmp_path / "p.onnx")
    monkeypatch.setattr(onnx_policy, "MAX_POLICY_BYTES", len(whole) - 1)
    with pytest.raises(PolicyContractError, match="may be at most"):
        read_policy(path)


def test_a_pickle_named_like_a_model_is_never_unpickled(tmp_path):
    marker = tmp_path / "ran"
    for name in ("policy.ts", "policy.pt", "policy.onnx", "policy.zip"):
        path = tmp_path / name
        path.write_bytes(pickle.dumps(Marker(marker)))
        with pytest.raises(PolicyContractError, match="never read|not a zip|not an ONNX"):
            model_kind(path)
        with pytest.raises(PolicyContractError):
            TorchScriptPolicy(path, smoke_env())
    assert not marker.exists()


def test_a_torch_checkpoint_holding_code_is_refused_unrun(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "policy.pt"
    torch.save({"format": "portia-bc", "payload": Marker(marker)}, path)
    with pytest.raises(PolicyContractError, match="not unpickled"):
        model_kind(path)
    assert not marker.exists()


def test_an_sb3_archive_with_pickled_parts_is_refused_unrun(tmp_path):
    pytest.importorskip("stable_baselines3")
    from baselines.sb3_policy import SB3ModelError, load_policy

    marker = tmp_path / "ran"
    blob = __import__("base64").b64encode(pickle.dumps(Marker(marker))).decode()
    data = {
        "policy_class": {
            ":type:": "<class 'abc.ABCMeta'>",
            ":serialized:": blob,
            "__module__": "stable_baselines3.common.policies",
            "__init__": "<function MultiInputActorCriticPolicy.__init__ at 0x0>",
        },
        "policy_kwargs": {":type:": "<class 'dict'>", ":serialized:": blob},
    }
    path = tmp_path / "model.zip"
    weights = io.BytesIO()
    torch.save({}, weights)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data", json.dumps(data))
        archive.writestr("policy.pth", weights.getvalue())
    assert model_kind(path) == "sb3"
    with pytest.raises(SB3ModelError, match="pickled Python objects"):
        load_policy(path, smoke_env())
    data["policy_class"]["__module__"] = "os"
    data["policy_kwargs"] = {}
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data", json.dumps(data))
        archive.writestr("policy.pth", weights.getvalue())
    with pytest.raises(SB3ModelError, match="no Stable-Baselines3 policy class"):
        load_policy(path, smoke_env())
    assert not marker.exists()


def test_torchscript_policies_keep_the_same_contract(tmp_path):
    from tests.portia_envs.harness.scripted_policies import GoalPolicy, WrongShapePolicy

    env = smoke_env()
    metadata = policy_metadata(env.observation_space, env.action_space, suite="smoke-v0")
    good = tmp_path / "policy.ts"
    torch.jit.save(
        torch.jit.script(GoalPolicy()),
        str(good),
        _extra_files={"portia.json": json.dumps(metadata)},
    )
    observation, _ = env.reset(seed=0)
    policy = TorchScriptPolicy(good, env)
    expected = np.zeros(7, np.float32)
    expected[:3] = observation["desired_goal"] - observation["achieved_goal"]
    np.testing.assert_allclose(policy.act(observation), expected, atol=1e-6)
    bare = tmp_path / "bare.ts"
    torch.jit.save(torch.jit.script(GoalPolicy()), str(bare))
    with pytest.raises(PolicyContractError, match="portia.json"):
        TorchScriptPolicy(bare, env)
    wrong = tmp_path / "wrong.ts"
    torch.jit.save(
        torch.jit.script(WrongShapePolicy()),
        str(wrong),
        _extra_files={"portia.json": json.dumps(metadata)},
    )
    with pytest.raises(PolicyContractError, match=r"float32 \[1, 7\]"):
        TorchScriptPolicy(wrong, env)


def test_model_specs_resolve_hash_and_load(tmp_path):
    path = save(goal_policy(), tmp_path / "policy.onnx")
    assert resolve_spec(str(path)) == str(path.resolve())
    import hashlib

    assert agent_hash(str(path)) == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    factory = load_factory(str(path))
    assert factory.name == "policy.onnx" and factory.kind == "onnx"
    assert factory(smoke_env()).act(smoke_env().reset(seed=0)[0]).shape == (7,)
    with pytest.raises(Exception, match="does not exist"):
        resolve_spec(str(tmp_path / "missing.onnx"))


def test_shipped_bc_student_is_recognized_from_its_contents(tmp_path):
    from baselines.bc import student_path

    source = student_path("smoke_student")
    renamed = tmp_path / "anything.pt"
    renamed.write_bytes(source.read_bytes())
    assert model_kind(renamed) == "bc"
    agent = model_factory(renamed)(smoke_env())
    assert agent.act(smoke_env().reset(seed=0)[0]).shape == (7,)


def test_a_suite_of_several_bodies_needs_its_shared_layout_in_the_metadata(tmp_path):
    from portia_envs.harness.episode import suite_agent_env

    env = suite_agent_env("arm-bodies-v0")
    single = smoke_env()
    plain = policy_metadata(single.observation_space, single.action_space, suite="smoke-v0")
    with pytest.raises(PolicyContractError, match="declares observation keys"):
        OnnxPolicy(save(goal_policy(metadata=plain), tmp_path / "plain.onnx"), env)
    shared = policy_metadata(
        env.observation_space, env.action_space, suite="arm-bodies-v0", shared_layout=env.layout
    )
    assert "portia.shared_layout" in shared
    policy = OnnxPolicy(save(goal_policy(metadata=shared), tmp_path / "shared.onnx"), env)
    assert policy.act(env.reset(seed=0)[0]).shape == (7,)
    without = {k: v for k, v in shared.items() if k != "portia.shared_layout"}
    with pytest.raises(PolicyContractError, match="portia.shared_layout"):
        OnnxPolicy(save(goal_policy(metadata=without), tmp_path / "without.onnx"), env)
    with pytest.raises(PolicyContractError, match="one body"):
        keys_of_single = {**shared, "portia.observation_keys": plain["portia.observation_keys"]}
        OnnxPolicy(save(goal_policy(metadata=keys_of_single), tmp_path / "x.onnx"), single)


def test_portia_collect_plays_an_onnx_policy(tmp_path):
    pytest.importorskip("minari")
    from portia_envs.datasets import collect, load_dataset

    path = save(goal_policy(), tmp_path / "policy.onnx")
    collect(str(path), "smoke-v0", "train", 2, tmp_path / "data")
    assert load_dataset(tmp_path / "data").total_episodes == 2
