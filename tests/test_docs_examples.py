"""The examples of the README and of every docs page run.

Each ```python block runs in a fresh namespace. Each page's ```shell blocks run in order,
in a directory of their own (with ``baselines`` linked, as commands name the shipped
students), through the ``portia`` command of this interpreter. docs/agents.md has a test
of its own (tests/test_docs_agents.py, slow).
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
OWN_TEST = {"agents.md"}
# The portia command of this interpreter, whatever is on PATH.
PORTIA = [sys.executable, "-c", "from portia_envs.cli import app; app()"]


def blocks(page, language):
    """The fenced blocks of ``language`` in ``page``, in order."""
    return re.findall(rf"```{language}\n(.*?)```", page.read_text(), flags=re.DOTALL)


def python_examples():
    return [
        pytest.param(page, block, id=f"{page.name}:{block.splitlines()[0][:30]}")
        for page in PAGES
        if page.name not in OWN_TEST
        for block in blocks(page, "python")
    ]


def shell_pages():
    return [page for page in PAGES if page.name not in OWN_TEST and blocks(page, "shell")]


def all_python_blocks():
    return [block for page in PAGES for block in blocks(page, "python")]


@pytest.mark.parametrize(("page", "block"), python_examples())
def test_python_examples_run(page, block):
    exec(compile(block, str(page.relative_to(ROOT)), "exec"), {})


@pytest.mark.parametrize("page", shell_pages(), ids=lambda page: page.name)
def test_shell_commands_run_in_order(page, tmp_path):
    commands = [line.split() for block in blocks(page, "shell") for line in block.splitlines()]
    commands = [command for command in commands if command]
    assert all(command[0] == "portia" for command in commands)
    (tmp_path / "baselines").symlink_to(ROOT / "baselines")
    for command in commands:
        done = subprocess.run(
            [*PORTIA, *command[1:]], cwd=tmp_path, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, (command, done.stderr[-2000:])
    if page.name == "bench.md":  # bench, validate, then report
        assert (tmp_path / "runs" / "smoke" / "report" / "report.html").is_file()


def test_the_agent_example_is_benchmarked(tmp_path):
    block = next(b for b in all_python_blocks() if b.startswith("# my_agent.py"))
    (tmp_path / "my_agent.py").write_text(block)
    command = block.splitlines()[0].removeprefix("# my_agent.py: ").split()
    assert command[:2] == ["portia", "bench"]
    run_one_episode_per_task(command, tmp_path)
    results = json.loads((tmp_path / "runs" / "mine" / "results.json").read_text())
    assert all(r["status"] == "ok" for r in results["episodes"])


def run_one_episode_per_task(command, cwd):
    """Run a `portia bench` command of the docs with one episode per task; fail on errors."""
    done = subprocess.run(
        [*PORTIA, *command[1:], "--episodes", "1"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_environment_pages_list_every_registered_id():
    from portia_envs import registration

    page = "".join((ROOT / "docs" / name).read_text() for name in ("envs.md", "detour.md"))
    for specs in (
        registration.ARM_ENV_SPECS,
        registration.SPIDER_SPECS,
        registration.DETOUR_SPECS,
        registration.PARALLEL_ENV_SPECS,
    ):
        for env_id in specs:
            assert f"`{env_id}`" in page, env_id
