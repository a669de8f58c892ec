"""The token-strategy app in Starlette, Flask and Django: one set of routes, any passport.

`token_client(framework, passport)` serves these routes with the given passport, so a test
registers the strategy it wants under one of the names of `ROUTES` (configured as it likes)
and drives the same requests through every framework:

- `GET|POST /tokens/<route>` (and `/tokens/<route>/<any path>`): `authenticate(ROUTES[route],
  session=False)`; answers `{"user": <username or null>, "info": <auth info>}`.
- `GET /tokens/who`: `{"user": <logged-in username or null>, "fresh": <bool>}` (the session).
- `POST /tokens/login`: `authenticate("local", remember="remember_me")`, then `/tokens/who`.
- `POST /tokens/logout`: logs out, answers `{"user": null}`.

Starlette serves only the routes whose strategies the passport has (`PassportMiddleware`
refuses to start with the others).

Flask and Django are served through `ServerTransport`, which hands them headers as a WSGI
server would (Latin-1, repeats joined), so the bad-input corpus reaches them as sent.

`restore_with=("remember-me",)` configures the adapter to try those strategies on requests
whose session holds no login (the remember-me cookie).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import django_project  # noqa: F401 - configures Django before anything below uses it
import flask
import httpx
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test import override_settings
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django_project import passports
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from werkzeug.test import EnvironBuilder, run_wsgi_app

from behaviour.common import username
from passport_py import Authenticator
from passport_py.adapters import django as dj
from passport_py.adapters import flask as fl
from passport_py.adapters import starlette as st

SECRET = "token-tests-secret-5d0c2e91af37"

#: Route name -> the strategy (or chain) it authenticates with, always `session=False`.
ROUTES: dict[str, str | list[str]] = {
    "basic": "basic",
    "digest": "digest",
    "digest-md5": "digest-md5",
    "bearer": "bearer",
    "apikey": "apikey",
    "jwt": "jwt",
    "custom": "custom",
    "anonymous": "anonymous",
    "jwt-or-anonymous": ["jwt", "anonymous"],
    "bearer-or-anonymous": ["bearer", "anonymous"],
    "basic-or-bearer": ["basic", "bearer"],
    "remember-me": "remember-me",
}

FRAMEWORKS = ("starlette", "flask", "django")


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def _answer(user: Any, info: Any) -> dict[str, Any]:
    return {"user": username(user), "info": _jsonable(info)}


def _who(user: Any, session: Any) -> dict[str, Any]:
    """The logged-in user and whether the login is fresh (read as the session stores it)."""
    name = username(user)  # first: resolving a lazy user may log in from remember-me
    entry = session.get("passport") if session is not None else None
    fresh = not isinstance(entry, dict) or entry.get("fresh", True) is not False
    return {"user": name, "fresh": fresh}


# -- Starlette ----------------------------------------------------------------------------


def _starlette_routes(passport: Authenticator[Any]) -> list[Route]:
    # Only the routes the passport can serve: Starlette's app would not start with the others.
    registered = passport.strategies
    routes = []
    for name, spec in ROUTES.items():
        if not all(layer in registered for layer in ([spec] if isinstance(spec, str) else spec)):
            continue

        @st.authenticate(spec, session=False)
        async def protected(request: Request) -> Response:
            return JSONResponse(_answer(request.user, request.auth.info))

        routes.append(Route(f"/tokens/{name}", protected, methods=["GET", "POST"]))
        routes.append(Route(f"/tokens/{name}/{{rest:path}}", protected, methods=["GET", "POST"]))

    async def who(request: Request) -> Response:
        return JSONResponse(_who(request.user, request.scope.get("session")))

    @st.authenticate("local", remember="remember_me", success_redirect="/tokens/who")
    async def log_in(request: Request) -> Response:  # pragma: no cover - redirects
        return JSONResponse({})

    async def log_out(request: Request) -> Response:
        await st.logout(request)
        return JSONResponse({"user": None})

    logins = [Route("/tokens/login", log_in, methods=["POST"])] if "local" in registered else []
    return [
        *routes,
        Route("/tokens/who", who),
        *logins,
        Route("/tokens/logout", log_out, methods=["POST"]),
    ]


def _starlette_app(passport: Authenticator[Any], restore_with: Sequence[str]) -> Starlette:
    extra: dict[str, Any] = {"restore_with": tuple(restore_with)} if restore_with else {}
    return Starlette(
        routes=_starlette_routes(passport),
        middleware=[
            Middleware(SessionMiddleware, secret_key=SECRET),
            Middleware(st.PassportMiddleware, passport=passport, **extra),
        ],
    )


# -- Flask --------------------------------------------------------------------------------


def _registered_routes(passport: Authenticator[Any]) -> dict[str, str | list[str]]:
    """The `ROUTES` whose strategies `passport` has all registered."""
    names = passport.strategies
    return {
        route: spec
        for route, spec in ROUTES.items()
        if all(name in names for name in ([spec] if isinstance(spec, str) else spec))
    }


def _flask_app(passport: Authenticator[Any], restore_with: Sequence[str]) -> flask.Flask:
    app = flask.Flask(__name__)
    app.secret_key = SECRET
    extra: dict[str, Any] = {"restore_with": tuple(restore_with)} if restore_with else {}
    fl.FlaskPassport(app, passport, **extra)
    # FlaskPassport refuses, before the first request, a route naming an unregistered strategy.
    for name, spec in _registered_routes(passport).items():

        @fl.authenticate(spec, session=False)
        def protected(rest: str = "") -> Any:
            return _answer(fl.current_user._get_current_object(), flask.g.get("auth_info"))

        for rule in (f"/tokens/{name}", f"/tokens/{name}/<path:rest>"):
            app.add_url_rule(rule, f"protected-{rule}", protected, methods=["GET", "POST"])

    @app.get("/tokens/who")
    def who() -> Any:
        return _who(fl.current_user._get_current_object(), flask.session)

    if "local" in passport.strategies:

        @app.post("/tokens/login")
        @fl.authenticate("local", remember="remember_me", success_redirect="/tokens/who")
        def log_in() -> Any:  # pragma: no cover - redirects
            return {}

    @app.post("/tokens/logout")
    def log_out() -> Any:
        fl.logout()
        return {"user": None}

    return app


# -- Django -------------------------------------------------------------------------------


def _django_protected(spec: str | list[str]) -> Any:
    @csrf_exempt
    @dj.authenticate(spec, session=False)
    def protected(request: HttpRequest, rest: str = "") -> HttpResponse:
        return JsonResponse(_answer(request.user, getattr(request, "auth_info", None)))

    return protected


def _django_who(request: HttpRequest) -> HttpResponse:
    return JsonResponse(_who(request.user, request.session))


@csrf_exempt
@dj.authenticate("local", remember="remember_me", success_redirect="/tokens/who")
def _django_login(request: HttpRequest) -> HttpResponse:  # pragma: no cover - redirects
    return JsonResponse({})


@csrf_exempt
def _django_logout(request: HttpRequest) -> HttpResponse:
    dj.logout(request)
    return JsonResponse({"user": None})


_PROTECTED = {name: _django_protected(spec) for name, spec in ROUTES.items()}
urlpatterns = [
    *(path(f"tokens/{name}", view) for name, view in _PROTECTED.items()),
    *(path(f"tokens/{name}/<path:rest>", view) for name, view in _PROTECTED.items()),
    path("tokens/who", _django_who),
    path("tokens/login", _django_login),
    path("tokens/logout", _django_logout),
]


def _django_app(passport: Authenticator[Any], restore_with: Sequence[str]) -> WSGIHandler:
    passports.current = passport
    with override_settings(PASSPORT_RESTORE_WITH=list(restore_with)):
        return WSGIHandler()  # loads the middleware (and these settings) now


# -- clients ------------------------------------------------------------------------------


class ServerTransport(httpx.BaseTransport):
    """Serves a WSGI app as gunicorn and Werkzeug's server do: header bytes decoded as Latin-1
    (PEP 3333), a repeated header joined into one comma-separated value, and the request
    target as sent in `REQUEST_URI` and `RAW_URI` (PATH_INFO is decoded, QUERY_STRING raw).
    `raw_target=False` leaves those two out, as wsgiref and Django's runserver do.

    httpx's WSGITransport decodes headers as ASCII (non-ASCII bytes raise in the client) and
    keeps only the last copy of a repeated header, so it cannot send the bad-input corpus.
    """

    def __init__(self, app: Any, *, raw_target: bool = True) -> None:
        self.app = app
        self.raw_target = raw_target

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        builder = EnvironBuilder(
            path=request.url.raw_path.decode("latin-1"),  # path and query, as sent
            base_url=f"{request.url.scheme}://{request.url.netloc.decode('ascii')}",
            method=request.method,
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw],
            data=request.content,
        )
        environ = builder.get_environ()
        if not self.raw_target:
            del environ["REQUEST_URI"], environ["RAW_URI"]
        try:
            app_iter, status, headers = run_wsgi_app(self.app, environ, True)
            body = b"".join(app_iter)
        finally:
            builder.close()
        return httpx.Response(int(status.split()[0]), headers=list(headers.items()), content=body)


def token_app(
    framework: str, passport: Authenticator[Any], *, restore_with: Sequence[str] = ()
) -> Any:
    """The token app of `framework` served with `passport`: ASGI for Starlette, else WSGI."""
    if framework == "starlette":
        return _starlette_app(passport, restore_with)
    if framework == "flask":
        return _flask_app(passport, restore_with)
    return _django_app(passport, restore_with)


def token_client(
    framework: str,
    passport: Authenticator[Any],
    *,
    restore_with: Sequence[str] = (),
    base_url: str = "http://testserver",
    raw_target: bool = True,
) -> httpx.Client:
    """A client for the token app of `framework` served with `passport` (for Flask and Django,
    `raw_target=False` serves them as a WSGI server that does not pass the raw target on)."""
    app = token_app(framework, passport, restore_with=restore_with)
    if framework == "starlette":
        return TestClient(app, base_url=base_url, follow_redirects=False)
    transport = ServerTransport(app, raw_target=raw_target)
    return httpx.Client(transport=transport, base_url=base_url, follow_redirects=False)
