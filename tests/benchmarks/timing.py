"""Timing pieces the benchmarks share: blocks of steps from one saved state, fastest of rounds."""

import time

import gymnasium
import mujoco
import numpy as np

STEPS_PER_BLOCK = 100


def interleaved_best(first, second, rounds):
    """Return the fastest time of each timing callable over alternating rounds."""
    best_first, best_second = np.inf, np.inf
    for _ in range(rounds):
        best_first = min(best_first, first())
        best_second = min(best_second, second())
    return best_first, best_second


def timed_steps(env, actions, start):
    """Reset ``env`` (restarting its time limit), restore ``start``, and time the steps."""
    env.reset(seed=0)
    env.unwrapped.set_state(start)
    t = time.perf_counter()
    for action in actions:
        env.step(action)
    return time.perf_counter() - t


def portia_blocks(env_id):
    """Time blocks of env.step and of the mj_step calls they make, from one saved state."""
    env = gymnasium.make(env_id)
    env.reset(seed=0)
    unwrapped = env.unwrapped
    actions = np.random.default_rng(0).uniform(-1, 1, (STEPS_PER_BLOCK, *env.action_space.shape))
    controls = [unwrapped.controls(action) for action in actions]
    start = unwrapped.get_state()
    model, data, n_substeps = unwrapped.sim.model, unwrapped.sim.data, unwrapped.sim.n_substeps

    def env_block():
        return timed_steps(env, actions, start)

    def raw_block():
        unwrapped.set_state(start)
        t = time.perf_counter()
        for ctrl in controls:
            data.ctrl[:] = ctrl
            mujoco.mj_step(model, data, nstep=n_substeps)
        return time.perf_counter() - t

    return env, env_block, raw_block
