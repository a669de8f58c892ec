"""Remember-me while the session store is down (docs/remember-me.md).

A browser comes back with only its remember-me cookie; the strategy rotates the token and logs
the user into a new session, but that session cannot be saved (Redis does not answer), so the
response is a 503 without the rotated cookie. The browser still holds the cookie it sent. When
it retries after Redis is back, later than the grace period, that cookie must still let it in:
an outage is not theft. Real apps: Starlette over `SessionMiddleware` and Flask over
`ServerSideSessionInterface`, both on a `RedisStore` reached through tests/tcp_proxy.py, with
`RememberMeStrategy` over an in-memory token table (tests/remember_store.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from app_servers import werkzeug_server
from flask import Flask
from remember_store import RememberStore, remember_passport
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from tcp_proxy import TcpProxy
from users import PASSWORD, User, UserStore

from passport_py import Authenticator
from passport_py.adapters import flask as flask_adapter
from passport_py.adapters import starlette as starlette_adapter
from passport_py.sessions import SessionMiddleware, SessionStore
from passport_py.sessions.redis import RedisStore

SECRET = "remember-me-outage-secret-5e1f9a3c7b2d4e6f"
COOKIE = "remember_me"
#: Seconds the previous validator is still accepted after a rotation (short, for the test).
GRACE = 1
ALICE = {"username": "alice", "password": PASSWORD, "remember_me": "on"}


def starlette_app(passport: Authenticator[User], store: SessionStore) -> Starlette:
    async def whoami(request: Request) -> Response:
        user = request.user if starlette_adapter.is_authenticated(request) else None
        return JSONResponse({"user": getattr(user, "username", None)})

    @starlette_adapter.authenticate("local", remember="remember_me")
    async def login(request: Request) -> Response:
        return await whoami(request)

    return Starlette(
        routes=[Route("/whoami", whoami), Route("/login", login, methods=["POST"])],
        middleware=[
            Middleware(SessionMiddleware, secret_key=SECRET, store=store),
            Middleware(
                starlette_adapter.PassportMiddleware,
                passport=passport,
                restore_with=("remember-me",),
            ),
        ],
    )


def flask_app(passport: Authenticator[User], store: SessionStore) -> Flask:
    app = Flask(__name__)
    app.secret_key = SECRET
    app.session_interface = flask_adapter.ServerSideSessionInterface(store)
    flask_adapter.FlaskPassport(app, passport, restore_with=("remember-me",))

    @app.get("/whoami")
    def whoami() -> Any:
        return {"user": getattr(flask_adapter.current_user, "username", None)}

    @app.post("/login")
    @flask_adapter.authenticate("local", remember="remember_me")
    def login() -> Any:
        return whoami()

    return app


@pytest.fixture(params=["starlette", "flask"])
def site(
    request: pytest.FixtureRequest, proxy: TcpProxy, redis_prefix: str
) -> Iterator[tuple[httpx.Client, RememberStore, TcpProxy]]:
    """A client of the app, its token table, and the proxy between the app and Redis."""
    passport, tokens = remember_passport(UserStore.default(), grace_period=GRACE)
    url = f"redis://127.0.0.1:{proxy.port}/0"
    store = RedisStore(url, prefix=redis_prefix, socket_timeout=0.3, connect_timeout=0.3)
    try:
        if request.param == "starlette":
            with TestClient(starlette_app(passport, store)) as client:
                yield client, tokens, proxy
        else:
            with (
                werkzeug_server(flask_app(passport, store)) as base,
                httpx.Client(base_url=base) as client,
            ):
                yield client, tokens, proxy
    finally:
        store.sync_close()


def visit(client: httpx.Client, remember_me: str) -> httpx.Response:
    """A browser whose session has ended, holding only `remember_me`, asks who it is."""
    client.cookies.clear()
    client.cookies.set(COOKIE, remember_me)
    return client.get("/whoami")


def rotated(response: httpx.Response) -> str | None:
    """The remember-me cookie the response sets, if any."""
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if name == COOKIE:
            return rest.split(";", 1)[0]
    return None


def test_a_recall_whose_session_cannot_be_saved_can_be_retried_after_the_grace_period(
    site: tuple[httpx.Client, RememberStore, TcpProxy],
) -> None:
    client, tokens, proxy = site
    remembered = rotated(client.post("/login", data=ALICE))
    assert remembered

    proxy.set_mode("close")  # Redis stops answering
    response = visit(client, remembered)
    assert response.status_code == 503
    assert "set-cookie" not in response.headers  # the rotated cookie never reached the browser

    proxy.set_mode("forward")  # Redis is back; the browser retries after the grace period
    time.sleep(GRACE + 0.5)
    response = visit(client, remembered)
    assert response.json() == {"user": "alice"}
    renewed = rotated(response)
    assert renewed and renewed != remembered
    assert len(tokens.rows) == 1  # the series lives on

    time.sleep(GRACE + 0.5)
    # The old cookie, once replaced and delivered, is theft: the series ends.
    assert visit(client, remembered).json() == {"user": None}
    assert tokens.rows == {}
    assert visit(client, renewed).json() == {"user": None}
