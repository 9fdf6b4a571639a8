"""A cache of rendered leaderboards, valid until the next change the audit log records.

Every change that alters what a board shows (an entry stored, hidden, shown again or
flagged) appends a row to the audit log in the same transaction, so the log's last id is
the version of everything stored. A rendered board is kept with the version it was made
from and served again while that version is current: one indexed ``max(id)`` query per
request instead of loading and ranking every entry. Each server process keeps its own
cache, and a change made by another process (a worker, the command line) is seen at the
next request, because the version is read from the database.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leaderboard.models import AuditEvent

# Rendered pages kept per process, the least recently used dropped first.
DEFAULT_CAPACITY = 256


def version(session: Session) -> int:
    """Return the version of the stored data: the audit log's last id (0 when empty)."""
    return int(session.scalar(select(func.max(AuditEvent.id))) or 0)


class PageCache:
    """Rendered pages by key, each valid while the data's version is the one it was made at.

    Args:
        capacity: How many pages to keep at most.
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self._pages: OrderedDict[Hashable, tuple[int, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, current: int, render: Callable[[], bytes]) -> bytes:
        """Return the page of ``key`` made at version ``current``, rendering it if needed.

        Args:
            key: What the page is (route, parameters, base URL).
            current: The data's version now (``version``).
            render: Makes the page; called outside the lock, so a slow render blocks
                nobody else.

        Returns:
            The page's bytes.
        """
        with self._lock:
            kept = self._pages.get(key)
            if kept is not None and kept[0] == current:
                self._pages.move_to_end(key)
                return kept[1]
        page = render()
        with self._lock:
            self._pages[key] = (current, page)
            self._pages.move_to_end(key)
            while len(self._pages) > self.capacity:
                self._pages.popitem(last=False)
        return page
