"""Wrappers record their constructor arguments: env.spec rebuilds the whole wrapped stack."""

import gymnasium
import numpy as np

import portia_envs  # noqa: F401  (registers the ids)
from wrappers import MultiEmbodiment, SharedLayout
from wrappers.clocks import FixedLatency
from wrappers.latency_budget import LatencyBudget
from wrappers.time_pause import TimePause


def run(env, seed=4, steps=6):
    observation, _ = env.reset(seed=seed)
    outputs = [observation]
    for _ in range(steps):
        outputs.append(env.step(np.full(env.action_space.shape, 0.3, dtype=np.float32)))
    return outputs


def test_make_of_the_spec_rebuilds_time_pause_and_latency_budget_with_their_arguments():
    stack = LatencyBudget(
        TimePause(gymnasium.make("Portia/ArmReach-v0"), think_budget_steps=7, over_budget="cut"),
        budget_s=0.05,
        clock=FixedLatency(0.06),
        overrun="penalize",
        overrun_penalty=0.5,
    )
    wrappers = stack.spec.additional_wrappers
    assert [w.name for w in wrappers][-2:] == ["TimePause", "LatencyBudget"]
    assert wrappers[-2].kwargs == {"think_budget_steps": 7, "over_budget": "cut", "nthread": 1}
    assert wrappers[-1].kwargs["overrun"] == "penalize"
    rebuilt = gymnasium.make(stack.spec)
    assert isinstance(rebuilt, LatencyBudget) and isinstance(rebuilt.env, TimePause)
    assert rebuilt.env.think_budget_steps == 7 and rebuilt.env.over_budget == "cut"
    assert rebuilt.overrun_penalty == 0.5
    # The rebuilt stack plays the same episode: a 60 ms latency on a 50 ms budget, penalized.
    assert repr(run(rebuilt)) == repr(run(stack))


def test_make_of_the_spec_rebuilds_multi_embodiment_with_its_layout():
    bodies = [gymnasium.make("Portia/ArmReach-v0"), gymnasium.make("Portia/SpiderPrey-v0")]
    layout = SharedLayout.covering(bodies)
    wrapped = MultiEmbodiment(gymnasium.make("Portia/ArmReach-v0"), layout)
    (record,) = [w for w in wrapped.spec.additional_wrappers if w.name == "MultiEmbodiment"]
    assert record.kwargs == {"layout": layout, "embodiment": None}
    rebuilt = gymnasium.make(wrapped.spec)
    assert isinstance(rebuilt, MultiEmbodiment)
    assert rebuilt.observation_space == wrapped.observation_space
    assert repr(run(rebuilt)) == repr(run(wrapped))
