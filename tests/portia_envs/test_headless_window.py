"""Closing a human-mode env without a display leaves offscreen rendering working."""

import os
import subprocess
import sys

SCRIPT = """
import gymnasium
from gymnasium.utils.env_checker import check_env
import portia_envs
window = gymnasium.make("Portia/ArmReach-v0", render_mode="human", width=64, height=48)
window.reset(seed=0)
window.close()
frames = gymnasium.make("Portia/ArmReach-v0", render_mode="rgb_array", width=64, height=48)
frames.reset(seed=0)
print("frame", frames.render().shape)
check_env(gymnasium.make("Portia/ArmReach-v0", render_mode="human", width=64, height=48).unwrapped)
frames.reset(seed=1)
print("frame after check_env", frames.render().shape)
"""


def test_a_closed_window_does_not_shut_egl_down_for_the_process():
    # As on a server: no display, EGL for offscreen frames, SDL left to choose its driver.
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")
    }
    environment["MUJOCO_GL"] = "egl"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=environment, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "frame (48, 64, 3)" in done.stdout
    assert "frame after check_env (48, 64, 3)" in done.stdout
