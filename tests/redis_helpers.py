"""The real Redis server the session tests run against (REDIS_URL, default 127.0.0.1:6379).

With CI=true an unreachable Redis fails the test; elsewhere it skips with a one-line reason.
Each test gets its own key prefix, and its keys are deleted afterwards.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator

import pytest
import redis

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
