"""The Starlette behaviour app (contract in `common.py`) on passport_py's server-side sessions.

The routes and the passport are `starlette_app`'s; only the session differs: passport_py's
`SessionMiddleware` with a `RedisStore` on the real Redis (or, without `redis_prefix=`, a
`MemoryStore`): security.md 5.5, the adapter conformance suite over memory and Redis sessions.
The cookie carries a signed id, `/session` reports that id, and login and logout regenerate it.
"""

from __future__ import annotations

from typing import Any

import httpx
from redis_helpers import REDIS_URL
from starlette.middleware import Middleware
from starlette.testclient import TestClient
from users import UserStore

from passport_py.sessions import (
    MemoryStore,
    ServerSession,
    SessionCookie,
    SessionMiddleware,
    SessionStore,
)
from passport_py.sessions.redis import RedisStore
from passport_py.sessions.session import save_sync

from .starlette_app import SECRET, SESSION_COOKIE, make_app

__all__ = ["SESSION_COOKIE", "make_client", "session_cookie"]

TTL = 14 * 24 * 60 * 60

#: The session store of the app `make_client` built last, which `session_cookie` writes to
#: (one app per test, as Django's behaviour app has one passport at a time).
current: SessionStore | None = None


def make_client(store: UserStore, *, redis_prefix: str | None = None) -> httpx.Client:
    """A TestClient over the app whose sessions live in Redis under `redis_prefix` (in a new
    `MemoryStore` without it).

    Use it with `with`: the app's lifespan then runs, and on shutdown the middleware closes
    the store's connections.
    """
    global current
    current = MemoryStore() if redis_prefix is None else RedisStore(REDIS_URL, prefix=redis_prefix)
    sessions = Middleware(SessionMiddleware, secret_key=SECRET, store=current)
    return TestClient(make_app(store, sessions), follow_redirects=False)


def session_cookie(data: dict[str, Any]) -> str:
    """A cookie for a session holding `data`, saved in the current app's store under a new id
    (through the store's sync side, as a Flask app would save it), with no owner."""
    assert current is not None, "make_client first"
    session = ServerSession(data)
    assert save_sync(current.sync, session, TTL, rolling=False) == "set"
    assert session.id is not None
    return SessionCookie(SECRET).sign(session.id)
