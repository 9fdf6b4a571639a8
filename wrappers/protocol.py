"""The small protocol that Portia envs implement for the wrappers (no import of portia_envs).

An environment whose ``unwrapped`` object has these members gets the fast paths:

- ``get_state() -> NDArray``: the full state as a flat vector (physics, sensors, task).
- ``set_state(state) -> None``: restore it; the continuation is bit-identical.
- ``rollout(actions, *, nthread=1) -> dict[str, NDArray]``: roll out a batch of open-loop
  action sequences of shape ``(batch, horizon, *action_shape)`` from the current state
  without changing the env, returning a dict of arrays with leading shape
  ``(batch, horizon)``: ``reward``, ``terminated``, ``is_success``, and the observation that
  ``step`` would return (for a ``Dict`` observation space, one entry per key of the space;
  otherwise under ``"observation"``). Other entries (reward terms, say) may follow.
- ``dt``: the control period in seconds.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from numpy.typing import NDArray


@runtime_checkable
class Snapshotable(Protocol):
    """An env whose exact state can be taken and restored, and rolled out natively."""

    dt: float

    def get_state(self) -> NDArray:
        """Return the full state as a flat vector."""

    def set_state(self, state: NDArray) -> None:
        """Restore a state returned by ``get_state``."""

    def rollout(self, actions: NDArray, *, nthread: int = 1) -> dict[str, Any]:
        """Roll out a batch of open-loop action sequences from the current state."""
