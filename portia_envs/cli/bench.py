"""The ``portia`` commands that score agents: ``bench``, ``validate`` and ``report``.

Examples::

    portia bench --agent scripted --suite smoke-v0 --out runs/smoke
    portia bench --agent my_agents:make_agent --suite arm-reach-v0 --out runs/mine
    portia bench --agent "exec:node my_agent.js" --suite smoke-v0 --out runs/node
    portia bench --agent teacher --suite smoke-v0 --track realtime --budget-ms 20 --out runs/rt
    portia validate runs/smoke/results.json
    portia report runs/smoke/results.json
"""

from __future__ import annotations

import math
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from portia_envs.cli.common import (
    EXIT_AGENT_CANNOT_ACT,
    EXIT_BAD_FILE,
    EXIT_EPISODES_FAILED,
    EXIT_INFRASTRUCTURE,
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
from portia_envs.errors import (
    AgentPreflightError,
    AgentSpecError,
    InfrastructureError,
    InvalidParameterError,
    RecordsError,
    ResultsError,
    UnknownSuiteError,
)
from portia_envs.harness.agent_process import DEFAULT_AGENT_MEMORY_MB, DEFAULT_AGENT_THREADS

DEFAULT_BUDGET_MS = 20.0
DEFAULT_TIMEOUT_S = 600.0
# Upper bounds of the numeric options: beyond them a value is a typo, not a plan.
MAX_BUDGET_MS = 60_000.0
MAX_TIMEOUT_S = 86_400.0
MAX_AGENT_MEMORY_MB = 1 << 20
# Threads an agent process may be given at most.
MAX_AGENT_THREADS = 256
# The smallest memory limit an agent process can start Python in, MiB.
MIN_AGENT_MEMORY_MB = 512


class Track(StrEnum):
    """The benchmark's tracks."""

    PAUSED = "paused"
    REALTIME = "realtime"


class Isolation(StrEnum):
    """Where the agent runs."""

    PROCESS = "process"
    IN_PROCESS = "in-process"


def parse_seeds(text: str) -> list[int]:
    """Return the seeds a ``--seeds`` value names: ``"3"``, ``"0-4"`` or ``"0,2,7-9"``.

    Raises:
        ValueError: If it is none of these, names a seed twice or more than
            ``MAX_SEEDS`` seeds, or a range runs backwards.
    """
    from portia_envs.results import MAX_SEEDS

    seeds: list[int] = []
    for part in text.split(","):
        low, dash, high = part.strip().partition("-")
        try:
            first, last = int(low), int(high) if dash else int(low)
        except ValueError:
            raise InvalidParameterError(
                f"--seeds takes integers and ranges such as 0, 0-4 or 0,2,7-9; got {text!r}"
            ) from None
        if last < first:
            raise InvalidParameterError(f"--seeds range {part.strip()!r} runs backwards")
        if len(seeds) + last - first + 1 > MAX_SEEDS:
            raise InvalidParameterError(f"--seeds names more than {MAX_SEEDS:,} seeds: {text!r}")
        seeds.extend(range(first, last + 1))
    if len(set(seeds)) != len(seeds):
        raise InvalidParameterError(f"--seeds names a seed more than once: {text!r}")
    return seeds


def bench(
    agent: AgentOption,
    suite: SuiteOption,
    out: Annotated[
        Path,
        typer.Option(
            file_okay=False, help="Directory for episodes.jsonl and results.json (created)."
        ),
    ],
    track: Annotated[
        Track, typer.Option(help="paused: the world waits; realtime: it moves while you think.")
    ] = Track.PAUSED,
    budget_ms: Annotated[
        float | None,
        typer.Option(
            min=0,
            help=f"Latency budget per decision, ms (realtime; {DEFAULT_BUDGET_MS:g} if unset).",
        ),
    ] = None,
    clock: Annotated[
        str,
        typer.Option(help="What the latency is (realtime): wall (measured), or fixed:MS."),
    ] = "wall",
    episodes: Annotated[int, typer.Option(min=1, help="Episodes per task and seed.")] = 10,
    seeds: Annotated[str, typer.Option(help="Run seeds: 0, 0-4 or 0,2,7-9.")] = "0",
    workers: Annotated[int, typer.Option(min=1, help="Episodes run in parallel.")] = 1,
    backend: BackendOption = Backend.LOCAL,
    address: AddressOption = None,
    timeout_s: Annotated[
        float,
        typer.Option(
            min=0.001, help="Seconds an episode may take before it is recorded as failed."
        ),
    ] = DEFAULT_TIMEOUT_S,
    resume: Annotated[bool, typer.Option(help="Go on with the interrupted run in --out.")] = False,
    overwrite: Annotated[
        bool,
        typer.Option(
            help="Replace the run an earlier portia bench wrote in --out (its records "
            "and results; nothing else in the directory)."
        ),
    ] = False,
    isolation: Annotated[
        Isolation,
        typer.Option(
            help="process: the agent in its own process (trusted results); in-process: in "
            "the worker, for debugging (the results say so)."
        ),
    ] = Isolation.PROCESS,
    agent_memory_mb: Annotated[
        int, typer.Option(help="Memory limit of the agent process, MiB.")
    ] = DEFAULT_AGENT_MEMORY_MB,
    agent_cpu_s: Annotated[
        float | None,
        typer.Option(help="CPU seconds the agent process may use per episode; unset: --timeout-s."),
    ] = None,
    agent_threads: Annotated[
        int,
        typer.Option(
            help="Threads the agent process computes with (onnxruntime intra-op, torch; "
            "PORTIA_AGENT_THREADS and OMP_NUM_THREADS in its environment); one keeps "
            "latency independent of the number of workers."
        ),
    ] = DEFAULT_AGENT_THREADS,
    allow_failures: Annotated[
        bool, typer.Option(help="Exit 0 even if some episodes failed (they still score as failed).")
    ] = False,
) -> None:
    """Score an agent on every train and held-out task of a suite.

    Checks that the agent can act (one step), then runs EPISODES episodes per task and
    seed in WORKERS processes, the agent in a process of its own beside each, records
    each episode in OUT/episodes.jsonl as it finishes, then writes OUT/results.json
    (episodes and scores: success rates, normalized scores with bootstrap 95% CIs, IQM,
    generalization gaps in success and in IQM, latency compliance) and prints a summary
    that leads with success. An interrupted run continues with --resume.

    Exit codes: 0 every episode completed; 2 bad options; 3 a bad --out directory; 4 the
    agent cannot act; 5 some episodes failed (results written; --allow-failures exits 0);
    6 episodes lost to infrastructure failures (--resume runs them again); 130 interrupted.
    """
    # Deferred: the harness imports MuJoCo and the suites.
    from portia_envs.harness.agents import resolve_spec
    from portia_envs.harness.episode import RunConfig
    from portia_envs.harness.report import summary_table
    from portia_envs.harness.runner import bench as run_bench
    from portia_envs.harness.runner import check_run_size
    from portia_envs.suites import get_suite
    from portia_envs.suites.reference import StaleReferenceError

    try:
        seed_list = parse_seeds(seeds)
        chosen = get_suite(suite)
        resolved = resolve_spec(agent)
    except (ValueError, UnknownSuiteError, AgentSpecError) as error:
        fail(str(error), EXIT_USAGE)
    if resume and overwrite:
        fail(
            "--resume goes on with the run in --out and --overwrite replaces it: pass one",
            EXIT_USAGE,
        )
    realtime = track is Track.REALTIME
    if not realtime and budget_ms is not None:
        fail(
            "--budget-ms applies to --track realtime only; the paused track has no budget",
            EXIT_USAGE,
        )
    if realtime and not _valid_clock(clock):
        fail(
            f"unknown --clock {clock!r}; accepted: wall, or fixed:MS with 0 <= MS <= "
            f"{MAX_BUDGET_MS:g} (such as fixed:30)",
            EXIT_USAGE,
        )
    for name, value, low, high in (
        ("--budget-ms", budget_ms, 0.0, MAX_BUDGET_MS),
        ("--timeout-s", timeout_s, 0.001, MAX_TIMEOUT_S),
        ("--agent-memory-mb", agent_memory_mb, MIN_AGENT_MEMORY_MB, MAX_AGENT_MEMORY_MB),
        ("--agent-cpu-s", agent_cpu_s, 1.0, MAX_TIMEOUT_S),
        ("--agent-threads", agent_threads, 1, MAX_AGENT_THREADS),
    ):
        if value is not None and not (math.isfinite(value) and low <= value <= high):
            message = f"{name} must be a finite number from {low:g} to {high:g}, got {value}"
            fail(message, EXIT_USAGE)
    try:
        check_run_size(chosen, episodes, seed_list, workers)
    except ValueError as error:
        fail(str(error), EXIT_USAGE)
    try:
        config = RunConfig(
            suite=chosen.name,
            suite_hash=chosen.hash,
            track=track.value,
            agent=resolved,
            budget_ms=(DEFAULT_BUDGET_MS if budget_ms is None else budget_ms) if realtime else None,
            clock=clock if realtime else None,
            timeout_s=timeout_s,
            isolation=isolation.value,
            agent_memory_mb=agent_memory_mb,
            agent_cpu_s=agent_cpu_s,
            agent_threads=agent_threads,
        )
    except ValueError as error:  # options that do not go together, such as exec: in-process
        fail(str(error), EXIT_USAGE)
    if overwrite:
        from portia_envs.harness.records import RECORDS_NAME
        from portia_envs.harness.runner import RESULTS_NAME

        for name in (RECORDS_NAME, RESULTS_NAME):
            (out / name).unlink(missing_ok=True)
    progress = episode_progress("failed")
    bar = progress.add_task(f"{chosen.name} {track.value} ({agent})", total=None, failed=0)
    counts = {"done": 0, "total": 0, "failed": 0}

    def started(total: int, done: int) -> None:
        counts.update(done=done, total=total)
        progress.update(bar, total=total, completed=done)

    def recorded(record: dict) -> None:
        counts["done"] += 1
        counts["failed"] += record["status"] != "ok"
        progress.update(bar, advance=1, failed=counts["failed"])

    try:
        with progress:
            results = run_bench(
                config,
                agent_spec=agent,
                episodes=episodes,
                seeds=seed_list,
                out_dir=out,
                workers=workers,
                backend=backend.value,
                address=address,
                resume=resume,
                on_start=started,
                on_record=recorded,
            )
    except KeyboardInterrupt:
        fail(
            f"interrupted: {counts['done']} of {counts['total']} episodes are recorded in "
            f"{out / 'episodes.jsonl'}; run the same command with --resume to finish",
            EXIT_INTERRUPTED,
        )
    except (RecordsError, AgentSpecError) as error:
        fail(str(error), EXIT_BAD_FILE if isinstance(error, RecordsError) else EXIT_USAGE)
    except AgentPreflightError as error:
        fail(str(error), EXIT_AGENT_CANNOT_ACT)
    except InfrastructureError as error:
        fail(str(error), EXIT_INFRASTRUCTURE)
    except (StaleReferenceError, ImportError) as error:
        fail(str(error), EXIT_UNAVAILABLE)
    typer.echo(summary_table(results))
    typer.echo(f"wrote {out / 'results.json'}; `portia report {out / 'results.json'}` makes plots")
    failed = sum(record["status"] != "ok" for record in results["episodes"])
    if failed and not allow_failures:
        fail(
            f"{failed} episode(s) failed (listed above; they score as failed in the results); "
            f"pass --allow-failures to exit 0 all the same",
            EXIT_EPISODES_FAILED,
        )


def validate(
    results_file: Annotated[Path, typer.Argument(help="A results.json written by portia bench.")],
) -> None:
    """Check a results file: sizes, schema, every field against the others, and its scores.

    Sizes are capped before anything is computed; the fields are checked against each
    other (track, latencies, periods, seeds, tasks, suite); the scores are recomputed from
    the episodes. Failed episodes are listed per task. A file that passes is consistent,
    which does not prove its episodes happened: the leaderboard re-runs policies for that.
    """
    from portia_envs.results import failed_episodes, load_results, validate_results

    try:
        results = load_results(results_file)
        scores = validate_results(results, str(results_file))
    except ResultsError as error:
        fail(str(error), EXIT_BAD_FILE)
    train, heldout = scores["splits"]["train"], scores["splits"]["heldout"]
    typer.echo(
        f"{results_file}: valid; {len(scores['tasks'])} tasks, scores recomputed from the "
        f"episodes match (success train {100 * train['success_rate']['value']:.0f}%, held-out "
        f"{100 * heldout['success_rate']['value']:.0f}%; IQM train {train['iqm']['value']:.1f}, "
        f"held-out {heldout['iqm']['value']:.1f})"
    )
    failures = failed_episodes(results)
    if failures:
        typer.echo("failed episodes (scored as failures), per task, with the first error:")
    for task_id, failed in failures.items():
        first_line = (failed.first_error.splitlines() or [""])[0]
        typer.echo(f"  {task_id}: {failed.failed} of {failed.episodes} failed; {first_line}")
    typer.echo(
        "A self-consistent results file is not proof that its episodes happened: the "
        "leaderboard re-runs the policy on hidden seeds for that."
    )


def report(
    results_file: Annotated[Path, typer.Argument(help="A results.json written by portia bench.")],
    out: Annotated[
        Path | None,
        typer.Option(
            file_okay=False, help="Directory for the report; default: report/ beside the file."
        ),
    ] = None,
) -> None:
    """Print a results file's summary and write an HTML report with plots, success first."""
    from portia_envs.harness.report import ReportError, summary_table, write_report
    from portia_envs.results import load_results

    try:
        results = load_results(results_file)
        typer.echo(summary_table(results))
        written = write_report(results, out or results_file.parent / "report")
    except (ResultsError, ReportError) as error:
        fail(str(error), EXIT_BAD_FILE)
    typer.echo("wrote " + ", ".join(str(path) for path in written))


def _valid_clock(clock: str) -> bool:
    """Whether ``clock`` is ``wall`` or ``fixed:MS`` with MS a number in [0, MAX_BUDGET_MS]."""
    kind, _, milliseconds = clock.partition(":")
    if kind == "wall":
        return not milliseconds
    try:
        return kind == "fixed" and 0 <= float(milliseconds) <= MAX_BUDGET_MS
    except ValueError:
        return False
