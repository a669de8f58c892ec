"""`SessionMiddleware`: server-side sessions for any ASGI app (pure ASGI, no framework)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping, Sequence
from typing import Any

from passport_py.errors import ConfigurationError
from passport_py.sessions.cookie import SameSite, SessionCookie
from passport_py.sessions.memory import MemoryStore
from passport_py.sessions.session import CookieAction, ServerSession, open_session, save
from passport_py.sessions.stores import SessionStore, SessionStoreUnavailable, log_unavailable

__all__ = ["SessionMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_TTL = 14 * 24 * 60 * 60
UNAVAILABLE_BODY = b"Service Unavailable: the session store is not answering. Try again shortly."


class SessionMiddleware:
    """Server-side sessions: `request.session` is a dict kept in `store` under a random id,
    and the cookie carries only that id, signed (a drop-in for Starlette's middleware).

    An untouched session costs one store read and no write; the store is written and the
    cookie set only when the session changed (or on every response with `rolling=True`). A new
    session that stays empty creates nothing, and one nobody has logged into is kept
    `anonymous_max_age` seconds after its last change (10 minutes; None: as long as a login
    session), so anonymous traffic cannot fill the store. When the store does not answer, the
    request gets a 503 and nothing is saved. `max_age=None` makes a browser-session cookie (the
    store keeps the data 14 days after its last change). `session_cookie=` is accepted for
    `cookie_name=`, as Starlette's middleware calls it.
    """

    def __init__(
        self,
        app: ASGIApp,
        secret_key: str | bytes | Sequence[str | bytes],
        store: SessionStore | None = None,
        cookie_name: str = "session",
        max_age: int | None = 14 * 24 * 60 * 60,
        rolling: bool = False,
        same_site: SameSite = "lax",
        https_only: bool | None = None,
        path: str = "/",
        domain: str | None = None,
        session_cookie: str | None = None,
        anonymous_max_age: int | None = 600,
    ) -> None:
        if session_cookie is not None:  # Starlette's name for it: a drop-in takes both
            cookie_name = session_cookie
        self.app = app
        self.store: SessionStore = store if store is not None else MemoryStore()
        #: A configuration mistake, reported when the app starts (or at each request).
        self.bad_config: ConfigurationError | None = None
        try:
            self.cookie = SessionCookie(
                secret_key,
                name=cookie_name,
                max_age=max_age,
                same_site=same_site,
                https_only=https_only,
                path=path,
                domain=domain,
                anonymous_max_age=anonymous_max_age,
            )
        except ConfigurationError as error:
            # Starlette builds its middleware at the first ASGI call, uvicorn's lifespan: raised
            # here, it reads as "lifespan unsupported" and the server serves 500s.
            self.bad_config = error
        self.ttl = max_age if max_age is not None else DEFAULT_TTL
        self.anonymous_ttl = anonymous_max_age
        self.rolling = rolling
        self._name = cookie_name.encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if self.bad_config is not None:
            await _refuse_to_start(self.bad_config, kind, receive, send)
        if kind != "http" and kind != "websocket":
            if kind == "lifespan":
                send = self._closing_on_shutdown(send)
            await self.app(scope, receive, send)
            return
        values = _cookie_values(scope["headers"], self._name)
        if values:
            try:
                session = await open_session(
                    self.store, ServerSession, self.cookie.verified(values)
                )
            except SessionStoreUnavailable as exc:
                await _unavailable(kind, send, exc)
                return
        else:
            # No cookie, no store: a cookie-less request never waits for the store.
            session = ServerSession()
        session.store = self.store
        scope["session"] = session
        if kind == "http":
            send = self._sender(scope, session, send)
        await self.app(scope, receive, send)

    def _closing_on_shutdown(self, send: Send) -> Send:
        """`send` for the lifespan scope: once the app has shut down, the store closes the
        connections it opened on this event loop (`aclose`, when it has one)."""

        async def send_wrapper(message: Message) -> None:
            if message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
                aclose = getattr(self.store, "aclose", None)
                if callable(aclose):
                    await aclose()
            await send(message)

        return send_wrapper

    def _sender(self, scope: Scope, session: ServerSession, send: Send) -> Send:
        failed = False

        async def save_then_send(message: Message) -> None:
            nonlocal failed
            try:
                action = await save(self.store, session, self.ttl, self.rolling, self.anonymous_ttl)
            except SessionStoreUnavailable as exc:
                failed = True  # the app's body that follows is dropped: the 503 is complete
                await session.undo_unsaved()
                await _unavailable("http", send, exc)
                return
            await send(self._with_headers(scope, message, session, action))

        async def dropped() -> None:
            return None

        def send_wrapper(message: Message) -> Awaitable[None]:
            if failed:
                return dropped()
            if message["type"] != "http.response.start":
                return send(message)
            if session.needs_save(self.rolling):
                return save_then_send(message)
            return send(self._with_headers(scope, message, session, None))

        return send_wrapper

    def _with_headers(
        self, scope: Scope, message: Message, session: ServerSession, action: CookieAction
    ) -> Message:
        """The response start with the session's `Set-Cookie`, `Vary: Cookie`, and
        `Cache-Control: no-store` for login sessions and cookie changes (unless set)."""
        private = action is not None or session.user is not None
        vary = action is not None or session.accessed
        if not private and not vary:
            return message
        headers = list(message.get("headers") or ())
        has_cache_control = False
        vary_at: int | None = None
        for index, (name, value) in enumerate(headers):
            if name == b"cache-control":
                has_cache_control = True
            elif name == b"vary":
                lowered = value.lower()
                if b"cookie" in lowered or b"*" in lowered:
                    vary = False
                elif vary_at is None:
                    vary_at = index
        if vary:
            if vary_at is None:
                headers.append((b"vary", b"Cookie"))
            else:
                headers[vary_at] = (b"vary", headers[vary_at][1] + b", Cookie")
        if private and not has_cache_control:
            headers.append((b"cache-control", b"no-store"))
        https = scope.get("scheme") in ("https", "wss")
        cookie = self.cookie.after_save(action, session.id, https, anonymous=session.user is None)
        if cookie is not None:
            headers.append((b"set-cookie", cookie.header_value().encode("latin-1")))
        return {**message, "headers": headers}


def _cookie_values(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> list[str]:
    """Every value the request's Cookie headers give `name`, in order.

    Names must match exactly: a nameless `=session=x`, a quoted or look-alike name is not ours.
    """
    values: list[str] = []
    for key, raw in headers:
        if key != b"cookie" or name not in raw:
            continue
        for part in raw.split(b";"):
            cookie_name, sep, value = part.partition(b"=")
            if sep and cookie_name.strip() == name:
                values.append(value.strip().decode("latin-1"))
    return values


async def _unavailable(kind: str, send: Send, exc: SessionStoreUnavailable) -> None:
    """Answer 503 (close 1013 for a websocket) and log why, without the session id."""
    log_unavailable(exc)
    if kind == "websocket":
        await send({"type": "websocket.close", "code": 1013})
        return
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(UNAVAILABLE_BODY)).encode("ascii")),
                (b"retry-after", b"1"),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": UNAVAILABLE_BODY})


async def _refuse_to_start(
    error: ConfigurationError, kind: str, receive: Receive, send: Send
) -> None:
    """Fail the lifespan startup with `error`'s message (the server exits), or the request."""
    if kind == "lifespan" and (await receive())["type"] == "lifespan.startup":
        await send({"type": "lifespan.startup.failed", "message": str(error)})
    raise error
