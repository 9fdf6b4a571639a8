"""Fixtures shared by the environment tests."""

import gymnasium
import pytest

import portia_envs  # noqa: F401  (registers the ids)


@pytest.fixture
def push_env():
    env = gymnasium.make("Portia/ArmPush-v0")
    yield env
    env.close()
