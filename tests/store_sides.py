"""Driving a session store's two sides with one test: the async side through a sync adapter,
and time passing on MemoryStore (an injected clock) and on the real Redis (shortened TTLs).

Used by tests/test_session_stores.py and tests/test_session_redis.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import redis
import redis_helpers

from passport_py.sessions import SessionStore


class Clock:
    """A monotonic clock a test moves by hand (MemoryStore(clock=...))."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class AsyncSide:
    """A store's async side with the sync interface: each call runs on one event loop (the
    RedisStore keeps one client per loop, so every call of a test shares its connections)."""

    def __init__(self, store: SessionStore, runner: asyncio.Runner) -> None:
        self._store = store
        self._runner = runner

    def get(self, session_id: str) -> str | None:
        return self._runner.run(self._store.get(session_id))

    def set(
        self, session_id: str, value: str, ttl: int, *, user: str | None = None, new: bool = False
    ) -> bool:
        return self._runner.run(self._store.set(session_id, value, ttl, user=user, new=new))

    def delete(self, session_id: str, *, user: str | None = None) -> None:
        self._runner.run(self._store.delete(session_id, user=user))

    def touch(self, session_id: str, ttl: int, *, user: str | None = None) -> bool:
        return self._runner.run(self._store.touch(session_id, ttl, user=user))

    def destroy_user(self, user: str) -> int:
        return self._runner.run(self._store.destroy_user(user))


def redis_advance(prefix: str) -> Callable[[float], None]:
    """Let `seconds` pass for every key under `prefix`: each TTL is shortened by that much,
    and a key whose time is up is expired by Redis itself (a non-positive PEXPIRE)."""

    def advance(seconds: float) -> None:
        client = redis.Redis.from_url(redis_helpers.REDIS_URL)
        try:
            for key in client.scan_iter(match=f"{prefix}*", count=1000):
                left = int(client.pttl(key))
                if left >= 0:  # -1: no expiry (left alone), -2: already gone
                    client.pexpire(key, left - int(seconds * 1000))
        finally:
            client.close()

    return advance
