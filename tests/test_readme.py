import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)
BASH_BLOCKS = re.findall(r"```bash\n(.*?)```", README, flags=re.DOTALL)


def test_readme_has_two_set_up_commands():
    assert len(BASH_BLOCKS) == 2
    main_job, tests = (block.strip() for block in BASH_BLOCKS)
    assert "portia bench --agent baselines.bc:arm_reach_student" in main_job
    assert tests.endswith("python -m pytest")


def test_the_main_job_scores_the_shipped_student_in_real_time(tmp_path):
    main_job = BASH_BLOCKS[0].strip()
    command = main_job[main_job.index("portia bench") :].split()
    run_one_episode_per_task(command, tmp_path)
    results = json.loads((tmp_path / "runs" / "student" / "results.json").read_text())
    assert results["track"] == "realtime" and results["budget_ms"] == 20
    assert all(r["status"] == "ok" for r in results["episodes"])
    assert results["scores"]["splits"]["train"]["iqm"]["value"] > 80


def test_ci_runs_the_readme_test_command_verbatim():
    test_command = BASH_BLOCKS[1].strip()
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci_lines


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=lambda b: b.splitlines()[0][:40])
def test_readme_python_examples_run(block):
    exec(compile(block, "README.md", "exec"), {})


def test_readme_lists_every_registered_id():
    from portia_envs import registration

    for specs in (
        registration.ARM_ENV_SPECS,
        registration.SPIDER_SPECS,
        registration.DETOUR_SPECS,
        registration.PARALLEL_ENV_SPECS,
    ):
        for env_id in specs:
            assert f"`{env_id}`" in README, env_id


SHELL_BLOCKS = re.findall(r"```shell\n(.*?)```", README, flags=re.DOTALL)
# The portia command of this interpreter, whatever is on PATH.
PORTIA = [sys.executable, "-c", "from portia_envs.cli import app; app()"]


def test_readme_shell_commands_run(tmp_path):
    commands = [line.split() for block in SHELL_BLOCKS for line in block.splitlines() if line]
    assert commands and all(command[0] == "portia" for command in commands)
    (tmp_path / "baselines").symlink_to(ROOT / "baselines")  # commands name shipped students
    for command in commands:
        done = subprocess.run(
            [*PORTIA, *command[1:]], cwd=tmp_path, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, (command, done.stderr[-2000:])
    assert (tmp_path / "runs" / "smoke" / "report" / "report.html").is_file()


def test_readme_agent_example_is_benchmarked(tmp_path):
    block = next(b for b in PYTHON_BLOCKS if b.startswith("# my_agent.py"))
    (tmp_path / "my_agent.py").write_text(block)
    command = block.splitlines()[0].removeprefix("# my_agent.py: ").split()
    assert command[:2] == ["portia", "bench"]
    run_one_episode_per_task(command, tmp_path)
    results = json.loads((tmp_path / "runs" / "mine" / "results.json").read_text())
    assert all(r["status"] == "ok" for r in results["episodes"])


def run_one_episode_per_task(command, cwd):
    """Run a README `portia bench` command with one episode per task; fail on its errors."""
    done = subprocess.run(
        [*PORTIA, *command[1:], "--episodes", "1"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_module_form_of_an_id_works_in_a_fresh_interpreter():
    block = next(b for b in PYTHON_BLOCKS if '"portia_envs:Portia/Arm-v0"' in b)
    assert "import portia_envs" not in block
    done = subprocess.run(
        [sys.executable, "-c", block], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "arm-drawer"
