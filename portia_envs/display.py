"""Whether a window can open here: the one check the CLI and the renderer share."""

from __future__ import annotations

import os
import sys


def headless() -> bool:
    """Return whether this is Linux with no display server to open a window on."""
    return sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
