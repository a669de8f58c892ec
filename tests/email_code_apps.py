"""One passwordless login-by-code app per framework (Starlette, Flask, Django), for
tests/test_email_code_web.py.

`code_passport(strategy)` registers an `EmailCodeStrategy` as "email-code" over
`ACCOUNTS` (alice and bob, by address). Every app serves:

| route            | what it does                                                            |
|------------------|-------------------------------------------------------------------------|
| POST /code       | authenticate("email-code"); JSON `{"user": username or null}`: null     |
|                  |   when a code was asked for ("check your email")                        |
| POST /code/form  | the same with failure_redirect="/code", failure_flash=True,             |
|                  |   success_redirect="/"; "Check your email" when a code was asked for    |
| GET  /code       | JSON `{"flashes": [[category, message], ...]}` (the code page)          |
| GET  /me         | JSON `{"user": username or null}`                                       |

`client(framework, passport)` is an httpx client for that framework's app.
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
from flask import Flask, get_flashed_messages
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from users import User

from passport_py import Authenticator
from passport_py.adapters import django as django_adapter
from passport_py.adapters import flask as flask_adapter
from passport_py.adapters import starlette as starlette_adapter
from passport_py.strategies.email_code import EmailCodeStrategy

FRAMEWORKS = ["starlette", "flask", "django"]
SECRET = "email-code-tests-secret-8c1e5a9f3b7d2e6a"
FORM = {"failure_redirect": "/code", "failure_flash": True, "success_redirect": "/"}
ACCOUNTS = {"alice@example.com": User(1, "alice"), "bob@example.com": User(2, "bob")}
CHECK_EMAIL = "Check your email for a code."


def lookup(email: str) -> User | None:
    return ACCOUNTS.get(email)


def code_passport(strategy: EmailCodeStrategy) -> Authenticator[User]:
    passport: Authenticator[User] = Authenticator()
    passport.use(strategy)
    by_id = {u.id: u for u in ACCOUNTS.values()}
    passport.serialize_user(lambda user: user.id)
    passport.deserialize_user(lambda user_id: by_id.get(user_id))
    return passport


def name_of(user: Any) -> str | None:
    return user.username if isinstance(user, User) else None


# -- Starlette ------------------------------------------------------------------------------


def starlette_app(passport: Authenticator[User]) -> Starlette:
    authenticate = starlette_adapter.authenticate

    @authenticate("email-code")
    async def code(request: Request) -> Response:
        return JSONResponse({"user": name_of(request.user)})

    @authenticate("email-code", **FORM)
    async def code_form(request: Request) -> Response:
        return PlainTextResponse(CHECK_EMAIL)

    async def code_page(request: Request) -> Response:
        return JSONResponse({"flashes": [list(f) for f in starlette_adapter.pop_flashes(request)]})

    async def me(request: Request) -> Response:
        return JSONResponse({"user": name_of(request.user)})

    async def home(request: Request) -> Response:  # pragma: no cover - redirect target only
        return RedirectResponse("/me")

    return Starlette(
        routes=[
            Route("/code", code, methods=["POST"]),
            Route("/code/form", code_form, methods=["POST"]),
            Route("/code", code_page),
            Route("/me", me),
            Route("/", home),
        ],
        middleware=[
            Middleware(SessionMiddleware, secret_key=SECRET),
            Middleware(starlette_adapter.PassportMiddleware, passport=passport),
        ],
    )


# -- Flask ----------------------------------------------------------------------------------


def flask_app(passport: Authenticator[User]) -> Flask:
    app = Flask(__name__)
    app.secret_key = SECRET
    flask_adapter.FlaskPassport(app, passport)
    authenticate = flask_adapter.authenticate

    def current() -> str | None:
        return name_of(flask_adapter.current_user._get_current_object())

    @app.post("/code")
    @authenticate("email-code")
    def code() -> Any:
        return {"user": current()}

    @app.post("/code/form")
    @authenticate("email-code", **FORM)
    def code_form() -> Any:
        return CHECK_EMAIL

    @app.get("/code")
    def code_page() -> Any:
        return {"flashes": [list(f) for f in get_flashed_messages(with_categories=True)]}

    @app.get("/me")
    def me() -> Any:
        return {"user": current()}

    return app


# -- Django (ROOT_URLCONF = "email_code_apps" while a test runs) ----------------------------


@django_adapter.authenticate("email-code")
def django_code(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"user": name_of(request.user)})


@csrf_exempt
def django_code_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return django_code(request)
    return JsonResponse({"flashes": [[m.level_tag, m.message] for m in get_messages(request)]})


@csrf_exempt
@django_adapter.authenticate("email-code", **FORM)
def django_code_form(request: HttpRequest) -> HttpResponse:
    return HttpResponse(CHECK_EMAIL, content_type="text/plain")


def django_me(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"user": name_of(request.user)})


urlpatterns = [
    path("code", django_code_page),
    path("code/form", django_code_form),
    path("me", django_me),
]


def django_app(passport: Authenticator[User]) -> WSGIHandler:
    passports.current = passport
    return WSGIHandler()  # loads PassportMiddleware now, so this app keeps this passport


# -- clients --------------------------------------------------------------------------------

APPS: dict[str, Callable[[Authenticator[User]], Any]] = {
    "starlette": starlette_app,
    "flask": flask_app,
    "django": django_app,
}


def clients(framework: str, passport: Authenticator[User], count: int = 1) -> list[httpx.Client]:
    """`count` clients (each with its own cookies) on one app of `framework`."""
    app = APPS[framework](passport)
    if framework == "starlette":
        return [TestClient(app, follow_redirects=False) for _ in range(count)]
    return [
        httpx.Client(
            transport=httpx.WSGITransport(app=app),
            base_url="http://testserver",
            follow_redirects=False,
        )
        for _ in range(count)
    ]


def client(framework: str, passport: Authenticator[User]) -> httpx.Client:
    """A client for `framework`'s app."""
    (only,) = clients(framework, passport)
    return only
