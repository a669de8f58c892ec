"""A small real Starlette app wired through passport_py's Starlette adapter, for the tests.

`make_kit()` builds an `Authenticator` with the local strategy over a `users.UserStore` (which
counts `verify` and `deserialize` calls), a Starlette app with `SessionMiddleware` and
`PassportMiddleware`, and a `TestClient` that does not follow redirects. `session_data()`
reads the signed session cookie the way `SessionMiddleware` writes it; `signed_session()`
forges one with the app's key.
"""

from __future__ import annotations

import json
from base64 import b64decode, b64encode
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import itsdangerous
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.testclient import TestClient
from users import PASSWORD, User, UserStore, local_passport

from passport_py import Authenticator
from passport_py.adapters.starlette import (
    PassportMiddleware,
    authenticate,
    is_authenticated,
    login_required,
    logout,
    pop_flashes,
)

SECRET = "tests-only-secret-key-3b9f1c0e5d7a4b2c"


def describe(request: Request, **extra: Any) -> JSONResponse:
    """The request's identity as JSON: who `request.user` is and what `request.auth` holds."""
    user = request.user
    return JSONResponse(
        {
            "user": getattr(user, "username", None),
            "authenticated": is_authenticated(request),
            "starlette_authenticated": bool(getattr(user, "is_authenticated", True)),
            "scopes": sorted(request.auth.scopes),
            **extra,
        }
    )


async def whoami(request: Request) -> Response:
    return describe(request)


@authenticate("local")
async def login_plain(request: Request) -> Response:
    return describe(request)


@authenticate("local", keep_session_info=True)
async def login_keep(request: Request) -> Response:
    return describe(request)


@authenticate("local", success_redirect="/welcome", failure_redirect="/login", failure_flash=True)
async def login_redirect(request: Request) -> Response:  # pragma: no cover - always redirects
    return describe(request)


@authenticate("local", success_return_to_or_redirect="/", failure_redirect="/login")
async def login_return(request: Request) -> Response:  # pragma: no cover - always redirects
    return describe(request)


@authenticate("local", session=False)
async def login_stateless(request: Request) -> Response:
    return describe(request)


@authenticate("local")
def login_sync(request: Request) -> Response:
    return describe(request, endpoint="sync")


async def login_page(request: Request) -> Response:
    return JSONResponse({"flashes": [list(f) for f in pop_flashes(request)]})


async def logout_endpoint(request: Request) -> Response:
    await logout(request)
    return describe(request)


@login_required
async def secret(request: Request) -> Response:
    return describe(request, page="secret")


@login_required
def secret_sync(request: Request) -> Response:
    return describe(request, page="secret-sync")


async def prepare(request: Request) -> Response:
    """Put pre-login data in the session: a cart, a return-to URL and a pending flash."""
    request.session["cart"] = ["book"]
    request.session["return_to"] = "/orders"
    request.session["flash"] = [["info", "Please log in"]]
    return JSONResponse({"ok": True})


async def add_to_cart(request: Request) -> Response:
    request.session["cart"] = ["book"]
    return describe(request)


def default_routes() -> list[BaseRoute]:
    return [
        Route("/", whoami),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login_plain, methods=["POST"]),
        Route("/login/keep", login_keep, methods=["POST"]),
        Route("/login/redirect", login_redirect, methods=["POST"]),
        Route("/login/return", login_return, methods=["POST"]),
        Route("/login/stateless", login_stateless, methods=["POST"]),
        Route("/login/sync", login_sync, methods=["POST"]),
        Route("/logout", logout_endpoint, methods=["POST"]),
        Route("/secret", secret),
        Route("/secret/{rest:path}", secret),
        Route("/secret-sync", secret_sync),
        Route("/prepare", prepare, methods=["POST"]),
        Route("/cart", add_to_cart, methods=["POST"]),
    ]


@dataclass
class Kit:
    """One test's app, its passport, its users and a client for it."""

    app: Starlette
    passport: Authenticator[User]
    store: UserStore
    client: TestClient
    alice: User
    bob: User

    def login(self, username: str = "alice", password: str = PASSWORD) -> Any:
        """POST the login form; asserts it worked and returns the response."""
        response = self.client.post("/login", data={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return response

    def session(self) -> dict[str, Any]:
        return session_data(self.client)


def make_kit(
    routes: Sequence[BaseRoute] = (),
    *,
    sessions: bool = True,
    passport_middleware: bool = True,
    exception_handlers: dict[Any, Any] | None = None,
    passport: Authenticator[User] | None = None,
    store: UserStore | None = None,
) -> Kit:
    """The default routes plus `routes`, behind SessionMiddleware and PassportMiddleware."""
    store = store or UserStore()
    alice = store.add(User(1, "alice"))
    bob = store.add(User(2, "bob", "builder"))
    passport = passport or local_passport(store)
    middleware = []
    if sessions:
        middleware.append(Middleware(SessionMiddleware, secret_key=SECRET))
    if passport_middleware:
        middleware.append(Middleware(PassportMiddleware, passport=passport, login_url="/login"))
    app = Starlette(
        routes=[*routes, *default_routes()],
        middleware=middleware,
        exception_handlers=exception_handlers,
    )
    client = TestClient(app, follow_redirects=False)
    return Kit(app, passport, store, client, alice, bob)


def session_data(client: TestClient, secret: str = SECRET) -> dict[str, Any]:
    """The client's current session, decoded from its signed cookie ({} when it has none)."""
    cookie = client.cookies.get("session")
    if cookie is None:
        return {}
    payload = itsdangerous.TimestampSigner(secret).unsign(cookie.encode())
    data = json.loads(b64decode(payload))
    assert isinstance(data, dict)
    return data


def signed_session(data: Any, secret: str = SECRET) -> str:
    """A session cookie value holding `data`, signed as SessionMiddleware signs it."""
    payload = b64encode(json.dumps(data).encode())
    return itsdangerous.TimestampSigner(secret).sign(payload).decode()


def set_session_cookie(client: TestClient, value: str) -> None:
    """Replace the client's session cookie with `value` (as the app's own cookie would be)."""
    client.cookies.clear()
    client.cookies.set("session", value, domain="testserver.local", path="/")


def passport_user(client: TestClient) -> Any:
    """The serialized user in the client's session, or None."""
    data = session_data(client).get("passport")
    return data.get("user") if isinstance(data, dict) else None
