"""Stable-Baselines3's SAC with hindsight relabelling (HerReplayBuffer) on a Portia env.

The standard recipe, unchanged: ``MultiInputPolicy`` on the env's goal-conditioned
``Dict`` observation, and ``HerReplayBuffer`` relabelling with future goals through the
env's ``compute_reward``. SB3 passes that method empty info dicts (unless
``copy_info_dict=True``); Portia then scores the goal term alone, so the recipe runs as
it does on Gymnasium-Robotics' envs.

It trains for ``--timesteps`` env steps, saving the model and its replay buffer every
``--checkpoint-every`` steps; ``--resume`` goes on from the last save after an
interruption. Then it scores the policy (deterministic) on ``--eval-episodes`` seeded
episodes, and random actions on the same episodes, and prints each one's success rate
and mean return, which it also writes to ``OUT/eval.json``. Run again with ``--resume``
and the same ``--timesteps``, it only evaluates.

Usage: ``python scripts/sac_her.py --env Portia/ArmReach-v0 --timesteps 20000
--out runs/sac-her``
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
from stable_baselines3 import SAC, HerReplayBuffer

import portia_envs  # noqa: F401  (registers the ids)

MODEL_NAME, BUFFER_NAME, EVAL_NAME = "model.zip", "replay_buffer.pkl", "eval.json"
# Env steps collected at random before the first gradient step.
LEARNING_STARTS = 1000
# The first evaluation seed: the episodes scored are not the training ones.
EVAL_SEED = 10_000


def make_model(env: gymnasium.Env, seed: int, learning_starts: int) -> SAC:
    """Return SAC with a ``HerReplayBuffer`` (4 future goals per transition) on ``env``."""
    return SAC(
        "MultiInputPolicy",
        env,
        replay_buffer_class=HerReplayBuffer,
        replay_buffer_kwargs={"n_sampled_goal": 4, "goal_selection_strategy": "future"},
        learning_starts=learning_starts,
        seed=seed,
        verbose=0,
    )


def train(
    env_id: str, timesteps: int, out: Path, *, seed: int, every: int, resume: bool, starts: int
) -> SAC:
    """Train until ``timesteps`` env steps in all, saving to ``out`` every ``every`` steps."""
    env = gymnasium.make(env_id)
    out.mkdir(parents=True, exist_ok=True)
    if resume and (out / MODEL_NAME).is_file():
        model = SAC.load(out / MODEL_NAME, env=env)
        model.load_replay_buffer(out / BUFFER_NAME)
        print(f"resumed at {model.num_timesteps} steps")
    else:
        model = make_model(env, seed, starts)
    while model.num_timesteps < timesteps:
        chunk = min(every, timesteps - model.num_timesteps)
        model.learn(chunk, reset_num_timesteps=False, progress_bar=False)
        model.save(out / MODEL_NAME)
        model.save_replay_buffer(out / BUFFER_NAME)
        print(f"{model.num_timesteps} of {timesteps} steps, saved")
    return model


def evaluate(
    act: Callable[[Any], np.ndarray], env_id: str, episodes: int, first_seed: int
) -> dict[str, float]:
    """Return the success rate and mean return of the policy ``act`` on seeded episodes."""
    env = gymnasium.make(env_id)
    successes, returns = [], []
    for episode in range(episodes):
        observation, _ = env.reset(seed=first_seed + episode)
        total, done, info = 0.0, False, {}
        while not done:
            observation, reward, terminated, truncated, info = env.step(act(observation))
            total += float(reward)
            done = terminated or truncated
        successes.append(bool(info.get("is_success", False)))
        returns.append(total)
    env.close()
    return {
        "episodes": episodes,
        "success_rate": float(np.mean(successes)),
        "mean_return": float(np.mean(returns)),
    }


def main() -> None:
    """Read the command line, train, evaluate and write the evaluation."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="Portia/ArmReach-v0")
    parser.add_argument("--timesteps", type=int, default=20_000)
    parser.add_argument("--checkpoint-every", type=int, default=5_000)
    parser.add_argument("--learning-starts", type=int, default=LEARNING_STARTS)
    parser.add_argument("--eval-episodes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/sac-her"))
    parser.add_argument("--resume", action="store_true", help="go on from OUT's last save")
    arguments = parser.parse_args()
    model = train(
        arguments.env,
        arguments.timesteps,
        arguments.out,
        seed=arguments.seed,
        every=arguments.checkpoint_every,
        resume=arguments.resume,
        starts=arguments.learning_starts,
    )
    space = gymnasium.make(arguments.env).action_space
    space.seed(arguments.seed)
    policies = {
        "sac_her": lambda observation: model.predict(observation, deterministic=True)[0],
        "random": lambda observation: space.sample(),
    }
    scores = {
        name: evaluate(act, arguments.env, arguments.eval_episodes, first_seed=EVAL_SEED)
        for name, act in policies.items()
    }
    (arguments.out / EVAL_NAME).write_text(json.dumps(scores, indent=1))
    for name, score in scores.items():
        print(
            f"{arguments.env}, {name}: success {100 * score['success_rate']:.0f}% over "
            f"{score['episodes']} episodes, mean return {score['mean_return']:.2f}"
        )


if __name__ == "__main__":
    main()
