"""benchmarks/ppo_env_speed.py, tiny: every vectorization trains the same weights; JSON written."""

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "ppo_env_speed.py"


def test_the_three_vectorizations_train_identical_weights_and_the_report_says_so(tmp_path):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--suite", "smoke-v0", "--total-steps", "256"]
        + ["--num-envs", "2", "--rounds", "1", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        # Torch on one thread: its tiny updates are several times quicker so on 2 cores.
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((tmp_path / "ppo-env-speed.json").read_text())
    assert report["same_weights"] is True
    assert report["env_steps"] == 512  # one rollout of 2 envs x 256 steps
    assert set(report["modes"]) == {"vector_entry_point", "sync", "async"}
    for row in report["modes"].values():
        assert row["env_step_s"] < row["train_s"]
    assert "| vector_entry_point |" in done.stdout
