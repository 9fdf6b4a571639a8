from pathlib import Path

import pytest
from typer.testing import CliRunner

from portia_envs.cli import app
from portia_envs.datasets import load_dataset

runner = CliRunner()


def invoke(*options):
    return runner.invoke(app, ["collect", *options])


def test_collect_writes_a_dataset_and_sums_it_up(tmp_path):
    out = tmp_path / "smoke"
    result = invoke("--agent", "scripted", "--suite", "smoke-v0", "--episodes", "2", "--out", out)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        "collected 2 episodes, 300 steps, 100% success, 0.000 s thinking per decision; "
        f"wrote portia/smoke-v0-train/scripted-v0 to {out} ("
    )
    dataset = load_dataset(out)
    assert dataset.total_episodes == 2 and dataset.storage.metadata["portia"]["seed"] == 0

    again = invoke(
        *("--agent", "scripted", "--suite", "smoke-v0", "--split", "heldout"),
        *("--episodes", "1", "--seed", "4", "--out", out),
    )
    assert again.exit_code == 3 and "pass --overwrite" in again.output
    again = invoke(
        *("--agent", "scripted", "--suite", "smoke-v0", "--split", "heldout"),
        *("--episodes", "1", "--seed", "4", "--out", out, "--overwrite"),
    )
    assert again.exit_code == 0, again.output
    assert load_dataset(out).spec.dataset_id == "portia/smoke-v0-heldout/scripted-v0"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--suite", "smok-v0"], "unknown suite 'smok-v0'"),
        (["--split", "heldot"], "did you mean 'heldout'"),
        (["--agent", "scriptd"], "did you mean 'scripted'"),
        (["--agent", "missing.py"], "agent file 'missing.py'"),
        (["--episodes", "0"], "greater than or equal to 1"),
        (["--workers", "0"], "greater than or equal to 1"),
        (["--backend", "dask"], "'dask' is not one of"),
        (["--address", "auto"], "for the ray backend only"),
    ],
)
def test_collect_refuses_bad_options_with_exit_code_2(tmp_path, options, message):
    base = {"--agent": "scripted", "--suite": "smoke-v0", "--out": str(tmp_path / "out")}
    base.update(zip(options[::2], options[1::2], strict=True))
    result = invoke(*[part for item in base.items() for part in item])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not (tmp_path / "out").exists()


def test_collect_keeps_a_directory_of_other_files(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    for extra, message in (([], "is not empty"), (["--overwrite"], "not a Portia dataset")):
        result = invoke("--agent", "random", "--suite", "smoke-v0", "--out", tmp_path, *extra)
        assert result.exit_code == 3 and message in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_a_failing_agent_exits_1_and_writes_nothing(tmp_path):
    agent = f"{Path(__file__).parent / 'harness' / 'fake_agents.py'}:Raising"
    result = invoke(
        *("--agent", agent, "--suite", "smoke-v0", "--episodes", "3", "--out", tmp_path / "out")
    )
    assert result.exit_code == 1
    assert "episode 2 (task reach-centre, reset seed 2576708506) failed" in result.output
    assert list(tmp_path.iterdir()) == []
