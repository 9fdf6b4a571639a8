"""Detour's throughput: the native vector env, the single env and Gymnasium's CartPole.

All three step random actions drawn beforehand, in blocks that alternate between them; the
fastest block of each counts, which cancels most of a noisy machine's jitter. The vector
figures include autoresets (next-step) and building every observation; the single env's
includes Gymnasium's wrappers and a ``reset()`` whenever an episode ends. ``pytest
tests/benchmarks/test_detour_speed.py --benchmark-enable -s`` measures and checks the target.
"""

import time

import gymnasium
import numpy as np

import portia_envs  # noqa: F401  (registers the ids)

NUM_ENVS = 1_024
VECTOR_STEPS = 100
SINGLE_STEPS = 2_000
# Target from the Detour issue: env steps per second with 1,024 worlds on 2 cores.
MIN_VECTOR_STEPS_PER_S = 1_000_000


def _vector_block(env_id, actions):
    """Time VECTOR_STEPS steps of a native vector env; also count the autoresets."""
    envs = gymnasium.make_vec(env_id, num_envs=NUM_ENVS, vectorization_mode="vector_entry_point")
    envs.reset(seed=0)
    resets = []

    def block():
        ended = 0
        t = time.perf_counter()
        for action in actions:
            _, _, terminated, truncated, _ = envs.step(action)
            ended += int(terminated.sum() + truncated.sum())
        elapsed = time.perf_counter() - t
        resets.append(ended)
        return elapsed

    return envs, block, resets


def _single_block():
    """Time SINGLE_STEPS steps of ``gymnasium.make("Portia/Detour-v0")``, resetting as needed."""
    env = gymnasium.make("Portia/Detour-v0")
    env.reset(seed=0)
    actions = np.random.default_rng(1).uniform(-1, 1, (SINGLE_STEPS, 3)).astype(np.float32)

    def block():
        t = time.perf_counter()
        for action in actions:
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
        return time.perf_counter() - t

    return env, block


def test_detour_vector_throughput(benchmark, measuring, rounds):
    rng = np.random.default_rng(0)
    detour_actions = rng.uniform(-1, 1, (VECTOR_STEPS, NUM_ENVS, 3)).astype(np.float32)
    cartpole_actions = rng.integers(0, 2, (VECTOR_STEPS, NUM_ENVS))
    detour, detour_block, resets = _vector_block("Portia/Detour-v0", detour_actions)
    cartpole, cartpole_block, _ = _vector_block("CartPole-v1", cartpole_actions)
    single, single_block = _single_block()
    benchmark.pedantic(detour_block, rounds=3, warmup_rounds=1)
    best = {"detour": np.inf, "cartpole": np.inf, "single": np.inf}
    for _ in range(rounds):
        best["detour"] = min(best["detour"], detour_block())
        best["cartpole"] = min(best["cartpole"], cartpole_block())
        best["single"] = min(best["single"], single_block())
    vector_rate = VECTOR_STEPS * NUM_ENVS / best["detour"]
    cartpole_rate = VECTOR_STEPS * NUM_ENVS / best["cartpole"]
    single_rate = SINGLE_STEPS / best["single"]
    report = {
        "detour_vector_1024_steps_per_s": vector_rate,
        "detour_single_steps_per_s": single_rate,
        "cartpole_vector_1024_steps_per_s": cartpole_rate,
        "detour_vector_over_single": vector_rate / single_rate,
        "detour_vector_over_cartpole_vector": vector_rate / cartpole_rate,
        "detour_autoresets_per_block": float(np.mean(resets)),
    }
    benchmark.extra_info.update(report)
    print()
    for key, value in report.items():
        print(f"{key:40s} {value:16,.2f}")
    for env in (detour, cartpole, single):
        env.close()
    assert min(resets) > 0  # the blocks do include autoresets
    if measuring:
        assert vector_rate >= MIN_VECTOR_STEPS_PER_S, report
