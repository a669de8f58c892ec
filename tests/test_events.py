"""Core events (`passport_py.events`) through real Starlette and FastAPI apps.

The Starlette app keeps sessions in a `passport_py.sessions.MemoryStore`, so logging out
everywhere can end a user's other sessions; the FastAPI app is the shared one from
`fastapi_apps`. Handlers record what they receive; nothing here is mocked.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from behaviour.tokens import FRAMEWORKS, token_client
from fastapi import Depends
from fastapi.testclient import TestClient
from fastapi_apps import new_app
from remember_store import remember_passport
from session_server_app import login, logout_endpoint, logout_everywhere_endpoint, whoami
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route
from users import PASSWORD, User, UserStore, local_passport

from passport_py import Authenticator
from passport_py.adapters.fastapi import authenticate
from passport_py.adapters.starlette import PassportMiddleware
from passport_py.events import (
    Event,
    Events,
    LoggedIn,
    LoggedOut,
    LoginFailed,
    SessionEnded,
)
from passport_py.sessions import MemoryStore, SessionMiddleware
from passport_py.strategies.http import BasicStrategy

SECRET = "events-tests-secret-3b9e1c7a5d2f8e4a6c0b"
ALICE = {"username": "alice", "password": PASSWORD}


def starlette_app(passport: Authenticator[Any]) -> Starlette:
    return Starlette(
        routes=[
            Route("/login", login, methods=["POST"]),
            Route("/whoami", whoami),
            Route("/logout", logout_endpoint, methods=["POST"]),
            Route("/logout-everywhere", logout_everywhere_endpoint, methods=["POST"]),
        ],
        middleware=[
            Middleware(SessionMiddleware, secret_key=SECRET, store=MemoryStore()),
            Middleware(PassportMiddleware, passport=passport),
        ],
    )


def recording(passport: Authenticator[Any], kind: type[Event] = Event) -> list[Any]:
    """Every event of `kind` (default: all) the passport emits, in order."""
    seen: list[Any] = []
    passport.events.on(kind, seen.append)
    return seen


@pytest.fixture
def passport() -> Authenticator[User]:
    return local_passport(UserStore.default())


@pytest.fixture
def client(passport: Authenticator[User]) -> TestClient:
    return TestClient(starlette_app(passport))


def test_a_login_emits_logged_in_once_with_the_strategy_name(
    passport: Authenticator[User], client: TestClient
) -> None:
    seen = recording(passport)
    assert client.post("/login", data=ALICE).json() == {"user": "alice"}
    (event,) = seen
    assert isinstance(event, LoggedIn)
    assert (event.user_id, event.strategy, event.fresh) == (1, "local", True)
    assert event.user.username == "alice"
    assert event.client_ip == "testclient"


def test_a_wrong_password_emits_login_failed_with_account_and_client_ip(
    passport: Authenticator[User], client: TestClient
) -> None:
    seen = recording(passport)
    response = client.post("/login", data={"username": "alice", "password": "not-it-42"})
    assert response.status_code == 401
    (event,) = seen
    assert isinstance(event, LoginFailed)
    assert (event.strategy, event.account, event.client_ip) == ("local", "alice", "testclient")
    assert (event.status, event.reason) == (401, "Incorrect username or password.")
    assert "not-it-42" not in repr(event)


def test_a_login_with_missing_fields_fails_without_an_account(
    passport: Authenticator[User], client: TestClient
) -> None:
    seen = recording(passport, LoginFailed)
    assert client.post("/login", data={"username": "alice"}).status_code == 400
    (event,) = seen
    assert (event.account, event.status) == (None, 400)


def test_basic_names_the_account_of_a_failed_attempt() -> None:
    store = UserStore.default()
    passport: Authenticator[User] = Authenticator()
    passport.use(BasicStrategy(store.verify))
    app = new_app(passport)

    @app.get("/api")
    async def api(user: User = Depends(authenticate("basic", session=False))) -> str:
        return user.username

    seen = recording(passport, LoginFailed)
    response = TestClient(app).get("/api", auth=("bob", "not-builder"))
    assert response.status_code == 401
    assert [(e.strategy, e.account) for e in seen] == [("basic", "bob")]
    assert "not-builder" not in repr(seen[0])


def test_fastapi_login_emits_logged_in_through_the_dependency() -> None:
    passport = local_passport(UserStore.default())
    app = new_app(passport)

    @app.post("/login")
    async def log_in(user: User = Depends(authenticate("local"))) -> str:
        return user.username

    seen = recording(passport)
    assert TestClient(app).post("/login", data=ALICE).json() == "alice"
    assert [(type(e), e.strategy) for e in seen] == [(LoggedIn, "local")]


def test_logout_emits_logged_out_and_one_session_ended(
    passport: Authenticator[User], client: TestClient
) -> None:
    client.post("/login", data=ALICE)
    seen = recording(passport)
    client.post("/logout")
    assert [type(e) for e in seen] == [LoggedOut, SessionEnded]
    assert seen[0].user_id == 1
    assert (seen[1].user_id, seen[1].by, seen[1].count) == (1, "logout", 1)


def test_logout_without_a_login_emits_nothing(
    passport: Authenticator[User], client: TestClient
) -> None:
    seen = recording(passport)
    client.post("/logout")
    assert seen == []


def test_logout_everywhere_emits_one_session_ended_with_the_count(
    passport: Authenticator[User],
) -> None:
    app = starlette_app(passport)
    laptop, phone = TestClient(app), TestClient(app)
    laptop.post("/login", data=ALICE)
    phone.post("/login", data=ALICE)
    seen = recording(passport)
    assert phone.post("/logout-everywhere").json() == {"ended": 2}
    assert [type(e) for e in seen] == [SessionEnded, LoggedOut]
    assert (seen[0].user_id, seen[0].by, seen[0].count) == (1, "logout_everywhere", 2)
    assert laptop.get("/whoami").json() == {"user": None}


def test_async_handlers_are_awaited(passport: Authenticator[User], client: TestClient) -> None:
    seen: list[str] = []

    @passport.events.on(LoggedIn)
    async def audit(event: LoggedIn) -> None:
        seen.append(f"async {event.strategy}")

    passport.events.on(LoggedIn, lambda event: seen.append(f"sync {event.strategy}"))
    client.post("/login", data=ALICE)
    assert seen == ["async local", "sync local"]


def test_a_raising_handler_is_logged_and_the_response_is_unchanged(
    passport: Authenticator[User], client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: LoggedIn) -> None:
        raise RuntimeError("the audit sink is down")

    passport.events.on(LoggedIn, broken)
    later = recording(passport, LoggedIn)
    with caplog.at_level(logging.ERROR, logger="passport_py"):
        response = client.post("/login", data=ALICE)
    assert (response.status_code, response.json()) == (200, {"user": "alice"})
    assert client.get("/whoami").json() == {"user": "alice"}
    (record,) = [r for r in caplog.records if r.name == "passport_py"]
    assert "logged_in handler" in record.getMessage() and "broken" in record.getMessage()
    assert record.exc_info is not None and "audit sink is down" in str(record.exc_info[1])
    assert len(later) == 1  # the handlers after it still ran


def test_a_raising_async_handler_on_a_failure_keeps_the_401(
    passport: Authenticator[User], client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    @passport.events.on(LoginFailed)
    async def broken(event: LoginFailed) -> None:
        raise ValueError("nope")

    with caplog.at_level(logging.ERROR, logger="passport_py"):
        response = client.post("/login", data={"username": "bob", "password": "x"})
    assert response.status_code == 401
    assert any("login_failed handler" in r.getMessage() for r in caplog.records)


def test_no_event_is_built_without_a_handler(passport: Authenticator[User]) -> None:
    assert not passport.events.wants(LoggedIn)
    passport.events.on(Event, print)
    assert passport.events.wants(LoggedIn) and passport.events.wants(SessionEnded)


def test_registering_a_handler_twice_runs_it_once(
    passport: Authenticator[User], client: TestClient
) -> None:
    seen: list[Any] = []
    passport.events.on(LoggedIn, seen.append)
    passport.events.on(LoggedIn, seen.append)
    client.post("/login", data=ALICE)
    assert len(seen) == 1


def test_off_removes_a_handler(passport: Authenticator[User], client: TestClient) -> None:
    seen: list[Any] = []
    passport.events.on(LoggedIn, seen.append)
    passport.events.off(LoggedIn, seen.append)
    client.post("/login", data=ALICE)
    assert seen == [] and not passport.events.wants(LoggedIn)


def test_on_refuses_what_is_not_an_event_class() -> None:
    with pytest.raises(TypeError, match="event class such as LoggedIn"):
        Events().on("LoggedIn")  # type: ignore[call-overload]


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_remembered_login_emits_logged_in_not_fresh_in_every_framework(framework: str) -> None:
    passport, _ = remember_passport(UserStore.default())
    seen = recording(passport, LoggedIn)
    with token_client(framework, passport, restore_with=("remember-me",)) as client:
        cookie = client.post("/tokens/login", data={**ALICE, "remember_me": "on"}).cookies
    assert [(e.strategy, e.fresh) for e in seen] == [("local", True)]
    with token_client(framework, passport, restore_with=("remember-me",)) as browser:
        browser.cookies.set("remember_me", cookie["remember_me"])
        assert browser.get("/tokens/who").json() == {"user": "alice", "fresh": False}
        browser.get("/tokens/who")  # the session holds the login now: no second event
    assert [(e.strategy, e.fresh) for e in seen] == [("local", True), ("remember-me", False)]
