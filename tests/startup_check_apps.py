"""Apps with a configuration mistake `PassportMiddleware` finds before serving, as uvicorn
factories (`--factory startup_check_apps:NAME --app-dir tests`) and for the in-process tests.

Each factory builds its own `Authenticator` over a fresh `users.UserStore`, so the apps share
nothing. No pytest in here.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from users import UserStore, local_passport

from passport_py.adapters.starlette import PassportMiddleware, authenticate, is_authenticated
from passport_py.sessions import SessionMiddleware as ServerSessionMiddleware

SECRET = "tests-only-secret-key-7c1d9e2f4a6b8c0d"


async def whoami(request: Request) -> Response:
    user = request.user
    return JSONResponse(
        {"user": getattr(user, "username", None), "authenticated": is_authenticated(request)}
    )


@authenticate("local")
async def log_in(request: Request) -> Response:
    return await whoami(request)


@authenticate("locale")  # the typo the checks exist for
async def log_in_misspelt(request: Request) -> Response:  # pragma: no cover - never served
    return await whoami(request)


def fastapi_app(*, passport_first: bool) -> FastAPI:
    """A FastAPI app logging in at `POST /login` and saying who is logged in at `GET /`;
    `passport_first=True` is the right `add_middleware` order (each call wraps the last)."""
    app = FastAPI()
    app.add_route("/", whoami)
    app.add_api_route("/login", log_in, methods=["POST"])  # a FastAPI route
    passport = local_passport(UserStore.default())
    session: dict[str, Any] = {"secret_key": SECRET}
    if passport_first:
        app.add_middleware(PassportMiddleware, passport=passport)
        app.add_middleware(SessionMiddleware, **session)
    else:
        app.add_middleware(SessionMiddleware, **session)
        app.add_middleware(PassportMiddleware, passport=passport)
    return app


def misordered_fastapi() -> FastAPI:
    """`add_middleware(SessionMiddleware)` then `add_middleware(PassportMiddleware)`: the
    session ends up inside Passport's middleware."""
    return fastapi_app(passport_first=False)


def misspelt_strategy() -> Starlette:
    """A route naming `"locale"` where `"local"` is registered."""
    return Starlette(
        routes=[Route("/", whoami), Route("/login", log_in_misspelt, methods=["POST"])],
        middleware=[
            Middleware(SessionMiddleware, secret_key=SECRET),
            Middleware(PassportMiddleware, passport=local_passport(UserStore.default())),
        ],
    )


def not_an_authenticator() -> Starlette:
    """`passport=` given something else than an `Authenticator` (here: the factory)."""
    return Starlette(
        routes=[Route("/", whoami)],
        middleware=[
            Middleware(SessionMiddleware, secret_key=SECRET),
            Middleware(PassportMiddleware, passport=local_passport),
        ],
    )


def short_session_secret() -> Starlette:
    """passport_py's session middleware given a secret shorter than 32 bytes."""
    return Starlette(
        routes=[Route("/", whoami)],
        middleware=[
            Middleware(ServerSessionMiddleware, secret_key="too-short"),
            Middleware(PassportMiddleware, passport=local_passport(UserStore.default())),
        ],
    )
