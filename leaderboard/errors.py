"""The errors the leaderboard raises on purpose, each with the HTTP status it answers with."""

from __future__ import annotations

from typing import ClassVar

from portia_envs.errors import PortiaError


class LeaderboardError(PortiaError):
    """A request or command the leaderboard refuses; the message says why and what is accepted.

    Attributes:
        status: The HTTP status the API answers with.
    """

    status: ClassVar[int] = 400

    def headers(self) -> dict[str, str]:
        """Return the HTTP headers that go with the refusal (none by default)."""
        return {}


class SettingsError(LeaderboardError, ValueError):
    """A setting or command-line option outside the values accepted."""


class BadRequestError(LeaderboardError):
    """A request body the server cannot read: not JSON, not multipart, or cut short."""


class AuthenticationError(LeaderboardError):
    """A request without a token, with a token that does not exist, or with a revoked one."""

    status = 401

    def headers(self) -> dict[str, str]:
        """Return the challenge that names the scheme: ``WWW-Authenticate: Bearer``."""
        return {"WWW-Authenticate": "Bearer"}


class ForbiddenError(LeaderboardError):
    """A valid token without the right to do what was asked (an admin route)."""

    status = 403


class NotFoundError(LeaderboardError, KeyError):
    """An entry, suite or token that does not exist."""

    status = 404

    def __str__(self) -> str:
        # KeyError quotes its message; show it as written.
        return str(self.args[0])


class ConflictError(LeaderboardError):
    """A change that clashes with what is stored: a name taken, a file already submitted."""

    status = 409


class GoneError(LeaderboardError):
    """An entry an admin hid."""

    status = 410


class UploadTooLargeError(LeaderboardError):
    """A request body larger than the upload cap (``Settings.max_upload_bytes``)."""

    status = 413


class RefusedEntryError(LeaderboardError):
    """A submission whose results file or metadata is refused; nothing is stored."""

    status = 422


class QuotaExceededError(LeaderboardError):
    """A token that has used its submission attempts for the day.

    Args:
        message: What the quota is and when it resets.
        retry_after_s: Seconds until it resets.
    """

    status = 429

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str]:
        """Return ``Retry-After``: the seconds until the quota resets."""
        return {"Retry-After": str(self.retry_after_s)}


class UnsupportedMediaTypeError(LeaderboardError):
    """A request body of a media type the route does not read."""

    status = 415


class SubmitError(PortiaError):
    """A submission the client could not make: the server refused it or could not be reached."""


class ServerRefusedError(SubmitError):
    """The leaderboard answered a submission with an error.

    Args:
        message: What the server said, with the HTTP status.
        status: The HTTP status.
    """

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class ServerUnreachableError(SubmitError):
    """No answer from the leaderboard: a wrong URL, a server down, or a timeout."""
