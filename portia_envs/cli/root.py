"""The ``portia`` app: Portia's own commands, then those the ``portia.commands`` entry points add.

A package installed but not importable leaves its commands out of the help; naming one of
them says what to install. MuJoCo picks its OpenGL backend when it is first imported, so
nothing here imports MuJoCo; the commands import it once the backend is settled.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from typing import Annotated

import typer

from portia_envs.cli.bench import bench, report, validate
from portia_envs.cli.collect import collect
from portia_envs.cli.common import EXIT_UNAVAILABLE, fail
from portia_envs.cli.envs import envs, play, suites, tasks
from portia_envs.plugins import COMMANDS, PluginError, contributions, load

app = typer.Typer(
    help="Portia: MuJoCo robot environments that think slowly with time paused, then act fast.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)


def _print_version(value: bool) -> None:
    """Print the installed version and stop, for ``--version``."""
    if value:
        from portia_envs import __version__

        typer.echo(f"portia {__version__} (mujoco {importlib.metadata.version('mujoco')})")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Portia: MuJoCo robot environments that think slowly with time paused, then act fast."""


for command in (envs, suites, tasks, play, bench, validate, report, collect):
    app.command()(command)


def _unavailable(name: str, error: PluginError) -> Callable[[], None]:
    """A stand-in for a contributed command whose package does not import: it says why."""

    def command() -> None:
        fail(str(error), EXIT_UNAVAILABLE)

    command.__doc__ = f"(unavailable: {name} cannot be imported; run it for the reason)"
    return command


for name in contributions(COMMANDS):
    try:
        load(COMMANDS, name)(app)
    except PluginError as error:
        app.command(name, hidden=True)(_unavailable(name, error))
