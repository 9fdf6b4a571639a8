"""The episode-records file: one JSON line per finished episode, so no finished work is lost.

``episodes.jsonl`` starts with a header line, ``{"portia_run": {...}}``, that says which run
the records belong to (suite and hash, track, budget, clock, agent, episodes, seeds,
timeout); every further line is one episode record, appended and flushed as the episode
finishes. A run that is interrupted (Ctrl-C, a killed process) can be resumed: the file is
read back, checked against the run asked for, and only the missing episodes are run.

A last line cut short by a kill mid-write is the one thing repaired (dropped, and its
episode run again); any other damage is an error, and the file is left as it is. An
episode lost to an infrastructure failure (status ``"infrastructure"``: its worker was
killed from outside) stays in the file as a record of what happened, and a later record of
the same episode, from the resumed run, replaces it.

One run at a time writes to a directory: ``lock_run_directory`` holds an exclusive lock on
``DIR/.lock`` for as long as the run lives (the system drops it when the process dies).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from portia_envs.errors import RecordsError

RECORDS_NAME = "episodes.jsonl"
LOCK_NAME = ".lock"
HEADER_KEY = "portia_run"
# The fields every episode record has, and the types their values take.
RECORD_FIELDS: dict[str, tuple[type, ...]] = {
    "task_id": (str,),
    "split": (str,),
    "family": (str,),
    "seed": (int,),
    "episode": (int,),
    "reset_seed": (int,),
    "status": (str,),
    "error": (str, type(None)),
    "return": (float, int),
    "success": (bool,),
    "length": (int,),
    "periods": (int,),
    "think_steps": (int,),
    "think_s": (float, int),
    "latencies_ms": (list, type(None)),
    "overran": (int, type(None)),
}
STATUSES = ("ok", "error", "timeout", "infrastructure")
# The status of an episode lost to the machinery, not the agent: run again on resume.
INFRASTRUCTURE = "infrastructure"

logger = logging.getLogger(__name__)


class RecordStore:
    """Appends episode records to a run's ``episodes.jsonl``.

    Use ``RecordStore.create`` for a new run and ``RecordStore.resume`` to go on with one.
    ``records`` holds the latest record of each episode; ``infrastructure_failures`` those
    of them that must run again.

    Args:
        path: The records file.
        header: The run's header (what ``create`` wrote).
        records: The records already in the file (the latest of each episode).
    """

    def __init__(self, path: Path, header: dict[str, Any], records: list[dict[str, Any]]) -> None:
        self.path = path
        self.header = header
        self.records = records
        self._file: IO[str] | None = None

    @classmethod
    def create(cls, directory: Path, header: Mapping[str, Any]) -> RecordStore:
        """Start the records of a new run in ``directory`` (created if needed).

        Raises:
            RecordsError: If the directory already holds a run's records: they are never
                overwritten.
        """
        path = directory / RECORDS_NAME
        if path.exists():
            raise RecordsError(
                f"{directory} already holds the records of a run ({path}); pass --resume to "
                f"continue it, --overwrite to replace it, or choose another --out directory"
            )
        directory.mkdir(parents=True, exist_ok=True)
        line = json.dumps({HEADER_KEY: dict(header)}, sort_keys=True) + "\n"
        with path.open("x") as file:
            file.write(line)
        return cls(path, dict(header), [])

    @classmethod
    def resume(cls, directory: Path, header: Mapping[str, Any]) -> RecordStore:
        """Open the records of an interrupted run in ``directory``, to go on with it.

        Args:
            directory: The run's directory.
            header: The header of the run being resumed; it must equal the stored one.

        Raises:
            RecordsError: If there are no records there, a line is corrupt, a record is not
                one of this run's episodes, or the stored run differs from ``header`` (the
                message names each differing field, the suite hash first).
        """
        path = directory / RECORDS_NAME
        if not path.is_file():
            raise RecordsError(
                f"nothing to resume: {path} does not exist; start the run without --resume"
            )
        stored, records, torn_at = read_records(path)
        records = [r for r in records if r["status"] != INFRASTRUCTURE]
        differences = [
            f"{key}: stored {stored.get(key)!r}, asked {header.get(key)!r}"
            for key in sorted(set(stored) | set(header), key=lambda k: (k != "suite_hash", k))
            if stored.get(key) != header.get(key)
        ]
        if differences:
            raise RecordsError(
                f"cannot resume {path}: it belongs to another run ({'; '.join(differences)}). "
                f"Resume with the same options, or start a new run in another --out directory"
            )
        if torn_at is not None:
            logger.warning("dropping the cut-off last line of %s; its episode runs again", path)
            with path.open("r+b") as file:
                file.truncate(torn_at)
        return cls(path, dict(header), records)

    @property
    def infrastructure_failures(self) -> list[dict[str, Any]]:
        """The records of episodes lost to infrastructure failures in this session."""
        return [r for r in self.records if r["status"] == INFRASTRUCTURE]

    def append(self, record: Mapping[str, Any]) -> None:
        """Write one record as a line, flushed to disk before returning."""
        check_record(record, f"record of {record.get('task_id')!r}")
        if self._file is None:
            self._file = self.path.open("a")
        self._file.write(json.dumps(dict(record), sort_keys=True) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        self.records.append(dict(record))

    def close(self) -> None:
        """Close the file (appending reopens it)."""
        if self._file is not None:
            self._file.close()
            self._file = None


@contextlib.contextmanager
def lock_run_directory(directory: Path) -> Iterator[None]:
    """Hold the lock on a run directory (created if needed) while the block runs.

    Raises:
        RecordsError: If another process holds it: a second run must not interleave its
            records with the first's.
    """
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / LOCK_NAME
    with path.open("a+") as file:
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.seek(0)
            holder = file.read().strip() or "another process"
            raise RecordsError(
                f"{directory} is in use by a run in progress ({holder}); wait for it to end, "
                f"or choose another --out directory"
            ) from None
        file.seek(0)
        file.truncate()
        file.write(f"pid {os.getpid()}")
        file.flush()
        try:
            yield
        finally:
            file.truncate(0)
            fcntl.flock(file.fileno(), fcntl.LOCK_UN)


def read_records(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]], int | None]:
    """Read a records file.

    Returns:
        The header, the latest record of each episode in file order, and the byte offset of
        a cut-off last line (no final newline, not valid JSON), or None if there is none.

    Raises:
        RecordsError: If the header is missing or torn, a line (other than a cut-off last
            one) is not a valid record, or an episode is recorded twice (other than after an
            infrastructure failure).
    """
    data = path.read_bytes()
    lines = data.split(b"\n")
    torn_at = None
    if lines[-1]:  # no final newline: the last write may have been cut off
        try:
            json.loads(lines[-1])
        except ValueError:
            torn_at = len(data) - len(lines[-1])
            lines = lines[:-1]
    header: dict[str, Any] | None = None
    latest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        where = f"{path}, line {number}"
        try:
            content = json.loads(raw)
        except ValueError as error:
            raise RecordsError(
                f"{where} is not valid JSON ({error}); the file is left as it is: repair or "
                f"remove that line, or start a new run in another --out directory"
            ) from error
        if number == 1:
            if not isinstance(content, dict) or not isinstance(content.get(HEADER_KEY), dict):
                raise RecordsError(
                    f"{where}: the first line must be the run header {{{HEADER_KEY!r}: {{...}}}}"
                )
            header = content[HEADER_KEY]
            continue
        check_record(content, where)
        key = (content["task_id"], content["seed"], content["episode"])
        if key in latest and latest[key]["status"] != INFRASTRUCTURE:
            raise RecordsError(f"{where}: episode {key} is recorded twice")
        latest.pop(key, None)  # a rerun replaces the infrastructure failure, in file order
        latest[key] = content
    if header is None:
        raise RecordsError(
            f"{path} has no run header: the run was stopped while it was starting, before it "
            f"recorded any episode. Delete {path} and run the command again without --resume"
        )
    return header, list(latest.values()), torn_at


def check_record(record: Any, where: str) -> None:
    """Check that ``record`` has every field of an episode record with a value of its type.

    Raises:
        RecordsError: Naming ``where``, the field and what is accepted.
    """
    if not isinstance(record, Mapping):
        raise RecordsError(f"{where}: an episode record must be a JSON object, got {record!r}")
    for field, types in RECORD_FIELDS.items():
        if field not in record:
            raise RecordsError(f"{where}: the episode record lacks {field!r}")
        value = record[field]
        # bool is an int in Python: only "success" may be one.
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            accepted = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise RecordsError(f"{where}: {field!r} must be {accepted}, got {value!r}")
    if record["status"] not in STATUSES:
        raise RecordsError(
            f"{where}: status must be one of {', '.join(STATUSES)}, got {record['status']!r}"
        )
