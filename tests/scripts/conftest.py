"""Loading a script of scripts/ as a module, for its tests."""

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).parents[2] / "scripts"
BENCHMARKS = Path(__file__).parents[2] / "benchmarks"


def load_script(name):
    """Import scripts/NAME.py (torch needed) and register it, as its dataclasses look it up."""
    pytest.importorskip("torch")
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def load_benchmark(name):
    """Import benchmarks/NAME.py as a module, for its tests."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
