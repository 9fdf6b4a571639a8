import pytest

from portia_envs.errors import RecordsError
from portia_envs.harness.scores import compute_scores, latency_compliance, normalized_score
from portia_envs.suites import get_suite
from portia_envs.suites.reference import ReferenceTable
from tests.portia_envs.harness.test_records import record

SMOKE = get_suite("smoke-v0")
# Random -100, teacher 0 on every task: a return R normalizes to 100 + R.
TABLE = ReferenceTable(
    "smoke-v0",
    SMOKE.hash,
    {t.task_id: {"random": -100.0, "teacher": 0.0} for t in SMOKE.train + SMOKE.heldout},
    {},
)


def records(returns):
    """Records of each task's episodes (seed 0), given {task_id: [return, ...]}."""
    found = []
    for task in SMOKE.train + SMOKE.heldout:
        for episode, value in enumerate(returns[task.task_id]):
            job_fields = {"task_id": task.task_id, "family": task.family, "episode": episode}
            split = "train" if task in SMOKE.train else "heldout"
            if value is None:
                found.append(
                    record(
                        **job_fields,
                        split=split,
                        status="error",
                        error="boom",
                        success=False,
                        **{"return": 0.0},
                    )
                )
            else:
                found.append(
                    record(**job_fields, split=split, **{"return": value}, success=value > -10)
                )
    return found


def test_scores_worked_out_by_hand():
    # Normalized: reach-centre 90, 80, 70; push-centre 50, 40, 0 (failed); held out 60, 60, 60.
    scores = compute_scores(
        SMOKE,
        records(
            {
                "reach-centre": [-10, -20, -30],
                "push-centre": [-50, -60, None],
                "reach-high-left": [-40, -40, -40],
            }
        ),
        TABLE,
        reps=200,
    )
    reach = scores["tasks"]["reach-centre"]
    assert reach["normalized"]["value"] == pytest.approx(80.0)
    assert reach["mean_return"] == pytest.approx(-20.0)
    assert reach["success_rate"] == 0.0 and reach["failed"] == 0
    push = scores["tasks"]["push-centre"]
    assert push["normalized"]["value"] == pytest.approx(30.0) and push["failed"] == 1
    train = scores["splits"]["train"]
    # IQM of the 6 train scores: drop 0 and 90, mean of 40, 50, 70, 80 = 60.
    assert train["iqm"]["value"] == pytest.approx(60.0)
    assert train["mean"]["value"] == pytest.approx(55.0)  # tasks 80 and 30
    assert train["median"]["value"] == pytest.approx(55.0)
    assert train["optimality_gap"]["value"] == pytest.approx(100 - 330 / 6)
    heldout = scores["splits"]["heldout"]
    assert heldout["iqm"] == {
        "value": pytest.approx(60.0),
        "low": pytest.approx(60.0),
        "high": pytest.approx(60.0),
    }
    assert scores["generalization_gap"]["value"] == pytest.approx(0.0)
    assert scores["latency"] is None
    assert train["iqm"]["low"] <= 60.0 <= train["iqm"]["high"]


def test_scores_are_reproducible_and_do_not_depend_on_record_order():
    episodes = records(
        {
            "reach-centre": [-10, -25, -30],
            "push-centre": [-5, -60, -70],
            "reach-high-left": [-40, -41, -90],
        }
    )
    first = compute_scores(SMOKE, episodes, TABLE, reps=300)
    assert compute_scores(SMOKE, episodes[::-1], TABLE, reps=300) == first
    assert compute_scores(SMOKE, episodes, TABLE, reps=300, seed=1) != first


def test_a_failed_episode_scores_zero():
    failed = records({"reach-centre": [None], "push-centre": [-5], "reach-high-left": [-5]})[0]
    assert normalized_score(failed, TABLE) == 0.0


def test_incomplete_or_misaligned_runs_are_refused():
    episodes = records({"reach-centre": [-1, -2], "push-centre": [-1, -2], "reach-high-left": [-1]})
    with pytest.raises(RecordsError, match=r"task 'reach-high-left' has runs \(seed, episode\)"):
        compute_scores(SMOKE, episodes, TABLE)
    without = [r for r in episodes if r["task_id"] != "push-centre"]
    with pytest.raises(RecordsError, match="no episode of task 'push-centre' is recorded"):
        compute_scores(SMOKE, without, TABLE)
    stranger = {**episodes[0], "task_id": "fly"}
    with pytest.raises(RecordsError, match="task 'fly', not in smoke-v0"):
        compute_scores(SMOKE, [stranger, *episodes], TABLE)


def test_latency_compliance_counts_decisions_within_budget():
    episodes = [
        record(episode=0, latencies_ms=[10.0, 30.0, 10.0], overran=1),
        record(episode=1, latencies_ms=[5.0], overran=0),
        record(episode=2, status="timeout", latencies_ms=None, overran=None),
    ]
    summary = latency_compliance(episodes, 20.0)
    assert summary["decisions"] == 4 and summary["within_budget"] == 3
    assert summary["compliance"] == 0.75
    assert summary["mean_ms"] == pytest.approx(13.75) and summary["max_ms"] == 30.0
    assert summary["p50_ms"] == 10.0
    assert latency_compliance([], 20.0)["compliance"] is None
