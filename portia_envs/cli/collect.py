"""The ``portia collect`` command: an agent's demonstrations as a local Minari dataset.

Examples::

    portia collect --agent teacher --suite smoke-v0 --split train --episodes 10 --workers 2 \
        --out data/smoke
    portia collect --agent my_agent.py --suite arm-reach-v0 --episodes 50 --out data/mine
    portia collect --agent teacher --suite arm-reach-v0 --episodes 40 --workers 8 \
        --backend ray --address auto --out data/reach
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Annotated

import typer

from portia_envs.cli.common import (
    EXIT_BAD_FILE,
    EXIT_INTERRUPTED,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    AddressOption,
    AgentOption,
    Backend,
    BackendOption,
    SuiteOption,
    episode_progress,
    fail,
)
from portia_envs.errors import AgentSpecError, UnknownSuiteError


def collect(
    agent: AgentOption,
    suite: SuiteOption,
    out: Annotated[
        Path,
        typer.Option(
            file_okay=False,
            help="Directory for the dataset (a Minari datasets root; created, must be empty).",
        ),
    ],
    split: Annotated[str, typer.Option(help="The suite's train or heldout tasks.")] = "train",
    episodes: Annotated[
        int, typer.Option(min=1, help="Episodes in all, spread round robin over the split's tasks.")
    ] = 10,
    seed: Annotated[int, typer.Option(help="The run seed the reset seeds derive from.")] = 0,
    workers: Annotated[
        int, typer.Option(min=1, help="Episodes played at once (the dataset is the same).")
    ] = 1,
    backend: BackendOption = Backend.LOCAL,
    address: AddressOption = None,
    overwrite: Annotated[
        bool, typer.Option(help="Replace the dataset an earlier portia collect wrote in --out.")
    ] = False,
) -> None:
    """Record an agent's episodes on a suite split as a Minari dataset, on local disk only.

    Episode i runs on the split's task i mod n_tasks, from the reset seed portia bench gives
    that task, seed and episode, with time paused. Stored: observations (every key),
    actions, rewards, terminations, truncations, per-step infos (task_id, instruction,
    is_success, think_steps, think_s), each episode's task, reset seed, thinking totals and
    SHA-256 checksum, and the suite, its hash, the agent and the environment fingerprint.
    Open it with `portia_envs.datasets.load_dataset(OUT)`, which refuses an episode that no
    longer matches its checksum, or with Minari after `MINARI_DATASETS_PATH=OUT`.

    Episodes are played in this process, in --workers local processes, or with --backend ray
    as Ray tasks on a Ray started here on 127.0.0.1 or on the cluster at --address; the
    dataset is the same whichever plays them, and is written on this machine.
    """
    # Deferred: the harness imports MuJoCo, the dataset store imports Minari.
    from portia_envs.datasets.collect import EpisodeFailedError, EpisodeSummary, plan_episodes
    from portia_envs.datasets.collect import collect as run_collect
    from portia_envs.datasets.store import DatasetError
    from portia_envs.harness.agents import is_exec_spec, resolve_spec
    from portia_envs.harness.parallel import check_map_options
    from portia_envs.suites import get_suite

    try:
        check_map_options(workers, backend.value, address)
        plan_episodes(get_suite(suite), split, episodes, seed)
        if is_exec_spec(resolve_spec(agent)):
            raise AgentSpecError(
                f"agent {agent!r} is a program of its own, and portia collect runs the agent "
                f"inside its own Python process, beside the env; accepted: a built-in name, "
                f"module:attribute, path/to/file.py[:attribute] or a model file"
            )
    except (ValueError, UnknownSuiteError, AgentSpecError) as error:
        fail(str(error), EXIT_USAGE)
    except ImportError as error:
        fail(str(error), EXIT_UNAVAILABLE)
    missing = [name for name in ("minari", "h5py") if importlib.util.find_spec(name) is None]
    if missing:
        fail(
            f"collect writes Minari datasets in HDF5, which needs {' and '.join(missing)}: "
            f'pip install "portia-envs[baselines]"',
            EXIT_UNAVAILABLE,
        )
    progress = episode_progress("succeeded")
    bar = progress.add_task(f"{suite} {split} ({agent})", total=episodes, succeeded=0)
    succeeded = 0

    def played(episode: EpisodeSummary) -> None:
        nonlocal succeeded
        succeeded += episode.success
        progress.update(bar, advance=1, succeeded=succeeded)

    try:
        with progress:
            summary = run_collect(
                agent,
                suite,
                split,
                episodes,
                out,
                seed=seed,
                overwrite=overwrite,
                workers=workers,
                backend=backend.value,
                address=address,
                on_episode=played,
            )
    except KeyboardInterrupt:
        fail(f"interrupted: nothing was written to {out}", EXIT_INTERRUPTED)
    except AgentSpecError as error:
        fail(str(error), EXIT_USAGE)
    except DatasetError as error:
        fail(str(error), EXIT_BAD_FILE)
    except (EpisodeFailedError, ImportError) as error:
        fail(str(error), EXIT_UNAVAILABLE)
    typer.echo(
        f"collected {summary.episodes} episodes, {summary.steps} steps, "
        f"{100 * summary.success_rate:.0f}% success, "
        f"{summary.think_s_per_decision:.3f} s thinking per decision; "
        f"wrote {summary.dataset_id} to {summary.path} ({summary.size_bytes / 1e6:.1f} MB)"
    )
