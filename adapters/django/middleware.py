"""`PassportMiddleware`: Django's `request.user`, restored from the session by passport_py.

It subclasses Django's `AuthenticationMiddleware` and takes its place in `MIDDLEWARE`, so the
admin's system check (admin.E408) and code testing for that middleware accept it. After the
view it puts on the response what the request left pending: cookies (remember-me), `Vary`
names (`Authorization`) and `Cache-Control: no-store`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.middleware import AuthenticationMiddleware
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_vary_headers
from django.utils.functional import SimpleLazyObject

from passport_py.adapters.django._request import SESSION_HINT
from passport_py.adapters.django._state import STATE_ATTR, RequestState, load_config
from passport_py.cookies import Cookie

__all__ = ["PassportMiddleware"]


class PassportMiddleware(AuthenticationMiddleware):  # type: ignore[misc]
    """Sets `request.user` (lazy: the user is deserialized at most once, and only when the
    session holds a login; Django's `AnonymousUser` otherwise) and `await request.auser()`.

    Reads `settings.PASSPORT_AUTHENTICATOR` once, when Django loads the middleware. With
    `PASSPORT_CACHE_HEADERS = True` (the default), a response to a request whose session held
    a login, or that logged in or out, gets `Cache-Control: no-store` unless the view set its
    own; `SessionMiddleware` adds `Vary: Cookie` to those responses.

    With `PASSPORT_RESTORE_WITH = ["remember-me"]`, a request whose session holds no login is
    logged in by those strategies when its user is first asked for (see `RequestState`).

    A session a request creates without logging anyone in (a return-to URL, a pending OAuth
    request, a flash) expires after `PASSPORT_ANONYMOUS_SESSION_AGE` seconds (600; None keeps
    `SESSION_COOKIE_AGE`), so cookie-less traffic cannot fill the session table or cache.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        super().__init__(get_response)
        self.config = load_config()

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        self.process_request(request)
        return self.process_response(request, self.get_response(request))

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        # Nothing here blocks, so unlike MiddlewareMixin no hop to a thread is needed.
        self.process_request(request)
        return self.process_response(request, await self.get_response(request))

    def process_request(self, request: HttpRequest) -> None:
        """Give the request its lazy `request.user` and `request.auser()`.

        Raises `ImproperlyConfigured` when the request has no session: put Django's
        `SessionMiddleware` before this middleware.
        """
        if not hasattr(request, "session"):
            raise ImproperlyConfigured(SESSION_HINT)
        state = RequestState(self.config, request)
        setattr(request, STATE_ATTR, state)
        request.user = SimpleLazyObject(state.get_user)
        request.auser = state.aget_user

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> Any:
        """Add what the request's authentication asked for: the strategies' cookies, `Vary`,
        `Cache-Control: no-store`, and the short lifetime of a session nobody logged into."""
        state = getattr(request, STATE_ATTR, None)
        if state is None:
            return response
        age = self.config.anonymous_session_age
        if age is not None:
            _anonymous_lifetime(state, age)
        if state.cookies:
            for cookie in state.cookies:
                set_cookie(response, cookie)
        if state.vary:
            # Credentials from a header: caches must key on it and never store the answer.
            patch_vary_headers(response, state.vary)
            if not response.has_header("Cache-Control"):
                response["Cache-Control"] = "no-store"
        elif (
            self.config.cache_headers
            and not response.has_header("Cache-Control")
            and _held_login(state)
        ):
            response["Cache-Control"] = "no-store"
        return response


_EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"


def set_cookie(response: HttpResponseBase, cookie: Cookie) -> None:
    """Put `cookie` on `response` with Django's `set_cookie`, replacing one of the same name.

    A deletion keeps the attributes the cookie was set with (Django's `delete_cookie` drops
    `secure` and `httponly`), so the browser matches and drops it.
    """
    # Setting a name twice would keep the first morsel's attributes (Max-Age, Secure).
    response.cookies.pop(cookie.name, None)
    response.set_cookie(
        cookie.name,
        cookie.value,
        max_age=cookie.max_age,
        expires=_EPOCH if cookie.deletes else None,
        path=cookie.path,
        domain=cookie.domain,
        secure=cookie.secure,
        httponly=cookie.httponly,
        samesite=cookie.samesite.capitalize(),
    )


def _anonymous_lifetime(state: RequestState, age: int) -> None:
    """Give a session this request created, and left without a login, a short expiry (Django's
    SessionMiddleware saves it after this middleware); a login that kept such a session's
    data (`keep_session_info=True`) does not keep that expiry."""
    session = state.request.session
    if not session.modified:
        return
    present, _ = state.config.passport.sessions.stored_user(session)
    if present:
        if state.touched and session.get("_session_expiry") == age:
            session.set_expiry(None)
    elif session.session_key is None and not session.is_empty():
        session.set_expiry(age)


def _held_login(state: RequestState) -> bool:
    """True when the request logged in or out, or read a session holding a login.

    A session the request never read cannot have shaped the response, and is not loaded here.
    """
    if state.touched:
        return True
    session = state.request.session
    if not getattr(session, "accessed", True):
        return False
    present, _ = state.config.passport.sessions.stored_user(session)
    return present
