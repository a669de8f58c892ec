"""`PassportMiddleware`: Django's `request.user`, restored from the session by passport_py.

It subclasses Django's `AuthenticationMiddleware` and takes its place in `MIDDLEWARE`, so the
admin's system check (admin.E408) and code testing for that middleware accept it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.middleware import AuthenticationMiddleware
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponseBase
from django.utils.functional import SimpleLazyObject

from passport_py.adapters.django._request import SESSION_HINT
from passport_py.adapters.django._state import STATE_ATTR, RequestState, load_config

__all__ = ["PassportMiddleware"]


class PassportMiddleware(AuthenticationMiddleware):  # type: ignore[misc]
    """Sets `request.user` (lazy: the user is deserialized at most once, and only when the
    session holds a login; Django's `AnonymousUser` otherwise) and `await request.auser()`.

    Reads `settings.PASSPORT_AUTHENTICATOR` once, when Django loads the middleware. With
    `PASSPORT_CACHE_HEADERS = True` (the default), a response to a request whose session held
    a login, or that logged in or out, gets `Cache-Control: no-store` unless the view set its
    own; `SessionMiddleware` adds `Vary: Cookie` to those responses.
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
        if not hasattr(request, "session"):
            raise ImproperlyConfigured(SESSION_HINT)
        state = RequestState(self.config, request)
        setattr(request, STATE_ATTR, state)
        request.user = SimpleLazyObject(state.get_user)
        request.auser = state.aget_user

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> Any:
        state = getattr(request, STATE_ATTR, None)
        if (
            state is not None
            and self.config.cache_headers
            and not response.has_header("Cache-Control")
            and _held_login(state)
        ):
            response["Cache-Control"] = "no-store"
        return response


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
