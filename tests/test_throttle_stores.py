"""The throttle stores, one suite over `MemoryThrottleStore` (with an injected clock) and
`RedisThrottleStore` (the real Redis, short windows, real time); then what only Redis does:
TTLs on every key, atomic counting under 100 concurrent attempts, the script cache, sync
callers and an unreachable server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import redis
from redis_helpers import REDIS_URL, unused_port

from passport_py import run_sync
from passport_py.throttle import (
    Limit,
    LoginThrottle,
    MemoryThrottleStore,
    Refusal,
    ThrottleStore,
    ThrottleStoreUnavailable,
    client_bucket,
    normalize_account,
)
from passport_py.throttle.redis import RedisThrottleStore

FULLWIDTH = "\uff41\uff4c\uff49\uff43\uff45"
"""`alice` in fullwidth letters."""
WIDE = Limit(attempts=1000, window=60, base_delay=1, max_delay=1)


@dataclass
class Kit:
    store: ThrottleStore
    limit: Limit
    advance: Callable[[float], None]
    exact: bool
    """Whether `retry_after` is exact (the memory store's clock) or rounded up to 1 s."""

    def attempt(self, account: str = "alice", ip: str = "192.0.2.1") -> Refusal | None:
        return run_sync(self.store.attempt(account, ip, self.limit, WIDE))

    def attempt_ip(self, account: str, limit: Limit) -> Refusal | None:
        return run_sync(self.store.attempt(account, "192.0.2.1", WIDE, limit))

    def succeeded(self, account: str = "alice", ip_limit: Limit = WIDE) -> None:
        run_sync(self.store.succeeded(account, "192.0.2.1", ip_limit))


@pytest.fixture(params=["memory", "redis"])
def kit(request: pytest.FixtureRequest) -> Iterator[Kit]:
    if request.param == "memory":
        now = [0.0]

        def forward(seconds: float) -> None:
            now[0] += seconds

        store = MemoryThrottleStore(clock=lambda: now[0])
        yield Kit(store, Limit(3, window=60, base_delay=10, max_delay=40), forward, True)
        return
    prefix = request.getfixturevalue("redis_prefix")
    redis_store = RedisThrottleStore(REDIS_URL, prefix=prefix)
    limit = Limit(3, window=0.6, base_delay=0.15, max_delay=0.6)
    # A little past each deadline: Redis expires keys on its own clock, to the millisecond.
    yield Kit(redis_store, limit, lambda seconds: time.sleep(seconds + 0.03), False)
    redis_store.sync_close()


def test_the_attempts_of_the_limit_are_counted_and_the_next_waits(kit: Kit) -> None:
    assert [kit.attempt() for _ in range(3)] == [None] * 3
    refusal = kit.attempt()
    assert refusal == Refusal("account", 10 if kit.exact else 1)


def test_each_attempt_after_a_wait_doubles_the_next_wait(kit: Kit) -> None:
    for _ in range(3):
        kit.attempt()
    kit.advance(kit.limit.base_delay)
    assert kit.attempt() is None
    assert kit.attempt() == Refusal("account", 20 if kit.exact else 1)
    kit.advance(kit.limit.base_delay)  # half of the doubled wait
    assert kit.attempt() is not None
    kit.advance(kit.limit.base_delay)
    assert kit.attempt() is None


def test_a_bucket_is_forgotten_after_its_window(kit: Kit) -> None:
    kit.attempt()
    kit.attempt()
    kit.advance(kit.limit.window)
    assert [kit.attempt() for _ in range(3)] == [None] * 3


def test_a_success_forgets_the_account_and_gives_the_address_its_attempt_back(kit: Kit) -> None:
    ip = Limit(3, window=60, base_delay=10, max_delay=10)
    assert kit.attempt_ip("a", ip) is None
    assert kit.attempt_ip("b", ip) is None
    kit.succeeded("b", ip)
    assert kit.attempt_ip("c", ip) is None
    assert kit.attempt_ip("d", ip) is None  # the third counted, thanks to b's success
    assert kit.attempt_ip("e", ip) == Refusal("ip", 10)


def test_other_accounts_and_addresses_are_not_affected(kit: Kit) -> None:
    for _ in range(3):
        kit.attempt()
    assert kit.attempt() is not None
    assert kit.attempt("bob") is None
    assert kit.attempt("alice", "192.0.2.2") is not None  # the account waits from anywhere


@pytest.mark.parametrize("name", ["Alice", "ALICE", " alice ", FULLWIDTH, "alice\u3000"])
def test_spellings_of_one_name_normalize_to_one_account(name: str) -> None:
    assert normalize_account(name) == "alice"


@pytest.mark.parametrize(
    ("ip", "bucket"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        (None, "unknown"),
        ("testclient", "unknown"),
    ],
)
def test_addresses_are_bucketed_ipv4_as_is_and_ipv6_by_64(ip: str | None, bucket: str) -> None:
    assert client_bucket(ip) == bucket


def test_the_throttle_counts_spellings_and_one_64_together() -> None:
    limit = Limit(4, window=60, base_delay=10, max_delay=10)
    wide = Limit(1000, window=60, base_delay=1, max_delay=1)
    throttle = LoginThrottle(account=limit, ip=wide)
    for name in ("Alice", "ALICE", " alice ", FULLWIDTH):
        assert run_sync(throttle.attempt(name, "2001:db8::1")) is None
    assert run_sync(throttle.attempt("alice", "192.0.2.1")) == Refusal("account", 10)
    by_ip = LoginThrottle(account=wide, ip=limit)
    for n in range(4):
        assert run_sync(by_ip.attempt(f"user{n}", f"2001:db8::{n + 1:x}")) is None
    assert run_sync(by_ip.attempt("user9", "2001:db8::ffff")) == Refusal("ip", 10)
    assert run_sync(by_ip.attempt("user9", "2001:db8:0:1::1")) is None  # the next /64


# -- Redis only -----------------------------------------------------------------------------


@pytest.fixture
def redis_throttle(redis_prefix: str) -> Iterator[RedisThrottleStore]:
    store = RedisThrottleStore(REDIS_URL, prefix=redis_prefix)
    yield store
    store.sync_close()


def keys_and_ttls(prefix: str) -> dict[str, int]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        return {k.decode(): int(client.pttl(k)) for k in client.scan_iter(match=f"{prefix}*")}
    finally:
        client.close()


def test_redis_keys_are_hashed_and_all_carry_a_ttl(
    redis_throttle: RedisThrottleStore, redis_prefix: str
) -> None:
    limit = Limit(2, window=30, base_delay=100, max_delay=100)
    for _ in range(3):
        run_sync(redis_throttle.attempt("alice", "192.0.2.1", limit, limit))
    found = keys_and_ttls(redis_prefix)
    assert len(found) == 2
    assert not any("alice" in key or "192.0.2.1" in key for key in found)
    # The wait (100 s) outlives the window (30 s): the key lives until the wait is over.
    assert all(90_000 < ttl <= 100_000 for ttl in found.values())


def test_redis_counts_100_concurrent_attempts_atomically(
    redis_throttle: RedisThrottleStore,
) -> None:
    limit = Limit(5, window=30, base_delay=30, max_delay=30)

    async def flood() -> list[Refusal | None]:
        attempts = [redis_throttle.attempt("alice", "192.0.2.1", limit, WIDE) for _ in range(100)]
        try:
            return await asyncio.gather(*attempts)
        finally:
            await redis_throttle.aclose()

    results = asyncio.run(flood())
    assert results.count(None) == 5
    assert {r.scope for r in results if r is not None} == {"account"}


def test_redis_reloads_its_script_after_a_script_flush_and_works_from_sync_code(
    redis_throttle: RedisThrottleStore,
) -> None:
    limit = Limit(2, window=30, base_delay=30, max_delay=30)
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.script_flush()
    finally:
        client.close()
    # No event loop: the sync pool, as in Flask and Django.
    assert run_sync(redis_throttle.attempt("alice", "192.0.2.1", limit, WIDE)) is None
    assert run_sync(redis_throttle.attempt("alice", "192.0.2.1", limit, WIDE)) is None
    assert run_sync(redis_throttle.attempt("alice", "192.0.2.1", limit, WIDE)) == Refusal(
        "account", 30
    )


def test_an_unreachable_redis_raises_throttle_store_unavailable() -> None:
    store = RedisThrottleStore(f"redis://127.0.0.1:{unused_port()}/0")
    with pytest.raises(ThrottleStoreUnavailable, match="did not answer"):
        run_sync(store.attempt("alice", "192.0.2.1", WIDE, WIDE))
    store.sync_close()
