"""The demo's two-factor pages through Starlette's TestClient: turning on an authenticator app
(behind "confirm it's you"), logging in with password + code or a recovery code, logging in by
a code from the mailbox, and what is refused. Chromium runs the main path in
test_demo_browser.py."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pyotp
import pytest
from starlette.testclient import TestClient
from test_demo import HTML, NAME, PASSWORD, SECRET

from passport_py.demo.app import build_app
from passport_py.sessions import MemoryStore

ALICE = {"username": NAME, "password": PASSWORD}


@pytest.fixture
def app() -> object:
    return build_app(SECRET, store=MemoryStore())


@pytest.fixture
def browser(app: object) -> Iterator[TestClient]:
    with TestClient(app, headers=HTML, follow_redirects=False) as client:  # type: ignore[arg-type]
        yield client


def flashes(page: str) -> list[str]:
    return re.findall(r'role="alert">([^<]*)<', page)


def enroll(browser: TestClient) -> tuple[str, list[str], str]:
    """Log in, set up an authenticator app; its secret, the recovery codes shown once and the
    code that confirmed it."""
    assert browser.post("/login", data=ALICE).headers["location"] == "/"
    setup = browser.get("/account/totp")
    assert setup.status_code == 200 and setup.headers["cache-control"] == "no-store"
    assert "<svg" in setup.text
    (key,) = re.findall(r"Or type the key: <code>([A-Z2-7 ]+)</code>", setup.text)
    secret = key.replace(" ", "")
    wrong = browser.post("/account/totp", data={"code": "000000"})
    assert wrong.headers["location"] == "/account/totp"
    used = pyotp.TOTP(secret).now()
    shown = browser.post("/account/totp", data={"code": used})
    assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", shown.text)
    assert len(codes) == 10
    assert "Two-factor login is on." in browser.get("/account/security").text
    browser.post("/logout")
    return secret, codes, used


def test_with_an_app_enrolled_the_password_alone_does_not_log_in(browser: TestClient) -> None:
    secret, _, used = enroll(browser)
    first = browser.post("/login", data=ALICE)
    assert first.headers["location"] == "/login/second-factor"
    assert "Logged in as" not in browser.get("/").text
    page = browser.get("/login/second-factor").text
    assert "Code from your authenticator app" in page and "A recovery code" in page
    # The enrollment spent this step's code; the next step's is within the window.
    spent = browser.post("/login/second-factor", data={"code": used})
    assert spent.headers["location"] == "/login/second-factor"
    code = pyotp.TOTP(secret).at(time.time() + 30)
    assert browser.post("/login/second-factor", data={"code": code}).headers["location"] == "/"
    entry_page = browser.get("/")
    assert "Logged in as <b>alice</b>." in entry_page.text


def test_password_then_a_recovery_code_logs_in_once(browser: TestClient, app: object) -> None:
    _, codes, _ = enroll(browser)
    browser.post("/login", data=ALICE)
    done = browser.post("/login/recovery", data={"code": codes[0].upper()})
    assert done.headers["location"] == "/"
    assert "Logged in as" in browser.get("/").text
    assert "9 unused recovery codes" in browser.get("/account/security").text
    with TestClient(app, headers=HTML, follow_redirects=False) as other:  # type: ignore[arg-type]
        other.post("/login", data=ALICE)
        again = other.post("/login/recovery", data={"code": codes[0]})
        assert again.headers["location"] == "/login/second-factor"
        assert "Logged in as" not in other.get("/").text


def test_the_code_page_without_a_pending_login_sends_back_to_the_login(
    browser: TestClient,
) -> None:
    answer = browser.get("/login/second-factor")
    assert answer.headers["location"] == "/login"
    refused = browser.post("/login/second-factor", data={"code": "123456"})
    assert refused.headers["location"] == "/login/second-factor"
    assert "Logged in as" not in browser.get("/").text


def test_security_settings_need_a_recent_login(browser: TestClient, app: object) -> None:
    browser.post("/login", data=ALICE)
    assert browser.get("/account/totp").status_code == 200  # just logged in: fresh
    # A remembered login is never fresh: it is sent to "confirm it's you".
    with TestClient(app, headers=HTML, follow_redirects=False) as laptop:  # type: ignore[arg-type]
        laptop.post("/login", data={**ALICE, "remember_me": "on"})
        remembered = {"remember_me": laptop.cookies["remember_me"]}
    with TestClient(app, headers=HTML, follow_redirects=False, cookies=remembered) as later:  # type: ignore[arg-type]
        answer = later.get("/account/totp")
        assert answer.headers["location"].startswith("/account/confirm?next=")
        confirm = later.get(answer.headers["location"]).text
        assert (
            'value="alice" readonly' in confirm and 'action="/login?next=/account/totp"' in confirm
        )
        back = later.post("/login?next=/account/totp", data=ALICE)
        assert back.headers["location"] == "/account/totp"
        assert later.get("/account/totp").status_code == 200


def test_log_in_by_a_code_from_the_mailbox(browser: TestClient) -> None:
    asked = browser.post("/login/email", data={"email": "Alice@Example.com"})
    assert asked.headers["location"] == "/login/email"
    assert "a code is on its way" in browser.get("/login/email").text
    mailbox = browser.get("/mailbox").text
    (code,) = re.findall(r"Your login code is ([0-9]{6})\.", mailbox)
    assert "To alice@example.com" in mailbox
    done = browser.post("/login/email", data={"email": "Alice@Example.com", "code": code})
    assert done.headers["location"] == "/"
    assert "Logged in as <b>alice</b>." in browser.get("/").text


def test_an_unknown_address_gets_the_same_answer_and_no_mail(browser: TestClient) -> None:
    asked = browser.post("/login/email", data={"email": "mallory@example.com"})
    assert asked.headers["location"] == "/login/email"
    assert "mallory@example.com has an account, a code is on its way" in (
        browser.get("/login/email").text
    )
    assert "No messages yet." in browser.get("/mailbox").text


def test_a_wrong_email_code_is_refused_in_words(browser: TestClient) -> None:
    browser.post("/login/email", data={"email": "alice@example.com"})
    wrong = browser.post("/login/email", data={"email": "alice@example.com", "code": "000000"})
    assert wrong.headers["location"] == "/login/email"
    assert "Wrong code." in flashes(browser.get("/login/email").text)
