import gymnasium
import pytest
import torch

from baselines import bc, dt, ppo
from baselines.common import (
    CHECKPOINT_VERSION,
    agent_from_variable,
    load_checkpoint,
    model_variable,
    save_checkpoint,
    write_curve,
)
from portia_envs.errors import PortiaError
from portia_envs.harness.model_agents import model_kind

HEADER = {"format": "portia-checkpoint", "version": 1}


class DemoError(PortiaError):
    pass


def test_a_checkpoint_round_trips_its_content_with_a_versioned_header(tmp_path):
    content = {"weights": torch.arange(3.0), "config": {"hidden_sizes": [4, 4]}}
    path = save_checkpoint(tmp_path / "deep" / "m.pt", "bc", content)
    saved = torch.load(path, weights_only=True)
    assert {key: saved[key] for key in ("format", "version", "kind")} == {
        "format": "portia-checkpoint",
        "version": CHECKPOINT_VERSION,
        "kind": "bc",
    }
    loaded = load_checkpoint(path, "bc", DemoError)
    assert torch.equal(loaded["weights"], content["weights"])
    assert loaded["config"] == content["config"]
    assert model_kind(path) == "bc"


@pytest.mark.parametrize(
    ("saved", "message"),
    [
        ({**HEADER, "kind": "dt", "content": {}}, "it is a Decision Transformer model"),
        ({**HEADER, "version": 2, "kind": "bc", "content": {}}, "checkpoint version 2"),
        ({"weights": torch.zeros(1)}, "is no Portia checkpoint"),
        ([1, 2, 3], "is no Portia checkpoint"),
    ],
)
def test_load_refuses_another_kind_a_newer_version_or_a_foreign_file(tmp_path, saved, message):
    path = tmp_path / "m.pt"
    torch.save(saved, path)
    with pytest.raises(DemoError, match=message):
        load_checkpoint(path, "bc", DemoError)


def test_load_refuses_a_missing_file_and_a_file_torch_will_not_read_safely(tmp_path):
    with pytest.raises(DemoError, match="no BC model at .*portia train bc"):
        load_checkpoint(tmp_path / "missing.pt", "bc", DemoError)
    (tmp_path / "text.pt").write_text("not a checkpoint")
    with pytest.raises(DemoError, match="not a BC model: torch does not read it"):
        load_checkpoint(tmp_path / "text.pt", "bc", DemoError)


@pytest.mark.parametrize(
    ("legacy_format", "kind"), [("portia-bc", "bc"), ("portia-dt", "dt"), ("portia-ppo/1", "ppo")]
)
def test_a_file_written_before_the_shared_format_still_loads(tmp_path, legacy_format, kind):
    path = tmp_path / "old.pt"
    torch.save({"format": legacy_format, "format_version": 1, "state_dict": {"w": 1}}, path)
    assert load_checkpoint(path, kind, DemoError) == {"state_dict": {"w": 1}}
    assert model_kind(path) == kind


def test_the_shipped_students_load_and_resave_to_the_same_actions(tmp_path):
    env = gymnasium.make("Portia/Arm-v0", suite="smoke-v0", split="train")
    observation, _ = env.reset(seed=3)
    student = bc.smoke_student(env)
    student.save(tmp_path / "again.pt")
    again = bc.BCPolicy.load(tmp_path / "again.pt", env=env)
    assert torch.load(tmp_path / "again.pt", weights_only=True)["format"] == "portia-checkpoint"
    assert (again.act(observation) == student.act(observation)).all()
    env.close()


def test_every_baseline_names_its_model_variable_the_same_way():
    assert [module.MODEL_VARIABLE for module in (bc, dt, ppo)] == [
        "PORTIA_BC_MODEL",
        "PORTIA_DT_MODEL",
        "PORTIA_PPO_MODEL",
    ]
    assert model_variable("sac") == "PORTIA_SAC_MODEL"


def test_make_agent_loads_the_model_the_variable_names(monkeypatch, tmp_path):
    calls = []
    make_agent = agent_from_variable(
        "demo", lambda path, env: calls.append((path, env)) or "agent", DemoError, "; or X"
    )
    monkeypatch.delenv("PORTIA_DEMO_MODEL", raising=False)
    with pytest.raises(DemoError, match=r"set PORTIA_DEMO_MODEL to the path of a demo .*; or X$"):
        make_agent("env")
    monkeypatch.setenv("PORTIA_DEMO_MODEL", str(tmp_path / "m.pt"))
    assert make_agent("env") == "agent" and calls == [(str(tmp_path / "m.pt"), "env")]
    assert "PORTIA_DEMO_MODEL" in make_agent.__doc__


def test_the_curve_has_a_loss_panel_and_one_per_other_metric(tmp_path):
    curve = [(0, {"train_loss": 1.0}), (1, {"train_loss": 0.5, "validation_loss": 0.6})]
    curve += [(2, {"train_loss": 0.25, "validation_loss": 0.4, "success": 0.5})]
    write_curve(curve, "epoch", tmp_path / "c.png", title="demo")
    from PIL import Image

    with Image.open(tmp_path / "c.png") as image:
        width, height = image.size
    # Two panels of 3.2 inches each at 100 dpi: the losses, and success.
    assert (width, height) == (650, 640)
