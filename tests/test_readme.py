import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)
BASH_BLOCKS = re.findall(r"```bash\n(.*?)```", README, flags=re.DOTALL)


def test_readme_has_two_set_up_commands():
    assert len(BASH_BLOCKS) == 2
    main_job, tests = (block.strip() for block in BASH_BLOCKS)
    assert "portia play" in main_job
    assert tests.endswith("python -m pytest")


def test_ci_runs_the_readme_test_command_verbatim():
    test_command = BASH_BLOCKS[1].strip()
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci_lines


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=lambda b: b.splitlines()[0][:40])
def test_readme_python_examples_run(block):
    exec(compile(block, "README.md", "exec"), {})


def test_readme_lists_every_registered_id():
    import portia_envs

    for env_id in portia_envs.ENV_SPECS:
        assert f"`{env_id}`" in README
