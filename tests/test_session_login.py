"""Passport's login and logout over server-side sessions (`passport_py.sessions`) in a real
Starlette app, against the memory store and the real Redis (security.md P0-7, P0-8, 7.4.1,
7.4.2, 5.1 R7, 5.2 F7)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import httpx2
import pytest
import redis
import redis_helpers
from session_entries import STARLETTE, session_identity
from session_server_app import (
    FLASH,
    SESSION_ROUTES,
    Gate,
    build_app,
    login,
    logout_everywhere_endpoint,
    whoami,
)
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware as CookieSessionMiddleware
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette_app import set_session_cookie
from users import PASSWORD, UserStore, local_passport

from passport_py import ConfigurationError
from passport_py.adapters.starlette import PassportMiddleware
from passport_py.sessions import (
    SessionCookie,
    SessionStore,
    SessionStoreUnavailable,
    SyncSessionStore,
    user_key,
)
from passport_py.sessions.redis import RedisStore

SECRET = "session-login-tests-secret-5f2a9c7e1b3d4a6c"
COOKIE = SessionCookie(SECRET)


# -- a store that loses a reply --------------------------------------------------------


class ReplyLostStore:
    """A real store whose `set` raises `SessionStoreUnavailable` while `losing` is on, after the
    write went through: it simulates the SET reaching Redis and its reply being lost."""

    def __init__(self, inner: SessionStore) -> None:
        self.inner = inner
        self.losing = False

    @property
    def sync(self) -> SyncSessionStore:
        return self.inner.sync

    async def get(self, session_id: str) -> str | None:
        return await self.inner.get(session_id)

    async def set(
        self, session_id: str, value: str, ttl: int, *, user: str | None = None, new: bool = False
    ) -> bool:
        written = await self.inner.set(session_id, value, ttl, user=user, new=new)
        if self.losing:
            raise SessionStoreUnavailable("the reply to SET was lost (test)")
        return written

    async def delete(self, session_id: str, *, user: str | None = None) -> None:
        await self.inner.delete(session_id, user=user)

    async def touch(self, session_id: str, ttl: int, *, user: str | None = None) -> bool:
        return await self.inner.touch(session_id, ttl, user=user)

    async def destroy_user(self, user: str) -> int:
        return await self.inner.destroy_user(user)

    async def aclose(self) -> None:
        close = getattr(self.inner, "aclose", None)
        if close is not None:
            await close()


# -- fixtures and helpers ----------------------------------------------------------------


@pytest.fixture
def users() -> UserStore:
    return UserStore.default()


@pytest.fixture
def app(store: SessionStore, users: UserStore) -> Starlette:
    built = build_app(store, SECRET, users, SESSION_ROUTES)
    built.state.gate = Gate()
    return built


@pytest.fixture
def open_browser(app: Starlette) -> Iterator[Callable[[], TestClient]]:
    """Opens browsers (clients with their own cookie jars) on `app`; closes them afterwards."""
    with ExitStack() as stack:
        yield lambda: stack.enter_context(TestClient(app, follow_redirects=False))


@pytest.fixture
def client(open_browser: Callable[[], TestClient]) -> TestClient:
    return open_browser()


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_helpers.REDIS_URL)
    yield client
    client.close()


def log_in(client: TestClient, username: str = "alice") -> httpx2.Response:
    password = PASSWORD if username == "alice" else "builder"
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    assert response.json() == {"user": username}
    return response


def cookie_value(client: TestClient) -> str:
    value = client.cookies.get("session")
    assert value, "the client holds no session cookie"
    return value


def session_id(value: str) -> str:
    """The session id a signed cookie value carries."""
    read, _ = COOKIE.read([value])
    assert read is not None
    return read


def stored(store: SessionStore, sid: str) -> Any:
    """The store's record for `sid` (`{"user": ..., "data": ...}`), or None."""
    raw = store.sync.get(sid)
    return None if raw is None else json.loads(raw)


def user_of(client: TestClient) -> Any:
    response = client.get("/whoami")
    assert response.status_code == 200, response.text
    return response.json()["user"]


def attributes(set_cookie: str) -> dict[str, str]:
    """A `Set-Cookie`'s attributes (lowercased names) without its value and lifetime."""
    _, *parts = set_cookie.split(";")
    pairs = (part.strip().partition("=") for part in parts)
    return {n.lower(): v for n, _, v in pairs if n.lower() not in ("max-age", "expires")}


def redis_keys(prefix: str, sid: str, user: str) -> tuple[str, str]:
    """(session key, user index key) as RedisStore names them."""
    session_key = prefix + hashlib.sha256(sid.encode()).hexdigest()
    return session_key, f"{prefix}user:{hashlib.sha256(user.encode()).hexdigest()}"


# -- P0-7: login rotates the session id ---------------------------------------------------


def test_login_sets_a_new_session_id_and_deletes_the_pre_login_entry(
    client: TestClient, store: SessionStore
) -> None:
    client.post("/prepare")
    before = cookie_value(client)
    response = log_in(client)
    after = cookie_value(client)
    assert f"session={after};" in response.headers["set-cookie"]
    assert session_id(after) != session_id(before)
    assert stored(store, session_id(before)) is None


def test_the_pre_login_cookie_is_anonymous_after_login(client: TestClient) -> None:
    client.post("/prepare")
    before = cookie_value(client)
    log_in(client)
    set_session_cookie(client, before)
    assert user_of(client) is None
    assert client.get("/session").json() == {}


def test_only_the_return_to_url_and_flashes_survive_login(client: TestClient) -> None:
    client.post("/prepare")
    log_in(client)
    assert session_identity(client.get("/session").json(), STARLETTE) == {
        "return_to": "/orders",
        "flash": FLASH,
        "passport": {"user": 1},
    }


def test_logging_in_as_another_user_starts_over_without_the_first_users_data(
    client: TestClient, store: SessionStore
) -> None:
    log_in(client, "alice")
    client.post("/cart")
    alice_id = session_id(cookie_value(client))
    log_in(client, "bob")
    assert session_id(cookie_value(client)) != alice_id
    assert stored(store, alice_id) is None
    assert session_identity(client.get("/session").json(), STARLETTE) == {"passport": {"user": 2}}


def test_the_stored_session_records_its_owner(client: TestClient, store: SessionStore) -> None:
    log_in(client)
    record = stored(store, session_id(cookie_value(client)))
    assert record["user"] == user_key(1)


def test_the_redis_index_of_the_user_holds_the_session_key(
    redis_store: RedisStore, redis_client: redis.Redis, users: UserStore
) -> None:
    app = build_app(redis_store, SECRET, users)
    with TestClient(app) as client:
        log_in(client)
        session_key, index = redis_keys(redis_store.prefix, session_id(cookie_value(client)), "1")
    assert redis_client.smembers(index) == {session_key.encode()}


# -- P0-8 / 7.4.1: logout ends the session ------------------------------------------------


def test_replaying_the_cookie_captured_before_logout_is_anonymous(
    client: TestClient, store: SessionStore
) -> None:
    log_in(client)
    captured = cookie_value(client)
    assert client.post("/logout").json() == {"user": None}
    assert stored(store, session_id(captured)) is None
    set_session_cookie(client, captured)
    assert user_of(client) is None


def test_logout_removes_the_redis_key_and_its_index_entry(
    redis_store: RedisStore, redis_client: redis.Redis, users: UserStore
) -> None:
    app = build_app(redis_store, SECRET, users)
    with TestClient(app) as client:
        log_in(client)
        session_key, index = redis_keys(redis_store.prefix, session_id(cookie_value(client)), "1")
        assert redis_client.exists(session_key) == 1
        client.post("/logout")
    assert redis_client.exists(session_key) == 0
    assert redis_client.sismember(index, session_key) == 0


def test_logout_deletes_the_cookie_with_its_attributes_and_forbids_caching(
    client: TestClient,
) -> None:
    set_cookie = log_in(client).headers["set-cookie"]
    response = client.post("/logout")
    deletion = response.headers["set-cookie"]
    assert deletion.startswith("session=;")
    assert "Max-Age=0" in deletion
    assert attributes(deletion) == attributes(set_cookie)
    assert attributes(deletion).keys() >= {"path", "httponly", "samesite"}
    assert response.headers["cache-control"] == "no-store"
    assert "session" not in client.cookies


# -- logging out everywhere ---------------------------------------------------------------


def test_logout_everywhere_ends_every_session_of_the_user_and_no_other(
    open_browser: Callable[[], TestClient],
) -> None:
    laptop, phone, bobs = open_browser(), open_browser(), open_browser()
    log_in(laptop)
    log_in(phone)
    log_in(bobs, "bob")
    laptop_cookie = cookie_value(laptop)
    response = laptop.post("/logout-everywhere")
    assert response.status_code == 200
    assert response.json() == {"ended": 2}
    assert user_of(phone) is None
    set_session_cookie(laptop, laptop_cookie)
    assert user_of(laptop) is None
    assert user_of(bobs) == "bob"


def test_logout_everywhere_with_nobody_logged_in_ends_nothing(client: TestClient) -> None:
    response = client.post("/logout-everywhere")
    assert response.status_code == 200
    assert response.json() == {"ended": 0}


def test_logout_everywhere_under_starlettes_cookie_sessions_names_the_fix(
    users: UserStore,
) -> None:
    app = Starlette(
        routes=[
            Route("/login", login, methods=["POST"]),
            Route("/whoami", whoami),
            Route("/logout-everywhere", logout_everywhere_endpoint, methods=["POST"]),
        ],
        middleware=[
            Middleware(CookieSessionMiddleware, secret_key=SECRET),
            Middleware(PassportMiddleware, passport=local_passport(users)),
        ],
    )
    with TestClient(app) as client:
        log_in(client)
        with pytest.raises(ConfigurationError, match=r"passport_py\.sessions\.SessionMiddleware"):
            client.post("/logout-everywhere")


# -- 7.4.2: a deleted user ----------------------------------------------------------------


def test_a_deleted_user_is_anonymous_and_the_stored_owner_is_cleared(
    client: TestClient, store: SessionStore, users: UserStore
) -> None:
    log_in(client)
    ids = {session_id(cookie_value(client))}
    del users.users[1]
    assert user_of(client) is None
    ids.add(session_id(cookie_value(client)))
    for sid in ids:
        record = stored(store, sid)
        assert record is None or record["user"] is None
    # Nothing is indexed under the deleted user: logging them out everywhere ends nothing.
    assert store.sync.destroy_user(user_key(1)) == 0


# -- 5.2 F7: the session write at login fails ---------------------------------------------


def test_a_login_whose_session_write_is_lost_answers_503_and_logs_nobody_in(
    store: SessionStore, users: UserStore, caplog: pytest.LogCaptureFixture
) -> None:
    flaky = ReplyLostStore(store)
    with TestClient(build_app(flaky, SECRET, users, SESSION_ROUTES)) as client:
        client.post("/prepare")
        before = cookie_value(client)
        flaky.losing = True
        response = client.post("/login", data={"username": "alice", "password": PASSWORD})
        flaky.losing = False
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert "set-cookie" not in response.headers
        assert cookie_value(client) == before
        assert user_of(client) is None
    [line] = [r for r in caplog.records if "answering 503" in r.getMessage()]
    assert "the reply to SET was lost" in line.getMessage()


# -- 5.1 R7: a slow request from before login ---------------------------------------------


def test_a_slow_request_from_before_login_neither_revives_nor_replaces_the_session(
    app: Starlette, client: TestClient, store: SessionStore
) -> None:
    gate: Gate = app.state.gate
    client.post("/prepare")
    before = session_id(cookie_value(client))
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(client.post, "/slow")
        assert gate.entered.wait(5)
        log_in(client)
        after = cookie_value(client)
        gate.release.set()
        slow_response = pending.result(timeout=5)
    assert slow_response.status_code == 200
    assert stored(store, before) is None
    assert stored(store, session_id(after))["user"] == user_key(1)
    assert "set-cookie" not in slow_response.headers  # not even a deletion of the new cookie
    assert slow_response.headers["vary"] == "Cookie"
    assert cookie_value(client) == after
    assert user_of(client) == "alice"


# -- logs ---------------------------------------------------------------------------------


def test_logs_never_contain_the_session_id_or_the_password(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client.post("/prepare")
    secrets = [cookie_value(client)]
    log_in(client)
    secrets.append(cookie_value(client))
    client.get("/whoami")
    client.post("/logout")
    set_session_cookie(client, secrets[-1])
    client.get("/whoami")
    secrets += [session_id(value) for value in secrets]
    logged = "\n".join(str(vars(record)) for record in caplog.records)
    assert caplog.records, "nothing was logged: the test would prove nothing"
    for secret in [*secrets, PASSWORD]:
        assert secret not in logged
