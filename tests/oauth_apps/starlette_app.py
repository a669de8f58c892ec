"""The OAuth app (routes in `oauth_apps.common`) in Starlette, on server-side sessions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from oauth_apps.common import (
    API_CALLBACK,
    APP_STATE,
    Browser,
    Directory,
    Framework,
    Reply,
    link,
    same_site,
    session_data,
)
from passport_py import Authenticator
from passport_py.adapters.starlette import (
    PassportMiddleware,
    authenticate,
    authorize,
    is_authenticated,
    login_required,
)
from passport_py.sessions import MemoryStore, SessionMiddleware

COOKIE = "session"
SECRET_KEY = "oauth-apps-starlette-session-secret-1f7e3a9c5b"


def username(request: Request) -> str | None:
    return request.user.username if is_authenticated(request) else None


async def home(request: Request) -> Response:
    return PlainTextResponse(f"hello {username(request) or 'anonymous'}")


async def login_page(request: Request) -> Response:
    return PlainTextResponse("login page")


@authenticate("local")
async def log_in(request: Request) -> Response:
    return JSONResponse({"user": username(request)})


@login_required
async def private(request: Request) -> Response:
    return JSONResponse({"user": username(request)})


async def show_session(request: Request) -> Response:
    return JSONResponse(
        {"id": getattr(request.session, "id", None), "data": session_data(request.session)}
    )


async def cart(request: Request) -> Response:
    request.session["cart"] = (await request.form())["item"]
    return Response(status_code=204)


@authenticate("dev")
async def start(request: Request) -> Response:  # pragma: no cover - always redirects
    return PlainTextResponse("not reached")


@authenticate("dev", response_mode="form_post")
async def start_form_post(request: Request) -> Response:  # pragma: no cover - redirects
    return PlainTextResponse("not reached")


@authenticate("dev", success_return_to_or_redirect="/", failure_redirect="/login")
async def callback(request: Request) -> Response:  # pragma: no cover - always redirects
    return PlainTextResponse("not reached")


@authenticate("dev", callback_url=API_CALLBACK, state=APP_STATE)
async def start_api(request: Request) -> Response:  # pragma: no cover - always redirects
    return PlainTextResponse("not reached")


@authenticate("dev")
async def api_callback(request: Request) -> Response:
    info = request.auth.info if isinstance(request.auth.info, Mapping) else {}
    return JSONResponse({"user": username(request), "state": info.get("state")})


def link_routes(directory: Directory) -> list[Route]:
    @authorize("dev-link")
    async def connect(request: Request) -> Response:  # pragma: no cover - always redirects
        return PlainTextResponse("not reached")

    @login_required
    async def connect_start(request: Request) -> Response:
        # A form on this site starts linking; another site must not (CVE-2015-9284).
        if not same_site(request.headers, request.url.netloc):
            return PlainTextResponse("Forbidden", 403)
        return await connect(request)

    @authorize("dev-link")
    async def connect_callback(request: Request) -> Response:
        account = request.state.account
        assert request.scope["account"] is account
        if not is_authenticated(request):
            return JSONResponse({"error": "log in to link an account"}, 401)
        return JSONResponse(link(directory, request.user, account))

    return [
        Route("/connect/dev", connect_start, methods=["POST"]),
        Route("/connect/dev/callback", connect_callback, methods=["GET", "POST"]),
    ]


class StarletteApp:
    framework: Framework = "starlette"

    def __init__(self, passport: Authenticator[Any], directory: Directory) -> None:
        routes = [
            Route("/", home),
            Route("/login", login_page, methods=["GET"]),
            Route("/login", log_in, methods=["POST"]),
            Route("/private", private),
            Route("/session", show_session),
            Route("/cart", cart, methods=["POST"]),
            Route("/auth/dev", start),
            Route("/auth/dev/form-post", start_form_post),
            Route("/auth/dev/callback", callback, methods=["GET", "POST"]),
            Route("/auth/dev/api", start_api),
            Route("/auth/dev/api/callback", api_callback),
            *link_routes(directory),
        ]
        middleware = [
            Middleware(SessionMiddleware, secret_key=SECRET_KEY, store=MemoryStore()),
            Middleware(PassportMiddleware, passport=passport, login_url="/login"),
        ]
        self.app = Starlette(routes=routes, middleware=middleware)

    def browser(self) -> StarletteBrowser:
        return StarletteBrowser(TestClient(self.app, follow_redirects=False))


class StarletteBrowser(Browser):
    framework: Framework = "starlette"
    client: TestClient

    def session_cookie(self) -> str | None:
        return self.client.cookies.get(COOKIE)

    def _reply(self, response: Any) -> Reply:
        return Reply(response.status_code, response.headers.get("location"), response.text)
