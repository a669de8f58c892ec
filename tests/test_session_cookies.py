"""The cookie of `passport_py.sessions.SessionMiddleware` through a real Starlette app
(tests/session_apps.py): its exact attributes, the settings refused at start-up, secret
rotation, the hostile cookies of security.md 4.4 (none loads a session, none is a 500, no
client-chosen id is ever adopted), and the `Vary` / `Cache-Control` the responses carry.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from itsdangerous import Signer
from session_apps import (
    SECRET,
    CountingStore,
    cookie_value,
    deletes_cookie,
    parse_set_cookie,
    session_app,
    session_id,
    set_cookies,
    stored,
    stored_sessions,
)
from starlette.testclient import TestClient

from passport_py import ConfigurationError
from passport_py.sessions import MemoryStore, SessionCookie, SessionMiddleware, SessionStore

TWO_WEEKS = 14 * 24 * 60 * 60
NEW_SECRET = "session-tests-new-secret-7d1e9b3a5c2f8e4b6a0d"


def created_cookie(
    base_url: str = "http://testserver", *, anonymous: bool = False, **options: Any
) -> tuple[str, list[str]]:
    """(name, attributes) of the cookie a new login session (or, with `anonymous`, a new
    session nobody has logged into) gets from an app with `options`."""
    with TestClient(session_app(MemoryStore(), **options), base_url=base_url) as client:
        if anonymous:
            response = client.post("/write", json={"a": 1})
        else:
            response = client.post("/login/alice")
        [header] = response.headers.get_list("set-cookie")
    name, value, attributes = parse_set_cookie(header)
    assert value  # the signed id
    return name, attributes


# -- attributes -------------------------------------------------------------------------


def test_the_cookie_is_httponly_samesite_lax_path_root_for_two_weeks_without_secure_on_http() -> (
    None
):
    assert created_cookie() == (
        "session",
        [f"Max-Age={TWO_WEEKS}", "Path=/", "HttpOnly", "SameSite=Lax"],
    )


@pytest.mark.parametrize(
    ("https_only", "scheme", "secure"),
    [(None, "http", False), (None, "https", True), (True, "http", True), (False, "https", False)],
)
def test_secure_follows_the_scheme_unless_https_only_says(
    https_only: bool | None, scheme: str, secure: bool
) -> None:
    _, attributes = created_cookie(f"{scheme}://testserver", https_only=https_only)
    assert ("Secure" in attributes) is secure


def test_cookie_name_path_domain_same_site_and_max_age_are_as_configured() -> None:
    options: dict[str, Any] = {"path": "/app", "domain": "example.test", "max_age": 3600}
    assert created_cookie(cookie_name="sid", same_site="strict", **options) == (
        "sid",
        ["Max-Age=3600", "Path=/app", "Domain=example.test", "HttpOnly", "SameSite=Strict"],
    )


@pytest.mark.parametrize(
    ("options", "max_age"),
    [
        ({}, "Max-Age=600"),
        ({"anonymous_max_age": 60}, "Max-Age=60"),
        ({"max_age": 300}, "Max-Age=300"),  # never longer than a login session's
        ({"anonymous_max_age": None}, f"Max-Age={TWO_WEEKS}"),
    ],
)
def test_the_cookie_of_a_session_nobody_logged_into_lasts_anonymous_max_age(
    options: dict[str, Any], max_age: str
) -> None:
    assert created_cookie(anonymous=True, **options)[1][0] == max_age


def test_session_cookie_is_taken_for_cookie_name_as_in_starlettes_middleware() -> None:
    assert created_cookie(session_cookie="sid")[0] == "sid"


def test_max_age_none_makes_a_browser_session_cookie_while_the_store_keeps_the_data() -> None:
    store = MemoryStore()
    with TestClient(session_app(store, max_age=None)) as client:
        response = client.post("/write", json={"a": 1})
        assert client.get("/read").json()["data"] == {"a": 1}
    _, value, attributes = parse_set_cookie(set_cookies(response)[0])
    assert attributes == ["Path=/", "HttpOnly", "SameSite=Lax"]  # no Max-Age, no Expires
    assert stored(store, session_id(value)) == {"user": None, "data": {"a": 1}}


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_same_site_none_is_always_secure(scheme: str) -> None:
    _, attributes = created_cookie(f"{scheme}://testserver", same_site="none")
    assert attributes[-3:] == ["Secure", "HttpOnly", "SameSite=None"]


@pytest.mark.parametrize("name", ["__Host-session", "__Secure-session"])
def test_a_prefixed_name_forces_secure_even_on_http(name: str) -> None:
    assert created_cookie(cookie_name=name) == (
        name,
        [f"Max-Age={TWO_WEEKS}", "Path=/", "Secure", "HttpOnly", "SameSite=Lax"],
    )


# -- settings refused at start-up -------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"secret_key": ""}, "at least 32 bytes"),
        ({"secret_key": "too-short"}, "at least 32 bytes"),
        ({"secret_key": "x" * 31}, "at least 32 bytes"),
        ({"secret_key": b"x" * 31}, "at least 32 bytes"),
        ({"secret_key": []}, "at least one key"),
        ({"secret_key": [SECRET, "old-and-short"]}, "at least 32 bytes"),
        ({"same_site": "bogus"}, "same_site"),
        ({"same_site": ""}, "same_site"),
        ({"max_age": 0}, "max_age"),
        ({"max_age": -1}, "max_age"),
        ({"anonymous_max_age": 0}, "anonymous_max_age"),
        ({"same_site": "none", "https_only": False}, "needs https"),
        ({"cookie_name": "__Host-session", "path": "/app"}, "__Host-"),
        ({"cookie_name": "__Host-session", "domain": "example.test"}, "__Host-"),
        ({"cookie_name": "__Host-session", "https_only": False}, "__Host-"),
        ({"cookie_name": "__Secure-session", "https_only": False}, "__Secure-"),
    ],
)
def test_weak_or_contradictory_settings_are_a_configuration_error(
    options: dict[str, Any], message: str
) -> None:
    options.setdefault("secret_key", SECRET)
    app = SessionMiddleware(session_app(MemoryStore()), **options)
    # Reported when the app starts: Starlette builds its middleware inside the lifespan call.
    with pytest.raises(ConfigurationError, match=message), TestClient(app):
        pass  # pragma: no cover - the startup raises
    with pytest.raises(ConfigurationError, match=message):
        TestClient(app).get("/read")  # and, run without lifespan, at each request


def test_a_secret_of_exactly_32_bytes_is_accepted() -> None:
    SessionMiddleware(session_app(MemoryStore()), secret_key=b"k" * 32)


# -- secret rotation --------------------------------------------------------------------


def test_a_cookie_signed_with_an_old_secret_verifies_and_is_signed_again_with_the_new() -> None:
    store = CountingStore(MemoryStore())
    with TestClient(session_app(store)) as client:
        old_value = cookie_value(client.post("/write", json={"a": 1}))
    store.calls.clear()
    with TestClient(session_app(store, secret_key=[NEW_SECRET, SECRET])) as client:
        rotated = client.get("/read", headers={"cookie": f"session={old_value}"})
        new_value = cookie_value(rotated)
        settled = client.get("/read", headers={"cookie": f"session={new_value}"})
    assert rotated.json()["data"] == {"a": 1}
    assert session_id(new_value, NEW_SECRET) == session_id(old_value)  # same session
    assert SessionCookie(SECRET).read([new_value]) == (None, False)  # signed with the new key
    assert store.calls == {"get": 2}  # re-signing writes nothing to the store
    assert settled.json()["data"] == {"a": 1}
    assert set_cookies(settled) == []


def test_once_the_old_secret_is_dropped_its_cookies_get_a_new_anonymous_session() -> None:
    store = MemoryStore()
    with TestClient(session_app(store)) as client:
        old_value = cookie_value(client.post("/write", json={"a": 1}))
    with TestClient(session_app(store, secret_key=NEW_SECRET)) as client:
        read = client.get("/read", headers={"cookie": f"session={old_value}"})
        written = client.post("/write", headers={"cookie": f"session={old_value}"}, json={"b": 2})
    assert (read.status_code, read.json()["data"]) == (200, {})
    assert deletes_cookie(read)
    assert session_id(cookie_value(written), NEW_SECRET) != session_id(old_value)


# -- hostile cookies (security.md 4.4) ---------------------------------------------------

#: (cookie value of a live session, its id) -> the Cookie header to send (None: no header).
Forge = Callable[[str, str], "str | bytes | None"]


def flipped(text: str, at: int) -> str:
    """`text` with the character at `at` changed to another URL-safe one."""
    return text[:at] + ("B" if text[at] == "A" else "A") + text[at + 1 :]


def signed_elsewhere(session_id: str, **signer: Any) -> str:
    """`session_id` signed with our secret by another itsdangerous signer (salt, digest)."""
    return Signer(SECRET, **signer).sign(session_id).decode()


RANDOM_BASE64 = base64.urlsafe_b64encode(os.urandom(64)).decode()

BAD_COOKIES: dict[str, Forge] = {
    "absent": lambda value, sid: None,
    "empty": lambda value, sid: "session=",
    "percent signs": lambda value, sid: "session=%%%",
    "random base64": lambda value, sid: f"session={RANDOM_BASE64}",
    "right shape, bad signature": lambda value, sid: f"session={sid}.{'A' * 43}",
    "one byte flipped in the id": lambda value, sid: f"session={flipped(value, 5)}",
    "one byte flipped in the signature": lambda value, sid: f"session={flipped(value, -5)}",
    "the unsigned raw id": lambda value, sid: f"session={sid}",
    "signed for another purpose (salt)": lambda value, sid: (
        "session="
        + signed_elsewhere(sid, salt="passport_py.remember_me", digest_method=hashlib.sha256)
    ),
    "signed with itsdangerous defaults": lambda value, sid: f"session={signed_elsewhere(sid)}",
    "10 kB": lambda value, sid: "session=" + "A" * 10_240,
    "4097 bytes": lambda value, sid: "session=" + "a" * (4097 - len("session=")),
    "valid value with 4 kB appended": lambda value, sid: f"session={value}{'A' * 4096}",
    "non-ASCII": lambda value, sid: f"session={value}é".encode(),
    "odd characters": lambda value, sid: f"session={value[:9]} ,\x00{value[9:]}",
    "quoted": lambda value, sid: f'session="{value}"',
    "nameless =session=": lambda value, sid: f"=session={value}",
    "look-alike ..session": lambda value, sid: f"..session={value}",
    "look-alike Session": lambda value, sid: f"Session={value}",
    "look-alike session_": lambda value, sid: f"session_={value}",
}


def live_session(store: SessionStore) -> tuple[str, str]:
    """(cookie value, id) of a session holding {"secret": "s"} in `store`."""
    with TestClient(session_app(store)) as client:
        value = cookie_value(client.post("/write", json={"secret": "s"}))
    return value, session_id(value)


def send(client: TestClient, method: str, path: str, cookie: str | bytes | None) -> httpx2.Response:
    """`method path` with exactly `cookie` as the Cookie header (none when None)."""
    headers: dict[bytes, bytes] = {}
    if cookie is not None:
        headers[b"cookie"] = cookie if isinstance(cookie, bytes) else cookie.encode("latin-1")
    return client.request(method, path, headers=headers, json={"mine": 1})


@pytest.mark.parametrize("forge", BAD_COOKIES.values(), ids=BAD_COOKIES.keys())
def test_a_bad_cookie_loads_no_session_and_is_never_a_500(forge: Forge) -> None:
    store = MemoryStore()
    value, sid = live_session(store)
    with TestClient(session_app(store)) as client:
        response = send(client, "GET", "/read", forge(value, sid))
    assert (response.status_code, response.json()["data"]) == (200, {})


@pytest.mark.parametrize("forge", BAD_COOKIES.values(), ids=BAD_COOKIES.keys())
def test_a_write_under_a_bad_cookie_starts_a_new_session_and_leaves_the_live_one_alone(
    forge: Forge,
) -> None:
    store = MemoryStore()
    value, sid = live_session(store)
    with TestClient(session_app(store)) as client:
        response = send(client, "POST", "/write", forge(value, sid))
    assert response.status_code == 200
    assert session_id(cookie_value(response)) != sid
    assert stored(store, sid) == {"user": None, "data": {"secret": "s"}}
    assert stored_sessions(store) == 2


def test_an_unverifiable_session_cookie_is_deleted_and_the_store_never_asked() -> None:
    store = CountingStore(MemoryStore())
    with TestClient(session_app(store)) as client:
        response = client.get("/read", headers={"cookie": "session=not-a-signed-id"})
    assert deletes_cookie(response)
    assert store.calls == {}


def test_a_validly_signed_but_never_issued_id_is_never_adopted(store: SessionStore) -> None:
    fabricated = "attacker-chosen-id-" + "x" * 24
    cookie = {"cookie": f"session={SessionCookie(SECRET).sign(fabricated)}"}
    with TestClient(session_app(store)) as client:
        read = client.get("/read", headers=cookie)
        written = client.post("/write", headers=cookie, json={"a": 1})
    assert read.json()["data"] == {}
    assert deletes_cookie(read)
    assert session_id(cookie_value(written)) != fabricated
    assert stored(store, fabricated) is None
    assert stored_sessions(store) == 1


@pytest.mark.parametrize(
    "cookie",
    [
        "=__Host-session={value}",
        '"__Host-session"={value}',
        "__host-session={value}",
        "..Host-session={value}",
        "_[Host-session={value}",
    ],
)
def test_names_that_only_look_like_a_host_prefixed_session_cookie_are_not_it(cookie: str) -> None:
    options: dict[str, Any] = {"cookie_name": "__Host-session"}
    store = MemoryStore()
    with TestClient(session_app(store, **options), base_url="https://testserver") as client:
        value = cookie_value(client.post("/write", json={"a": 1}), "__Host-session")
        response = client.get("/read", headers={"cookie": cookie.format(value=value)})
    assert response.json()["data"] == {}


def test_of_duplicate_session_cookies_the_first_value_that_verifies_wins() -> None:
    store = MemoryStore()
    with TestClient(session_app(store)) as client:
        first = cookie_value(client.post("/write", json={"who": "first"}))
        client.cookies.clear()
        second = cookie_value(client.post("/write", json={"who": "second"}))
        client.cookies.clear()
        headers: list[list[tuple[str, str]]] = [
            [("cookie", f"session={first}; session={second}")],
            [("cookie", f"session=forged; session={first}; session={second}")],
            [("cookie", "session=forged"), ("cookie", f"session={first}")],  # HTTP/2 style
        ]
        found = [client.get("/read", headers=h).json()["data"] for h in headers]
        swapped = {"cookie": f"session={second}; session={first}"}
        reversed_order = client.get("/read", headers=swapped)
    assert found == [{"who": "first"}] * 3
    assert reversed_order.json()["data"] == {"who": "second"}


# -- Vary and Cache-Control --------------------------------------------------------------


def test_vary_cookie_when_the_request_came_with_a_session_or_the_cookie_is_set(
    store: SessionStore,
) -> None:
    with TestClient(session_app(store)) as client:
        created = client.post("/write", json={"a": 1})
        untouched = client.get("/untouched")
    assert created.headers.get_list("vary") == ["Cookie"]
    assert untouched.headers.get_list("vary") == ["Cookie"]


def test_reading_request_session_varies_on_cookie_even_without_a_cookie() -> None:
    # Starlette's Request.session calls mark_accessed(), as with Starlette's own middleware:
    # an anonymous page must not be served from a cache to someone with a session.
    with TestClient(session_app(MemoryStore())) as client:
        response = client.get("/read")
    assert response.headers.get_list("vary") == ["Cookie"]
    assert "cache-control" not in response.headers


def test_a_cookie_less_response_that_never_touched_the_session_gets_no_vary() -> None:
    with TestClient(session_app(MemoryStore())) as client:
        response = client.get("/untouched")
    assert "vary" not in response.headers
    assert "cache-control" not in response.headers


def test_vary_cookie_is_merged_into_the_apps_own_vary() -> None:
    with TestClient(session_app(MemoryStore())) as client:
        client.post("/write", json={"a": 1})
        response = client.get("/headers", params={"vary": "Accept-Encoding"})
    assert response.headers.get_list("vary") == ["Accept-Encoding, Cookie"]


@pytest.mark.parametrize("vary", ["*", "Cookie", "Accept, cookie"])
def test_vary_is_left_as_the_app_set_it_when_it_is_star_or_names_cookie(vary: str) -> None:
    with TestClient(session_app(MemoryStore())) as client:
        client.post("/write", json={"a": 1})
        response = client.get("/headers", params={"vary": vary})
    assert response.headers.get_list("vary") == [vary]


def test_cache_control_no_store_when_the_cookie_is_set_or_deleted() -> None:
    with TestClient(session_app(MemoryStore())) as client:
        created = client.post("/write", json={"a": 1})
        destroyed = client.post("/destroy")
    assert set_cookies(created) and deletes_cookie(destroyed)
    assert created.headers["cache-control"] == destroyed.headers["cache-control"] == "no-store"


def test_every_response_to_a_login_session_is_no_store_even_without_a_cookie(
    store: SessionStore,
) -> None:
    with TestClient(session_app(store)) as client:
        client.post("/login/alice")
        response = client.get("/untouched")
    assert set_cookies(response) == []
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["vary"] == "Cookie"


def test_an_anonymous_session_only_read_is_not_made_no_store() -> None:
    with TestClient(session_app(MemoryStore())) as client:
        client.post("/write", json={"a": 1})
        response = client.get("/read")
    assert "cache-control" not in response.headers
    assert response.headers["vary"] == "Cookie"


def test_the_apps_own_cache_control_is_kept() -> None:
    with TestClient(session_app(MemoryStore())) as client:
        client.post("/login/alice")
        logged_in = client.get("/headers", params={"cache_control": "private, max-age=60"})
    assert logged_in.headers.get_list("cache-control") == ["private, max-age=60"]
