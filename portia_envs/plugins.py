"""What other packages contribute to Portia, found through entry points.

Portia's core (``portia_envs``) names no other package. Packages contribute in three
entry-point groups of their distribution's metadata (``[project.entry-points]``):

- ``portia.commands``: ``name = "module:register"``; ``register(app)`` adds commands to
  the ``portia`` command line (``baselines`` adds ``train`` and ``export``, ``leaderboard``
  its server, ``submit`` and ``status``).
- ``portia.agents``: ``name = "module:attribute"``, an agent spec that ``--agent NAME``
  stands for (``teacher``).
- ``portia.checkpoints``: ``kind = "module:load_agent"``; ``load_agent(path, env)`` plays a
  saved model of that kind (``bc``, ``dt``, ``ppo``, ``sb3``).
"""

from __future__ import annotations

import importlib.metadata
from typing import Any

from portia_envs.errors import PortiaError

COMMANDS = "portia.commands"
AGENTS = "portia.agents"
CHECKPOINTS = "portia.checkpoints"


class PluginError(PortiaError, ImportError):
    """A contribution that is not installed, or that cannot be imported."""


def contributions(group: str) -> dict[str, str]:
    """Return the entry points of ``group``, name to ``"module:attribute"``, sorted by name."""
    points = importlib.metadata.entry_points(group=group)
    return {point.name: point.value for point in sorted(points, key=lambda p: p.name)}


def load(group: str, name: str) -> Any:
    """Import and return what entry point ``name`` of ``group`` names.

    Raises:
        PluginError: If no installed package contributes ``name``, or its module does not
            import (a missing extra, say); the message names what to install.
    """
    points = {point.name: point for point in importlib.metadata.entry_points(group=group)}
    if name not in points:
        raise PluginError(
            f"nothing installed contributes {name!r} to {group}; installed: "
            f"{', '.join(sorted(points)) or 'none'} (pip install -e '.[baselines]' adds the "
            f"baselines')"
        )
    try:
        return points[name].load()
    except (ImportError, AttributeError) as error:
        raise PluginError(
            f"{name!r} ({points[name].value}) cannot be loaded: {error} (the baselines need "
            f"pip install -e '.[baselines]', the leaderboard '.[leaderboard]')"
        ) from error
