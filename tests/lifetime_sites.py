"""One small app per adapter and session type, for the session timeout and password tests.

Every site serves the same routes over its framework's own session:

    POST /login/<id>   logs account <id> in (the adapter's `login`)
    GET  /me           `login_required`: the account's name, 401 for an anonymous API client
    POST /password     sets the logged-in account's password hash to the body, then calls the
                       adapter's `update_session_auth` (unless `?keep=0`)
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
    store: CountingStore | None = None
    ended: list[SessionEnded] = field(default_factory=list)

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

    def writes(self) -> int:
        """Store writes so far (server-side sessions only)."""
        assert self.store is not None
        return self.store.calls["set"] + self.store.calls["touch"]


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
    counting = CountingStore(store) if store is not None else None

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


#: Every site: (adapter, session type).
SITES = ["starlette-cookie", "starlette-memory", "starlette-redis", "fastapi-cookie"]


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
    raise AssertionError(name)
