import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from portia_envs.cli import app
from portia_envs.cli.bench import parse_seeds
from portia_envs.harness.records import lock_run_directory
from portia_envs.results import write_results
from tests.portia_envs.harness.harness_runs import fake

runner = CliRunner()


def test_seeds_take_numbers_ranges_and_lists():
    assert parse_seeds("3") == [3]
    assert parse_seeds("0-2") == [0, 1, 2]
    assert parse_seeds("0,2,7-9") == [0, 2, 7, 8, 9]
    with pytest.raises(ValueError, match="integers and ranges"):
        parse_seeds("a")
    with pytest.raises(ValueError, match="runs backwards"):
        parse_seeds("4-1")
    with pytest.raises(ValueError, match="more than once"):
        parse_seeds("1,0-2")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--suite", "smok-v0"], "unknown suite 'smok-v0'"),
        (["--agent", "scriptd"], "did you mean 'scripted'"),
        (["--seeds", "x"], "--seeds takes integers"),
        (["--budget-ms", "20"], "--budget-ms applies to --track realtime only"),
        (["--track", "realtime", "--clock", "sundial"], "unknown --clock 'sundial'"),
        (["--track", "realtime", "--clock", "fixed:inf"], "unknown --clock 'fixed:inf'"),
        (["--timeout-s", "inf"], "--timeout-s must be a finite number from 0.001 to 86400"),
        (["--track", "realtime", "--budget-ms", "inf"], "--budget-ms must be a finite number"),
        (["--agent-memory-mb", "10"], "--agent-memory-mb must be a finite number from 512"),
        (["--agent-cpu-s", "nan"], "--agent-cpu-s must be a finite number from 1"),
        (["--seeds", "0-999999999"], "--seeds names more than 10,000 seeds"),
        (["--episodes", "1e9"], "Invalid value for '--episodes'"),
        (["--episodes", "200000"], "episodes must be an integer from 1 to 100,000"),
        (["--episodes", "90000", "--seeds", "0-20"], "at most 1,000,000 are accepted"),
        (["--workers", "5000"], "workers must be an integer from 1 to 1024"),
    ],
)
def test_bench_refuses_bad_options_with_exit_code_2(tmp_path, options, message):
    base = {"--agent": "scripted", "--suite": "smoke-v0", "--out": str(tmp_path)}
    for flag, value in zip(options[::2], options[1::2], strict=True):
        base[flag] = value
    result = runner.invoke(app, ["bench", *[part for item in base.items() for part in item]])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not any(tmp_path.iterdir())


def test_bench_refuses_to_overwrite_a_run(tmp_path):
    (tmp_path / "episodes.jsonl").write_text("{}\n")
    result = runner.invoke(
        app, ["bench", "--agent", "scripted", "--suite", "smoke-v0", "--out", str(tmp_path)]
    )
    assert result.exit_code == 3 and "already holds the records" in result.output
    assert "--overwrite to replace it" in result.output
    assert (tmp_path / "episodes.jsonl").read_text() == "{}\n"


def test_bench_overwrite_replaces_the_earlier_run_and_nothing_else(tmp_path):
    (tmp_path / "episodes.jsonl").write_text("{}\n")
    (tmp_path / "results.json").write_text("{}\n")
    (tmp_path / "notes.txt").write_text("mine\n")
    command = ["bench", "--agent", "scripted", "--suite", "smoke-v0", "--out", str(tmp_path)]
    command += ["--episodes", "1", "--isolation", "in-process"]
    result = runner.invoke(app, [*command, "--overwrite"])
    assert result.exit_code == 0, result.output
    results = json.loads((tmp_path / "results.json").read_text())
    assert len(results["episodes"]) == 3  # one per task of smoke-v0
    assert (tmp_path / "episodes.jsonl").read_text().count("\n") == 4  # header, 3 episodes
    assert (tmp_path / "notes.txt").read_text() == "mine\n"
    both = runner.invoke(app, [*command, "--overwrite", "--resume"])
    assert both.exit_code == 2 and "pass one" in both.output


def test_validate_and_report_a_results_file(tmp_path, smoke_results):
    path = tmp_path / "results.json"
    write_results(smoke_results, path)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert (
        "valid; 3 tasks, scores recomputed from the episodes match (success train 100%, "
        "held-out 100%; IQM train "
    ) in result.output
    result = runner.invoke(app, ["report", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    header = next(line for line in lines if line.startswith("split"))
    assert header.split()[1:3] == ["success", "rate"]  # the first metric column
    gaps = [line for line in lines if line.startswith("generalization gap")]
    assert gaps[0] == "generalization gap in success (train - heldout): 0 points [0, 0]"
    assert gaps[1].startswith("generalization gap in IQM (train - heldout): ")
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == [
        "report.html",
        "splits.png",
        "success.png",
        "tasks.png",
    ]


def test_validate_fails_on_a_tampered_file_with_exit_code_3(tmp_path, smoke_results):
    path = tmp_path / "results.json"
    tampered = json.loads(json.dumps(smoke_results))
    tampered["scores"]["generalization_gap"]["value"] = 50.0
    write_results(tampered, path)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 3
    assert "generalization_gap.value is 50.0" in result.output


@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=20, unique=True))
def test_any_list_of_distinct_seeds_parses_back(seeds):
    assert parse_seeds(",".join(map(str, seeds))) == seeds


@given(st.integers(0, 1000), st.integers(0, 50))
def test_a_range_of_seeds_is_every_seed_in_it(first, length):
    assert parse_seeds(f"{first}-{first + length}") == list(range(first, first + length + 1))


def bench_args(out, agent="scripted", *options):
    return ["bench", "--agent", agent, "--suite", "smoke-v0", "--out", str(out), *options]


def test_an_agent_that_cannot_act_exits_4_before_anything_is_written(tmp_path):
    result = runner.invoke(app, bench_args(tmp_path / "out", fake("Broken")))
    assert result.exit_code == 4, result.output
    assert "cannot act (preflight on reach-centre, one step)" in result.output
    assert "RuntimeError: the agent broke on purpose" in result.output
    assert "Traceback" not in result.output
    assert "fake_agents.py" in result.output  # where the agent raised
    assert not (tmp_path / "out").exists()


def test_failed_episodes_are_listed_and_exit_5_unless_allowed(tmp_path):
    # One episode per task: reach-high-left's fails (the fake agent's even agent seed).
    result = runner.invoke(app, bench_args(tmp_path / "a", fake("Raising"), "--episodes", "1"))
    assert result.exit_code == 5, result.output
    assert (
        "FAILED:" in result.output and "RuntimeError: the agent broke on purpose" in result.output
    )
    assert "--allow-failures" in result.output
    assert (tmp_path / "a" / "results.json").exists()
    allowed = runner.invoke(
        app, bench_args(tmp_path / "b", fake("Raising"), "--episodes", "1", "--allow-failures")
    )
    assert allowed.exit_code == 0, allowed.output
    assert "FAILED:" in allowed.output


def test_a_directory_in_use_by_a_run_is_refused(tmp_path):
    with lock_run_directory(tmp_path):
        result = runner.invoke(app, bench_args(tmp_path, "scripted", "--episodes", "1"))
    assert result.exit_code == 3, result.output
    assert "is in use by a run in progress (pid " in result.output
    assert not (tmp_path / "episodes.jsonl").exists()
