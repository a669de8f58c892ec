"""Login throttling: failed-login limits per account and per client address.

`passport.throttle = LoginThrottle(store)` turns it on for every strategy that names the
account an attempt is for (local, Basic, Digest, and custom strategies through
`Strategy.account`). Counters live in a `MemoryThrottleStore` (one process, development) or a
`RedisThrottleStore` (the `redis` extra; every process shares it, one round trip an attempt).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from passport_py.throttle.keys import UNKNOWN_CLIENT, client_bucket, normalize_account
from passport_py.throttle.limits import Limit, Refusal, Scope
from passport_py.throttle.policy import DEFAULT_ACCOUNT_LIMIT, DEFAULT_IP_LIMIT, LoginThrottle
from passport_py.throttle.stores import MemoryThrottleStore, ThrottleStore, ThrottleStoreUnavailable

if TYPE_CHECKING:
    from passport_py.throttle.redis import RedisThrottleStore

__all__ = [
    "DEFAULT_ACCOUNT_LIMIT",
    "DEFAULT_IP_LIMIT",
    "UNKNOWN_CLIENT",
    "Limit",
    "LoginThrottle",
    "MemoryThrottleStore",
    "RedisThrottleStore",
    "Refusal",
    "Scope",
    "ThrottleStore",
    "ThrottleStoreUnavailable",
    "client_bucket",
    "normalize_account",
]


def __getattr__(name: str) -> Any:
    # RedisThrottleStore needs the `redis` extra: imported on first use, not with the package.
    if name == "RedisThrottleStore":
        from passport_py.throttle.redis import RedisThrottleStore

        return RedisThrottleStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
