"""Imagining throughput: simulated physics steps per second, as ratios measured in one run.

``TimePause.imagine`` (native rollout, observations and batched rewards included) against
raw ``mujoco.rollout`` of the same controls from the same state with as many threads, and
against a Python loop of ``mj_step``, one call per physics step. Rounds alternate and the
fastest of each counts. On one thread physics is nearly all of the loop's time, so even raw
``mujoco.rollout`` is only a little faster than the loop (reported as
``raw_rollout_vs_python_loop``); the 1.2x target over the loop is asserted on two threads.
``pytest tests/benchmarks --benchmark-enable -s`` measures and checks the targets (see
conftest.py).
"""

import time

import gymnasium
import mujoco
import numpy as np
import pytest
from mujoco import rollout as mj_rollout

import portia_envs  # noqa: F401  (registers the ids)
from portia_envs.sim.simulation import ROLLOUT_SPEC, STATE_SPEC
from wrappers.time_pause import TimePause

BATCH, HORIZON = 32, 10
# Targets from the time-pause issue.
MIN_VS_RAW_ROLLOUT = 0.9
MIN_VS_PYTHON_LOOP = 1.2


def _best(function, rounds):
    best = np.inf
    for _ in range(rounds):
        t = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - t)
    return best


@pytest.fixture(scope="module")
def paused():
    env = TimePause(gymnasium.make("Portia/ArmPush-v0"))
    env.reset(seed=0)
    for _ in range(5):
        env.step(np.zeros(7))
    yield env
    env.close()


def _raw_inputs(env, sequences):
    base = env.unwrapped
    sim = base.sim
    physics = base.get_state()[: sim.physics_state_size]
    start = np.empty(mujoco.mj_stateSize(sim.model, ROLLOUT_SPEC))
    mujoco.mj_extractState(sim.model, physics, STATE_SPEC, start, ROLLOUT_SPEC)
    ctrl = np.repeat(base.controls(sequences, leading=sequences.shape[:2]), sim.n_substeps, axis=1)
    return sim, np.tile(start, (len(sequences), 1)), ctrl


@pytest.mark.parametrize("nthread", [1, 2])
def test_imagine_keeps_up_with_raw_rollout(benchmark, measuring, rounds, paused, nthread):
    sequences = np.random.default_rng(0).uniform(-1, 1, (BATCH, HORIZON, 7))
    sim, starts, ctrl = _raw_inputs(paused, sequences)
    datas = [mujoco.MjData(sim.model) for _ in range(nthread)]
    physics_steps = BATCH * HORIZON * sim.n_substeps
    paused.nthread = nthread
    benchmark.pedantic(paused.imagine, args=(sequences,), rounds=3, warmup_rounds=1)

    with mj_rollout.Rollout(nthread=0 if nthread == 1 else nthread) as pool:

        def raw():
            pool.rollout(sim.model, datas, starts, ctrl)

        def imagine():
            paused.imagine(sequences)

        best_imagine, best_raw = np.inf, np.inf
        for _ in range(rounds):
            best_imagine = min(best_imagine, _best(imagine, 1))
            best_raw = min(best_raw, _best(raw, 1))

    def python_loop():
        data = datas[0]
        for b in range(BATCH):
            mujoco.mj_setState(sim.model, data, starts[b], ROLLOUT_SPEC)
            for t in range(ctrl.shape[1]):
                data.ctrl[:] = ctrl[b, t]
                mujoco.mj_step(sim.model, data)

    best_loop = _best(python_loop, min(rounds, 3))
    report = {
        "nthread": nthread,
        "imagine_physics_steps_per_s": physics_steps / best_imagine,
        "raw_rollout_physics_steps_per_s": physics_steps / best_raw,
        "python_loop_physics_steps_per_s": physics_steps / best_loop,
        "imagine_vs_raw_rollout": best_raw / best_imagine,
        "imagine_vs_python_loop": best_loop / best_imagine,
        # The ceiling of the ratio above: no wrapper of mujoco.rollout beats rollout itself.
        "raw_rollout_vs_python_loop": best_loop / best_raw,
    }
    benchmark.extra_info.update(report)
    print()
    for key, value in report.items():
        print(f"{key:36s} {value:14.3f}")
    if measuring:
        assert report["imagine_vs_raw_rollout"] >= MIN_VS_RAW_ROLLOUT, report
        if nthread == 2:
            assert report["imagine_vs_python_loop"] >= MIN_VS_PYTHON_LOOP, report
