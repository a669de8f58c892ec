"""Server-side sessions: an id in a signed cookie, the data in a store.

`SessionMiddleware` serves ASGI apps (Starlette, in front of `PassportMiddleware`);
`passport_py.adapters.flask.ServerSideSessionInterface` serves Flask. Stores: `MemoryStore`
for development, `RedisStore` (the `redis` extra) for production. A user's own list of their
sessions (per device): `list_user_sessions`, `end_user_session`, `end_other_sessions`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from passport_py.sessions.cookie import SessionCookie
from passport_py.sessions.devices import (
    NotLoggedIn,
    UserSession,
    end_other_sessions,
    end_other_sessions_sync,
    end_user_session,
    end_user_session_sync,
    list_user_sessions,
    list_user_sessions_sync,
    session_handle,
)
from passport_py.sessions.memory import MemoryStore
from passport_py.sessions.middleware import SessionMiddleware
from passport_py.sessions.session import ServerSession
from passport_py.sessions.stores import (
    SessionStore,
    SessionStoreUnavailable,
    SyncSessionStore,
    destroy_user_sessions,
    destroy_user_sessions_sync,
    user_key,
)

if TYPE_CHECKING:
    from passport_py.sessions.redis import RedisStore

__all__ = [
    "MemoryStore",
    "NotLoggedIn",
    "RedisStore",
    "ServerSession",
    "SessionCookie",
    "SessionMiddleware",
    "SessionStore",
    "SessionStoreUnavailable",
    "SyncSessionStore",
    "UserSession",
    "destroy_user_sessions",
    "destroy_user_sessions_sync",
    "end_other_sessions",
    "end_other_sessions_sync",
    "end_user_session",
    "end_user_session_sync",
    "list_user_sessions",
    "list_user_sessions_sync",
    "session_handle",
    "user_key",
]


def __getattr__(name: str) -> Any:
    # RedisStore needs the `redis` extra: imported on first use, not with the package.
    if name == "RedisStore":
        from passport_py.sessions.redis import RedisStore

        return RedisStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
