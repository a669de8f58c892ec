"""The interface every session store offers (async, with a sync twin) and logging out
everywhere through a store's per-user index."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Collection
from typing import TYPE_CHECKING, Any, Protocol, cast

from passport_py._async import run_sync
from passport_py.errors import PassportError
from passport_py.events import Events, SessionEnded, SessionEndReason

if TYPE_CHECKING:
    from passport_py.request import AuthRequest

__all__ = [
    "SessionStore",
    "SessionStoreUnavailable",
    "SyncSessionStore",
    "destroy_user_sessions",
    "destroy_user_sessions_sync",
    "log_unavailable",
    "report_ended",
    "session_digest",
    "sync_side",
    "user_key",
]

MAX_READ = 1000
"""The most sessions of one user `sessions_of` reads (a bound on one call's work)."""


logger = logging.getLogger("passport_py.sessions")


def log_unavailable(error: SessionStoreUnavailable) -> None:
    """The one log line of a 503 for a store that did not answer (never the session id)."""
    logger.error("session store unavailable, answering 503: %s", error)


class SessionStoreUnavailable(PassportError):
    """The session store did not answer in time (down, unreachable, timed out).

    The session middleware answers the request with a 503 and logs this message; nothing is
    treated as logged in and nothing is half-written.
    """


class SyncSessionStore(Protocol):
    """A session store for sync code (Flask). Values are JSON text; ids are the raw ids.

    `set(..., new=True)` creates the entry only when the id is unused; `new=False` replaces it
    only when it still exists, so a request still running when its session ended (logout,
    log out everywhere, expiry) cannot bring the session back. Both return whether they wrote.
    `user` is the owner's `user_key`, kept in a per-user index that `destroy_user` reads.
    Failures to reach the store raise `SessionStoreUnavailable`.
    """

    def get(self, session_id: str) -> str | None:
        """The session's JSON text, or None when there is none (never set, expired, ended)."""
        ...

    def set(
        self, session_id: str, value: str, ttl: int, *, user: str | None = None, new: bool = False
    ) -> bool:
        """Write the session for `ttl` seconds; returns whether it wrote.

        With `new=True` only an unused id is written, with `new=False` only one that still
        exists. `user` is the owner's `user_key` (None for an anonymous session).
        """
        ...

    def delete(self, session_id: str, *, user: str | None = None) -> None:
        """End the session (logout); `user`, its owner, lets the store unindex it."""
        ...

    def touch(self, session_id: str, ttl: int, *, user: str | None = None) -> bool:
        """Give a session that still exists `ttl` more seconds; returns whether it exists."""
        ...

    def destroy_user(self, user: str) -> int:
        """End every session of `user` (a `user_key`); returns how many were ended."""
        ...

    def sessions_of(self, user: str) -> list[tuple[str, str]]:
        """The live sessions of `user`: `(session_digest(id), JSON text)` pairs, never the
        ids themselves; at most `MAX_READ` (1,000), in no particular order. Index entries of
        sessions gone are dropped on the way."""
        ...

    def end_sessions(
        self, user: str, digests: Collection[str] | None = None, *, keep: str | None = None
    ) -> int:
        """End the sessions of `user` whose digests are in `digests` (all when None), except
        the one whose digest is `keep`; returns how many ended. A digest that is not one of
        `user`'s sessions ends nothing."""
        ...


class SessionStore(Protocol):
    """A session store for async code (the ASGI `SessionMiddleware`), with `sync`, the same
    store for sync code. Same semantics as `SyncSessionStore`."""

    @property
    def sync(self) -> SyncSessionStore:
        """The same store for sync code (Flask views, scripts, admin commands)."""
        ...

    async def get(self, session_id: str) -> str | None:
        """The session's JSON text, or None when there is none (never set, expired, ended)."""
        ...

    async def set(
        self, session_id: str, value: str, ttl: int, *, user: str | None = None, new: bool = False
    ) -> bool:
        """Write the session for `ttl` seconds; returns whether it wrote.

        With `new=True` only an unused id is written, with `new=False` only one that still
        exists. `user` is the owner's `user_key` (None for an anonymous session).
        """
        ...

    async def delete(self, session_id: str, *, user: str | None = None) -> None:
        """End the session (logout); `user`, its owner, lets the store unindex it."""
        ...

    async def touch(self, session_id: str, ttl: int, *, user: str | None = None) -> bool:
        """Give a session that still exists `ttl` more seconds; returns whether it exists."""
        ...

    async def destroy_user(self, user: str) -> int:
        """End every session of `user` (a `user_key`); returns how many were ended."""
        ...

    async def sessions_of(self, user: str) -> list[tuple[str, str]]:
        """The live sessions of `user`: `(session_digest(id), JSON text)` pairs (at most
        `MAX_READ`, in no particular order)."""
        ...

    async def end_sessions(
        self, user: str, digests: Collection[str] | None = None, *, keep: str | None = None
    ) -> int:
        """End the sessions of `user` whose digests are in `digests` (all when None), except
        `keep`; returns how many ended."""
        ...


def session_digest(session_id: str) -> str:
    """What a store shows of a session id: its SHA-256, hex (the id itself never leaves the
    cookie and the store's lookup)."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def sync_side(store: SessionStore | SyncSessionStore) -> SyncSessionStore:
    """The store's sync side: `store.sync` for a `SessionStore`, else the store itself."""
    side = getattr(store, "sync", None)
    return cast(SyncSessionStore, store if side is None else side)


def user_key(user_id: Any) -> str:
    """The per-user index key of a serialized user: the id itself for strings and integers,
    canonical JSON otherwise (so `{"id": 1, "kind": "a"}` is one key whatever its key order)."""
    if isinstance(user_id, str):
        return user_id
    if isinstance(user_id, int) and not isinstance(user_id, bool):
        return str(user_id)
    return json.dumps(user_id, sort_keys=True, separators=(",", ":"))


async def destroy_user_sessions(
    store: SessionStore,
    user_id: Any,
    *,
    events: Events | None = None,
    request: AuthRequest | None = None,
) -> int:
    """End every session of the user whose serialized id is `user_id` (log out everywhere).

    Returns how many sessions were ended. Their cookies then find nothing: anonymous. With
    `events` (`passport.events`), one `SessionEnded(by="logout_everywhere")` reports the count.
    """
    ended = await store.destroy_user(user_key(user_id))
    await report_ended(events, user_id, "logout_everywhere", ended, request)
    return ended


def destroy_user_sessions_sync(
    store: SessionStore | SyncSessionStore,
    user_id: Any,
    *,
    events: Events | None = None,
    request: AuthRequest | None = None,
) -> int:
    """`destroy_user_sessions` for sync code (Flask views, scripts, admin commands)."""
    ended = sync_side(store).destroy_user(user_key(user_id))
    run_sync(report_ended(events, user_id, "logout_everywhere", ended, request))
    return ended


async def report_ended(
    events: Events | None,
    user_id: Any,
    by: SessionEndReason,
    count: int,
    request: AuthRequest | None,
) -> None:
    """Emit one `SessionEnded(by=by, count=count)` when `events` has a handler for it."""
    if events is not None and events.wants(SessionEnded):
        client_ip = request.client_ip if request is not None else None
        await events.emit(SessionEnded(user_id, by, count, client_ip, request))
