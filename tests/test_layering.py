"""The layers hold: wrappers/ stands alone; portia_envs/ imports neither baselines nor leaderboard.

Every import statement counts, at the top of a module or inside a function, so an import
deferred until a command runs is caught too. What other packages add to Portia arrives
through entry points (portia_envs/plugins.py).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# package -> the packages of this project it must not import.
FORBIDDEN = {
    "wrappers": {"portia_envs", "baselines", "leaderboard"},
    "portia_envs": {"baselines", "leaderboard"},
}


def imported_packages(path: Path) -> set[tuple[str, int]]:
    """The top-level package of every absolute import in ``path``, with its line."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {(alias.name.split(".")[0], node.lineno) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add((node.module.split(".")[0], node.lineno))
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert len(files) > 10
    crossings = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in files
        for name, line in sorted(imported_packages(path))
        if name in FORBIDDEN[package]
    ]
    assert crossings == []


def test_the_check_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "def f():\n    from baselines.bc import BCPolicy\n    import leaderboard.cli\n"
    )
    assert imported_packages(module) == {("baselines", 2), ("leaderboard", 3)}
