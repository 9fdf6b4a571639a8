"""benchmarks/dagger_labels.py, tiny: every way labels the same rollouts; JSON written."""

import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("torch")

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "dagger_labels.py"
TINY = [
    *("--suite", "smoke-v0", "--teacher", "scripted", "--episodes", "2"),
    *("--student", str(Path(__file__).parents[2] / "baselines" / "students" / "smoke-v0.pt")),
]


def load_benchmark():
    spec = importlib.util.spec_from_file_location("dagger_labels", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_local_workers_label_the_same_rollouts_and_the_report_says_how_fast(tmp_path, capsys):
    summary = load_benchmark().main([*TINY, "--no-ray", "--out", str(tmp_path)])
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
