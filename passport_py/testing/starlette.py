"""Log a user in or out on a Starlette `TestClient` without going through a login form.

    from passport_py.testing.starlette import login, logout

    client = TestClient(app)
    login(client, alice)          # the client's next requests are alice's
    assert client.get("/me").json() == {"user": "alice"}
    logout(client)

The helpers run your app's own middleware (the session middleware and `PassportMiddleware`)
around a tiny endpoint that calls `login` / `logout`, so the session cookie is written by your
session middleware exactly as a real login would write it, whatever session middleware it is.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from passport_py.adapters.starlette import PassportMiddleware
from passport_py.adapters.starlette import login as _login
from passport_py.adapters.starlette import logout as _logout
from passport_py.errors import ConfigurationError

__all__ = ["login", "logout"]

_PATH = "/__passport_py_testing__"


def login(client: TestClient, user: Any, *, fresh: bool = True) -> None:
    """Log `user` in on `client`: its cookie jar then holds a session with `user` logged in."""

    async def do_login(request: Request) -> None:
        await _login(request, user, fresh=fresh)

    _run(client, do_login)


def logout(client: TestClient) -> None:
    """Log the client's user out (the session is regenerated, as `logout` does)."""

    async def do_logout(request: Request) -> None:
        await _logout(request)

    _run(client, do_logout)


def _run(client: TestClient, action: Callable[[Request], Awaitable[None]]) -> None:
    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        await action(Request(scope, receive))
        await Response(status_code=204)(scope, receive, send)

    app = _with_endpoint(client.app, endpoint)
    # No `with`: the app's lifespan (startup, shutdown) must not run for a helper request.
    helper = TestClient(app, base_url=str(client.base_url), cookies=client.cookies)
    response = helper.post(_PATH)
    if response.status_code != 204:
        raise ConfigurationError(
            f"passport_py.testing could not log in through the app's middleware "
            f"(status {response.status_code}): {response.text[:200]}"
        )
    client.cookies = helper.cookies


def _with_endpoint(app: ASGIApp, endpoint: ASGIApp) -> ASGIApp:
    """A copy of the app's middleware chain down to `PassportMiddleware`, which then calls
    `endpoint` instead of the app's routes."""
    build = getattr(app, "build_middleware_stack", None)
    if getattr(app, "middleware_stack", False) is None and callable(build):
        app.middleware_stack = build()  # type: ignore[attr-defined]
    node: Any = getattr(app, "middleware_stack", None) or app
    chain: list[Any] = []
    while node is not None and not isinstance(node, PassportMiddleware):
        chain.append(node)
        node = getattr(node, "app", None)
    if node is None:
        raise ConfigurationError(
            "passport_py.testing found no PassportMiddleware in the client's app: add "
            "Middleware(PassportMiddleware, passport=passport) after the session middleware"
        )
    inner = copy.copy(node)
    inner.app = endpoint
    for middleware in reversed(chain):
        outer = copy.copy(middleware)
        outer.app = inner
        inner = outer
    return inner
