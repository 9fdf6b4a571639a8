"""benchmarks/dagger_labels.py, tiny: every way labels the same rollouts; JSON written."""

import json
from pathlib import Path

import pytest

from tests.scripts.conftest import load_benchmark

pytest.importorskip("torch")

TINY = [
    *("--suite", "smoke-v0", "--teacher", "scripted", "--episodes", "2"),
    *("--student", str(Path(__file__).parents[2] / "baselines" / "students" / "smoke-v0.pt")),
]


def test_local_workers_label_the_same_rollouts_and_the_report_says_how_fast(tmp_path, capsys):
    summary = load_benchmark("dagger_labels").main([*TINY, "--no-ray", "--out", str(tmp_path)])
    assert json.loads((tmp_path / "dagger-labels.json").read_text()) == summary
    results = summary["results"]
    assert list(results) == [
        "local, 1 worker",
        "local, 2 workers",
        "local, 1 worker, plans from nothing",
    ]
    assert [run["labels"] for run in results.values()] == [300, 300, 150]
    assert results["local, 1 worker"]["digest"] == results["local, 2 workers"]["digest"]
    # The scripted expert imagines nothing, so there is no saving in imagining to report.
    assert summary["warm_start_saving"]["imagined"] is None
    assert summary["ray_time_over_local_2"] is None and summary["scaling_2_vs_1"] > 0
    assert "| local, 2 workers | 300 |" in capsys.readouterr().out
