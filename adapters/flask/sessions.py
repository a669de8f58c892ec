"""`ServerSideSessionInterface`: `flask.session` kept in a `passport_py.sessions` store.

The cookie carries only the session's id, signed; the data lives in a `MemoryStore` or a
`RedisStore` (through its sync side). The same rules as the ASGI `SessionMiddleware`: one store
read for a request with a cookie, a write only when the session changed (or `rolling`), no
entry and no cookie for a new session that stays empty, a new id on login and logout, and a 503
when the store does not answer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, NoReturn

import flask
from flask import Flask
from flask.sessions import SessionInterface, SessionMixin
from flask.wrappers import Request, Response
from werkzeug.exceptions import ServiceUnavailable

from passport_py._async import run_sync
from passport_py.adapters.flask.extension import merge_vary
from passport_py.sessions.cookie import SameSite, SessionCookie
from passport_py.sessions.middleware import DEFAULT_TTL, UNAVAILABLE_BODY
from passport_py.sessions.session import (
    CookieAction,
    ServerSession,
    open_session_sync,
    save_sync,
)
from passport_py.sessions.stores import SessionStore, SessionStoreUnavailable, log_unavailable

__all__ = ["FlaskServerSession", "ServerSideSessionInterface", "UnavailableSession"]

_DESCRIPTION = "The session store is not answering. Try again shortly."
# Only used to check the cookie settings when the app's own key signs (known at request time).
_PLACEHOLDER_KEY = "x" * 32


class FlaskServerSession(ServerSession, SessionMixin):
    """`flask.session` under `ServerSideSessionInterface`: a `ServerSession` (a dict kept in
    the store under an id; `regenerate()`, `destroy()`) that is also Flask's `SessionMixin`.

    `permanent` is a plain flag here, never stored in the data: the cookie lasts the
    interface's `max_age` whatever it says.
    """

    permanent = False


class UnavailableSession(SessionMixin):
    """`flask.session` when the store did not answer while the request was opened.

    A page that never uses the session is served as usual. The first use of its data raises
    werkzeug's `ServiceUnavailable` (503, `Retry-After`), which ends the view; the rest of the
    request (error handlers, after-request hooks) then sees an empty session whose changes are
    never saved, and the response goes out as a 503 without a session cookie.
    """

    unavailable = True
    """Marks this session for code that must not touch it (the extension's cache headers)."""
    permanent = False

    def __init__(self, error: SessionStoreUnavailable) -> None:
        self.error = error
        self.failed = False
        """The request used the session: its response is turned into a 503."""

    def _fail(self) -> None:
        if not self.failed:
            self.failed = True
            raise ServiceUnavailable(description=_DESCRIPTION, retry_after=1) from self.error

    def __getitem__(self, key: str) -> NoReturn:
        self._fail()
        raise KeyError(key)

    def __setitem__(self, key: str, value: Any) -> None:
        self._fail()

    def __delitem__(self, key: str) -> NoReturn:
        self._fail()
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        self._fail()
        return iter(())

    def __len__(self) -> int:
        self._fail()
        return 0


class ServerSideSessionInterface(SessionInterface):
    """Flask's session kept server-side: `app.session_interface =
    ServerSideSessionInterface(store)` with a `passport_py.sessions` store (`MemoryStore`,
    `RedisStore`).

    `flask.session` is then a `FlaskServerSession` (a dict of JSON values). Passport's login
    and logout give it a new id and delete the old entry. The cookie is signed with
    `secret_key`, or by default with `app.secret_key` (old keys in `SECRET_KEY_FALLBACKS` still
    verify and their cookies are signed again); keys need 32 bytes or more. The cookie settings
    are the arguments here, not Flask's `SESSION_COOKIE_*` settings; `max_age=None` makes a
    browser-session cookie (the store then keeps the data 14 days after its last change). A
    session nobody has logged into is kept `anonymous_max_age` seconds after its last change
    (10 minutes; None: as long as a login session).

    When the store does not answer, a request that uses the session gets a 503 and nothing is
    saved; a request without a session cookie never waits for the store.
    """

    def __init__(
        self,
        store: SessionStore,
        *,
        secret_key: str | bytes | Sequence[str | bytes] | None = None,
        cookie_name: str = "session",
        max_age: int | None = 14 * 24 * 60 * 60,
        rolling: bool = False,
        same_site: SameSite = "lax",
        https_only: bool | None = None,
        path: str = "/",
        domain: str | None = None,
        anonymous_max_age: int | None = 600,
    ) -> None:
        self.store = store
        self.rolling = rolling
        self.ttl = max_age if max_age is not None else DEFAULT_TTL
        self.anonymous_ttl = anonymous_max_age
        self._settings: dict[str, Any] = {
            "name": cookie_name,
            "max_age": max_age,
            "same_site": same_site,
            "https_only": https_only,
            "path": path,
            "domain": domain,
            "anonymous_max_age": anonymous_max_age,
        }
        # Wrong settings fail here, not on the first request.
        key = _PLACEHOLDER_KEY if secret_key is None else secret_key
        checked = SessionCookie(key, **self._settings)
        self._fixed = checked if secret_key is not None else None
        self._from_app: tuple[tuple[Any, ...], SessionCookie] | None = None

    def cookie_for(self, app: Flask) -> SessionCookie | None:
        """The `SessionCookie` that signs and reads the cookie for `app`; None without a key."""
        if self._fixed is not None:
            return self._fixed
        if not app.secret_key:
            return None
        keys = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        known = self._from_app
        if known is not None and known[0] == keys:
            return known[1]
        cookie = SessionCookie(list(keys), **self._settings)
        self._from_app = (keys, cookie)
        return cookie

    # Extensions that look for the session cookie ask these.
    def get_cookie_name(self, app: Flask) -> str:
        return str(self._settings["name"])

    def get_cookie_domain(self, app: Flask) -> str | None:
        domain: str | None = self._settings["domain"]
        return domain

    def get_cookie_path(self, app: Flask) -> str:
        return str(self._settings["path"])

    def get_cookie_samesite(self, app: Flask) -> str:
        return str(self._settings["same_site"]).capitalize()

    def get_cookie_httponly(self, app: Flask) -> bool:
        return True

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        """The request's session: loaded from the store when a cookie verifies (one read), a
        new empty one otherwise. None (Flask's null session) when there is no secret key."""
        cookie = self.cookie_for(app)
        if cookie is None:
            return None
        values = request.cookies.getlist(cookie.name)
        session: FlaskServerSession
        if values:
            try:
                session = open_session_sync(
                    self.store.sync, FlaskServerSession, cookie.verified(values)
                )
            except SessionStoreUnavailable as exc:
                return UnavailableSession(exc)
        else:
            # No cookie, no store: a cookie-less request never waits for the store.
            session = FlaskServerSession()
        session.store = self.store
        return session

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Write the store when the session changed, then add `Set-Cookie`, `Vary: Cookie`
        and `Cache-Control: no-store` as the ASGI middleware does. When the store does not
        answer, the response becomes a 503 without the cookie (Flask answers an exception
        raised here with a 500, so the response is changed in place)."""
        if isinstance(session, UnavailableSession):
            if session.failed:
                _answer_unavailable(response, session.error)
            return
        if not isinstance(session, FlaskServerSession):
            return
        action: CookieAction = None
        if session.needs_save(self.rolling):
            try:
                action = save_sync(
                    self.store.sync, session, self.ttl, self.rolling, self.anonymous_ttl
                )
            except SessionStoreUnavailable as exc:
                run_sync(session.undo_unsaved())
                _answer_unavailable(response, exc)
                return
        private = action is not None or session.user is not None
        if not private and not session.accessed:
            return
        headers = response.headers
        merge_vary(headers, ("Cookie",))
        if private and "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-store"
        if action is not None:
            signer = self.cookie_for(app)
            assert signer is not None  # the session was opened with it
            cookie = signer.after_save(
                action, session.id, flask.request.is_secure, anonymous=session.user is None
            )
            if cookie is not None:
                headers.add("Set-Cookie", cookie.header_value())


def _answer_unavailable(response: Response, error: SessionStoreUnavailable) -> None:
    """Turn `response` into the 503 the middleware answers, keeping an app's own 503 page
    (an error handler's); no `Set-Cookie` survives: nothing is half-written."""
    log_unavailable(error)
    headers = response.headers
    if response.status_code != 503:
        close = getattr(response.response, "close", None)
        if callable(close):  # a streamed body (a file, a generator) that will not be sent
            close()
        headers.clear()
        response.direct_passthrough = False
        response.status_code = 503
        response.set_data(UNAVAILABLE_BODY)
        headers["Content-Type"] = "text/plain; charset=utf-8"
    headers.remove("Set-Cookie")
    headers["Retry-After"] = "1"
    headers["Cache-Control"] = "no-store"
