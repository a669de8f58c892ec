"""Login throttle rows: what one failed-login attempt costs the throttle.

- Row 17: CPU time of `LoginThrottle.attempt` on a `MemoryThrottleStore` (µs per attempt).
- Row 18: CPU time of `LoginThrottle.attempt` on a `RedisThrottleStore`, client side (µs per
  attempt, `time.process_time`: the wait for Redis's answer is not CPU), and its wall time.
- Row 19: Redis round trips per failed attempt, from the server's `INFO commandstats` delta
  of `EVALSHA`/`EVAL` calls (counted by Redis itself; one script call is one round trip).

The Redis rows need a Redis at REDIS_URL.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import redis

from passport_py import run_sync
from passport_py.throttle import Limit, LoginThrottle, MemoryThrottleStore
from passport_py.throttle.redis import RedisThrottleStore

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
# Never refuses during a run: every attempt takes the full path (check, then count).
UNLIMITED = Limit(attempts=10**9, window=60, base_delay=1, max_delay=1)


def per_attempt(attempt: Callable[[int], object], count: int) -> tuple[float, float]:
    """(CPU µs, wall µs) per call of `attempt(i)`, over `count` calls."""
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(count):
        attempt(i)
    return (
        (time.process_time() - cpu) / count * 1e6,
        (time.perf_counter() - wall) / count * 1e6,
    )


def commands(client: redis.Redis) -> int:
    """Script calls the server has run: each is one round trip (the commands a script runs
    inside Redis are counted apart, under their own names)."""
    stats = client.info("commandstats")
    return sum(int(stats.get(k, {}).get("calls", 0)) for k in ("cmdstat_evalsha", "cmdstat_eval"))


@dataclass(frozen=True)
class ThrottleFigures:
    """Rows 17 to 19: µs per attempt, and round trips per attempt (None: Redis not measured)."""

    attempts: int
    memory_cpu: float
    redis_cpu: float | None = None
    redis_wall: float | None = None
    round_trips: float | None = None


def throttle_figures(attempts: int, with_redis: bool) -> ThrottleFigures:
    """Time `attempts` attempts over 100 accounts on each store (Redis when `with_redis`)."""
    memory = LoginThrottle(MemoryThrottleStore(), account=UNLIMITED, ip=UNLIMITED)
    memory_cpu, _ = per_attempt(
        lambda i: run_sync(memory.attempt(f"user{i % 100}", "192.0.2.1")), attempts
    )
    if not with_redis:
        return ThrottleFigures(attempts, memory_cpu)
    prefix = f"bench-throttle:{uuid.uuid4().hex}:"
    store = RedisThrottleStore(REDIS_URL, prefix=prefix)
    throttle = LoginThrottle(store, account=UNLIMITED, ip=UNLIMITED)
    client = redis.Redis.from_url(REDIS_URL)
    try:
        run_sync(throttle.attempt("warm-up", "192.0.2.1"))  # loads the script, opens the pool
        before = commands(client)
        cpu, wall = per_attempt(
            lambda i: run_sync(throttle.attempt(f"user{i % 100}", "192.0.2.1")), attempts
        )
        sent = commands(client) - before
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
    finally:
        store.sync_close()
        client.close()
    return ThrottleFigures(attempts, memory_cpu, cpu, wall, sent / attempts)
