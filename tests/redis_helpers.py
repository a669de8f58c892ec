"""The real Redis server the session tests run against (REDIS_URL, default 127.0.0.1:6379).

With CI=true an unreachable Redis fails the test; elsewhere it skips with a one-line reason.
Each test gets its own key prefix, and its keys are deleted afterwards.
"""

from __future__ import annotations

import asyncio
import functools
import os
import socket
import uuid
from collections.abc import Iterator

import pytest
import redis

from passport_py.sessions import SessionStoreUnavailable
from passport_py.sessions.redis import RedisStore

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


@functools.cache
def redis_reachable() -> bool:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False
    finally:
        client.close()


def require_redis() -> None:
    """Skip (or, with CI=true, fail) when the Redis server is not reachable."""
    if redis_reachable():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but Redis is not reachable at {REDIS_URL}")
    pytest.skip(f"no Redis at {REDIS_URL} (set REDIS_URL or start redis-server)")


def unique_prefix() -> Iterator[str]:
    """Yield a fresh key prefix; afterwards delete every key under it."""
    require_redis()
    prefix = f"passport-py-test:{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
    finally:
        client.close()


def unused_port() -> int:
    """A loopback port nothing listens on (bound once, then released): connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def unavailable_error(store: RedisStore, side: str) -> SessionStoreUnavailable:
    """The `SessionStoreUnavailable` a read raises on the store's `side` ("sync" or "async");
    the store's connections are closed afterwards."""

    async def read() -> None:
        try:
            await store.get("s1")
        finally:
            await store.aclose()

    with pytest.raises(SessionStoreUnavailable) as caught:
        if side == "sync":
            store.sync.get("s1")
        else:
            asyncio.run(read())
    store.sync_close()
    return caught.value
