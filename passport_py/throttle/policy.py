"""`LoginThrottle`: the failed-login limits the engine applies to strategies that name an
account."""

from __future__ import annotations

import math

from passport_py.throttle.keys import client_bucket, normalize_account
from passport_py.throttle.limits import Limit, Refusal
from passport_py.throttle.stores import MemoryThrottleStore, ThrottleStore

__all__ = ["DEFAULT_ACCOUNT_LIMIT", "DEFAULT_IP_LIMIT", "LoginThrottle", "wait_text"]

DEFAULT_ACCOUNT_LIMIT = Limit(attempts=5, window=900, base_delay=30, max_delay=900)
"""5 attempts per account in 15 minutes, then waits of 30 s, 60 s, ... up to 15 minutes."""
DEFAULT_IP_LIMIT = Limit(attempts=100, window=900, base_delay=60, max_delay=900)
"""100 attempts per client address (IPv6: per /64) in 15 minutes, then 1 minute doubling to 15."""


def wait_text(seconds: int) -> str:
    """`"45 seconds"`, `"3 minutes"`: how long to wait, for a person."""
    if seconds <= 90:
        return f"{seconds} second{'' if seconds == 1 else 's'}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes"


class LoginThrottle:
    """Limits failed logins per account (`account`) and per client address (`ip`).

    Set it on the authenticator (`passport.throttle = LoginThrottle(...)`): every strategy
    whose `account(request)` names an account then counts each attempt before verify runs,
    and an attempt made while the account or the address is waiting is answered 429 with
    `Retry-After`, without calling verify, the same whether the account exists or not. A
    success forgets the account's failures. `store` holds the counters: `MemoryThrottleStore`
    (the default, one process) or `RedisThrottleStore` (shared by every process).
    """

    def __init__(
        self,
        store: ThrottleStore | None = None,
        *,
        account: Limit = DEFAULT_ACCOUNT_LIMIT,
        ip: Limit = DEFAULT_IP_LIMIT,
    ) -> None:
        for name, limit in (("account", account), ("ip", ip)):
            if not isinstance(limit, Limit):
                raise TypeError(f"LoginThrottle({name}=...) takes a Limit, got {limit!r}")
        self.store: ThrottleStore = store if store is not None else MemoryThrottleStore()
        self.account_limit = account
        self.ip_limit = ip

    async def attempt(self, account: str, client_ip: str | None) -> Refusal | None:
        """Count a login attempt for `account` from `client_ip`, or refuse it (one store
        round trip)."""
        return await self.store.attempt(
            normalize_account(account), client_bucket(client_ip), self.account_limit, self.ip_limit
        )

    async def succeeded(self, account: str, client_ip: str | None) -> None:
        """The attempt for `account` succeeded: its failures are forgotten."""
        await self.store.succeeded(
            normalize_account(account), client_bucket(client_ip), self.ip_limit
        )

    def message(self, refusal: Refusal) -> str:
        """What the client is told: "Too many failed login attempts. Try again in 3 minutes."."""
        return f"Too many failed login attempts. Try again in {wait_text(refusal.retry_after)}."
