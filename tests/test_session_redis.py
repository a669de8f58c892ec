"""What only RedisStore promises, against the real Redis (security.md 3.1, 4.4 "Store
contents", 5.2 F1/F5, 7.4.5, R10): hashed key names, foreign values ignored with a warning
and never unpickled, every key expiring, logging out everywhere by the index alone, the client
given for one side only, and failing fast without showing the password.

The contract shared with MemoryStore is in tests/test_session_stores.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import pickle
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, cast

import pytest
import redis
import redis.asyncio
import redis_helpers
from store_sides import AsyncSide

from passport_py.sessions import ServerSession, SessionStoreUnavailable, SyncSessionStore
from passport_py.sessions.redis import RedisStore
from passport_py.sessions.session import new_session_id

VALUE = '{"user":"alice","data":{"n":1}}'
TTL = 60


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    """A plain client on the same Redis, to look at and write keys directly."""
    redis_helpers.require_redis()
    plain = redis.Redis.from_url(redis_helpers.REDIS_URL)
    yield plain
    plain.close()


@pytest.fixture(params=["async", "sync"])
def side(request: pytest.FixtureRequest, redis_store: RedisStore) -> Iterator[SyncSessionStore]:
    """The RedisStore's async side (through AsyncSide) and its sync side, in turn."""
    if request.param == "sync":
        yield redis_store.sync
        return
    with asyncio.Runner() as runner:
        yield AsyncSide(redis_store, runner)
        runner.run(redis_store.aclose())


def keys_under(client: redis.Redis, prefix: str) -> set[str]:
    return {key.decode() for key in client.scan_iter(match=f"{prefix}*", count=1000)}


# -- key names -------------------------------------------------------------------------------


def test_keys_are_the_prefix_and_sha256_of_the_id_and_of_the_user(
    side: SyncSessionStore, client: redis.Redis, redis_prefix: str
) -> None:
    session_id = new_session_id()
    side.set(session_id, VALUE, TTL, user="alice", new=True)
    session_key = redis_prefix + sha256(session_id)
    index_key = f"{redis_prefix}user:{sha256('alice')}"
    assert keys_under(client, redis_prefix) == {session_key, index_key}
    assert client.get(session_key) == VALUE.encode()
    assert client.smembers(index_key) == {session_key.encode()}


def test_no_key_contains_the_session_id_or_the_user(
    side: SyncSessionStore, client: redis.Redis
) -> None:
    session_id = new_session_id()
    user = f"user-{new_session_id()}"
    side.set(session_id, VALUE, TTL, user=user, new=True)
    side.touch(session_id, TTL, user=user)
    assert list(client.scan_iter(match=f"*{session_id}*", count=1000)) == []
    assert list(client.scan_iter(match=f"*{user}*", count=1000)) == []


@pytest.mark.parametrize("app_key", ["the id", "the id's hash"])
def test_an_app_key_equal_to_a_live_id_does_not_touch_the_session(
    side: SyncSessionStore, client: redis.Redis, app_key: str
) -> None:
    session_id = new_session_id()
    key = session_id if app_key == "the id" else sha256(session_id)
    side.set(session_id, VALUE, TTL, new=True)
    try:
        client.set(key, "app data")
        assert side.get(session_id) == VALUE
        client.delete(key)
        assert side.get(session_id) == VALUE
        client.set(key, "app data")
        side.set(session_id, '{"user":null,"data":{}}', TTL)
        side.delete(session_id)
        assert client.get(key) == b"app data"
    finally:
        client.delete(key)  # outside this test's prefix: the fixture would not clean it


# -- TTLs ------------------------------------------------------------------------------------


def test_the_ttl_is_set_with_the_write_and_extended_by_touch(
    side: SyncSessionStore, client: redis.Redis, redis_prefix: str
) -> None:
    side.set("s1", VALUE, 100, user="alice", new=True)
    for key in keys_under(client, redis_prefix):
        assert 0 < client.ttl(key) <= 100
    side.touch("s1", 500, user="alice")
    for key in keys_under(client, redis_prefix):
        assert 100 < client.ttl(key) <= 500


def test_no_key_is_left_without_an_expiry(
    side: SyncSessionStore, client: redis.Redis, redis_prefix: str
) -> None:
    steps: list[Callable[[], object]] = [
        lambda: side.set("a1", VALUE, TTL, user="alice", new=True),
        lambda: side.set("a2", VALUE, TTL, user="alice", new=True),
        lambda: side.set("a1", VALUE, TTL, user="alice"),
        lambda: side.touch("a2", TTL, user="alice"),
        lambda: side.set("n1", VALUE, TTL, new=True),
        lambda: side.touch("n1", TTL),
        lambda: side.delete("a2", user="alice"),
    ]
    for step in steps:
        step()
        assert all(client.ttl(key) > 0 for key in keys_under(client, redis_prefix))
    assert len(keys_under(client, redis_prefix)) == 3  # a1, n1 and alice's index


# -- foreign values under a session key (4.4 "Store contents", F5) ---------------------------

tripwire: list[str] = []


def trip(mark: str) -> None:
    tripwire.append(mark)


class Tripwire:
    """Unpickling this calls `trip`: proof that a stored pickle was (never) loaded."""

    def __reduce__(self) -> tuple[Callable[[str], None], tuple[str]]:
        return trip, ("unpickled",)


FOREIGN_VALUES: dict[str, bytes] = {
    "pickle": pickle.dumps(Tripwire(), protocol=4),
    "ascii pickle": pickle.dumps(Tripwire(), protocol=0),
    "invalid UTF-8": b'{"user":null,"data":{"n":"\xff\xfe"}}',
    "invalid JSON": b'{"user":null,"data":',
    "a list": b"[]",
    "a string": b'"session"',
    "null": b"null",
    "data is a list": b'{"user":null,"data":[]}',
    "no data": b'{"user":"alice"}',
    "user is a list": b'{"user":["1"],"data":{}}',
    "user is an operator": b'{"user":{"$gt":""},"data":{}}',
    "user is a number": b'{"user":1.0,"data":{}}',
    "2 MB": b'{"user":null,"data":{"x":"' + b"x" * (2 * 1024 * 1024) + b'"}}',
}


@pytest.mark.parametrize("value", FOREIGN_VALUES.values(), ids=FOREIGN_VALUES.keys())
def test_a_foreign_value_loads_as_a_new_empty_session_with_a_warning(
    side: SyncSessionStore,
    client: redis.Redis,
    redis_prefix: str,
    caplog: pytest.LogCaptureFixture,
    value: bytes,
) -> None:
    caplog.set_level(logging.WARNING, logger="passport_py.sessions")
    session_id = new_session_id()
    client.set(redis_prefix + sha256(session_id), value, ex=TTL)
    session = ServerSession.load(session_id, side.get(session_id))
    assert session == {}
    assert session.id is None
    assert session.user is None
    assert tripwire == []
    warnings = [r for r in caplog.records if r.name == "passport_py.sessions"]
    assert [r.levelno for r in warnings] == [logging.WARNING]
    assert session_id not in warnings[0].getMessage()


def test_a_session_key_of_another_redis_type_reads_as_no_session(
    side: SyncSessionStore,
    client: redis.Redis,
    redis_prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="passport_py.sessions")
    client.hset(redis_prefix + sha256("s1"), mapping={"user": "alice", "data": "{}"})
    assert side.get("s1") is None
    assert [r.levelno for r in caplog.records if r.name == "passport_py.sessions"] == [
        logging.WARNING
    ]


# -- logging out everywhere (7.4.5) ----------------------------------------------------------


def add_sessions_of_other_users(client: redis.Redis, prefix: str, users: int, each: int) -> None:
    """Sessions laid out as RedisStore lays them out (checked above), written in one pipeline:
    ten thousand sessions through the store would make this test slow."""
    pipe = client.pipeline(transaction=False)
    for u in range(users):
        index = f"{prefix}user:{sha256(f'other{u}')}"
        for n in range(each):
            key = prefix + sha256(f"other{u}-{n}")
            pipe.set(key, VALUE, ex=TTL)
            pipe.sadd(index, key)
        pipe.expire(index, TTL)
    pipe.execute()


def test_destroy_user_among_10000_other_sessions_is_fast_and_exact(
    side: SyncSessionStore, client: redis.Redis, redis_prefix: str
) -> None:
    add_sessions_of_other_users(client, redis_prefix, users=100, each=100)
    for n in range(50):
        side.set(f"target-{n}", VALUE, TTL, user="target", new=True)
    before = keys_under(client, redis_prefix)
    started = time.perf_counter()
    ended = side.destroy_user("target")
    elapsed = time.perf_counter() - started
    assert ended == 50
    assert elapsed < 1.0
    gone = {redis_prefix + sha256(f"target-{n}") for n in range(50)}
    gone.add(f"{redis_prefix}user:{sha256('target')}")
    assert keys_under(client, redis_prefix) == before - gone
    assert len(before - gone) == 100 * 100 + 100


class AsyncClientPausingAfterIndexRead(redis.asyncio.Redis):
    """A real async client that runs `after_read` between reading an index and using it."""

    after_read: Callable[[], Awaitable[Any]]

    async def smembers(self, name: Any) -> Any:
        members = await super().smembers(name)
        await self.after_read()
        return members


class SyncClientPausingAfterIndexRead(redis.Redis):
    """The sync twin of AsyncClientPausingAfterIndexRead."""

    after_read: Callable[[], Any]

    def smembers(self, name: Any) -> Any:
        members = super().smembers(name)
        self.after_read()
        return members


def test_async_destroy_user_keeps_a_session_added_after_its_index_read(
    redis_store: RedisStore, redis_prefix: str
) -> None:
    pausing = cast(
        AsyncClientPausingAfterIndexRead,
        AsyncClientPausingAfterIndexRead.from_url(redis_helpers.REDIS_URL),
    )
    ending = RedisStore(client=pausing, prefix=redis_prefix)
    pausing.after_read = lambda: redis_store.set("late", VALUE, TTL, user="alice", new=True)

    async def scenario() -> tuple[int, str | None, int]:
        await redis_store.set("early", VALUE, TTL, user="alice", new=True)
        ended = await ending.destroy_user("alice")
        late = await redis_store.get("late")
        ended_again = await redis_store.destroy_user("alice")
        await pausing.aclose()
        await redis_store.aclose()
        return ended, late, ended_again

    assert asyncio.run(scenario()) == (1, VALUE, 1)


def test_sync_destroy_user_keeps_a_session_added_after_its_index_read(
    redis_store: RedisStore, redis_prefix: str
) -> None:
    pausing = cast(
        SyncClientPausingAfterIndexRead,
        SyncClientPausingAfterIndexRead.from_url(redis_helpers.REDIS_URL),
    )
    ending = RedisStore(client=pausing, prefix=redis_prefix)
    pausing.after_read = lambda: redis_store.sync.set("late", VALUE, TTL, user="alice", new=True)
    redis_store.sync.set("early", VALUE, TTL, user="alice", new=True)
    try:
        assert ending.sync.destroy_user("alice") == 1
    finally:
        pausing.close()
    assert redis_store.sync.get("late") == VALUE
    assert redis_store.sync.destroy_user("alice") == 1


# -- a client given for one side -------------------------------------------------------------


def test_an_async_client_serves_the_async_side_and_not_the_sync_one(redis_prefix: str) -> None:
    async def scenario() -> str | None:
        given = redis.asyncio.Redis.from_url(redis_helpers.REDIS_URL)
        store = RedisStore(client=given, prefix=redis_prefix)
        await store.set("s1", VALUE, TTL, new=True)
        value = await store.get("s1")
        with pytest.raises(TypeError, match=r"RedisStore\(url\) or a sync client \(redis\.Redis"):
            store.sync.get("s1")
        await store.aclose()  # leaves the given client to its owner: still usable
        assert await given.exists(redis_prefix + sha256("s1")) == 1
        await given.aclose()
        return value

    assert asyncio.run(scenario()) == VALUE


def test_a_sync_client_serves_the_sync_side_and_not_the_async_one(redis_prefix: str) -> None:
    given = redis.Redis.from_url(redis_helpers.REDIS_URL)
    store = RedisStore(client=given, prefix=redis_prefix)
    try:
        store.sync.set("s1", VALUE, TTL, new=True)
        assert store.sync.get("s1") == VALUE
        with pytest.raises(TypeError, match=r"an async client \(redis\.asyncio\.Redis\)"):
            asyncio.run(store.get("s1"))
    finally:
        given.close()


# -- the pool: max_connections and pool_timeout ---------------------------------------------


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"max_connections": 0}, ValueError, "max_connections must be 1 or more, got 0"),
        ({"max_connections": True}, TypeError, "max_connections must be an int, got True"),
        ({"max_connections": "50"}, TypeError, "max_connections must be an int, got '50'"),
        ({"pool_timeout": 0}, ValueError, "pool_timeout must be above 0 seconds, got 0"),
    ],
)
def test_a_pool_that_cannot_work_is_refused_when_the_store_is_made(
    options: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as caught:
        RedisStore("redis://127.0.0.1:6379/0", **options)
    assert str(caught.value) == message


def test_a_given_client_whose_pool_is_too_small_is_named_in_the_error(redis_prefix: str) -> None:
    async def errors() -> set[str]:
        given = redis.asyncio.Redis.from_url(redis_helpers.REDIS_URL, max_connections=2)
        store = RedisStore(client=given, prefix=redis_prefix, max_connections=8)
        try:
            reads = (store.get(f"s{number}") for number in range(8))
            results = await asyncio.gather(*reads, return_exceptions=True)
        finally:
            await given.aclose()
        return {str(each) for each in results if isinstance(each, SessionStoreUnavailable)}

    assert asyncio.run(errors()) == {
        f"Redis at the Redis client given ({redis_prefix!r}): no free connection in the "
        "client's own pool (Too many connections): give it room for 8 connections "
        "(max_connections)"
    }


# -- Redis unreachable (F1) ------------------------------------------------------------------


@pytest.fixture
def closed_port() -> int:
    return redis_helpers.unused_port()


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_a_closed_port_fails_fast_with_session_store_unavailable(
    closed_port: int, kind: str
) -> None:
    store = RedisStore(f"redis://127.0.0.1:{closed_port}/0")
    started = time.perf_counter()
    error = redis_helpers.unavailable_error(store, kind)
    assert time.perf_counter() - started < 2.0
    assert f"127.0.0.1:{closed_port}" in str(error)


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_the_unavailable_error_never_shows_the_password(closed_port: int, kind: str) -> None:
    store = RedisStore(f"redis://user:secretpw@127.0.0.1:{closed_port}/0")
    error = redis_helpers.unavailable_error(store, kind)
    assert "user:***@127.0.0.1" in str(error)
    assert "secretpw" not in "".join(traceback.format_exception(error))
    assert "secretpw" not in repr(error)


# -- fork safety (R10) -----------------------------------------------------------------------


def test_a_forked_child_uses_connections_of_its_own(redis_store: RedisStore) -> None:
    redis_store.sync.set("parent", VALUE, TTL, new=True)
    parent_connection = redis_store._sync_client().client_id()
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its connection's id, never return into pytest
        code = 1
        try:
            redis_store.sync.set("child", VALUE, TTL, new=True)
            os.write(writer, str(redis_store._sync_client().client_id()).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(writer)
    with os.fdopen(reader) as answer:
        child_connection = int(answer.read() or "0")
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    assert child_connection not in (0, parent_connection)
    assert redis_store._sync_client().client_id() == parent_connection
    assert redis_store.sync.get("child") == VALUE
