"""The server's settings, in one dataclass, with their defaults."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from leaderboard.errors import SettingsError
from portia_envs.results import MAX_FILE_BYTES

# Where the embedded database (and the baselines' runs) are kept, relative to the
# working directory.
DEFAULT_DATA_DIR = Path("leaderboard-data")
# The embedded database's file in the data directory.
DATABASE_FILE = "leaderboard.sqlite3"
# The largest upload accepted, bytes: a realtime episode of 150 decisions takes about
# 2 KB of a results file, so about 8,000 of them fit.
DEFAULT_MAX_UPLOAD_BYTES = 16 * 2**20
# Submission attempts per token and UTC day, refused ones included.
DEFAULT_DAILY_ATTEMPTS = 20
# Seconds a server process trusts the data's version it read last, and the most allowed.
DEFAULT_PAGE_CHECK_S = 0.5
MAX_PAGE_CHECK_S = 60.0


@dataclass(frozen=True)
class Settings:
    """Everything the server can be told.

    Attributes:
        data_dir: Directory of the embedded SQLite database and the baselines' runs
            (created when needed).
        database_url: A SQLAlchemy URL, such as ``postgresql+psycopg://user@host/db``; None
            means the SQLite file ``data_dir/leaderboard.sqlite3``.
        max_upload_bytes: The largest request body of a submission, bytes: a larger one is
            refused (413) as soon as the cap is passed, before the rest is read. At most
            ``portia_envs.results.MAX_FILE_BYTES``.
        daily_attempts: Submission attempts per token per UTC day, refused ones included.
        page_check_s: Seconds a server process serves cached boards before it reads the
            data's version again; a change made by another process (a worker, a command)
            shows within that time, one made through this process at once.
    """

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = None
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    daily_attempts: int = DEFAULT_DAILY_ATTEMPTS
    page_check_s: float = DEFAULT_PAGE_CHECK_S

    def __post_init__(self) -> None:
        if not 1 <= self.max_upload_bytes <= MAX_FILE_BYTES:
            raise SettingsError(
                f"max_upload_bytes must be from 1 to {MAX_FILE_BYTES} (the largest results "
                f"file Portia reads), got {self.max_upload_bytes}"
            )
        if not 0 <= self.page_check_s <= MAX_PAGE_CHECK_S:
            raise SettingsError(
                f"page_check_s must be from 0 to {MAX_PAGE_CHECK_S} seconds, got "
                f"{self.page_check_s}"
            )
        if self.daily_attempts < 1:
            raise SettingsError(
                f"daily_attempts must be at least 1 per day, got {self.daily_attempts}"
            )

    @property
    def url(self) -> str:
        """Return the database URL: ``database_url``, or that of the embedded SQLite file."""
        if self.database_url is not None:
            return self.database_url
        return f"sqlite:///{(self.data_dir / DATABASE_FILE).resolve()}"
