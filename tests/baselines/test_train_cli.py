import dataclasses
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
from typer.testing import CliRunner

from baselines.train_cli import parse_options
from portia_envs.cli import app

runner = CliRunner()


def invoke(*arguments):
    return runner.invoke(app, ["train", *map(str, arguments)])


def test_train_bc_writes_the_policy_and_its_curve(smoke_dataset, tmp_path, one_thread):
    from baselines.bc import BCPolicy

    out = tmp_path / "models" / "bc.pt"
    result = invoke(
        *("bc", "--dataset", smoke_dataset, "--out", out, "--epochs", "2"),
        *("--hidden-sizes", "16", "16", "--validation-fraction", "0.5", "--seed", "3"),
    )
    assert result.exit_code == 0, result.output
    curve = tmp_path / "models" / "bc-curve.png"
    assert result.stdout.startswith("trained bc for 2 epochs: train loss ")
    assert f"wrote the policy to {out} (" in result.stdout and str(curve) in result.stdout
    assert curve.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    policy = BCPolicy.load(out)
    assert policy.config.hidden_sizes == (16, 16) and policy.config.seed == 3
    assert [entry["epoch"] for entry in policy.history] == [0, 1, 2]

    again = invoke("bc", "--dataset", smoke_dataset, "--out", out, "--epochs", "1")
    assert again.exit_code == 2 and "pass --overwrite" in again.output
    again = invoke("bc", "--dataset", smoke_dataset, "--out", out, "--epochs", "1", "--overwrite")
    assert again.exit_code == 0, again.output
    assert BCPolicy.load(out).config.epochs == 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["bcc"], "unknown algorithm 'bcc' (did you mean 'bc'?); accepted: bc"),
        ([], "name what to train: bc"),
        (["bc", "--out", "m.pt"], "Missing from portia train bc"),
        (["bc", "--dataset", "d", "--out", "m.pt", "--epocs", "3"], "--epochs INT"),
        (["bc", "--dataset", "d", "--out", "m.pt", "--epochs", "x"], "Error parsing --epochs"),
        (["bc", "--dataset", "d", "--out", "m.pt", "--hidden-sizes", "a"], "--hidden-sizes"),
        (["bc", "--dataset", "d", "--out", "m.pt", "--epochs", "0"], "epochs must be an integer"),
        (["bc", "--dataset", "d", "--out", "m.pt", "stray"], "Unrecognized"),
    ],
)
def test_train_refuses_bad_input_with_exit_code_2(tmp_path, arguments, message):
    pytest.importorskip("torch")
    result = invoke(*arguments)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "m.pt").exists()


def test_train_refuses_a_missing_dataset_with_exit_code_3(tmp_path):
    pytest.importorskip("torch")
    result = invoke("bc", "--dataset", tmp_path / "nowhere", "--out", tmp_path / "m.pt")
    assert result.exit_code == 3, result.output
    assert "no dataset at" in result.output and "the path does not exist" in result.output
    assert not (tmp_path / "m.pt").exists()


def test_train_without_torch_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now fails
    monkeypatch.delitem(sys.modules, "baselines.bc", raising=False)
    result = invoke("bc", "--dataset", tmp_path, "--out", tmp_path / "m.pt")
    assert result.exit_code == 1, result.output
    assert 'portia train bc needs torch: pip install "portia-envs[baselines]"' in result.output


def test_train_without_tyro_says_what_to_install(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.setitem(sys.modules, "tyro", None)  # import tyro now fails
    result = invoke("bc", "--dataset", tmp_path, "--out", tmp_path / "m.pt")
    assert result.exit_code == 1, result.output
    assert 'portia train bc needs tyro: pip install "portia-envs[baselines]"' in result.output


def test_train_help_lists_the_algorithms_and_their_options():
    pytest.importorskip("torch")
    general = invoke("--help")
    assert general.exit_code == 0 and "What to train: bc" in general.output
    specific = invoke("bc", "--help")
    assert specific.exit_code == 0
    text = " ".join(specific.output.replace("│", " ").split())
    assert "usage: portia train bc" in text and "--out PATH Where the trained policy" in text
    assert "Widths of the MLP's hidden layers" in text and "(default: 256 256)" in text


@pytest.mark.parametrize("algorithm", ["bc", "dt", "ppo", "dagger"])
def test_every_config_field_is_an_option_with_help(algorithm):
    pytest.importorskip("torch")
    from baselines.train_cli import load_algorithm

    result = invoke(algorithm, "--help")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.replace("│", " ").split())
    for field in dataclasses.fields(load_algorithm(algorithm).TRAIN_CONFIG):
        flag = re.escape("--" + field.name.replace("_", "-"))
        # Each option is followed by its type (or its --no- form) and its docstring.
        found = re.search(rf"{flag}(?:, --no-[\w-]+)? (\S+) (\S+)", text)
        assert found and not found[2].startswith("--"), (flag, found and found[0])


def test_options_come_from_the_config_fields_and_their_types():
    @dataclasses.dataclass(frozen=True)
    class Config:
        suite: str
        """The suite."""
        steps: int = 10
        """Gradient steps."""
        rate: float | None = None
        """A rate, or None."""
        sizes: tuple[int, ...] = (4, 4)
        """Layer widths."""
        anneal: bool = True
        """Anneal the rate."""
        log_dir: Path = Path("runs")
        """Where logs go."""

    module = types.SimpleNamespace(TRAIN_CONFIG=Config, __doc__="A demo.")
    arguments = ["--out", "m.pt", "--suite", "smoke-v0", "--rate", "0.5", "--sizes", "8", "16"]
    arguments += ["--no-anneal", "--log-dir", "elsewhere"]
    config, out, overwrite = parse_options("demo", module, arguments)
    assert (out, overwrite) == (Path("m.pt"), False)
    assert config == Config("smoke-v0", 10, 0.5, (8, 16), False, Path("elsewhere"))
    config, _, overwrite = parse_options(
        "demo", module, ["--out", "m", "--suite", "s", "--rate", "None", "--overwrite"]
    )
    assert config.rate is None and overwrite


def test_the_command_line_does_not_import_torch():
    code = "import sys, portia_envs.cli; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_train_dagger_writes_a_bc_student_with_its_history(tmp_path):
    pytest.importorskip("minari")
    from baselines.bc import BCPolicy

    out, work = tmp_path / "dagger.pt", tmp_path / "work"
    result = invoke(
        "dagger",
        *("--suite", "smoke-v0", "--teacher", "scripted", "--iterations", "1"),
        *("--episodes", "2", "--epochs", "2", "--hidden-sizes", "16", "16"),
        *("--work-dir", work, "--out", out),
    )
    assert result.exit_code == 0, result.output
    assert "trained dagger for 2 rollouts" in result.output and "labels 300" in result.output
    policy = BCPolicy.load(out)
    assert policy.config.hidden_sizes == (16, 16)
    assert policy.data["dagger"]["history"][0]["labels"] == 300
    assert (work / "iterations" / "00").is_dir() and (tmp_path / "dagger-curve.png").is_file()
    refused = invoke(
        "dagger", "--suite", "smoke-v0", "--beta-start", "2", "--out", tmp_path / "x.pt"
    )
    assert refused.exit_code == 2 and "beta_start must be a number in [0, 1]" in refused.output
