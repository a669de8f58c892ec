"""Cookies, Vary and remember-me restores in the Starlette adapter, through real Starlette apps.

A decision's cookies and Vary reach the view's response; a failure's cookies reach the answer
built from it; `logout` and `login(..., remember=True)` put theirs on the response the request
ends with; `PassportMiddleware(restore_with=...)` recalls a user for a session without a login.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from session_entries import STARLETTE, identity
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket
from starlette_app import SECRET, session_data
from users import User, UserStore, local_passport

from passport_py import Authenticator, ConfigurationError, SessionRequiredError, Strategy
from passport_py.adapters.starlette import (
    PassportMiddleware,
    authenticate,
    is_authenticated,
    login,
    logout,
)
from passport_py.cookies import Cookie
from passport_py.options import AuthenticateOptions
from passport_py.outcomes import Outcome
from passport_py.request import AuthRequest

#: The attributes the test strategy sets its cookie with; its deletion must repeat them.
RM = Cookie("rm", "", max_age=60, path="/", secure=True, samesite="strict")


class CookieStrategy(Strategy):
    """A remember-me stand-in: cookie `rm=good-<id>` logs user <id> in (not fresh) and is
    rotated; `rm=bad` fails and is deleted; no cookie passes. Logout deletes it."""

    name = "rm"

    def __init__(self, store: UserStore) -> None:
        self.store = store
        self.calls = 0

    def authenticate(self, request: AuthRequest, options: AuthenticateOptions) -> Outcome:
        self.calls += 1
        value = request.cookies.get("rm")
        if value is None:
            return self.pass_()
        user = self.store.deserialize(int(value[5:])) if value[5:].isdigit() else None
        if value.startswith("good-") and user is not None:
            rotated = Cookie("rm", f"good-{user.id}", max_age=60, secure=True, samesite="strict")
            return self.success(user, cookies=(rotated,), fresh=False)
        return self.fail(cookies=(RM.deletion(),))

    def logout(self, request: AuthRequest) -> tuple[Cookie, ...]:
        return (RM.deletion(),)

    async def remember(self, request: AuthRequest, user: User) -> tuple[Cookie, ...]:
        return (Cookie("rm", f"good-{user.id}", max_age=60, secure=True, samesite="strict"),)


class VaryStrategy(Strategy):
    """Authenticates alice from `X-Token: ok` and says so in `Vary`; sets cookie `seen`."""

    name = "token"
    vary = ("X-Token",)

    def __init__(self, store: UserStore) -> None:
        self.store = store

    def authenticate(self, request: AuthRequest, options: AuthenticateOptions) -> Outcome:
        seen = (Cookie("seen", "1"),)
        if request.headers.get("x-token") == "ok":
            return self.success(self.store.users[1], cookies=seen)
        return self.fail("Token", cookies=seen)


# -- the app ------------------------------------------------------------------------------


def who(request: Request) -> dict[str, Any]:
    user = request.user
    return {
        "user": getattr(user, "username", None),
        "authenticated": is_authenticated(request),
        "scopes": sorted(request.auth.scopes),
    }


async def whoami(request: Request) -> Response:
    return JSONResponse(who(request))


@authenticate("token", session=False)
async def token_plain(request: Request) -> Response:
    return JSONResponse(who(request))


@authenticate("token", session=False)
async def token_own_headers(request: Request) -> Response:
    headers = {"vary": "Accept-Encoding, x-token", "cache-control": "private, max-age=5"}
    return PlainTextResponse("ok", headers=headers)


@authenticate("token", session=False)
async def token_vary_star(request: Request) -> Response:
    return PlainTextResponse("ok", headers={"vary": "*"})


@authenticate("token", session=False)
async def token_raises(request: Request) -> Response:
    raise HTTPException(404)


@authenticate("token")
async def token_session(request: Request) -> Response:
    return JSONResponse(who(request))


@authenticate("token", session=False, failure_redirect="/login")
async def token_redirect(request: Request) -> Response:  # pragma: no cover - redirects on failure
    return JSONResponse(who(request))


async def remember_login(request: Request) -> Response:
    await login(request, request.app.state.store.users[1], remember=True)
    return JSONResponse(who(request))


async def stateless_remember(request: Request) -> Response:
    await login(request, request.app.state.store.users[1], session=False, remember=True)
    return JSONResponse({})  # pragma: no cover - login raised


async def log_out(request: Request) -> Response:
    await logout(request)
    return JSONResponse(who(request))


async def socket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json({"user": getattr(websocket.user, "username", None)})
    await websocket.close()


ROUTES = [
    Route("/", whoami),
    Route("/token", token_plain),
    Route("/token/own-headers", token_own_headers),
    Route("/token/vary-star", token_vary_star),
    Route("/token/raises", token_raises),
    Route("/token/redirect", token_redirect),
    Route("/token/session", token_session),
    Route("/login/remember", remember_login, methods=["POST"]),
    Route("/login/stateless-remember", stateless_remember, methods=["POST"]),
    Route("/logout", log_out, methods=["POST"]),
    WebSocketRoute("/ws", socket),
]


@dataclass
class App:
    store: UserStore
    passport: Authenticator[User]
    strategy: CookieStrategy
    client: TestClient

    def set_cookies(self, response: Any) -> list[str]:
        return [v for v in response.headers.get_list("set-cookie") if not v.startswith("session=")]


def build(
    *, restore_with: tuple[str, ...] = (), sessions: bool = True, cache_headers: bool = True
) -> App:
    store = UserStore.default()
    passport = local_passport(store)
    strategy = CookieStrategy(store)
    passport.use(strategy)
    passport.use(VaryStrategy(store))
    middleware = [Middleware(SessionMiddleware, secret_key=SECRET)] if sessions else []
    middleware.append(
        Middleware(
            PassportMiddleware,
            passport=passport,
            restore_with=restore_with,
            cache_headers=cache_headers,
        )
    )
    app = Starlette(routes=ROUTES, middleware=middleware)
    app.state.store = store
    return App(store, passport, strategy, TestClient(app, follow_redirects=False))


@pytest.fixture
def plain() -> Iterator[App]:
    app = build()
    with app.client:
        yield app


@pytest.fixture
def restoring() -> Iterator[App]:
    app = build(restore_with=("rm",))
    with app.client:
        yield app


# -- (a) a Proceed's cookies and Vary -----------------------------------------------------


def test_proceed_cookies_reach_the_views_response(plain: App) -> None:
    response = plain.client.get("/token", headers={"x-token": "ok"})
    assert response.json()["user"] == "alice"
    assert plain.set_cookies(response) == ["seen=1; Path=/; HttpOnly; SameSite=Lax"]


def test_proceed_vary_and_no_store_are_added(plain: App) -> None:
    response = plain.client.get("/token", headers={"x-token": "ok"})
    assert response.headers.get_list("vary") == ["X-Token"]
    assert response.headers["cache-control"] == "no-store"


def test_proceed_vary_merges_with_the_views_vary_and_keeps_its_cache_control(plain: App) -> None:
    response = plain.client.get("/token/own-headers", headers={"x-token": "ok"})
    assert response.headers.get_list("vary") == ["Accept-Encoding, x-token"]
    assert response.headers.get_list("cache-control") == ["private, max-age=5"]


def test_proceed_vary_leaves_a_vary_star_alone(plain: App) -> None:
    response = plain.client.get("/token/vary-star", headers={"x-token": "ok"})
    assert response.headers.get_list("vary") == ["*"]


def test_proceed_cookies_survive_an_http_exception_in_the_view(plain: App) -> None:
    response = plain.client.get("/token/raises", headers={"x-token": "ok"})
    assert response.status_code == 404
    assert plain.set_cookies(response) == ["seen=1; Path=/; HttpOnly; SameSite=Lax"]
    assert response.headers["vary"] == "X-Token"


def test_proceed_vary_joins_the_session_logins_vary_cookie(plain: App) -> None:
    response = plain.client.get("/token/session", headers={"x-token": "ok"})
    assert response.json()["user"] == "alice"
    assert response.headers.get_list("vary") == ["X-Token, Cookie"]
    assert response.headers.get_list("cache-control") == ["no-store"]


def test_an_anonymous_response_gets_no_cache_headers(plain: App) -> None:
    response = plain.client.get("/")
    assert "cache-control" not in response.headers
    assert "vary" not in response.headers


# -- (b) a Respond's cookies --------------------------------------------------------------


def test_failure_cookies_reach_the_401(plain: App) -> None:
    response = plain.client.get("/token")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Token"
    assert response.headers["vary"] == "X-Token"
    assert plain.set_cookies(response) == ["seen=1; Path=/; HttpOnly; SameSite=Lax"]


def test_failure_cookies_reach_the_failure_redirect(plain: App) -> None:
    response = plain.client.get("/token/redirect")
    assert response.status_code == 302
    assert plain.set_cookies(response) == ["seen=1; Path=/; HttpOnly; SameSite=Lax"]


# -- (c) logout, (d) login(..., remember=True) --------------------------------------------


def test_logout_deletes_the_cookie_with_the_attributes_it_was_set_with(plain: App) -> None:
    plain.client.post("/login/remember")
    response = plain.client.post("/logout")
    assert plain.set_cookies(response) == [
        "rm=; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; Secure; HttpOnly; "
        "SameSite=Strict"
    ]
    assert response.headers["cache-control"] == "no-store"


def test_login_with_remember_sets_the_remember_cookie(plain: App) -> None:
    response = plain.client.post("/login/remember")
    assert response.json()["user"] == "alice"
    assert plain.set_cookies(response) == [
        "rm=good-1; Max-Age=60; Path=/; Secure; HttpOnly; SameSite=Strict"
    ]
    assert identity(session_data(plain.client)["passport"], STARLETTE) == {"user": 1}


def test_login_with_remember_but_no_session_login_is_refused(plain: App) -> None:
    with pytest.raises(ConfigurationError, match="remember=True"):
        plain.client.post("/login/stateless-remember")


def test_login_with_remember_needs_a_remembering_strategy() -> None:
    store = UserStore.default()
    # Every strategy the routes name, but none that remembers.
    passport = local_passport(store).use(VaryStrategy(store))
    app = Starlette(
        routes=ROUTES,
        middleware=[
            Middleware(SessionMiddleware, secret_key=SECRET),
            Middleware(PassportMiddleware, passport=passport),
        ],
    )
    app.state.store = store
    with TestClient(app) as client, pytest.raises(ConfigurationError, match="RememberMe"):
        client.post("/login/remember")


def test_without_cache_headers_the_cookies_still_go_out() -> None:
    app = build(cache_headers=False)
    with app.client as client:
        client.post("/login/remember")
        response = client.post("/logout")
    assert app.set_cookies(response)[0].startswith("rm=; expires=Thu, 01 Jan 1970")
    assert "cache-control" not in response.headers


# -- (e) restore_with ---------------------------------------------------------------------


def test_restore_with_recalls_the_user_into_request_user_and_auth(restoring: App) -> None:
    restoring.client.cookies.set("rm", "good-2")
    response = restoring.client.get("/")
    assert response.json() == {"user": "bob", "authenticated": True, "scopes": ["authenticated"]}


def test_a_recalled_login_is_stored_in_the_session_not_fresh(restoring: App) -> None:
    restoring.client.cookies.set("rm", "good-2")
    restoring.client.get("/")
    entry = session_data(restoring.client)["passport"]
    assert identity(entry, STARLETTE) == {"user": 2, "fresh": False}
    restoring.client.cookies.delete("rm")
    assert restoring.client.get("/").json()["user"] == "bob"
    assert restoring.strategy.calls == 1


def test_a_recall_rotates_the_cookie_and_forbids_caching(restoring: App) -> None:
    restoring.client.cookies.set("rm", "good-2")
    response = restoring.client.get("/")
    assert restoring.set_cookies(response) == [
        "rm=good-2; Max-Age=60; Path=/; Secure; HttpOnly; SameSite=Strict"
    ]
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["vary"] == "Cookie"


def test_a_bad_cookie_is_deleted_and_the_request_stays_anonymous(restoring: App) -> None:
    restoring.client.cookies.set("rm", "bad")
    response = restoring.client.get("/")
    assert response.status_code == 200
    assert response.json()["user"] is None
    assert restoring.set_cookies(response)[0].startswith("rm=; expires=Thu, 01 Jan 1970")
    assert response.headers["cache-control"] == "no-store"


def test_without_a_cookie_recall_leaves_the_response_cacheable(restoring: App) -> None:
    response = restoring.client.get("/")
    assert response.json()["user"] is None
    assert restoring.strategy.calls == 1
    assert "cache-control" not in response.headers
    assert restoring.set_cookies(response) == []


def test_a_logged_in_session_is_not_recalled(restoring: App) -> None:
    restoring.client.post("/login/remember")
    restoring.strategy.calls = 0
    restoring.client.cookies.set("rm", "good-2")
    assert restoring.client.get("/").json()["user"] == "alice"
    assert restoring.strategy.calls == 0


def test_a_deleted_user_in_the_session_is_recalled(restoring: App) -> None:
    restoring.client.post("/login/remember")
    del restoring.store.users[1]
    restoring.client.cookies.set("rm", "good-2")
    assert restoring.client.get("/").json()["user"] == "bob"


def test_restore_with_empty_never_runs_the_strategy(plain: App) -> None:
    plain.client.cookies.set("rm", "good-2")
    assert plain.client.get("/").json()["user"] is None
    assert plain.strategy.calls == 0


def test_restore_with_and_no_session_middleware_is_a_configuration_error() -> None:
    app = build(restore_with=("rm",), sessions=False)
    with app.client as client, pytest.raises(SessionRequiredError, match="restore_with"):
        client.get("/")


def test_websockets_are_not_recalled(restoring: App) -> None:
    restoring.client.cookies.set("rm", "good-2")
    with restoring.client.websocket_connect("/ws") as websocket:
        assert websocket.receive_json() == {"user": None}
    assert restoring.strategy.calls == 0
