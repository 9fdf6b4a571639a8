"""The documentation site builds with --strict: every link, anchor and API reference resolves."""

import os
import subprocess
import sys

import yaml

from tests.test_docs_examples import ROOT


def test_mkdocs_builds_the_site_strictly(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    reference = (tmp_path / "reference" / "index.html").read_text()
    assert "LatencyBudget" in reference and "compute_reward" in reference  # docstrings rendered


def test_every_page_is_in_the_navigation():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    listed = set()

    def walk(items):
        for item in items:
            for value in item.values() if isinstance(item, dict) else [item]:
                if isinstance(value, list):
                    walk(value)
                else:
                    listed.add(value)

    walk(config["nav"])
    pages = {path.name for path in (ROOT / "docs").glob("*.md")}
    assert pages == listed
