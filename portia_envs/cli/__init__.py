"""The ``portia`` command line: Portia's own commands, then those other packages contribute.

One module per command group (``envs``: envs, suites, tasks, play; ``bench``: bench,
validate, report; ``collect``), ``common`` for what they share (exit codes, the error line,
options, progress bars), and ``root``, whose ``app`` assembles them with the commands of other
packages (``portia.commands`` entry points, ``portia_envs.plugins``).

``app`` is made on first use (``from portia_envs.cli import app``), not when a submodule is
imported: a contributing package imports ``portia_envs.cli.common`` while it is itself
being imported, before it can contribute.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    """Return ``app`` (assembled on first use); nothing else is lazy here."""
    if name == "app":
        from portia_envs.cli.root import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
