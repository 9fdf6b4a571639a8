"""The examples of the README and of every docs page run.

Each ```python block runs in a fresh namespace. Each page's ```shell blocks run in order,
in a directory of their own (with ``baselines`` linked, as commands name the shipped
students), through the ``portia`` command's app in this interpreter; every ``portia
bench`` of them with one episode per task (``--episodes 1`` added: the last one given
counts), as the commands after it need a run, not its length. docs/agents.md has a test of
its own (tests/test_docs_agents.py, slow).
"""

import contextlib
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from portia_envs.cli import app

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
OWN_TEST = {"agents.md"}


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


@pytest.fixture
def torch_on_one_thread():
    """Torch, if installed, on one thread: the examples' small trainings are quicker so."""
    try:
        import torch
    except ImportError:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.usefixtures("torch_on_one_thread")
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
        portia(command, tmp_path)
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


def portia(command, cwd):
    """Run a `portia` command of the docs in ``cwd``, a bench with one episode per task.

    It fails the test if the command does.
    """
    assert command[0] == "portia"
    arguments = [*command[1:], *(["--episodes", "1"] if command[1] == "bench" else [])]
    with contextlib.chdir(cwd):
        done = CliRunner().invoke(app, arguments)
    assert done.exit_code == 0, (command, done.output[-3000:], done.exception)


def run_one_episode_per_task(command, cwd):
    """Run a `portia bench` command of the docs with one episode per task; fail on errors."""
    assert command[:2] == ["portia", "bench"]
    portia(command, cwd)


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
