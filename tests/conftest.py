"""Shared pytest fixtures."""

from __future__ import annotations

import asyncio.base_events
import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis_helpers
from behaviour.site import FRAMEWORKS, VARIANT_BY_NAME, VARIANTS, Site
from browser import chromium
from tcp_proxy import TcpProxy
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


@pytest.fixture
def proxy(redis_prefix: str) -> Iterator[TcpProxy]:
    """A tests/tcp_proxy.py `TcpProxy` in front of the real Redis (skipped without Redis,
    failed with CI=true)."""
    parts = urlsplit(redis_helpers.REDIS_URL)
    with TcpProxy(parts.hostname or "127.0.0.1", parts.port or 6379) as proxy:
        yield proxy


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> SessionStore:
    """Each session store in turn: a fresh `MemoryStore`, then a `RedisStore` on the real Redis
    under this test's own prefix."""
    if request.param == "memory":
        return MemoryStore()
    redis_store: RedisStore = request.getfixturevalue("redis_store")
    return redis_store


# -- OAuth 2.0 / OpenID Connect ------------------------------------------------------------
# The fixtures the OAuth test modules share. Their imports are inside them: the bundled
# provider (Authlib, Flask) and the emulators load only for the tests that use them.


@pytest.fixture(scope="module")
def idp() -> Iterator[Any]:
    """The bundled provider of `oauth_fixtures.serve_idp()` for this module (client
    `CLIENT_ID` and the `EXTRA_CLIENTS`, each accepting the callbacks of its `NAMES`; user
    alice), stopped after it. A module that needs another provider defines its own `idp`;
    `honest_idp` serves either."""
    from oauth_fixtures import serve_idp

    yield from serve_idp()


@pytest.fixture
def honest_idp(idp: Any) -> Any:
    """`idp` without faults or recorded requests. A module resets it before every test with
    `pytestmark = pytest.mark.usefixtures("honest_idp")`."""
    from oauth_fixtures import make_honest

    make_honest(idp)
    return idp


@pytest.fixture(scope="module")
def emulator_server() -> Iterator[Any]:
    """tests/provider_emulators.py's `ProviderEmulator` (GitHub and Discord) for this module,
    its client `oauth_helpers.CLIENT_ID`."""
    from oauth_helpers import CLIENT_ID, CLIENT_SECRET
    from provider_emulators import ProviderEmulator

    with ProviderEmulator(CLIENT_ID, CLIENT_SECRET) as server:
        yield server


@pytest.fixture
def emulator(emulator_server: Any) -> Any:
    """This module's `ProviderEmulator`, honest again (reset) for this test."""
    emulator_server.reset()
    return emulator_server


@pytest.fixture(scope="module")
def apps_provider() -> Iterator[Any]:
    """The provider of the framework apps (tests/oauth_apps) for this module: each user
    picks an account and approves on its consent page."""
    from oauth_apps.common import start_provider

    with start_provider() as server:
        yield server


# oauth_apps.common.KINDS, spelled out: importing it here would load the provider everywhere.
@pytest.fixture(params=["oauth2", "oidc"])
def oauth_kind(request: pytest.FixtureRequest) -> str:
    """Each strategy kind of the framework apps in turn."""
    return str(request.param)


@pytest.fixture
def oauth_site(framework: str, oauth_kind: str, apps_provider: Any) -> Iterator[Any]:
    """A fresh framework app (tests/oauth_apps) of each framework and strategy kind."""
    from oauth_apps import site

    with site(framework, oauth_kind, apps_provider) as built:  # type: ignore[arg-type]
        yield built


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One headless Chromium for a test module (skips without Chromium, unless CI=true)."""
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as browser:
        yield browser


@pytest.fixture
def fresh_driver(tmp_path: Path) -> Iterator[Any]:
    """A headless Chromium of its own for one test: no cookies or history from another."""
    with chromium(tmp_path / "chromium-profile") as browser:
        yield browser
