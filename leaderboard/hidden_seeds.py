"""Hidden seeds: derived from a server secret, committed to by their sha256, never shown.

Seed ``i`` of a suite and track is the first 4 bytes (big-endian) of
``HMAC-SHA256(secret, "SUITE_HASH|TRACK|i")``. The secret is 32 random bytes, read from the
environment variable ``PORTIA_SEED_SECRET`` (hex; for deployments whose workers share no
data directory, such as PostgreSQL ones) or else from ``DATA_DIR/seed-secret`` (made on
first use, mode 0600). Whoever knows the secret can derive the seeds; nobody else can.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from leaderboard.errors import SettingsError

SECRET_VARIABLE = "PORTIA_SEED_SECRET"
SECRET_FILE = "seed-secret"
SECRET_BYTES = 32
# Hidden seeds per track of a verified run.
DEFAULT_SEEDS = 3
# The keys of an episode record that would reveal the seeds.
EPISODE_SEED_KEYS = ("seed", "reset_seed")


def load_secret(data_dir: Path) -> bytes:
    """Return the seed secret: ``PORTIA_SEED_SECRET`` if set, else the data directory's.

    The data directory's secret is made (random, file mode 0600) if it does not exist.

    Raises:
        SettingsError: If the variable or the file does not hold 32 bytes as 64 hex digits.
    """
    given = os.environ.get(SECRET_VARIABLE)
    if given is not None:
        return _parse(given.strip(), SECRET_VARIABLE)
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(SECRET_BYTES))
    return _parse(path.read_text().strip(), str(path))


def _parse(text: str, where: str) -> bytes:
    """Return the secret written as hex in ``text``, read from ``where``."""
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        secret = b""
    if len(secret) != SECRET_BYTES:
        raise SettingsError(
            f"{where} must hold the seed secret as {2 * SECRET_BYTES} hex digits "
            f"(python -c 'import secrets; print(secrets.token_hex(32))' makes one)"
        )
    return secret


def derive_seeds(secret: bytes, suite_hash: str, track: str, count: int) -> list[int]:
    """Return the ``count`` hidden seeds of a suite (at ``suite_hash``) and track."""
    seeds = []
    for index in range(count):
        message = f"{suite_hash}|{track}|{index}".encode()
        digest = hmac.new(secret, message, hashlib.sha256).digest()
        seeds.append(int.from_bytes(digest[:4], "big"))
    return seeds


def commitment(seeds: Mapping[str, Sequence[int]]) -> str:
    """Return ``sha256:HEX`` of the seeds per track, as canonical JSON."""
    text = json.dumps({track: list(values) for track, values in seeds.items()}, sort_keys=True)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def redact(results: Mapping[str, Any]) -> dict[str, Any]:
    """Return a results file without its seeds: the run's and each episode's are dropped.

    Per-task aggregates and scores are kept.
    """
    public = dict(results)
    public["run"] = {key: value for key, value in results["run"].items() if key != "seeds"}
    public["episodes"] = [
        {key: value for key, value in record.items() if key not in EPISODE_SEED_KEYS}
        for record in results["episodes"]
    ]
    return public
