"""Sessions per device, for Flask: the logged-in user's list of their sessions, ending one of
them, and ending every one but this (`passport_py.sessions.devices`)."""

from __future__ import annotations

from typing import Any

import flask

from passport_py.adapters.flask._request import FlaskAuthRequest, native_session
from passport_py.adapters.flask.extension import FlaskPassport, passport_extension
from passport_py.adapters.flask.sessions import ServerSideSessionInterface
from passport_py.errors import ConfigurationError
from passport_py.sessions import ServerSession, SessionStore, devices

__all__ = ["end_other_sessions", "end_session", "user_sessions"]


def _context() -> tuple[FlaskPassport[Any], SessionStore, str | None, Any]:
    """The extension, the store, this session's id and its user's serialized id; an error
    naming the fix for cookie sessions, and `NotLoggedIn` for nobody."""
    app = flask.current_app._get_current_object()  # type: ignore[attr-defined]
    interface = app.session_interface
    if not isinstance(interface, ServerSideSessionInterface):
        raise ConfigurationError(
            "a user's list of sessions needs server-side sessions: set app.session_interface = "
            "passport_py.adapters.flask.ServerSideSessionInterface(store), with a "
            "passport_py.sessions store (RedisStore in production)"
        )
    ext = passport_extension(app)
    session = native_session(app)
    present, serialized = ext.passport.sessions.stored_user(session)
    if not present:
        raise devices.NotLoggedIn(
            "nobody is logged in on this request: guard the view with login_required"
        )
    current = session.id if isinstance(session, ServerSession) else None
    return ext, interface.store, current, serialized


def _request(ext: FlaskPassport[Any]) -> FlaskAuthRequest:
    return FlaskAuthRequest(flask.request._get_current_object(), ext.max_body_size)  # type: ignore[attr-defined]


def user_sessions(*, limit: int = devices.MAX_LISTED) -> list[devices.UserSession]:
    """The logged-in user's sessions, newest first, this one marked `current`. Needs
    `ServerSideSessionInterface`; raises `NotLoggedIn` when nobody is logged in."""
    ext, store, current, user = _context()
    key = ext.passport.sessions.key
    return devices.list_user_sessions_sync(store, user, current=current, key=key, limit=limit)


def end_session(handle: str) -> bool:
    """End the logged-in user's session whose handle is `handle` (from `user_sessions`);
    False when it is not one of theirs, is this one, or is not a handle at all."""
    ext, store, current, user = _context()
    events = ext.passport.events
    return devices.end_user_session_sync(
        store, user, handle, current=current, events=events, request=_request(ext)
    )


def end_other_sessions() -> int:
    """End every session of the logged-in user but this one; returns how many ended."""
    ext, store, current, user = _context()
    events = ext.passport.events
    return devices.end_other_sessions_sync(
        store, user, current=current, events=events, request=_request(ext)
    )
