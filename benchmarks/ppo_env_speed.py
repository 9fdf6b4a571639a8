"""PPO's env steps per second on a suite, stepping its envs each way ``make_vec`` offers.

It trains ``baselines.ppo`` for ``--total-steps`` env steps with the same config three
times, changing only ``PPOConfig.vectorization``: Portia's batched vector env
(``vector_entry_point``, the default, physics in native threads), Gymnasium's
``SyncVectorEnv`` (``sync``, how PPO stepped its envs before) and ``AsyncVectorEnv``
(``async``, a process per env). The three runs take the same steps bit for bit (the
trained weights are compared), so the wall times differ only in how the envs are stepped.
Each run is timed whole (rollouts and updates) and its rollouts alone (env steps and the
policy's forward passes, as PPO spends them); rounds alternate the modes and the fastest of
each counts. It prints a Markdown table and writes ``OUT/ppo-env-speed.json``.

``--before DIR`` also times whole training runs of another checkout of the project (e.g. a
``git worktree`` of the commit before the batched vector env) against this one, each run in
a fresh process with the checkout first on ``sys.path``, alternating::

    python benchmarks/ppo_env_speed.py
    python benchmarks/ppo_env_speed.py --suite arm-reach-v0 --total-steps 4096 --rounds 1
    git worktree add /tmp/before 830cfdb
    python benchmarks/ppo_env_speed.py --before /tmp/before
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch

from baselines import ppo
from baselines.ppo import PPOConfig, train

MODES = ("vector_entry_point", "sync", "async")
# Times one default training run (after a one-update warm-up) of the checkout first on sys.path.
TRAIN_ONCE = """
import sys, time
from baselines.ppo import PPOConfig, train
config = PPOConfig(suite=sys.argv[1], total_steps=int(sys.argv[2]), num_envs=int(sys.argv[3]))
train(PPOConfig(suite=config.suite, total_steps=1, num_envs=config.num_envs))  # warm-up
t = time.perf_counter()
train(config)
print(config.updates * config.rollout_steps / (time.perf_counter() - t))
"""


def checkout_steps_per_s(checkout: Path, args: argparse.Namespace) -> float:
    """Return the training env steps/s of one run of ``checkout``'s PPO, in a fresh process."""
    command = [sys.executable, "-c", TRAIN_ONCE, args.suite, str(args.total_steps)]
    command.append(str(args.num_envs))
    environment = {**os.environ, "PYTHONPATH": str(checkout)}
    result = subprocess.run(
        command, cwd=checkout, env=environment, capture_output=True, text=True, check=True
    )
    return float(result.stdout.strip().splitlines()[-1])


def timed_train(config: PPOConfig) -> tuple[float, float, ppo.PPOPolicy]:
    """Train with ``config``; return (whole wall time, time in env steps and rollouts, policy)."""
    rollout_s = 0.0
    make_envs = ppo.make_envs

    def counting_envs(cfg: PPOConfig):  # times every step call of the run's envs
        envs = make_envs(cfg)
        step = envs.step

        def timed_step(action):
            nonlocal rollout_s
            t = time.perf_counter()
            result = step(action)
            rollout_s += time.perf_counter() - t
            return result

        envs.step = timed_step
        return envs

    ppo.make_envs = counting_envs
    try:
        t = time.perf_counter()
        policy = train(config)
        return time.perf_counter() - t, rollout_s, policy
    finally:
        ppo.make_envs = make_envs


def main() -> None:
    """Time the three modes, print the table, write the JSON; exit 1 if weights differ."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", default="arm-reach-v0")
    parser.add_argument("--total-steps", type=int, default=16_384)
    parser.add_argument("--num-envs", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("runs/benchmarks"))
    parser.add_argument("--before", type=Path, help="another checkout to time against this one")
    args = parser.parse_args()
    config = PPOConfig(suite=args.suite, total_steps=args.total_steps, num_envs=args.num_envs)
    best = {mode: {"train_s": float("inf"), "env_step_s": float("inf")} for mode in MODES}
    weights = {}
    for _ in range(args.rounds):
        for mode in MODES:
            whole, stepping, policy = timed_train(dataclasses.replace(config, vectorization=mode))
            best[mode]["train_s"] = min(best[mode]["train_s"], whole)
            best[mode]["env_step_s"] = min(best[mode]["env_step_s"], stepping)
            weights[mode] = [p.detach().clone() for p in policy.model.parameters()]
    same = all(
        all(torch.equal(a, b) for a, b in zip(weights[mode], weights["sync"], strict=True))
        for mode in MODES
    )
    steps = config.updates * config.rollout_steps
    rows = {
        mode: {
            **times,
            "train_steps_per_s": steps / times["train_s"],
            "env_steps_per_s": steps / times["env_step_s"],
        }
        for mode, times in best.items()
    }
    print(f"PPO on {args.suite}: {steps} env steps, {config.num_envs} envs, best of {args.rounds}")
    print(f"cores: {len(os.sched_getaffinity(0))}; same weights in every mode: {same}\n")
    print("| vectorization | training, env steps/s | env.step alone, env steps/s |")
    print("|---|---|---|")
    for mode, row in rows.items():
        print(f"| {mode} | {row['train_steps_per_s']:,.0f} | {row['env_steps_per_s']:,.0f} |")
    before = {}
    if args.before is not None:
        here = Path(__file__).resolve().parents[1]
        for _ in range(args.rounds):
            for name, checkout in (("before", args.before.resolve()), ("this checkout", here)):
                rate = checkout_steps_per_s(checkout, args)
                before[name] = max(before.get(name, 0.0), rate)
        print("\n| checkout (default PPOConfig) | training, env steps/s |\n|---|---|")
        for name, rate in before.items():
            print(f"| {name} | {rate:,.0f} |")
    args.out.mkdir(parents=True, exist_ok=True)
    report = {
        "suite": args.suite,
        "env_steps": steps,
        "num_envs": config.num_envs,
        "rounds": args.rounds,
        "cores": len(os.sched_getaffinity(0)),
        "machine": platform.processor() or platform.machine(),
        "same_weights": same,
        "modes": rows,
        "checkouts": {str(args.before): before.get("before"), "this": before.get("this checkout")}
        if before
        else None,
    }
    path = args.out / "ppo-env-speed.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {path}")
    raise SystemExit(0 if same else 1)


if __name__ == "__main__":
    main()
