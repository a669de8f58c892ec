"""Core events and the Flask signals fed from them, through a real Flask app.

The app keeps sessions server-side (`ServerSideSessionInterface` over a `MemoryStore`) so
`logout_everywhere` can end a user's other sessions. Signals are blinker's, connected with
`connect_to`, which disconnects when the test ends.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from blinker import Signal
from flask import Flask
from flask.testing import FlaskClient
from users import PASSWORD, User, UserStore, local_passport

from passport_py import Authenticator
from passport_py.adapters.flask import (
    FlaskPassport,
    ServerSideSessionInterface,
    alogout,
    authenticate,
    current_user,
    logout,
    logout_everywhere,
)
from passport_py.adapters.flask.signals import user_logged_in, user_logged_out, user_login_failed
from passport_py.events import LoggedIn, LoggedOut, LoginFailed, SessionEnded
from passport_py.sessions import MemoryStore

SECRET = "flask-events-secret-9e2b4c6a8d1f3e5a7c0b"
ALICE = {"username": "alice", "password": PASSWORD}


def make_app(passport: Authenticator[User]) -> Flask:
    app = Flask(__name__)
    app.secret_key = SECRET
    app.session_interface = ServerSideSessionInterface(MemoryStore())
    FlaskPassport(app, passport)

    @app.get("/")
    def whoami() -> Any:
        return {"user": getattr(current_user, "username", None)}

    @app.post("/login")
    @authenticate("local")
    def login_view() -> Any:
        return {"user": current_user.username}

    @app.post("/logout")
    def logout_view() -> Any:
        logout()
        return {"user": None}

    @app.post("/logout/async")
    async def async_logout_view() -> Any:
        await alogout()
        return {"user": None}

    @app.post("/logout-everywhere")
    def logout_everywhere_view() -> Any:
        return {"ended": logout_everywhere()}

    return app


@contextmanager
def connect_to(signal: Signal) -> Iterator[list[dict[str, Any]]]:
    """Every sending of `signal` while the block runs, as keyword dicts with the sender."""
    calls: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        calls.append({"sender": sender, **kwargs})

    with signal.connected_to(receiver):
        yield calls


@pytest.fixture
def passport() -> Authenticator[User]:
    return local_passport(UserStore.default())


@pytest.fixture
def app(passport: Authenticator[User]) -> Flask:
    return make_app(passport)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_a_login_emits_logged_in_once_with_the_strategy_name(
    passport: Authenticator[User], client: FlaskClient
) -> None:
    seen: list[LoggedIn] = []
    passport.events.on(LoggedIn, seen.append)
    assert client.post("/login", data=ALICE).json == {"user": "alice"}
    assert [(e.user_id, e.strategy, e.fresh, e.client_ip) for e in seen] == [
        (1, "local", True, "127.0.0.1")
    ]


def test_user_logged_in_is_sent_with_the_app_as_sender(app: Flask, client: FlaskClient) -> None:
    with connect_to(user_logged_in) as calls:
        client.post("/login", data=ALICE)
    (call,) = calls
    assert call["sender"] is app
    assert call["user"].username == "alice"
    assert call["event"].strategy == "local"


def test_user_login_failed_carries_the_account_and_never_the_password(
    app: Flask, client: FlaskClient
) -> None:
    with connect_to(user_login_failed) as calls:
        response = client.post("/login", data={"username": "bob", "password": "guess-77"})
    assert response.status_code == 401
    (call,) = calls
    assert call["sender"] is app
    event = call["event"]
    assert isinstance(event, LoginFailed)
    assert (event.strategy, event.account, event.client_ip) == ("local", "bob", "127.0.0.1")
    assert "guess-77" not in repr(call)


def test_user_logged_out_is_sent_with_the_user_who_left(app: Flask, client: FlaskClient) -> None:
    client.post("/login", data=ALICE)
    with connect_to(user_logged_out) as calls:
        client.post("/logout")
    (call,) = calls
    assert call["sender"] is app
    assert call["user"].username == "alice"
    assert isinstance(call["event"], LoggedOut)


def test_an_async_view_logout_sends_user_logged_out(app: Flask, client: FlaskClient) -> None:
    client.post("/login", data=ALICE)
    with connect_to(user_logged_out) as calls:
        assert client.post("/logout/async").json == {"user": None}
    assert [c["user"].username for c in calls] == ["alice"]


def test_logout_everywhere_emits_one_session_ended_with_the_count(
    passport: Authenticator[User], app: Flask
) -> None:
    laptop, phone = app.test_client(), app.test_client()
    laptop.post("/login", data=ALICE)
    phone.post("/login", data=ALICE)
    ended: list[SessionEnded] = []
    passport.events.on(SessionEnded, ended.append)
    assert phone.post("/logout-everywhere").json == {"ended": 2}
    assert [(e.user_id, e.by, e.count, e.client_ip) for e in ended] == [
        (1, "logout_everywhere", 2, "127.0.0.1")
    ]
    assert laptop.get("/").json == {"user": None}


def test_a_raising_receiver_is_logged_and_the_login_still_succeeds(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(sender: Any, **kwargs: Any) -> None:
        raise RuntimeError("receiver failed")

    with user_logged_in.connected_to(broken), caplog.at_level(logging.ERROR, "passport_py"):
        response = client.post("/login", data=ALICE)
    assert (response.status_code, response.json) == (200, {"user": "alice"})
    assert client.get("/").json == {"user": "alice"}
    assert any("logged_in handler" in r.getMessage() for r in caplog.records)


def test_two_apps_on_one_authenticator_send_each_signal_once(
    passport: Authenticator[User],
) -> None:
    first, second = make_app(passport), make_app(passport)
    with connect_to(user_logged_in) as calls:
        second.test_client().post("/login", data=ALICE)
    assert [c["sender"] for c in calls] == [second]
    assert first is not second
