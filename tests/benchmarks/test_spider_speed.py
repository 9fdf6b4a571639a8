"""How much a spider env step costs beyond its physics, as a ratio measured in one run.

As in ``test_step_speed.py``: the reference replays the same controls with raw
``mujoco.mj_step`` on the same model and data from the same state, and blocks of steps
alternate between the env and the reference, the fastest block of each counting.
"""

import time

import gymnasium
import mujoco
import numpy as np
import pytest

from portia_envs.registration import SPIDER_SPECS

STEPS_PER_BLOCK = 100
# The env's own work per step (action check, observation, scores, info) next to the
# physics of 10 substeps.
MAX_SPIDER_OVERHEAD = 1.15


def _interleaved_best(env_block, raw_block, rounds):
    """Return the fastest time of each callable over alternating rounds."""
    best_env, best_raw = np.inf, np.inf
    for _ in range(rounds):
        best_env = min(best_env, env_block())
        best_raw = min(best_raw, raw_block())
    return best_env, best_raw


def _spider_blocks(env_id):
    """Time blocks of env.step and of the mj_step calls they make, from one saved state."""
    env = gymnasium.make(env_id)
    env.reset(seed=0)
    unwrapped = env.unwrapped
    actions = np.random.default_rng(0).uniform(-1, 1, (STEPS_PER_BLOCK, 16))
    controls = [unwrapped.controls(action) for action in actions]
    start = unwrapped.get_state()
    model, data, n_substeps = unwrapped.sim.model, unwrapped.sim.data, unwrapped.sim.n_substeps

    def env_block():
        env.reset(seed=0)  # restarts the time limit; the state is then replaced
        unwrapped.set_state(start)
        t = time.perf_counter()
        for action in actions:
            env.step(action)
        return time.perf_counter() - t

    def raw_block():
        unwrapped.set_state(start)
        t = time.perf_counter()
        for ctrl in controls:
            data.ctrl[:] = ctrl
            mujoco.mj_step(model, data, nstep=n_substeps)
        return time.perf_counter() - t

    return env, env_block, raw_block


@pytest.mark.parametrize("env_id", sorted(SPIDER_SPECS))
def test_spider_step_is_near_raw_physics(benchmark, measuring, rounds, env_id):
    env, env_block, raw_block = _spider_blocks(env_id)
    benchmark.pedantic(env_block, rounds=3, warmup_rounds=1)
    best_env, best_raw = _interleaved_best(env_block, raw_block, rounds)
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
