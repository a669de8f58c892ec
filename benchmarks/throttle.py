"""Login throttle rows: what one failed-login attempt costs the throttle.

- Row T1: CPU time of `LoginThrottle.attempt` on a `MemoryThrottleStore` (µs per attempt).
- Row T2: CPU time of `LoginThrottle.attempt` on a `RedisThrottleStore`, client side (µs per
  attempt, `time.process_time`: the wait for Redis's answer is not CPU), and its wall time.
- Row T3: Redis round trips per failed attempt, from the server's `INFO commandstats` delta
  of `EVALSHA`/`EVAL` calls (counted by Redis itself; one script call is one round trip).

Run: `python -m benchmarks.throttle` (the Redis rows need a Redis at REDIS_URL).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable

import redis

from passport_py import run_sync
from passport_py.throttle import Limit, LoginThrottle, MemoryThrottleStore
from passport_py.throttle.redis import RedisThrottleStore

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
ATTEMPTS = 5_000
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


def main() -> None:
    memory = LoginThrottle(MemoryThrottleStore(), account=UNLIMITED, ip=UNLIMITED)
    cpu, _ = per_attempt(
        lambda i: run_sync(memory.attempt(f"user{i % 100}", "192.0.2.1")), ATTEMPTS
    )
    print(f"T1 memory store: {cpu:.1f} µs CPU per attempt")

    prefix = f"bench-throttle:{uuid.uuid4().hex}:"
    store = RedisThrottleStore(REDIS_URL, prefix=prefix)
    throttle = LoginThrottle(store, account=UNLIMITED, ip=UNLIMITED)
    client = redis.Redis.from_url(REDIS_URL)
    try:
        run_sync(throttle.attempt("warm-up", "192.0.2.1"))  # loads the script, opens the pool
        before = commands(client)
        cpu, wall = per_attempt(
            lambda i: run_sync(throttle.attempt(f"user{i % 100}", "192.0.2.1")), ATTEMPTS
        )
        sent = commands(client) - before
        print(f"T2 Redis store: {cpu:.1f} µs CPU per attempt (client side), {wall:.1f} µs wall")
        print(f"T3 Redis round trips per failed attempt: {sent / ATTEMPTS:g}")
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
    finally:
        store.sync_close()
        client.close()


if __name__ == "__main__":
    main()
