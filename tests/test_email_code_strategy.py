"""`EmailCodeStrategy` itself: as a second factor, its configuration, and what it keeps.

The second-factor tests call the strategy from a real Starlette route with
`options.replace(subject=Subject(...))`, the way the engine will once it sets the subject of a
pending login; the session is Starlette's (a signed cookie the client can read), and the codes
go through a real SMTP server on loopback (tests/smtp_server.py).
"""

from __future__ import annotations

import base64
import json
import statistics
import time
from collections.abc import Iterator
from typing import Any

import pytest
from smtp_server import SmtpServer, async_smtp_send
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from users import User

from passport_py import AuthenticateOptions, Fail, Pass, Success
from passport_py.adapters.starlette import StarletteAuthRequest
from passport_py.errors import BadRequest, ConfigurationError
from passport_py.options import Subject
from passport_py.strategies.email_code import EmailCodeStrategy
from passport_py.strategy import Strategy

SECRET = "email-code-strategy-secret-0f4b8e2a6c1d9e3f"
USERS = {1: User(1, "alice"), 2: User(2, "bob"), 3: User(3, "carol")}
ADDRESSES = {1: "alice@example.com", 2: "bob@example.com"}  # carol has none


async def address_of(user: User) -> str | None:
    return ADDRESSES.get(user.id)


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def mailbox(smtp: SmtpServer) -> SmtpServer:
    smtp.clear()
    return smtp


def app_for(strategy: EmailCodeStrategy) -> TestClient:
    """`POST /check?user=N` runs `strategy` with user N as the subject (none without `user`);
    `GET /session` shows the session as the client could read it."""

    async def check(request: Request) -> Response:
        wanted = request.query_params.get("user")
        user = USERS[int(wanted)] if wanted else None
        subject = Subject(user, user.id, True, ("pwd",)) if user else None
        options = AuthenticateOptions().replace(subject=subject, strategy_name="email-2fa")
        try:
            outcome = await strategy.authenticate(StarletteAuthRequest(request), options)
        except BadRequest as exc:
            return JSONResponse({"outcome": "BadRequest", "status": exc.status}, exc.status)
        return JSONResponse(describe(outcome))

    async def session(request: Request) -> Response:
        return JSONResponse(request.session)

    app = Starlette(
        routes=[Route("/check", check, methods=["POST"]), Route("/session", session)],
        middleware=[Middleware(SessionMiddleware, secret_key=SECRET)],
    )
    return TestClient(app)


def describe(outcome: Any) -> dict[str, Any]:
    if isinstance(outcome, Success):
        return {"outcome": "Success", "user": outcome.user.username}
    if isinstance(outcome, Fail):
        message = outcome.challenge.get("message") if isinstance(outcome.challenge, dict) else None
        return {"outcome": "Fail", "status": outcome.status, "message": message}
    assert isinstance(outcome, Pass)
    return {"outcome": "Pass"}


def second_factor(server: SmtpServer, **options: Any) -> EmailCodeStrategy:
    send = async_smtp_send(server)
    return EmailCodeStrategy(
        send, secret=SECRET, address_of=address_of, second_factor=True, **options
    )


def test_it_is_a_second_factor_only_when_asked_and_proves_an_email_code(
    mailbox: SmtpServer,
) -> None:
    assert EmailCodeStrategy.second_factor is False
    assert second_factor(mailbox).second_factor is True
    first = EmailCodeStrategy(lambda *a: None, secret=SECRET, lookup=lambda e: None)
    assert first.second_factor is False
    assert isinstance(first, Strategy) and first.amr == EmailCodeStrategy.amr == ("email",)


def test_as_a_second_factor_the_code_goes_to_the_subjects_address(mailbox: SmtpServer) -> None:
    browser = app_for(second_factor(mailbox))
    assert browser.post("/check?user=1").json() == {"outcome": "Pass"}
    assert [m["To"] for m in mailbox.messages] == ["alice@example.com"]
    code = mailbox.code_for("alice@example.com")
    answer = browser.post("/check?user=1", json={"code": code}).json()
    assert answer == {"outcome": "Success", "user": "alice"}
    reused = browser.post("/check?user=1", json={"code": code}).json()
    assert reused["outcome"] == "Fail" and reused["status"] == 401


def test_a_second_factor_code_is_bound_to_its_user(mailbox: SmtpServer) -> None:
    browser = app_for(second_factor(mailbox))
    browser.post("/check?user=1")
    code = mailbox.code_for("alice@example.com")
    refused = browser.post("/check?user=2", json={"code": code}).json()
    assert refused == {"outcome": "Fail", "status": 401, "message": "Wrong code."}


def test_a_second_factor_without_a_subject_fails(mailbox: SmtpServer) -> None:
    browser = app_for(second_factor(mailbox))
    refused = browser.post("/check").json()
    assert refused == {
        "outcome": "Fail",
        "status": 401,
        "message": "No login is waiting for a second factor",
    }
    assert mailbox.messages == []


def test_a_second_factor_for_a_user_without_an_address_is_refused(mailbox: SmtpServer) -> None:
    browser = app_for(second_factor(mailbox))
    refused = browser.post("/check?user=3").json()
    assert (refused["outcome"], refused["status"]) == ("Fail", 403)
    assert mailbox.messages == []
    assert browser.get("/session").json() == {}


def test_a_first_factor_mails_the_address_address_of_gives(mailbox: SmtpServer) -> None:
    stored = {"alice@example.com": "Alice.Liddell@Example.com"}
    strategy = EmailCodeStrategy(
        async_smtp_send(mailbox),
        secret=SECRET,
        lookup=lambda email: USERS[1] if email in stored else None,
        address_of=lambda user: stored["alice@example.com"],
    )
    browser = app_for(strategy)
    assert browser.post("/check", json={"email": "ALICE@example.com"}).json()["outcome"] == "Pass"
    code = mailbox.code_for("Alice.Liddell@Example.com")
    answer = browser.post("/check", json={"code": code}).json()
    assert answer == {"outcome": "Success", "user": "alice"}


def test_eight_digit_codes(mailbox: SmtpServer) -> None:
    browser = app_for(second_factor(mailbox, code_length=8))
    browser.post("/check?user=2")
    code = mailbox.code_for("bob@example.com")
    assert len(code) == 8
    typed = f"{code[:4]} {code[4:]}"  # people type spaces; they are dropped
    assert browser.post("/check?user=2", json={"code": typed}).json()["outcome"] == "Success"


def session_seen_by_the_client(browser: TestClient) -> dict[str, Any]:
    """The session decoded from its cookie, as anyone holding the cookie can."""
    cookie = browser.cookies["session"]
    payload = cookie.split(".")[0]
    data: dict[str, Any] = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    return data


def test_the_session_keeps_a_keyed_digest_and_never_the_code(mailbox: SmtpServer) -> None:
    browser = app_for(second_factor(mailbox))
    browser.post("/check?user=1")
    code = mailbox.code_for("alice@example.com")
    seen = session_seen_by_the_client(browser)
    assert seen == browser.get("/session").json()
    (pending,) = seen.values()
    assert set(pending) == {"for", "nonce", "digest", "expires", "attempts", "sent"}
    assert pending["for"] == "user:1" and pending["attempts"] == 5
    assert code not in json.dumps(seen)


@pytest.mark.parametrize(
    ("options", "fix"),
    [
        ({"secret": SECRET}, "lookup="),
        ({"secret": SECRET, "second_factor": True}, "address_of="),
        ({"secret": "too-short", "lookup": len}, "32 bytes"),
        ({"secret": SECRET, "lookup": len, "code_length": 5}, "6 to 10"),
        ({"secret": SECRET, "lookup": len, "code_length": True}, "6 to 10"),
        ({"secret": SECRET, "lookup": len, "max_attempts": 0}, "max_attempts"),
        ({"secret": SECRET, "lookup": len, "max_age": 0}, "max_age"),
        ({"secret": SECRET, "lookup": len, "resend_after": -1}, "resend_after"),
    ],
)
def test_a_misconfiguration_raises_at_construction_saying_what_to_fix(
    options: dict[str, Any], fix: str
) -> None:
    with pytest.raises(ConfigurationError, match=fix):
        EmailCodeStrategy(lambda *a: None, **options)


def test_an_unknown_address_takes_as_long_as_a_known_one() -> None:
    """The same work for both (lookup, code, digest, session write); only the mail differs,
    and a mailer that queues its message takes no time to speak of."""
    outbox: list[tuple[str, str]] = []
    accounts = {"alice@example.com": USERS[1]}
    strategy = EmailCodeStrategy(
        lambda address, code, request: outbox.append((address, code)),
        secret=SECRET,
        lookup=accounts.get,
        resend_after=0,
    )
    browser = app_for(strategy)
    timings: dict[str, list[float]] = {"alice@example.com": [], "nobody@example.com": []}
    for _ in range(60):
        for address, times in timings.items():
            start = time.perf_counter()
            assert browser.post("/check", json={"email": address}).json() == {"outcome": "Pass"}
            times.append(time.perf_counter() - start)
    assert len(outbox) == 60
    known, unknown = (statistics.median(t) for t in timings.values())
    assert abs(known - unknown) < 0.005
