"""The client side of ``portia submit``: upload a results file and metadata with httpx."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from leaderboard.errors import ServerRefusedError, ServerUnreachableError, SettingsError

SUBMIT_PATH = "/api/v1/entries"
# Seconds to wait for the server, which checks the file (recomputing its scores) before it
# answers.
TIMEOUT_S = 300.0


def entries_url(server: str) -> str:
    """Return the submission URL of a leaderboard at ``server`` (``http(s)://host[:port]``).

    Raises:
        SettingsError: If ``server`` is not an http:// or https:// URL.
    """
    if not server.lower().startswith(("http://", "https://")):
        raise SettingsError(
            f"--server must be the leaderboard's http:// or https:// URL, such as "
            f"http://127.0.0.1:8000; got {server!r}"
        )
    return server.rstrip("/") + SUBMIT_PATH


def submit_file(
    path: Path,
    *,
    server: str,
    token: str,
    metadata: Mapping[str, str | int],
    timeout_s: float = TIMEOUT_S,
) -> dict[str, Any]:
    """Upload a results file with its metadata as a multipart submission.

    Args:
        path: The results file.
        server: The leaderboard's URL.
        token: The API token.
        metadata: The metadata fields to send (``schemas.EntryMetadata``).
        timeout_s: Seconds to wait for each step (connecting, sending, the answer).

    Returns:
        The server's answer: the entry's ``id``, ``tier`` and ``url``.

    Raises:
        SettingsError: If ``server`` is not an http(s) URL.
        ServerUnreachableError: If the server cannot be reached or does not answer in time.
        ServerRefusedError: If it refuses the submission, with its reason.
    """
    url = entries_url(server)
    try:
        response = httpx.post(
            url,
            headers={"Authorization": f"Bearer {token}"},
            data={key: str(value) for key, value in metadata.items()},
            files={"results": (path.name, path.read_bytes(), "application/json")},
            timeout=timeout_s,
        )
    except httpx.TransportError as error:
        raise ServerUnreachableError(
            f"cannot reach the leaderboard at {server}: {error or type(error).__name__}"
        ) from None
    if response.status_code == 201:
        return response.json()
    raise ServerRefusedError(
        f"the leaderboard refused the "
        f"{'token' if response.status_code == 401 else 'submission'} (HTTP "
        f"{response.status_code}): {_reason(response)}",
        response.status_code,
    )


def _reason(response: httpx.Response) -> str:
    """Return the ``error`` of a JSON answer, or the start of any other answer."""
    try:
        return str(response.json()["error"])
    except (ValueError, KeyError, TypeError):
        return f"an answer that is not the leaderboard's: {response.text[:200]!r}"
