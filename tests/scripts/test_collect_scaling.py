"""benchmarks/collect_scaling.py, tiny: every way stores the same episodes; JSON written."""

import json
import os
import sys
from pathlib import Path

import pytest

from tests.portia_envs.harness.isolated_network import needs_isolated_network, run_isolated
from tests.scripts.conftest import load_benchmark

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "benchmarks" / "collect_scaling.py"
TINY = ["--agent", "random", "--suite", "smoke-v0", "--episodes", "2"]


def test_local_workers_store_the_same_episodes_and_the_report_says_how_fast(tmp_path, capsys):
    summary = load_benchmark("collect_scaling").main([*TINY, "--no-ray", "--out", str(tmp_path)])
    assert json.loads((tmp_path / "collect-scaling.json").read_text()) == summary
    assert set(summary["results"]) == {"local, 1 worker", "local, 2 workers"}
    for run in summary["results"].values():
        assert (run["episodes"], run["steps"]) == (2, 300)  # smoke-v0 episodes run 150 steps
        assert run["steps_per_s"] == pytest.approx(150 * run["episodes_per_s"])
    assert summary["scaling_2_vs_1"] > 0
    assert "| local, 2 workers | 2 | 300 |" in capsys.readouterr().out


@pytest.mark.slow  # Ray starts, some 10 s: run with -m slow
@needs_isolated_network
def test_ray_stores_the_same_episodes_as_local_workers(tmp_path):
    done = run_isolated(
        f"{sys.executable} {SCRIPT} {' '.join(TINY)} --out {tmp_path}",
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((tmp_path / "collect-scaling.json").read_text())
    assert len(summary["results"]) == 3
    assert summary["results"]["ray, 2 workers"]["start_s"] > 0
    assert summary["ray_time_over_local_2"] > summary["ray_time_over_local_2_without_start"]
