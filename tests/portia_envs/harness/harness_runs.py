"""Helpers of the harness tests: run configs, fake agent specs, runs, comparing results."""

import copy
from pathlib import Path

from portia_envs.harness.agents import resolve_spec
from portia_envs.harness.episode import RunConfig
from portia_envs.harness.runner import bench
from portia_envs.results import RUN_SPECIFIC_KEYS
from portia_envs.suites import get_suite

FAKE_AGENTS = Path(__file__).with_name("fake_agents.py")


def fake(name):
    """The spec of an agent of fake_agents.py."""
    return f"{FAKE_AGENTS}:{name}"


def config(
    agent="scripted",
    *,
    suite="smoke-v0",
    track="paused",
    budget_ms=None,
    clock=None,
    timeout_s=600.0,
    **options,
):
    return RunConfig(
        suite=suite,
        suite_hash=get_suite(suite).hash,
        track=track,
        agent=resolve_spec(agent),
        budget_ms=budget_ms,
        clock=clock,
        timeout_s=timeout_s,
        **options,
    )


def run(out_dir, agent="scripted", *, episodes=2, seeds=(0,), workers=1, resume=False, **kw):
    return bench(
        config(agent, **kw),
        agent_spec=agent,
        episodes=episodes,
        seeds=list(seeds),
        out_dir=out_dir,
        workers=workers,
        resume=resume,
    )


def comparable(results):
    """The results without what differs between two runs of one command, nor the workers."""
    results = copy.deepcopy(results)
    for key in RUN_SPECIFIC_KEYS:
        results.pop(key)
    results["run"].pop("workers")
    return results
