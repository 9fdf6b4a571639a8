"""What every ``portia`` command shares: exit codes and failing with a message."""

from __future__ import annotations

from typing import NoReturn

import typer

# Exit codes: 1 when the machine lacks something, 2 for bad command-line input, 3 when a
# file given (records, results) is not what it must be.
EXIT_UNAVAILABLE = 1
EXIT_USAGE = 2
EXIT_BAD_FILE = 3
# Exit code of a run stopped by Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130


def fail(message: str, exit_code: int) -> NoReturn:
    """Print ``message`` to stderr and exit with ``exit_code``, without a traceback."""
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(exit_code)
