"""Redis stops answering: the session middleware fails closed and recovers on its own.

A real Starlette app (our `SessionMiddleware` over a `RedisStore`, `PassportMiddleware`, the
local strategy) talks to the real Redis through a loopback TCP proxy (tests/tcp_proxy.py).
The proxy either stalls (connections stay open, nothing is answered: requests time out) or
closes (every connection is reset, new ones too), then forwards again. Mirrors
security.md 5.2: F2 (down mid-traffic), F3 (slow: a 503 within the socket timeout), F4 (back
after an outage: no restart) and F7 (a login whose write fails).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from redis_helpers import REDIS_URL
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.testclient import TestClient
from starlette_app import default_routes
from tcp_proxy import Mode, TcpProxy
from users import PASSWORD, User, UserStore

from passport_py import Authenticator, Rejected
from passport_py.adapters.starlette import PassportMiddleware
from passport_py.sessions import SessionMiddleware, SessionStoreUnavailable
from passport_py.sessions.redis import RedisStore
from passport_py.strategies.local import LocalStrategy

SECRET = "fault-tests-secret-9d2e7b4a1c6f3e8b5a0d"
ALICE = {"username": "alice", "password": PASSWORD}
SOCKET_TIMEOUT = 0.2
# A 503 comes after at most a timeout or two of SOCKET_TIMEOUT: well under the 2 s a user
# would notice, with room for a slow CI machine.
BOUND = 1.0
FAULTS: list[Mode] = ["stall", "close"]
# How a Redis SET command starts on the wire (RESP): the proxy cuts the connection there.
SET_COMMAND = b"$3\r\nSET\r\n"
UNAVAILABLE = "session store unavailable, answering 503: "


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def store(proxy: TcpProxy, redis_prefix: str) -> Iterator[RedisStore]:
    """A `RedisStore` reaching Redis only through `proxy`, with short timeouts."""
    store = RedisStore(
        proxied_url(proxy),
        prefix=redis_prefix,
        socket_timeout=SOCKET_TIMEOUT,
        connect_timeout=SOCKET_TIMEOUT,
    )
    yield store
    store.sync_close()


@pytest.fixture
def direct() -> Iterator[redis.Redis]:
    """A client on Redis itself (not through the proxy), to see what was written."""
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def users() -> UserStore:
    return UserStore.default()


# -- helpers --------------------------------------------------------------------------------


def proxied_url(proxy: TcpProxy) -> str:
    """REDIS_URL with the proxy's address in place of Redis's."""
    parts = urlsplit(REDIS_URL)
    userinfo, at, _ = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{userinfo}{at}127.0.0.1:{proxy.port}"))


def shown_url(proxy: TcpProxy) -> str:
    """The proxied URL as errors show it: without its password."""
    parts = urlsplit(proxied_url(proxy))
    if parts.password is None:
        return parts.geturl()
    user = f"{parts.username}:***@" if parts.username else "***@"
    return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{proxy.port}"))


def fault_app(
    store: RedisStore, users: UserStore, on_verify: Callable[[], None] | None = None
) -> Starlette:
    """tests/starlette_app.py's routes behind our SessionMiddleware over `store` and
    PassportMiddleware; `on_verify` runs when a password is checked, i.e. after the session
    was loaded and before it is saved."""

    def verify(username: str, password: str) -> User | Rejected:
        if on_verify is not None:
            on_verify()
        return users.verify(username, password)

    passport: Authenticator[User] = Authenticator()
    passport.use(LocalStrategy(verify))
    passport.serialize_user(lambda user: user.id)
    passport.deserialize_user(users.deserialize)
    return Starlette(
        routes=default_routes(),
        middleware=[
            Middleware(SessionMiddleware, secret_key=SECRET, store=store),
            Middleware(PassportMiddleware, passport=passport, login_url="/login"),
        ],
    )


def client_for(app: Starlette) -> TestClient:
    return TestClient(app, follow_redirects=False)


def log_in(client: TestClient) -> str:
    """Log alice in; returns her session cookie."""
    response = client.post("/login", data=ALICE)
    assert response.status_code == 200, response.text
    assert response.json()["user"] == "alice"
    return str(client.cookies["session"])


def timed(request: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    response = request()
    return response, time.monotonic() - started


def assert_unavailable(response: Any) -> None:
    """The middleware's 503: Retry-After, a text body, no cookie, nothing about anyone."""
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert "session store is not answering" in response.text
    assert "alice" not in response.text
    assert "set-cookie" not in response.headers
    assert "location" not in response.headers


def stored(direct: redis.Redis, prefix: str) -> dict[bytes, Any]:
    """Every key under `prefix` on the real Redis, with its value (strings and sets)."""
    contents: dict[bytes, Any] = {}
    for key in direct.scan_iter(match=f"{prefix}*"):
        kind = direct.type(key)
        contents[key] = direct.smembers(key) if kind == b"set" else direct.get(key)
    return contents


def holding_a_login(contents: dict[bytes, Any], prefix: str) -> list[bytes]:
    """Keys that record somebody logged in: a session owned by a user, or a user's index."""
    index = f"{prefix}user:".encode()
    return [
        key
        for key, value in contents.items()
        if key.startswith(index) or (isinstance(value, bytes) and json.loads(value)["user"])
    ]


# -- a request that needs the store while it is down ------------------------------------------


@pytest.mark.parametrize("fault", FAULTS)
def test_a_logged_in_request_gets_a_prompt_503(
    fault: Mode, proxy: TcpProxy, store: RedisStore, users: UserStore
) -> None:
    with client_for(fault_app(store, users)) as client:
        log_in(client)
        proxy.set_mode(fault)
        response, elapsed = timed(lambda: client.get("/secret"))
    assert_unavailable(response)
    assert elapsed < BOUND


@pytest.mark.parametrize("fault", FAULTS)
def test_a_protected_route_never_answers_200_during_the_outage(
    fault: Mode, proxy: TcpProxy, store: RedisStore, users: UserStore
) -> None:
    with client_for(fault_app(store, users)) as client:
        log_in(client)
        proxy.set_mode(fault)
        statuses = [client.get(path).status_code for path in ("/secret", "/secret-sync")]
    # Not 200 as alice (the user never comes from the cookie alone), nor a 401 or a redirect
    # to the login page as if the session had ended.
    assert statuses == [503, 503]


@pytest.mark.parametrize("fault", FAULTS)
def test_the_outage_is_logged_as_one_clear_error(
    fault: Mode,
    proxy: TcpProxy,
    store: RedisStore,
    users: UserStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with client_for(fault_app(store, users)) as client:
        cookie = log_in(client)
        proxy.set_mode(fault)
        caplog.clear()
        client.get("/secret")
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].name == "passport_py.sessions"
    assert (
        errors[0]
        .getMessage()
        .startswith(f"{UNAVAILABLE}Redis at {shown_url(proxy)} did not answer: ")
    )
    assert cookie not in caplog.text
    assert cookie.split(".")[0] not in caplog.text  # nor the session id it signs


@pytest.mark.parametrize("fault", FAULTS)
def test_a_cookieless_public_page_answers_during_the_outage_without_asking_redis(
    fault: Mode, proxy: TcpProxy, store: RedisStore, users: UserStore
) -> None:
    with client_for(fault_app(store, users)) as visitor:
        proxy.set_mode(fault)
        response, elapsed = timed(lambda: visitor.get("/"))
    assert response.status_code == 200
    assert response.json()["user"] is None
    assert "set-cookie" not in response.headers
    assert elapsed < SOCKET_TIMEOUT  # it did not wait for the store
    assert proxy.accepted == 0  # nor even connect to it


# -- logging in while the store is down ---------------------------------------------------------


@pytest.mark.parametrize("fault", FAULTS)
def test_logging_in_during_the_outage_answers_503_and_logs_nobody_in(
    fault: Mode,
    proxy: TcpProxy,
    store: RedisStore,
    users: UserStore,
    direct: redis.Redis,
    redis_prefix: str,
) -> None:
    with client_for(fault_app(store, users)) as client:
        proxy.set_mode(fault)
        response, elapsed = timed(lambda: client.post("/login/redirect", data=ALICE))
        assert_unavailable(response)  # not the redirect to /welcome
        assert elapsed < BOUND
        proxy.set_mode("forward")
        assert client.get("/").json()["user"] is None
        assert client.get("/secret").status_code == 401
    assert stored(direct, redis_prefix) == {}


@pytest.mark.parametrize("fault", FAULTS)
def test_a_login_whose_save_fails_after_the_load_answers_503_and_writes_nothing(
    fault: Mode,
    proxy: TcpProxy,
    store: RedisStore,
    users: UserStore,
    direct: redis.Redis,
    redis_prefix: str,
) -> None:
    app = fault_app(store, users, on_verify=lambda: proxy.set_mode(fault))
    with client_for(app) as client:
        client.post("/cart")  # a pre-login session, which the login request loads
        before = stored(direct, redis_prefix)
        response = client.post("/login/redirect", data=ALICE)
        assert_unavailable(response)
        assert users.verify_calls == [("alice", PASSWORD)]  # the store failed after the load
        # The pre-login session is as it was; no new session, no index entry for alice.
        assert stored(direct, redis_prefix) == before
        assert holding_a_login(before, redis_prefix) == []
        proxy.set_mode("forward")
        after = client.get("/")
    assert after.status_code == 200
    assert after.json()["user"] is None


@pytest.mark.parametrize("fault", FAULTS)
def test_a_login_whose_new_session_write_is_cut_off_answers_503_and_writes_nothing(
    fault: Mode,
    proxy: TcpProxy,
    store: RedisStore,
    users: UserStore,
    direct: redis.Redis,
    redis_prefix: str,
) -> None:
    with client_for(fault_app(store, users)) as client:
        client.post("/cart")
        # The login's save deletes the pre-login session (answered), then writes the new one:
        # the proxy fails that SET, before Redis sees it.
        proxy.arm(SET_COMMAND, fault)
        response = client.post("/login/redirect", data=ALICE)
        assert_unavailable(response)
        assert stored(direct, redis_prefix) == {}  # the old session ended, no new one
        proxy.set_mode("forward")
        after = client.get("/")
    assert after.json()["user"] is None


# -- Redis back --------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", FAULTS)
def test_the_same_session_is_served_again_as_soon_as_redis_is_back(
    fault: Mode, proxy: TcpProxy, store: RedisStore, users: UserStore
) -> None:
    with client_for(fault_app(store, users)) as client:
        cookie = log_in(client)
        proxy.set_mode(fault)
        assert client.get("/secret").status_code == 503
        proxy.set_mode("forward")
        response = client.get("/secret")
        assert response.status_code == 200
        assert response.json()["user"] == "alice"
        assert "set-cookie" not in response.headers
        assert client.cookies["session"] == cookie


def test_connections_reset_while_idle_are_replaced_without_a_503(
    proxy: TcpProxy, store: RedisStore, users: UserStore
) -> None:
    with client_for(fault_app(store, users)) as client:
        log_in(client)
        connections = proxy.accepted
        # Redis restarts between two requests: the pooled connection is dead, Redis is back.
        proxy.set_mode("close")
        proxy.set_mode("forward")
        response = client.get("/secret")
    assert response.status_code == 200
    assert response.json()["user"] == "alice"
    assert proxy.accepted > connections  # a new connection replaced the reset one


# -- the sync side (what Flask's session interface uses) ----------------------------------------

VALUE = '{"user":null,"data":{"cart":["book"]}}'


@pytest.mark.parametrize("fault", FAULTS)
def test_the_sync_side_raises_session_store_unavailable_within_the_timeout(
    fault: Mode, proxy: TcpProxy, store: RedisStore
) -> None:
    assert store.sync.set("sid", VALUE, 60, new=True)
    proxy.set_mode(fault)
    started = time.monotonic()
    with pytest.raises(SessionStoreUnavailable) as raised:
        store.sync.get("sid")
    assert time.monotonic() - started < BOUND
    assert str(raised.value).startswith(f"Redis at {shown_url(proxy)} did not answer: ")


@pytest.mark.parametrize("fault", FAULTS)
def test_the_sync_side_answers_again_as_soon_as_redis_is_back(
    fault: Mode, proxy: TcpProxy, store: RedisStore
) -> None:
    assert store.sync.set("sid", VALUE, 60, new=True)
    proxy.set_mode(fault)
    with pytest.raises(SessionStoreUnavailable):
        store.sync.get("sid")
    proxy.set_mode("forward")
    assert store.sync.get("sid") == VALUE


def test_the_sync_side_replaces_connections_reset_while_idle(
    proxy: TcpProxy, store: RedisStore
) -> None:
    assert store.sync.set("sid", VALUE, 60, new=True)
    proxy.set_mode("close")
    proxy.set_mode("forward")
    assert store.sync.get("sid") == VALUE
