"""`MemoryStore`: sessions in this process's memory, bounded and expiring (for development)."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

__all__ = ["MemoryStore", "SyncMemoryStore"]

logger = logging.getLogger("passport_py.sessions")

_warned = False


def _warn_once() -> None:
    global _warned
    if not _warned:
        _warned = True
        logger.warning(
            "MemoryStore keeps sessions in this process only: they are lost on restart and "
            "not shared with other processes. Use RedisStore in production."
        )


class SyncMemoryStore:
    """The sync side of `MemoryStore` (what Flask uses); thread-safe.

    Entries are kept in write order, so with one lifetime for all of them the oldest entry is
    also the first to expire: expired entries are dropped from the front as new ones arrive,
    and when `max_entries` is reached the oldest goes.
    """

    def __init__(self, max_entries: int, clock: Callable[[], float]) -> None:
        self.max_entries = max_entries
        self._clock = clock
        # id -> (value, owner, expires at)
        self._entries: OrderedDict[str, tuple[str, str | None, float]] = OrderedDict()
        self._users: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, session_id: str) -> str | None:
        entry = self._entries.get(session_id)
        if entry is None:
            return None
        if entry[2] <= self._clock():
            with self._lock:
                if self._entries.get(session_id) is entry:  # not written again meanwhile
                    self._drop(session_id)
            return None
        return entry[0]

    def set(
        self, session_id: str, value: str, ttl: int, *, user: str | None = None, new: bool = False
    ) -> bool:
        now = self._clock()
        with self._lock:
            self._purge(now)
            entry = self._entries.get(session_id)
            exists = entry is not None and entry[2] > now
            if exists == new:
                return False
            if entry is not None and entry[1] != user:
                self._unindex(session_id, entry[1])
            self._entries[session_id] = (value, user, now + ttl)
            self._entries.move_to_end(session_id)
            if user is not None:
                self._users.setdefault(user, set()).add(session_id)
            while len(self._entries) > self.max_entries:
                self._drop(next(iter(self._entries)))
            return True

    def delete(self, session_id: str, *, user: str | None = None) -> None:
        with self._lock:
            self._drop(session_id)

    def touch(self, session_id: str, ttl: int, *, user: str | None = None) -> bool:
        now = self._clock()
        with self._lock:
            entry = self._entries.get(session_id)
            if entry is None or entry[2] <= now:
                return False
            self._entries[session_id] = (entry[0], entry[1], now + ttl)
            self._entries.move_to_end(session_id)
            return True

    def destroy_user(self, user: str) -> int:
        now = self._clock()
        with self._lock:
            ended = 0
            for session_id in self._users.pop(user, set()):
                entry = self._entries.pop(session_id, None)
                ended += entry is not None and entry[2] > now
            return ended

    def _purge(self, now: float) -> None:
        entries = self._entries
        while entries:
            session_id, entry = next(iter(entries.items()))
            if entry[2] > now:
                return
            self._drop(session_id)

    def _drop(self, session_id: str) -> None:
        entry = self._entries.pop(session_id, None)
        if entry is not None:
            self._unindex(session_id, entry[1])

    def _unindex(self, session_id: str, user: str | None) -> None:
        if user is None:
            return
        ids = self._users.get(user)
        if ids is not None:
            ids.discard(session_id)
            if not ids:
                del self._users[user]


class MemoryStore:
    """Sessions in this process's memory: the default store, for development and tests.

    At most `max_entries` sessions (the oldest is dropped when full); entries expire with their
    TTL. Logs a warning once per process: each process has its own sessions, so behind a load
    balancer or with several workers use `RedisStore`. `clock` (seconds, monotonic) is for tests.
    """

    def __init__(
        self, max_entries: int = 10_000, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if max_entries < 1:
            raise ValueError("MemoryStore needs max_entries >= 1")
        _warn_once()
        self._sync = SyncMemoryStore(max_entries, clock)

    @property
    def sync(self) -> SyncMemoryStore:
        """The same sessions, for sync code."""
        return self._sync

    def __len__(self) -> int:
        return len(self._sync)

    async def get(self, session_id: str) -> str | None:
        return self._sync.get(session_id)

    async def set(
        self, session_id: str, value: str, ttl: int, *, user: str | None = None, new: bool = False
    ) -> bool:
        return self._sync.set(session_id, value, ttl, user=user, new=new)

    async def delete(self, session_id: str, *, user: str | None = None) -> None:
        self._sync.delete(session_id)

    async def touch(self, session_id: str, ttl: int, *, user: str | None = None) -> bool:
        return self._sync.touch(session_id, ttl)

    async def destroy_user(self, user: str) -> int:
        return self._sync.destroy_user(user)
