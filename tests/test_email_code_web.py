"""Passwordless login by email code through real Starlette, Flask and Django apps
(tests/email_code_apps.py), the codes delivered over SMTP to a real server on loopback
(tests/smtp_server.py) and read back from the received mail.

Starlette's app mails from a worker thread (an async `send`), Flask's and Django's with plain
`smtplib` (a sync `send`). Time is an injected clock; nothing is mocked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.test import override_settings
from email_code_apps import CHECK_EMAIL, FRAMEWORKS, client, clients, code_passport, lookup
from smtp_server import SmtpServer, async_smtp_send, smtp_send
from users import User

from passport_py import Authenticator
from passport_py.strategies.email_code import EmailCodeStrategy
from passport_py.throttle import LoginThrottle, MemoryThrottleStore

ALICE = "alice@example.com"
SECRET = "email-code-strategy-secret-0f4b8e2a6c1d9e3f"


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def mailbox(smtp: SmtpServer) -> SmtpServer:
    smtp.clear()
    return smtp


@pytest.fixture(params=FRAMEWORKS)
def framework(request: pytest.FixtureRequest) -> Iterator[str]:
    with override_settings(ROOT_URLCONF="email_code_apps"):
        yield str(request.param)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def strategy_for(framework: str, server: SmtpServer, clock: Clock, **options: Any) -> Any:
    send = async_smtp_send(server) if framework == "starlette" else smtp_send(server)
    return EmailCodeStrategy(send, secret=SECRET, lookup=lookup, clock=clock, **options)


@pytest.fixture
def passport(framework: str, mailbox: SmtpServer, clock: Clock) -> Authenticator[User]:
    return code_passport(strategy_for(framework, mailbox, clock))


@pytest.fixture
def browser(framework: str, passport: Authenticator[User]) -> httpx.Client:
    return client(framework, passport)


def ask(browser: httpx.Client, email: str = ALICE) -> httpx.Response:
    return browser.post("/code", json={"email": email})


def flashes(browser: httpx.Client) -> list[list[str]]:
    flashed: list[list[str]] = browser.get("/code").json()["flashes"]
    return flashed


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_code_mailed_to_the_address_logs_the_user_in(
    browser: httpx.Client, mailbox: SmtpServer
) -> None:
    asked = ask(browser, " Alice@Example.COM ")
    assert (asked.status_code, asked.json()) == (200, {"user": None})
    assert browser.get("/me").json() == {"user": None}
    (message,) = mailbox.to(ALICE)  # the normalized address, not the spelling typed
    assert message["Subject"] == "Your login code"
    code = mailbox.code_for(ALICE)
    assert len(code) == 6
    answer = browser.post("/code", json={"code": code})
    assert (answer.status_code, answer.json()) == (200, {"user": "alice"})
    assert browser.get("/me").json() == {"user": "alice"}


def test_a_form_login_by_code_redirects_home(browser: httpx.Client, mailbox: SmtpServer) -> None:
    asked = browser.post("/code/form", data={"email": ALICE})
    assert (asked.status_code, asked.text) == (200, CHECK_EMAIL)
    logged_in = browser.post("/code/form", data={"code": mailbox.code_for(ALICE)})
    assert (logged_in.status_code, logged_in.headers["location"]) == (302, "/")
    assert browser.get("/me").json() == {"user": "alice"}


def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    framework: str, passport: Authenticator[User], mailbox: SmtpServer
) -> None:
    known, unknown = clients(framework, passport, 2)
    answers = [ask(known, ALICE), ask(unknown, "mallory@example.com")]
    assert answers[0].status_code == answers[1].status_code == 200
    assert answers[0].content == answers[1].content
    assert sorted(answers[0].headers.keys()) == sorted(answers[1].headers.keys())
    assert [m["To"] for m in mailbox.messages] == [ALICE]
    # Any code is refused for the unknown address, just as a wrong code for a known one.
    refused = unknown.post("/code", json={"code": "123456"})
    assert refused.status_code == 401


def test_five_wrong_codes_discard_the_code(browser: httpx.Client, mailbox: SmtpServer) -> None:
    ask(browser)
    code = mailbox.code_for(ALICE)
    for _ in range(4):
        assert browser.post("/code/form", data={"code": wrong(code)}).status_code == 302
    assert flashes(browser) == [["error", "Wrong code."]] * 4
    browser.post("/code/form", data={"code": wrong(code)})
    assert flashes(browser) == [["error", "Too many wrong codes; ask for a new one."]]
    refused = browser.post("/code", json={"code": code})
    assert refused.status_code == 401
    assert browser.get("/me").json() == {"user": None}


def test_an_expired_code_is_refused(
    browser: httpx.Client, mailbox: SmtpServer, clock: Clock
) -> None:
    ask(browser)
    clock.now += 600
    browser.post("/code/form", data={"code": mailbox.code_for(ALICE)})
    assert flashes(browser) == [["error", "The code has expired; ask for a new one."]]
    assert browser.get("/me").json() == {"user": None}


def test_a_code_is_refused_in_another_session(
    framework: str, passport: Authenticator[User], mailbox: SmtpServer
) -> None:
    asker, other = clients(framework, passport, 2)
    ask(asker)
    code = mailbox.code_for(ALICE)
    assert other.post("/code", json={"code": code}).status_code == 401
    assert other.get("/me").json() == {"user": None}
    # Still good where it was asked for: the other session's attempt did not touch it.
    assert asker.post("/code", json={"code": code}).json() == {"user": "alice"}


def test_a_code_is_bound_to_its_address(browser: httpx.Client, mailbox: SmtpServer) -> None:
    ask(browser)
    code = mailbox.code_for(ALICE)
    refused = browser.post("/code", json={"email": "bob@example.com", "code": code})
    assert refused.status_code == 401
    assert browser.get("/me").json() == {"user": None}


def test_a_new_code_waits_for_resend_after_and_replaces_the_old_one(
    browser: httpx.Client, mailbox: SmtpServer, clock: Clock
) -> None:
    ask(browser)
    first = mailbox.code_for(ALICE)
    clock.now += 59
    assert ask(browser).status_code == 429
    assert browser.post("/code/form", data={"email": ALICE}).status_code == 302
    assert flashes(browser) == [
        ["error", "A code was sent recently. Wait 1 second before asking for another."]
    ]
    assert len(mailbox.to(ALICE)) == 1
    clock.now += 1
    assert ask(browser).status_code == 200
    second = mailbox.to(ALICE)
    assert len(second) == 2
    if first != mailbox.code_for(ALICE):  # one chance in a million they are equal
        assert browser.post("/code", json={"code": first}).status_code == 401
    assert browser.post("/code", json={"code": mailbox.code_for(ALICE)}).status_code == 200


def test_a_used_code_is_refused(browser: httpx.Client, mailbox: SmtpServer) -> None:
    ask(browser)
    code = mailbox.code_for(ALICE)
    assert browser.post("/code", json={"code": code}).json() == {"user": "alice"}
    browser.cookies.clear()
    assert browser.post("/code", json={"code": code}).status_code == 401
    assert browser.get("/me").json() == {"user": None}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": ""},
        {"email": "not-an-address"},
        {"email": "a@b@example.com"},
        {"email": "al ice@example.com"},
        {"email": "x" * 250 + "@example.com"},
        {"email": ["alice@example.com"]},
        {"email": 7},
        {"code": "12ab56"},
        {"code": "1234567"},
        {"code": 123456},
        {"code": {"$ne": ""}},
    ],
)
def test_malformed_fields_are_answered_400(
    browser: httpx.Client, mailbox: SmtpServer, body: dict[str, Any]
) -> None:
    assert browser.post("/code", json=body).status_code == 400
    assert mailbox.messages == []


def test_a_malformed_form_gets_its_message(browser: httpx.Client) -> None:
    browser.post("/code/form", data={"email": "nobody"})
    browser.post(
        "/code/form",
        content="code=111111&code=222222",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert flashes(browser) == [
        ["error", "Enter a valid email address"],
        ["error", "Field 'code' was sent more than once"],
    ]


def test_a_code_asked_for_from_another_site_is_refused(
    browser: httpx.Client, mailbox: SmtpServer
) -> None:
    refused = browser.post(
        "/code", data={"email": ALICE}, headers={"Origin": "https://evil.example"}
    )
    assert refused.status_code == 403
    assert mailbox.messages == []


def test_the_login_throttle_counts_code_guesses_per_address(
    framework: str, mailbox: SmtpServer, clock: Clock
) -> None:
    passport = code_passport(strategy_for(framework, mailbox, clock))
    passport.throttle = LoginThrottle(MemoryThrottleStore(clock=clock))
    guesser = client(framework, passport)
    for guesses in (3, 2):
        clock.now += 60  # past resend_after
        ask(guesser)
        code = mailbox.code_for(ALICE)
        for _ in range(guesses):
            assert guesser.post("/code", json={"code": wrong(code)}).status_code == 401
    # Two codes, five guesses: the throttle's five per address are used, whatever the codes.
    throttled = guesser.post("/code", json={"code": mailbox.code_for(ALICE)})
    assert throttled.status_code == 429


def test_an_address_store_limits_codes_per_address_across_sessions(
    framework: str, mailbox: SmtpServer, clock: Clock
) -> None:
    store = MemoryThrottleStore(clock=clock)
    passport = code_passport(strategy_for(framework, mailbox, clock, address_store=store))
    first, second = clients(framework, passport, 2)
    assert ask(first).status_code == 200
    assert ask(second).status_code == 429
    assert ask(second, "bob@example.com").status_code == 200
    clock.now += 60
    assert ask(second).status_code == 200
    assert len(mailbox.to(ALICE)) == 2
