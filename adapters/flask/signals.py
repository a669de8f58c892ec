"""Flask signals (blinker) fed from the core events, named like Flask-Login's where they match.

`user_logged_in` and `user_logged_out` are sent with the app as sender and `user=` as in
Flask-Login; `user_login_failed` is ours. Every signal also gets `event=`, the core event
(`LoggedIn`, `LoggedOut`, `LoginFailed`), for the strategy, account name or client IP.
`FlaskPassport.init_app` connects them; a signal without receivers costs nothing more.
"""

from __future__ import annotations

from typing import Any

import flask
from blinker import Namespace

from passport_py.authenticator import Authenticator
from passport_py.events import LoggedIn, LoggedOut, LoginFailed

__all__ = ["connect_signals", "user_logged_in", "user_logged_out", "user_login_failed"]

_signals = Namespace()

user_logged_in = _signals.signal("logged-in")
"""Sent after a user is logged into the session: `sender=app, user=user, event=LoggedIn`."""

user_logged_out = _signals.signal("logged-out")
"""Sent after a user logs out: `sender=app, user=user (None if gone), event=LoggedOut`."""

user_login_failed = _signals.signal("login-failed")
"""Sent when every strategy of a route failed: `sender=app, event=LoginFailed`."""


def connect_signals(passport: Authenticator[Any]) -> None:
    """Feed this module's signals from `passport`'s events (connecting twice does nothing)."""
    passport.events.on(LoggedIn, _send_logged_in)
    passport.events.on(LoggedOut, _send_logged_out)
    passport.events.on(LoginFailed, _send_login_failed)


def _app() -> Any:
    return flask.current_app._get_current_object()  # type: ignore[attr-defined]


def _send_logged_in(event: LoggedIn) -> None:
    if user_logged_in.receivers and flask.has_app_context():
        user_logged_in.send(_app(), user=event.user, event=event)


async def _send_logged_out(event: LoggedOut) -> None:
    if not (user_logged_out.receivers and flask.has_app_context()):
        return
    app = _app()
    # The event knows the id only (the session is already cleared); receivers get the user,
    # as Flask-Login gives them, so it is loaded only when someone listens.
    from passport_py.adapters.flask.extension import passport_extension

    user = await passport_extension(app).passport.deserialize(event.user_id, event.request)
    user_logged_out.send(app, user=user, event=event)


def _send_login_failed(event: LoginFailed) -> None:
    if user_login_failed.receivers and flask.has_app_context():
        user_login_failed.send(_app(), event=event)
