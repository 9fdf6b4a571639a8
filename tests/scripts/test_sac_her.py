"""scripts/sac_her.py: SB3's SAC + HerReplayBuffer recipe runs on a Portia env and resumes."""

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "scripts" / "sac_her.py"


def run(out, *options):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out), "--eval-episodes", "1", *options],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_sac_with_hindsight_relabelling_trains_past_its_first_gradient_steps_and_resumes(
    tmp_path,
):
    # 150 random steps, then 50 with gradient steps on relabelled goals.
    first = run(tmp_path, "--timesteps", "200", "--learning-starts", "150")
    assert "200 of 200 steps, saved" in first
    resumed = run(tmp_path, "--timesteps", "300", "--learning-starts", "150", "--resume")
    assert "resumed at 200 steps" in resumed and "300 of 300 steps, saved" in resumed
    scores = json.loads((tmp_path / "eval.json").read_text())
    assert set(scores) == {"sac_her", "random"}
    for score in scores.values():
        assert score["episodes"] == 1 and 0.0 <= score["success_rate"] <= 1.0
        assert score["mean_return"] < 0  # minus the distance to the goal, summed
    evaluated = run(tmp_path, "--timesteps", "300", "--resume")
    assert "resumed at 300 steps" in evaluated and "saved" not in evaluated
