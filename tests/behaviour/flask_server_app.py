"""The Flask behaviour app (contract in `common.py`) on passport_py's server-side sessions.

The routes and the passport are `flask_app`'s; only the session differs:
`ServerSideSessionInterface` with a `MemoryStore` (or, given `redis_prefix=`, a `RedisStore` on
the real Redis), signing with the app's `secret_key`. The cookie carries a signed id,
`/session` reports that id, and login and logout regenerate it.
"""

from __future__ import annotations

from typing import Any

import httpx
from flask import Flask, session
from redis_helpers import REDIS_URL
from users import UserStore

from passport_py.adapters.flask import FlaskServerSession, ServerSideSessionInterface
from passport_py.sessions import MemoryStore, ServerSession, SessionCookie, SessionStore
from passport_py.sessions.redis import RedisStore
from passport_py.sessions.session import save_sync

from . import flask_app
from .common import session_snapshot
from .flask_app import SECRET, SESSION_COOKIE

__all__ = ["SESSION_COOKIE", "make_app", "make_client", "session_cookie"]

TTL = 14 * 24 * 60 * 60

#: The session store of the app `make_app` built last, which `session_cookie` writes to
#: (one app per test, as Django's behaviour app has one passport at a time).
current: SessionStore | None = None


def session_view() -> Any:
    assert isinstance(session, FlaskServerSession)
    return session_snapshot(session.id, session)


def make_app(store: UserStore, *, redis_prefix: str | None = None) -> Flask:
    """`flask_app`'s app over `store`'s users, its sessions in a new `MemoryStore` (or in
    Redis under `redis_prefix`)."""
    global current
    current = MemoryStore() if redis_prefix is None else RedisStore(REDIS_URL, prefix=redis_prefix)
    app = flask_app.make_app(store)
    app.session_interface = ServerSideSessionInterface(current)
    app.view_functions["session_view"] = session_view  # the id, which cookie sessions lack
    return app


class _Client(httpx.Client):
    """Closes the Redis connections of its app's store with itself."""

    def close(self) -> None:
        super().close()
        if isinstance(current, RedisStore):
            current.sync_close()


def make_client(store: UserStore, *, redis_prefix: str | None = None) -> httpx.Client:
    """An httpx client over WSGI for `make_app(store)`; use it with `with`."""
    return _Client(
        transport=httpx.WSGITransport(app=make_app(store, redis_prefix=redis_prefix)),
        base_url="http://testserver",
        follow_redirects=False,
    )


def session_cookie(data: dict[str, Any]) -> str:
    """A cookie for a session holding `data`, saved in the current app's store under a new id,
    with no owner, and signed with the app's key."""
    assert current is not None, "make_client first"
    saved = ServerSession(data)
    assert save_sync(current.sync, saved, TTL, rolling=False) == "set"
    assert saved.id is not None
    return SessionCookie(SECRET).sign(saved.id)
