"""What Django's `login()` does once the session holds the user: rotate the CSRF token and
send `user_logged_in` (shared by `login`, the decorators and the remember-me restore); and the
core's `LoginFailed` kept on the request, so `user_login_failed` names the account tried."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.signals import user_logged_in
from django.http import HttpRequest
from django.middleware.csrf import rotate_token

from passport_py.events import LoginFailed

if TYPE_CHECKING:
    from passport_py.adapters.django._state import RequestState
    from passport_py.authenticator import Authenticator

__all__ = ["alogged_in", "connect_core_events", "failed_account", "is_model_user", "logged_in"]

_FAILURE_ATTR = "_passport_login_failed"


def logged_in(state: RequestState, user: Any) -> None:
    """Mark the response uncacheable, rotate the CSRF token and signal the login."""
    state.touched = True
    rotate_token(state.request)
    if is_model_user(user):
        user_logged_in.send(sender=type(user), request=state.request, user=user)


async def alogged_in(state: RequestState, user: Any) -> None:
    """`logged_in` for async code: receivers connected as `async def` are awaited."""
    state.touched = True
    rotate_token(state.request)
    if is_model_user(user):
        await user_logged_in.asend(sender=type(user), request=state.request, user=user)


def is_model_user(user: Any) -> bool:
    """True for an instance of `AUTH_USER_MODEL`: the only users Django's signals are for
    (`update_last_login`, connected to `user_logged_in`, saves the user as a model)."""
    from django.contrib.auth import get_user_model  # needs the app registry

    return isinstance(user, get_user_model())


def connect_core_events(passport: Authenticator[Any]) -> None:
    """Keep each `LoginFailed` on its Django request (connecting twice does nothing).

    Django's signals are sent by the adapter where Django's own `login()`, `logout()` and
    `authenticate()` send them (after `request.user` is set, with their sync or async
    receivers run the way the view runs); the core event only adds what it knows.
    """
    passport.events.on(LoginFailed, _keep_failure)


def _keep_failure(event: LoginFailed) -> None:
    native = getattr(event.request, "native", None)
    if isinstance(native, HttpRequest):
        setattr(native, _FAILURE_ATTR, event)


def failed_account(request: HttpRequest) -> str | None:
    """The account name the core's last `LoginFailed` on `request` reported, if any."""
    event = getattr(request, _FAILURE_ATTR, None)
    return event.account if isinstance(event, LoginFailed) else None
