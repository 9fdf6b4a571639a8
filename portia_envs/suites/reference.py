"""Reference returns per suite task, so that scores normalize: 0 = random agent, 100 = teacher.

Each shipped suite has a table, ``reference/<suite>.json`` beside this file, made by
``scripts/reference_table.py``. A table records the suite hash it was made for; loading it
for a suite whose hash has changed fails, so a score is never normalized against returns
measured on different tasks or physics.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portia_envs.errors import PortiaError
from portia_envs.suites.spec import Suite

REFERENCE_DIR = Path(__file__).parent / "reference"
REFERENCE_AGENTS = ("random", "teacher")


class StaleReferenceError(PortiaError, ValueError):
    """A reference table that is missing, or was made for another version of its suite."""


@dataclass(frozen=True)
class ReferenceTable:
    """The mean episode returns of the random agent and the teacher on each task of a suite.

    Attributes:
        suite: The suite's name.
        suite_hash: The hash of the suite the returns were measured on.
        returns: ``{task_id: {"random": mean return, "teacher": mean return}}``.
        details: Everything else the generating script recorded (episodes, seeds, configs,
            success rates, thinking time, run time).
    """

    suite: str
    suite_hash: str
    returns: dict[str, dict[str, float]]
    details: dict[str, Any]

    def normalized(self, task_id: str, episode_return: float) -> float:
        """Return ``100 * (R - random) / (teacher - random)`` for task ``task_id``.

        Raises:
            KeyError: If the table has no such task.
        """
        reference = self.returns[task_id]
        span = reference["teacher"] - reference["random"]
        return 100.0 * (episode_return - reference["random"]) / span

    def to_json(self) -> str:
        """Return the table as the JSON text stored beside the suite."""
        content = {
            "suite": self.suite,
            "suite_hash": self.suite_hash,
            "returns": self.returns,
            **self.details,
        }
        return json.dumps(content, indent=2, sort_keys=True) + "\n"


def load_reference(suite: Suite, directory: Path = REFERENCE_DIR) -> ReferenceTable:
    """Load ``suite``'s reference table and check it belongs to this very suite.

    Args:
        suite: The suite.
        directory: Where the tables are (the package's own by default).

    Raises:
        StaleReferenceError: If there is no table, it was made for another suite hash, or
            it lacks a task or an agent's return.
    """
    path = directory / f"{suite.name}.json"
    if not path.is_file():
        raise StaleReferenceError(
            f"no reference table for {suite.name} at {path}; make one with "
            f"python scripts/reference_table.py --suite {suite.name}"
        )
    content = json.loads(path.read_text())
    if content.get("suite_hash") != suite.hash:
        raise StaleReferenceError(
            f"the reference table {path} was made for {suite.name} with hash "
            f"{content.get('suite_hash')!r}, but the suite's hash is now {suite.hash!r}: "
            f"tasks or physics changed; regenerate it with scripts/reference_table.py"
        )
    returns = content.pop("returns")
    for task in suite.train + suite.heldout:
        missing = [a for a in REFERENCE_AGENTS if a not in returns.get(task.task_id, {})]
        if missing:
            raise StaleReferenceError(
                f"the reference table {path} lacks {', '.join(missing)} for task {task.task_id}"
            )
    return ReferenceTable(content.pop("suite"), content.pop("suite_hash"), returns, content)
