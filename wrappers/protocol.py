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

and, for latencies that end mid-period, ``n_substeps``, ``delay_next_step`` and
``hold_action`` (``SubstepDelayable`` below); and, to sit behind ``MultiEmbodiment`` with
other bodies, ``embodiment``: a ``wrappers.embodiment.Embodiment`` naming every joint and
every native action and proprioception dimension.
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


@runtime_checkable
class SubstepDelayable(Protocol):
    """An env whose next step can keep the previous action for part of the period.

    ``delay_next_step(previous_action, substeps)`` makes the next ``step`` apply
    ``previous_action`` for its first ``substeps`` physics steps (of ``n_substeps``) and the
    stepped action for the rest; ``hold_action()`` returns the action that keeps the body
    still, the action in effect at an episode's start.
    """

    n_substeps: int

    def delay_next_step(self, previous_action: Any, substeps: int) -> None:
        """Keep ``previous_action`` for the first ``substeps`` physics steps of the next step."""

    def hold_action(self) -> Any:
        """Return the action that keeps the body where it is."""
