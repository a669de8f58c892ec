"""`passport_py.sessions.SessionMiddleware` through a real Starlette app (tests/session_apps.py),
with the memory store and the real Redis: a drop-in for Starlette's session, written only when
changed, regenerated and destroyed for real, JSON in the store under hashed keys, no lost update
bringing an ended session back, a 503 when the store is down, websockets and lifespan.

Cookie attributes, secrets and hostile cookies are in test_session_cookies.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import uuid
from typing import Any

import httpx
import pytest
import redis
import redis_helpers
from session_apps import (
    SECRET,
    CountingStore,
    cookie_value,
    deletes_cookie,
    parse_set_cookie,
    redis_keys,
    session_app,
    session_id,
    set_cookies,
    stored,
    stored_sessions,
)
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from passport_py.sessions import MemoryStore, SessionCookie, SessionStore
from passport_py.sessions.redis import RedisStore
from passport_py.sessions.session import new_session_id

# -- a drop-in for Starlette's SessionMiddleware -------------------------------------------


def test_request_session_is_a_dict_whose_values_persist_across_requests(
    store: SessionStore,
) -> None:
    with TestClient(session_app(store)) as client:
        assert client.post("/write", json={"theme": "dark", "n": 1}).status_code == 200
        client.post("/write", json={"n": 2})
        assert client.get("/read").json() == {"is_dict": True, "data": {"theme": "dark", "n": 2}}


def test_a_new_session_left_empty_sets_no_cookie_and_stores_nothing(store: SessionStore) -> None:
    with TestClient(session_app(store)) as client:
        responses = [client.get("/read"), client.post("/write", json={}), client.post("/clear")]
    assert [set_cookies(r) for r in responses] == [[], [], []]
    assert stored_sessions(store) == 0


def test_requests_without_a_session_cookie_never_touch_the_store(store: SessionStore) -> None:
    counting = CountingStore(store)
    with TestClient(session_app(counting)) as client:
        client.get("/read")
        client.get("/untouched")
        client.post("/clear")
        with client.websocket_connect("/ws") as websocket:
            assert websocket.receive_json() == {}
    assert counting.calls == {}


# -- written only when changed ----------------------------------------------------------


def test_an_untouched_login_session_costs_one_store_read_and_no_write(
    store: SessionStore,
) -> None:
    counting = CountingStore(store)
    with TestClient(session_app(counting)) as client:
        client.post("/login/alice")
        counting.calls.clear()
        read, untouched = client.get("/read"), client.get("/untouched")
    assert read.json()["data"] == {"passport": {"user": "alice"}}
    assert counting.calls == {"get": 2}
    assert set_cookies(read) == set_cookies(untouched) == []


def test_a_change_inside_a_nested_value_is_saved(store: SessionStore) -> None:
    with TestClient(session_app(store)) as client:
        client.post("/write", json={"cart": []})
        client.post("/append/book")
        client.post("/append/pen")
        assert client.get("/read").json()["data"] == {"cart": ["book", "pen"]}


def test_a_value_that_is_not_json_is_a_clear_type_error_and_nothing_is_stored() -> None:
    store = MemoryStore()
    client = TestClient(session_app(store))
    with client, pytest.raises(TypeError, match="session values must be JSON"):
        client.post("/put-set")
    assert stored_sessions(store) == 0


def test_a_changed_session_sends_its_cookie_again_with_the_same_id(store: SessionStore) -> None:
    with TestClient(session_app(store)) as client:
        first = cookie_value(client.post("/write", json={"a": 1}))
        again = cookie_value(client.post("/write", json={"a": 2}))
    assert session_id(again) == session_id(first)


def test_rolling_touches_the_store_and_sends_the_cookie_on_every_response(
    store: SessionStore,
) -> None:
    counting = CountingStore(store)
    with TestClient(session_app(counting, rolling=True)) as client:
        first = cookie_value(client.post("/write", json={"a": 1}))
        counting.calls.clear()
        responses = [client.get("/read"), client.get("/untouched")]
    assert counting.calls == {"get": 2, "touch": 2}
    assert [session_id(cookie_value(r)) for r in responses] == [session_id(first)] * 2


# -- regenerate, destroy, clear ----------------------------------------------------------


def test_regenerate_issues_a_new_id_deletes_the_old_entry_and_clears_the_data(
    store: SessionStore,
) -> None:
    with TestClient(session_app(store)) as client:
        old = cookie_value(client.post("/write", json={"secret": "s"}))
        new = cookie_value(client.post("/regenerate"))
        assert client.get("/read").json()["data"] == {"regenerated": True}
        replayed = client.get("/read", headers={"cookie": f"session={old}"})
    assert session_id(new) != session_id(old)
    assert stored(store, session_id(old)) is None
    assert replayed.json()["data"] == {}
    assert stored_sessions(store) == 1


def test_regenerate_keep_data_moves_the_data_to_a_new_id(store: SessionStore) -> None:
    with TestClient(session_app(store)) as client:
        old = cookie_value(client.post("/write", json={"cart": ["book"]}))
        new = cookie_value(client.post("/regenerate?keep=1"))
        assert client.get("/read").json()["data"] == {"cart": ["book"], "regenerated": True}
    assert session_id(new) != session_id(old)
    assert stored(store, session_id(old)) is None


@pytest.mark.parametrize("ending", ["/destroy", "/clear"])
def test_destroy_or_clear_deletes_the_entry_and_the_cookie_with_the_same_attributes(
    store: SessionStore, ending: str
) -> None:
    options: dict[str, Any] = {"same_site": "strict", "https_only": True, "domain": "example.test"}
    with TestClient(session_app(store, **options), base_url="https://testserver") as client:
        created = client.post("/write", json={"a": 1})
        value = cookie_value(created)
        cookie = {"cookie": f"session={value}"}  # the jar keeps no cookie of another domain
        ended = client.post(ending, headers=cookie)
        replayed = client.get("/read", headers=cookie)
    _, _, set_attributes = parse_set_cookie(set_cookies(created)[0])
    [deletion] = set_cookies(ended)
    name, emptied, attributes = parse_set_cookie(deletion)
    assert (name, emptied) == ("session", "")
    assert attributes[:2] == ["expires=Thu, 01 Jan 1970 00:00:00 GMT", "Max-Age=0"]
    assert attributes[2:] == set_attributes[1:]  # all but Max-Age, in the same order
    assert stored(store, session_id(value)) is None
    assert stored_sessions(store) == 0
    assert replayed.json()["data"] == {}


# -- what the store holds ----------------------------------------------------------------


def test_the_store_holds_json_of_the_owner_and_the_data(store: SessionStore) -> None:
    with TestClient(session_app(store)) as client:
        client.post("/write", json={"cart": ["book"]})
        value = cookie_value(client.post("/login/alice"))
    assert stored(store, session_id(value)) == {
        "user": "alice",
        "data": {"cart": ["book"], "passport": {"user": "alice"}},
    }


def test_redis_keeps_json_under_the_sha256_of_the_id_and_never_the_raw_id(
    redis_store: RedisStore,
) -> None:
    with TestClient(session_app(redis_store)) as client:
        raw_id = session_id(cookie_value(client.post("/write", json={"a": 1})))
    key = f"{redis_store.prefix}{hashlib.sha256(raw_id.encode()).hexdigest()}"
    assert redis_keys(redis_store) == [key.encode()]
    direct = redis.Redis.from_url(redis_helpers.REDIS_URL)
    try:
        raw_value = direct.get(key)
        assert list(direct.scan_iter(match=f"*{raw_id}*")) == []
    finally:
        direct.close()
    assert isinstance(raw_value, bytes)
    assert json.loads(raw_value) == {"user": None, "data": {"a": 1}}


# -- a slow request cannot bring back a session ended meanwhile (security.md 5.1 R7) -------


@pytest.mark.parametrize("ending", ["/regenerate", "/destroy"])
def test_a_slow_request_cannot_bring_back_a_session_ended_while_it_ran(
    store: SessionStore, ending: str
) -> None:
    async def scenario() -> tuple[str, httpx.Response, httpx.Response, httpx.Response]:
        started, release = asyncio.Event(), asyncio.Event()

        async def slow(request: Request) -> Response:
            request.session["cart"].append("late")  # loaded before the session ends
            started.set()
            await release.wait()
            return PlainTextResponse("late write")

        app = session_app(store, routes=[Route("/slow", slow)])
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            old = cookie_value(await client.post("/write", json={"cart": ["book"]}))
            cookie = {"cookie": f"session={old}"}
            late = asyncio.create_task(client.get("/slow", headers=cookie))
            await started.wait()
            ended = await client.post(ending, headers=cookie)
            release.set()
            late_response = await late
            replayed = await client.get("/read", headers=cookie)
        if isinstance(store, RedisStore):
            await store.aclose()  # no lifespan here: close this loop's connections ourselves
        return old, ended, late_response, replayed

    old, ended, late, replayed = asyncio.run(scenario())
    assert late.status_code == 200
    assert stored(store, session_id(old)) is None
    # No Set-Cookie at all: by now the browser may hold the cookie `ending` gave it (a login
    # in another tab), which a deletion would wipe out.
    assert late.headers.get_list("set-cookie") == []
    assert late.headers["vary"] == "Cookie"
    if ending == "/regenerate":  # the new session is left as the other request made it
        new = session_id(cookie_value(ended))
        assert stored(store, new)["data"] == {"regenerated": True}
    assert stored_sessions(store) == (1 if ending == "/regenerate" else 0)
    # The dead cookie goes with the next request that brings it.
    assert replayed.json()["data"] == {}
    assert deletes_cookie(replayed)


# -- the store down: 503, nothing half-written ---------------------------------------------


def a_signed_cookie() -> tuple[str, str]:
    """(id, cookie value): a validly signed id, so the middleware must ask the store."""
    raw_id = new_session_id()
    return raw_id, SessionCookie(SECRET).sign(raw_id)


def test_store_down_a_request_with_a_session_cookie_gets_503_and_a_log_line_without_the_id(
    unreachable_store: RedisStore, caplog: pytest.LogCaptureFixture
) -> None:
    raw_id, value = a_signed_cookie()
    with TestClient(session_app(unreachable_store)) as client:
        response = client.get("/read", headers={"cookie": f"session={value}"})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert "session store is not answering" in response.text
    assert "set-cookie" not in response.headers
    [record] = [r for r in caplog.records if r.name == "passport_py.sessions"]
    assert record.levelno == logging.ERROR
    assert record.getMessage().startswith("session store unavailable, answering 503")
    assert raw_id not in caplog.text and value not in caplog.text


def test_store_down_cookie_less_requests_are_served_normally(unreachable_store: RedisStore) -> None:
    with TestClient(session_app(unreachable_store)) as client:
        read, untouched = client.get("/read"), client.get("/untouched")
    assert (read.status_code, read.json()) == (200, {"is_dict": True, "data": {}})
    assert (untouched.status_code, untouched.text) == (200, "ok")


def test_store_down_a_new_session_that_cannot_be_saved_is_a_503_without_a_cookie(
    unreachable_store: RedisStore,
) -> None:
    with TestClient(session_app(unreachable_store)) as client:
        response = client.post("/login/alice")
    assert response.status_code == 503
    assert "logged in" not in response.text  # the app's body is dropped
    assert "set-cookie" not in response.headers


# -- websockets and lifespan -------------------------------------------------------------


def test_a_websocket_endpoint_reads_the_session(store: SessionStore) -> None:
    with TestClient(session_app(store)) as client:
        client.post("/write", json={"theme": "dark"})
        with client.websocket_connect("/ws") as websocket:
            assert websocket.receive_json() == {"theme": "dark"}


def test_store_down_a_websocket_handshake_is_closed_with_1013(
    unreachable_store: RedisStore,
) -> None:
    _, value = a_signed_cookie()
    with TestClient(session_app(unreachable_store)) as client:
        handshake = client.websocket_connect("/ws", headers={"cookie": f"session={value}"})
        with pytest.raises(WebSocketDisconnect) as closed, handshake:
            pass  # pragma: no cover - the handshake is refused
    assert closed.value.code == 1013


def test_app_shutdown_closes_the_redis_stores_connections(redis_prefix: str) -> None:
    name = f"passport-py-test-{uuid.uuid4().hex[:12]}"
    joiner = "&" if "?" in redis_helpers.REDIS_URL else "?"
    store = RedisStore(f"{redis_helpers.REDIS_URL}{joiner}client_name={name}", prefix=redis_prefix)
    admin = redis.Redis.from_url(redis_helpers.REDIS_URL)

    def connections() -> int:
        return sum(client.get("name") == name for client in admin.client_list())

    try:
        with TestClient(session_app(store)) as client:
            client.post("/write", json={"a": 1})
            assert connections() >= 1
        deadline = time.monotonic() + 2
        while connections() and time.monotonic() < deadline:
            time.sleep(0.01)  # Redis notices a closed socket asynchronously
        assert connections() == 0
    finally:
        admin.close()
        store.sync_close()
