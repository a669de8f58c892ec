"""`FlaskPassport`, the Flask extension, and `current_user`: the user restored at most once
per request, and only when the session holds a login (or, with `restore_with`, recalled from
a remember-me cookie when it holds none)."""

from __future__ import annotations

from collections.abc import Coroutine, Iterable
from typing import Any, Generic, TypeVar

import flask
from flask import Flask, Request, Response
from werkzeug.datastructures import Headers
from werkzeug.local import LocalProxy

from passport_py._async import run_sync
from passport_py.adapters.flask._request import SESSION_HINT, FlaskAuthRequest, native_session
from passport_py.adapters.flask._startup import install_startup_checks
from passport_py.adapters.flask.signals import connect_signals
from passport_py.authenticator import Authenticator
from passport_py.cookies import Cookie
from passport_py.engine import StrategySpec
from passport_py.errors import ConfigurationError, SessionRequiredError
from passport_py.strategy import Strategy

__all__ = [
    "AnonymousUser",
    "FlaskPassport",
    "aget_user",
    "current_user",
    "get_user",
    "passport_extension",
]

UserT = TypeVar("UserT")

EXTENSION_KEY = "passport"
# Per-request state lives on the request object: `flask.g` is shared by every request made
# inside one pushed app context (a test doing `with app.app_context(): client.get(...)`).
USER_KEY = "_passport_user"
TOUCHED_KEY = "_passport_session_used"
FRESH_KEY = "_passport_fresh"
PENDING_KEY = "_passport_pending"
_MISSING: Any = object()


class AnonymousUser:
    """`current_user` when nobody is logged in: falsy, and shaped like Flask-Login's
    `AnonymousUserMixin` so templates written for Flask-Login keep working."""

    __slots__ = ()

    is_authenticated = False
    is_active = False
    is_anonymous = True

    def get_id(self) -> None:
        """Anonymous users have no id."""
        return None

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "AnonymousUser()"


ANONYMOUS = AnonymousUser()


class FlaskPassport(Generic[UserT]):
    """Connects an `Authenticator` to a Flask app: `FlaskPassport(app, passport)`, or
    `ext = FlaskPassport(passport=passport)` then `ext.init_app(app)` in an app factory.

    `login_url` is where `login_required` sends browsers: a path (`"/login"`) or an endpoint
    name (`"auth.login"`, resolved with `url_for`). With `cache_headers=True` a response to a
    request whose session held a login, or that logged in or out, gets `Cache-Control:
    no-store` unless the view set its own, and `Vary: Cookie`. Request bodies the strategies
    read are limited to `max_body_size` bytes (413 beyond).

    `restore_with=("remember-me",)` names strategies that may log a user back in when the
    session holds no login: `current_user` runs them (at most once per request, only when
    asked for) and the user they recall is logged into the session, not fresh.
    """

    def __init__(
        self,
        app: Flask | None = None,
        passport: Authenticator[UserT] | None = None,
        *,
        login_url: str = "/login",
        cache_headers: bool = True,
        max_body_size: int = 1024 * 1024,
        restore_with: StrategySpec = (),
    ) -> None:
        if not isinstance(passport, Authenticator):
            raise ConfigurationError(
                "FlaskPassport needs passport=<your Authenticator instance>: "
                "FlaskPassport(app, passport) or FlaskPassport(passport=passport).init_app(app)"
            )
        self.passport: Authenticator[UserT] = passport
        self.login_url = login_url
        self.cache_headers = cache_headers
        self.max_body_size = max_body_size
        # Empty means no recall at all: a request without a login then costs one falsy check.
        self.restore_with: StrategySpec = (
            restore_with if isinstance(restore_with, str | Strategy) else tuple(restore_with)
        )
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Register on `app`: `app.extensions["passport"]`, `current_user` in templates, the
        after-request hook that sets pending cookies (and the cache headers), and the checks
        of the app's routes that run before its first request (`ConfigurationError`)."""
        app.extensions[EXTENSION_KEY] = self
        connect_signals(self.passport)
        install_startup_checks(app, self)
        app.context_processor(_template_context)
        # Flask runs after-request hooks on every response it builds: the view's, an HTTP
        # error's (`abort(404)`) and its 500 page for an unhandled error.
        app.after_request(self._cache_headers if self.cache_headers else _apply_pending)

    def login_page(self, login_url: str | None = None) -> str:
        """The login page's URL (`login_url` if given, else the extension's)."""
        url = login_url or self.login_url
        return url if "/" in url else flask.url_for(url)

    def _cache_headers(self, response: Response) -> Response:
        request = flask.request._get_current_object()  # type: ignore[attr-defined]
        state = vars(request)
        pending = state.get(PENDING_KEY)
        if pending is not None:
            pending.apply(response)
        touched = state.get(TOUCHED_KEY)
        if touched is None:
            # Reading the session makes Flask add `Vary: Cookie` to every response, which is
            # right: whether a response may be cached now depends on the cookie.
            session = flask.session._get_current_object()  # type: ignore[attr-defined]
            # A server-side session whose store did not answer (`UnavailableSession`) is not
            # read: the page did not use it (that would have made it a 503).
            touched = (
                not getattr(session, "unavailable", False)
                and (self.passport.sessions.stored_user(session)[0])
            )
        if touched:
            # One pass over the headers, then appends: this runs on every logged-in page, and
            # Werkzeug's lookups (`in`, `response.vary`) cost microseconds each. With `Vary:
            # Cookie` already there, Flask's own `vary.add("Cookie")` has nothing to change.
            headers = response.headers
            has_cache_control = has_vary = False
            for name, _ in headers:
                lower = name.lower()
                if lower == "cache-control":
                    has_cache_control = True
                elif lower == "vary":
                    has_vary = True
            if not has_cache_control:
                headers.add("Cache-Control", "no-store")
            if has_vary:
                response.vary.add("Cookie")
            else:
                headers.add("Vary", "Cookie")
        return response


def passport_extension(app: Flask | None = None) -> FlaskPassport[Any]:
    """The `FlaskPassport` set up on `app` (default: the current app), or an error saying
    how to set it up."""
    if app is None:
        app = flask.current_app._get_current_object()  # type: ignore[attr-defined]
        assert app is not None
    ext = app.extensions.get(EXTENSION_KEY)
    if not isinstance(ext, FlaskPassport):
        raise ConfigurationError(
            f"FlaskPassport is not set up on the Flask app {app.name!r}: call "
            "FlaskPassport(app, passport), or FlaskPassport(passport=passport).init_app(app) "
            "in your app factory"
        )
    return ext


def _template_context() -> dict[str, Any]:
    return {"current_user": current_user}


def set_user(request: Request, user: Any, *, fresh: bool | None = None) -> None:
    """Make `user` the current user for the rest of this request."""
    state = vars(request)
    state[USER_KEY] = user
    if fresh is not None:
        state[FRESH_KEY] = fresh


def mark_session_used(request: Request) -> None:
    """Record that this request's session held, or now holds, a login (cache headers)."""
    vars(request)[TOUCHED_KEY] = True


class _Pending:
    """Cookies and `Vary` names waiting for this request's response (login, logout, recall,
    a strategy's Proceed)."""

    __slots__ = ("cookies", "vary")

    def __init__(self) -> None:
        # Keyed like browsers key cookies: a later cookie (a deletion after a rotation)
        # replaces an earlier one rather than racing it in the same response.
        self.cookies: dict[tuple[str, str, str | None], Cookie] = {}
        self.vary: list[str] = []

    def apply(self, response: Response) -> None:
        for cookie in self.cookies.values():
            set_cookie(response, cookie)
        if self.vary:
            headers = response.headers
            merge_vary(headers, self.vary)
            # The answer depended on a credential header: no cache may store it.
            if "Cache-Control" not in headers:
                headers["Cache-Control"] = "no-store"


def defer_cookies(
    request: Request, cookies: Iterable[Cookie] = (), vary: Iterable[str] = ()
) -> None:
    """Have the after-request hook put `cookies` (and `vary`) on whatever response this
    request ends with, an error page included."""
    state = vars(request)
    pending = state.get(PENDING_KEY)
    if pending is None:
        pending = state[PENDING_KEY] = _Pending()
    for cookie in cookies:
        pending.cookies[cookie.name, cookie.path, cookie.domain] = cookie
    known = {name.lower() for name in pending.vary}
    for name in vary:
        if name.lower() not in known:
            known.add(name.lower())
            pending.vary.append(name)


def _apply_pending(response: Response) -> Response:
    """The after-request hook with `cache_headers=False`: only the pending cookies and Vary."""
    pending = vars(flask.request._get_current_object()).get(PENDING_KEY)  # type: ignore[attr-defined]
    if pending is not None:
        pending.apply(response)
    return response


def set_cookie(response: Response, cookie: Cookie) -> None:
    """Render `cookie` with Werkzeug's `set_cookie`; a deletion keeps every attribute of the
    cookie it deletes and adds an `Expires` in the past for clients that ignore Max-Age."""
    response.set_cookie(
        cookie.name,
        cookie.value,
        max_age=cookie.max_age,
        expires=0 if cookie.deletes else None,
        path=cookie.path,
        domain=cookie.domain,
        secure=cookie.secure,
        httponly=cookie.httponly,
        samesite=cookie.samesite,
    )


def merge_vary(headers: Headers, names: Iterable[str]) -> None:
    """Add `names` to the response's `Vary`, keeping what the view put there and naming
    nothing twice. Several `Vary` headers become one: Werkzeug's `response.vary` (which Flask
    uses to add `Cookie`) reads only the first."""
    values = headers.getlist("Vary")
    present = [part.strip() for value in values for part in value.split(",") if part.strip()]
    seen = {part.lower() for part in present}
    added = [] if "*" in seen else [name for name in names if name.lower() not in seen]
    if added or len(values) > 1:
        headers["Vary"] = ", ".join(present + added)


def _stored_login(request: Request) -> tuple[FlaskPassport[Any], Any, Any]:
    """The extension, the session and the serialized user in it (`_MISSING` when there is
    none; the request is then settled as anonymous)."""
    app = flask.current_app._get_current_object()  # type: ignore[attr-defined]
    ext = passport_extension(app)
    session = native_session(app)
    present, serialized = ext.passport.sessions.stored_user(session)
    state = vars(request)
    if not present:
        state[USER_KEY] = ANONYMOUS
        return ext, session, _MISSING
    state[TOUCHED_KEY] = True
    return ext, session, serialized


def _restored(
    ext: FlaskPassport[Any], request: Request, session: Any, serialized: Any
) -> Coroutine[Any, Any, Any]:
    """The core's restore of the login `session` holds (a coroutine: sync views drive it with
    `run_sync`); it checks the login's timeouts and auth hash and forgets an ended login."""
    return ext.passport.restore_session(
        session, serialized, lambda: FlaskAuthRequest(request, ext.max_body_size)
    )


def _settle(request: Request, user: Any) -> Any:
    if user is None:  # the login ended, or the deserializer no longer knows this user
        user = ANONYMOUS
    vars(request)[USER_KEY] = user
    return user


def _recall_request(ext: FlaskPassport[Any], request: Request) -> FlaskAuthRequest:
    neutral = FlaskAuthRequest(request, ext.max_body_size)
    if neutral.session is None:  # a recalled user is logged into the session: there is none
        raise SessionRequiredError(SESSION_HINT, for_login=False)
    return neutral


def _recalled(request: Request, user: Any, cookies: tuple[Cookie, ...]) -> Any:
    """Settle the request with what `restore_with` recalled (None: still anonymous)."""
    state = vars(request)
    if cookies:
        defer_cookies(request, cookies)
    if user is not None or cookies:
        # The answer now depends on the cookie it came with: never stored by a cache.
        state[TOUCHED_KEY] = True
    if user is None:
        user = ANONYMOUS
    state[USER_KEY] = user
    return user


def get_user() -> Any:
    """The current user (your user object, or `AnonymousUser`), deserialized at most once per
    request and only when the session holds a login; `AnonymousUser` outside a request.
    With `restore_with`, a request whose session holds no login runs those strategies (once).
    `current_user` is a proxy to this."""
    try:
        request = flask.request._get_current_object()  # type: ignore[attr-defined]
    except RuntimeError:  # no request: a template rendered by a CLI command or a job
        return ANONYMOUS
    user = vars(request).get(USER_KEY, _MISSING)
    if user is not _MISSING:
        return user
    ext, session, serialized = _stored_login(request)
    if serialized is not _MISSING:
        restored = run_sync(_restored(ext, request, session, serialized))
        if restored is not None or not ext.restore_with:
            return _settle(request, restored)
        _settle(request, None)  # an ended login or a deleted user: forgotten, now recall
    elif not ext.restore_with:
        return ANONYMOUS
    neutral = _recall_request(ext, request)
    return _recalled(request, *run_sync(ext.passport.recall(neutral, ext.restore_with)))


async def aget_user() -> Any:
    """`get_user()` for async views: awaits the deserializer (and `restore_with`) on the
    running loop, so they may await real I/O. `current_user` then returns the same user
    without loading it again."""
    request = flask.request._get_current_object()  # type: ignore[attr-defined]
    user = vars(request).get(USER_KEY, _MISSING)
    if user is not _MISSING:
        return user
    ext, session, serialized = _stored_login(request)
    if serialized is not _MISSING:
        restored = await _restored(ext, request, session, serialized)
        if restored is not None or not ext.restore_with:
            return _settle(request, restored)
        _settle(request, None)
    elif not ext.restore_with:
        return ANONYMOUS
    neutral = _recall_request(ext, request)
    return _recalled(request, *await ext.passport.recall(neutral, ext.restore_with))


current_user: Any = LocalProxy(get_user)
"""The logged-in user of this request (a proxy to `get_user()`); a falsy `AnonymousUser`
when nobody is logged in. Also available in templates.
"""
