"""The results file of a benchmark run: written by ``portia bench``, checked by ``portia validate``.

A results file is JSON following ``results.schema.json`` (shipped beside this module,
``SCHEMA_VERSION`` 1): the run (suite and hash, track, budget, agent, seeds), the
environment fingerprint, software versions and hardware, every episode record, and the
scores computed from the records. ``validate_results`` never trusts the stored scores: it
recomputes them from the episodes and compares.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import json
import math
import os
import platform
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from portia_envs.errors import PortiaError, ResultsError

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).with_name("results.schema.json")
# The keys that differ between two runs of the same command: when, where and how long.
RUN_SPECIFIC_KEYS = ("created", "hardware", "wall_s")
# Distributions whose versions go into every results file.
VERSIONED = ("portia-envs", "mujoco", "gymnasium", "numpy")
# Relative tolerance when comparing recomputed scores with stored ones.
SCORE_RTOL = 1e-9


def build_results(
    header: Mapping[str, Any],
    records: Sequence[Mapping[str, Any]],
    scores: Mapping[str, Any],
    *,
    agent: Mapping[str, Any],
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
        agent: Spec, name and version of the agent.
        workers: Worker processes used.
        backend: ``"local"`` or ``"ray"``.
        wall_s: Wall seconds the run took (this session of it, when resumed).

    Returns:
        The results, ready for ``json.dump``.
    """
    from portia_envs.sim.compose import arm_fingerprint
    from portia_envs.suites import SPLITS, get_suite

    suite = get_suite(header["suite"])
    order = {spec.task_id: index for index, spec in enumerate(suite.train + suite.heldout)}
    return {
        "schema_version": SCHEMA_VERSION,
        "suite": {"name": suite.name, "hash": header["suite_hash"]},
        "track": header["track"],
        "budget_ms": header["budget_ms"],
        "clock": header["clock"],
        "agent": dict(agent),
        "run": {
            "episodes": header["episodes"],
            "seeds": list(header["seeds"]),
            "workers": workers,
            "backend": backend,
            "timeout_s": header["timeout_s"],
        },
        "tasks": [
            {"task_id": spec.task_id, "split": split, "family": spec.family}
            for split in SPLITS
            for spec in suite.tasks(split)
        ],
        "environment": {"Portia/Arm-v0": arm_fingerprint()},
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


def write_results(results: Mapping[str, Any], path: Path) -> None:
    """Write ``results`` to ``path`` atomically (a temporary file, then a rename)."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(results, indent=1, sort_keys=True, allow_nan=False) + "\n")
    os.replace(temporary, path)


def load_results(path: Path) -> dict[str, Any]:
    """Read a results file and check it against the schema.

    Raises:
        ResultsError: If the file is missing, not JSON, or breaks the schema (the message
            says where and what was expected).
    """
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise ResultsError(f"cannot read results file {path}: {error.strerror}") from error
    try:
        results = json.loads(text)
    except ValueError as error:
        raise ResultsError(f"{path} is not valid JSON: {error}") from error
    check_schema(results, str(path))
    return results


def check_schema(results: Any, where: str = "results") -> None:
    """Check ``results`` against ``results.schema.json``.

    Raises:
        ResultsError: At the first violation: its location in the file and the rule broken.
    """
    import jsonschema

    if isinstance(results, dict) and results.get("schema_version") != SCHEMA_VERSION:
        raise ResultsError(
            f"{where}: schema_version {results.get('schema_version')!r} is not accepted; this "
            f"Portia reads version {SCHEMA_VERSION}"
        )
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))
    error = jsonschema.exceptions.best_match(validator.iter_errors(results))
    if error is not None:
        location = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        raise ResultsError(f"{where}: at {location}: {error.message}")


def validate_results(results: Mapping[str, Any], where: str = "results") -> dict[str, Any]:
    """Check that a results file is whole and its scores are what its episodes give.

    Checks the schema; that the suite exists and has the stored hash; that the episodes
    are exactly one per task of the suite, run seed and episode index; and that the scores
    recomputed from the episodes (with the stored bootstrap settings) equal the stored
    ones.

    Returns:
        The recomputed scores.

    Raises:
        ResultsError: Naming the first thing that is wrong.
    """
    from portia_envs.harness.scores import compute_scores
    from portia_envs.suites import get_suite
    from portia_envs.suites.reference import load_reference

    check_schema(results, where)
    try:
        suite = get_suite(results["suite"]["name"])
        if suite.hash != results["suite"]["hash"]:
            raise ResultsError(
                f"{where}: made on {suite.name} with hash {results['suite']['hash']}, but this "
                f"Portia's {suite.name} has hash {suite.hash}: tasks or physics differ, so its "
                f"scores cannot be checked here"
            )
        expected = {
            (spec.task_id, seed, episode)
            for spec in suite.train + suite.heldout
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
        bootstrap = results["scores"]["bootstrap"]
        scores = compute_scores(
            suite,
            results["episodes"],
            load_reference(suite),
            budget_ms=results["budget_ms"] if results["track"] == "realtime" else None,
            reps=bootstrap["reps"],
            confidence=bootstrap["confidence"],
            seed=bootstrap["seed"],
        )
    except ResultsError:
        raise
    except PortiaError as error:  # an unknown suite, incomplete records, a stale table
        raise ResultsError(f"{where}: {error}") from error
    difference = _first_difference(scores, results["scores"], "scores")
    if difference is not None:
        raise ResultsError(
            f"{where}: the stored scores do not match the episodes: {difference}. The file "
            f"was changed after it was written"
        )
    return scores


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
