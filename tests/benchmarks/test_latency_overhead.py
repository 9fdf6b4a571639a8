"""What ``LatencyBudget`` with a fixed clock adds to a step, as a ratio measured in one run.

Both sides play the same actions from the same state, one period per step (latency 0 and
one full period of delay), in alternating rounds; the fastest round of each counts.
``pytest tests/benchmarks --benchmark-enable -s`` measures and checks the target.
"""

import gymnasium
import numpy as np
import pytest

import portia_envs  # noqa: F401  (registers the ids)
from tests.benchmarks.timing import interleaved_best, timed_steps
from wrappers.clocks import FixedLatency
from wrappers.latency_budget import LatencyBudget

STEPS = 100
MAX_OVERHEAD = 1.05  # target from the latency issue


@pytest.mark.parametrize("periods", [0, 1])
def test_fixed_clock_overhead(benchmark, measuring, rounds, periods):
    plain = gymnasium.make("Portia/ArmPush-v0")
    dt = plain.unwrapped.dt
    delayed = LatencyBudget(
        gymnasium.make("Portia/ArmPush-v0"), budget_s=dt, clock=FixedLatency(periods * dt)
    )
    plain.reset(seed=0)
    start = plain.unwrapped.get_state()
    actions = np.random.default_rng(0).uniform(-1, 1, (STEPS, 7))
    benchmark.pedantic(timed_steps, args=(delayed, actions, start), rounds=3, warmup_rounds=1)
    best_plain, best_delayed = interleaved_best(
        lambda: timed_steps(plain, actions, start),
        lambda: timed_steps(delayed, actions, start),
        rounds,
    )
    ratio = best_delayed / best_plain
    benchmark.extra_info.update({"latency_periods": periods, "overhead_ratio": ratio})
    print(f"\nLatencyBudget, fixed latency of {periods} period(s): {ratio:.3f}x the plain step")
    if measuring:
        assert ratio <= MAX_OVERHEAD
