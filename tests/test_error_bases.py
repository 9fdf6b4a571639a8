"""Every error Portia raises on purpose has one base: PortiaError, or WrapperError in wrappers/."""

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

from portia_envs.errors import PortiaError
from wrappers.errors import WrapperError

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"portia_envs": PortiaError, "baselines": PortiaError, "leaderboard": PortiaError}
# Modules that import optional extras or start programs when imported.
NOT_IMPORTED = ("leaderboard.migrations",)
# Where a built-in error is what the caller needs: pydantic validators must raise ValueError,
# the migration environment runs outside Portia, and the example agents are user code.
BUILTIN_RAISES_ALLOWED = (
    "leaderboard/schemas.py",
    "leaderboard/migrations/",
    "portia_envs/agent_examples/",
)
BUILTIN_RAISE = re.compile(r"raise (ValueError|TypeError|KeyError|RuntimeError|Exception)\(")


def defined_errors(package):
    """Every exception class defined in a module of ``package``."""
    found = []
    root = importlib.import_module(package)
    for module_info in pkgutil.walk_packages(root.__path__, f"{package}."):
        if module_info.name.startswith(NOT_IMPORTED):
            continue
        module = importlib.import_module(module_info.name)
        for _, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == module.__name__
            ):
                found.append(value)
    return found


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_every_error_class_derives_from_portia_error(package):
    errors = defined_errors(package)
    assert errors  # the walk found the package's errors
    strays = [e.__qualname__ for e in errors if not issubclass(e, PACKAGES[package])]
    assert strays == [], f"{package} errors without PortiaError as a base: {strays}"


def test_every_wrapper_error_derives_from_wrapper_error():
    errors = defined_errors("wrappers")
    assert len(errors) >= 4
    strays = [e.__qualname__ for e in errors if not issubclass(e, WrapperError)]
    assert strays == [], strays


def test_no_built_in_error_is_raised_on_purpose():
    raises = []
    for package in (*PACKAGES, "wrappers"):
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith(BUILTIN_RAISES_ALLOWED):
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if BUILTIN_RAISE.search(line):
                    raises.append(f"{relative}:{number}: {line.strip()}")
    assert raises == []
