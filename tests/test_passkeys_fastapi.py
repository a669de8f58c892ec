"""Passkeys through FastAPI's dependencies and a software authenticator: registration behind
`Depends(fresh_login_required(...))`, a passwordless login through
`Depends(authenticate("webauthn"))`, and the answers to a bad or replayed assertion."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response
from passkey_authenticator import SoftAuthenticator
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.testclient import TestClient

from passport_py import Authenticator
from passport_py.adapters import fastapi as passport_fastapi
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

ORIGIN = "http://localhost:8000"
RP = RelyingParty("localhost", "Example", [ORIGIN])


def make_app() -> FastAPI:
    handles = {"alice": new_user_handle()}
    passkeys: dict[bytes, tuple[str, Passkey]] = {}
    passport: Authenticator[str] = Authenticator()
    passport.use(LocalStrategy(lambda name, password: name if password == "wonderland" else None))
    passport.use(WebAuthnStrategy(RP, passkeys.get, lambda passkey, count: None))
    passport.serialize_user(lambda user: user)
    passport.deserialize_user(lambda name: name if name in handles else None)
    app = FastAPI(
        middleware=[
            Middleware(SessionMiddleware, secret_key="fastapi-passkey-tests-secret-0123456789"),
            Middleware(passport_fastapi.PassportMiddleware, passport=passport),
        ]
    )
    fresh = passport_fastapi.fresh_login_required(max_age=300)

    @app.post("/login")
    def log_in(user: str = Depends(passport_fastapi.authenticate("local"))) -> dict[str, str]:
        return {"user": user}

    @app.get("/passkeys/register/options")
    def register_options(request: Request, user: str = Depends(fresh)) -> Response:
        options = begin_registration(request.session, RP, user_handle=handles[user], user_name=user)
        return Response(options, media_type="application/json")

    @app.post("/passkeys/register")
    async def register(request: Request, user: str = Depends(fresh)) -> Any:
        try:
            passkey = finish_registration(request.session, RP, await request.body())
        except PasskeyError as error:
            return Response(error.message, status_code=error.status)
        passkeys[passkey.credential_id] = (user, passkey)
        return {"registered": True}

    @app.get("/passkeys/login/options")
    def login_options(request: Request) -> Response:
        return Response(begin_authentication(request.session, RP), media_type="application/json")

    @app.post("/passkeys/login")
    def passkey_login(
        user: str = Depends(passport_fastapi.authenticate("webauthn")),
    ) -> dict[str, str]:
        return {"user": user}

    @app.get("/me")
    def me(user: str = Depends(passport_fastapi.login_required)) -> dict[str, str]:
        return {"user": user}

    return app


def test_a_passkey_registered_through_fastapi_logs_in_without_a_password() -> None:
    app, device = make_app(), SoftAuthenticator(ORIGIN)
    with TestClient(app, base_url=ORIGIN) as browser:
        assert browser.get("/passkeys/register/options").status_code == 401  # nobody logged in
        browser.post("/login", json={"username": "alice", "password": "wonderland"})
        options = browser.get("/passkeys/register/options").text
        assert browser.post("/passkeys/register", json=device.create(options)).json() == {
            "registered": True
        }
    with TestClient(app, base_url=ORIGIN) as later:
        options = later.get("/passkeys/login/options").text
        assertion = device.get(options)
        assert later.post("/passkeys/login", json=assertion).json() == {"user": "alice"}
        assert later.get("/me").json() == {"user": "alice"}
        replayed = later.post("/passkeys/login", json=assertion)  # its challenge is used up
        assert replayed.status_code == 401
    with TestClient(app, base_url=ORIGIN) as stranger:
        options = stranger.get("/passkeys/login/options").text
        forged = device.get(options, origin="https://evil.example")
        assert stranger.post("/passkeys/login", json=forged).status_code == 401
        assert stranger.get("/me").status_code == 401
        stranger.get("/passkeys/login/options")
        garbled = stranger.post(
            "/passkeys/login", content=b"{", headers={"content-type": "application/json"}
        )
        assert garbled.status_code == 400
