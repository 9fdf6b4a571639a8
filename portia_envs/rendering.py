"""Offscreen MuJoCo rendering, shown in a pygame window for ``render_mode="human"``."""

from __future__ import annotations

import os

import mujoco
import numpy as np
from numpy.typing import NDArray

from portia_envs.display import headless
from portia_envs.errors import PortiaError

RENDER_MODES = ("human", "rgb_array")


class RenderError(PortiaError, RuntimeError):
    """Rendering could not start (usually no OpenGL context on a headless machine)."""


class SceneRenderer:
    """Renders a model's scene from a named camera into RGB arrays, or into a window.

    The window (for ``"human"``) is a pygame window that shows the offscreen frames, so
    the same picture is on screen and in ``rgb_array`` videos.

    Args:
        model: The compiled model.
        camera: Name of a camera in the model.
        width: Frame width in pixels.
        height: Frame height in pixels.
    """

    def __init__(self, model: mujoco.MjModel, *, camera: str, width: int, height: int) -> None:
        try:
            self._renderer = mujoco.Renderer(model, height=height, width=width)
        except mujoco.FatalError as error:
            raise RenderError(
                f"MuJoCo could not create an OpenGL context ({error}). On a machine without a "
                "display set MUJOCO_GL=egl (or osmesa) before Python starts; MUJOCO_GL is "
                f"now {os.environ.get('MUJOCO_GL', 'unset')!r}"
            ) from error
        self._camera = camera
        self._window = None
        self._clock = None

    def rgb(self, data: mujoco.MjData, model: mujoco.MjModel | None = None) -> NDArray[np.uint8]:
        """Return the current frame, shape ``(height, width, 3)``.

        Args:
            data: The state to draw.
            model: The model ``data`` belongs to, when it is another compiled copy of the
                renderer's (same structure, its own sizes and colours, as a vector env's
                worlds); None for the renderer's own.
        """
        if model is None:
            self._renderer.update_scene(data, camera=self._camera)
        else:
            camera = mujoco.MjvCamera()
            camera.type = mujoco.mjtCamera.mjCAMERA_FIXED
            camera.fixedcamid = model.camera(self._camera).id
            mujoco.mjv_updateScene(
                model,
                data,
                mujoco.MjvOption(),
                None,
                camera,
                mujoco.mjtCatBit.mjCAT_ALL.value,
                self._renderer.scene,
            )
        return self._renderer.render()

    def show(self, data: mujoco.MjData, fps: float) -> None:
        """Draw the current frame in the window (opened on first use), at most ``fps`` a second."""
        import pygame  # deferred: only a window needs it

        frame = self.rgb(data)
        if self._window is None:
            if headless():
                # No display: SDL would pick its offscreen driver, whose quit terminates the
                # EGL display MuJoCo renders with, for the whole process. The dummy driver
                # shows nothing and touches no EGL.
                os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
            pygame.display.init()
            pygame.display.set_caption("Portia")
            self._window = pygame.display.set_mode((frame.shape[1], frame.shape[0]))
            self._clock = pygame.time.Clock()
        pygame.event.pump()
        self._window.blit(pygame.surfarray.make_surface(frame.swapaxes(0, 1)), (0, 0))
        pygame.display.flip()
        self._clock.tick(fps)

    def close(self) -> None:
        """Release the OpenGL context and close the window, if any."""
        self._renderer.close()
        if self._window is not None:
            import pygame

            pygame.display.quit()
            self._window = None
