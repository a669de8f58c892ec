"""A Starlette app with passwords and passkeys, for tests/test_passkeys*.py (TestClient and
Chromium under uvicorn).

Accounts: alice and bob (password "wonderland"). bob's passkeys are his second factor (his
`second_factors` name "webauthn" once he has one); alice's log her in without a password.

| route                           | what it does                                                |
|---------------------------------|-------------------------------------------------------------|
| GET/POST /login                 | the password form / authenticate("local")                   |
| GET  /passkeys/register/options | registration options (fresh_login_required, 5 minutes)      |
| POST /passkeys/register         | finish_registration, stored; JSON {"redirect", "id"}         |
| GET  /passkeys/login/options    | options for any passkey of the site (discoverable)          |
| POST /passkeys/login            | authenticate("passkey"): passwordless; JSON {"redirect"}    |
| GET  /login/second-factor       | the page of a pending login (HTML)                          |
| GET  /login/second-factor/options | options for the pending user's passkeys                   |
| POST /login/second-factor       | authenticate("webauthn"): the second factor                 |
| GET  /me                        | JSON {"user", "amr"}                                        |
| GET  /, /account                | HTML pages with the buttons (Chromium)                      |
| POST /logout                    | logout                                                      |
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from passport_py import Authenticator
from passport_py.adapters.starlette import (
    PassportMiddleware,
    authenticate,
    fresh_login_required,
    is_authenticated,
    login_required,
    logout,
    pending_login,
)
from passport_py.adapters.starlette.passkeys import passkeys_script_route
from passport_py.events import PasskeyCounterRegressed
from passport_py.strategies.local import LocalStrategy
from passport_py.strategies.webauthn import (
    Passkey,
    PasskeyError,
    RelyingParty,
    WebAuthnStrategy,
    begin_authentication,
    begin_registration,
    finish_registration,
    new_user_handle,
)

SECRET = "passkey-tests-secret-4f0c9e1b7a2d5e8c6b3a"
PASSWORD = "wonderland"
ORIGIN = "http://localhost:8000"


@dataclass
class Store:
    """The app's database: user handles, passkeys by credential id, and counter events."""

    handles: dict[str, bytes] = field(
        default_factory=lambda: {"alice": new_user_handle(), "bob": new_user_handle()}
    )
    passkeys: dict[bytes, tuple[str, Passkey]] = field(default_factory=dict)
    regressions: list[PasskeyCounterRegressed] = field(default_factory=list)

    def of(self, user: str) -> list[Passkey]:
        return [p for owner, p in self.passkeys.values() if owner == user]

    def lookup(self, credential_id: bytes) -> tuple[str, Passkey] | None:
        return self.passkeys.get(credential_id)

    def save_sign_count(self, passkey: Passkey, count: int) -> None:
        owner, _ = self.passkeys[passkey.credential_id]
        stored = Passkey(**{**passkey.__dict__, "sign_count": count})
        self.passkeys[passkey.credential_id] = (owner, stored)


def page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><title>{title}</title><h1>{title}</h1>{body}"
        '<p id="error"></p><script src="/static/passkeys.js"></script>'
        "<script>function shown(e) { document.getElementById('error').textContent = e.message; }"
        "</script>"
    )


def create_app(
    origin: str | None = None,
    store: Store | None = None,
    clock: Callable[[], float] | None = None,
    **strategy_options: Any,
) -> Starlette:
    """The app for `origin` (default: $PASSKEY_ORIGIN, else http://localhost:8000)."""
    origin = origin or os.environ.get("PASSKEY_ORIGIN", ORIGIN)
    store = store if store is not None else Store()
    rp = RelyingParty("localhost", "Passkey tests", [origin])
    more: dict[str, Any] = {"clock": clock} if clock is not None else {}
    passport: Authenticator[str] = Authenticator(second_factor_url="/login/second-factor")
    if clock is not None:
        passport.sessions.clock = clock
    passport.use(LocalStrategy(lambda u, p: u if u in store.handles and p == PASSWORD else None))
    for name, second in (("passkey", False), ("webauthn", True)):
        strategy = WebAuthnStrategy(
            rp,
            store.lookup,
            store.save_sign_count,
            second_factor=second,
            events=passport.events,
            **more,
            **strategy_options,
        )
        passport.use(strategy, name)
    passport.serialize_user(lambda user: user)
    passport.deserialize_user(lambda name: name if name in store.handles else None)
    passport.events.on(PasskeyCounterRegressed, store.regressions.append)

    @passport.second_factors
    def factors(user: str) -> list[str]:
        return ["webauthn"] if user == "bob" and store.of(user) else []

    async def login_page(request: Request) -> Response:
        return page(
            "Log in",
            '<form method="post"><input name="username" autocomplete="username webauthn">'
            '<input name="password" type="password"><button>Log in</button></form>'
            '<button id="passkey" onclick="passportPasskeys.login(\'/passkeys/login/options\','
            " '/passkeys/login', {onError: shown})\">Log in with a passkey</button>",
        )

    @authenticate("local", success_return_to_or_redirect="/", failure_redirect="/login")
    async def log_in(request: Request) -> Response:  # pragma: no cover - options redirect
        return RedirectResponse("/", 303)

    @fresh_login_required(max_age=300)
    async def register_options(request: Request) -> Response:
        user = request.user
        options = begin_registration(
            request.session,
            rp,
            user_handle=store.handles[user],
            user_name=user,
            exclude=store.of(user),
            **more,
        )
        return Response(options, media_type="application/json")

    @fresh_login_required(max_age=300)
    async def register(request: Request) -> Response:
        body = await request.json()
        extra = body.get("extra") if isinstance(body, dict) else None
        name = extra.get("name") if isinstance(extra, dict) else None
        try:
            passkey = finish_registration(
                request.session, rp, body, name=name if isinstance(name, str) else "Passkey", **more
            )
        except PasskeyError as exc:
            return JSONResponse({"message": exc.message}, exc.status)
        if passkey.user_handle != store.handles[request.user]:
            return JSONResponse({"message": "Registration of another account"}, 400)
        store.passkeys[passkey.credential_id] = (request.user, passkey)
        return JSONResponse({"redirect": "/account", "id": passkey.credential_id_b64})

    async def login_options(request: Request) -> Response:
        options = begin_authentication(request.session, rp, **more)
        return Response(options, media_type="application/json")

    @authenticate("passkey")
    async def passkey_login(request: Request) -> Response:
        return JSONResponse({"redirect": "/"})

    async def second_page(request: Request) -> Response:
        if await pending_login(request) is None:
            return RedirectResponse("/login", 303)
        return page(
            "Confirm with your passkey",
            '<button id="confirm" onclick="passportPasskeys.login('
            "'/login/second-factor/options', '/login/second-factor', {onError: shown})\">"
            "Use my passkey</button>",
        )

    async def second_options(request: Request) -> Response:
        found = await pending_login(request)
        passkeys = store.of(found[0]) if found is not None else []
        options = begin_authentication(request.session, rp, passkeys=passkeys, **more)
        return Response(options, media_type="application/json")

    @authenticate("webauthn")
    async def second_factor(request: Request) -> Response:
        return JSONResponse({"redirect": "/"})

    async def me(request: Request) -> Response:
        user = request.user if is_authenticated(request) else None
        return JSONResponse({"user": user, "amr": request.session.get("passport", {}).get("amr")})

    @login_required
    async def home(request: Request) -> Response:
        return page(
            "Home",
            f"<p>Hello, {request.user}.</p><p><a href='/account'>Your passkeys</a></p>"
            '<form method="post" action="/logout"><button>Log out</button></form>',
        )

    @login_required
    async def account(request: Request) -> Response:
        names = "".join(f"<li>{p.name}</li>" for p in store.of(request.user))
        return page(
            "Your passkeys",
            f"<ul id='passkeys'>{names}</ul>"
            '<button id="add" onclick="passportPasskeys.register(\'/passkeys/register/options\','
            " '/passkeys/register', {name: 'Laptop'}, {onError: shown})\">Add a passkey</button>"
            '<form method="post" action="/logout"><button>Log out</button></form>',
        )

    async def log_out(request: Request) -> Response:
        await logout(request)
        return RedirectResponse("/login", 303)

    app = Starlette(
        routes=[
            Route("/", home),
            Route("/login", login_page),
            Route("/login", log_in, methods=["POST"]),
            Route("/account", account),
            Route("/passkeys/register/options", register_options),
            Route("/passkeys/register", register, methods=["POST"]),
            Route("/passkeys/login/options", login_options),
            Route("/passkeys/login", passkey_login, methods=["POST"]),
            Route("/login/second-factor", second_page),
            Route("/login/second-factor/options", second_options),
            Route("/login/second-factor", second_factor, methods=["POST"]),
            Route("/me", me),
            Route("/logout", log_out, methods=["POST"]),
            passkeys_script_route(),
        ],
        middleware=[
            Middleware(SessionMiddleware, secret_key=SECRET),
            Middleware(PassportMiddleware, passport=passport, login_url="/login"),
        ],
    )
    app.state.passport = passport
    return app
