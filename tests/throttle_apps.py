"""One small login app per framework (Starlette, FastAPI, Flask, Django) over a passport with
a `LoginThrottle`, for tests/test_throttle_web.py.

`throttle_passport(store, throttle)` registers the local strategy and `BasicStrategy`, both
verifying against `users.UserStore` (which counts verify calls). Every app serves:

| route                | what it does                                                        |
|----------------------|---------------------------------------------------------------------|
| POST /login          | authenticate("local"); JSON `{"user": username}`                    |
| POST /login/form     | authenticate("local", failure_redirect="/login", failure_flash=True, |
|                      |   success_redirect="/")                                             |
| GET  /login          | JSON `{"flashes": [[category, message], ...]}` (the login page)     |
| GET  /api            | authenticate("basic", session=False); JSON `{"user": username}`     |
| POST /login/callback | authenticate("local", callback=...); JSON `{"ok", "status",         |
|                      |   "challenge"}` (not FastAPI, whose dependencies take no callback)  |

`client(framework, passport, ip)` is an httpx client for that framework's app, as seen from
client address `ip`; `clients(...)` gives several addresses one app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import django_project  # noqa: F401 - configures Django before the imports below use it
import httpx
from django.contrib.messages import get_messages
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django_project import passports
from fastapi import Depends, FastAPI
from flask import Flask, get_flashed_messages
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from users import User, UserStore, local_passport

from passport_py import Authenticator, AuthResult
from passport_py.adapters import django as django_adapter
from passport_py.adapters import fastapi as fastapi_adapter
from passport_py.adapters import flask as flask_adapter
from passport_py.adapters import starlette as starlette_adapter
from passport_py.strategies.http import BasicStrategy
from passport_py.throttle import LoginThrottle

FRAMEWORKS = ["starlette", "fastapi", "flask", "django"]
SECRET = "throttle-tests-secret-4f8a2c6e1b9d3a7c"
FORM = {"failure_redirect": "/login", "failure_flash": True, "success_redirect": "/"}


def throttle_passport(store: UserStore, throttle: LoginThrottle | None) -> Authenticator[User]:
    passport = local_passport(store)
    passport.use(BasicStrategy(store.verify))
    passport.throttle = throttle
    return passport


def name_of(user: Any) -> str | None:
    return user.username if isinstance(user, User) else None


def callback_body(result: AuthResult[Any]) -> dict[str, Any]:
    return {"ok": result.ok, "status": result.status, "challenge": result.challenge}


# -- Starlette ------------------------------------------------------------------------------


def starlette_app(passport: Authenticator[User]) -> Starlette:
    authenticate = starlette_adapter.authenticate

    @authenticate("local")
    async def login(request: Request) -> Response:
        return JSONResponse({"user": name_of(request.user)})

    @authenticate("local", **FORM)
    async def login_form(request: Request) -> Response:  # pragma: no cover - redirects
        return RedirectResponse("/", 302)

    async def login_page(request: Request) -> Response:
        return JSONResponse({"flashes": [list(f) for f in starlette_adapter.pop_flashes(request)]})

    @authenticate("basic", session=False)
    async def api(request: Request) -> Response:
        return JSONResponse({"user": name_of(request.user)})

    async def answer(request: Request, result: AuthResult[Any]) -> Response:
        return JSONResponse(callback_body(result))

    @authenticate("local", callback=answer)
    async def login_callback(request: Request) -> Response:  # pragma: no cover - callback
        return Response()

    return Starlette(
        routes=[
            Route("/login", login, methods=["POST"]),
            Route("/login/form", login_form, methods=["POST"]),
            Route("/login", login_page),
            Route("/api", api),
            Route("/login/callback", login_callback, methods=["POST"]),
        ],
        middleware=[
            Middleware(SessionMiddleware, secret_key=SECRET),
            Middleware(starlette_adapter.PassportMiddleware, passport=passport),
        ],
    )


# -- FastAPI --------------------------------------------------------------------------------


LOCAL = Depends(fastapi_adapter.authenticate("local"))
LOCAL_FORM = Depends(fastapi_adapter.authenticate("local", **FORM))
BASIC = Depends(fastapi_adapter.authenticate("basic", session=False))


def fastapi_app(passport: Authenticator[User]) -> FastAPI:
    app = FastAPI()

    @app.post("/login")
    async def login(user: User = LOCAL) -> dict[str, Any]:
        return {"user": name_of(user)}

    @app.post("/login/form")
    async def login_form(user: User = LOCAL_FORM) -> Response:
        return RedirectResponse("/", 302)

    @app.get("/login")
    async def login_page(request: Request) -> dict[str, Any]:
        return {"flashes": [list(f) for f in starlette_adapter.pop_flashes(request)]}

    @app.get("/api")
    async def api(user: User = BASIC) -> dict[str, Any]:
        return {"user": name_of(user)}

    app.add_middleware(fastapi_adapter.PassportMiddleware, passport=passport)
    app.add_middleware(SessionMiddleware, secret_key=SECRET)
    return app


# -- Flask ----------------------------------------------------------------------------------


def flask_app(passport: Authenticator[User]) -> Flask:
    app = Flask(__name__)
    app.secret_key = SECRET
    flask_adapter.FlaskPassport(app, passport)
    authenticate = flask_adapter.authenticate

    @app.post("/login")
    @authenticate("local")
    def login() -> Any:
        return {"user": name_of(flask_adapter.current_user._get_current_object())}

    @app.post("/login/form")
    @authenticate("local", **FORM)
    def login_form() -> Any:  # pragma: no cover - redirects
        return "not reached"

    @app.get("/login")
    def login_page() -> Any:
        return {"flashes": [list(f) for f in get_flashed_messages(with_categories=True)]}

    @app.get("/api")
    @authenticate("basic", session=False)
    def api() -> Any:
        return {"user": name_of(flask_adapter.current_user._get_current_object())}

    def answer(result: AuthResult[Any]) -> Any:
        return callback_body(result)

    @app.post("/login/callback")
    @authenticate("local", callback=answer)
    def login_callback() -> Any:  # pragma: no cover - callback
        return "not reached"

    return app


# -- Django (ROOT_URLCONF = "throttle_apps" while a test runs) ------------------------------


@csrf_exempt
@django_adapter.authenticate("local")
def django_login(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"user": name_of(request.user)})


@django_adapter.authenticate("local", **FORM)
def django_login_form(request: HttpRequest) -> HttpResponse:  # pragma: no cover - redirects
    return HttpResponse("not reached")


@csrf_exempt
def django_login_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return django_login(request)
    return JsonResponse({"flashes": [[m.level_tag, m.message] for m in get_messages(request)]})


@django_adapter.authenticate("basic", session=False)
def django_api(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"user": name_of(request.user)})


def django_answer(request: HttpRequest, result: AuthResult[Any]) -> HttpResponse:
    return JsonResponse(callback_body(result))


@csrf_exempt
@django_adapter.authenticate("local", callback=django_answer)
def django_login_callback(request: HttpRequest) -> HttpResponse:  # pragma: no cover
    return HttpResponse("not reached")


urlpatterns = [
    path("login", django_login_page),
    path("login/form", csrf_exempt(django_login_form)),
    path("api", django_api),
    path("login/callback", django_login_callback),
]


def django_app(passport: Authenticator[User]) -> WSGIHandler:
    passports.current = passport
    return WSGIHandler()  # loads PassportMiddleware now, so this app keeps this passport


# -- clients --------------------------------------------------------------------------------

APPS: dict[str, Callable[[Authenticator[User]], Any]] = {
    "starlette": starlette_app,
    "fastapi": fastapi_app,
    "flask": flask_app,
    "django": django_app,
}


def clients(framework: str, passport: Authenticator[User], *ips: str) -> list[httpx.Client]:
    """One client per address in `ips`, all on one app of `framework` (redirects not
    followed, each with its own cookies)."""
    app = APPS[framework](passport)
    if framework in ("starlette", "fastapi"):
        return [TestClient(app, client=(ip, 50000), follow_redirects=False) for ip in ips]
    return [
        httpx.Client(
            transport=httpx.WSGITransport(app=app, remote_addr=ip),
            base_url="http://testserver",
            follow_redirects=False,
        )
        for ip in ips
    ]


def client(framework: str, passport: Authenticator[User], ip: str = "192.0.2.10") -> httpx.Client:
    """A client for `framework`'s app, from address `ip`."""
    (only,) = clients(framework, passport, ip)
    return only
