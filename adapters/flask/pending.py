"""The login waiting for a second factor, for Flask's second-factor page: `pending_login`
(`apending_login` in async views whose deserializer awaits I/O) and `cancel_pending`."""

from __future__ import annotations

from typing import Any

import flask

from passport_py._async import run_sync
from passport_py.adapters.flask._request import FlaskAuthRequest
from passport_py.adapters.flask.extension import passport_extension

__all__ = ["apending_login", "cancel_pending", "pending_login"]


def _neutral() -> FlaskAuthRequest:
    request = flask.request._get_current_object()  # type: ignore[attr-defined]
    return FlaskAuthRequest(request, passport_extension().max_body_size)


async def apending_login() -> tuple[Any, tuple[str, ...]] | None:
    """`pending_login` for async views whose deserializer awaits real I/O."""
    return await passport_extension().passport.pending_login(_neutral())


def pending_login() -> tuple[Any, tuple[str, ...]] | None:
    """`(user, factors)` of the login waiting for a second factor in this session (whom the
    second-factor page is for, which factors to offer); None when there is none."""
    return run_sync(apending_login())


def cancel_pending() -> None:
    """Forget the login waiting for a second factor in this session ("use another account")."""
    passport_extension().passport.cancel_pending(_neutral())
