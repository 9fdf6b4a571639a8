import math

import numpy as np
import pytest

from portia_envs.errors import RecordsError
from portia_envs.harness import metrics
from portia_envs.harness.scores import (
    AGGREGATES,
    BOOTSTRAP_SEED,
    compute_scores,
    episode_limit,
    latency_compliance,
    normalized_score,
    scored_return,
)
from portia_envs.suites import get_suite
from portia_envs.suites.reference import ReferenceTable
from tests.portia_envs.harness.test_records import record

SMOKE = get_suite("smoke-v0")
# The worst any period can earn: minus the workspace box's diagonal (reach), 1.5 times
# that for families with an approach term of weight 0.5 (push).
DIAGONAL_M = math.dist((-1.5, -1.5, -0.75), (1.5, 1.5, 1.5))
REACH_FLOOR, PUSH_FLOOR = -DIAGONAL_M, -1.5 * DIAGONAL_M
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
                        length=100,
                        periods=100,
                        **{"return": -20.0},
                    )
                )
            else:
                found.append(
                    record(**job_fields, split=split, **{"return": value}, success=value > -10)
                )
    return found


def test_scores_worked_out_by_hand():
    # Normalized: reach-centre 90, 80, 70; push-centre 50, 40 and a failure after 100 of
    # 150 periods with -20 earned: -20 + 50 periods at the floor; held out 60, 60, 60.
    failed = 100 + (-20 + 50 * PUSH_FLOOR)
    assert failed == pytest.approx(-280.17, abs=0.01)
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
    assert push["normalized"]["value"] == pytest.approx((50 + 40 + failed) / 3)
    assert push["mean_return"] == pytest.approx((-50 - 60 + failed - 100) / 3)
    assert push["failed"] == 1 and push["success_rate"] == 0.0
    train = scores["splits"]["train"]
    # IQM of the 6 train scores: drop the failure and 90, mean of 40, 50, 70, 80 = 60.
    assert train["iqm"]["value"] == pytest.approx(60.0)
    assert train["mean"]["value"] == pytest.approx((80 + (90 + failed) / 3) / 2)
    assert train["median"]["value"] == train["mean"]["value"]  # of two task means
    assert train["optimality_gap"]["value"] == pytest.approx(100 - (330 + failed) / 6)
    heldout = scores["splits"]["heldout"]
    assert heldout["iqm"] == {
        "value": pytest.approx(60.0),
        "low": pytest.approx(60.0),
        "high": pytest.approx(60.0),
    }
    assert scores["generalization_gap"]["value"] == pytest.approx(0.0)
    assert scores["latency"] is None
    assert train["iqm"]["low"] <= 60.0 <= train["iqm"]["high"]


def test_success_gap_worked_out_by_hand():
    # A return above -10 succeeds. Train: reach-centre 2 of 3, push-centre 1 of 3, so the
    # train success rate is mean(2/3, 1/3) = 0.5; held out: reach-high-left 0 of 3.
    scores = compute_scores(
        SMOKE,
        records(
            {
                "reach-centre": [-1, -1, -50],
                "push-centre": [-1, -50, -50],
                "reach-high-left": [-50, -50, -50],
            }
        ),
        TABLE,
        reps=200,
    )
    assert scores["splits"]["train"]["success_rate"]["value"] == pytest.approx(0.5)
    assert scores["splits"]["heldout"]["success_rate"]["value"] == 0.0
    gap = scores["success_gap"]
    assert gap["value"] == pytest.approx(0.5 - 0.0)
    # Every resample of the held-out column is all failures, so the interval is the train
    # rate's: a mean of two task rates, each a multiple of 1/3, within [0, 1].
    assert 0.0 <= gap["low"] <= 0.5 <= gap["high"] <= 1.0
    assert gap["high"] - gap["low"] > 0


def test_success_gap_of_runs_without_variation_has_no_width():
    # Every train episode succeeds and every held-out one fails: 1 - 0 = 1, in every resample.
    scores = compute_scores(
        SMOKE,
        records({"reach-centre": [-1, -2], "push-centre": [-3, -4], "reach-high-left": [-50, -60]}),
        TABLE,
        reps=50,
    )
    assert scores["success_gap"] == {"value": 1.0, "low": 1.0, "high": 1.0}


def test_the_success_gap_is_drawn_last_so_the_other_scores_keep_their_values():
    episodes = records(
        {
            "reach-centre": [-1, -25, -30],
            "push-centre": [-5, -60, -7],
            "reach-high-left": [-40, -4, -90],
        }
    )
    scores = compute_scores(SMOKE, episodes, TABLE, reps=100)
    # Replay the draws made before the success gap existed, in their order: per split each
    # task's interval, then the split's aggregates and success rate; then the IQM gap. Its
    # interval comes out the same, so nothing new is drawn before it.
    normalized = np.array([normalized_score(r, SMOKE, TABLE) for r in episodes])
    train, heldout = normalized[:6].reshape(2, 3).T, normalized[6:].reshape(1, 3).T
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    for split in (train, heldout):
        for column in split.T:
            metrics.interval(column[:, None], metrics.mean_score, rng=rng, reps=100)
        for statistic in (*AGGREGATES.values(), metrics.mean_score):
            metrics.interval(split, statistic, rng=rng, reps=100)
    assert scores["generalization_gap"] == metrics.generalization_gap(
        train, heldout, rng=rng, reps=100
    )


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


def test_a_failed_episode_earns_the_floor_for_every_period_it_did_not_play():
    assert episode_limit(SMOKE.env_id) == 150
    failed = records({"reach-centre": [None], "push-centre": [-5], "reach-high-left": [-5]})[0]
    assert scored_return(failed, SMOKE) == pytest.approx(-20 + 50 * REACH_FLOOR)
    assert normalized_score(failed, SMOKE, TABLE) == pytest.approx(80 + 50 * REACH_FLOOR)
    at_once = {**failed, "return": 0.0, "length": 0, "periods": 0}
    assert scored_return(at_once, SMOKE) == pytest.approx(150 * REACH_FLOOR)
    # A completed episode is scored by its own return, however long.
    assert scored_return({**failed, "status": "ok"}, SMOKE) == -20.0


@pytest.mark.parametrize("status", ["error", "timeout"])
@pytest.mark.parametrize("periods", [0, 1, 75, 149])
def test_failing_never_beats_any_honest_continuation(status, periods):
    # An honest agent earns at least the floor per period from where the failure struck,
    # and holding still earns more than that (here: the push task's hold-still average).
    hold_still_per_period = -0.34
    assert PUSH_FLOOR < hold_still_per_period
    earned = -0.3 * periods
    failed = record(
        task_id="push-centre",
        family="push",
        status=status,
        error="x",
        success=False,
        length=periods,
        periods=periods,
        **{"return": earned},
    )
    honest = earned + (150 - periods) * hold_still_per_period
    assert scored_return(failed, SMOKE) < honest


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
