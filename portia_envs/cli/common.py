"""What the ``portia`` commands share: exit codes, failing with a message, options, a bar."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

# Exit codes: 1 when the machine lacks something, 2 for bad command-line input, 3 when a
# file given (records, results) is not what it must be, 4 when the agent cannot act at all
# (the preflight step failed: nothing was run), 5 when episodes failed (the agent's
# errors, timeouts, invalid actions; the results are written and score them),
# 6 when episodes were lost to infrastructure failures (run again with --resume).
EXIT_UNAVAILABLE = 1
EXIT_USAGE = 2
EXIT_BAD_FILE = 3
EXIT_AGENT_CANNOT_ACT = 4
EXIT_EPISODES_FAILED = 5
EXIT_INFRASTRUCTURE = 6
# Exit code of a run stopped by Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130


def fail(message: str, exit_code: int) -> NoReturn:
    """Print ``message`` to stderr and exit with ``exit_code``, without a traceback."""
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(exit_code)


# The options that name an agent and a suite, for the commands that run one on the other.
AgentOption = Annotated[
    str,
    typer.Option(
        help="The agent: random, scripted, teacher, module:attribute, "
        "path/to/file.py[:attribute] (a factory called with the env), a model file (.onnx, "
        ".pt, .ts, .zip), or (bench only) exec:COMMAND, a program in any language that "
        "speaks docs/protocol.md."
    ),
]
SuiteOption = Annotated[str, typer.Option(help="The suite, such as smoke-v0; see `portia suites`.")]


class Backend(StrEnum):
    """Where episodes run."""

    LOCAL = "local"
    RAY = "ray"


# The options that say where episodes run, for the commands that run many.
BackendOption = Annotated[
    Backend, typer.Option(help='local processes, or ray (pip install "portia-envs[scale]").')
]
AddressOption = Annotated[
    str | None,
    typer.Option(help="Ray cluster address (--backend ray); unset: a local Ray for the run."),
]


def episode_progress(count_field: str) -> Progress:
    """Return a progress bar over episodes on stderr, with a count named ``count_field``.

    A task added to it must set the field, e.g. ``add_task(..., failed=0)`` for ``"failed"``.
    """
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(f"{{task.fields[{count_field}]}} {count_field}"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
