import itertools
import json
import re
import subprocess
import sys

import pytest

from tests.test_docs_examples import ROOT, run_one_episode_per_task

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


def test_the_results_table_is_the_one_the_script_wrote():
    """scripts/results_table.py writes arm-gen-v0's table to docs/results.md and the README."""
    page = (ROOT / "docs" / "results.md").read_text()
    headline = page.split("## arm-gen-v0\n", 1)[1].split("\n## ", 1)[0]
    # The section's first table (success per family follows it).
    lines = headline.splitlines()
    first = next(index for index, line in enumerate(lines) if line.startswith("|"))
    rows = list(itertools.takewhile(lambda line: line.startswith("|"), lines[first:]))
    section = README.split("## Results", 1)[1].split("\n## ", 1)[0]
    assert len(rows) >= 6 and "\n".join(rows) in section
    assert "python scripts/results_table.py" in README


def test_the_readme_stays_short():
    assert len(README.splitlines()) <= 250


def test_every_docs_page_the_readme_links_exists():
    for target in re.findall(r"\]\((docs/[^)#]+)", README):
        assert (ROOT / target).is_file(), target


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=lambda b: b.splitlines()[-2][:40])
def test_each_quick_start_example_prints_what_its_comments_say(block):
    expected = [
        line.split("#", 1)[1].strip()
        for line in block.splitlines()
        if line.startswith("print(") and "#" in line
    ]
    assert expected  # every example shows what it prints
    done = subprocess.run(
        [sys.executable, "-c", block], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == expected


def test_the_module_form_of_an_id_works_in_a_fresh_interpreter():
    block = next(b for b in PYTHON_BLOCKS if '"portia_envs:Portia/Arm-v0"' in b)
    assert "import portia_envs" not in block
    done = subprocess.run(
        [sys.executable, "-c", block], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "arm-drawer"
