"""TimePause and LatencyBudget wrap one env: a vector env is refused, naming what works."""

import gymnasium
import numpy as np
import pytest

import portia_envs  # noqa: F401  (registers the ids)
from wrappers.errors import WrapperInputError
from wrappers.latency_budget import LatencyBudget
from wrappers.time_pause import TimePause

# A key each wrapper adds to the step's info.
INFO_KEY = {"TimePause": "think_steps", "LatencyBudget": "latency_s"}
WRAPPERS = {
    "TimePause": lambda env: TimePause(env, think_budget_steps=10),
    "LatencyBudget": lambda env: LatencyBudget(env, budget_s=0.02),
}


@pytest.mark.parametrize("name", sorted(WRAPPERS))
@pytest.mark.parametrize("env_id", ["Portia/ArmReach-v0", "CartPole-v1"])
def test_a_vector_env_is_refused_with_the_way_that_works(name, env_id):
    envs = gymnasium.make_vec(env_id, num_envs=3)
    with pytest.raises(WrapperInputError, match=rf"{name} wraps one env.*3 worlds.*'sync'"):
        WRAPPERS[name](envs)
    envs.close()


@pytest.mark.parametrize("name", sorted(WRAPPERS))
def test_the_way_the_message_names_works(name):
    envs = gymnasium.make_vec(
        "Portia/ArmReach-v0", num_envs=2, vectorization_mode="sync", wrappers=[WRAPPERS[name]]
    )
    envs.reset(seed=0)
    _, rewards, _, _, info = envs.step(np.zeros(envs.action_space.shape))
    assert rewards.shape == (2,)
    assert info[f"_{INFO_KEY[name]}"].all()
    envs.close()
