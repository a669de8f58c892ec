"""`RedisThrottleStore`: failed-login counters in Redis, shared by every process of the app."""

from __future__ import annotations

import asyncio
import hashlib
import math
from typing import Any

from passport_py._extras import install_hint
from passport_py.sessions.stores import SessionStoreUnavailable
from passport_py.throttle import _scripts
from passport_py.throttle.limits import Limit, Refusal
from passport_py.throttle.stores import ThrottleStoreUnavailable

try:
    from redis.exceptions import NoScriptError, ResponseError

    from passport_py.sessions._redis_plans import Plan
    from passport_py.sessions.redis import RedisStore
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError(f"RedisThrottleStore needs redis-py: {install_hint('redis')}") from exc

__all__ = ["RedisThrottleStore"]

_SCOPES = {1: "account", 2: "ip"}


def _script_plan(script: str, keys: tuple[str, str], args: tuple[Any, ...]) -> Plan[Any]:
    """One `EVALSHA` (one round trip); `EVAL` with the source when Redis does not have the
    script yet (after a restart or `SCRIPT FLUSH`), which also caches it for the next call."""
    try:
        (reply,) = yield [("evalsha", (_scripts.sha1(script), 2, *keys, *args), {})]
    except NoScriptError:
        (reply,) = yield [("eval", (script, 2, *keys, *args), {})]
    return reply


def _ms(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


class RedisThrottleStore:
    """Throttle counters in Redis: every process pointed at the same Redis and `prefix` shares
    them, and each attempt is one atomic script (one round trip; a success is one more).

    Connections work as for the session store `passport_py.sessions.RedisStore`, and take the
    same arguments: a `url` (`redis://`, `rediss://`, `unix://`, a Sentinel URL, or a
    cluster node with `cluster=True`) or a `client`; `socket_timeout`, `connect_timeout`,
    `max_connections` and `pool_timeout`. Async code (Starlette, FastAPI, async views) uses
    an asyncio client per event loop, sync code (Flask, Django) a thread-safe pool. Keys are
    `<prefix>a:<sha256 of the account>` and `<prefix>ip:<sha256 of the client bucket>`, each
    with a TTL. When Redis does not answer, `ThrottleStoreUnavailable` is raised and the
    login is answered with a 503 (fail closed).
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        cluster: bool = False,
        client: Any = None,
        prefix: str = "throttle:",
        socket_timeout: float = 0.5,
        connect_timeout: float = 0.5,
        max_connections: int = 50,
        pool_timeout: float = 1.0,
    ) -> None:
        # The session store's connection handling (clients per loop, pool turns, timeouts,
        # Sentinel and Cluster URLs, error messages), used for our commands only.
        self._redis = RedisStore(
            url,
            cluster=cluster,
            client=client,
            prefix=prefix,
            socket_timeout=socket_timeout,
            connect_timeout=connect_timeout,
            max_connections=max_connections,
            pool_timeout=pool_timeout,
        )
        self.prefix = prefix
        # A Cluster runs a script on one node: a hash tag keeps both keys in one slot.
        self._key_prefix = f"{{{prefix}}}" if cluster else prefix

    def _keys(self, account: str, client: str) -> tuple[str, str]:
        def digest(text: str) -> str:
            return hashlib.sha256(text.encode("utf-8")).hexdigest()

        return (f"{self._key_prefix}a:{digest(account)}", f"{self._key_prefix}ip:{digest(client)}")

    async def _run(self, plan: Plan[Any]) -> Any:
        try:
            try:
                asyncio.get_running_loop()
            except RuntimeError:  # a sync framework (Flask, Django): no event loop here
                return self._redis.sync._run(plan)
            return await self._redis._run(plan)
        except SessionStoreUnavailable as exc:
            raise ThrottleStoreUnavailable(str(exc)) from None
        except ResponseError as exc:  # a foreign value under our prefix: refuse, do not guess
            raise ThrottleStoreUnavailable(
                f"Redis refused a throttle script under the prefix {self.prefix!r}: {exc}"
            ) from None

    async def attempt(
        self, account: str, client: str, account_limit: Limit, client_limit: Limit
    ) -> Refusal | None:
        """See `ThrottleStore.attempt`: one script."""
        args = tuple(
            value
            for limit in (account_limit, client_limit)
            for value in (
                limit.attempts,
                _ms(limit.window),
                _ms(limit.base_delay),
                _ms(limit.max_delay),
            )
        )
        scope, wait = await self._run(
            _script_plan(_scripts.ATTEMPT, self._keys(account, client), args)
        )
        if not scope:
            return None
        return Refusal(_SCOPES[int(scope)], max(1, math.ceil(int(wait) / 1000)))  # type: ignore[arg-type]

    async def succeeded(self, account: str, client: str, client_limit: Limit) -> None:
        """See `ThrottleStore.succeeded`: one script."""
        keys = self._keys(account, client)
        await self._run(_script_plan(_scripts.SUCCEEDED, keys, (client_limit.attempts,)))

    def sync_close(self) -> None:
        """Close the sync pool this store made."""
        self._redis.sync_close()

    async def aclose(self) -> None:
        """Close the connections this store made for the running event loop, and its sync
        pool; a client it was given is left to its owner."""
        await self._redis.aclose()
