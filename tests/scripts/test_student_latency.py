import pytest

from tests.scripts.conftest import load_script


@pytest.fixture(scope="module")
def latency():
    return load_script("student_latency")


def test_measure_times_each_call_of_act(latency):
    from baselines.bc import BCPolicy, student_path

    policy = BCPolicy.load(student_path("smoke_student"))
    observations = latency.student_observations(policy, "smoke-v0")
    assert 2 <= len(observations) <= 2 * 150  # one episode of each of 2 train tasks
    timing = latency.measure(policy, observations[:20], calls=30)
    assert set(timing) == {"median_ms", "p95_ms", "mean_ms", "max_ms"}
    assert 0 < timing["median_ms"] <= timing["p95_ms"] <= timing["max_ms"]
