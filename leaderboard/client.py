"""The client side of ``portia submit`` and ``portia status``, with httpx.

``portia submit`` uploads a results file (self-reported) or an ONNX policy (verified tier);
``portia status`` reads a verified-tier job.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from leaderboard.errors import ServerRefusedError, ServerUnreachableError, SettingsError

SUBMIT_PATH = "/api/v1/entries"
POLICY_PATH = "/api/v1/policies"
JOB_PATH = "/api/v1/jobs/{job_id}"
# Seconds to wait for the server, which checks the file (recomputing its scores) before it
# answers.
TIMEOUT_S = 300.0


def api_url(server: str, path: str) -> str:
    """Return the URL of the API ``path`` of a leaderboard at ``server``.

    Raises:
        SettingsError: If ``server`` is not an http:// or https:// URL.
    """
    return entries_url(server).removesuffix(SUBMIT_PATH) + path


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
    response = _request(
        "POST",
        entries_url(server),
        server,
        headers={"Authorization": f"Bearer {token}"},
        data={key: str(value) for key, value in metadata.items()},
        files={"results": (path.name, path.read_bytes(), "application/json")},
        timeout=timeout_s,
    )
    if response.status_code == 201:
        return response.json()
    raise _refused(response)


def submit_policy(
    path: Path,
    *,
    server: str,
    token: str,
    suite: str,
    metadata: Mapping[str, str | int],
    public_results: Path | None = None,
    timeout_s: float = TIMEOUT_S,
) -> dict[str, Any]:
    """Upload an ONNX policy with its suite and metadata for the verified tier.

    ``public_results``, the submitter's own paused results of the policy on public
    seeds, goes with it for the public-seed check.

    Returns:
        The server's answer: the job's ``id``, ``state``, ``queue_position`` and ``url``.

    Raises:
        SettingsError: If ``server`` is not an http(s) URL.
        ServerUnreachableError: If the server cannot be reached or does not answer in time.
        ServerRefusedError: If it refuses the policy, with its reason.
    """
    files = {"policy": ("policy.onnx", path.read_bytes(), "application/octet-stream")}
    if public_results is not None:
        files["public_results"] = ("results.json", public_results.read_bytes(), "application/json")
    response = _request(
        "POST",
        api_url(server, POLICY_PATH),
        server,
        headers={"Authorization": f"Bearer {token}"},
        data={"suite": suite, **{key: str(value) for key, value in metadata.items()}},
        files=files,
        timeout=timeout_s,
    )
    if response.status_code == 202:
        return response.json()
    raise _refused(response)


def job_status(server: str, job_id: int, timeout_s: float = TIMEOUT_S) -> dict[str, Any]:
    """Return a verified-tier job's status, as ``GET /api/v1/jobs/ID`` answers it.

    Raises:
        SettingsError: If ``server`` is not an http(s) URL.
        ServerUnreachableError: If the server cannot be reached or does not answer in time.
        ServerRefusedError: If it answers with an error (no such job).
    """
    url = api_url(server, JOB_PATH.format(job_id=job_id))
    response = _request("GET", url, server, timeout=timeout_s)
    if response.status_code == 200:
        return response.json()
    raise _refused(response, "request")


def _request(method: str, url: str, server: str, **options: Any) -> httpx.Response:
    """Send a request, turning transport failures into ``ServerUnreachableError``."""
    try:
        return httpx.request(method, url, **options)
    except httpx.TransportError as error:
        raise ServerUnreachableError(
            f"cannot reach the leaderboard at {server}: {error or type(error).__name__}"
        ) from None


def _refused(response: httpx.Response, what: str = "submission") -> ServerRefusedError:
    """Return the error of an answer that is not the one expected, to a ``what``."""
    return ServerRefusedError(
        f"the leaderboard refused the "
        f"{'token' if response.status_code == 401 else what} (HTTP "
        f"{response.status_code}): {_reason(response)}",
        response.status_code,
    )


def _reason(response: httpx.Response) -> str:
    """Return the ``error`` of a JSON answer, or the start of any other answer."""
    try:
        return str(response.json()["error"])
    except (ValueError, KeyError, TypeError):
        return f"an answer that is not the leaderboard's: {response.text[:200]!r}"
