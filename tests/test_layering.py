"""The layers hold: wrappers/ stands alone; portia_envs/ imports neither baselines nor leaderboard.

Inside portia_envs, ``sim/compose.py`` puts scenes and bodies together, so neither scenes/ nor
embodiments/ imports sim/ (no cycle between them), and a scene holds no body.

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
# subpackage of portia_envs -> the subpackages of portia_envs it must not import.
FORBIDDEN_INSIDE = {
    "embodiments": {"sim"},
    "scenes": {"sim", "embodiments"},
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


def imported_modules(path: Path) -> set[tuple[str, int]]:
    """Every absolute import in ``path`` as dotted names, with its line.

    ``from a.b import c`` counts as ``a.b`` and ``a.b.c``, since ``c`` may be a module.
    """
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {(alias.name, node.lineno) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add((node.module, node.lineno))
            found |= {(f"{node.module}.{alias.name}", node.lineno) for alias in node.names}
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


@pytest.mark.parametrize("package", sorted(FORBIDDEN_INSIDE))
def test_scenes_and_bodies_import_nothing_that_composes_them(package):
    files = sorted((ROOT / "portia_envs" / package).rglob("*.py"))
    assert len(files) >= 4
    forbidden = FORBIDDEN_INSIDE[package]
    crossings = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in files
        for name, line in sorted(imported_modules(path))
        if name.split(".")[:2] in [["portia_envs", other] for other in forbidden]
    ]
    assert crossings == []


def test_the_check_inside_sees_every_spelling_of_an_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "from portia_envs import sim\n"
        "def f():\n    from portia_envs.sim.compose import check_body\n"
        "import portia_envs.embodiments.arm\n"
    )
    names = {name for name, _ in imported_modules(module)}
    assert {"portia_envs.sim", "portia_envs.sim.compose", "portia_envs.embodiments.arm"} <= names
