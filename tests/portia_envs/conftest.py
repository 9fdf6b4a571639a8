"""Fixtures shared by the environment and harness tests."""

import gymnasium
import pytest

import portia_envs  # noqa: F401  (registers the ids)


@pytest.fixture
def push_env():
    env = gymnasium.make("Portia/ArmPush-v0")
    yield env
    env.close()


@pytest.fixture(scope="session")
def smoke_results(tmp_path_factory):
    """The scripted agent on smoke-v0, 2 episodes per task, 2 workers: a complete results dict."""
    from tests.portia_envs.harness.harness_runs import run

    return run(tmp_path_factory.mktemp("smoke"), episodes=2, workers=2)
