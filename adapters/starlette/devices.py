"""Sessions per device, for Starlette and FastAPI: the logged-in user's list of their sessions,
ending one of them, and ending every one but this (`passport_py.sessions.devices`)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from passport_py.adapters.starlette._request import StarletteAuthRequest
from passport_py.adapters.starlette.middleware import PassportState, passport_state
from passport_py.errors import ConfigurationError
from passport_py.sessions import ServerSession, SessionStore, devices

__all__ = ["end_other_sessions", "end_session", "user_sessions"]


def _context(request: Request) -> tuple[PassportState, ServerSession, SessionStore, Any]:
    """The middleware's state, this request's server-side session and its user's serialized
    id; an error naming the fix for cookie sessions, and `NotLoggedIn` for nobody."""
    state = passport_state(request)
    session = request.scope.get("session")
    if not isinstance(session, ServerSession) or session.store is None:
        raise ConfigurationError(
            "a user's list of sessions needs server-side sessions: use "
            "passport_py.sessions.SessionMiddleware instead of Starlette's SessionMiddleware "
            "(a cookie session is known only to the browser holding it)"
        )
    present, serialized = state.passport.sessions.stored_user(session)
    if not present:
        raise devices.NotLoggedIn(
            "nobody is logged in on this request: guard the endpoint with login_required"
        )
    return state, session, session.store, serialized


async def user_sessions(
    request: Request, *, limit: int = devices.MAX_LISTED
) -> list[devices.UserSession]:
    """The logged-in user's sessions, newest first, this one marked `current`. Needs
    `passport_py.sessions.SessionMiddleware`; raises `NotLoggedIn` when nobody is logged in."""
    state, session, store, user = _context(request)
    key = state.passport.sessions.key
    return await devices.list_user_sessions(store, user, current=session, key=key, limit=limit)


async def end_session(request: Request, handle: str) -> bool:
    """End the logged-in user's session whose handle is `handle` (from `user_sessions`);
    False when it is not one of theirs, is this one, or is not a handle at all."""
    state, session, store, user = _context(request)
    return await devices.end_user_session(
        store,
        user,
        handle,
        current=session,
        events=state.passport.events,
        request=StarletteAuthRequest(request, state.max_body_size),
    )


async def end_other_sessions(request: Request) -> int:
    """End every session of the logged-in user but this one; returns how many ended."""
    state, session, store, user = _context(request)
    return await devices.end_other_sessions(
        store,
        user,
        current=session,
        events=state.passport.events,
        request=StarletteAuthRequest(request, state.max_body_size),
    )
