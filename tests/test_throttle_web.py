"""Login throttling through real Starlette, FastAPI, Flask and Django apps
(tests/throttle_apps.py), on a `MemoryThrottleStore` with an injected clock.

Every test runs once per framework. Verify calls are counted by `users.UserStore`; nothing is
mocked.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings
from throttle_apps import FRAMEWORKS, client, clients, throttle_passport
from users import PASSWORD, User, UserStore

from passport_py import Authenticator
from passport_py.events import LoginFailed, Throttled
from passport_py.throttle import Limit, LoginThrottle, MemoryThrottleStore

ALICE = {"username": "alice", "password": PASSWORD}
WRONG = {"username": "alice", "password": "not-it"}
ACCOUNT = Limit(attempts=3, window=900, base_delay=30, max_delay=900)
IP = Limit(attempts=10, window=900, base_delay=60, max_delay=900)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=FRAMEWORKS)
def framework(request: pytest.FixtureRequest) -> Iterator[str]:
    with override_settings(ROOT_URLCONF="throttle_apps"):
        yield str(request.param)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store() -> UserStore:
    return UserStore.default()


@pytest.fixture
def passport(store: UserStore, clock: Clock) -> Authenticator[User]:
    throttle = LoginThrottle(MemoryThrottleStore(clock=clock), account=ACCOUNT, ip=IP)
    return throttle_passport(store, throttle)


def basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def fail_three_times(browser: Any, body: dict[str, str] = WRONG) -> None:
    for _ in range(ACCOUNT.attempts):
        assert browser.post("/login", json=body).status_code == 401


def test_a_json_login_is_answered_429_with_retry_after_and_verify_is_not_called(
    framework: str, passport: Authenticator[User], store: UserStore
) -> None:
    browser = client(framework, passport)
    fail_three_times(browser)
    assert len(store.verify_calls) == 3
    response = browser.post("/login", json=WRONG)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "30"
    assert "Too many failed login attempts. Try again in 30 seconds." in response.text
    answer = response.json()
    if framework == "fastapi":  # FastAPI puts the body in its {"detail": ...}
        answer = answer["detail"]
    assert answer["error"] == "too_many_attempts"
    assert len(store.verify_calls) == 3


def test_the_right_password_is_refused_while_throttled_and_accepted_after_the_wait(
    framework: str, passport: Authenticator[User], store: UserStore, clock: Clock
) -> None:
    browser = client(framework, passport)
    fail_three_times(browser)
    assert browser.post("/login", json=ALICE).status_code == 429
    clock.now += 29
    assert browser.post("/login", json=ALICE).headers["retry-after"] == "1"
    clock.now += 1
    assert browser.post("/login", json=ALICE).json() == {"user": "alice"}


def test_a_success_forgets_the_accounts_failures(
    framework: str, passport: Authenticator[User], store: UserStore
) -> None:
    browser = client(framework, passport)
    for _ in range(2):
        assert browser.post("/login", json=WRONG).status_code == 401
    assert browser.post("/login", json=ALICE).status_code == 200
    fail_three_times(browser)  # three more failures are allowed again
    assert browser.post("/login", json=WRONG).status_code == 429


def test_the_wait_doubles_after_each_attempt_made_past_the_limit(
    framework: str, passport: Authenticator[User], clock: Clock
) -> None:
    browser = client(framework, passport)
    fail_three_times(browser)
    clock.now += 30
    assert browser.post("/login", json=WRONG).status_code == 401
    assert browser.post("/login", json=WRONG).headers["retry-after"] == "60"


def test_case_and_spacing_of_the_username_share_one_bucket(
    framework: str, passport: Authenticator[User]
) -> None:
    browser = client(framework, passport)
    for name in ("Alice", "ALICE", " alice "):
        assert browser.post("/login", json={"username": name, "password": "x"}).status_code == 401
    assert browser.post("/login", json=ALICE).status_code == 429


def test_an_unknown_account_gets_the_same_answer_as_a_known_one(
    framework: str, passport: Authenticator[User]
) -> None:
    known, unknown = clients(framework, passport, "192.0.2.1", "192.0.2.2")
    fail_three_times(known)
    fail_three_times(unknown, {"username": "nobody", "password": "x"})
    a = known.post("/login", json=WRONG)
    b = unknown.post("/login", json={"username": "nobody", "password": "x"})
    assert (a.status_code, a.headers["retry-after"], a.text) == (
        b.status_code,
        b.headers["retry-after"],
        b.text,
    )


def test_the_per_address_limit_applies_across_usernames_and_not_to_other_addresses(
    framework: str, passport: Authenticator[User], store: UserStore
) -> None:
    attacker, neighbour = clients(framework, passport, "198.51.100.7", "198.51.100.8")
    for n in range(IP.attempts):
        body = {"username": f"user{n}", "password": "guess"}
        assert attacker.post("/login", json=body).status_code == 401
    refused = attacker.post("/login", json={"username": "someone-new", "password": "guess"})
    assert (refused.status_code, refused.headers["retry-after"]) == (429, "60")
    assert len(store.verify_calls) == IP.attempts
    assert neighbour.post("/login", json=ALICE).status_code == 200


def test_a_form_login_redirects_to_the_login_page_which_shows_the_wait(
    framework: str, passport: Authenticator[User], store: UserStore
) -> None:
    browser = client(framework, passport)
    for _ in range(ACCOUNT.attempts):
        assert browser.post("/login/form", data=WRONG).headers["location"] == "/login"
        browser.get("/login")  # the page shows (and takes) the failure's flash
    response = browser.post("/login/form", data=ALICE)
    assert (response.status_code, response.headers["location"]) == (302, "/login")
    message = "Too many failed login attempts. Try again in 30 seconds."
    assert browser.get("/login").json()["flashes"] == [["error", message]]
    assert len(store.verify_calls) == 3


def test_basic_credentials_are_throttled_too(
    framework: str, passport: Authenticator[User], store: UserStore
) -> None:
    browser = client(framework, passport)
    for _ in range(ACCOUNT.attempts):
        assert browser.get("/api", headers=basic("alice", "nope")).status_code == 401
    response = browser.get("/api", headers=basic("alice", PASSWORD))
    assert (response.status_code, response.headers["retry-after"]) == (429, "30")
    assert len(store.verify_calls) == 3


def test_a_refused_attempt_emits_throttled_and_no_login_failed(
    framework: str, passport: Authenticator[User]
) -> None:
    seen: list[Any] = []
    passport.events.on(Throttled, seen.append)
    passport.events.on(LoginFailed, seen.append)
    browser = client(framework, passport)
    fail_three_times(browser, {"username": " ALICE", "password": "x"})
    del seen[:]
    browser.post("/login", json=WRONG)
    browser.post("/login", json=WRONG)
    assert [(type(e), e.account, e.client_ip, e.scope, e.retry_after) for e in seen] == [
        (Throttled, "alice", "192.0.2.10", "account", 30)
    ] * 2


@pytest.mark.parametrize("framework", ["starlette", "flask", "django"], indirect=True)
def test_a_custom_callback_is_handed_the_throttled_result(
    framework: str, passport: Authenticator[User]
) -> None:
    browser = client(framework, passport)
    for _ in range(ACCOUNT.attempts):
        assert browser.post("/login/callback", json=WRONG).json()["ok"] is False
    assert browser.post("/login/callback", json=ALICE).json() == {
        "ok": False,
        "status": 429,
        "challenge": {
            "message": "Too many failed login attempts. Try again in 30 seconds.",
            "retry_after": 30,
        },
    }


def test_without_a_throttle_nothing_is_limited(framework: str, store: UserStore) -> None:
    browser = client(framework, throttle_passport(store, None))
    for _ in range(10):
        assert browser.post("/login", json=WRONG).status_code == 401
    assert browser.post("/login", json=ALICE).status_code == 200
