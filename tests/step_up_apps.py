"""One small app per adapter for the step-up tests (`fresh_login_required`).

Every app serves the same routes:

    GET  /login        the login page ("login page")
    POST /login        `authenticate("local", remember="remember_me")`, back to the return-to
    POST /login-otp    the same with "local-otp", a password strategy whose amr is pwd + otp
    GET  /fresh        `fresh_login_required` (bare): a login that is not remembered
    GET  /recent       `fresh_login_required(max_age=300)`
    GET  /keys         `fresh_login_required(max_age=300, factors=["otp"])`
    GET  /custom       `fresh_login_required(max_age=300, reauth_url="/reauth")`
    GET  /flashes      the pending flash messages, as a JSON list of strings
    GET  /async        (Flask, Django) /recent from an `async def` view (async handler)
    GET  /mixin        (Django) /recent as a class-based view with `FreshLoginRequiredMixin`
    GET  /amixin       (Django) the same with an async handler

FastAPI serves the guarded routes through its dependencies (`/fresh` uses the bare form).
Each app remembers logins (`restore_with=("remember-me",)`), and the passport's session clock
is a `Clock` the test moves.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import django_project  # noqa: F401 - configures Django before anything below uses it
import flask
import httpx
from behaviour.tokens import ServerTransport
from django.contrib import messages
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test import override_settings
from django.urls import path
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django_project import passports
from fastapi import Depends, FastAPI
from remember_store import remember_passport
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from users import User, UserStore

from passport_py import Authenticator
from passport_py.adapters import django as dj
from passport_py.adapters import fastapi as fa
from passport_py.adapters import flask as fl
from passport_py.adapters import starlette as st
from passport_py.strategies.local import LocalStrategy

SECRET = "step-up-tests-secret-7e2a9c4d1f6b3e80"
START = 1_800_000_000.0
FRAMEWORKS = ("starlette", "fastapi", "flask", "django")
RESTORE = ("remember-me",)


class Clock:
    """The passport's session clock: `now` until the test moves it."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class OtpLocalStrategy(LocalStrategy):
    """A password form whose logins count as password and one-time code (a test stand-in
    for a login completed with a second factor)."""

    name = "local-otp"
    amr = ("pwd", "otp")


def make_passport(users: UserStore) -> tuple[Authenticator[User], Clock]:
    """Local, local-otp and remember-me over `users`, on a clock the test moves."""
    passport, _tokens = remember_passport(users)
    passport.use(OtpLocalStrategy(users.verify))
    clock = Clock()
    passport.sessions.clock = clock
    return passport, clock


LOGIN_OPTIONS: dict[str, Any] = {
    "remember": "remember_me",
    "success_return_to_or_redirect": "/",
    "failure_redirect": "/login",
}


# -- Starlette and FastAPI ----------------------------------------------------------------


def _starlette_logins() -> list[Route]:
    async def page(request: Request) -> Response:
        return PlainTextResponse("login page")

    routes = [Route("/login", page), Route("/reauth", page)]
    for url, strategy in (("/login", "local"), ("/login-otp", "local-otp")):

        @st.authenticate(strategy, **LOGIN_OPTIONS)
        async def log_in(request: Request) -> Response:  # pragma: no cover - redirects
            return PlainTextResponse("")

        routes.append(Route(url, log_in, methods=["POST"]))

    async def flashes(request: Request) -> Response:
        return JSONResponse([message for _, message in st.pop_flashes(request)])

    async def home(request: Request) -> Response:
        return PlainTextResponse("home")

    return [*routes, Route("/flashes", flashes), Route("/", home)]


def _starlette_app(passport: Authenticator[Any]) -> Starlette:
    async def page(request: Request) -> Response:
        return PlainTextResponse(f"{request.url.path} for {request.user.username}")

    guarded = {
        "/fresh": st.fresh_login_required(page),
        "/recent": st.fresh_login_required(max_age=300)(page),
        "/keys": st.fresh_login_required(max_age=300, factors=["otp"])(page),
        "/custom": st.fresh_login_required(max_age=300, reauth_url="/reauth")(page),
    }
    return Starlette(
        routes=[*_starlette_logins(), *(Route(url, view) for url, view in guarded.items())],
        middleware=[
            Middleware(SessionMiddleware, secret_key=SECRET),
            Middleware(st.PassportMiddleware, passport=passport, restore_with=RESTORE),
        ],
    )


def _fastapi_app(passport: Authenticator[Any]) -> FastAPI:
    app = FastAPI(
        middleware=[
            Middleware(SessionMiddleware, secret_key=SECRET),
            Middleware(fa.PassportMiddleware, passport=passport, restore_with=RESTORE),
        ]
    )
    app.router.routes.extend(_starlette_logins())
    guards: dict[str, Any] = {
        "/fresh": fa.fresh_login_required,
        "/recent": fa.fresh_login_required(max_age=300),
        "/keys": fa.fresh_login_required(max_age=300, factors=["otp"]),
        "/custom": fa.fresh_login_required(max_age=300, reauth_url="/reauth"),
    }
    for url, guard in guards.items():

        def page(user: User = Depends(guard), where: str = url) -> str:
            return f"{where} for {user.username}"

        app.get(url, response_class=PlainTextResponse)(page)
    return app


# -- Flask --------------------------------------------------------------------------------


def _flask_app(passport: Authenticator[Any]) -> flask.Flask:
    app = flask.Flask(__name__)
    app.secret_key = SECRET
    fl.FlaskPassport(app, passport, restore_with=RESTORE)

    def page() -> str:
        user = fl.current_user._get_current_object()
        return f"{flask.request.path} for {user.username}"

    async def async_page() -> str:
        user = await fl.aget_user()
        return f"{flask.request.path} for {user.username}"

    guarded = {
        "/fresh": fl.fresh_login_required(page),
        "/recent": fl.fresh_login_required(max_age=300)(page),
        "/keys": fl.fresh_login_required(max_age=300, factors=["otp"])(page),
        "/custom": fl.fresh_login_required(max_age=300, reauth_url="/reauth")(page),
        "/async": fl.fresh_login_required(max_age=300)(async_page),
    }
    for url, view in guarded.items():
        app.add_url_rule(url, url, view)
    for url, strategy in (("/login", "local"), ("/login-otp", "local-otp")):
        app.add_url_rule(
            url,
            f"post {url}",
            fl.authenticate(strategy, **LOGIN_OPTIONS)(lambda: ""),
            methods=["POST"],
        )
    for url in ("/login", "/reauth"):
        app.add_url_rule(url, url, lambda: "login page")
    app.add_url_rule("/flashes", "flashes", lambda: flask.jsonify(flask.get_flashed_messages()))
    app.add_url_rule("/", "home", lambda: "home")
    return app


# -- Django -------------------------------------------------------------------------------


def _django_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"{request.path} for {request.user.username}")


async def _django_async_page(request: HttpRequest) -> HttpResponse:
    user = await request.auser()
    return HttpResponse(f"{request.path} for {user.username}")


class _MixinView(dj.FreshLoginRequiredMixin, View):
    max_age = 300

    def get(self, request: HttpRequest) -> HttpResponse:
        return _django_page(request)


class _AsyncMixinView(dj.FreshLoginRequiredMixin, View):
    max_age = 300

    async def get(self, request: HttpRequest) -> HttpResponse:
        return await _django_async_page(request)


def _django_login(strategy: str) -> Any:
    log_in = dj.authenticate(strategy, **LOGIN_OPTIONS)(_django_page)

    @csrf_exempt
    def view(request: HttpRequest) -> HttpResponse:
        return log_in(request) if request.method == "POST" else HttpResponse("login page")

    return view


def _django_flashes(request: HttpRequest) -> HttpResponse:
    return JsonResponse([str(m.message) for m in messages.get_messages(request)], safe=False)


urlpatterns = [
    path("login", _django_login("local")),
    path("login-otp", _django_login("local-otp")),
    path("reauth", lambda request: HttpResponse("login page")),
    path("", lambda request: HttpResponse("home")),
    path("flashes", _django_flashes),
    path("fresh", dj.fresh_login_required(_django_page)),
    path("recent", dj.fresh_login_required(max_age=300)(_django_page)),
    path("keys", dj.fresh_login_required(max_age=300, factors=["otp"])(_django_page)),
    path("custom", dj.fresh_login_required(max_age=300, reauth_url="/reauth")(_django_page)),
    path("async", dj.fresh_login_required(max_age=300)(_django_async_page)),
    path("mixin", _MixinView.as_view()),
    path("amixin", _AsyncMixinView.as_view()),
]


@contextmanager
def django_urls() -> Iterator[None]:
    """Serve this module's `urlpatterns` (and remember logins) while inside."""
    with override_settings(ROOT_URLCONF=__name__, PASSPORT_RESTORE_WITH=list(RESTORE)):
        yield


# -- clients ------------------------------------------------------------------------------


@contextmanager
def step_up_client(framework: str, passport: Authenticator[Any]) -> Iterator[httpx.Client]:
    """A client of `framework`'s step-up app served with `passport`."""
    if framework == "starlette":
        with TestClient(_starlette_app(passport), follow_redirects=False) as client:
            yield client
    elif framework == "fastapi":
        with TestClient(_fastapi_app(passport), follow_redirects=False) as client:
            yield client
    elif framework == "flask":
        transport = ServerTransport(_flask_app(passport))
        with httpx.Client(transport=transport, base_url="http://testserver") as client:
            yield client
    elif framework == "django":
        passports.current = passport
        with django_urls():
            transport = ServerTransport(WSGIHandler())
            with httpx.Client(transport=transport, base_url="http://testserver") as client:
                yield client
    else:
        raise ValueError(framework)
