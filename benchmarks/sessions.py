"""Server-side sessions (`passport_py.sessions`) against Starlette's cookie session.

Rows 9 and 10 time a logged-in `GET /me` through `PassportMiddleware` behind our
`SessionMiddleware` with a `MemoryStore` (row 9) or a `RedisStore` on the real Redis (row 10),
against the same app behind Starlette's `SessionMiddleware` (row 1's `st_ours` variant). Each
server-side app first serves a real login (`login(request, alice)`), and the cookie that answer
set is the one the timed requests carry: the store holds what the middleware wrote. Row 10's
Redis commands are counted on redis-py's connections and by the server, outside the timed
batches. Row 11 measures with `tracemalloc` what a `MemoryStore` holds for 100,000 logins.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import time
import tracemalloc
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import redis
import redis.asyncio.connection
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from passport_py.adapters.starlette import PassportMiddleware, login
from passport_py.sessions import MemoryStore, ServerSession, SessionMiddleware, SessionStore
from passport_py.sessions.redis import RedisStore
from passport_py.sessions.session import save

from . import apps
from .asgi import call_once, get_scope, run_batch
from .timing import Answer, Variant

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def is_alice(stored: str | None) -> bool:
    """True when a stored session is alice's login, as the middleware writes it."""
    if stored is None:
        return False
    record = json.loads(stored)
    entry = record.get("data", {}).get("passport", {})
    return record.get("user") == "1" and entry.get("user") == 1 and "at" in entry


TTL = 14 * 24 * 60 * 60
#: A typical browser's User-Agent, as a login records it.
BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


async def log_in(request: Request) -> Response:
    """Served once per app, before timing: alice logs in."""
    await login(request, apps.USERS[1])
    return PlainTextResponse("logged in")


def server_session_app(store: SessionStore) -> Starlette:
    """Row 1's app with our `SessionMiddleware(store=store)` in place of Starlette's. The
    login route comes last, so `/me` is routed as in the cookie-session app."""
    return Starlette(
        routes=[*apps._routes(), Route("/login", log_in, methods=["POST"])],
        middleware=[
            Middleware(SessionMiddleware, secret_key=apps.SECRET, store=store),
            Middleware(PassportMiddleware, passport=apps.make_passport()),
        ],
    )


def quiet_memory_store(max_entries: int = 10_000) -> MemoryStore:
    """A `MemoryStore`, without its once-per-process warning that it is for development
    (true, and not what a benchmark table should be interrupted with)."""
    logger = logging.getLogger("passport_py.sessions")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return MemoryStore(max_entries)
    finally:
        logger.setLevel(level)


def store_id(cookie: bytes) -> str:
    """The session id in a cookie value our middleware set (`<id>.<signature>`)."""
    return cookie.decode("ascii").rsplit(".", 1)[0]


def _log_in_cookie(app: ASGIApp, run: Callable[[Coroutine[Any, Any, Answer]], Answer]) -> bytes:
    """Log alice in through `app`; the session cookie value its answer set."""
    status, headers, _ = run(call_once(app, {**get_scope("/login"), "method": "POST"}))
    cookie = headers.get(b"set-cookie", b"")
    if status != 200 or not cookie.startswith(b"session="):
        raise RuntimeError(f"login through our SessionMiddleware failed: {status} {headers}")
    return cookie.split(b";", 1)[0].removeprefix(b"session=")


def _checked(variant: Variant) -> Variant:
    """`variant`, once it has answered as row 1's variants do: alice, no `Set-Cookie`."""
    status, headers, body = variant.call_once()
    if status != 200 or body != b"hello alice" or b"set-cookie" in headers:
        raise RuntimeError(f"{variant.name}: unexpected answer {status} {headers} {body!r}")
    return variant


def memory_variant() -> Variant:
    """Row 9: our sessions in a `MemoryStore`, alice logged in."""
    store = quiet_memory_store()
    app = server_session_app(store)
    cookie = _log_in_cookie(app, asyncio.run)
    stored = store.sync.get(store_id(cookie))
    if not is_alice(stored) or len(store) != 1:
        raise RuntimeError(f"the login stored {stored!r}, not alice's login")
    me = get_scope("/me", cookie)
    return _checked(
        Variant(
            "Starlette: our Session(MemoryStore) + Passport",
            lambda n: asyncio.run(run_batch(app, me, n)),
            lambda: asyncio.run(call_once(app, me)),
        )
    )


# -- RedisStore -------------------------------------------------------------------------------


def redis_unreachable(url: str = REDIS_URL) -> str | None:
    """None when the Redis at `url` answers a PING, else why row 10 is skipped (one line)."""
    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        return f"no Redis at {url} ({type(exc).__name__}; set REDIS_URL)"
    finally:
        client.close()
    return None


@dataclass(frozen=True)
class RoundTrips:
    """What `requests` logged-in requests asked of Redis."""

    requests: int
    round_trips: int
    """Writes to the socket by our redis-py connections, each answer awaited (a pipeline,
    several commands in one write, would count once)."""
    commands: Counter[str]
    """The commands those writes carried, as redis-py sent them."""
    server: Counter[str]
    """What Redis's `INFO commandstats` counted meanwhile (from every client of the server)."""

    @property
    def per_request(self) -> float:
        return self.round_trips / self.requests


@dataclass
class RedisSessions:
    """Row 10: the timed variant, the round-trip count, and the clean-up of its keys."""

    variant: Variant
    count_round_trips: Callable[[int], RoundTrips]
    close: Callable[[], None]


def redis_variant(url: str = REDIS_URL) -> RedisSessions:
    """Row 10: our sessions in a `RedisStore` on the real Redis, under a prefix of its own."""
    prefix = f"passport-py-bench:{uuid.uuid4().hex}:"
    store = RedisStore(url, prefix=prefix)
    app = server_session_app(store)

    async def in_loop(work: Callable[[], Awaitable[Any]]) -> Any:
        # One event loop per batch, as for every ASGI variant. Its connection to Redis is
        # opened (and alice's session checked) before `work` starts the clock, and closed
        # after it stops, as on lifespan shutdown.
        try:
            if not is_alice(await store.get(session_id)):
                raise RuntimeError("Redis does not hold alice's session as her login wrote it")
            return await work()
        finally:
            await store.aclose()

    def run_then_close(work: Coroutine[Any, Any, Answer]) -> Answer:
        async def run() -> Answer:
            try:
                return await work
            finally:
                await store.aclose()

        return asyncio.run(run())

    cookie = _log_in_cookie(app, run_then_close)
    session_id = store_id(cookie)
    me = get_scope("/me", cookie)
    variant = Variant(
        "Starlette: our Session(RedisStore) + Passport",
        lambda n: asyncio.run(in_loop(lambda: run_batch(app, me, n))),
        lambda: asyncio.run(in_loop(lambda: call_once(app, me))),
    )

    def count(n: int) -> RoundTrips:
        async def counted() -> RoundTrips:
            before = _server_commandstats(url)
            with _counting_redis_connections() as (round_trips, commands):
                await run_batch(app, me, n)
            server = _server_commandstats(url)
            server.subtract(before)
            # The two INFO calls' own connection set-up and the first INFO itself.
            for own in ("hello", "info", "client|setinfo"):
                server.pop(own, None)
            return RoundTrips(n, round_trips[0], commands, +server)

        result: RoundTrips = asyncio.run(in_loop(counted))
        return result

    def close() -> None:
        client = redis.Redis.from_url(url)
        try:
            keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
            if keys:
                client.delete(*keys)
        finally:
            client.close()

    return RedisSessions(_checked(variant), count, close)


def _server_commandstats(url: str) -> Counter[str]:
    """Redis's per-command call counts (`INFO commandstats`), through a connection of its own."""
    client = redis.Redis.from_url(url)
    try:
        stats: dict[str, dict[str, Any]] = client.info("commandstats")
    finally:
        client.close()
    return Counter({name.removeprefix("cmdstat_"): int(s["calls"]) for name, s in stats.items()})


@contextmanager
def _counting_redis_connections() -> Iterator[tuple[list[int], Counter[str]]]:
    """Count, meanwhile, the writes every redis.asyncio connection makes (`[n]`) and the
    commands it sends: redis-py's `send_command` and pipelines both write through
    `send_packed_command`, once per round trip."""
    connection = redis.asyncio.connection.AbstractConnection
    send_packed, send_command = connection.send_packed_command, connection.send_command
    round_trips = [0]
    commands: Counter[str] = Counter()

    async def counting_send_packed(self: Any, command: Any, check_health: bool = True) -> None:
        round_trips[0] += 1
        await send_packed(self, command, check_health)

    async def naming_send_command(self: Any, *args: Any, **kwargs: Any) -> None:
        commands[str(args[0]).upper()] += 1
        await send_command(self, *args, **kwargs)

    connection.send_packed_command = counting_send_packed  # type: ignore[method-assign]
    connection.send_command = naming_send_command  # type: ignore[method-assign]
    try:
        yield round_trips, commands
    finally:
        connection.send_packed_command = send_packed  # type: ignore[method-assign]
        connection.send_command = send_command  # type: ignore[method-assign]


# -- MemoryStore's memory -------------------------------------------------------------------


@dataclass(frozen=True)
class MemoryFootprint:
    """The memory a `MemoryStore` holds for `sessions` login sessions."""

    sessions: int
    bytes: int

    @property
    def per_session(self) -> float:
        return self.bytes / self.sessions

    def megabytes_per(self, sessions: int) -> float:
        return self.per_session * sessions / 1e6


def memory_footprint(sessions: int) -> MemoryFootprint:
    """Save `sessions` logins (users 1..n, a session each) into a `MemoryStore` as the
    middleware saves them (`ServerSession`, `bind_user`, `save`: a new 256-bit id, the JSON
    value, the per-user index), and measure with `tracemalloc` what the store then holds."""

    first: list[str] = []
    now = int(time.time())

    async def fill(store: MemoryStore) -> None:
        for user_id in range(1, sessions + 1):
            # What a login records: the id, login and last-seen times, address, user agent.
            entry = {"user": user_id, "at": now, "seen": now, "ip": "203.0.113.7", "ua": BROWSER}
            session = ServerSession({"passport": entry})
            session.bind_user(user_id)
            if await save(store, session, TTL, False) != "set" or session.id is None:
                raise RuntimeError("the store refused a new session")
            if not first:
                first.append(session.id)

    store = quiet_memory_store(max_entries=sessions)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        asyncio.run(fill(store))
        gc.collect()  # the sessions and the event loop are garbage now, not held
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    if len(store) != sessions or not is_alice(store.sync.get(first[0])):
        raise RuntimeError(f"the store holds {len(store)} sessions, not {sessions} logins")
    return MemoryFootprint(sessions, held)
