"""Checking a submission: its metadata, and its results file exactly as ``portia validate``.

The results file is read as ``portia_envs.results.load_results`` reads a file: its size is
capped first (by the upload cap, ``Settings.max_upload_bytes``, itself at most
``MAX_FILE_BYTES``), then it is parsed as JSON. It is checked by ``validate_results``: the schema,
the suite and its hash, the environment, that every episode is there once, every episode
against its task and track, and every score recomputed from the episodes. Then the
leaderboard's own rules (``check_policy``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from leaderboard.errors import RefusedEntryError
from leaderboard.schemas import EntryMetadata
from portia_envs.errors import ResultsError
from portia_envs.results import validate_results

# What a results file is called in messages.
RESULTS_NAME = "results.json"


def parse_results(data: bytes) -> Any:
    """Return the JSON content of an uploaded results file, parsed as ``load_results`` does.

    Raises:
        RefusedEntryError: If it is not JSON, or nested too deeply to read.
    """
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as error:
        reason = "it is nested too deeply" if isinstance(error, RecursionError) else error
        raise RefusedEntryError(f"{RESULTS_NAME} is not valid JSON: {reason}") from None


def parse_metadata(fields: Mapping[str, Any]) -> EntryMetadata:
    """Return the metadata of a submission.

    Args:
        fields: The submission's fields other than the results file; empty strings (an
            unset form field) count as unset.

    Raises:
        RefusedEntryError: Naming the first field refused and the rule it breaks.
    """
    given = {key: value for key, value in fields.items() if value != ""}
    try:
        return EntryMetadata.model_validate(given)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "(the fields)"
        accepted = ", ".join(EntryMetadata.model_fields)
        raise RefusedEntryError(
            f"metadata field {field!r}: {first['msg']} (fields accepted: {accepted}, and "
            f"results; method is required)"
        ) from None


def check_results(results: Any) -> dict[str, Any]:
    """Check a results file as ``portia validate`` does, then against ``check_policy``.

    Returns:
        Its scores, recomputed from its episodes.

    Raises:
        RefusedEntryError: With the first thing wrong, as ``portia validate`` says it.
    """
    try:
        scores = validate_results(results, RESULTS_NAME)
    except ResultsError as error:
        raise RefusedEntryError(str(error)) from None
    check_policy(results)
    return scores


def check_policy(results: Mapping[str, Any]) -> None:
    """Check the leaderboard's own rules of a valid results file.

    The agent ran in its own process (``--isolation process``; ``in-process`` runs are
    for debugging), and a realtime run measured its latencies on the wall clock (a
    ``fixed:MS`` clock gives every decision the same made-up latency).

    Raises:
        RefusedEntryError: Naming the rule broken.
    """
    if results["isolation"] != "process":
        raise RefusedEntryError(
            f"{RESULTS_NAME}: isolation is {results['isolation']!r}; the leaderboard accepts "
            f"runs whose agent ran in its own process (portia bench --isolation process, the "
            f"default)"
        )
    if results["track"] == "realtime" and results["clock"] != "wall":
        raise RefusedEntryError(
            f"{RESULTS_NAME}: the realtime run's clock is {results['clock']!r}; the "
            f"leaderboard accepts realtime runs timed on the wall clock (--clock wall, the "
            f"default)"
        )
