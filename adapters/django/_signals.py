"""What Django's `login()` does once the session holds the user: rotate the CSRF token and
send `user_logged_in` (shared by `login`, the decorators and the remember-me restore)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.signals import user_logged_in
from django.middleware.csrf import rotate_token

if TYPE_CHECKING:
    from passport_py.adapters.django._state import RequestState

__all__ = ["alogged_in", "is_model_user", "logged_in"]


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
