"""One small app per adapter and session type, for the session timeout and password tests.

Every site serves the same routes over its framework's own session:

    POST /login/<id>   logs account <id> in (the adapter's `login`)
    GET  /me           `login_required`: the account's name, 401 for an anonymous API client
    POST /password     sets the logged-in account's password hash to the body, then calls the
                       adapter's `update_session_auth` (unless `?keep=0`)
    GET  /ame          (Flask, Django) /me from an async view (`aget_user`, `request.auser()`)
    POST /apassword    (Django) /password from an async view, with `aupdate_session_auth`
    GET  /entry        the session's login entry (`session["passport"]`) as JSON, after the
                       request's restore (null when there is none)

`Site` drives one with its real test client. The passport's clock is a `Clock` the test moves;
`store` counts the writes of server-side sessions (None for cookie sessions).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from session_apps import CountingStore
from starlette.requests import Request

from passport_py import Authenticator
from passport_py.events import SessionEnded
from passport_py.sessions import SessionStore

SECRET = "session-lifetime-tests-secret-0c4e8a1f9b2d7e63"
START = 1_800_000_000.0


class CountingBothSides(CountingStore):
    """`CountingStore` whose sync side (Flask's) counts its calls too, into the same `calls`."""

    @property
    def sync(self) -> Any:
        inner, calls = self.inner.sync, self.calls

        class Side:
            def __getattr__(self, name: str) -> Any:
                calls[name] += 1
                return getattr(inner, name)

        return Side()


class Clock:
    """The passport's clock: `now` until the test moves it."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Account:
    id: int
    name: str
    password_hash: str


@dataclass
class Site:
    """One app under test: its passport, accounts, clock, events and client factory."""

    name: str
    passport: Authenticator[Account]
    accounts: dict[int, Account]
    clock: Clock
    make_client: Callable[[], Any]
    get: Callable[[Any, str], tuple[int, str]]
    post: Callable[[Any, str, str], tuple[int, str]]
    cookie: Callable[[Any], str | None]
    store: CountingBothSides | None = None
    ended: list[SessionEnded] = field(default_factory=list)
    #: What changes when the session is written (default: the cookie, or the store's writes).
    written: Callable[[Any], Any] | None = None

    def client(self) -> Any:
        """A new browser: no cookies."""
        return self.make_client()

    def login(self, client: Any, account: int = 1) -> None:
        status, body = self.post(client, f"/login/{account}", "")
        assert status == 200, body

    def me(self, client: Any) -> tuple[int, str]:
        return self.get(client, "/me")

    def logged_in(self, client: Any) -> bool:
        status, body = self.me(client)
        assert status in (200, 401), (status, body)
        return status == 200

    def change_password(self, client: Any, new_hash: str, *, keep: bool = True) -> None:
        status, body = self.post(client, "/password" + ("" if keep else "?keep=0"), new_hash)
        assert status == 200, body

    def entry(self, client: Any) -> Any:
        status, body = self.get(client, "/entry")
        assert status == 200, body
        return json.loads(body)

    def snapshot(self, client: Any) -> Any:
        """Something that changes exactly when `client`'s session is written."""
        if self.written is not None:
            return self.written(client)
        if self.store is not None:
            return self.store.calls["set"] + self.store.calls["touch"]
        return self.cookie(client)


def make_passport(
    accounts: dict[int, Account], clock: Clock, ended: list[SessionEnded], **timeouts: Any
) -> Authenticator[Account]:
    passport: Authenticator[Account] = Authenticator(**timeouts)
    passport.serialize_user(lambda account: account.id)
    passport.deserialize_user(lambda account_id: accounts.get(account_id))
    passport.sessions.clock = clock
    passport.events.on(SessionEnded, ended.append)
    return passport


def default_accounts() -> dict[int, Account]:
    return {1: Account(1, "alice", "hash-1"), 2: Account(2, "bob", "hash-2")}


# -- Starlette and FastAPI -----------------------------------------------------------------


def _starlette_session(kind: str, store: SessionStore | None) -> Any:
    from starlette.middleware import Middleware
    from starlette.middleware.sessions import SessionMiddleware as CookieSessions

    from passport_py.sessions import SessionMiddleware

    if kind == "cookie":
        return Middleware(CookieSessions, secret_key=SECRET)
    return Middleware(SessionMiddleware, secret_key=SECRET, store=store)


def starlette_site(
    kind: str,
    store: SessionStore | None = None,
    *,
    fastapi: bool = False,
    restore_with: Any = (),
    **timeouts: Any,
) -> Site:
    """`kind` is "cookie" (Starlette's SessionMiddleware) or "server" (ours over `store`);
    `restore_with` goes to `PassportMiddleware` (a remember-me strategy)."""
    from starlette.middleware import Middleware
    from starlette.responses import JSONResponse, PlainTextResponse, Response
    from starlette.testclient import TestClient

    from passport_py.adapters.starlette import (
        PassportMiddleware,
        login,
        login_required,
        update_session_auth,
    )

    accounts, clock, ended = default_accounts(), Clock(), []
    passport = make_passport(accounts, clock, ended, **timeouts)
    counting = CountingBothSides(store) if store is not None else None

    async def log_in(request: Request) -> Response:
        await login(request, accounts[int(request.path_params["account"])])
        return PlainTextResponse("ok")

    async def entry(request: Request) -> Response:
        return JSONResponse(request.session.get("passport"))

    async def change(request: Request) -> Response:
        account = request.user
        account.password_hash = (await request.body()).decode()
        if request.query_params.get("keep") != "0":
            await update_session_auth(request, account)
        return PlainTextResponse("changed")

    middleware = [
        _starlette_session(kind, counting),
        Middleware(PassportMiddleware, passport=passport, restore_with=restore_with),
    ]
    if fastapi:
        from fastapi import Depends, FastAPI

        from passport_py.adapters.fastapi import login_required as required

        app: Any = FastAPI(middleware=middleware)

        @app.get("/me")
        def me(account: Account = Depends(required)) -> Response:
            return PlainTextResponse(account.name)

        app.add_api_route("/login/{account}", log_in, methods=["POST"])
        app.add_api_route("/entry", entry)

        @app.post("/password", dependencies=[Depends(required)])
        async def password(request: Request) -> Response:
            return await change(request)

    else:
        from starlette.applications import Starlette
        from starlette.routing import Route

        @login_required
        async def me_page(request: Request) -> Response:
            return PlainTextResponse(request.user.name)

        app = Starlette(
            routes=[
                Route("/login/{account}", log_in, methods=["POST"]),
                Route("/me", me_page),
                Route("/entry", entry),
                Route("/password", login_required(change), methods=["POST"]),
            ],
            middleware=middleware,
        )

    def get(client: Any, path: str) -> tuple[int, str]:
        response = client.get(path)
        return response.status_code, response.text

    def post(client: Any, path: str, body: str) -> tuple[int, str]:
        response = client.post(path, content=body)
        return response.status_code, response.text

    name = ("fastapi-" if fastapi else "starlette-") + kind
    return Site(
        name,
        passport,
        accounts,
        clock,
        lambda: TestClient(app),
        get,
        post,
        lambda client: client.cookies.get("session"),
        counting,
        ended,
    )


# -- Flask ---------------------------------------------------------------------------------


def flask_site(kind: str, store: SessionStore | None = None, **timeouts: Any) -> Site:
    """`kind` is "cookie" (Flask's own session) or "server" (`ServerSideSessionInterface`)."""
    import flask

    from passport_py.adapters.flask import (
        FlaskPassport,
        ServerSideSessionInterface,
        aget_user,
        current_user,
        get_user,
        login,
        login_required,
        update_session_auth,
    )

    accounts, clock, ended = default_accounts(), Clock(), []
    passport = make_passport(accounts, clock, ended, **timeouts)
    counting = CountingBothSides(store) if store is not None else None
    app = flask.Flask(__name__)
    app.secret_key = SECRET
    if counting is not None:
        app.session_interface = ServerSideSessionInterface(counting)
    FlaskPassport(app, passport)

    @app.post("/login/<int:account>")
    def log_in(account: int) -> str:
        login(accounts[account])
        return "ok"

    @app.get("/me")
    @login_required
    def me() -> str:
        return str(current_user.name)

    @app.get("/ame")
    async def ame() -> Any:
        user = await aget_user()
        return (user.name, 200) if user else ("anonymous", 401)

    @app.get("/entry")
    def entry() -> Any:
        get_user()  # restore first, as the other frameworks' middleware do
        return flask.jsonify(flask.session.get("passport"))

    @app.post("/password")
    @login_required
    def change() -> str:
        account = current_user._get_current_object()
        account.password_hash = flask.request.get_data(as_text=True)
        if flask.request.args.get("keep") != "0":
            update_session_auth(account)
        return "changed"

    def get(client: Any, path: str) -> tuple[int, str]:
        response = client.get(path)
        return response.status_code, response.get_data(as_text=True)

    def post(client: Any, path: str, body: str) -> tuple[int, str]:
        response = client.post(path, data=body)
        return response.status_code, response.get_data(as_text=True)

    def cookie(client: Any) -> str | None:
        found = client.get_cookie("session")
        return found.value if found is not None else None

    return Site(
        f"flask-{kind}",
        passport,
        accounts,
        clock,
        app.test_client,
        get,
        post,
        cookie,
        counting,
        ended,
    )


# -- Django --------------------------------------------------------------------------------

_DJANGO: dict[str, Any] = {}
"""The Django site being tested: its accounts (the views below read them)."""


def _django_views() -> list[Any]:
    from django.http import HttpRequest, HttpResponse, JsonResponse
    from django.urls import path

    from passport_py.adapters.django import (
        aupdate_session_auth,
        is_authenticated,
        login,
        login_required,
        update_session_auth,
    )

    def log_in(request: HttpRequest, account: int) -> HttpResponse:
        login(request, _DJANGO["accounts"][account])
        return HttpResponse("ok")

    @login_required
    def me(request: HttpRequest) -> HttpResponse:
        return HttpResponse(request.user.name)

    def entry(request: HttpRequest) -> HttpResponse:
        is_authenticated(request)  # Django restores lazily: restore first, as elsewhere
        return JsonResponse(request.session.get("passport"), safe=False)

    @login_required
    def change(request: HttpRequest) -> HttpResponse:
        account = request.user
        account.password_hash = request.body.decode()
        if request.GET.get("keep") != "0":
            update_session_auth(request, account)
        return HttpResponse("changed")

    async def ame(request: HttpRequest) -> HttpResponse:
        user = await request.auser()
        if not getattr(user, "name", None):
            return HttpResponse("anonymous", status=401)
        return HttpResponse(user.name)

    async def achange(request: HttpRequest) -> HttpResponse:
        account = await request.auser()
        account.password_hash = request.body.decode()
        await aupdate_session_auth(request, account)
        return HttpResponse("changed")

    return [
        path("ame", ame),
        path("apassword", achange),
        path("login/<int:account>", log_in),
        path("me", me),
        path("entry", entry),
        path("password", change),
    ]


def __getattr__(name: str) -> Any:
    # This module is the Django sites' URLconf; the views import Django only when asked for.
    if name == "urlpatterns":
        return _django_views()
    raise AttributeError(name)


def django_site(engine: str, fixtures: Any, **timeouts: Any) -> Site:
    """`engine` is a Django session engine's module name ("signed_cookies", "db")."""
    import django_project
    from django.conf import settings
    from django.test import Client, override_settings
    from django_project import passports

    accounts, clock, ended = default_accounts(), Clock(), []
    passport = make_passport(accounts, clock, ended, **timeouts)
    _DJANGO["accounts"] = accounts
    overrides = override_settings(
        ROOT_URLCONF=__name__, SESSION_ENGINE=f"django.contrib.sessions.backends.{engine}"
    )
    overrides.enable()
    fixtures.addfinalizer(overrides.disable)
    if engine == "db":
        database = django_project.database()
        database.__enter__()
        fixtures.addfinalizer(lambda: database.__exit__(None, None, None))

    def make_client() -> Client:
        passports.current = passport
        client = Client()
        client.handler.load_middleware()  # reads PASSPORT_AUTHENTICATOR now, for this client
        return client

    def get(client: Any, path: str) -> tuple[int, str]:
        response = client.get(path)
        return response.status_code, response.content.decode()

    def post(client: Any, path: str, body: str) -> tuple[int, str]:
        response = client.post(path, data=body, content_type="text/plain")
        return response.status_code, response.content.decode()

    def cookie(client: Any) -> str | None:
        found = client.cookies.get(settings.SESSION_COOKIE_NAME)
        return found.value if found is not None and found.value else None

    def stored(client: Any) -> Any:
        from django.contrib.sessions.models import Session

        return Session.objects.get(pk=cookie(client)).session_data

    return Site(
        f"django-{engine}",
        passport,
        accounts,
        clock,
        make_client,
        get,
        post,
        cookie,
        None,
        ended,
        stored if engine == "db" else None,
    )


#: Every site: (adapter, session type).
SITES = [
    "starlette-cookie",
    "starlette-memory",
    "starlette-redis",
    "fastapi-cookie",
    "flask-cookie",
    "flask-redis",
    "django-signed_cookies",
    "django-db",
]


def build_site(name: str, fixtures: Any, **timeouts: Any) -> Site:
    """The site `name` (one of `SITES`); `fixtures` is pytest's `request`, for Redis."""
    from passport_py.sessions import MemoryStore

    if name == "starlette-cookie":
        return starlette_site("cookie", **timeouts)
    if name == "starlette-memory":
        return starlette_site("server", MemoryStore(), **timeouts)
    if name == "starlette-redis":
        return starlette_site("server", fixtures.getfixturevalue("redis_store"), **timeouts)
    if name == "fastapi-cookie":
        return starlette_site("cookie", fastapi=True, **timeouts)
    if name == "flask-cookie":
        return flask_site("cookie", **timeouts)
    if name == "flask-redis":
        return flask_site("server", fixtures.getfixturevalue("redis_store"), **timeouts)
    if name.startswith("django-"):
        return django_site(name.removeprefix("django-"), fixtures, **timeouts)
    raise AssertionError(name)
