"""A user's list of their own sessions (passport_py/sessions/devices.py) against the stores:
MemoryStore and RedisStore (the real Redis), through the async functions (the stores' async
sides) and their `_sync` twins (the sync sides). The same through real apps is in
tests/test_sessions_per_device_apps.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
import redis_helpers

from passport_py import ConfigurationError
from passport_py.events import Events, SessionEnded
from passport_py.sessions import (
    MemoryStore,
    SessionStore,
    UserSession,
    end_other_sessions,
    end_other_sessions_sync,
    end_user_session,
    end_user_session_sync,
    list_user_sessions,
    list_user_sessions_sync,
    session_handle,
    user_key,
)
from passport_py.sessions.redis import RedisStore

TTL = 60
LOGIN = 1_700_000_000


def entry(user: Any, at: int, **extra: Any) -> str:
    """A stored login session as the middleware writes it."""
    return json.dumps(
        {"user": user_key(user), "data": {"passport": {"user": user, "at": at, **extra}}}
    )


class Subject:
    """The devices functions over one side of one store."""

    def __init__(self, store: SessionStore, runner: asyncio.Runner | None) -> None:
        self.store = store
        self.runner = runner

    def add(self, session_id: str, user: Any, at: int, **extra: Any) -> None:
        value = entry(user, at, **extra)
        assert self.store.sync.set(session_id, value, TTL, user=user_key(user), new=True)

    def list(self, user: Any, **options: Any) -> list[UserSession]:
        if self.runner is None:
            return list_user_sessions_sync(self.store, user, **options)
        return self.runner.run(list_user_sessions(self.store, user, **options))

    def end(self, user: Any, handle: Any, **options: Any) -> bool:
        if self.runner is None:
            return end_user_session_sync(self.store, user, handle, **options)
        return self.runner.run(end_user_session(self.store, user, handle, **options))

    def end_others(self, user: Any, **options: Any) -> int:
        if self.runner is None:
            return end_other_sessions_sync(self.store, user, **options)
        return self.runner.run(end_other_sessions(self.store, user, **options))


@pytest.fixture(params=["memory-async", "memory-sync", "redis-async", "redis-sync"])
def subject(request: pytest.FixtureRequest) -> Iterator[Subject]:
    kind, side = request.param.split("-")
    store: MemoryStore | RedisStore
    store = MemoryStore() if kind == "memory" else request.getfixturevalue("redis_store")
    if side == "sync":
        yield Subject(store, None)
        return
    with asyncio.Runner() as runner:
        yield Subject(store, runner)
        if isinstance(store, RedisStore):
            runner.run(store.aclose())


def test_the_list_shows_each_session_of_the_user_newest_first(subject: Subject) -> None:
    subject.add("laptop", 1, LOGIN, seen=LOGIN + 50, ip="10.0.0.1", ua="Firefox")
    subject.add("phone", 1, LOGIN + 10, seen=LOGIN + 20, ip="10.0.0.2", ua="Safari")
    subject.add("bobs", 2, LOGIN + 30, ua="Chrome")
    listed = subject.list(1, current="laptop")
    assert listed == [
        UserSession(
            handle=session_handle("phone"),
            created=datetime.fromtimestamp(LOGIN + 10, UTC),
            last_seen=datetime.fromtimestamp(LOGIN + 20, UTC),
            client_ip="10.0.0.2",
            user_agent="Safari",
            current=False,
        ),
        UserSession(
            handle=session_handle("laptop"),
            created=datetime.fromtimestamp(LOGIN, UTC),
            last_seen=datetime.fromtimestamp(LOGIN + 50, UTC),
            client_ip="10.0.0.1",
            user_agent="Firefox",
            current=True,
        ),
    ]
    assert "laptop" not in repr(listed) and "phone" not in repr(listed)


def test_a_session_without_the_recorded_fields_shows_none(subject: Subject) -> None:
    subject.store.sync.set("bare", '{"user":"1","data":{}}', TTL, user="1", new=True)
    subject.add("odd", 1, "yesterday", seen=True, ip=["x"], ua=7)  # type: ignore[arg-type]
    listed = subject.list(1, limit=5)
    assert {(s.created, s.last_seen, s.client_ip, s.user_agent) for s in listed} == {
        (None, None, None, None)
    }
    assert len(listed) == 2


def test_the_list_keeps_the_newest_within_the_limit(subject: Subject) -> None:
    for n in range(5):
        subject.add(f"s{n}", 1, LOGIN + n)
    assert [s.handle for s in subject.list(1, limit=2)] == [
        session_handle("s4"),
        session_handle("s3"),
    ]


def test_ending_one_session_by_its_handle_leaves_the_others(subject: Subject) -> None:
    subject.add("laptop", 1, LOGIN)
    subject.add("phone", 1, LOGIN + 1)
    assert subject.end(1, session_handle("phone"), current="laptop") is True
    assert subject.store.sync.get("phone") is None
    assert subject.store.sync.get("laptop") is not None
    assert subject.end(1, session_handle("phone"), current="laptop") is False  # already gone


def test_a_handle_of_another_users_session_ends_nothing(subject: Subject) -> None:
    subject.add("laptop", 1, LOGIN)
    subject.add("bobs", 2, LOGIN)
    assert subject.end(1, session_handle("bobs"), current="laptop") is False
    assert subject.store.sync.get("bobs") is not None


@pytest.mark.parametrize(
    "handle", ["", "short", "x" * 23, "a" * 10_000, "../../etc/passwd!!!!!!", None, 7, "é" * 22]
)
def test_a_malformed_handle_ends_nothing(subject: Subject, handle: Any) -> None:
    subject.add("phone", 1, LOGIN)
    assert subject.end(1, handle) is False
    assert subject.store.sync.get("phone") is not None


def test_the_current_session_is_not_ended_by_handle(subject: Subject) -> None:
    subject.add("laptop", 1, LOGIN)
    assert subject.end(1, session_handle("laptop"), current="laptop") is False
    assert subject.store.sync.get("laptop") is not None


def test_ending_the_other_sessions_keeps_only_the_current(subject: Subject) -> None:
    for name in ("laptop", "phone", "tablet"):
        subject.add(name, 1, LOGIN)
    subject.add("bobs", 2, LOGIN)
    assert subject.end_others(1, current="laptop") == 2
    assert [s.current for s in subject.list(1, current="laptop")] == [True]
    assert subject.store.sync.get("bobs") is not None


def test_events_report_what_ended_by_the_user(subject: Subject) -> None:
    events = Events()
    seen: list[SessionEnded] = []
    events.on(SessionEnded, seen.append)
    for name in ("laptop", "phone", "tablet"):
        subject.add(name, 1, LOGIN)
    subject.end(1, session_handle("phone"), current="laptop", events=events)
    subject.end(1, session_handle("bobs"), current="laptop", events=events)  # nothing: no event
    subject.end_others(1, current="laptop", events=events)
    subject.end_others(1, current="laptop", events=events)  # nothing left: no event
    assert [(e.user_id, e.by, e.count) for e in seen] == [
        (1, "ended_by_user", 1),
        (1, "ended_by_user", 1),
    ]


class OldStore:
    """A third-party store written before the per-device list existed."""

    def __init__(self) -> None:
        self.sync = self

    def get(self, session_id: str) -> str | None:
        return None


@pytest.mark.parametrize("side", ["async", "sync"])
def test_a_store_that_cannot_list_sessions_names_what_to_add(side: str) -> None:
    store: Any = OldStore()
    with pytest.raises(ConfigurationError, match=r"OldStore .*sessions_of\(user\)"):
        if side == "sync":
            list_user_sessions_sync(store, 1)
        else:
            asyncio.run(list_user_sessions(store, 1))


# -- Redis: its per-user set ------------------------------------------------------------------


def index_members(store: RedisStore, user: str) -> set[bytes]:
    client = redis.Redis.from_url(redis_helpers.REDIS_URL)
    try:
        return set(client.smembers(store._keys.user(user)))
    finally:
        client.close()


def test_redis_listing_drops_index_entries_of_sessions_gone(redis_store: RedisStore) -> None:
    subject = Subject(redis_store, None)
    subject.add("laptop", 1, LOGIN)
    subject.add("phone", 1, LOGIN)
    client = redis.Redis.from_url(redis_helpers.REDIS_URL)
    try:
        client.delete(redis_store._keys.session("phone"))  # expired, say
    finally:
        client.close()
    assert len(index_members(redis_store, "1")) == 2
    assert [s.handle for s in subject.list(1)] == [session_handle("laptop")]
    assert index_members(redis_store, "1") == {redis_store._keys.session("laptop").encode()}


def test_redis_reads_a_bounded_number_of_sessions(
    redis_store: RedisStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("passport_py.sessions._redis_plans.MAX_READ", 3)
    subject = Subject(redis_store, None)
    for n in range(5):
        subject.add(f"s{n}", 1, LOGIN + n)
    assert len(redis_store.sync.sessions_of("1")) == 3
    # Ending them all is not bounded by what a list reads.
    assert subject.end_others(1, current=None) == 5
