import shutil

import pytest

from tests.scripts.conftest import load_script
from tests.scripts.test_results_table import results


@pytest.fixture(scope="module")
def budget():
    return load_script("ppo_budget")


def test_checkpoints_grow_fourfold_from_the_demonstrations_to_the_budget(budget):
    assert budget.checkpoint_steps(9000, 4_415_400) == [
        9000,
        36_000,
        144_000,
        576_000,
        2_304_000,
        4_415_400,
    ]
    assert budget.checkpoint_steps(10, 40) == [10, 40]
    assert budget.checkpoint_steps(10, 10) == [10]
    assert budget.checkpoint_steps(3, 20, growth=2) == [3, 6, 12, 20]


@pytest.mark.parametrize(("first", "growth"), [(0, 4), (10, 1)])
def test_checkpoints_need_a_first_count_and_a_growth(budget, first, growth):
    with pytest.raises(ValueError, match="need first >= 1 and growth >= 2"):
        budget.checkpoint_steps(first, 100, growth)


def test_the_page_has_the_cost_the_student_each_checkpoint_and_the_plot(budget, tmp_path):
    fast = {"compliance": 1.0, "p50_ms": 0.2}
    student = budget.Row("BC student", "realtime", results((97, 96, 98), (95, 94, 96), fast), 9000)
    checkpoints = [
        budget.Row("PPO from scratch", "realtime", results((s, s - 2, s + 2), (s, s, s), fast), n)
        for s, n in ((10, 10_240), (60, 4_415_488))
    ]
    doc = tmp_path / "docs" / "ppo-budget.md"
    doc.parent.mkdir()
    page = budget.document(
        "arm-reach-v0",
        checkpoints,
        student,
        (9000, 4_406_400),
        "Demonstrations: 60 teacher episodes.",
        {"arm-reach-v0: train ppo, 4,415,400 steps": 1800.0},
        doc,
        workers=2,
    )
    assert page.startswith("# PPO given the teacher's cost (arm-reach-v0)")
    assert "in 30 min" in page
    assert "cost the teacher 4,415,400 simulated steps: the 9,000 it took and the " in page
    assert "| BC student | realtime | 90% [80, 100] | 50% [30, 70] | 40 points [20, 60] " in page
    assert "| 97.0 [96.0, 98.0] | 95.0 [94.0, 96.0] | 100% (p50 0.20 ms) | 9,000 |" in page
    assert "| 60.0 [58.0, 62.0] | 60.0 [60.0, 60.0] | 100% (p50 0.20 ms) | 4,415,488 |" in page
    assert page.index("| 10,240 |") < page.index("| 4,415,488 |")
    assert "(ppo-budget/scores.png)" in page
    assert (doc.parent / "ppo-budget" / "scores.png").stat().st_size > 10_000


@pytest.mark.slow  # half a minute of training: run with -m slow
def test_a_small_run_writes_the_page_and_reuses_what_it_made(budget, smoke_dataset, tmp_path):
    out, doc = tmp_path / "runs", tmp_path / "docs" / "ppo-budget.md"
    shutil.copytree(smoke_dataset, out / "smoke-v0" / "teacher-data")  # scripted, 600 steps
    arguments = ["--suite", "smoke-v0", "--budget", "1000", "--episodes", "1", "--workers", "1"]
    budget.main([*arguments, "--out", str(out), "--doc", str(doc)])
    page = doc.read_text()
    # Saved after 600 steps and at the end: one rollout of 8 x 256 steps held both.
    assert page.count("| PPO from scratch | realtime |") == 2
    assert page.count("| 2,048 |") == 2 and "| BC student | realtime |" in page
    assert {p.name for p in (out / "smoke-v0" / "models" / "ppo-1000").iterdir()} == {
        "ppo-600.pt",
        "ppo-1000.pt",
    }
    assert (doc.parent / "ppo-budget" / "ppo-curve.png").is_file()
    made = (out / "smoke-v0" / "runs" / "bc" / "results.json").stat().st_mtime_ns
    budget.main([*arguments, "--out", str(out), "--doc", str(doc)])
    assert (out / "smoke-v0" / "runs" / "bc" / "results.json").stat().st_mtime_ns == made
