"""docs/agents.md: every example on the page runs, in order, and every bench it runs scores."""

import json
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from portia_envs.cli import app

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "agents.md").read_text()
BLOCKS = re.findall(r"```(python|shell)\n(.*?)```", PAGE, flags=re.DOTALL)
FILE_MARK = "# FILE "


# Eight benches and three exports, about 50 s: run on demand (`-m slow`).
@pytest.mark.slow
def test_every_example_on_the_page_runs(tmp_path, monkeypatch):
    (tmp_path / "baselines").symlink_to(ROOT / "baselines")
    (tmp_path / "runs").mkdir()
    monkeypatch.chdir(tmp_path)
    benched = []
    for language, block in BLOCKS:
        if language == "python" and block.startswith(FILE_MARK):
            name, _, source = block.partition("\n")
            (tmp_path / name.removeprefix(FILE_MARK)).write_text(source)
        elif language == "python":
            exec(compile(block, "docs/agents.md", "exec"), {})
        else:
            for line in filter(None, block.splitlines()):
                command = shlex.split(line)
                assert command[0] == "portia", line
                done = CliRunner().invoke(app, shlex.split(line)[1:])
                assert done.exit_code == 0, (line, done.output[-3000:])
                if command[1] == "bench":
                    benched.append(Path(command[command.index("--out") + 1]))
    assert len(benched) >= 7
    for out in benched:
        results = json.loads((out / "results.json").read_text())
        assert all(episode["status"] == "ok" for episode in results["episodes"]), out
