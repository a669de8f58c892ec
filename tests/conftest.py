"""Shared pytest fixtures."""

from __future__ import annotations

import asyncio.base_events
import importlib
from collections.abc import Iterator

import pytest
import redis_helpers
from behaviour.site import FRAMEWORKS, VARIANT_BY_NAME, VARIANTS, Site
from users import UserStore

from passport_py.sessions import MemoryStore, SessionStore
from passport_py.sessions.redis import RedisStore


@pytest.fixture
def loops_created(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every event loop constructed while the test runs."""
    created: list[object] = []
    original = asyncio.base_events.BaseEventLoop.__init__

    def counting_init(self: asyncio.base_events.BaseEventLoop) -> None:
        created.append(self)
        original(self)

    monkeypatch.setattr(asyncio.base_events.BaseEventLoop, "__init__", counting_init)
    return created


@pytest.fixture(params=[variant.name for variant in VARIANTS])
def site(request: pytest.FixtureRequest) -> Iterator[Site]:
    """The behaviour app (tests/behaviour/) of each variant in turn, with alice and bob.

    A variant with its sessions in Redis gets a key prefix of the test's own (`redis_prefix`:
    skipped without Redis, failed with CI=true; its keys are deleted afterwards).
    """
    variant = VARIANT_BY_NAME[request.param]
    app = importlib.import_module(variant.module_name)
    store = UserStore.default()
    options = {"redis_prefix": request.getfixturevalue("redis_prefix")} if variant.redis else {}
    with app.make_client(store, **options) as client:
        yield Site(variant.name, variant.framework, store, client, app)


@pytest.fixture(scope="module", params=FRAMEWORKS)
def framework(request: pytest.FixtureRequest) -> str:
    """Each framework's name in turn, for module-scoped clients of tests/behaviour/tokens.py."""
    return str(request.param)


# -- the real Redis server (tests/redis_helpers.py) ---------------------------------------


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own on the real Redis; its keys are deleted afterwards.

    Skips (one line) without a reachable Redis, except with CI=true, where that fails.
    """
    yield from redis_helpers.unique_prefix()


@pytest.fixture
def redis_store(redis_prefix: str) -> Iterator[RedisStore]:
    """A `RedisStore` on the real Redis under this test's own prefix."""
    store = RedisStore(redis_helpers.REDIS_URL, prefix=redis_prefix)
    yield store
    store.sync_close()


@pytest.fixture
def unreachable_store() -> Iterator[RedisStore]:
    """A `RedisStore` pointed at a loopback port nothing listens on: every call meets a real
    connection refusal."""
    store = RedisStore(f"redis://127.0.0.1:{redis_helpers.unused_port()}/0", connect_timeout=0.2)
    yield store
    store.sync_close()


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> SessionStore:
    """Each session store in turn: a fresh `MemoryStore`, then a `RedisStore` on the real Redis
    under this test's own prefix."""
    if request.param == "memory":
        return MemoryStore()
    redis_store: RedisStore = request.getfixturevalue("redis_store")
    return redis_store
