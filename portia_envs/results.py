"""The results file of a benchmark run: written by ``portia bench``, checked by ``portia validate``.

A results file is JSON following ``results.schema.json`` (shipped beside this module,
``SCHEMA_VERSION`` 2): the run (suite and hash, track, budget, clock, how the agent was
isolated, the agent and its content hash, seeds), the environment fingerprint, software
versions and hardware, every episode record, and the scores computed from the records.

``validate_results`` trusts nothing stored. Before computing anything it caps every size it
reads (``MAX_*`` below: the file, bootstrap replicates, seeds, episodes, every list); it
checks each field against the schema and against the others (the track against budget,
clock, latencies and periods; each episode against its suite task, its derived reset seed
and the env's time limit); then it recomputes the scores from the episodes and compares.

What a local check cannot catch:
    A file that passes is self-consistent, which is not proof that its episodes happened.
    Nothing in the file binds the agent's name, version, spec or description to the
    episodes, so editing them (or the hash, to another well-formed one) leaves a valid
    file; the hash names the agent's content, but nothing here can show that this content
    played the episodes. Someone who invents episodes that keep every rule (returns,
    successes, latencies and the periods they take) and runs the public scoring code on
    them writes a file that validates. So does a run moved between tracks when every
    latency, real or invented, fits in one control period: such episodes take one period
    per decision on either track, and what the delay did to returns shows only on replay.
    Wall-clock latencies, ``hardware``, ``versions``, ``created`` and ``wall_s`` are taken
    as written. Only running the policy again shows what it scores: the leaderboard re-runs
    submitted policies on hidden seeds.
"""

from __future__ import annotations

import datetime
import functools
import importlib.metadata
import json
import math
import os
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from portia_envs.errors import PortiaError, ResultsError

if TYPE_CHECKING:
    from portia_envs.suites import AnySuite, DetourTask, TaskSpec

SCHEMA_VERSION = 2
SCHEMA_PATH = Path(__file__).with_name("results.schema.json")
# The keys that differ between two runs of the same command: when, where and how long.
RUN_SPECIFIC_KEYS = ("created", "hardware", "wall_s")
# Distributions whose versions go into every results file (with Python's, as "python").
VERSIONED = ("portia-envs", "mujoco", "gymnasium", "numpy")
# How the agent ran: in its own process behind the message protocol, or inside the harness
# worker (for debugging).
ISOLATIONS = ("process", "in-process")
# Relative tolerance when comparing recomputed scores with stored ones.
SCORE_RTOL = 1e-9
# Scores that files written before they existed lack: compared only when stored.
OPTIONAL_SCORE_KEYS = ("success_gap",)
# Latencies are stored in ms rounded to this many decimals (harness.episode), so a stored
# latency is within half a unit of the last decimal of the one the harness compared with
# the budget; the 1e-9 ms more covers float error in the ms-to-s conversions.
LATENCY_DECIMALS = 4
LATENCY_TOLERANCE_MS = 0.5 * 10**-LATENCY_DECIMALS + 1e-9
# The wrapper's allowance for float noise in latency / dt (wrappers.latency_budget).
PERIOD_BOUNDARY_TOLERANCE = 1e-9

# Caps: every size validate_results reads is bounded before anything is computed, so no
# file can make it run for hours or fill the memory. The schema holds the same numbers (a
# test keeps them equal) except MAX_FILE_BYTES and MAX_BOOTSTRAP_WORK, checked in code. The
# counts are at least the harness's own bounds on a run, so every run it makes validates.
# Bytes of a results file, checked before it is read: a paused run of MAX_EPISODE_RECORDS
# episodes (about 360 bytes each) fits; a realtime episode of 150 decisions takes about
# 2 KB, so about 250,000 of those fit.
MAX_FILE_BYTES = 512 * 2**20
# Bootstrap replicates per interval. The harness draws 2,000; more only steady the interval
# ends, while validation, which redraws them all, takes about 2 ms longer per replicate.
MAX_BOOTSTRAP_REPS = 100_000
# Replicates times episode records: the bootstrap's time grows with both (about 0.2 us per
# record and replicate, so minutes at most). At 2,000 replicates, every run of up to
# MAX_EPISODE_RECORDS episodes passes.
MAX_BOOTSTRAP_WORK = 2 * 10**9
# Run seeds, episodes per task and seed, and tasks: the run they declare is checked against
# MAX_EPISODE_RECORDS before the list of the episodes it must have is made.
MAX_SEEDS = 10_000
MAX_EPISODES = 100_000
MAX_TASKS = 1_000
# Episode records in one results file (and in the run its tasks, seeds and episodes declare).
MAX_EPISODE_RECORDS = 1_000_000
# Seeds (run, episode and bootstrap) fit a signed 64-bit integer, so that every JSON reader
# reads them exactly.
MAX_SEED_VALUE = 2**63 - 1


@dataclass(frozen=True)
class TaskFailures:
    """The failed episodes of one task in a results file.

    Attributes:
        failed: How many of its episodes failed (status ``"error"`` or ``"timeout"``).
        episodes: How many episodes it has.
        first_error: The error of its first failed episode (lowest seed, then index).
    """

    failed: int
    episodes: int
    first_error: str


def build_results(
    header: Mapping[str, Any],
    records: Sequence[Mapping[str, Any]],
    scores: Mapping[str, Any],
    *,
    agent: Mapping[str, Any],
    isolation: str,
    workers: int,
    backend: str,
    wall_s: float,
) -> dict[str, Any]:
    """Assemble a results file from a run's header, records and scores.

    Args:
        header: The run header of the records file (``harness.runner.run_header``).
        records: Every episode record; they are stored sorted by split, task (in suite
            order), seed and episode, so the file does not depend on finishing order.
        scores: ``harness.scores.compute_scores`` of the records.
        agent: Spec, name, version and content hash (``"sha256:<64 hex>"`` or None) of the
            agent.
        isolation: How the agent ran: ``"process"`` (its own process, behind the message
            protocol) or ``"in-process"`` (in the harness worker, for debugging).
        workers: Worker processes used.
        backend: ``"local"`` or ``"ray"``.
        wall_s: Wall seconds the run took (this session of it, when resumed).

    Returns:
        The results, ready for ``json.dump``.

    Raises:
        ResultsError: If ``isolation`` is not one of ``ISOLATIONS``, or a record has the
            status ``"infrastructure"`` (such episodes are run again before results are
            written).
    """
    from portia_envs.suites import get_suite

    if isolation not in ISOLATIONS:
        raise ResultsError(f"isolation must be one of {', '.join(ISOLATIONS)}, got {isolation!r}")
    unrun = [r for r in records if r["status"] == "infrastructure"]
    if unrun:
        raise ResultsError(
            f"{len(unrun)} records have the status 'infrastructure' (e.g. "
            f"{(unrun[0]['task_id'], unrun[0]['seed'], unrun[0]['episode'])}): run those "
            f"episodes again before writing results"
        )
    suite = get_suite(header["suite"])
    order = {spec.task_id: index for index, spec in enumerate(suite.train + suite.heldout)}
    return {
        "schema_version": SCHEMA_VERSION,
        "suite": {"name": suite.name, "hash": header["suite_hash"]},
        "track": header["track"],
        "budget_ms": header["budget_ms"],
        "clock": header["clock"],
        "isolation": isolation,
        "agent": dict(agent),
        "run": {
            "episodes": header["episodes"],
            "seeds": list(header["seeds"]),
            "workers": workers,
            "backend": backend,
            "timeout_s": header["timeout_s"],
        },
        "tasks": suite_tasks(suite),
        "environment": suite.environment(),
        "versions": versions(),
        "hardware": hardware(),
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "wall_s": round(wall_s, 3),
        "episodes": sorted(
            (dict(r) for r in records),
            key=lambda r: (order[r["task_id"]], r["seed"], r["episode"]),
        ),
        "scores": dict(scores),
    }


def suite_tasks(suite: AnySuite) -> list[dict[str, str]]:
    """Return a suite's tasks as a results file lists them: train then held out, in order."""
    from portia_envs.suites import SPLITS

    return [
        {"task_id": spec.task_id, "split": split, "family": spec.family}
        for split in SPLITS
        for spec in suite.tasks(split)
    ]


def write_results(results: Mapping[str, Any], path: Path) -> None:
    """Write ``results`` to ``path`` atomically (a temporary file, then a rename)."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(results, indent=1, sort_keys=True, allow_nan=False) + "\n")
    os.replace(temporary, path)


def load_results(path: Path) -> dict[str, Any]:
    """Read a results file and check it against the schema.

    The file's size is checked first: at most ``MAX_FILE_BYTES`` are ever read.

    Raises:
        ResultsError: If the file is missing, larger than ``MAX_FILE_BYTES``, not JSON, or
            breaks the schema (the message says where and what was expected).
    """
    try:
        with Path(path).open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise ResultsError(f"cannot read results file {path}: {error.strerror}") from error
    if len(data) > MAX_FILE_BYTES:
        raise ResultsError(
            f"{path} is larger than {MAX_FILE_BYTES} bytes ({MAX_FILE_BYTES / 2**20:g} MiB), "
            f"the most a results file may be (MAX_FILE_BYTES), so it was not read; check that "
            f"it is a results.json that portia bench wrote"
        )
    try:
        results = json.loads(data)
    except (ValueError, RecursionError) as error:
        reason = "it is nested too deeply" if isinstance(error, RecursionError) else error
        raise ResultsError(f"{path} is not valid JSON: {reason}") from error
    check_schema(results, str(path))
    return results


def check_schema(results: Any, where: str = "results") -> None:
    """Check ``results`` against ``results.schema.json``, and that its numbers are finite.

    Integers must be JSON integers (``2``, not ``2.0``). JSON has no NaN or infinity, but
    Python's ``json`` reads ``NaN`` and ``Infinity``, so they are looked for too.

    Raises:
        ResultsError: At the first violation: its location in the file and the rule broken.
    """
    import jsonschema

    if isinstance(results, dict) and results.get("schema_version") != SCHEMA_VERSION:
        raise ResultsError(
            f"{where}: schema_version {results.get('schema_version')!r} is not accepted; this "
            f"Portia reads version {SCHEMA_VERSION} only: re-run the benchmark with this "
            f"Portia (portia bench) to write a results file it can check"
        )
    error = jsonschema.exceptions.best_match(_schema_validator().iter_errors(results))
    if error is not None:
        location = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        described = error.schema.get("description") if isinstance(error.schema, dict) else None
        accepted = f" (accepted: {described})" if described and error.absolute_path else ""
        raise ResultsError(f"{where}: at {location}: {error.message}{accepted}")
    found = _first_non_finite(results, "")
    if found is not None:
        raise ResultsError(
            f"{where}: at {found[0] or '(top level)'}: {found[1]!r} is not a finite number; "
            f"results files hold finite numbers only"
        )


@dataclass(frozen=True)
class EpisodeRules:
    """What every episode record of one results file must agree with.

    Attributes:
        track: ``"paused"`` or ``"realtime"``.
        budget_ms: The latency budget per decision, ms (realtime; None when paused).
        fixed_latency_ms: The latency a ``fixed:MS`` clock gives every decision, as stored
            (ms, rounded); None for the wall clock or the paused track.
        time_limit: The env's time limit in control periods (its ``max_episode_steps``).
        period_ms: Each body's control period ``dt``, ms.
    """

    track: str
    budget_ms: float | None
    fixed_latency_ms: float | None
    time_limit: int
    period_ms: Mapping[str, float]


def validate_results(results: Mapping[str, Any], where: str = "results") -> dict[str, Any]:
    """Check that a results file is whole, self-consistent, and its scores are its episodes'.

    In this order, each size capped before anything is computed from it:

    1. The schema (``check_schema``) with the caps it holds (seeds, episodes per task and
       seed, tasks, episode records, bootstrap replicates from 1 to ``MAX_BOOTSTRAP_REPS``,
       confidence in (0, 1)), and every number finite.
    2. The suite exists here with the stored hash, the environment fingerprint is this
       Portia's, and ``tasks`` is the suite's list of tasks.
    3. The run declared (tasks x seeds x episodes) is at most ``MAX_EPISODE_RECORDS``
       episodes and, with the bootstrap's replicates, at most ``MAX_BOOTSTRAP_WORK``; the
       episodes are exactly one per task, run seed and episode index.
    4. The track: paused has no budget and no clock; realtime has both.
    5. Every episode (``check_episode``): its split, family and reset seed; status and
       error; length and periods within the time limit; latencies, ``overran`` and periods
       as its track makes them.
    6. The scores recomputed from the episodes, with the stored bootstrap settings, equal
       the stored ones. A file written before ``success_gap`` was scored lacks it (the
       schema does not require it); its other scores are compared all the same, and each
       of them is what it was, since the success gap is drawn last.

    Args:
        results: A results file's content (``load_results``).
        where: What to call it in messages, such as its path.

    Returns:
        The recomputed scores, ``success_gap`` included even when the file lacks it.

    Raises:
        ResultsError: Naming the first thing that is wrong.
    """
    from portia_envs.harness.scores import compute_scores
    from portia_envs.suites import get_suite
    from portia_envs.suites.reference import load_reference

    check_schema(results, where)
    try:
        suite = get_suite(results["suite"]["name"])
        _check_suite(results, suite, where)
        _check_run_size(results, suite, where)
        _check_coverage(results, suite, where)
        rules = episode_rules(results, suite, where)
        tasks = {spec.task_id: (split, spec) for split, spec in _suite_specs(suite)}
        for index, record in enumerate(results["episodes"]):
            split, spec = tasks[record["task_id"]]
            at = (
                f"{where}: at episodes/{index} ({record['task_id']}, seed {record['seed']}, "
                f"episode {record['episode']})"
            )
            check_episode(record, split, spec, rules, at)
        bootstrap = results["scores"]["bootstrap"]
        scores = compute_scores(
            suite,
            results["episodes"],
            load_reference(suite),
            budget_ms=rules.budget_ms,
            reps=bootstrap["reps"],
            confidence=bootstrap["confidence"],
            seed=bootstrap["seed"],
        )
    except ResultsError:
        raise
    except PortiaError as error:  # an unknown suite, incomplete records, a stale table
        raise ResultsError(f"{where}: {error}") from error
    difference = _first_difference(
        _as_stored(scores, results["scores"]), results["scores"], "scores"
    )
    if difference is not None:
        raise ResultsError(
            f"{where}: the stored scores do not match the episodes: {difference}. The file "
            f"was changed after it was written"
        )
    return scores


def failed_episodes(results: Mapping[str, Any]) -> dict[str, TaskFailures]:
    """Return, for each task with failed episodes, how many failed and the first error.

    Args:
        results: A results file's content (checked by ``validate_results`` first).

    Returns:
        ``task_id -> TaskFailures``, in the order the tasks first appear in ``episodes``
        (suite order in a file ``portia bench`` wrote); tasks with no failure are left out.
    """
    episodes: dict[str, int] = {}
    failed: dict[str, list[Mapping[str, Any]]] = {}
    for record in results["episodes"]:
        episodes[record["task_id"]] = episodes.get(record["task_id"], 0) + 1
        if record["status"] != "ok":
            failed.setdefault(record["task_id"], []).append(record)
    return {
        task_id: TaskFailures(
            failed=len(records),
            episodes=episodes[task_id],
            first_error=str(min(records, key=lambda r: (r["seed"], r["episode"]))["error"]),
        )
        for task_id, records in failed.items()
    }


def episode_rules(results: Mapping[str, Any], suite: AnySuite, where: str) -> EpisodeRules:
    """Check the track's top-level fields and return what its episodes must agree with.

    Raises:
        ResultsError: If the paused track has a budget or clock, or the realtime track
            lacks a budget (a finite number >= 0) or a clock this Portia makes.
    """
    import gymnasium

    from portia_envs.harness.episode import RunConfig
    from wrappers.clocks import FixedLatency

    track, budget_ms, clock = results["track"], results["budget_ms"], results["clock"]
    time_limit = gymnasium.spec(suite.env_id).max_episode_steps
    if track == "paused":
        if budget_ms is not None or clock is not None:
            raise ResultsError(
                f"{where}: the paused track has no latency budget and no clock, so budget_ms "
                f"and clock must be null; found {budget_ms!r} and {clock!r}. Was a realtime "
                f"run relabelled paused?"
            )
        return EpisodeRules(track, None, None, time_limit, {})
    if budget_ms is None or clock is None:
        raise ResultsError(
            f"{where}: the realtime track has a latency budget and a clock: budget_ms must be "
            f"a finite number of ms >= 0 and clock 'wall' or 'fixed:MS'; found {budget_ms!r} "
            f"and {clock!r}"
        )
    try:
        made = RunConfig(
            suite=suite.name,
            suite_hash=suite.hash,
            track=track,
            agent=results["agent"]["spec"],
            budget_ms=budget_ms,
            clock=clock,
            timeout_s=results["run"]["timeout_s"],
        ).make_clock()
    except ValueError as error:
        raise ResultsError(
            f"{where}: at clock: {clock!r} is no clock this Portia makes: {error}"
        ) from error
    fixed_ms = None
    if isinstance(made, FixedLatency):
        fixed_ms = round(1e3 * made.latency_s(), LATENCY_DECIMALS)
    periods = {body: control_period_ms(suite.name, body) for body in suite.bodies}
    return EpisodeRules(track, budget_ms, fixed_ms, time_limit, periods)


def check_episode(
    record: Mapping[str, Any],
    split: str,
    spec: TaskSpec | DetourTask,
    rules: EpisodeRules,
    where: str,
) -> None:
    """Check one episode record against its suite task, its run and its own fields.

    Args:
        record: The episode record (already checked against the schema).
        split: The split of its task in the suite.
        spec: Its task in the suite.
        rules: What the file's episodes must agree with (``episode_rules``).
        where: The record's location, for messages.

    Raises:
        ResultsError: Naming the field that is wrong and what it must be.
    """
    _check_identity(record, split, spec, where)
    _check_status(record, where)
    _check_steps(record, rules, where)
    if rules.track == "paused":
        _check_paused_timing(record, where)
    else:
        _check_realtime_timing(record, rules, rules.period_ms[spec.embodiment], where)


@functools.cache
def control_period_ms(suite_name: str, body: str) -> float:
    """Return the control period ``dt`` of suite ``suite_name``'s env with ``body``, ms."""
    import gymnasium

    from portia_envs.suites import get_suite

    suite = get_suite(suite_name)
    if suite.bodies == (body,):
        env = gymnasium.make(suite.env_id, **suite.env_kwargs(suite.train[0].task_id, "train"))
    else:
        env = gymnasium.make(suite.env_id, body=body)
    try:
        return 1e3 * float(env.unwrapped.dt)
    finally:
        env.close()


def _suite_specs(suite: AnySuite) -> list[tuple[str, TaskSpec | DetourTask]]:
    """Return ``(split, spec)`` of every task of ``suite``, train then held out."""
    from portia_envs.suites import SPLITS

    return [(split, spec) for split in SPLITS for spec in suite.tasks(split)]


def _check_suite(results: Mapping[str, Any], suite: AnySuite, where: str) -> None:
    """Check the suite's hash, the environment fingerprint and the list of tasks."""
    if suite.hash != results["suite"]["hash"]:
        raise ResultsError(
            f"{where}: made on {suite.name} with hash {results['suite']['hash']}, but this "
            f"Portia's {suite.name} has hash {suite.hash}: tasks or physics differ, so its "
            f"scores cannot be checked here"
        )
    stored, here = results["environment"], suite.environment()
    if stored != here:
        ((env_id, fingerprint),) = here.items()
        made = ", ".join(f"{key} of fingerprint {value}" for key, value in stored.items())
        raise ResultsError(
            f"{where}: at environment: made with {made}, but this Portia's has {env_id} of "
            f"fingerprint {fingerprint} (with {suite.name} of the same hash, so the file was "
            f"changed after it was written)"
        )
    expected = suite_tasks(suite)
    if results["tasks"] != expected:
        index = next(
            (i for i, (a, b) in enumerate(zip(results["tasks"], expected, strict=False)) if a != b),
            min(len(results["tasks"]), len(expected)),
        )
        found = repr(results["tasks"][index]) if index < len(results["tasks"]) else None
        wanted = repr(expected[index]) if index < len(expected) else None
        raise ResultsError(
            f"{where}: at tasks/{index}: {found or 'nothing (the list ends)'}, but "
            f"{suite.name} has {wanted or 'nothing (its tasks end)'} there; "
            f"tasks must list the suite's {len(expected)} tasks, train then held out, in "
            f"suite order"
        )


def _check_run_size(results: Mapping[str, Any], suite: AnySuite, where: str) -> None:
    """Check the run's declared size, and its bootstrap work, against the caps."""
    from portia_envs.harness.scores import BOOTSTRAP_REPS

    run = results["run"]
    declared = len(_suite_specs(suite)) * len(run["seeds"]) * run["episodes"]
    if declared > MAX_EPISODE_RECORDS:
        raise ResultsError(
            f"{where}: at run: {len(run['seeds'])} seeds x {run['episodes']} episodes on "
            f"{suite.name}'s tasks are {declared} episodes; a results file holds at most "
            f"{MAX_EPISODE_RECORDS} (MAX_EPISODE_RECORDS): split the run"
        )
    reps = results["scores"]["bootstrap"]["reps"]
    if reps * len(results["episodes"]) > MAX_BOOTSTRAP_WORK:
        raise ResultsError(
            f"{where}: at scores/bootstrap/reps: {reps} replicates of {len(results['episodes'])} "
            f"episodes are more bootstrap work than validation does (replicates x episodes "
            f"at most {MAX_BOOTSTRAP_WORK:,}, MAX_BOOTSTRAP_WORK); score the run with fewer "
            f"replicates (the harness uses {BOOTSTRAP_REPS})"
        )


def _check_coverage(results: Mapping[str, Any], suite: AnySuite, where: str) -> None:
    """Check that the episodes are one per task of the suite, run seed and episode index."""
    expected = {
        (spec.task_id, seed, episode)
        for _, spec in _suite_specs(suite)
        for seed in results["run"]["seeds"]
        for episode in range(results["run"]["episodes"])
    }
    found = [(r["task_id"], r["seed"], r["episode"]) for r in results["episodes"]]
    if len(found) != len(set(found)) or set(found) != expected:
        missing = sorted(expected - set(found))[:3]
        extra = sorted(set(found) - expected)[:3]
        raise ResultsError(
            f"{where}: the episodes are not one per task, seed and episode index of the "
            f"run (missing e.g. {missing}, unexpected e.g. {extra}, "
            f"{len(found) - len(set(found))} repeated)"
        )


def _check_identity(
    record: Mapping[str, Any], split: str, spec: TaskSpec | DetourTask, where: str
) -> None:
    """Check an episode's split and family against its task, and its derived reset seed."""
    from portia_envs.harness.episode import EpisodeJob

    for field, expected in (("split", split), ("family", spec.family)):
        if record[field] != expected:
            raise ResultsError(
                f"{where}: {field} is {record[field]!r}, but task {spec.task_id!r} is "
                f"{field} {expected!r} in the suite"
            )
    job = EpisodeJob(spec.task_id, split, spec.family, record["seed"], record["episode"])
    if record["reset_seed"] != job.reset_seed:
        raise ResultsError(
            f"{where}: reset_seed is {record['reset_seed']}, but the reset seed of task "
            f"{spec.task_id!r}, seed {record['seed']}, episode {record['episode']} is "
            f"{job.reset_seed} (harness.episode.EpisodeJob.reset_seed)"
        )


def _check_status(record: Mapping[str, Any], where: str) -> None:
    """Check status against the rest: ok took a step and has no error; failed has one."""
    if record["status"] == "ok":
        if record["error"] is not None:
            raise ResultsError(
                f"{where}: status is 'ok' but error is {record['error']!r}: a completed "
                f"episode has error null"
            )
        if record["length"] < 1:
            raise ResultsError(
                f"{where}: status is 'ok' but length is 0: a completed episode took at least "
                f"one decision"
            )
    elif record["error"] is None:
        raise ResultsError(
            f"{where}: status is {record['status']!r} but error is null: a failed episode "
            f"records its error"
        )
    elif record["success"]:
        raise ResultsError(
            f"{where}: status is {record['status']!r} but success is true: a failed episode "
            f"is never a success"
        )


def _check_steps(record: Mapping[str, Any], rules: EpisodeRules, where: str) -> None:
    """Check length and periods against each other and the env's time limit."""
    length, periods = record["length"], record["periods"]
    if periods > rules.time_limit:
        raise ResultsError(
            f"{where}: periods is {periods}, but the env's time limit is {rules.time_limit} "
            f"control periods (max_episode_steps): an episode ends by then"
        )
    if length > periods:
        raise ResultsError(
            f"{where}: length is {length} but periods {periods}: every decision takes at "
            f"least one control period"
        )


def _check_paused_timing(record: Mapping[str, Any], where: str) -> None:
    """Check that a paused episode has no latencies and one period per decision."""
    if record["latencies_ms"] is not None or record["overran"] is not None:
        raise ResultsError(
            f"{where}: has latencies_ms or overran, but on the paused track nothing is "
            f"timed: both must be null. Was a realtime run relabelled paused?"
        )
    if record["periods"] != record["length"]:
        raise ResultsError(
            f"{where}: periods is {record['periods']} but length {record['length']}: on the "
            f"paused track every decision takes exactly one control period. Was a realtime "
            f"run relabelled paused?"
        )


def _check_realtime_timing(
    record: Mapping[str, Any], rules: EpisodeRules, period_ms: float, where: str
) -> None:
    """Check a realtime episode's latencies against its length, budget, clock and periods."""
    latencies, overran, length = record["latencies_ms"], record["overran"], record["length"]
    completed = record["status"] == "ok"
    if latencies is None and not completed:
        if overran is not None:
            raise ResultsError(
                f"{where}: overran is {overran} but latencies_ms is null: overran counts "
                f"latencies above the budget"
            )
        return
    count = None if latencies is None else len(latencies)
    if count is None or (count != length if completed else count > length):
        wanted = f"exactly {length}" if completed else f"at most {length}"
        raise ResultsError(
            f"{where}: has {count if count is not None else 'no'} latencies, but a "
            f"{'completed' if completed else 'failed'} realtime episode has one per decision: "
            f"{wanted} (its length)"
        )
    unrounded = next((v for v in latencies if round(v, LATENCY_DECIMALS) != v), None)
    if unrounded is not None:
        raise ResultsError(
            f"{where}: latency {unrounded!r} ms has more than {LATENCY_DECIMALS} decimals; "
            f"the harness stores latencies rounded to {LATENCY_DECIMALS}"
        )
    assert rules.budget_ms is not None  # the realtime track has one (episode_rules)
    least, most = _overran_range(latencies, rules.budget_ms)
    if overran is None or not least <= overran <= most:
        above = str(least) if least == most else f"{least} to {most}"
        raise ResultsError(
            f"{where}: overran is {overran}, but {above} of its {count} latencies are above "
            f"the budget of {rules.budget_ms:g} ms: overran counts the decisions whose latency "
            f"exceeded budget_ms"
        )
    if rules.fixed_latency_ms is not None:
        other = next((v for v in latencies if v != rules.fixed_latency_ms), None)
        if other is not None:
            raise ResultsError(
                f"{where}: a latency is {other!r} ms, but the clock fixed:"
                f"{rules.fixed_latency_ms:g} gives every decision {rules.fixed_latency_ms:g} ms"
            )
    if count == length:
        low, high = _periods_range(latencies, period_ms)
        if not low <= record["periods"] <= high:
            raise ResultsError(
                f"{where}: periods is {record['periods']}, but {count} decisions of these "
                f"latencies take {low} to {high} control periods of {period_ms:g} ms (each "
                f"max(1, ceil(latency / dt)), the last cut short if the episode ends in it)"
            )


def _overran_range(latencies: Sequence[float], budget_ms: float) -> tuple[int, int]:
    """Return the fewest and most decisions that can have been over ``budget_ms``.

    The harness marks a decision over budget when its latency exceeds the budget; a stored
    latency within ``LATENCY_TOLERANCE_MS`` of the budget may have been on either side.
    """
    least = sum(value > budget_ms + LATENCY_TOLERANCE_MS for value in latencies)
    most = sum(value > budget_ms - LATENCY_TOLERANCE_MS for value in latencies)
    return least, most


def _periods_range(latencies: Sequence[float], period_ms: float) -> tuple[int, int]:
    """Return the fewest and most control periods decisions of ``latencies`` can take.

    A decision of latency L takes ``max(1, ceil(L / dt))`` periods
    (``wrappers.latency_budget.LatencyBudget``); the last decision may be cut short (to at
    least one period) when the episode ends in it. Stored latencies are rounded, so each
    count is taken over ``L +- LATENCY_TOLERANCE_MS``.
    """

    def periods(latency_ms: float) -> int:
        return max(1, math.ceil(latency_ms / period_ms - PERIOD_BOUNDARY_TOLERANCE))

    if not latencies:
        return 0, 0
    fewest = [periods(max(0.0, value - LATENCY_TOLERANCE_MS)) for value in latencies]
    most = [periods(value + LATENCY_TOLERANCE_MS) for value in latencies]
    return sum(fewest[:-1]) + 1, sum(most)


def versions() -> dict[str, str]:
    """Return the versions of Portia, MuJoCo, Gymnasium, NumPy and Python."""
    found = {}
    for name in VERSIONED:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    found["python"] = platform.python_version()
    return found


def hardware() -> dict[str, Any]:
    """Return the machine's processor, core count, OS and architecture."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "machine": platform.machine(),
        "system": platform.platform(),
    }


def _cpu_model() -> str:
    """Return the processor's model name (from /proc/cpuinfo on Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _as_stored(computed: Mapping[str, Any], stored: Mapping[str, Any]) -> Mapping[str, Any]:
    """Return recomputed scores without the keys a file may predate and ``stored`` lacks.

    Only ``OPTIONAL_SCORE_KEYS`` may be missing; any other missing key is still reported.
    """
    absent = [key for key in OPTIONAL_SCORE_KEYS if key not in stored]
    return {key: value for key, value in computed.items() if key not in absent}


def _first_difference(computed: Any, stored: Any, path: str) -> str | None:
    """Return where two score trees first differ (numbers to ``SCORE_RTOL``), or None."""
    if isinstance(computed, Mapping) and isinstance(stored, Mapping):
        for key in sorted(set(computed) | set(stored)):
            if key not in computed or key not in stored:
                return f"{path}.{key} is {'missing' if key not in stored else 'unexpected'}"
            found = _first_difference(computed[key], stored[key], f"{path}.{key}")
            if found is not None:
                return found
        return None
    numbers = (int, float)
    if isinstance(computed, numbers) and isinstance(stored, numbers):
        if isinstance(computed, bool) == isinstance(stored, bool) and math.isclose(
            computed, stored, rel_tol=SCORE_RTOL, abs_tol=SCORE_RTOL
        ):
            return None
    elif computed == stored:
        return None
    return f"{path} is {stored!r}, the episodes give {computed!r}"


@functools.cache
def _schema_validator() -> Any:
    """Return a validator of ``results.schema.json`` whose integers are JSON integers.

    JSON Schema counts ``2.0`` as an integer, but Python reads it as a float, which no
    count, index or seed may be.
    """
    import jsonschema

    def is_integer(checker: Any, instance: Any) -> bool:
        return isinstance(instance, int) and not isinstance(instance, bool)

    base = jsonschema.Draft202012Validator
    validator = jsonschema.validators.extend(
        base, type_checker=base.TYPE_CHECKER.redefine("integer", is_integer)
    )
    return validator(json.loads(SCHEMA_PATH.read_text()))


def _first_non_finite(value: Any, path: str) -> tuple[str, float] | None:
    """Return the location and value of the first NaN or infinity in ``value``, or None."""
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, value)
    if isinstance(value, Mapping):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _first_non_finite(item, f"{path}/{key}" if path else str(key))
        if found is not None:
            return found
    return None
