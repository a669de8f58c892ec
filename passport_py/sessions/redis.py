"""`RedisStore`: sessions in Redis (or Redis Cluster / Sentinel), shared by every process."""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import AsyncGenerator, Collection
from typing import Any, NamedTuple, TypeVar

from passport_py._async import close_at_loop_shutdown, run_sync
from passport_py._extras import install_hint
from passport_py.sessions.stores import SessionStoreUnavailable

try:
    import redis
    import redis.asyncio
    from redis.exceptions import MaxConnectionsError

    from passport_py.sessions._redis_clients import Connector, aclose, redacted
    from passport_py.sessions._redis_plans import (
        UNREACHABLE,
        Command,
        Keys,
        Plan,
        delete_plan,
        destroy_user_plan,
        drive,
        end_sessions_plan,
        execute,
        execute_sync,
        get_plan,
        sessions_of_plan,
        set_plan,
        touch_plan,
    )
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError(f"RedisStore needs redis-py: {install_hint('redis')}") from exc

__all__ = ["RedisStore", "SyncRedisStore"]

T = TypeVar("T")


class _NoFreeConnection(MaxConnectionsError):
    """Every connection the store may open stayed in use for `pool_timeout` seconds."""


class SyncRedisStore:
    """The sync side of `RedisStore` (what Flask uses); one thread-safe connection pool."""

    def __init__(self, owner: RedisStore) -> None:
        self._owner = owner
        self._keys = owner._keys

    def _run(self, plan: Plan[T]) -> T:
        owner = self._owner
        client, turns = owner._sync_client(), owner._sync_turns

        async def in_turn(batch: list[Command]) -> list[Any]:
            if not turns.acquire(timeout=owner.pool_timeout):
                raise _NoFreeConnection
            try:
                return execute_sync(client, batch)
            finally:
                turns.release()

        # The async driver, run without an event loop: nothing in it awaits real async I/O.
        return run_sync(drive(plan, in_turn, owner._unavailable))

    def get(self, session_id: str) -> str | None:
        return self._run(get_plan(self._keys, session_id))

    def set(
        self, session_id: str, value: str, ttl: int, *, user: str | None = None, new: bool = False
    ) -> bool:
        return self._run(set_plan(self._keys, session_id, value, ttl, user, new))

    def delete(self, session_id: str, *, user: str | None = None) -> None:
        self._run(delete_plan(self._keys, session_id, user))

    def touch(self, session_id: str, ttl: int, *, user: str | None = None) -> bool:
        return self._run(touch_plan(self._keys, session_id, ttl, user))

    def destroy_user(self, user: str) -> int:
        return self._run(destroy_user_plan(self._keys, user))

    def sessions_of(self, user: str) -> list[tuple[str, str]]:
        return self._run(sessions_of_plan(self._keys, user))

    def end_sessions(
        self, user: str, digests: Collection[str] | None = None, *, keep: str | None = None
    ) -> int:
        return self._run(end_sessions_plan(self._keys, user, digests, keep))


def _connections(count: int) -> str:
    return f"{count} connection{'s' if count > 1 else ''}"


class _LoopSide(NamedTuple):
    """What a store uses on one event loop: redis.asyncio connections belong to the loop
    that opened them, and so does an asyncio semaphore."""

    client: Any
    turns: asyncio.Semaphore
    closer: AsyncGenerator[None, None] | None
    """Closes a client the store made when the loop shuts down; None for a client given."""


class RedisStore:
    """Sessions in Redis: every app process pointed at the same Redis shares them.

    Give a `url`: `redis://`, `rediss://` (TLS) or `unix://` for one Redis; with
    `cluster=True`, `redis://` or `rediss://` naming any node of a Redis Cluster; or
    `redis+sentinel://[user:password@]host[:port][,host2[:port2]...]/service_name[/db]`
    (`rediss+sentinel://` for TLS) to reach the primary those Sentinels name. Clients are
    made when first needed, one per event loop for async code and one pool for sync code,
    with `socket_timeout` and `connect_timeout` (seconds) bounding how long a request waits
    before its 503. Or give `client=`, any redis-py client, async (`redis.asyncio.Redis`,
    `RedisCluster`, a Sentinel `master_for(...)`) for the ASGI middleware or sync for Flask;
    its own timeouts apply, and its pool must hold `max_connections` connections (per node).
    At most `max_connections` commands are in flight per event loop and for sync code (so
    that many connections at most, per Redis node); a request that finds them all in use
    waits up to `pool_timeout` seconds for one. Values are JSON text (never pickle), written
    with their TTL in the same command.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        cluster: bool = False,
        client: Any = None,
        prefix: str = "session:",
        socket_timeout: float = 0.5,
        connect_timeout: float = 0.5,
        max_connections: int = 50,
        pool_timeout: float = 1.0,
    ) -> None:
        if (url is None) == (client is None):
            raise ValueError("RedisStore needs a url or a client (one of them)")
        if cluster and client is not None:
            raise ValueError(
                "cluster=True is for RedisStore(url): a client you give is used as it is"
            )
        if isinstance(max_connections, bool) or not isinstance(max_connections, int):
            raise TypeError(f"max_connections must be an int, got {max_connections!r}")
        if max_connections < 1:
            raise ValueError(f"max_connections must be 1 or more, got {max_connections}")
        if not pool_timeout > 0:
            raise ValueError(f"pool_timeout must be above 0 seconds, got {pool_timeout!r}")
        # Checks the URL now: a typo fails at startup, not at the first request.
        self._connector = (
            Connector(
                url,
                cluster=cluster,
                socket_timeout=socket_timeout,
                connect_timeout=connect_timeout,
                max_connections=max_connections,
            )
            if url is not None
            else None
        )
        self.url = url
        self.cluster = cluster
        self.prefix = prefix
        self.max_connections = max_connections
        self.pool_timeout = pool_timeout
        self._keys = Keys(prefix)
        self._async_client: Any = None
        self._sync: Any = None
        self._sync_sentinels: list[Any] = []
        # One turn per connection the sync pool may hold: a command waits for a turn, never
        # for redis-py's pool, which would fail at once when full.
        self._sync_turns = threading.BoundedSemaphore(max_connections)
        self._sync_lock = threading.Lock()
        if client is not None:
            if isinstance(client, redis.asyncio.Redis | redis.asyncio.RedisCluster):
                self._async_client = client
            else:
                self._sync = client
        self._loop_sides: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopSide] = (
            weakref.WeakKeyDictionary()
        )
        self._sync_side = SyncRedisStore(self)

    @property
    def sync(self) -> SyncRedisStore:
        """The same sessions, for sync code (Flask)."""
        return self._sync_side

    def _describe(self) -> str:
        return redacted(self.url) if self.url else f"the Redis client given ({self.prefix!r})"

    def _unavailable(self, exc: BaseException) -> SessionStoreUnavailable:
        """The error, and so the 503's log line, saying whether Redis did not answer or the
        pool stayed busy (raise `max_connections`, or look at Redis)."""
        where = f"Redis at {self._describe()}"
        if isinstance(exc, _NoFreeConnection):
            return SessionStoreUnavailable(
                f"{where}: no free connection in the pool within {self.pool_timeout:g} s (the "
                f"pool of {_connections(self.max_connections)} was busy: raise max_connections "
                "if Redis answers in time)"
            )
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, MaxConnectionsError):  # the pool of a client given is too small
            return SessionStoreUnavailable(
                f"{where}: no free connection in the client's own pool ({reason}): give it "
                f"room for {_connections(self.max_connections)} (max_connections)"
            )
        return SessionStoreUnavailable(f"{where} did not answer: {reason}")

    def _sync_client(self) -> Any:
        if self._sync is None:
            if self._connector is None:
                raise TypeError(
                    "this RedisStore was given an async client: give RedisStore(url) or a sync "
                    "client (redis.Redis) to use it from sync code"
                )
            # One client for every thread: the first requests arrive together.
            with self._sync_lock:
                if self._sync is None:
                    try:  # a sync cluster client asks a node for the cluster's layout when made
                        self._sync, self._sync_sentinels = self._connector.connect(
                            asynchronous=False
                        )
                    except UNREACHABLE as exc:
                        raise self._unavailable(exc) from None
        return self._sync

    def _side(self) -> _LoopSide:
        loop = asyncio.get_running_loop()
        side = self._loop_sides.get(loop)
        if side is None:
            side = self._loop_sides[loop] = self._open_side()
        return side

    def _open_side(self) -> _LoopSide:
        turns = asyncio.Semaphore(self.max_connections)
        if self._async_client is not None:
            return _LoopSide(self._async_client, turns, None)
        if self._connector is None:
            raise TypeError(
                "this RedisStore was given a sync client: give RedisStore(url) or an async "
                "client (redis.asyncio.Redis) to use it from async code"
            )
        client, sentinels = self._connector.connect(asynchronous=True)
        clients = [client, *sentinels]

        async def close_all() -> None:
            for each in clients:
                await aclose(each)

        return _LoopSide(client, turns, close_at_loop_shutdown(close_all))

    async def _run(self, plan: Plan[T]) -> T:
        client, turns, _ = self._side()

        async def in_turn(batch: list[Command]) -> list[Any]:
            if turns.locked():  # every connection is in use: wait for one, not for ever
                try:
                    async with asyncio.timeout(self.pool_timeout):
                        await turns.acquire()
                except TimeoutError:
                    raise _NoFreeConnection from None
            else:
                await turns.acquire()
            try:
                return await execute(client, batch)
            finally:
                turns.release()

        return await drive(plan, in_turn, self._unavailable)

    async def get(self, session_id: str) -> str | None:
        return await self._run(get_plan(self._keys, session_id))

    async def set(
        self, session_id: str, value: str, ttl: int, *, user: str | None = None, new: bool = False
    ) -> bool:
        return await self._run(set_plan(self._keys, session_id, value, ttl, user, new))

    async def delete(self, session_id: str, *, user: str | None = None) -> None:
        await self._run(delete_plan(self._keys, session_id, user))

    async def touch(self, session_id: str, ttl: int, *, user: str | None = None) -> bool:
        return await self._run(touch_plan(self._keys, session_id, ttl, user))

    async def destroy_user(self, user: str) -> int:
        return await self._run(destroy_user_plan(self._keys, user))

    async def sessions_of(self, user: str) -> list[tuple[str, str]]:
        return await self._run(sessions_of_plan(self._keys, user))

    async def end_sessions(
        self, user: str, digests: Collection[str] | None = None, *, keep: str | None = None
    ) -> int:
        return await self._run(end_sessions_plan(self._keys, user, digests, keep))

    def sync_close(self) -> None:
        """Close the sync pool this store made (for shutdown code and tests)."""
        if self.url is not None and self._sync is not None:
            for client in [self._sync, *self._sync_sentinels]:
                client.close()
            self._sync, self._sync_sentinels = None, []

    async def aclose(self) -> None:
        """Close the connections this store made for the running event loop, and its sync
        pool (`SessionMiddleware` calls this when the app shuts down). A client it was given
        is left to its owner."""
        side = self._loop_sides.pop(asyncio.get_running_loop(), None)
        if side is not None and side.closer is not None:
            await side.closer.aclose()
        self.sync_close()
