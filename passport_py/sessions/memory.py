"""`MemoryStore`: sessions in this process's memory, bounded and expiring (for development)."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection

from passport_py.sessions.stores import MAX_READ, session_digest

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


class _Region:
    """Entries of one kind (login sessions, or anonymous ones) in write order, at most `cap`.

    With one lifetime for all of them the oldest entry is also the first to expire: expired
    entries are dropped from the front as new ones arrive, and when full the oldest goes.
    """

    __slots__ = ("cap", "entries")

    def __init__(self, cap: int) -> None:
        self.cap = cap
        # id -> (value, owner, expires at)
        self.entries: OrderedDict[str, tuple[str, str | None, float]] = OrderedDict()

    def purge(self, now: float) -> list[tuple[str, str | None]]:
        """Drop expired entries from the front, then the oldest beyond `cap`; the dropped."""
        entries = self.entries
        dropped = []
        while entries:
            session_id, entry = next(iter(entries.items()))
            if entry[2] > now and len(entries) <= self.cap:
                break
            del entries[session_id]
            dropped.append((session_id, entry[1]))
        return dropped


class SyncMemoryStore:
    """The sync side of `MemoryStore` (what Flask uses); thread-safe.

    Login sessions and anonymous ones (no owner) are kept apart, each bounded: anonymous
    traffic can only push out other anonymous sessions, never a login.
    """

    def __init__(
        self, max_entries: int, clock: Callable[[], float], max_anonymous: int | None = None
    ) -> None:
        self.max_entries = max_entries
        self.max_anonymous = max_entries if max_anonymous is None else max_anonymous
        self._clock = clock
        self._logins = _Region(max_entries)
        self._anonymous = _Region(self.max_anonymous)
        self._users: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._logins.entries) + len(self._anonymous.entries)

    def _find(self, session_id: str) -> tuple[_Region, tuple[str, str | None, float]] | None:
        for region in (self._logins, self._anonymous):
            entry = region.entries.get(session_id)
            if entry is not None:
                return region, entry
        return None

    def get(self, session_id: str) -> str | None:
        found = self._find(session_id)
        if found is None:
            return None
        region, entry = found
        if entry[2] <= self._clock():
            with self._lock:
                if region.entries.get(session_id) is entry:  # not written again meanwhile
                    self._drop(session_id)
            return None
        return entry[0]

    def set(
        self, session_id: str, value: str, ttl: int, *, user: str | None = None, new: bool = False
    ) -> bool:
        now = self._clock()
        with self._lock:
            found = self._find(session_id)
            exists = found is not None and found[1][2] > now
            if exists == new:
                return False
            if found is not None:
                self._drop(session_id)
            region = self._anonymous if user is None else self._logins
            region.entries[session_id] = (value, user, now + ttl)
            if user is not None:
                self._users.setdefault(user, set()).add(session_id)
            for each in (self._logins, self._anonymous):
                for dropped, owner in each.purge(now):
                    self._unindex(dropped, owner)
            return True

    def delete(self, session_id: str, *, user: str | None = None) -> None:
        with self._lock:
            self._drop(session_id)

    def touch(self, session_id: str, ttl: int, *, user: str | None = None) -> bool:
        now = self._clock()
        with self._lock:
            found = self._find(session_id)
            if found is None or found[1][2] <= now:
                return False
            region, entry = found
            region.entries[session_id] = (entry[0], entry[1], now + ttl)
            region.entries.move_to_end(session_id)
            return True

    def destroy_user(self, user: str) -> int:
        now = self._clock()
        with self._lock:
            ended = 0
            for session_id in self._users.pop(user, set()):
                entry = self._logins.entries.pop(session_id, None)
                ended += entry is not None and entry[2] > now
            return ended

    def sessions_of(self, user: str) -> list[tuple[str, str]]:
        now = self._clock()
        found = []
        with self._lock:
            for session_id in self._users.get(user, ()):
                entry = self._logins.entries.get(session_id)
                if entry is not None and entry[2] > now:
                    found.append((session_digest(session_id), entry[0]))
                    if len(found) == MAX_READ:
                        break
        return found

    def end_sessions(
        self, user: str, digests: Collection[str] | None = None, *, keep: str | None = None
    ) -> int:
        now = self._clock()
        with self._lock:
            ended = 0
            for session_id in list(self._users.get(user, ())):
                digest = session_digest(session_id)
                if digest == keep or (digests is not None and digest not in digests):
                    continue
                entry = self._logins.entries.get(session_id)
                ended += entry is not None and entry[2] > now
                self._drop(session_id)
            return ended

    def _drop(self, session_id: str) -> None:
        for region in (self._logins, self._anonymous):
            entry = region.entries.pop(session_id, None)
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

    At most `max_entries` login sessions and, apart from them, `max_anonymous` sessions nobody
    has logged into (as many by default); when either is full its oldest entry is dropped, so
    anonymous traffic never pushes out a login. Entries expire with their TTL. Logs a warning
    once per process: each process has its own sessions, so behind a load balancer or with
    several workers use `RedisStore`. `clock` (seconds, monotonic) is for tests.
    """

    def __init__(
        self,
        max_entries: int = 10_000,
        *,
        max_anonymous: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1 or (max_anonymous is not None and max_anonymous < 1):
            raise ValueError("MemoryStore needs max_entries >= 1 and max_anonymous >= 1")
        _warn_once()
        self._sync = SyncMemoryStore(max_entries, clock, max_anonymous)

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

    async def sessions_of(self, user: str) -> list[tuple[str, str]]:
        return self._sync.sessions_of(user)

    async def end_sessions(
        self, user: str, digests: Collection[str] | None = None, *, keep: str | None = None
    ) -> int:
        return self._sync.end_sessions(user, digests, keep=keep)
