"""The demo's login form is throttled: after 5 failures in a row the account waits, even with
the right password, and the login page says when to try again (README.md states the limits).
Chromium meets the same page in test_demo_browser.py."""

from __future__ import annotations

import re

from starlette.testclient import TestClient
from test_demo import HTML, NAME, PASSWORD, SECRET

from passport_py.demo.app import build_app
from passport_py.sessions import MemoryStore
from passport_py.throttle import LoginThrottle, MemoryThrottleStore

WAIT = "Too many failed login attempts. Try again in 30 seconds."


class Clock:
    now = 1_000.0

    def __call__(self) -> float:
        return self.now


def attempt(browser: TestClient, name: str, password: str) -> list[str]:
    """Post the login form; the messages the login page then shows."""
    answer = browser.post("/login", data={"username": name, "password": password})
    if answer.headers["location"] == "/":
        return []
    return re.findall(r'role="alert">([^<]*)<', browser.get("/login").text)


def test_after_five_failures_even_the_right_password_waits_and_the_page_says_how_long() -> None:
    clock = Clock()
    throttle = LoginThrottle(MemoryThrottleStore(clock=clock))
    app = build_app(SECRET, store=MemoryStore(), throttle=throttle)
    with TestClient(app, headers=HTML, follow_redirects=False) as browser:
        for _ in range(5):
            assert attempt(browser, NAME, "wrong") == ["Incorrect username or password."]
        assert attempt(browser, NAME, PASSWORD) == [WAIT]
        clock.now += 30
        assert attempt(browser, NAME, PASSWORD) == []  # logged in
        assert "Logged in as" in browser.get("/").text


def test_an_unknown_account_is_answered_the_same_way() -> None:
    clock = Clock()
    app = build_app(
        SECRET, store=MemoryStore(), throttle=LoginThrottle(MemoryThrottleStore(clock=clock))
    )
    with TestClient(app, headers=HTML, follow_redirects=False) as browser:
        for _ in range(5):
            assert attempt(browser, "mallory", "guess") == ["Incorrect username or password."]
        assert attempt(browser, "mallory", "guess") == [WAIT]
        assert attempt(browser, NAME, PASSWORD) == []  # another account is not held up
