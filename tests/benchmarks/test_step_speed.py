"""How much an env step costs beyond its physics, as ratios measured in one run.

The reference is the raw ``mujoco.mj_step`` work a step does: the same controls replayed on
the same model and data from the same state, so both sides do bit-identical physics. Blocks
of steps alternate between the env and the reference and the fastest block of each counts,
which cancels most of a noisy machine's jitter. ``pytest tests/benchmarks
--benchmark-enable -s`` measures and checks the targets (see conftest.py).
"""

import subprocess
import sys
import time

import gymnasium
import mujoco
import numpy as np
import pytest

import portia_envs  # noqa: F401  (registers the ids)
from tests.benchmarks.timing import STEPS_PER_BLOCK, interleaved_best, portia_blocks

# Target from the foundation issue: our Python must be near free next to the physics.
MAX_ARM_PUSH_OVERHEAD = 1.15


def _pusher_blocks():
    """The same measurement for Gymnasium's Pusher-v5 (its step also calls mj_rnePostConstraint)."""
    env = gymnasium.make("Pusher-v5")
    env.reset(seed=0)
    unwrapped = env.unwrapped
    actions = np.random.default_rng(0).uniform(-2, 2, (STEPS_PER_BLOCK, 7)).astype(np.float32)
    model, data = unwrapped.model, unwrapped.data
    start = np.empty(mujoco.mj_stateSize(model, mujoco.mjtState.mjSTATE_INTEGRATION))
    mujoco.mj_getState(model, data, start, mujoco.mjtState.mjSTATE_INTEGRATION)

    def restore():
        mujoco.mj_setState(model, data, start, mujoco.mjtState.mjSTATE_INTEGRATION)

    def env_block():
        env.reset(seed=0)
        restore()
        t = time.perf_counter()
        for action in actions:
            env.step(action)
        return time.perf_counter() - t

    def raw_block():
        restore()
        t = time.perf_counter()
        for action in actions:
            data.ctrl[:] = action
            mujoco.mj_step(model, data, nstep=unwrapped.frame_skip)
        return time.perf_counter() - t

    return env, env_block, raw_block


def test_arm_push_step_is_near_raw_physics(benchmark, measuring, rounds):
    env, env_block, raw_block = portia_blocks("Portia/ArmPush-v0")
    benchmark.pedantic(env_block, rounds=3, warmup_rounds=1)
    portia_env, portia_raw = interleaved_best(env_block, raw_block, rounds)
    pusher, pusher_env_block, pusher_raw_block = _pusher_blocks()
    pusher_env, pusher_raw = interleaved_best(pusher_env_block, pusher_raw_block, rounds)

    ratio = portia_env / portia_raw
    report = {
        "portia_arm_push_steps_per_s": STEPS_PER_BLOCK / portia_env,
        "portia_arm_push_overhead_ratio": ratio,
        "portia_arm_push_physics_us_per_step": 1e6 * portia_raw / STEPS_PER_BLOCK,
        "pusher_v5_steps_per_s": STEPS_PER_BLOCK / pusher_env,
        "pusher_v5_overhead_ratio": pusher_env / pusher_raw,
        "pusher_v5_physics_us_per_step": 1e6 * pusher_raw / STEPS_PER_BLOCK,
    }
    benchmark.extra_info.update(report)
    print()
    for key, value in report.items():
        print(f"{key:40s} {value:10.3f}")
    env.close()
    pusher.close()
    if measuring:
        assert ratio <= MAX_ARM_PUSH_OVERHEAD, report


@pytest.mark.parametrize("env_id", sorted(portia_envs.ENV_SPECS))
def test_every_id_reports_its_overhead(benchmark, measuring, rounds, env_id):
    env, env_block, raw_block = portia_blocks(env_id)
    benchmark.pedantic(env_block, rounds=3, warmup_rounds=1)
    best_env, best_raw = interleaved_best(env_block, raw_block, rounds)
    benchmark.extra_info["overhead_ratio"] = best_env / best_raw
    benchmark.extra_info["steps_per_s"] = STEPS_PER_BLOCK / best_env
    env.close()
    if measuring:
        assert best_env / best_raw < 1.15


IMPORT_AND_MAKE = """
import time
t = time.perf_counter()
import portia_envs
imported = time.perf_counter()
import gymnasium
env = gymnasium.make("Portia/Arm-v0")
made = time.perf_counter()
env2 = gymnasium.make("Portia/Arm-v0")
made_again = time.perf_counter()
print(imported - t, made - imported, made_again - made)
"""


def test_import_and_make_times(benchmark, measuring):
    def measure():
        out = subprocess.run(
            [sys.executable, "-c", IMPORT_AND_MAKE], capture_output=True, text=True, check=True
        )
        return [float(x) for x in out.stdout.split()]

    import_s, first_make_s, make_s = benchmark.pedantic(measure, rounds=1, iterations=1)
    benchmark.extra_info.update(
        {"import_portia_envs_s": import_s, "first_make_s": first_make_s, "make_s": make_s}
    )
    print(
        f"\nimport portia_envs {import_s:.3f} s, first make {first_make_s:.3f} s, "
        f"next make {make_s:.4f} s"
    )
    if measuring:
        # A make compiles one small model from code: it must stay far below a second.
        assert make_s < 1.0
