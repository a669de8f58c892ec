"""The interface a throttle store offers, its outage error, and `MemoryThrottleStore`."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Protocol

from passport_py.errors import PassportError
from passport_py.throttle.limits import Limit, Refusal, Scope

__all__ = ["MemoryThrottleStore", "ThrottleStore", "ThrottleStoreUnavailable"]


class ThrottleStoreUnavailable(PassportError):
    """The throttle store did not answer (down, unreachable, timed out).

    The engine fails closed: the login attempt is answered with a 503 and this message is
    logged; verify is not called.
    """


class ThrottleStore(Protocol):
    """Where failed-attempt counters live. `account` is a normalized account name, `client` a
    `client_bucket`; each method is one atomic step, so concurrent attempts cannot slip past."""

    async def attempt(
        self, account: str, client: str, account_limit: Limit, client_limit: Limit
    ) -> Refusal | None:
        """Refuse when either bucket is waiting; otherwise count the attempt in both (setting
        a bucket's wait once it reaches its limit) and return None."""
        ...

    async def succeeded(self, account: str, client: str, client_limit: Limit) -> None:
        """The attempt counted for `account` succeeded: forget the account's bucket and take
        the attempt back from the client's."""
        ...


class _Bucket:
    __slots__ = ("count", "expires", "next_allowed")

    def __init__(self, expires: float) -> None:
        self.count = 0
        self.next_allowed = 0.0
        self.expires = expires


class MemoryThrottleStore:
    """Counters in this process's memory, for development and tests.

    Each process counts on its own, so with several workers an attacker gets each worker's
    allowance: use `RedisThrottleStore` in production. At most `max_buckets` buckets are kept
    (expired ones are dropped first, then the oldest). `clock` gives seconds (injectable for
    tests).
    """

    def __init__(
        self, *, max_buckets: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_buckets = max_buckets
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}
        # Flask and Django serve requests from several threads: check and count under one lock.
        self._lock = threading.Lock()

    async def attempt(
        self, account: str, client: str, account_limit: Limit, client_limit: Limit
    ) -> Refusal | None:
        """See `ThrottleStore.attempt`."""
        buckets: tuple[tuple[Scope, str, Limit], ...] = (
            ("account", "a:" + account, account_limit),
            ("ip", "ip:" + client, client_limit),
        )
        with self._lock:
            now = self.clock()
            for scope, key, _ in buckets:
                bucket = self._live(key, now)
                if bucket is not None and bucket.next_allowed > now:
                    return Refusal(scope, math.ceil(bucket.next_allowed - now))
            for _, key, limit in buckets:
                bucket = self._live(key, now) or self._new(key, now + limit.window)
                bucket.count += 1
                wait = limit.delay(bucket.count)
                if wait:
                    bucket.next_allowed = now + wait
                    bucket.expires = max(bucket.expires, now + wait)
            return None

    async def succeeded(self, account: str, client: str, client_limit: Limit) -> None:
        """See `ThrottleStore.succeeded`."""
        with self._lock:
            self._buckets.pop("a:" + account, None)
            bucket = self._live("ip:" + client, self.clock())
            if bucket is not None:
                bucket.count -= 1
                if bucket.count < client_limit.attempts:
                    bucket.next_allowed = 0.0
                if bucket.count <= 0:
                    del self._buckets["ip:" + client]

    def _live(self, key: str, now: float) -> _Bucket | None:
        bucket = self._buckets.get(key)
        if bucket is not None and bucket.expires <= now:
            del self._buckets[key]
            return None
        return bucket

    def _new(self, key: str, expires: float) -> _Bucket:
        if len(self._buckets) >= self.max_buckets:
            now = self.clock()
            for stale in [k for k, b in self._buckets.items() if b.expires <= now]:
                del self._buckets[stale]
            while len(self._buckets) >= self.max_buckets:
                del self._buckets[next(iter(self._buckets))]
        bucket = self._buckets[key] = _Bucket(expires)
        return bucket
