"""``portia export``: a trained BC, DT, PPO or SB3 model as an ONNX or TorchScript policy."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from portia_envs.cli.common import EXIT_BAD_FILE, EXIT_UNAVAILABLE, EXIT_USAGE, fail
from portia_envs.errors import AgentSpecError, PortiaError, UnknownSuiteError


class ExportFormat(StrEnum):
    """The policy formats ``portia export`` writes."""

    ONNX = "onnx"
    TORCHSCRIPT = "torchscript"


def export(
    model: Annotated[
        Path, typer.Argument(help="A BC, DT or PPO checkpoint (.pt) or a Stable-Baselines3 .zip.")
    ],
    out: Annotated[Path, typer.Option(help="The policy file to write.")],
    format: Annotated[  # the option users type is --format
        ExportFormat, typer.Option(help="onnx (what the leaderboard runs) or torchscript.")
    ] = ExportFormat.ONNX,
    suite: Annotated[
        str | None,
        typer.Option(
            help="The suite the policy acts in; unset: the one the model names (BC, PPO). "
            "Needed for DT and SB3 models."
        ),
    ] = None,
    verify: Annotated[
        int,
        typer.Option(
            min=0, help="Observations on which to compare the export's actions to the model's."
        ),
    ] = 1000,
) -> None:
    """Export a trained model as one policy file that keeps Portia's policy contract.

    Every step from the observation to the action (features, standardization, the network,
    squashing, clipping) goes into the file, with the contract's metadata. The export is
    then loaded as `portia bench --agent OUT` would load it, and its actions are compared
    with the model's on VERIFY observations of the suite's first train task; the largest
    difference is printed. See docs/agents.md.
    """
    try:
        from baselines.export import ExportError, export_policy, load_original, verify_export
    except ImportError as error:
        fail(
            f"portia export needs the baselines extra (pip install -e '.[baselines]'): {error}",
            EXIT_UNAVAILABLE,
        )
    from portia_envs.harness.episode import suite_agent_env
    from portia_envs.harness.onnx_policy import policy_metadata

    if not model.is_file():
        fail(f"no model file at {model}", EXIT_BAD_FILE)
    envs = {}

    def env_for(named: str | None):
        chosen = suite or named
        if chosen is None:
            raise ExportError(f"{model} names no suite; say which with --suite")
        if chosen not in envs:
            envs[chosen] = suite_agent_env(chosen)
        return envs[chosen]

    try:
        original = load_original(model, env_for)
        env = env_for(original.suite)
        chosen = suite or original.suite
        metadata = policy_metadata(
            env.observation_space,
            env.action_space,
            suite=chosen,
            shared_layout=getattr(env, "layout", None),
            name=model.stem,
        )
        export_policy(original, env, format.value, out, metadata)
        worst = (
            verify_export(original, out, format.value, env, observations=verify) if verify else None
        )
    except (UnknownSuiteError, AgentSpecError) as error:
        fail(str(error), EXIT_USAGE)
    except PortiaError as error:
        fail(str(error), EXIT_BAD_FILE)
    except ValueError as error:  # the baselines' model errors
        fail(str(error), EXIT_BAD_FILE)
    from portia_envs.harness.model_agents import MODEL_KINDS

    typer.echo(f"wrote {out}: {MODEL_KINDS[original.kind]} as {format.value}, suite {chosen}")
    if worst is not None:
        typer.echo(
            f"largest |action difference| from {model.name} on {verify} observations: {worst:.3g}"
        )


def register(app: typer.Typer) -> None:
    """Add ``portia export`` to the command line (the ``portia.commands`` entry point)."""
    app.command()(export)
