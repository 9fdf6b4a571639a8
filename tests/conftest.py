"""Test-wide settings: headless rendering, before MuJoCo or pygame are imported."""

import os
import sys

# Without a display, render offscreen through EGL and give pygame a dummy video driver.
if sys.platform.startswith("linux") and not (
    os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
):
    os.environ.setdefault("MUJOCO_GL", "egl")
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
