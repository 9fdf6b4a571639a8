import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "scripts" / "student_latency.py"


@pytest.fixture(scope="module")
def latency():
    pytest.importorskip("torch")
    spec = importlib.util.spec_from_file_location("student_latency", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_measure_times_each_call_of_act(latency):
    from baselines.bc import BCPolicy, student_path

    policy = BCPolicy.load(student_path("smoke_student"))
    observations = latency.student_observations(policy, "smoke-v0")
    assert 2 <= len(observations) <= 2 * 150  # one episode of each of 2 train tasks
    timing = latency.measure(policy, observations[:20], calls=30)
    assert set(timing) == {"median_ms", "p95_ms", "mean_ms", "max_ms"}
    assert 0 < timing["median_ms"] <= timing["p95_ms"] <= timing["max_ms"]
