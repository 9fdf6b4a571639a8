import copy

from typer.testing import CliRunner

from portia_envs.cli import app
from portia_envs.harness.scores import compute_scores
from portia_envs.results import TaskFailures, failed_episodes, write_results
from portia_envs.suites import get_suite
from portia_envs.suites.reference import load_reference

runner = CliRunner()
SMOKE = get_suite("smoke-v0")
NOT_PROOF = "A self-consistent results file is not proof that its episodes happened"


def with_failures(results):
    """``results`` with two push-centre episodes failed, scored as the harness scores them."""
    results = copy.deepcopy(results)
    for index, error in ((3, "RuntimeError: second\nTraceback ..."), (2, "ValueError: first")):
        record = results["episodes"][index]
        assert record["task_id"] == "push-centre"
        record.update(status="error", error=error, success=False)
    results["scores"] = compute_scores(SMOKE, results["episodes"], load_reference(SMOKE))
    return results


def test_failed_episodes_are_counted_per_task_with_the_first_error(smoke_results):
    assert failed_episodes(smoke_results) == {}
    assert failed_episodes(with_failures(smoke_results)) == {
        "push-centre": TaskFailures(failed=2, episodes=2, first_error="ValueError: first")
    }


def test_validate_says_a_valid_file_is_no_proof(tmp_path, smoke_results):
    path = tmp_path / "results.json"
    write_results(smoke_results, path)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "valid; 3 tasks, scores recomputed from the episodes match" in lines[0]
    assert "failed episodes" not in result.output
    assert lines[-1].startswith(NOT_PROOF)
    assert "leaderboard re-runs the policy on hidden seeds" in lines[-1]


def test_validate_lists_failed_episodes_with_the_first_line_of_the_first_error(
    tmp_path, smoke_results
):
    path = tmp_path / "results.json"
    write_results(with_failures(smoke_results), path)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1] == "failed episodes (scored as failures), per task, with the first error:"
    assert lines[2] == "  push-centre: 2 of 2 failed; ValueError: first"
    assert lines[3].startswith(NOT_PROOF)


def test_validate_refuses_a_tampered_file_and_says_why(tmp_path, smoke_results):
    path = tmp_path / "results.json"
    tampered = copy.deepcopy(smoke_results)
    tampered["scores"]["bootstrap"]["reps"] = 10**9
    write_results(tampered, path)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 3
    assert "1000000000 is greater than the maximum of 100000" in result.output
    assert NOT_PROOF not in result.output
