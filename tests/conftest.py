"""Shared pytest fixtures."""

from __future__ import annotations

import asyncio.base_events
import importlib
from collections.abc import Iterator

import pytest
import redis_helpers
from behaviour.site import FRAMEWORKS, Site
from users import UserStore

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


@pytest.fixture(params=FRAMEWORKS)
def site(request: pytest.FixtureRequest) -> Iterator[Site]:
    """The behaviour app (tests/behaviour/) of each framework in turn, with alice and bob."""
    app = importlib.import_module(f"behaviour.{request.param}_app")
    store = UserStore.default()
    with app.make_client(store) as client:
        yield Site(request.param, store, client, app)


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
