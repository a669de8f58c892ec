"""Cookie tossing: a second session cookie planted beside the browser's own.

A sibling subdomain (or a plain-http page of the same host) can set a cookie named like the
session cookie, with another `Domain` or a longer `Path`. The browser then sends both, in an
order the attacker partly controls. Planting the signed id of an ended session (anyone can get
one: log in, keep the cookie, log out) must not log the user out, and the response must not
delete the cookie the browser also holds live. Real apps: Starlette over `SessionMiddleware`
(tests/session_apps.py) and Flask over `ServerSideSessionInterface` with Passport's login.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from session_apps import SECRET, cookie_value, deletes_cookie, session_app, set_cookies
from starlette.testclient import TestClient
from test_flask_server_sessions import make_app
from users import PASSWORD

from passport_py.sessions import MemoryStore, SessionCookie

UNKNOWN = SessionCookie(SECRET).sign("an-id-this-store-never-issued-0000000000000")
FORGED = "x" * 43 + ".not-a-signature"


# -- Starlette: SessionMiddleware -----------------------------------------------------------


@pytest.fixture
def starlette_cookies() -> Iterator[tuple[TestClient, str, str]]:
    """A client, alice's live cookie value, and the value of a session that has ended."""
    with TestClient(session_app(MemoryStore())) as client:
        ended = cookie_value(client.post("/login/mallory"))
        client.post("/destroy")
        client.cookies.clear()
        live = cookie_value(client.post("/login/alice"))
        client.cookies.clear()
        yield client, live, ended


@pytest.mark.parametrize("planted", ["ended", "unknown", "forged"])
@pytest.mark.parametrize("planted_first", [True, False])
def test_a_planted_cookie_does_not_win_over_the_live_one(
    starlette_cookies: tuple[TestClient, str, str], planted: str, planted_first: bool
) -> None:
    client, live, ended = starlette_cookies
    value = {"ended": ended, "unknown": UNKNOWN, "forged": FORGED}[planted]
    pair = [value, live] if planted_first else [live, value]
    response = client.get("/read", headers={"cookie": "; ".join(f"session={v}" for v in pair)})
    assert response.json()["data"] == {"passport": {"user": "alice"}}
    assert set_cookies(response) == []  # nothing deleted, nothing replaced
    alone = client.get("/read", headers={"cookie": f"session={live}"})
    assert alone.json()["data"] == {"passport": {"user": "alice"}}


def test_a_logout_with_a_planted_cookie_ends_the_live_session(
    starlette_cookies: tuple[TestClient, str, str],
) -> None:
    """The session the request used is the one a logout ends and deletes."""
    client, live, ended = starlette_cookies
    response = client.post("/destroy", headers={"cookie": f"session={ended}; session={live}"})
    assert deletes_cookie(response)
    assert client.get("/read", headers={"cookie": f"session={live}"}).json()["data"] == {}


def test_only_dead_cookies_are_deleted(starlette_cookies: tuple[TestClient, str, str]) -> None:
    """With no live session among them, the cookie is deleted as for one stale cookie."""
    client, _, ended = starlette_cookies
    response = client.get("/read", headers={"cookie": f"session={ended}; session={UNKNOWN}"})
    assert response.json()["data"] == {}
    assert deletes_cookie(response)


def test_of_two_live_sessions_the_first_sent_is_used(
    starlette_cookies: tuple[TestClient, str, str],
) -> None:
    """Nothing tells two live sessions apart: the browser's order decides (most specific
    path first, then oldest). A `__Host-` cookie name keeps other sites from planting one."""
    client, live, _ = starlette_cookies
    other = cookie_value(client.post("/login/mallory"))
    client.cookies.clear()
    first = client.get("/read", headers={"cookie": f"session={other}; session={live}"})
    assert first.json()["data"] == {"passport": {"user": "mallory"}}
    assert set_cookies(first) == []


# -- Flask: ServerSideSessionInterface ------------------------------------------------------


def flask_cookie(response: Any) -> str:
    [header] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    return str(header.split(";", 1)[0].removeprefix("session="))


@pytest.mark.parametrize("planted_first", [True, False])
def test_flask_a_planted_ended_session_does_not_log_the_user_out(planted_first: bool) -> None:
    app = make_app(MemoryStore())
    mallory = app.test_client()
    ended = flask_cookie(mallory.post("/login", data={"username": "bob", "password": "builder"}))
    mallory.post("/logout")
    alice = app.test_client()
    live = flask_cookie(alice.post("/login", data={"username": "alice", "password": PASSWORD}))
    pair = [ended, live] if planted_first else [live, ended]
    browser = app.test_client(use_cookies=False)
    response = browser.get("/", headers={"Cookie": "; ".join(f"session={v}" for v in pair)})
    assert response.json == {"user": "alice"}
    assert not [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    response = browser.get("/", headers={"Cookie": f"session={live}"})
    assert response.json == {"user": "alice"}
