"""A cache of rendered boards, valid until the stored data changes.

Every change that alters what a board shows (an entry stored, hidden, shown again or
flagged) appends a row to the audit log in the same transaction, so the log's last id is
the version of everything stored. A rendered board is kept with the version it was made
from, gzip-compressed beside it, and served again while that version is current.

Reading the version costs a database round trip, so a process reads it at most every
``check_s`` seconds, and at once after any commit through its own sessions (a
submission, a moderation, a worker in the same process). A change made by another
process (a worker, a command, another server process) therefore shows within
``check_s``; one made through this process shows at the next request.
"""

from __future__ import annotations

import gzip
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from leaderboard.errors import SettingsError
from leaderboard.models import AuditEvent

# Rendered pages kept per process, the least recently used dropped first.
DEFAULT_CAPACITY = 256
GZIP_LEVEL = 6


def version(session: Session) -> int:
    """Return the version of the stored data: the audit log's last id (0 when empty)."""
    return int(session.scalar(select(func.max(AuditEvent.id))) or 0)


@dataclass(frozen=True)
class Page:
    """A rendered page and what it was made from.

    Attributes:
        version: The data's version it shows.
        body: Its bytes.
        gzipped: The same, gzip-compressed.
    """

    version: int
    body: bytes
    gzipped: bytes

    @property
    def etag(self) -> str:
        """Return its entity tag: the data's version and the body's length, quoted."""
        return f'"v{self.version}-{len(self.body)}"'


class PageCache:
    """Rendered pages by key, each valid while the data's version is the one it was made at.

    Args:
        sessions: The database's sessions: commits through them mark the version stale.
        capacity: How many pages to keep at most.
        check_s: Seconds the version read last is trusted (0: read it every time).
        clock: Monotonic seconds (injectable for tests).
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        capacity: int = DEFAULT_CAPACITY,
        check_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if capacity < 1:
            raise SettingsError(f"capacity must be at least 1, got {capacity}")
        if not check_s >= 0:
            raise SettingsError(f"check_s must be a number of seconds >= 0, got {check_s}")
        self.sessions, self.capacity, self.check_s, self.clock = sessions, capacity, check_s, clock
        self._pages: OrderedDict[Hashable, Page] = OrderedDict()
        self._lock = threading.Lock()
        self._version, self._read_at, self._commits = 0, -math.inf, 0
        event.listen(sessions, "after_commit", self._committed)

    def _committed(self, session: Session) -> None:
        """Mark the version stale: this process committed something."""
        with self._lock:
            self._commits += 1
            self._read_at = -math.inf

    def trusted(self) -> int | None:
        """Return the version read last if it is still trusted, else None (no query)."""
        with self._lock:
            return self._version if self.clock() - self._read_at < self.check_s else None

    def current(self) -> int:
        """Return the data's version: the one read last if trusted, else read now."""
        trusted = self.trusted()
        if trusted is not None:
            return trusted
        with self._lock:
            asked_at, commits = self.clock(), self._commits
        with self.sessions() as session:
            read = version(session)
        with self._lock:
            if self._commits == commits:  # else a commit raced the read: read again next time
                self._version, self._read_at = read, asked_at
        return read

    def kept(self, key: Hashable, current: int) -> Page | None:
        """Return the page of ``key`` if it was made at version ``current``, else None."""
        with self._lock:
            page = self._pages.get(key)
            if page is None or page.version != current:
                return None
            self._pages.move_to_end(key)
            return page

    def render(self, key: Hashable, current: int, make: Callable[[], bytes]) -> Page:
        """Render the page of ``key`` at version ``current`` with ``make`` and keep it.

        ``make`` runs outside the lock, so a slow render blocks nobody else.
        """
        body = make()
        page = Page(current, body, gzip.compress(body, GZIP_LEVEL, mtime=0))
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.capacity:
                self._pages.popitem(last=False)
        return page

    def get(self, key: Hashable, make: Callable[[], bytes]) -> Page:
        """Return the page of ``key`` at the current version, rendering it if needed."""
        current = self.current()
        return self.kept(key, current) or self.render(key, current, make)
