import re
import sys

import imageio.v3 as iio
import pytest
from typer.testing import CliRunner

from portia_envs.cli import app
from portia_envs.registration import ENV_SPECS

REACH = "Portia/ArmReach-v0"
# Small, and not square, so that swapped width and height show.
SIZE = ["--width", "96", "--height", "80"]

runner = CliRunner()


def play(*args: str):
    return runner.invoke(app, ["play", *args])


def episode_lengths(output: str) -> list[int]:
    return [int(length) for length in re.findall(r"length (\d+)", output)]


def test_envs_lists_every_id_with_spaces_dt_and_time_limit():
    result = runner.invoke(app, ["envs"])

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(ENV_SPECS) == 7
    for env_id, (_, max_episode_steps) in ENV_SPECS.items():
        (line,) = [line for line in lines if line.split()[0] == env_id]
        for key_and_shape in ("observation (55,)", "achieved_goal (3,)", "desired_goal (3,)"):
            assert key_and_shape in line
        assert "(7,) in [-1, 1]" in line
        assert line.split()[-2:] == ["0.04", str(max_episode_steps)]
    (continuous,) = [line for line in lines if line.split()[0] == "Portia/Detour-v0"]
    assert "(105,)" in continuous and "(3,) in [-1, 1]" in continuous
    assert continuous.split()[-2:] == ["0.1", "200"]
    (discrete,) = [line for line in lines if line.split()[0] == "Portia/DetourDiscrete-v0"]
    assert "Discrete(9)" in discrete


@pytest.fixture(scope="module")
def reach_gif(tmp_path_factory):
    """Record one seeded Reach episode as a GIF (rendering dominates these tests' time)."""
    out = tmp_path_factory.mktemp("cli") / "reach.gif"
    return out, play(REACH, "--out", str(out), "--episodes", "1", "--seed", "3", *SIZE)


def test_play_writes_a_gif_that_lasts_the_episode_at_the_requested_size(reach_gif):
    out, result = reach_gif

    assert result.exit_code == 0, result.output
    (length,) = episode_lengths(result.stdout)
    assert length == ENV_SPECS[REACH][1]
    assert "success" in result.stdout and "instruction: " in result.stdout
    assert str(out) in result.stdout
    frames = iio.imread(out, index=None)
    assert frames.shape[1:] == (80, 96, 3)
    # Pillow merges identical consecutive frames, adding up their durations, so the
    # frames still last the reset frame plus one 40 ms control period per step.
    with iio.imopen(out, "r", plugin="pillow") as gif:
        durations = [gif.metadata(index=i)["duration"] for i in range(len(frames))]
    assert sum(durations) == 40 * (length + 1)


def test_play_writes_an_mp4_frame_for_each_reset_and_step(tmp_path, reach_gif):
    pytest.importorskip("imageio_ffmpeg")
    out = tmp_path / "reach.mp4"

    result = play(
        REACH, "--out", str(out), "--episodes", "2", "--seed", "3", "--camera", "top", *SIZE
    )

    assert result.exit_code == 0, result.output
    lengths = episode_lengths(result.stdout)
    assert len(lengths) == 2
    frames = iio.imread(out, plugin="FFMPEG", index=None)
    assert frames.shape == (sum(lengths) + 2, 80, 96, 3)
    # The seed fixes the first episode, whatever the format and camera.
    first_episode = result.stdout.splitlines()[0].split(": ", 1)[1]
    assert first_episode == reach_gif[1].stdout.splitlines()[0].split(": ", 1)[1]


def test_play_unknown_id_suggests_the_closest_and_lists_the_known():
    result = play("Portia/ArmReech-v0", "--out", "never.gif")

    assert result.exit_code == 2
    assert "did you mean 'Portia/ArmReach-v0'" in result.stderr
    assert all(env_id in result.stderr for env_id in ENV_SPECS)
    assert "Traceback" not in result.output


@pytest.mark.parametrize("name", ["reach.avi", "reach"])
def test_play_unknown_extension_lists_the_accepted(tmp_path, name):
    result = play(REACH, "--out", str(tmp_path / name))

    assert result.exit_code == 2
    assert "unknown video extension" in result.stderr
    assert "accepted: .gif, .mp4" in result.stderr
    assert not (tmp_path / name).exists()


def test_play_mp4_needs_even_sizes(tmp_path):
    result = play(REACH, "--out", str(tmp_path / "reach.mp4"), "--width", "97")

    assert result.exit_code == 2
    assert "even --width and --height" in result.stderr


def test_play_mp4_without_imageio_ffmpeg_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)

    result = play(REACH, "--out", str(tmp_path / "reach.mp4"), *SIZE)

    assert result.exit_code == 1
    assert 'pip install "portia-envs[video]"' in result.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="display detection is Linux's")
def test_play_in_a_window_without_a_display_points_to_out():
    result = runner.invoke(app, ["play", REACH], env={"DISPLAY": None, "WAYLAND_DISPLAY": None})

    assert result.exit_code == 1
    assert "--out" in result.stderr


def test_every_command_and_option_has_help():
    for command in (["envs"], ["play"]):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0, result.output
    help_text = runner.invoke(app, ["play", "--help"]).stdout
    for option in ("--seed", "--episodes", "--out", "--camera", "--width", "--height"):
        assert option in help_text
    assert "MUJOCO_GL" in help_text
    assert "portia-envs[video]" in help_text  # not eaten as markup


def test_suites_lists_every_suite_with_its_hash():
    from portia_envs.suites import SUITES

    result = runner.invoke(app, ["suites"])
    assert result.exit_code == 0, result.output
    for suite in SUITES.values():
        assert suite.name in result.output and suite.hash in result.output


def test_tasks_lists_a_suites_tasks_with_instructions():
    result = runner.invoke(app, ["tasks", "arm-reach-v0"])
    assert result.exit_code == 0, result.output
    assert "reach-beyond-left" in result.output and "heldout" in result.output
    assert "move the gripper to the green target" in result.output
    unknown = runner.invoke(app, ["tasks", "arm-rech-v0"])
    assert unknown.exit_code == 2
    assert "did you mean 'arm-reach-v0'" in unknown.output


def test_envs_lists_the_other_bodies_and_the_multi_agent_scene():
    from portia_envs.registration import ARM4_SPECS, SPIDER_SPECS

    lines = runner.invoke(app, ["envs"]).stdout.splitlines()
    for specs, action in ((ARM4_SPECS, "(5,) in [-1, 1]"), (SPIDER_SPECS, "(16,) in [-1, 1]")):
        for env_id, (_, max_episode_steps) in specs.items():
            (line,) = [line for line in lines if line.split()[0] == env_id]
            assert "observation (51,)" in line and action in line
            assert line.split()[-2:] == ["0.04", str(max_episode_steps)]
    (team,) = [line for line in lines if line.startswith("Portia/Handover-v0")]
    assert "agents giver, taker" in team and "each (50,)" in team and "each (7,)" in team
    assert team.split()[-2:] == ["0.04", "300"]


@pytest.mark.parametrize(
    ("env_id", "steps"),
    [("Portia/SpiderPrey-v0", 450), ("Portia/Handover-v0", 300), ("Portia/Arm4Push-v0", 150)],
)
def test_play_films_the_expert_of_every_body(tmp_path, env_id, steps):
    out = tmp_path / "play.gif"
    result = play(env_id, "--out", str(out), "--seed", "0", "--width", "32", "--height", "32")
    assert result.exit_code == 0, result.output
    assert "success True" in result.stdout
    assert episode_lengths(result.stdout) == [steps]
    assert out.is_file()


def test_tasks_lists_each_tasks_body():
    result = runner.invoke(app, ["tasks", "arm-bodies-v0"])
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("arm4_long-push")]
    assert line.split()[1:4] == ["heldout", "arm4_long", "push"]


def test_version_prints_portias_and_mujocos_versions_and_exits():
    import importlib.metadata

    import portia_envs

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    mujoco_version = importlib.metadata.version("mujoco")
    assert result.output == f"portia {portia_envs.__version__} (mujoco {mujoco_version})\n"
    assert portia_envs.__version__ == importlib.metadata.version("portia-envs")


HOLD_STILL_AGENT = """
import numpy as np


class HoldStill:
    def reset(self):
        pass

    def act(self, observation):
        return np.zeros(7, dtype=np.float32)


def make_agent(env):
    return HoldStill()
"""


def test_play_films_any_agent_spec_and_its_return_is_that_agents(tmp_path):
    import gymnasium
    import numpy as np

    agent_file = tmp_path / "hold_still.py"
    agent_file.write_text(HOLD_STILL_AGENT)
    out = tmp_path / "hold.gif"
    result = play(REACH, "--agent", str(agent_file), "--out", str(out), "--seed", "3", *SIZE)
    assert result.exit_code == 0, result.output
    env = gymnasium.make(REACH)
    env.reset(seed=3)
    expected = sum(env.step(np.zeros(7))[1] for _ in range(ENV_SPECS[REACH][1]))
    assert f"return {expected:.3f}," in result.stdout
    assert out.is_file()
    random_run = play(REACH, "--agent", "random", "--out", str(tmp_path / "r.gif"), *SIZE)
    assert random_run.exit_code == 0, random_run.output
    assert f"return {expected:.3f}," not in random_run.stdout


@pytest.mark.parametrize(
    ("env_id", "agent", "message"),
    [
        (REACH, "scriptd", "did you mean 'scripted'"),
        (REACH, "exec:python agent.py", "runs only in its own process"),
        (REACH, "no_such_module:make_agent", "cannot import module 'no_such_module'"),
        ("Portia/Handover-v0", "random", "only --agent scripted plays it"),
    ],
)
def test_play_refuses_an_agent_it_cannot_build(tmp_path, env_id, agent, message):
    result = play(env_id, "--agent", agent, "--out", str(tmp_path / "x.gif"), *SIZE)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_every_command_has_help_saying_what_it_does_and_the_top_level_lists_them_all():
    import typer.main

    group = typer.main.get_command(app)
    top = runner.invoke(app, ["--help"], terminal_width=200).output
    for name, command in group.commands.items():
        assert name in top
        summary = (command.help or "").strip().splitlines()[0]
        assert len(summary.split()) >= 4, name  # a sentence, not a placeholder
        result = runner.invoke(app, [name, "--help"], terminal_width=200)
        assert result.exit_code == 0, (name, result.output)
        assert summary.split()[0] in result.output, name
    assert {"train", "export", "leaderboard", "submit", "status"} <= set(group.commands)


@pytest.mark.parametrize(
    "first", ["leaderboard.cli", "baselines.train_cli", "baselines.export_cli", "portia_envs.cli"]
)
def test_the_app_has_every_command_whichever_contributing_module_is_imported_first(first):
    import subprocess

    program = (
        f"import {first}\n"
        "import typer.main\n"
        "from portia_envs.cli import app\n"
        "print(sorted(typer.main.get_command(app).commands))\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    for command in ("bench", "train", "export", "leaderboard", "submit", "status", "play"):
        assert f"'{command}'" in done.stdout
