"""`ServerSideSessionInterface`: Flask's session in a `passport_py.sessions` store.

Real Flask apps with `FlaskPassport` and the local strategy, driven by Flask's test client,
over a `MemoryStore` and the real Redis (`RedisStore`, the `redis_store` fixture) where the
store matters. `Recording` wraps a real store and records each call its sync side gets, so a
test can say "one read, no write"; told to, it fails a call as a store that stopped answering.
"""

from __future__ import annotations

import json
import logging
from typing import Any, cast

import pytest
from flask import Flask, Response, request, session
from flask.testing import FlaskClient
from session_entries import FLASK, session_identity
from users import PASSWORD, UserStore, local_passport
from werkzeug.test import TestResponse

from passport_py import ConfigurationError, SessionRequiredError
from passport_py.adapters.flask import (
    FlaskPassport,
    ServerSideSessionInterface,
    alogout_everywhere,
    authenticate,
    current_user,
    logout,
    logout_everywhere,
)
from passport_py.sessions import (
    MemoryStore,
    SessionCookie,
    SessionStore,
    SessionStoreUnavailable,
    SyncSessionStore,
)
from passport_py.sessions.redis import RedisStore
from passport_py.testing import flask as testing

SECRET = "flask-server-sessions-secret-7d1c0b9e4a52"
OLD_SECRET = "flask-server-sessions-old-secret-3f8e2a61"
ALICE = {"username": "alice", "password": PASSWORD}
BOB = {"username": "bob", "password": "builder"}
TWO_WEEKS = 14 * 24 * 60 * 60
DELETION = "session=; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"


class Recording:
    """A real store whose sync side records the name of every call; a name in `broken` makes
    that call raise `SessionStoreUnavailable` without reaching the store (the store stopped
    answering between the request's read and its write: security.md 5.2 F7)."""

    def __init__(self, inner: SessionStore) -> None:
        self.inner = inner
        self.calls: list[str] = []
        self.broken: set[str] = set()
        self.sync = cast(SyncSessionStore, self)

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(name)
        if name in self.broken:
            raise SessionStoreUnavailable(f"the store did not answer {name}")
        return getattr(self.inner.sync, name)(*args, **kwargs)

    def get(self, *args: Any) -> Any:
        return self._call("get", *args)

    def set(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("set", *args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("delete", *args, **kwargs)

    def touch(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("touch", *args, **kwargs)

    def destroy_user(self, *args: Any) -> Any:
        return self._call("destroy_user", *args)


def make_app(store: SessionStore | Recording, secret: str | None = SECRET, **options: Any) -> Flask:
    app = Flask(__name__)
    app.testing = True  # server errors reach the test as exceptions
    app.secret_key = secret
    app.session_interface = ServerSideSessionInterface(cast(SessionStore, store), **options)
    FlaskPassport(app, local_passport(UserStore.default()))

    @app.get("/")
    def whoami() -> Any:
        return {"user": getattr(current_user, "username", None)}

    @app.get("/public")
    def public() -> str:
        return "public"

    @app.post("/login")
    @authenticate("local")
    def login_view() -> Any:
        return {"user": current_user.username}

    @app.post("/logout")
    def logout_view() -> Any:
        logout()
        return {"user": None}

    @app.post("/logout-everywhere")
    def logout_everywhere_view() -> Any:
        return {"ended": logout_everywhere()}

    @app.post("/cart")
    def add_to_cart() -> Any:
        session.setdefault("cart", []).append(request.form["item"])
        return "", 204

    @app.get("/cart")
    def cart() -> Any:
        return {"cart": session.get("cart", [])}

    @app.post("/permanent")
    def permanent() -> Any:
        session.permanent = True
        session["cart"] = ["book"]
        return "", 204

    return app


def session_id(client: FlaskClient, secret: str = SECRET) -> str | None:
    """The id the client's session cookie carries (None: no cookie, or not signed by us)."""
    cookie = client.get_cookie("session")
    return SessionCookie(secret).read([cookie.value])[0] if cookie else None


def stored(store: SessionStore | Recording, sid: str | None) -> Any:
    """What the store holds under `sid`, decoded (None: nothing)."""
    value = store.sync.get(sid) if sid is not None else None
    return json.loads(value) if value is not None else None


def set_cookies(response: TestResponse) -> list[str]:
    return response.headers.getlist("Set-Cookie")


# -- the session's life ------------------------------------------------------------------------


def test_a_visit_without_a_cookie_stores_nothing_and_sets_no_cookie(store: SessionStore) -> None:
    recording = Recording(store)
    response = make_app(recording).test_client().get("/")
    assert response.json == {"user": None}
    assert set_cookies(response) == []
    assert recording.calls == []


def test_a_session_is_stored_under_a_signed_id_once_it_holds_data(store: SessionStore) -> None:
    client = make_app(store).test_client()
    response = client.post("/cart", data={"item": "book"})
    assert len(set_cookies(response)) == 1
    assert stored(store, session_id(client)) == {"user": None, "data": {"cart": ["book"]}}


def test_login_gives_a_new_id_and_the_old_one_holds_nothing(store: SessionStore) -> None:
    app = make_app(store)
    client = app.test_client()
    client.post("/cart", data={"item": "book"})
    before, before_cookie = session_id(client), client.get_cookie("session")
    assert client.post("/login", data=ALICE).json == {"user": "alice"}
    after = session_id(client)
    assert after not in (None, before)
    assert stored(store, before) is None
    record = stored(store, after)
    assert record is not None
    record["data"] = session_identity(record["data"], FLASK)
    assert record == {"user": "1", "data": {"passport": {"user": 1}}}
    fixer = app.test_client()  # whoever planted the pre-login cookie
    assert before_cookie is not None
    fixer.set_cookie("session", before_cookie.value)
    assert fixer.get("/").json == {"user": None}
    assert fixer.get("/cart").json == {"cart": []}


def test_logout_deletes_the_entry_and_the_cookie(store: SessionStore) -> None:
    recording = Recording(store)
    app = make_app(recording)
    client = app.test_client()
    client.post("/login", data=ALICE)
    logged_in, cookie = session_id(client), client.get_cookie("session")
    recording.calls.clear()
    response = client.post("/logout")
    assert set_cookies(response) == [f"{DELETION}; HttpOnly; SameSite=Lax"]
    assert recording.calls == ["get", "delete"]  # nothing written for the logged-out session
    assert stored(store, logged_in) is None
    replay = app.test_client()
    assert cookie is not None
    replay.set_cookie("session", cookie.value)
    assert replay.get("/").json == {"user": None}


def test_an_unchanged_session_costs_one_read_and_no_write(store: SessionStore) -> None:
    recording = Recording(store)
    client = make_app(recording).test_client()
    client.post("/login", data=ALICE)
    recording.calls.clear()
    response = client.get("/")
    assert response.json == {"user": "alice"}
    assert recording.calls == ["get"]
    assert set_cookies(response) == []


def test_a_change_inside_a_nested_value_is_saved(store: SessionStore) -> None:
    client = make_app(store).test_client()
    client.post("/cart", data={"item": "book"})
    client.post("/cart", data={"item": "pen"})  # only the list inside changes
    assert client.get("/cart").json == {"cart": ["book", "pen"]}


def test_the_first_cookie_of_the_name_that_verifies_is_the_session(store: SessionStore) -> None:
    app = make_app(store)
    client = app.test_client()
    client.post("/login", data=ALICE)
    good = client.get_cookie("session")
    assert good is not None
    other = app.test_client(use_cookies=False)  # sends the Cookie header as given
    headers = {"Cookie": f"session=forged.signature; session={good.value}"}
    assert other.get("/", headers=headers).json == {"user": "alice"}


def test_permanent_is_a_flag_not_data_and_logout_leaves_nothing_stored() -> None:
    recording = Recording(MemoryStore())
    client = make_app(recording).test_client()
    client.post("/permanent")
    assert stored(recording, session_id(client)) == {"user": None, "data": {"cart": ["book"]}}
    client.post("/login", data=ALICE)
    data = stored(recording, session_id(client))["data"]
    assert session_identity(data, FLASK) == {"passport": {"user": 1}}
    recording.calls.clear()
    response = client.post("/logout")
    assert set_cookies(response) == [f"{DELETION}; HttpOnly; SameSite=Lax"]
    assert "set" not in recording.calls
    assert len(cast(MemoryStore, recording.inner)) == 0


def test_passport_testing_helpers_log_in_and_out_through_the_interface() -> None:
    store = MemoryStore()
    app = make_app(store)
    client = app.test_client()
    testing.login(client, UserStore.default().users[1])
    assert client.get("/").json == {"user": "alice"}
    logged_in = session_id(client)
    testing.logout(client)
    assert stored(store, logged_in) is None
    assert client.get("/").json == {"user": None}


def test_a_request_whose_session_ended_meanwhile_does_not_bring_it_back() -> None:
    store = MemoryStore()
    app = make_app(store)

    @app.post("/slow-cart")
    def slow_cart() -> Any:
        assert current_user.username == "alice"
        # Logged out everywhere by another request while this one ran.
        assert store.sync.destroy_user("1") == 1
        session["cart"] = ["book"]
        return "", 204

    client = app.test_client()
    client.post("/login", data=ALICE)
    ended = session_id(client)
    client.post("/slow-cart")
    assert stored(store, ended) is None
    assert client.get("/").json == {"user": None}


# -- expiry, rolling and key rotation ----------------------------------------------------------


class Clock:
    """A monotonic clock the test moves (MemoryStore(clock=...))."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("rolling", [False, True])
def test_rolling_sessions_last_max_age_after_the_last_request(rolling: bool) -> None:
    clock = Clock()
    recording = Recording(MemoryStore(clock=clock))
    client = make_app(recording, max_age=100, rolling=rolling).test_client()
    client.post("/login", data=ALICE)
    clock.now += 80
    recording.calls.clear()
    response = client.get("/")
    assert response.json == {"user": "alice"}
    assert recording.calls == (["get", "touch"] if rolling else ["get"])
    assert len(set_cookies(response)) == (1 if rolling else 0)
    clock.now += 80  # 160 s after the login, 80 s after the last request
    assert client.get("/").json == {"user": "alice" if rolling else None}


def test_a_cookie_signed_with_a_fallback_key_verifies_and_is_signed_again() -> None:
    store = MemoryStore()
    app = make_app(store, secret=OLD_SECRET)
    client = app.test_client()
    client.post("/login", data=ALICE)
    sid = session_id(client, OLD_SECRET)
    app.secret_key = SECRET
    app.config["SECRET_KEY_FALLBACKS"] = [OLD_SECRET]
    response = client.get("/")
    assert response.json == {"user": "alice"}
    assert len(set_cookies(response)) == 1
    assert session_id(client, SECRET) == sid  # the same session, signed with the new key
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert client.get("/").json == {"user": "alice"}


def test_a_cookie_signed_with_a_retired_key_is_anonymous() -> None:
    app = make_app(MemoryStore(), secret=OLD_SECRET)
    client = app.test_client()
    client.post("/login", data=ALICE)
    app.secret_key = SECRET
    assert client.get("/").json == {"user": None}


# -- cookie attributes and cache headers -------------------------------------------------------


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_the_cookie_and_its_deletion_carry_the_same_attributes(scheme: str) -> None:
    client = make_app(MemoryStore()).test_client()
    url = f"{scheme}://localhost"
    secure = "; Secure" if scheme == "https" else ""
    login = client.post("/login", data=ALICE, base_url=url)
    value = client.get_cookie("session", domain="localhost")
    assert value is not None
    attributes = f"Path=/{secure}; HttpOnly; SameSite=Lax"
    assert set_cookies(login) == [f"session={value.value}; Max-Age={TWO_WEEKS}; {attributes}"]
    deletion = client.post("/logout", base_url=url)
    assert set_cookies(deletion) == [f"{DELETION}{secure}; HttpOnly; SameSite=Lax"]


def test_cookie_settings_are_the_interfaces_arguments() -> None:
    options = {"cookie_name": "__Host-sid", "same_site": "strict", "max_age": None}
    client = make_app(MemoryStore(), **options).test_client()
    response = client.post("/login", data=ALICE)  # plain http: __Host- forces Secure anyway
    [cookie] = set_cookies(response)
    assert cookie.startswith("__Host-sid=")
    assert cookie.endswith("; Path=/; Secure; HttpOnly; SameSite=Strict")
    assert "Max-Age" not in cookie  # a browser-session cookie


def test_wrong_cookie_settings_fail_when_the_interface_is_made() -> None:
    with pytest.raises(ConfigurationError, match="32 bytes"):
        ServerSideSessionInterface(MemoryStore(), secret_key="short")
    with pytest.raises(ConfigurationError, match="https"):
        ServerSideSessionInterface(MemoryStore(), cookie_name="__Host-sid", https_only=False)


def test_login_session_responses_are_not_stored_by_caches() -> None:
    app = make_app(MemoryStore())

    @app.get("/cached")
    def cached() -> Any:
        return {"user": current_user.username}, 200, {"Cache-Control": "private, max-age=60"}

    client = app.test_client()
    login = client.post("/login", data=ALICE)
    assert (login.headers["Cache-Control"], login.headers["Vary"]) == ("no-store", "Cookie")
    page = client.get("/")
    assert (page.headers["Cache-Control"], page.headers["Vary"]) == ("no-store", "Cookie")
    assert client.get("/cached").headers["Cache-Control"] == "private, max-age=60"


def test_a_page_that_never_uses_the_session_gets_no_session_headers() -> None:
    response = make_app(MemoryStore()).test_client().get("/public")
    assert "Cache-Control" not in response.headers
    assert set_cookies(response) == []


# -- logging out everywhere --------------------------------------------------------------------


def test_logout_everywhere_ends_every_session_of_the_user(store: SessionStore) -> None:
    app = make_app(store)
    laptop, phone, bob = app.test_client(), app.test_client(), app.test_client()
    laptop.post("/login", data=ALICE)
    phone.post("/login", data=ALICE)
    bob.post("/login", data=BOB)
    response = laptop.post("/logout-everywhere")
    assert response.json == {"ended": 2}
    assert set_cookies(response) == [f"{DELETION}; HttpOnly; SameSite=Lax"]
    assert laptop.get("/").json == {"user": None}
    assert phone.get("/").json == {"user": None}
    assert bob.get("/").json == {"user": "bob"}


def test_alogout_everywhere_does_the_same_in_an_async_view() -> None:
    app = make_app(MemoryStore())

    @app.post("/async/logout-everywhere")
    async def async_logout_everywhere() -> Any:
        return {"ended": await alogout_everywhere()}

    laptop, phone = app.test_client(), app.test_client()
    laptop.post("/login", data=ALICE)
    phone.post("/login", data=ALICE)
    assert laptop.post("/async/logout-everywhere").json == {"ended": 2}
    assert phone.get("/").json == {"user": None}


def test_logout_everywhere_needs_the_server_side_interface() -> None:
    app = Flask(__name__)
    app.testing = True
    app.secret_key = SECRET
    FlaskPassport(app, local_passport(UserStore.default()))
    app.post("/logout-everywhere")(lambda: {"ended": logout_everywhere()})
    with pytest.raises(ConfigurationError, match="ServerSideSessionInterface"):
        app.test_client().post("/logout-everywhere")


def test_without_a_secret_key_the_session_is_flasks_null_session() -> None:
    client = make_app(MemoryStore(), secret=None).test_client()
    assert client.get("/").json == {"user": None}
    with pytest.raises(SessionRequiredError, match="secret_key"):
        client.post("/login", data=ALICE)


# -- the store not answering: 503, nobody logged in, nothing half-written ----------------------


def assert_unavailable(response: TestResponse) -> None:
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.headers["Cache-Control"] == "no-store"
    assert set_cookies(response) == []


def test_a_session_cookie_with_the_store_unreachable_is_503(
    unreachable_store: RedisStore, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_app(unreachable_store).test_client()
    sid = "a-session-id-the-store-cannot-be-asked-about"
    client.set_cookie("session", SessionCookie(SECRET).sign(sid))
    with caplog.at_level(logging.ERROR, logger="passport_py.sessions"):
        response = client.get("/")
    assert_unavailable(response)
    assert b"session store is not answering" in response.data
    [record] = caplog.records
    assert record.getMessage().startswith("session store unavailable, answering 503: Redis at")
    assert sid not in caplog.text


def test_hooks_reading_the_session_after_its_503_do_not_make_it_a_500(
    unreachable_store: RedisStore,
) -> None:
    app = make_app(unreachable_store)
    seen: list[dict[str, Any]] = []

    @app.after_request
    def audit(response: Response) -> Response:
        seen.append(dict(session))  # after the view's 503: an empty session, not an error
        session["audited"] = True  # never saved
        return response

    client = app.test_client()
    client.set_cookie("session", SessionCookie(SECRET).sign("some-session-id"))
    assert_unavailable(client.get("/"))
    assert seen == [{}]


def test_pages_that_do_not_use_the_session_work_with_the_store_unreachable(
    unreachable_store: RedisStore,
) -> None:
    client = make_app(unreachable_store).test_client()
    assert client.get("/").json == {"user": None}  # no cookie: the store is not asked
    client.set_cookie("session", SessionCookie(SECRET).sign("some-session-id"))
    response = client.get("/public")
    assert (response.status_code, response.text) == (200, "public")
    assert set_cookies(response) == []


def test_login_with_the_store_unreachable_is_503_without_a_cookie(
    unreachable_store: RedisStore, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_app(unreachable_store).test_client()
    with caplog.at_level(logging.ERROR, logger="passport_py.sessions"):
        response = client.post("/login", data=ALICE)
    assert_unavailable(response)
    assert response.text.startswith("Service Unavailable: the session store")
    assert "answering 503" in caplog.text
    assert client.get_cookie("session") is None


def test_a_write_that_fails_at_login_is_503_and_leaves_nobody_logged_in(
    store: SessionStore,
) -> None:
    recording = Recording(store)
    app = make_app(recording)
    client = app.test_client()
    client.post("/cart", data={"item": "book"})
    before = session_id(client)
    recording.broken = {"set"}  # the old entry is deleted, then the new one is not written
    response = client.post("/login", data=ALICE)
    assert_unavailable(response)
    assert session_id(client) == before  # the browser keeps its old cookie...
    recording.broken = set()
    assert stored(recording, before) is None  # ...which now names nothing
    assert client.get("/").json == {"user": None}
    assert store.sync.destroy_user("1") == 0  # and alice has no session anywhere
