"""A small real Starlette app over `passport_py.sessions.SessionMiddleware`, for session tests.

`session_app(store, **options)` builds the app; `options` go to `SessionMiddleware` (the secret
defaults to `SECRET`). Its routes act on `request.session`:

    GET  /read             the session as JSON: {"is_dict": ..., "data": {...}}
    GET  /untouched        "ok", without looking at the session
    POST /write            merges the JSON body (an object) into the session
    POST /append/{item}    session["cart"].append(item): a change inside a nested value
    POST /put-set          stores a Python set: not JSON, the save raises TypeError
    POST /regenerate       session.regenerate() (`?keep=1` keeps the data), then
                           session["regenerated"] = True, so the new session is saved
    POST /destroy          session.destroy()
    POST /clear            session.clear(), as an app would
    POST /login/{user}     bind_user(user) and session["passport"] = {"user": user}, the way
                           passport's login records a user
    GET  /headers          reads the session; the response carries the `vary` and
                           `cache_control` query values as its own headers when given
    WS   /ws               accepts and sends the session as JSON

`routes=` adds routes before these (for tests that need a slow or special endpoint).
`CountingStore` wraps a real store and counts its calls; `stored_sessions` and `stored` read a
`MemoryStore` or `RedisStore` from outside the app; `parse_set_cookie` and `session_id` read
responses.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any, Protocol

import redis
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from passport_py.sessions import MemoryStore, SessionCookie, SessionMiddleware, SessionStore
from passport_py.sessions.redis import RedisStore
from passport_py.sessions.session import ServerSession
from passport_py.sessions.stores import SyncSessionStore

SECRET = "session-tests-secret-4f8a2c9e1b7d3f6a0e5c8b2d"
"""The default secret of `session_app` (at least 32 bytes, as `SessionCookie` requires)."""


def server_session(request: Request) -> ServerSession:
    """`request.session`, typed as what our middleware puts there."""
    session = request.session
    assert isinstance(session, ServerSession)
    return session


async def read(request: Request) -> Response:
    return JSONResponse({"is_dict": isinstance(request.session, dict), "data": request.session})


async def untouched(request: Request) -> Response:
    return PlainTextResponse("ok")


async def write(request: Request) -> Response:
    request.session.update(await request.json())
    return PlainTextResponse("written")


async def append(request: Request) -> Response:
    request.session["cart"].append(request.path_params["item"])
    return PlainTextResponse("appended")


async def put_set(request: Request) -> Response:
    request.session["tags"] = {"a", "b"}
    return PlainTextResponse("stored a set")


async def regenerate(request: Request) -> Response:
    session = server_session(request)
    session.regenerate(keep_data=request.query_params.get("keep") == "1")
    session["regenerated"] = True
    return PlainTextResponse("regenerated")


async def destroy(request: Request) -> Response:
    server_session(request).destroy()
    return PlainTextResponse("destroyed")


async def clear(request: Request) -> Response:
    request.session.clear()
    return PlainTextResponse("cleared")


async def login(request: Request) -> Response:
    user = request.path_params["user"]
    session = server_session(request)
    session.bind_user(user)
    session["passport"] = {"user": user}
    return PlainTextResponse(f"logged in {user}")


async def own_headers(request: Request) -> Response:
    headers = {}
    if "vary" in request.query_params:
        headers["Vary"] = request.query_params["vary"]
    if "cache_control" in request.query_params:
        headers["Cache-Control"] = request.query_params["cache_control"]
    return JSONResponse(dict(request.session), headers=headers)


async def websocket_session(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json(dict(websocket.session))
    await websocket.close()


ROUTES: list[BaseRoute] = [
    Route("/read", read),
    Route("/untouched", untouched),
    Route("/write", write, methods=["POST"]),
    Route("/append/{item}", append, methods=["POST"]),
    Route("/put-set", put_set, methods=["POST"]),
    Route("/regenerate", regenerate, methods=["POST"]),
    Route("/destroy", destroy, methods=["POST"]),
    Route("/clear", clear, methods=["POST"]),
    Route("/login/{user}", login, methods=["POST"]),
    Route("/headers", own_headers),
    WebSocketRoute("/ws", websocket_session),
]


def session_app(
    store: SessionStore, *, routes: Sequence[BaseRoute] = (), **options: Any
) -> Starlette:
    """The test app with `SessionMiddleware(store=store, secret_key=SECRET, **options)`."""
    options.setdefault("secret_key", SECRET)
    return Starlette(
        routes=[*routes, *ROUTES],
        middleware=[Middleware(SessionMiddleware, store=store, **options)],
    )


class CountingStore:
    """A real store that counts the calls the middleware makes (`calls["get"]`, ...)."""

    def __init__(self, inner: SessionStore) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    @property
    def sync(self) -> SyncSessionStore:
        return self.inner.sync

    async def get(self, session_id: str) -> str | None:
        self.calls["get"] += 1
        return await self.inner.get(session_id)

    async def set(
        self, session_id: str, value: str, ttl: int, *, user: str | None = None, new: bool = False
    ) -> bool:
        self.calls["set"] += 1
        return await self.inner.set(session_id, value, ttl, user=user, new=new)

    async def delete(self, session_id: str, *, user: str | None = None) -> None:
        self.calls["delete"] += 1
        await self.inner.delete(session_id, user=user)

    async def touch(self, session_id: str, ttl: int, *, user: str | None = None) -> bool:
        self.calls["touch"] += 1
        return await self.inner.touch(session_id, ttl, user=user)

    async def destroy_user(self, user: str) -> int:
        self.calls["destroy_user"] += 1
        return await self.inner.destroy_user(user)

    async def aclose(self) -> None:
        """Forwarded, so that the middleware's lifespan shutdown still closes the store."""
        aclose = getattr(self.inner, "aclose", None)
        if callable(aclose):
            await aclose()


def _unwrapped(store: SessionStore) -> SessionStore:
    return store.inner if isinstance(store, CountingStore) else store


def redis_keys(store: RedisStore) -> list[bytes]:
    """Every key under the store's prefix, read with a client of our own."""
    assert store.url is not None, "a RedisStore made from a url"
    client = redis.Redis.from_url(store.url)
    try:
        return list(client.scan_iter(match=f"{store.prefix}*", count=1000))
    finally:
        client.close()


def stored_sessions(store: SessionStore) -> int:
    """How many sessions the store holds (a `MemoryStore` or `RedisStore`, maybe wrapped)."""
    inner = _unwrapped(store)
    if isinstance(inner, MemoryStore):
        return len(inner)
    if isinstance(inner, RedisStore):
        index = f"{inner.prefix}user:".encode()
        return sum(not key.startswith(index) for key in redis_keys(inner))
    raise TypeError(f"cannot count the sessions of {inner!r}")


def stored(store: SessionStore, session_id: str) -> Any:
    """The store's value for `session_id`, decoded from JSON (None when there is none)."""
    value = _unwrapped(store).sync.get(session_id)
    return None if value is None else json.loads(value)


class HeaderList(Protocol):
    def get_list(self, key: str, split_commas: bool = False) -> list[str]: ...


class AnyResponse(Protocol):
    """An httpx or httpx2 response (Starlette's TestClient answers with httpx2's)."""

    @property
    def headers(self) -> HeaderList: ...


def parse_set_cookie(header: str) -> tuple[str, str, list[str]]:
    """(name, value, attributes in order) of a `Set-Cookie` header value."""
    pair, *attributes = header.split("; ")
    name, _, value = pair.partition("=")
    return name, value, attributes


def set_cookies(response: AnyResponse, name: str = "session") -> list[str]:
    """The response's `Set-Cookie` header values for cookie `name`."""
    return [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]


def cookie_value(response: AnyResponse, name: str = "session") -> str:
    """The value of the one `Set-Cookie` for `name` the response must carry."""
    headers = set_cookies(response, name)
    assert len(headers) == 1, response.headers.get_list("set-cookie")
    return parse_set_cookie(headers[0])[1]


def session_id(value: str, secret: str | Sequence[str] = SECRET) -> str:
    """The session id a cookie value carries (it must verify with `secret`)."""
    found, _ = SessionCookie(secret).read([value])
    assert found is not None, f"{value!r} does not verify"
    return found


def deletes_cookie(response: AnyResponse, name: str = "session") -> bool:
    """True when the response tells the browser to drop cookie `name`."""
    return any(
        parse_set_cookie(h)[1] == "" and "Max-Age=0" in parse_set_cookie(h)[2]
        for h in set_cookies(response, name)
    )
