"""Test-wide settings and fixtures: headless rendering, before MuJoCo or pygame are imported."""

import os
import sys

import pytest

# Without a display, render offscreen through EGL and give pygame a dummy video driver.
if sys.platform.startswith("linux") and not (
    os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
):
    os.environ.setdefault("MUJOCO_GL", "egl")
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


@pytest.fixture(scope="session")
def smoke_dataset(tmp_path_factory):
    """Four scripted episodes of smoke-v0's train split (reach and push, twice), as a dataset."""
    pytest.importorskip("minari")
    from portia_envs.datasets import collect

    path = tmp_path_factory.mktemp("data") / "smoke"
    collect("scripted", "smoke-v0", "train", 4, path)
    return path


@pytest.fixture(scope="module")
def one_thread():
    """Torch on one thread for the module: small trainings are quicker, and repeatable."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def c_reach_agent(tmp_path_factory):
    """The reference agent in C (portia_envs/agent_examples/reach_agent.c), compiled once."""
    from tests.portia_envs.harness.reference_agents import compile_c_agent

    return compile_c_agent(tmp_path_factory.mktemp("c-agent"))
