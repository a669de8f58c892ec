"""Anonymous traffic and bots do not fill the session store (docs/sessions.md).

A bot can ask for a `login_required` page (which saves its return-to URL) or start an OAuth
login as often as it likes, each time without a cookie, so each request makes a new session.
Those sessions must not push a logged-in user out of `MemoryStore`, must each stay small, and
must expire within `anonymous_max_age` (the ten minutes a login may take), in `MemoryStore`
and in the real Redis alike; a login then moves the session to its full lifetime. Real apps:
the Starlette app of tests/session_server_app.py (Passport's local strategy over
`SessionMiddleware`), and Flask over `ServerSideSessionInterface`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis
from flask import Flask
from redis_helpers import REDIS_URL
from session_apps import parse_set_cookie, redis_keys, set_cookies
from session_server_app import build_app
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from users import PASSWORD, UserStore, local_passport

from passport_py.adapters.flask import FlaskPassport, ServerSideSessionInterface
from passport_py.adapters.flask import authenticate as flask_authenticate
from passport_py.adapters.flask import current_user as flask_user
from passport_py.adapters.flask import login_required as flask_login_required
from passport_py.adapters.starlette import authenticate, login_required
from passport_py.sessions import MemoryStore, SessionStore
from passport_py.sessions.redis import RedisStore
from passport_py.strategies.oauth2 import OAuth2Strategy

SECRET = "anonymous-sessions-secret-9c2e7f1a4b8d3e6c0a5f"
ALICE = {"username": "alice", "password": PASSWORD}
BROWSER = {"accept": "text/html"}
#: A long query, as a bot would send to make each session large.
LONG_QUERY = "q=" + "x" * 6000
TWO_WEEKS = 14 * 24 * 60 * 60


@login_required
async def private(request: Request) -> Response:
    return PlainTextResponse(f"private page of {request.user.username}")


@authenticate("provider")
async def provider_login(request: Request) -> Response:
    return PlainTextResponse("not reached: the strategy redirects to the provider")


def app_over(store: SessionStore, **options: Any) -> Any:
    """The app with `/private` (login_required) and `/auth/provider` (an OAuth start, which
    keeps a pending request in the session) for anonymous visitors to hit."""
    app = build_app(
        store,
        SECRET,
        routes=[Route("/private", private), Route("/auth/provider", provider_login)],
    )
    passport = app.user_middleware[1].kwargs["passport"]
    passport.use(
        OAuth2Strategy(
            lambda tokens, profile: None,
            authorization_url="https://provider.example/authorize",
            token_url="https://provider.example/token",
            client_id="app",
            client_secret="app-secret",
            callback_url="http://testserver/auth/provider",
            name="provider",
        )
    )
    if options:  # the session middleware's own settings
        app.user_middleware[0].kwargs.update(options)
    return app


def logged_in(client: TestClient) -> str | None:
    user: str | None = client.get("/whoami").json()["user"]
    return user


def bot_requests(app: Any, count: int) -> None:
    """`count` cookie-less browser requests for the private page or an OAuth start, each with
    a long query: sent straight to the ASGI app, 100 at a time, as new visitors (no jar)."""
    transport = httpx.ASGITransport(app=app)

    async def visit(n: int) -> int:
        # Mostly the private page, every tenth an OAuth start.
        path = "/auth/provider" if n % 10 == 0 else "/private"
        url = f"http://testserver{path}?n={n}&{LONG_QUERY}"
        response = await transport.handle_async_request(httpx.Request("GET", url, headers=BROWSER))
        await response.aread()
        return response.status_code

    async def run() -> list[int]:
        statuses: list[int] = []
        for start in range(0, count, 100):
            batch = range(start, min(start + 100, count))
            statuses += await asyncio.gather(*(visit(n) for n in batch))
        return statuses

    assert set(asyncio.run(run())) == {302}


def test_20000_anonymous_requests_do_not_push_a_login_out_of_memory_store() -> None:
    """The issue's case: MemoryStore at its 10,000 cap, 20,000 cookie-less requests."""
    store = MemoryStore()
    app = app_over(store)
    with TestClient(app) as alice:
        assert alice.post("/login", data=ALICE).json() == {"user": "alice"}
        bot_requests(app, 20_000)
        assert logged_in(alice) == "alice"
        assert alice.get("/private").text == "private page of alice"
    # Grown by at most the anonymous quota, each entry small (no 6 KB return-to).
    assert len(store) <= 1 + store.sync.max_anonymous
    sizes = [len(entry[0]) for entry in store.sync._anonymous.entries.values()]
    assert sizes and max(sizes) < 2_200


def test_the_return_to_of_a_long_query_is_its_path() -> None:
    store = MemoryStore()
    with TestClient(app_over(store), follow_redirects=False) as browser:
        response = browser.get(f"/private?{LONG_QUERY}", headers=BROWSER)
        assert response.headers["location"] == "/login?next=%2Fprivate"
        assert browser.get("/private?short=1", headers=BROWSER).headers["location"] == (
            "/login?next=%2Fprivate%3Fshort%3D1"
        )


@pytest.fixture
def redis_store(redis_prefix: str) -> Iterator[RedisStore]:
    store = RedisStore(REDIS_URL, prefix=redis_prefix)
    yield store
    store.sync_close()


def ttls(store: RedisStore) -> dict[bytes, int]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        return {key: int(client.ttl(key)) for key in redis_keys(store)}
    finally:
        client.close()


def test_20000_anonymous_requests_in_redis_expire_within_ten_minutes(
    redis_store: RedisStore,
) -> None:
    """Every session a bot makes carries a TTL of at most 600 s and stays small; alice's login
    keeps its two weeks."""
    app = app_over(redis_store)
    with TestClient(app) as alice:
        alice.post("/login", data=ALICE)
        login_keys = set(redis_keys(redis_store))
        bot_requests(app, 20_000)
        assert logged_in(alice) == "alice"
    lifetimes = ttls(redis_store)
    anonymous = {key: ttl for key, ttl in lifetimes.items() if key not in login_keys}
    assert len(anonymous) == 20_000
    assert all(0 < ttl <= 600 for ttl in anonymous.values())
    assert all(TWO_WEEKS - 3600 < lifetimes[key] <= TWO_WEEKS for key in login_keys)
    client = redis.Redis.from_url(REDIS_URL)
    try:
        assert max(int(client.strlen(key)) for key in list(anonymous)[:500]) < 2_200
    finally:
        client.close()


def test_anonymous_sessions_are_gone_after_anonymous_max_age(redis_store: RedisStore) -> None:
    app = app_over(redis_store, anonymous_max_age=1)
    with TestClient(app) as alice:
        alice.post("/login", data=ALICE)
        login_keys = set(redis_keys(redis_store))
        bot_requests(app, 200)
        assert len(redis_keys(redis_store)) == len(login_keys) + 200
        time.sleep(2.1)
        assert set(redis_keys(redis_store)) == login_keys
        assert logged_in(alice) == "alice"


def test_a_login_moves_the_anonymous_session_to_the_full_lifetime(
    redis_store: RedisStore,
) -> None:
    """Before the login: a 600 s entry and cookie; after it: a new id kept two weeks."""
    with TestClient(app_over(redis_store), follow_redirects=False) as browser:
        response = browser.get("/private", headers=BROWSER)
        [cookie] = set_cookies(response)
        assert "Max-Age=600" in parse_set_cookie(cookie)[2]
        assert [ttl for ttl in ttls(redis_store).values()] == [600]
        response = browser.post("/login", data=ALICE)
        [cookie] = set_cookies(response)
        assert f"Max-Age={TWO_WEEKS}" in parse_set_cookie(cookie)[2]
        lifetimes = [ttl for key, ttl in ttls(redis_store).items() if b"user:" not in key]
        assert len(lifetimes) == 1 and lifetimes[0] > 600


# -- Flask -----------------------------------------------------------------------------------


def flask_app(store: MemoryStore) -> Flask:
    app = Flask(__name__)
    app.secret_key = SECRET
    app.session_interface = ServerSideSessionInterface(store)
    FlaskPassport(app, local_passport(UserStore.default()), login_url="/login")

    @app.post("/login")
    @flask_authenticate("local")
    def login_view() -> Any:
        return {"user": flask_user.username}

    @app.get("/private")
    @flask_login_required
    def private_view() -> Any:
        return {"user": flask_user.username}

    return app


def test_flask_anonymous_requests_do_not_push_a_login_out() -> None:
    store = MemoryStore(max_entries=50, max_anonymous=50)
    app = flask_app(store)
    alice = app.test_client()
    assert alice.post("/login", data=ALICE).json == {"user": "alice"}
    bot = app.test_client(use_cookies=False)
    for n in range(2_000):
        assert bot.get(f"/private?n={n}&{LONG_QUERY}", headers=BROWSER).status_code in (302, 303)
    assert alice.get("/private").json == {"user": "alice"}
    assert len(store) <= 51
