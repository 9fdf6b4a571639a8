"""PPO on Detour: train on the train levels of detour-v0, report train and held-out success.

A single-file PPO (clipped objective, GAE, separate actor and critic MLPs) on the native
vector env of ``Portia/DetourDiscrete-v0``. Episodes end on catch, fall or the 200-step
limit; truncation bootstraps from the final observation (next-step autoreset returns it on
the step that ends the episode) and the autoreset step that follows is masked out. Then the
trained policy, the planner and a random policy are evaluated on train and held-out levels,
and a markdown table is printed::

    python scripts/detour_ppo.py --total-steps 4000000 --threads 2
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import gymnasium
import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

import portia_envs  # noqa: F401  (registers the Portia ids)
from baselines import ppo
from portia_envs.detour.planner import DetourPlanner

ENV_ID = "Portia/DetourDiscrete-v0"


@dataclass
class Config:
    """PPO's settings; the defaults are the run reported in docs/detour.md."""

    seed: int = 0
    """Seeds torch, the vector env's level streams and the evaluation."""
    total_steps: int = 4_000_000
    """Env steps to train for (all worlds together)."""
    num_envs: int = 64
    """Worlds stepped together."""
    num_steps: int = 128
    """Steps per world between two updates."""
    learning_rate: float = 3e-4
    """Adam's step size, annealed linearly to 0."""
    gamma: float = 0.99
    """Discount."""
    gae_lambda: float = 0.95
    """GAE's lambda."""
    epochs: int = 4
    """Passes over each batch."""
    minibatches: int = 8
    """Minibatches per pass."""
    clip: float = 0.2
    """PPO's ratio clip."""
    entropy: float = 0.01
    """Entropy bonus coefficient."""
    value_coef: float = 0.5
    """Value loss coefficient."""
    max_grad_norm: float = 0.5
    """Gradient norm clip."""
    hidden: int = 128
    """Width of the two hidden layers."""
    threads: int = 2
    """Torch threads."""
    eval_episodes: int = 1_000
    """Episodes per split in the evaluation."""


class Policy(nn.Module):
    """Actor and critic MLPs on Detour's 105-value observation.

    Args:
        n_obs: Observation size.
        n_actions: Number of discrete actions.
        hidden: Width of the hidden layers.
    """

    def __init__(self, n_obs: int, n_actions: int, hidden: int) -> None:
        super().__init__()

        def mlp(out: int, gain: float) -> nn.Sequential:
            layers = [nn.Linear(n_obs, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh()]
            head = nn.Linear(hidden, out)
            for layer in [*layers[::2], head]:
                nn.init.orthogonal_(layer.weight, gain if layer is head else np.sqrt(2))
                nn.init.zeros_(layer.bias)
            return nn.Sequential(*layers, head)

        self.actor = mlp(n_actions, 0.01)
        self.critic = mlp(1, 1.0)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """Return the state values, shape ``(batch,)``."""
        return self.critic(obs).squeeze(-1)

    def distribution(self, obs: torch.Tensor) -> torch.distributions.Categorical:
        """Return the action distribution."""
        return torch.distributions.Categorical(logits=self.actor(obs))

    def predict(self, obs: NDArray, deterministic: bool = True) -> NDArray[np.int64]:
        """Return actions for a batch of observations (the most likely ones by default)."""
        with torch.no_grad():
            dist = self.distribution(torch.as_tensor(obs))
            action = dist.probs.argmax(-1) if deterministic else dist.sample()
        return action.numpy()


def compute_gae(
    rewards: NDArray,
    values: NDArray,
    next_values: NDArray,
    terminated: NDArray,
    ended: NDArray,
    gamma: float,
    lam: float,
) -> NDArray:
    """Generalized advantage estimates over a rollout, shape ``(steps, envs)``.

    ``baselines.ppo.compute_gae`` with the flags this loop keeps: a step that ended its
    episode without terminating was truncated.

    Args:
        rewards: ``(T, N)`` rewards.
        values: ``(T, N)`` values of the observations acted on.
        next_values: ``(T, N)`` values of the observations each step returned.
        terminated: ``(T, N)`` the step terminated (no bootstrap).
        ended: ``(T, N)`` the step ended the episode (terminated or truncated): the
            advantage does not carry over from the next step.
        gamma: Discount.
        lam: GAE's lambda.

    Returns:
        ``(T, N)`` advantages.
    """
    truncated = np.asarray(ended, dtype=bool) & ~np.asarray(terminated, dtype=bool)
    advantages, _ = ppo.compute_gae(rewards, values, terminated, truncated, next_values, gamma, lam)
    return advantages


def train(config: Config) -> tuple[Policy, dict[str, float]]:
    """Train a policy with PPO on the train levels; return it and the run's figures."""
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    envs = gymnasium.make_vec(
        ENV_ID, num_envs=config.num_envs, vectorization_mode="vector_entry_point"
    )
    n_obs = envs.single_observation_space.shape[0]
    policy = Policy(n_obs, int(envs.single_action_space.n), config.hidden)
    optimizer = torch.optim.Adam(policy.parameters(), lr=config.learning_rate, eps=1e-5)
    shape = (config.num_steps, config.num_envs)
    obs_buf = np.zeros((*shape, n_obs), dtype=np.float32)
    act_buf = np.zeros(shape, dtype=np.int64)
    logp_buf, val_buf, rew_buf = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    term_buf, end_buf, valid_buf = np.zeros(shape), np.zeros(shape), np.zeros(shape, bool)
    obs, _ = envs.reset(seed=config.seed)
    resetting = np.zeros(config.num_envs, dtype=bool)
    updates = config.total_steps // (config.num_envs * config.num_steps)
    episodes, successes = 0, 0
    start = time.perf_counter()
    for update in range(updates):
        for group in optimizer.param_groups:
            group["lr"] = config.learning_rate * (1.0 - update / updates)
        for t in range(config.num_steps):
            with torch.no_grad():
                tensor = torch.as_tensor(obs)
                dist = policy.distribution(tensor)
                action = dist.sample()
                val_buf[t] = policy.value(tensor).numpy()
            obs_buf[t], act_buf[t] = obs, action.numpy()
            logp_buf[t] = dist.log_prob(action).numpy()
            # A world that ended last step is autoresetting: that transition is not learnt.
            valid_buf[t] = ~resetting
            obs, reward, terminated, truncated, info = envs.step(act_buf[t])
            rew_buf[t], term_buf[t] = reward, terminated
            resetting = terminated | truncated
            end_buf[t] = resetting
            episodes += int(resetting.sum())
            successes += int(info["is_success"].sum())
        with torch.no_grad():
            last_value = policy.value(torch.as_tensor(obs)).numpy()
        next_values = np.concatenate([val_buf[1:], last_value[None]])
        advantages = compute_gae(
            rew_buf, val_buf, next_values, term_buf, end_buf, config.gamma, config.gae_lambda
        )
        returns = advantages + val_buf
        mask = valid_buf.reshape(-1)
        b_obs = torch.as_tensor(obs_buf.reshape(-1, n_obs)[mask])
        b_act = torch.as_tensor(act_buf.reshape(-1)[mask])
        b_logp = torch.as_tensor(logp_buf.reshape(-1)[mask], dtype=torch.float32)
        b_adv = torch.as_tensor(advantages.reshape(-1)[mask], dtype=torch.float32)
        b_ret = torch.as_tensor(returns.reshape(-1)[mask], dtype=torch.float32)
        size = len(b_act)
        minibatch = size // config.minibatches
        for _ in range(config.epochs):
            order = torch.randperm(size)
            for lo in range(0, size - minibatch + 1, minibatch):
                idx = order[lo : lo + minibatch]
                dist = policy.distribution(b_obs[idx])
                log_prob = dist.log_prob(b_act[idx])
                adv = b_adv[idx]
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                policy_loss = ppo.clipped_policy_loss(log_prob, b_logp[idx], adv, config.clip)
                value_loss = ppo.clipped_value_loss(policy.value(b_obs[idx]), b_ret[idx])
                loss = (
                    policy_loss
                    + config.value_coef * value_loss
                    - config.entropy * dist.entropy().mean()
                )
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(policy.parameters(), config.max_grad_norm)
                optimizer.step()
        if (update + 1) % 10 == 0 or update + 1 == updates:
            steps = (update + 1) * config.num_envs * config.num_steps
            rate = successes / max(episodes, 1)
            print(
                f"steps {steps:>9,}  train success (sampled, last 10 updates) {rate:6.1%}  "
                f"{time.perf_counter() - start:6.0f} s",
                flush=True,
            )
            episodes, successes = 0, 0
    envs.close()
    trained_steps = updates * config.num_envs * config.num_steps
    return policy, {"steps": trained_steps, "seconds": time.perf_counter() - start}


def evaluate(act: object, split: str, episodes: int, seed: int) -> float:
    """Return the success rate of ``act(obs_batch) -> actions`` over ``episodes`` episodes.

    The first episode of each of ``episodes`` worlds counts, so each level is drawn once
    from the split's stream of the world's seed.
    """
    envs = gymnasium.make_vec(
        ENV_ID, num_envs=episodes, vectorization_mode="vector_entry_point", split=split
    )
    obs, _ = envs.reset(seed=seed)
    result = np.zeros(episodes, dtype=bool)
    done = np.zeros(episodes, dtype=bool)
    while not done.all():
        obs, _, terminated, truncated, info = envs.step(act(obs))
        result |= info["is_success"] & ~done
        done |= terminated | truncated
    envs.close()
    return float(result.mean())


def planner_rate(split: str, episodes: int, seed: int) -> float:
    """Return the planner's success rate over ``episodes`` seeded episodes of ``split``."""
    env = gymnasium.make(ENV_ID, split=split)
    agent = DetourPlanner(env)
    caught = 0
    for episode in range(episodes):
        env.reset(seed=seed + episode)
        agent.reset()
        done, info = False, {}
        while not done:
            _, _, terminated, truncated, info = env.step(agent.act(None))
            done = terminated or truncated
        caught += bool(info["is_success"])
    return caught / episodes


def main() -> None:
    """Train, evaluate and print the markdown table of docs/detour.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total-steps", type=int, default=Config.total_steps)
    parser.add_argument("--seed", type=int, default=Config.seed)
    parser.add_argument("--threads", type=int, default=Config.threads)
    parser.add_argument("--eval-episodes", type=int, default=Config.eval_episodes)
    args = parser.parse_args()
    config = Config(
        total_steps=args.total_steps,
        seed=args.seed,
        threads=args.threads,
        eval_episodes=args.eval_episodes,
    )
    policy, run = train(config)
    rng = np.random.default_rng(config.seed)
    agents = {
        "PPO (greedy)": lambda obs: policy.predict(obs, deterministic=True),
        "PPO (sampled)": lambda obs: policy.predict(obs, deterministic=False),
        "random": lambda obs: rng.integers(0, 9, len(obs)),
    }
    n, eval_seed = config.eval_episodes, 10_000 + config.seed
    print(
        f"\nPPO on {ENV_ID}, detour-v0 train levels: {run['steps']:,} env steps in "
        f"{run['seconds']:.0f} s ({config.threads} torch threads); {n} episodes per split\n"
    )
    print("| agent | train levels | held-out levels |")
    print("|---|---|---|")
    for name, act in agents.items():
        train_rate = evaluate(act, "train", n, eval_seed)
        heldout_rate = evaluate(act, "heldout", n, eval_seed)
        print(f"| {name} | {train_rate:.1%} | {heldout_rate:.1%} |")
    print(
        f"| planner (teacher) | {planner_rate('train', n, eval_seed):.1%} | "
        f"{planner_rate('heldout', n, eval_seed):.1%} |"
    )


if __name__ == "__main__":
    main()
