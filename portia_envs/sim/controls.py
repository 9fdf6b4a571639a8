"""Actions to MuJoCo controls: clip to [-1, 1], then an affine map, in one compiled pass."""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray


@numba.njit(cache=True)
def clip_to_controls(
    actions: NDArray[np.float64],
    matrix: NDArray[np.float64],
    offset: NDArray[np.float64],
    ctrl: NDArray[np.float64],
) -> bool:
    """Write ``matrix @ clip(action, -1, 1) + offset`` into ``ctrl`` for each row.

    One kernel serves a single step and a batch of imagined futures, so both get the same
    controls to the last bit.

    Args:
        actions: Actions, shape ``(n, action_size)``.
        matrix: Shape ``(nu, action_size)``.
        offset: Shape ``(nu,)``.
        ctrl: Output, shape ``(n, nu)``.

    Returns:
        False (and ``ctrl`` unspecified) if any action value is NaN or infinite, else True.
    """
    n, size = actions.shape
    nu = offset.shape[0]
    clipped = np.empty(size)
    for i in range(n):
        for j in range(size):
            value = actions[i, j]
            if not np.isfinite(value):
                return False
            clipped[j] = min(max(value, -1.0), 1.0)
        for k in range(nu):
            total = offset[k]
            for j in range(size):
                total += matrix[k, j] * clipped[j]
            ctrl[i, k] = total
    return True
