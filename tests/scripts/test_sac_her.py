"""scripts/sac_her.py: SB3's SAC + HerReplayBuffer recipe runs on a Portia env and resumes.

The script's ``main`` runs in this process, on the command lines a user would type, so
that torch and SB3 are imported once for its three runs.
"""

import json
import sys

import pytest

from tests.scripts.conftest import load_script

pytestmark = pytest.mark.usefixtures("one_thread")
# ArmReach-v0's episodes are 100 steps long, and HER samples only from finished episodes:
# the first run saves at the end of its second episode, after 10 gradient steps; the
# resumed run takes 10 more.
FIRST, STARTS, SECOND = 200, 190, 210


@pytest.fixture
def sac_her(tmp_path, capsys, monkeypatch):
    """Run ``scripts/sac_her.py --out TMP --eval-episodes 1 OPTIONS``; return its output."""
    pytest.importorskip("stable_baselines3")
    script = load_script("sac_her")

    def run(*options):
        command = ["sac_her.py", "--out", str(tmp_path), "--eval-episodes", "1", *options]
        monkeypatch.setattr(sys, "argv", command)
        capsys.readouterr()
        script.main()
        return capsys.readouterr().out

    return run


def saved_steps(out):
    """The env steps and gradient steps of the model saved in ``out``."""
    from stable_baselines3.common.save_util import load_from_zip_file

    data, _, _ = load_from_zip_file(out / "model.zip", load_data=True)
    return data["num_timesteps"], data["_n_updates"]


# The resumed run saves in the middle of an episode; the evaluating run that loads its
# replay buffer is told that its last trajectory is cut short.
@pytest.mark.filterwarnings("ignore:The last trajectory in the replay buffer will be truncated")
def test_sac_with_hindsight_relabelling_trains_past_its_first_gradient_steps_and_resumes(
    sac_her, tmp_path
):
    starts = ("--learning-starts", str(STARTS))
    first = sac_her("--timesteps", str(FIRST), *starts)
    assert f"{FIRST} of {FIRST} steps, saved" in first
    assert saved_steps(tmp_path) == (FIRST, FIRST - STARTS)
    resumed = sac_her("--timesteps", str(SECOND), *starts, "--resume")
    assert f"resumed at {FIRST} steps" in resumed
    assert f"{SECOND} of {SECOND} steps, saved" in resumed
    assert saved_steps(tmp_path) == (SECOND, SECOND - STARTS)
    scores = json.loads((tmp_path / "eval.json").read_text())
    assert set(scores) == {"sac_her", "random"}
    for score in scores.values():
        assert score["episodes"] == 1 and 0.0 <= score["success_rate"] <= 1.0
        assert score["mean_return"] < 0  # minus the distance to the goal, summed
    evaluated = sac_her("--timesteps", str(SECOND), "--resume")
    assert f"resumed at {SECOND} steps" in evaluated and "saved" not in evaluated
