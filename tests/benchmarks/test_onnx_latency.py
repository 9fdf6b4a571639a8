"""An exported student decides at least as fast as the torch original, batch 1, one thread.

The shipped ``smoke-v0`` BC student (``baselines.bc:smoke_student``) is exported to ONNX
(``baselines.export``) and both act on the same observations: the torch policy's ``act``
against ``OnnxPolicy.act`` (onnxruntime, one intra-op thread), each decision a whole
agent call: features, inference and the action back as an array. Target: ONNX <= 1.0x
torch. ``pytest tests/benchmarks/test_onnx_latency.py --benchmark-enable -s`` measures.
"""

import time

import numpy as np
import torch

from baselines.bc import BCPolicy, student_path
from baselines.export import export_policy, load_original
from portia_envs.harness.episode import suite_agent_env
from portia_envs.harness.onnx_policy import OnnxPolicy, policy_metadata
from tests.benchmarks.timing import interleaved_best

MAX_RATIO = 1.0  # target from the issue that made model files agents
DECISIONS = 200


def _observations(env, n):
    observation, _ = env.reset(seed=0)
    rng = np.random.default_rng(0)
    observations = []
    for _ in range(n):
        observations.append(observation)
        observation, *_ = env.step(rng.uniform(-1, 1, env.action_space.shape).astype(np.float32))
    return observations


def _timer(agent, observations):
    def block():
        t = time.perf_counter()
        for observation in observations:
            agent.act(observation)
        return (time.perf_counter() - t) / len(observations)

    return block


def test_onnx_student_decides_no_slower_than_torch(benchmark, rounds, measuring, tmp_path):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        env = suite_agent_env("smoke-v0")
        path = student_path("smoke_student")
        out = tmp_path / "student.onnx"
        export_policy(
            load_original(path, lambda _: env),
            env,
            "onnx",
            out,
            policy_metadata(env.observation_space, env.action_space, suite="smoke-v0"),
        )
        original, exported = BCPolicy.load(path), OnnxPolicy(out, env, threads=1)
        observations = _observations(env, DECISIONS if measuring else 5)
        benchmark.pedantic(_timer(exported, observations), rounds=1)
        torch_s, onnx_s = interleaved_best(
            _timer(original, observations), _timer(exported, observations), rounds
        )
    finally:
        torch.set_num_threads(threads)
    ratio = onnx_s / torch_s
    print(
        f"\ndecision latency, batch 1, one thread: torch {torch_s * 1e6:.1f} us, "
        f"onnxruntime {onnx_s * 1e6:.1f} us, ratio {ratio:.2f}x (target <= {MAX_RATIO}x)"
    )
    if measuring:
        assert ratio <= MAX_RATIO
    else:
        assert np.isfinite(ratio)
