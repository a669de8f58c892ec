"""The behaviour app (contract in `common.py`) in Starlette."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette_app import signed_session
from users import User, UserStore

from passport_py import AuthResult
from passport_py.adapters.starlette import (
    PassportMiddleware,
    authenticate,
    authorize,
    login_required,
    logout,
    pop_flashes,
)

from .common import LOGIN_FORM, callback_body, make_passport, session_snapshot, username

SECRET = "behaviour-tests-secret-9c41e07b2d"
SESSION_COOKIE = "session"


async def home(request: Request) -> Response:
    return PlainTextResponse(f"hello {username(request.user) or 'anonymous'}")


async def login_page(request: Request) -> Response:
    return PlainTextResponse("login page")


@authenticate("local", **LOGIN_FORM)
async def login_form(request: Request) -> Response:  # pragma: no cover - always redirects
    return PlainTextResponse("unreachable")


@authenticate("local")
async def login_api(request: Request) -> Response:
    return JSONResponse({"user": username(request.user)})


async def flashes(request: Request) -> Response:
    return JSONResponse([list(f) for f in pop_flashes(request)])


@authenticate(["token", "basic"], session=False)
async def api(request: Request) -> Response:
    return JSONResponse({"user": username(request.user)})


async def callback(request: Request, result: AuthResult[User]) -> Response:
    return JSONResponse(callback_body(result))


@authenticate("local", callback=callback)
async def login_callback(request: Request) -> Response:  # pragma: no cover - callback answers
    return PlainTextResponse("unreachable")


@login_required
@authorize("local")
async def link(request: Request) -> Response:
    return JSONResponse(
        {"user": username(request.user), "account": username(request.state.account)}
    )


async def logout_view(request: Request) -> Response:
    await logout(request)
    return RedirectResponse("/", 302)


@login_required
async def private(request: Request) -> Response:
    return JSONResponse({"user": username(request.user)})


@authenticate("sync-custom", session=False)
async def custom_sync(request: Request) -> Response:
    return JSONResponse({"user": username(request.user)})


@authenticate("async-custom", session=False)
async def custom_async(request: Request) -> Response:
    return JSONResponse({"user": username(request.user)})


async def session_view(request: Request) -> Response:
    # passport_py's server-side session has an id; Starlette's cookie session (a dict) has none.
    return JSONResponse(session_snapshot(getattr(request.session, "id", None), request.session))


async def cart(request: Request) -> Response:
    request.session["cart"] = (await request.form()).get("item")
    return Response(status_code=204)


def make_app(store: UserStore, sessions: Middleware | None = None) -> Starlette:
    """The app over `store`'s users, with Starlette's cookie sessions unless `sessions` gives
    another session middleware."""
    if sessions is None:
        sessions = Middleware(SessionMiddleware, secret_key=SECRET)
    return Starlette(
        routes=[
            Route("/", home),
            Route("/login", login_page, methods=["GET"]),
            Route("/login", login_form, methods=["POST"]),
            Route("/login-api", login_api, methods=["POST"]),
            Route("/flashes", flashes),
            Route("/api", api),
            Route("/login-callback", login_callback, methods=["POST"]),
            Route("/link", link, methods=["POST"]),
            Route("/logout", logout_view, methods=["POST"]),
            Route("/private", private),
            Route("/custom/sync", custom_sync),
            Route("/custom/async", custom_async),
            Route("/session", session_view),
            Route("/cart", cart, methods=["POST"]),
        ],
        middleware=[
            sessions,
            Middleware(PassportMiddleware, passport=make_passport(store), login_url="/login"),
        ],
    )


def make_client(store: UserStore) -> httpx.Client:
    return TestClient(make_app(store), follow_redirects=False)


def session_cookie(data: dict[str, Any]) -> str:
    """A session cookie holding `data`, signed as `SessionMiddleware` signs it."""
    return signed_session(data, SECRET)
