import pytest

from portia_envs.harness.scores import compute_scores
from portia_envs.suites.reference import load_reference
from tests.scripts.conftest import load_script


@pytest.fixture(scope="module")
def table():
    return load_script("results_table")


def estimate(value, low, high):
    return {"value": value, "low": low, "high": high}


def results(train, heldout, latency=None, success=((0.9, 0.8, 1.0), (0.5, 0.3, 0.7))):
    """A results dict with the scores the tables read: IQM and success rate per split."""
    (train_success, heldout_success) = success
    return {
        "scores": {
            "splits": {
                "train": {"iqm": estimate(*train), "success_rate": estimate(*train_success)},
                "heldout": {"iqm": estimate(*heldout), "success_rate": estimate(*heldout_success)},
            },
            "success_gap": estimate(0.4, 0.2, 0.6),
            "latency": latency,
            "tasks": {
                "reach-a": {"family": "reach", "split": "train", "success_rate": train_success[0]},
                "reach-b": {
                    "family": "reach",
                    "split": "heldout",
                    "success_rate": heldout_success[0],
                },
            },
        }
    }


REALTIME = {"compliance": 0.25, "p50_ms": 151.26}


def test_the_scores_table_has_a_row_per_agent_with_intervals_and_compliance(table):
    rows = [
        table.Row("teacher", "paused", results((100.04, 99.1, 100.7), (99.5, 98.7, 99.9))),
        table.Row(
            "DAgger student, 2 iterations",
            "realtime",
            results((61.2, 40.0, 80.0), (55, 50, 60), REALTIME),
            env_steps=9000,
            imagined=1234567,
        ),
    ]
    lines = table.scores_table(rows).splitlines()
    assert len(lines) == 4 and lines[1] == "|---|---|---|---|---|---|---|---|---|---|"
    assert lines[0] == (
        "| agent | track | train success [95% CI] | held-out success [95% CI] "
        "| success gap [95% CI] | train IQM [95% CI] | held-out IQM [95% CI] "
        "| decisions within 20 ms | env steps | teacher-imagined periods |"
    )
    assert lines[2] == (
        "| teacher | paused | 90% [80, 100] | 50% [30, 70] | 40 points [20, 60] "
        "| 100.0 [99.1, 100.7] | 99.5 [98.7, 99.9] | - | - | - |"
    )
    assert lines[3].endswith("| 25% (p50 151.26 ms) | 9,000 | 1,234,567 |")


def test_a_run_cached_before_the_success_gap_is_rescored_from_its_episodes(table):
    from tests.portia_envs.harness.test_scores import SMOKE, TABLE, records

    # A return above -10 succeeds: train 2 of 2 and 1 of 2 (rate 0.75), held out 0 of 2.
    episodes = records(
        {"reach-centre": [-1, -2], "push-centre": [-3, -40], "reach-high-left": [-50, -60]}
    )
    older = {
        "suite": {"name": SMOKE.name},
        "track": "paused",
        "budget_ms": None,
        "episodes": episodes,
        "scores": compute_scores(SMOKE, episodes, TABLE, reps=50),
    }
    del older["scores"]["success_gap"]
    scores = table.success_scores(older)
    assert scores["success_gap"]["value"] == 0.75 - 0.0
    # Scored with the suite's own reference table and the stored bootstrap settings.
    assert scores == compute_scores(SMOKE, episodes, load_reference(SMOKE), reps=50)
    line = table.scores_table([table.Row("old", "paused", older)]).splitlines()[2]
    assert line.startswith("| old | paused | 75% [")
    assert "| 0% [0, 0] | 75 points [" in line
    # Stored scores that have the gap are used as they are.
    assert table.success_scores(results((1, 1, 1), (1, 1, 1)))["success_gap"]["value"] == 0.4


def test_the_page_has_every_suite_the_sweep_the_stage_times_and_its_plots(table, tmp_path):
    fast = {"compliance": 1.0, "p50_ms": 0.041}
    rows = [table.Row("BC student", "realtime", results((98, 97, 99), (93, 92, 95), fast), 9000)]
    sweep = [
        table.Row(f"{w}, {w}", "realtime", results((w, w - 1, w + 1), (w, w, w), fast), None, p)
        for w, p in ((4, 150), (64, 5800))
    ]
    doc = tmp_path / "docs" / "results.md"
    doc.parent.mkdir()
    page = table.document(
        {"arm-reach-v0": rows, "arm-gen-v0": rows},
        [("BC", "arm-reach-v0", sweep), ("DAgger", "arm-gen-v0", sweep)],
        {"arm-reach-v0: collect": 600.0, "arm-reach-v0: train bc": 30.0},
        doc,
        workers=2,
    )
    assert "## arm-reach-v0" in page and "## arm-gen-v0" in page
    assert "in 10 min" in page and "2 worker processes" in page
    assert (
        "| 64, 64 | 5,800 | 0.041 ms | 90% [80, 100] | 50% [30, 70] "
        "| 64.0 [63.0, 65.0] | 64.0 [64.0, 64.0] |"
    ) in page
    assert "| hidden widths | parameters | p50 latency | train success [95% CI] " in page
    assert "Success rate leads" in page and "hovers near the goal" in page
    assert "| arm-reach-v0: collect | 10.0 |" in page
    assert "## How small can the BC student be? (arm-reach-v0)" in page
    assert "## How small can the DAgger student be? (arm-gen-v0)" in page
    assert "each its own DAgger run" in page and "teacher-imagined periods" in page
    figures = (
        "scores.png",
        "student-size-bc-arm-reach-v0.png",
        "student-size-dagger-arm-gen-v0.png",
    )
    for figure in figures:
        assert f"(results/{figure})" in page
        assert (doc.parent / "results" / figure).stat().st_size > 10_000


def test_a_stage_whose_output_exists_is_not_run_again(table, tmp_path):
    stages = table.Stages(tmp_path, workers=1)
    made = []

    def make(path):
        made.append(path)
        path.write_text("done")

    target = tmp_path / "stage.txt"
    assert stages.once("stage", target, make) == target
    assert stages.once("stage", target, make) == target
    assert made == [target] and set(stages.seconds) == {"stage"}


def test_the_dataset_sentence_counts_episodes_steps_success_and_thinking(table, smoke_dataset):
    from portia_envs.datasets import load_dataset

    dataset = load_dataset(smoke_dataset)
    sentence = table.describe_dataset(smoke_dataset)
    assert sentence.startswith("Demonstrations: 4 scripted episodes of the train tasks, ")
    assert f" {dataset.total_steps:,} steps, " in sentence
    assert sentence.endswith("0.000 s thinking and 0 imagined periods per decision.")


def test_the_headline_table_replaces_the_readmes_results_table_and_nothing_else(table):
    readme = (
        "# Portia\n\nintro | not a table row\n\n## Results\n\nOn arm-gen-v0:\n\n"
        "| agent | score |\n|---|---|\n| old | 1 |\n\n![plot](p.png)\n\n## Next\n\n| a |\n"
    )
    new = "| agent | score |\n|---|---|\n| teacher | 99 |\n| student | 60 |\n"
    written = table.with_headline_table(readme, new)
    assert written == readme.replace("| old | 1 |", "| teacher | 99 |\n| student | 60 |")
    assert table.with_headline_table(written, new) == written
    with pytest.raises(ValueError, match="no table under '## Results'"):
        table.with_headline_table("# Portia\n\n## Results\n\nno table yet\n", new)


def test_the_family_table_averages_each_familys_tasks_per_split(table):
    def task(family, split, rate):
        return {"family": family, "split": split, "success_rate": rate}

    tasks = {
        "reach-a": task("reach", "train", 1.0),
        "reach-b": task("reach", "train", 0.5),
        "push-a": task("push", "train", 0.2),
        "reach-c": task("reach", "heldout", 0.4),
    }
    row = table.Row("BC student", "realtime", {"scores": {"tasks": tasks}})
    lines = table.family_table([row]).splitlines()
    assert lines[0] == (
        "| agent | track | reach (train) | push (train) | reach (held out) | push (held out) |"
    )
    assert lines[1] == "|---|---|---|---|---|---|"
    assert lines[2] == "| BC student | realtime | 75% | 20% | 40% | - |"
