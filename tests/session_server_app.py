"""A Starlette app on passport_py's server-side sessions, for the session login tests and
the multi-process test.

`build_app(store, secret, users)` wires `SessionMiddleware(store)`, `PassportMiddleware` and
the local strategy over `users.UserStore`. Routes: `POST /login` (form), `GET /whoami`
(`{"user": name or null}`), `POST /logout`, `POST /logout-everywhere` (`{"ended": count}`);
the login tests add `SESSION_ROUTES`, which put data in the session and hold a request open.

`create_app()` builds the same app on a `RedisStore` configured from the environment, for
uvicorn (`--factory session_server_app:create_app --app-dir tests`):
`REDIS_URL` (default the local server), `SESSION_PREFIX` and `SESSION_SECRET` (required:
every process of the app must share them), and `SESSION_STORE_OPTIONS`, more keywords of
`RedisStore` as a JSON object. passport_py's log lines go to stderr as
`<LEVEL> <logger> <message>`.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence

import anyio.to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from users import UserStore, local_passport

from passport_py.adapters.starlette import (
    PassportMiddleware,
    authenticate,
    is_authenticated,
    logout,
    logout_everywhere,
)
from passport_py.sessions import SessionMiddleware, SessionStore
from passport_py.sessions.redis import RedisStore

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
FLASH = [["info", "Please log in"]]


def current_user(request: Request) -> JSONResponse:
    """`{"user": <username>}` for a logged-in request, `{"user": null}` otherwise."""
    name = request.user.username if is_authenticated(request) else None
    return JSONResponse({"user": name})


async def whoami(request: Request) -> Response:
    return current_user(request)


@authenticate("local")
async def login(request: Request) -> Response:
    return current_user(request)


async def logout_endpoint(request: Request) -> Response:
    await logout(request)
    return current_user(request)


async def logout_everywhere_endpoint(request: Request) -> Response:
    ended = await logout_everywhere(request)
    return JSONResponse({"ended": ended})


async def prepare(request: Request) -> Response:
    """Pre-login data: a cart, a return-to URL and a pending flash."""
    request.session.update(cart=["book"], return_to="/orders", flash=FLASH)
    return JSONResponse({"ok": True})


async def add_to_cart(request: Request) -> Response:
    request.session["cart"] = ["pen"]
    return JSONResponse({"ok": True})


async def show_session(request: Request) -> Response:
    return JSONResponse(dict(request.session))


class Gate:
    """Holds `/slow` after it has read (and changed) its session, until the test opens it."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()


async def slow(request: Request) -> Response:
    """Changes the session, then waits at the app's `state.gate` (a `Gate`)."""
    request.session["seen"] = True
    gate: Gate = request.app.state.gate
    gate.entered.set()
    await anyio.to_thread.run_sync(gate.release.wait, 5)
    return JSONResponse({"ok": True})


SESSION_ROUTES = [
    Route("/prepare", prepare, methods=["POST"]),
    Route("/cart", add_to_cart, methods=["POST"]),
    Route("/session", show_session),
    Route("/slow", slow, methods=["POST"]),
]


def build_app(
    store: SessionStore,
    secret: str,
    users: UserStore | None = None,
    routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """The app over `store`, with alice and bob unless `users` is given, plus `routes`."""
    passport = local_passport(users or UserStore.default())
    return Starlette(
        routes=[
            *routes,
            Route("/login", login, methods=["POST"]),
            Route("/whoami", whoami),
            Route("/logout", logout_endpoint, methods=["POST"]),
            Route("/logout-everywhere", logout_everywhere_endpoint, methods=["POST"]),
        ],
        middleware=[
            Middleware(SessionMiddleware, secret_key=secret, store=store),
            Middleware(PassportMiddleware, passport=passport),
        ],
    )


def create_app() -> Starlette:
    """The app on the `RedisStore` the environment names (for uvicorn's `--factory`)."""
    logging.basicConfig(format="%(levelname)s %(name)s %(message)s")
    store = RedisStore(
        os.environ.get("REDIS_URL", DEFAULT_REDIS_URL),
        prefix=os.environ["SESSION_PREFIX"],
        **json.loads(os.environ.get("SESSION_STORE_OPTIONS", "{}")),
    )
    return build_app(store, os.environ["SESSION_SECRET"])
