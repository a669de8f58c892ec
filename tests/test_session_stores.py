"""The session store contract (passport_py/sessions/stores.py), run against four sides:
MemoryStore and RedisStore (the real Redis), each async and through `.sync`. Then what only
MemoryStore promises: bounded, purged, warned about, thread-safe.

Redis-only behaviour (key names, foreign values, failures) is in tests/test_session_redis.py.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from store_sides import AsyncSide, Clock, redis_advance

import passport_py.sessions.memory
from passport_py.sessions import (
    MemoryStore,
    SessionStore,
    SyncSessionStore,
    destroy_user_sessions,
    destroy_user_sessions_sync,
    user_key,
)
from passport_py.sessions.redis import RedisStore

VALUE = '{"user":null,"data":{"n":1}}'
OTHER = '{"user":null,"data":{"n":2}}'
TTL = 60


@dataclass
class Subject:
    """One side of one store: `side` is what the contract calls, `advance` lets time pass."""

    store: SessionStore
    side: SyncSessionStore
    advance: Callable[[float], None]
    runner: asyncio.Runner | None  # None: the sync side

    def destroy_user_sessions(self, serialized_user: Any) -> int:
        if self.runner is None:
            return destroy_user_sessions_sync(self.store, serialized_user)
        return self.runner.run(destroy_user_sessions(self.store, serialized_user))


@pytest.fixture(params=["memory-async", "memory-sync", "redis-async", "redis-sync"])
def subject(request: pytest.FixtureRequest) -> Iterator[Subject]:
    kind, side = request.param.split("-")
    store: MemoryStore | RedisStore
    advance: Callable[[float], None]
    if kind == "memory":
        clock = Clock()
        store = MemoryStore(clock=clock)
        advance = clock.advance
    else:
        store = request.getfixturevalue("redis_store")
        advance = redis_advance(request.getfixturevalue("redis_prefix"))
    if side == "sync":
        yield Subject(store, store.sync, advance, None)
        return
    with asyncio.Runner() as runner:
        yield Subject(store, AsyncSide(store, runner), advance, runner)
        if isinstance(store, RedisStore):
            runner.run(store.aclose())


# -- get / set -------------------------------------------------------------------------------


def test_get_of_an_unknown_id_is_none(subject: Subject) -> None:
    assert subject.side.get("never-issued") is None


def test_set_new_creates_the_entry(subject: Subject) -> None:
    assert subject.side.set("s1", VALUE, TTL, new=True) is True
    assert subject.side.get("s1") == VALUE


def test_set_new_refuses_an_id_in_use_and_keeps_its_value(subject: Subject) -> None:
    subject.side.set("s1", VALUE, TTL, new=True)
    assert subject.side.set("s1", OTHER, TTL, new=True) is False
    assert subject.side.get("s1") == VALUE


def test_set_new_may_reuse_an_expired_id(subject: Subject) -> None:
    subject.side.set("s1", VALUE, TTL, new=True)
    subject.advance(TTL + 1)
    assert subject.side.set("s1", OTHER, TTL, new=True) is True
    assert subject.side.get("s1") == OTHER


def test_set_replace_overwrites_an_existing_entry(subject: Subject) -> None:
    subject.side.set("s1", VALUE, TTL, new=True)
    assert subject.side.set("s1", OTHER, TTL) is True
    assert subject.side.get("s1") == OTHER


def test_set_replace_of_an_absent_id_writes_nothing(subject: Subject) -> None:
    assert subject.side.set("s1", VALUE, TTL, new=False) is False
    assert subject.side.get("s1") is None


def test_set_replace_cannot_resurrect_an_expired_session(subject: Subject) -> None:
    subject.side.set("s1", VALUE, TTL, new=True)
    subject.advance(TTL + 1)
    assert subject.side.set("s1", OTHER, TTL) is False
    assert subject.side.get("s1") is None


def test_set_replace_cannot_resurrect_a_deleted_session(subject: Subject) -> None:
    subject.side.set("s1", VALUE, TTL, new=True)
    subject.side.delete("s1")
    assert subject.side.set("s1", OTHER, TTL) is False
    assert subject.side.get("s1") is None


# -- TTL, delete, touch ----------------------------------------------------------------------


def test_an_entry_lives_for_the_ttl_given_with_its_write(subject: Subject) -> None:
    subject.side.set("s1", VALUE, TTL, new=True)
    subject.advance(TTL - 1)
    assert subject.side.get("s1") == VALUE
    subject.advance(2)
    assert subject.side.get("s1") is None


def test_a_replace_starts_the_ttl_again(subject: Subject) -> None:
    subject.side.set("s1", VALUE, TTL, new=True)
    subject.advance(TTL - 10)
    subject.side.set("s1", OTHER, TTL)
    subject.advance(TTL - 10)
    assert subject.side.get("s1") == OTHER


def test_delete_removes_the_entry(subject: Subject) -> None:
    subject.side.set("s1", VALUE, TTL, new=True)
    subject.side.delete("s1")
    assert subject.side.get("s1") is None


def test_delete_of_an_unknown_id_does_nothing(subject: Subject) -> None:
    subject.side.set("s1", VALUE, TTL, new=True)
    subject.side.delete("never-issued", user="alice")
    assert subject.side.get("s1") == VALUE


def test_touch_extends_the_entry_without_changing_it(subject: Subject) -> None:
    subject.side.set("s1", VALUE, TTL, user="alice", new=True)
    subject.advance(TTL - 10)
    assert subject.side.touch("s1", TTL, user="alice") is True
    subject.advance(TTL - 10)
    assert subject.side.get("s1") == VALUE
    subject.advance(11)
    assert subject.side.get("s1") is None


def test_touch_of_an_absent_or_expired_entry_is_false(subject: Subject) -> None:
    assert subject.side.touch("never-issued", TTL) is False
    subject.side.set("s1", VALUE, TTL, new=True)
    subject.advance(TTL + 1)
    assert subject.side.touch("s1", TTL) is False
    assert subject.side.get("s1") is None


# -- the per-user index: logging out everywhere ----------------------------------------------


def test_destroy_user_ends_exactly_that_users_sessions(subject: Subject) -> None:
    side = subject.side
    for session_id, user in [("a1", "alice"), ("a2", "alice"), ("b1", "bob"), ("n1", None)]:
        side.set(session_id, VALUE, TTL, user=user, new=True)
    assert side.destroy_user("alice") == 2
    assert (side.get("a1"), side.get("a2")) == (None, None)
    assert (side.get("b1"), side.get("n1")) == (VALUE, VALUE)
    assert side.destroy_user("alice") == 0


def test_destroy_user_of_a_user_without_sessions_is_zero(subject: Subject) -> None:
    subject.side.set("b1", VALUE, TTL, user="bob", new=True)
    assert subject.side.destroy_user("alice") == 0
    assert subject.side.get("b1") == VALUE


def test_destroy_user_counts_only_live_sessions(subject: Subject) -> None:
    side = subject.side
    side.set("old", VALUE, 10, user="alice", new=True)
    subject.advance(11)
    side.set("ended", VALUE, TTL, user="alice", new=True)
    side.delete("ended", user="alice")
    side.set("live", VALUE, TTL, user="alice", new=True)
    assert side.destroy_user("alice") == 1
    assert side.get("live") is None


def test_a_session_created_after_destroy_user_is_kept_and_indexed(subject: Subject) -> None:
    side = subject.side
    side.set("a1", VALUE, TTL, user="alice", new=True)
    side.destroy_user("alice")
    side.set("a2", VALUE, TTL, user="alice", new=True)
    assert side.get("a2") == VALUE
    assert side.destroy_user("alice") == 1


def test_a_replace_keeps_the_session_in_its_users_index(subject: Subject) -> None:
    subject.side.set("a1", VALUE, TTL, user="alice", new=True)
    subject.side.set("a1", OTHER, TTL, user="alice")
    assert subject.side.destroy_user("alice") == 1


def test_destroy_user_sessions_takes_the_serialized_user(subject: Subject) -> None:
    owner = {"id": 7, "org": "acme"}
    subject.side.set("a1", VALUE, TTL, user=user_key(owner), new=True)
    subject.side.set("a2", VALUE, TTL, user=user_key(owner), new=True)
    subject.side.set("b1", VALUE, TTL, user=user_key(8), new=True)
    assert subject.destroy_user_sessions({"org": "acme", "id": 7}) == 2
    assert subject.side.get("b1") == VALUE
    assert subject.destroy_user_sessions(8) == 1


def test_destroy_user_sessions_sync_accepts_a_stores_sync_side(subject: Subject) -> None:
    subject.side.set("a1", VALUE, TTL, user=user_key(7), new=True)
    assert destroy_user_sessions_sync(subject.store.sync, 7) == 1
    assert subject.side.get("a1") is None


# -- user_key --------------------------------------------------------------------------------


def test_user_key_of_a_string_or_an_integer_is_the_id_itself() -> None:
    assert user_key("alice") == "alice"
    assert user_key(42) == "42"
    assert user_key(0) == "0"


def test_user_key_of_a_bool_is_not_the_key_of_an_integer() -> None:
    assert user_key(True) == "true"
    assert user_key(True) != user_key(1)
    assert user_key(False) != user_key(0)


def test_user_key_of_a_dict_is_canonical_json_whatever_its_key_order() -> None:
    assert user_key({"kind": "a", "id": 1}) == user_key({"id": 1, "kind": "a"})
    assert user_key({"id": 1, "kind": "a"}) == '{"id":1,"kind":"a"}'
    assert user_key(["google", "sub-1"]) == '["google","sub-1"]'
    assert user_key(1.5) == "1.5"


# -- MemoryStore only ------------------------------------------------------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_memory_store_needs_room_for_one_entry() -> None:
    with pytest.raises(ValueError, match="max_entries >= 1"):
        MemoryStore(max_entries=0)


def test_memory_store_when_full_drops_the_oldest_write(clock: Clock) -> None:
    store = MemoryStore(max_entries=3, clock=clock).sync
    for session_id in ["a", "b", "c"]:
        store.set(session_id, VALUE, TTL, new=True)
    store.set("a", OTHER, TTL)  # a replace is a write: "a" is now the newest
    store.set("d", VALUE, TTL, new=True)
    assert store.get("b") is None
    assert [store.get(s) for s in ["a", "c", "d"]] == [OTHER, VALUE, VALUE]
    assert len(store) == 3


def test_memory_store_eviction_drops_the_index_entry_too(clock: Clock) -> None:
    store = MemoryStore(max_entries=2, clock=clock).sync
    store.set("a", VALUE, TTL, user="alice", new=True)
    store.set("b", VALUE, TTL, user="bob", new=True)
    store.set("c", VALUE, TTL, user="bob", new=True)  # evicts alice's "a"
    # The evicted id taken again by carol: alice's index must not point at it any more.
    assert store.set("a", OTHER, TTL, user="carol", new=True) is True
    assert store.destroy_user("alice") == 0
    assert store.get("a") == OTHER


def test_memory_store_purges_expired_entries_from_the_front(clock: Clock) -> None:
    store = MemoryStore(clock=clock).sync
    store.set("a", VALUE, TTL, user="alice", new=True)
    store.set("b", VALUE, TTL, new=True)
    clock.advance(10)
    store.set("c", VALUE, TTL, new=True)
    clock.advance(TTL - 5)  # "a" and "b" have expired, unread; "c" has not
    store.set("d", VALUE, TTL, new=True)
    assert len(store) == 2
    assert store._users == {}  # alice's index entry went with "a"


def test_memory_store_stays_bounded_over_many_writes(clock: Clock) -> None:
    store = MemoryStore(max_entries=100, clock=clock).sync
    for n in range(10_000):
        store.set(f"s{n}", VALUE, TTL, user=f"user{n % 1000}", new=True)
        clock.advance(0.001)
    assert len(store) == 100
    # The index holds exactly the live entries, not every id ever written.
    assert sum(len(ids) for ids in store._users.values()) == 100


def test_memory_store_warns_once_per_process(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(passport_py.sessions.memory, "_warned", False)
    caplog.set_level(logging.WARNING, logger="passport_py.sessions")
    MemoryStore()
    MemoryStore()
    warnings = [r for r in caplog.records if r.name == "passport_py.sessions"]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    assert "RedisStore" in warnings[0].getMessage()


@pytest.fixture
def busy_threads() -> Iterator[None]:
    """Switch threads as often as possible, to widen race windows."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def test_memory_store_under_many_threads_ends_exactly_each_users_sessions(
    clock: Clock, busy_threads: None
) -> None:
    store = MemoryStore(clock=clock).sync

    def user_traffic(n: int) -> None:
        user = f"user{n}"
        for step in range(200):
            session_id = f"{n}-{step}"
            assert store.set(session_id, VALUE, TTL, user=user, new=True)
            assert store.get(session_id) == VALUE
            assert store.set(session_id, OTHER, TTL, user=user)
            assert store.touch(session_id, TTL, user=user)
            if step % 60 == 59:
                assert store.destroy_user(user) == 60

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(user_traffic, range(16)))
    # Each user's last 20 sessions (steps 180-199) remain, and only theirs.
    assert len(store) == 16 * 20
    assert [store.destroy_user(f"user{n}") for n in range(16)] == [20] * 16
    assert len(store) == 0
    assert store._users == {}


def test_memory_store_under_many_threads_keeps_its_index_consistent(
    clock: Clock, busy_threads: None
) -> None:
    store = MemoryStore(max_entries=300, clock=clock).sync  # eviction races too

    def user_traffic(n: int) -> None:
        for step in range(300):
            session_id = f"{n}-{step}"
            store.set(session_id, VALUE, TTL, user=f"user{n % 4}", new=True)
            store.get(f"{n}-{step // 2}")
            store.set(session_id, OTHER, TTL, user=f"user{(n + step) % 4}")
            if step % 25 == 0:
                store.destroy_user(f"user{step % 4}")
            if step % 7 == 0:
                store.delete(f"{n}-{step - 3}")

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(user_traffic, range(16)))
    assert len(store) <= 300
    # Every index entry is a live entry of that user, and every owned entry is indexed.
    indexed = {(user, s) for user, ids in store._users.items() for s in ids}
    owned = {(entry[1], s) for s, entry in store._logins.entries.items()}
    assert indexed == owned
    assert all(store._users.values())
