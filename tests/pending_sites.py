"""One app per adapter serving the same login routes, for the pending-login tests.

    POST /login               form login: local, success_return_to_or_redirect="/home",
                              failure_redirect="/login", remember="remember"
    POST /api/login           API login: local, answers {"user": name}
    GET  /login/second-factor the second-factor page: pending_login() as JSON, 404 without
    POST /login/second-factor the code form: success_return_to_or_redirect="/home"
    POST /api/second-factor   the code as JSON: answers {"user": name}
    POST /cancel, /logout     cancel_pending, logout
    GET  /me                  login_required: the user's name
    GET  /whoami              {"user": name or null}, unguarded
    GET  /entry               the session's login entry (`session["passport"]`)

`Site` drives one through its framework's real test client and answers `Reply`s.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from second_factor_helpers import Kit, pending_kit
from starlette.requests import Request

SECRET = "pending-login-tests-secret-5b1f0e7d2c9a8346"
HTML = {"accept": "text/html"}


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def location(self) -> str | None:
        return self.headers.get("location")

    def json(self) -> Any:
        data = json.loads(self.text)
        if isinstance(data, dict) and isinstance(data.get("detail"), dict):
            return data["detail"]  # FastAPI wraps an exception's body in "detail"
        return data


@dataclass
class Site:
    name: str
    kit: Kit
    make_client: Callable[[], Any]
    #: (client, method, path, form or None, json or None, headers) -> Reply
    send: Callable[..., Reply]
    cookie: Callable[[Any, str], str | None]
    set_cookie: Callable[[Any, str, str], None]
    session_cookie: str = "session"
    server_sessions: bool = False

    def client(self) -> Any:
        return self.make_client()

    def get(self, client: Any, path: str, headers: dict[str, str] | None = None) -> Reply:
        return self.send(client, "GET", path, None, None, headers or {})

    def form(self, client: Any, path: str, data: dict[str, str], **headers: str) -> Reply:
        return self.send(client, "POST", path, data, None, headers)

    def api(self, client: Any, path: str, body: Any) -> Reply:
        return self.send(client, "POST", path, None, body, {"accept": "application/json"})

    def session_id(self, client: Any) -> str | None:
        return self.cookie(client, self.session_cookie)

    def entry(self, client: Any) -> Any:
        reply = self.get(client, "/entry")
        assert reply.status == 200, reply
        return json.loads(reply.text)

    def whoami(self, client: Any) -> Any:
        return json.loads(self.get(client, "/whoami").text)["user"]

    def login_form(self, client: Any, user: str = "alice", **extra: str) -> Reply:
        password = "wonderland" if user == "alice" else "builder"
        return self.form(client, "/login", {"username": user, "password": password, **extra})


def _name(user: Any) -> Any:
    return getattr(user, "username", None)


def _page(found: Any) -> tuple[dict[str, Any], int]:
    if found is None:
        return {"user": None}, 404
    user, factors = found
    return {"user": user.username, "factors": list(factors)}, 200


# -- Starlette and FastAPI -----------------------------------------------------------------

FORM_LOGIN = {
    "success_return_to_or_redirect": "/home",
    "failure_redirect": "/login",
    "remember": "remember",
}
FORM_CODE = {
    "success_return_to_or_redirect": "/home",
    "failure_redirect": "/login/second-factor",
}


def starlette_site(*, fastapi: bool = False) -> Site:
    """Starlette over our server-side sessions (MemoryStore), or FastAPI's dependencies over
    Starlette's cookie sessions."""
    from starlette.middleware import Middleware
    from starlette.middleware.sessions import SessionMiddleware as CookieSessions
    from starlette.responses import JSONResponse, PlainTextResponse, Response
    from starlette.testclient import TestClient

    from passport_py.adapters.starlette import (
        PassportMiddleware,
        authenticate,
        cancel_pending,
        is_authenticated,
        login_required,
        logout,
        pending_login,
    )
    from passport_py.sessions import MemoryStore, SessionMiddleware

    kit = pending_kit()
    sessions = (
        Middleware(CookieSessions, secret_key=SECRET)
        if fastapi
        else Middleware(SessionMiddleware, secret_key=SECRET, store=MemoryStore())
    )
    middleware = [
        sessions,
        Middleware(PassportMiddleware, passport=kit.passport, restore_with=("remember-me",)),
    ]

    async def page(request: Request) -> Response:
        body, status = _page(await pending_login(request))
        return JSONResponse(body, status)

    async def cancel(request: Request) -> Response:
        cancel_pending(request)
        return PlainTextResponse("ok")

    async def log_out(request: Request) -> Response:
        await logout(request)
        return PlainTextResponse("ok")

    async def whoami(request: Request) -> Response:
        return JSONResponse({"user": _name(request.user) if is_authenticated(request) else None})

    async def entry(request: Request) -> Response:
        return JSONResponse(request.session.get("passport"))

    if fastapi:
        from fastapi import Depends, FastAPI

        from passport_py.adapters import fastapi as fa

        app: Any = FastAPI(middleware=middleware)

        @app.post("/login")
        def form_login(user: Any = Depends(fa.authenticate("local", **FORM_LOGIN))) -> Any:
            return PlainTextResponse("unreachable")

        @app.post("/api/login")
        def api_login(user: Any = Depends(fa.authenticate("local"))) -> Any:
            return {"user": user.username}

        @app.post("/login/second-factor")
        def code_form(user: Any = Depends(fa.authenticate("code", **FORM_CODE))) -> Any:
            return PlainTextResponse("unreachable")

        @app.post("/api/second-factor")
        def api_code(user: Any = Depends(fa.authenticate("code"))) -> Any:
            return {"user": user.username}

        @app.get("/me")
        def me(user: Any = Depends(fa.login_required)) -> Any:
            return PlainTextResponse(user.username)

        for path, endpoint, method in [
            ("/login/second-factor", page, "GET"),
            ("/cancel", cancel, "POST"),
            ("/logout", log_out, "POST"),
            ("/whoami", whoami, "GET"),
            ("/entry", entry, "GET"),
        ]:
            app.add_api_route(path, endpoint, methods=[method])
    else:
        from starlette.applications import Starlette
        from starlette.routing import Route

        @authenticate("local", **FORM_LOGIN)
        async def form_login(request: Request) -> Response:
            return PlainTextResponse("unreachable")

        @authenticate("local")
        async def api_login(request: Request) -> Response:
            return JSONResponse({"user": request.user.username})

        @authenticate("code", **FORM_CODE)
        async def code_form(request: Request) -> Response:
            return PlainTextResponse("unreachable")

        @authenticate("code")
        async def api_code(request: Request) -> Response:
            return JSONResponse({"user": request.user.username})

        @login_required
        async def me(request: Request) -> Response:
            return PlainTextResponse(request.user.username)

        app = Starlette(
            routes=[
                Route("/login", form_login, methods=["POST"]),
                Route("/api/login", api_login, methods=["POST"]),
                Route("/login/second-factor", page, methods=["GET"]),
                Route("/login/second-factor", code_form, methods=["POST"]),
                Route("/api/second-factor", api_code, methods=["POST"]),
                Route("/cancel", cancel, methods=["POST"]),
                Route("/logout", log_out, methods=["POST"]),
                Route("/me", me),
                Route("/whoami", whoami),
                Route("/entry", entry),
            ],
            middleware=middleware,
        )

    def send(
        client: Any, method: str, path: str, form: Any, body: Any, headers: dict[str, str]
    ) -> Reply:
        response = client.request(
            method, path, data=form, json=body, headers=headers, follow_redirects=False
        )
        return Reply(response.status_code, dict(response.headers), response.text)

    def cookie(client: Any, name: str) -> str | None:
        return client.cookies.get(name)

    def set_cookie(client: Any, name: str, value: str) -> None:
        client.cookies.set(name, value)

    return Site(
        "fastapi" if fastapi else "starlette",
        kit,
        lambda: TestClient(app),
        send,
        cookie,
        set_cookie,
        server_sessions=not fastapi,
    )


# -- Flask ---------------------------------------------------------------------------------


def flask_site() -> Site:
    """Flask over its own cookie session."""
    import flask

    from passport_py.adapters.flask import (
        FlaskPassport,
        authenticate,
        cancel_pending,
        current_user,
        is_authenticated,
        login_required,
        logout,
        pending_login,
    )

    kit = pending_kit()
    app = flask.Flask(__name__)
    app.secret_key = SECRET
    FlaskPassport(app, kit.passport, restore_with=("remember-me",))

    @app.post("/login")
    @authenticate("local", **FORM_LOGIN)
    def form_login() -> str:
        return "unreachable"

    @app.post("/api/login")
    @authenticate("local")
    def api_login() -> Any:
        return {"user": current_user.username}

    @app.get("/login/second-factor")
    def page() -> Any:
        return _page(pending_login())

    @app.post("/login/second-factor")
    @authenticate("code", **FORM_CODE)
    def code_form() -> str:
        return "unreachable"

    @app.post("/api/second-factor")
    @authenticate("code")
    def api_code() -> Any:
        return {"user": current_user.username}

    @app.post("/cancel")
    def cancel() -> str:
        cancel_pending()
        return "ok"

    @app.post("/logout")
    def log_out() -> str:
        logout()
        return "ok"

    @app.get("/me")
    @login_required
    def me() -> str:
        return str(current_user.username)

    @app.get("/whoami")
    def whoami() -> Any:
        return {"user": current_user.username if is_authenticated() else None}

    @app.get("/entry")
    def entry() -> Any:
        is_authenticated()  # restore first, as the other frameworks' middleware do
        return flask.jsonify(flask.session.get("passport"))

    def send(
        client: Any, method: str, path: str, form: Any, body: Any, headers: dict[str, str]
    ) -> Reply:
        response = client.open(path, method=method, data=form, json=body, headers=headers)
        joined = {k.lower(): v for k, v in response.headers.items()}
        joined["set-cookie"] = ", ".join(response.headers.getlist("Set-Cookie"))
        return Reply(response.status_code, joined, response.get_data(as_text=True))

    def cookie(client: Any, name: str) -> str | None:
        found = client.get_cookie(name)
        return found.value if found is not None else None

    def set_cookie(client: Any, name: str, value: str) -> None:
        client.set_cookie(name, value)

    return Site("flask", kit, app.test_client, send, cookie, set_cookie)


# -- Django --------------------------------------------------------------------------------


def _django_views() -> list[Any]:
    from django.http import HttpRequest, HttpResponse, JsonResponse
    from django.urls import path

    from passport_py.adapters.django import (
        authenticate,
        cancel_pending,
        is_authenticated,
        login_required,
        logout,
        pending_login,
    )

    @authenticate("local", **FORM_LOGIN)
    def form_login(request: HttpRequest) -> HttpResponse:
        return HttpResponse("unreachable")

    @authenticate("local")
    def api_login(request: HttpRequest) -> HttpResponse:
        return JsonResponse({"user": request.user.username})

    @authenticate("code", **FORM_CODE)
    def code_form(request: HttpRequest) -> HttpResponse:
        return HttpResponse("unreachable")

    def second_factor(request: HttpRequest) -> HttpResponse:
        if request.method == "POST":
            return code_form(request)
        body, status = _page(pending_login(request))
        return JsonResponse(body, status=status)

    @authenticate("code")
    def api_code(request: HttpRequest) -> HttpResponse:
        return JsonResponse({"user": request.user.username})

    def cancel(request: HttpRequest) -> HttpResponse:
        cancel_pending(request)
        return HttpResponse("ok")

    def log_out(request: HttpRequest) -> HttpResponse:
        logout(request)
        return HttpResponse("ok")

    @login_required
    def me(request: HttpRequest) -> HttpResponse:
        return HttpResponse(request.user.username)

    def whoami(request: HttpRequest) -> HttpResponse:
        user = request.user.username if is_authenticated(request) else None
        return JsonResponse({"user": user})

    def entry(request: HttpRequest) -> HttpResponse:
        is_authenticated(request)  # Django restores lazily: restore first, as elsewhere
        return JsonResponse(request.session.get("passport"), safe=False)

    return [
        path("login", form_login),
        path("api/login", api_login),
        path("login/second-factor", second_factor),
        path("api/second-factor", api_code),
        path("cancel", cancel),
        path("logout", log_out),
        path("me", me),
        path("whoami", whoami),
        path("entry", entry),
    ]


def __getattr__(name: str) -> Any:
    # This module is the Django site's URLconf; the views import Django only when asked for.
    if name == "urlpatterns":
        return _django_views()
    raise AttributeError(name)


def django_site(fixtures: Any) -> Site:
    """Django over database sessions."""
    import django_project
    from django.conf import settings
    from django.test import Client, override_settings
    from django_project import passports

    kit = pending_kit()
    overrides = override_settings(
        ROOT_URLCONF=__name__,
        SESSION_ENGINE="django.contrib.sessions.backends.db",
        PASSPORT_RESTORE_WITH=["remember-me"],
    )
    overrides.enable()
    fixtures.addfinalizer(overrides.disable)
    database = django_project.database()
    database.__enter__()
    fixtures.addfinalizer(lambda: database.__exit__(None, None, None))

    def make_client() -> Client:
        passports.current = kit.passport
        client = Client()
        client.handler.load_middleware()  # reads PASSPORT_AUTHENTICATOR now, for this client
        return client

    def send(
        client: Any, method: str, path: str, form: Any, body: Any, headers: dict[str, str]
    ) -> Reply:
        extra = {"headers": headers}
        if method == "GET":
            response = client.get(path, **extra)
        elif body is not None:
            response = client.post(path, body, content_type="application/json", **extra)
        else:
            response = client.post(path, form or {}, **extra)
        joined = {k.lower(): v for k, v in response.items()}
        joined["set-cookie"] = ", ".join(f"{c.key}={c.value}" for c in response.cookies.values())
        return Reply(response.status_code, joined, response.content.decode())

    def cookie(client: Any, name: str) -> str | None:
        found = client.cookies.get(name)
        return found.value if found is not None and found.value else None

    def set_cookie(client: Any, name: str, value: str) -> None:
        client.cookies[name] = value

    return Site(
        "django",
        kit,
        make_client,
        send,
        cookie,
        set_cookie,
        session_cookie=settings.SESSION_COOKIE_NAME,
        server_sessions=True,
    )


SITES = ["starlette", "fastapi", "flask", "django"]


def build_site(name: str, fixtures: Any) -> Site:
    """The site `name` (one of `SITES`); `fixtures` is pytest's `request`."""
    if name == "starlette":
        return starlette_site()
    if name == "fastapi":
        return starlette_site(fastapi=True)
    if name == "flask":
        return flask_site()
    if name == "django":
        return django_site(fixtures)
    raise AssertionError(name)
