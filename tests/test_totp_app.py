"""TOTP in a real Starlette app: enrollment page, confirmation, then logins with codes.

The app keeps its users in SQLite, and `save_step` is the compare-and-set UPDATE the docs
recommend. The pending login is the stand-in of tests/factor_apps.py until the engine's
lands; the strategy is the one registered with the authenticator.
"""

from __future__ import annotations

import html
import re
import sqlite3
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
from factor_apps import FrozenClock, second_factor_app
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from passport_py import Authenticator
from passport_py.strategies.totp import (
    TotpStrategy,
    confirm_enrollment,
    new_totp_secret,
    totp_qr_svg,
    totp_uri,
)

NOW = 1_700_000_000.0


class Users:
    """The app's user table: name, TOTP secret (None until enrolled) and last used step."""

    def __init__(self) -> None:
        self.db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        self.db.execute("CREATE TABLE users (name TEXT PRIMARY KEY, secret TEXT, step INTEGER)")
        self.db.execute("INSERT INTO users (name) VALUES ('alice'), ('bob')")

    def get(self, name: str) -> str | None:
        row = self.db.execute("SELECT name FROM users WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def lookup(self, user: str) -> tuple[str, int | None] | None:
        row = self.db.execute("SELECT secret, step FROM users WHERE name = ?", (user,)).fetchone()
        return None if row is None or row[0] is None else (row[0], row[1])

    def save_step(self, user: str, step: int) -> bool:
        cursor = self.db.execute(
            "UPDATE users SET step = ? WHERE name = ? AND (step IS NULL OR step < ?)",
            (step, user, step),
        )
        return cursor.rowcount == 1

    def enroll(self, user: str, secret: str, step: int) -> None:
        self.db.execute(
            "UPDATE users SET secret = ?, step = ? WHERE name = ?", (secret, step, user)
        )


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def users() -> Users:
    return Users()


@pytest.fixture
def client(users: Users, clock: FrozenClock) -> Iterator[TestClient]:
    passport: Authenticator[Any] = Authenticator()
    passport.use(TotpStrategy(users.lookup, users.save_step, clock=clock))

    async def sign_in(request: Request) -> Response:
        # Stands in for a full login: enrollment is for a logged-in user.
        request.session["user"] = request.path_params["name"]
        return Response(status_code=204)

    async def enroll_page(request: Request) -> Response:
        name = request.session["user"]
        secret = request.session["enrolling"] = new_totp_secret()
        uri = totp_uri(secret, f"{name}@example.com", "Example")
        page = (
            "<h1>Set up your authenticator app</h1>"
            f"{totp_qr_svg(uri, title='QR code for your authenticator app')}"
            f"<p>Or enter this key: <code>{html.escape(secret)}</code></p>"
            '<form method="post"><input name="code" autocomplete="one-time-code"></form>'
        )
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    async def enroll_confirm(request: Request) -> Response:
        secret = request.session.get("enrolling")
        code = str((await request.form()).get("code", ""))
        step = None if secret is None else confirm_enrollment(secret, code, clock=clock)
        if secret is None or step is None:
            return JSONResponse({"error": "That code is not right: try the next one"}, 400)
        users.enroll(request.session["user"], secret, step)
        del request.session["enrolling"]
        return JSONResponse({"enrolled": True})

    app = second_factor_app(
        passport,
        users.get,
        [
            Route("/sign-in/{name}", sign_in, methods=["POST"]),
            Route("/enroll", enroll_page),
            Route("/enroll", enroll_confirm, methods=["POST"]),
        ],
    )
    with TestClient(app) as test_client:
        yield test_client


def enroll(client: TestClient, name: str = "alice") -> str:
    """Enroll `name` through the pages; the secret the page showed."""
    assert client.post(f"/sign-in/{name}").status_code == 204
    page = client.get("/enroll")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "<svg" in page.text
    match = re.search(r"<code>([A-Z2-7]{32})</code>", page.text)
    assert match
    secret = match.group(1)
    assert client.post("/enroll", data={"code": pyotp.TOTP(secret).at(NOW)}).json() == {
        "enrolled": True
    }
    return secret


def second_factor(client: TestClient, code: Any, name: str = "alice", **kwargs: Any) -> Any:
    assert client.post("/login", data={"username": name}).status_code == 200
    return client.post("/second-factor/totp", data={"code": code}, **kwargs)


def test_enrollment_is_stored_only_after_a_valid_code(client: TestClient, users: Users) -> None:
    client.post("/sign-in/alice")
    page = client.get("/enroll")
    secret = re.search(r"<code>([A-Z2-7]{32})</code>", page.text).group(1)  # type: ignore[union-attr]
    wrong = client.post("/enroll", data={"code": pyotp.TOTP(secret).at(NOW - 90)})
    assert wrong.status_code == 400
    assert users.lookup("alice") is None
    assert client.post("/enroll", data={"code": pyotp.TOTP(secret).at(NOW)}).status_code == 200
    assert users.lookup("alice") == (secret, NOW // 30)


def test_the_enrollment_code_cannot_be_used_to_log_in(
    client: TestClient, clock: FrozenClock
) -> None:
    secret = enroll(client)
    refused = second_factor(client, pyotp.TOTP(secret).at(NOW))
    assert refused.status_code == 401
    assert refused.json() == {"challenge": {"message": "Invalid or already used code"}}
    clock.now = NOW + 30
    assert second_factor(client, pyotp.TOTP(secret).at(NOW + 30)).json() == {"user": "alice"}


def test_a_login_code_is_accepted_once(client: TestClient, clock: FrozenClock) -> None:
    secret = enroll(client)
    clock.now = NOW + 300
    code = pyotp.TOTP(secret).at(clock.now)
    assert second_factor(client, code).status_code == 200
    assert second_factor(client, code).status_code == 401


def test_a_user_who_has_not_enrolled_is_refused(client: TestClient) -> None:
    answer = second_factor(client, "123456", name="bob")
    assert answer.status_code == 401
    assert (
        answer.json()["challenge"]["message"] == "No authenticator app is set up for this account"
    )


def test_without_a_pending_login_the_code_is_refused(client: TestClient) -> None:
    secret = enroll(client)
    answer = client.post("/second-factor/totp", data={"code": pyotp.TOTP(secret).at(NOW + 30)})
    assert answer.status_code == 401
    assert answer.json()["challenge"]["message"] == "No login is waiting for a second factor"


@pytest.mark.parametrize(
    "body",
    [
        {"data": {"code": "12 345"}},
        {"data": {"code": "12345"}},
        {
            "content": b"code=123456&code=123456",
            "headers": {"content-type": "application/x-www-form-urlencoded"},
        },
        {"json": {"code": 123456}},
        {"json": "123456"},
    ],
)
def test_malformed_codes_get_400(client: TestClient, body: dict[str, Any]) -> None:
    client.post("/login", data={"username": "alice"})
    answer = client.post("/second-factor/totp", **body)
    assert answer.status_code == 400
    assert answer.json()["challenge"]["message"] == "Enter the 6-digit code"


def test_a_huge_body_is_refused_without_a_server_error(client: TestClient) -> None:
    client.post("/login", data={"username": "alice"})
    answer = client.post("/second-factor/totp", data={"code": "1" * (2 * 1024 * 1024)})
    assert answer.status_code == 413
    assert "challenge" in answer.json()
