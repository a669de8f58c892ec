"""Remember-me through real Starlette, Flask and Django apps (tests/behaviour/tokens.py).

A login with the box ticked issues the cookie; a browser that comes back with only that cookie
is logged in (not fresh) on its first request, gets a rotated cookie and a session; a copied
cookie replayed after rotation is refused and ends the series; logout deletes the cookie with
the attributes it was set with; bad cookies never give a 500 or a user.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from http.cookies import SimpleCookie

import httpx
import pytest
from behaviour.tokens import FRAMEWORKS, token_client
from remember_store import RememberStore, remember_passport
from test_remember_me import MALFORMED
from users import PASSWORD, User, UserStore

from passport_py import Authenticator

COOKIE = "remember_me"


@dataclass
class App:
    framework: str
    users: UserStore
    tokens: RememberStore
    passport: Authenticator[User]
    client: httpx.Client

    def fresh_client(self, **kwargs: str) -> httpx.Client:
        """Another browser on the same app (same passport, same token table)."""
        return token_client(self.framework, self.passport, restore_with=("remember-me",), **kwargs)


@pytest.fixture(params=FRAMEWORKS)
def app(request: pytest.FixtureRequest) -> Iterator[App]:
    users = UserStore.default()
    passport, tokens = remember_passport(users)
    with token_client(request.param, passport, restore_with=("remember-me",)) as client:
        yield App(request.param, users, tokens, passport, client)


def set_cookies(response: httpx.Response) -> dict[str, SimpleCookie]:
    jars: dict[str, SimpleCookie] = {}
    for header in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        for name in jar:
            jars[name] = jar
    return jars


def remember_cookie(response: httpx.Response) -> str:
    jar = set_cookies(response)[COOKIE]
    return jar[COOKIE].value


def log_in(client: httpx.Client, **extra: str) -> httpx.Response:
    fields = {"username": "alice", "password": PASSWORD, **extra}
    response = client.post("/tokens/login", data=fields)
    assert response.status_code == 302, response.text
    return response


def returning_visitor(app: App, cookie: str, **kwargs: str) -> httpx.Client:
    client = app.fresh_client(**kwargs)
    client.cookies.set(COOKIE, cookie)
    return client


def test_login_with_the_box_ticked_sets_a_safe_cookie(app: App) -> None:
    response = log_in(app.client, remember_me="on")
    morsel = set_cookies(response)[COOKIE][COOKIE]
    assert morsel["httponly"] is True
    assert morsel["samesite"].lower() == "lax"
    assert morsel["path"] == "/"
    assert not morsel["secure"]  # plain http here; see the https test
    assert int(morsel["max-age"]) == 30 * 24 * 3600
    assert len(app.tokens.rows) == 1


def test_login_without_the_box_sets_no_cookie(app: App) -> None:
    response = log_in(app.client)
    assert COOKIE not in set_cookies(response)
    assert app.tokens.rows == {}


def test_the_cookie_is_secure_on_https(app: App) -> None:
    with app.fresh_client(base_url="https://testserver") as client:
        response = log_in(client, remember_me="on")
    assert set_cookies(response)[COOKIE][COOKIE]["secure"] is True


def test_a_returning_visitor_is_logged_in_not_fresh_and_gets_a_rotated_cookie(app: App) -> None:
    cookie = remember_cookie(log_in(app.client, remember_me="on"))
    with returning_visitor(app, cookie) as browser:
        first = browser.get("/tokens/who")
        assert first.status_code == 200
        assert first.json() == {"user": "alice", "fresh": False}
        rotated = remember_cookie(first)
        assert rotated != cookie and rotated.split(":")[0] == cookie.split(":")[0]
        assert first.headers.get("cache-control") == "no-store"
        assert "cookie" in first.headers.get("vary", "").lower()
        # The session carries the login from now on: no second rotation.
        second = browser.get("/tokens/who")
        assert second.json() == {"user": "alice", "fresh": False}
        assert COOKIE not in set_cookies(second)


def test_a_copied_cookie_replayed_after_rotation_ends_the_series(app: App) -> None:
    cookie = remember_cookie(log_in(app.client, remember_me="on"))
    with returning_visitor(app, cookie) as owner:
        owner_cookie = remember_cookie(owner.get("/tokens/who"))
    series = cookie.split(":")[0]
    user_id, token = app.tokens.rows[series]
    app.tokens.rows[series] = (user_id, replace(token, rotated_at=time.time() - 60))
    with returning_visitor(app, cookie) as thief:
        response = thief.get("/tokens/who")
        assert response.json() == {"user": None, "fresh": True}
        assert set_cookies(response)[COOKIE][COOKIE]["max-age"] == "0"
    assert series not in app.tokens.rows
    with returning_visitor(app, owner_cookie) as owner_again:
        assert owner_again.get("/tokens/who").json()["user"] is None


def test_logout_deletes_the_cookie_with_its_attributes_and_revokes_it(app: App) -> None:
    cookie = remember_cookie(log_in(app.client, remember_me="on"))
    with returning_visitor(app, cookie, base_url="https://testserver") as browser:
        rotated = set_cookies(browser.get("/tokens/who"))[COOKIE][COOKIE]
        response = browser.post("/tokens/logout")
        assert response.status_code == 200
        deletion = set_cookies(response)[COOKIE][COOKIE]
        assert deletion.value == "" and deletion["max-age"] == "0"
        for attribute in ("path", "secure", "httponly", "samesite", "domain"):
            assert deletion[attribute] == rotated[attribute], attribute
        assert browser.get("/tokens/who").json()["user"] is None
    assert app.tokens.rows == {}
    with returning_visitor(app, rotated.value) as replay:
        assert replay.get("/tokens/who").json()["user"] is None


def test_a_visitor_with_a_session_login_does_not_use_the_cookie(app: App) -> None:
    log_in(app.client, remember_me="on")
    calls = len(app.tokens.calls)
    assert app.client.get("/tokens/who").json() == {"user": "alice", "fresh": True}
    assert len(app.tokens.calls) == calls


def test_a_deleted_user_behind_a_good_cookie_stays_anonymous(app: App) -> None:
    cookie = remember_cookie(log_in(app.client, remember_me="on"))
    del app.users.users[1]
    with returning_visitor(app, cookie) as browser:
        response = browser.get("/tokens/who")
    assert response.status_code == 200 and response.json()["user"] is None


@pytest.mark.parametrize("value", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_bad_cookie_is_cleared_and_never_logs_in(app: App, value: str) -> None:
    header = f"{COOKIE}={value}".encode()  # raw UTF-8 bytes for the non-ASCII case
    with app.fresh_client() as browser:
        response = browser.get("/tokens/who", headers={"cookie": header})
    assert response.status_code == 200
    assert response.json()["user"] is None
    if COOKIE in set_cookies(response):
        assert set_cookies(response)[COOKIE][COOKIE]["max-age"] == "0"
    # Cookie parsers unquote a quoted value (RFC 6265), which then looks up an unknown series.
    assert app.tokens.calls == ([] if value != MALFORMED["quoted"] else [("verify", "A" * 24)])


def test_the_remember_me_strategy_on_a_route_logs_in_for_that_request(app: App) -> None:
    cookie = remember_cookie(log_in(app.client, remember_me="on"))
    with app.fresh_client() as browser:
        browser.cookies.set(COOKIE, cookie)
        response = browser.get("/tokens/remember-me")
    assert response.status_code == 200
    assert response.json()["user"] == "alice"
    assert COOKIE in set_cookies(response)
