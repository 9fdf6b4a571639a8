"""The objects' parameters a task sets at reset: sizes, mass, friction, colours, the cabinet.

They live in the compiled model (``MjModel``), so changing them needs no recompiling:
``ObjectWriter.apply`` writes a parameter vector into the model and refreshes the
constants MuJoCo derives from it. The vector is part of the env's task state, so ``set_state``
restores a task's objects exactly.
"""

from __future__ import annotations

import colorsys

import mujoco
import numpy as np
from numpy.typing import NDArray

from portia_envs.errors import InvalidStateError
from portia_envs.scenes.tabletop import (
    BLOCK_HALF_M,
    BLOCK_MASS_KG,
    CABINET_PARKED_POS,
    SUPPORT_MASS_KG,
)

# The object parameter vector, in order: whether the block is parked (1: it floats out of
# the way and touches nothing; 0: in play), its half-size (m), mass (kg), friction and hue
# (0-1, wrapping: 0 is red), whether the support block is parked, its half-size (m) and hue,
# the cabinet's position (m) and the drawer's sliding friction (N).
OBJECT_PARAMS = (
    "block_parked",
    "block_size",
    "block_mass",
    "block_friction",
    "block_hue",
    "support_parked",
    "support_size",
    "support_hue",
    "cabinet_x",
    "cabinet_y",
    "cabinet_z",
    "drawer_friction",
)
# What each object parameter may be (inclusive; the parked flags are 0 or 1): physical
# values around every range a task draws from (``tasks.base.BLOCK_RANGES``, the families'
# and suites' own), so a vector beyond them is from something else, or corrupt. Sizes are
# half-sizes (m), mass in kg, frictions > 0 (the block's) or >= 0 (the drawer's, N), hues
# wrap, cabinet positions in m.
OBJECT_BOUNDS: dict[str, tuple[float, float]] = {
    "block_parked": (0.0, 1.0),
    "block_size": (0.001, 0.1),
    "block_mass": (0.001, 10.0),
    "block_friction": (0.001, 10.0),
    "block_hue": (-1e3, 1e3),
    "support_parked": (0.0, 1.0),
    "support_size": (0.001, 0.1),
    "support_hue": (-1e3, 1e3),
    "cabinet_x": (-5.0, 5.0),
    "cabinet_y": (-5.0, 5.0),
    "cabinet_z": (-5.0, 5.0),
    "drawer_friction": (0.0, 100.0),
}
# The parameters that are flags, 0 or 1.
OBJECT_FLAGS = ("block_parked", "support_parked")
# The blocks' hues as built: red and blue.
BLOCK_HUE, SUPPORT_HUE = 0.0, 0.62
# Hues (0-1) of colour names, as upper bounds of each name's band; the first band wraps.
_HUE_NAMES = (
    (0.04, "red"),
    (0.1, "orange"),
    (0.18, "yellow"),
    (0.45, "green"),
    (0.54, "cyan"),
    (0.72, "blue"),
    (0.82, "purple"),
    (0.94, "pink"),
    (1.0, "red"),
)


def default_objects() -> NDArray[np.float64]:
    """Return the parameter vector of the objects as built: 4 cm blocks, cabinet parked."""
    values = {
        "block_parked": 1.0,
        "block_size": BLOCK_HALF_M,
        "block_mass": BLOCK_MASS_KG,
        "block_friction": 1.0,
        "block_hue": BLOCK_HUE,
        "support_parked": 1.0,
        "support_size": BLOCK_HALF_M,
        "support_hue": SUPPORT_HUE,
        "cabinet_x": CABINET_PARKED_POS[0],
        "cabinet_y": CABINET_PARKED_POS[1],
        "cabinet_z": CABINET_PARKED_POS[2],
        "drawer_friction": 0.0,
    }
    return np.array([values[name] for name in OBJECT_PARAMS])


def check_objects(objects: NDArray[np.float64]) -> None:
    """Raise unless ``objects`` is an object parameter vector within ``OBJECT_BOUNDS``.

    Args:
        objects: The vector, ``OBJECT_PARAMS`` in order.

    Raises:
        InvalidStateError: Naming the first parameter out of bounds, its value and bounds.
    """
    if np.shape(objects) != (len(OBJECT_PARAMS),):
        raise InvalidStateError(
            f"object parameters must be {len(OBJECT_PARAMS)} values ({', '.join(OBJECT_PARAMS)}),"
            f" got shape {np.shape(objects)}"
        )
    for name, value in zip(OBJECT_PARAMS, objects, strict=True):
        low, high = OBJECT_BOUNDS[name]
        if name in OBJECT_FLAGS and value not in (low, high):
            accepted = f"{low:g} or {high:g}"
        elif not low <= value <= high:  # also refuses NaN
            accepted = f"{low:g} to {high:g}"
        else:
            continue
        raise InvalidStateError(
            f"object parameter {name} is {value:g}; accepted: {accepted} (OBJECT_BOUNDS). "
            f"Restore a state from get_state(), or draw tasks from ranges within the bounds"
        )


def colour_name(hue: float) -> str:
    """Return the plain name of the colour of ``hue`` (0-1, wrapping), e.g. ``"red"``."""
    hue = hue % 1.0
    return next(name for top, name in _HUE_NAMES if hue < top or top == 1.0)


def hue_rgba(hue: float) -> list[float]:
    """Return the opaque RGBA of ``hue`` (0-1, wrapping) at the scene's saturation and value."""
    return [*colorsys.hsv_to_rgb(hue % 1.0, 0.8, 0.85), 1.0]


def size_word(half_size_m: float) -> str:
    """Return ``"small "``, ``"large "`` or ``""`` for a block of half-size ``half_size_m``."""
    if half_size_m < 0.0185:
        return "small "
    if half_size_m > 0.0225:
        return "large "
    return ""


def block_name(objects: NDArray[np.float64], which: str = "block") -> str:
    """Return how an instruction names a block (``"block"`` or ``"support"``): "small red block".

    Args:
        objects: The object parameter vector.
        which: Which block.
    """
    size = objects[OBJECT_PARAMS.index(f"{which}_size")]
    hue = objects[OBJECT_PARAMS.index(f"{which}_hue")]
    return f"{size_word(size)}{colour_name(hue)} block"


class ObjectWriter:
    """Writes object parameter vectors into one compiled model.

    Args:
        model: The model to change (the env's); it keeps its structure, only values change.
    """

    def __init__(self, model: mujoco.MjModel) -> None:
        self._model = model
        self._scratch = mujoco.MjData(model)
        self._block = model.body("block").id, model.geom("block").id
        self._support = model.body("support").id, model.geom("support").id
        self._cabinet = model.body("cabinet").id
        self._drawer_dof = model.joint("drawer").dofadr[0]

    def apply(self, objects: NDArray[np.float64]) -> None:
        """Write ``objects`` (shape ``(len(OBJECT_PARAMS),)``) into the model.

        A parked block is gravity compensated and collides with nothing. Sizes set the
        geom's size and bounding volumes and the body's inertia; MuJoCo's derived constants
        (``mj_setConst``) are recomputed on a scratch ``MjData``, so the model equals one
        compiled with these values from the start.

        Raises:
            InvalidStateError: As ``check_objects``, before anything is written.
        """
        check_objects(objects)
        p = dict(zip(OBJECT_PARAMS, objects, strict=True))
        model = self._model
        self._cube(*self._block, p["block_size"], p["block_mass"], p["block_hue"])
        self._cube(*self._support, p["support_size"], SUPPORT_MASS_KG, p["support_hue"])
        for (body, geom), parked in (
            (self._block, p["block_parked"]),
            (self._support, p["support_parked"]),
        ):
            model.body_gravcomp[body] = parked
            model.geom_contype[geom] = model.geom_conaffinity[geom] = 0 if parked else 1
        model.geom_friction[self._block[1], 0] = p["block_friction"]
        model.body_pos[self._cabinet] = p["cabinet_x"], p["cabinet_y"], p["cabinet_z"]
        model.dof_frictionloss[self._drawer_dof] = p["drawer_friction"]
        mujoco.mj_setConst(model, self._scratch)

    def _cube(self, body: int, geom: int, half_m: float, mass_kg: float, hue: float) -> None:
        """Make ``geom`` a cube of half-size ``half_m`` and ``body`` its solid mass."""
        model = self._model
        model.geom_size[geom] = half_m
        model.geom_rbound[geom] = half_m * np.sqrt(3.0)
        model.geom_aabb[geom] = 0.0, 0.0, 0.0, half_m, half_m, half_m
        model.geom_rgba[geom] = hue_rgba(hue)
        model.body_mass[body] = mass_kg
        model.body_inertia[body] = 2.0 / 3.0 * mass_kg * half_m**2
