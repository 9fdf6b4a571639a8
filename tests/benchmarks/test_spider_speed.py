"""How much a spider env step costs beyond its physics, as a ratio measured in one run.

As in ``test_step_speed.py``: the reference replays the same controls with raw
``mujoco.mj_step`` on the same model and data from the same state, and blocks of steps
alternate between the env and the reference, the fastest block of each counting.
"""

import pytest

from portia_envs.registration import SPIDER_SPECS
from tests.benchmarks.timing import STEPS_PER_BLOCK, interleaved_best, portia_blocks

# The env's own work per step (action check, observation, scores, info) next to the
# physics of 10 substeps.
MAX_SPIDER_OVERHEAD = 1.15


@pytest.mark.parametrize("env_id", sorted(SPIDER_SPECS))
def test_spider_step_is_near_raw_physics(benchmark, measuring, rounds, env_id):
    env, env_block, raw_block = portia_blocks(env_id)
    benchmark.pedantic(env_block, rounds=3, warmup_rounds=1)
    best_env, best_raw = interleaved_best(env_block, raw_block, rounds)
    report = {
        "steps_per_s": STEPS_PER_BLOCK / best_env,
        "raw_steps_per_s": STEPS_PER_BLOCK / best_raw,
        "overhead_ratio": best_env / best_raw,
        "physics_us_per_step": 1e6 * best_raw / STEPS_PER_BLOCK,
    }
    benchmark.extra_info.update(report)
    print()
    for key, value in report.items():
        print(f"{env_id} {key:24s} {value:10.3f}")
    env.close()
    if measuring:
        assert best_env / best_raw <= MAX_SPIDER_OVERHEAD, report
