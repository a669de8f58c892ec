"""Sessions per device: a user's own list of their login sessions (when, from where, which
browser), ending one of them, and ending every one but this.

A session is shown by its handle, a short hash of its id: safe to put in a page or a form,
useless as a cookie. Each function takes the store, the user's serialized id (what
`serialize_user` returns) and this request's session, so it serves any framework; the
adapters' `user_sessions`, `end_session` and `end_other_sessions` find all three themselves.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from passport_py._async import run_sync
from passport_py.errors import ConfigurationError, PassportError
from passport_py.sessions.session import ServerSession
from passport_py.sessions.stores import (
    SessionStore,
    SyncSessionStore,
    report_ended,
    session_digest,
    sync_side,
    user_key,
)

if TYPE_CHECKING:
    from passport_py.events import Events
    from passport_py.request import AuthRequest

__all__ = [
    "MAX_LISTED",
    "NotLoggedIn",
    "UserSession",
    "end_other_sessions",
    "end_other_sessions_sync",
    "end_user_session",
    "end_user_session_sync",
    "is_handle",
    "list_user_sessions",
    "list_user_sessions_sync",
    "session_handle",
]

MAX_LISTED = 100
"""The most sessions a list shows (the newest)."""

_HANDLE = re.compile(r"[A-Za-z0-9_-]{22}")
_NEVER = datetime.min.replace(tzinfo=UTC)
# Seconds since 1970 a recorded time may hold (year 3000): anything else is not a time.
_LATEST = 32_503_680_000


class NotLoggedIn(PassportError):
    """A list of sessions was asked for on a request with nobody logged in (guard the route
    with `login_required`)."""


@dataclass(frozen=True, slots=True)
class UserSession:
    """One login session of a user, as their list of sessions shows it.

    `handle` names it in pages and forms (never the session id). `created` is the login time,
    `last_seen` the last request that used it, `client_ip` and `user_agent` what the login
    recorded; each is None when the session does not hold it. `current` marks the session of
    the request that asked.
    """

    handle: str
    created: datetime | None
    last_seen: datetime | None
    client_ip: str | None
    user_agent: str | None
    current: bool


def session_handle(session_id: str) -> str:
    """The handle of a session id: the first 16 bytes of its SHA-256, URL-safe base64."""
    return _handle(session_digest(session_id))


def is_handle(value: object) -> bool:
    """True when `value` has a handle's shape (22 URL-safe base64 characters)."""
    return isinstance(value, str) and _HANDLE.fullmatch(value) is not None


class _Listing(Protocol):
    async def sessions_of(self, user: str) -> list[tuple[str, str]]: ...

    async def end_sessions(
        self, user: str, digests: Collection[str] | None = None, *, keep: str | None = None
    ) -> int: ...


class _SyncAsAsync:
    """A store's sync side behind the async calls this module makes (run by `run_sync`)."""

    def __init__(self, store: SyncSessionStore) -> None:
        self._store = store

    async def sessions_of(self, user: str) -> list[tuple[str, str]]:
        return self._store.sessions_of(user)

    async def end_sessions(
        self, user: str, digests: Collection[str] | None = None, *, keep: str | None = None
    ) -> int:
        return self._store.end_sessions(user, digests, keep=keep)


def _checked(store: Any) -> Any:
    """The store, once it is known to list and end a user's sessions (stores written before
    these existed fail here, at first use, saying what to add)."""
    if not (
        callable(getattr(store, "sessions_of", None))
        and callable(getattr(store, "end_sessions", None))
    ):
        raise ConfigurationError(
            f"{type(store).__name__} cannot list a user's sessions: a session store must "
            "implement sessions_of(user) and end_sessions(user, digests, keep=...) (MemoryStore "
            "and RedisStore do; see the sessions-per-device docs)"
        )
    return store


def _sync(store: SessionStore | SyncSessionStore) -> _Listing:
    return _SyncAsAsync(_checked(sync_side(store)))


async def list_user_sessions(
    store: SessionStore,
    user_id: Any,
    *,
    current: ServerSession | str | None = None,
    key: str = "passport",
    limit: int = MAX_LISTED,
) -> list[UserSession]:
    """The login sessions of the user whose serialized id is `user_id`, newest first (at most
    `limit`); the one of `current` (this request's session, or its id) is marked `current`.
    `key` is the authenticator's `session_key`."""
    return await _list(_checked(store), user_id, current, key, limit)


def list_user_sessions_sync(
    store: SessionStore | SyncSessionStore,
    user_id: Any,
    *,
    current: ServerSession | str | None = None,
    key: str = "passport",
    limit: int = MAX_LISTED,
) -> list[UserSession]:
    """`list_user_sessions` for sync code (Flask views, scripts)."""
    return run_sync(_list(_sync(store), user_id, current, key, limit))


async def end_user_session(
    store: SessionStore,
    user_id: Any,
    handle: str,
    *,
    current: ServerSession | str | None = None,
    events: Events | None = None,
    request: AuthRequest | None = None,
) -> bool:
    """End the session of the user `user_id` whose handle is `handle`; returns whether one
    ended. A handle of another user's session, of no session, of `current` (log out for this
    one), or not shaped like a handle at all ends nothing and answers False. With `events`,
    a `SessionEnded(by="ended_by_user", count=1)` reports it."""
    return await _end_one(_checked(store), user_id, handle, current, events, request)


def end_user_session_sync(
    store: SessionStore | SyncSessionStore,
    user_id: Any,
    handle: str,
    *,
    current: ServerSession | str | None = None,
    events: Events | None = None,
    request: AuthRequest | None = None,
) -> bool:
    """`end_user_session` for sync code (Flask views, scripts)."""
    return run_sync(_end_one(_sync(store), user_id, handle, current, events, request))


async def end_other_sessions(
    store: SessionStore,
    user_id: Any,
    *,
    current: ServerSession | str | None,
    events: Events | None = None,
    request: AuthRequest | None = None,
) -> int:
    """End every session of the user `user_id` except `current` (this request's session, or
    its id; None when it is not stored yet); returns how many ended. With `events`, one
    `SessionEnded(by="ended_by_user")` reports the count, when any ended."""
    return await _end_others(_checked(store), user_id, current, events, request)


def end_other_sessions_sync(
    store: SessionStore | SyncSessionStore,
    user_id: Any,
    *,
    current: ServerSession | str | None,
    events: Events | None = None,
    request: AuthRequest | None = None,
) -> int:
    """`end_other_sessions` for sync code (Flask views, scripts)."""
    return run_sync(_end_others(_sync(store), user_id, current, events, request))


# -- one implementation for both sides --------------------------------------------------------


async def _list(
    store: _Listing, user_id: Any, current: ServerSession | str | None, key: str, limit: int
) -> list[UserSession]:
    this = _digest_of(current)
    shown = []
    for digest, stored in await store.sessions_of(user_key(user_id)):
        described = _describe(digest, stored, key, digest == this)
        if described is not None:
            shown.append(described)
    shown.sort(key=lambda s: (s.created or _NEVER, s.last_seen or _NEVER, s.handle), reverse=True)
    return shown[: max(limit, 0)]


async def _end_one(
    store: _Listing,
    user_id: Any,
    handle: str,
    current: ServerSession | str | None,
    events: Events | None,
    request: AuthRequest | None,
) -> bool:
    if not is_handle(handle):
        return False
    user = user_key(user_id)
    this = _digest_of(current)
    target = None
    for digest, _ in await store.sessions_of(user):
        if digest != this and _is_hex(digest) and hmac.compare_digest(_handle(digest), handle):
            target = digest
    if target is None:
        return False
    ended = await store.end_sessions(user, (target,))
    if ended:
        await report_ended(events, user_id, "ended_by_user", ended, request)
    return ended > 0


async def _end_others(
    store: _Listing,
    user_id: Any,
    current: ServerSession | str | None,
    events: Events | None,
    request: AuthRequest | None,
) -> int:
    ended = await store.end_sessions(user_key(user_id), None, keep=_digest_of(current))
    if ended:
        await report_ended(events, user_id, "ended_by_user", ended, request)
    return ended


def _digest_of(current: ServerSession | str | None) -> str | None:
    session_id = current.id if isinstance(current, ServerSession) else current
    return None if session_id is None else session_digest(session_id)


def _handle(digest: str) -> str:
    return base64.urlsafe_b64encode(bytes.fromhex(digest)[:16]).rstrip(b"=").decode("ascii")


def _is_hex(digest: str) -> bool:
    return len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)


def _describe(digest: str, stored: str, key: str, current: bool) -> UserSession | None:
    """What a stored session shows; None for a digest that is not one (a stray index entry)."""
    if not _is_hex(digest):
        return None
    try:
        record = json.loads(stored)
    except ValueError:
        record = None
    data = record.get("data") if type(record) is dict else None
    found = data.get(key) if type(data) is dict else None
    entry: dict[str, Any] = found if type(found) is dict else {}
    return UserSession(
        handle=_handle(digest),
        created=_time(entry.get("at")),
        last_seen=_time(entry.get("seen")),
        client_ip=_text(entry.get("ip")),
        user_agent=_text(entry.get("ua")),
        current=current,
    )


def _time(value: Any) -> datetime | None:
    if type(value) not in (int, float) or not 0 <= value <= _LATEST:
        return None
    return datetime.fromtimestamp(value, UTC)


def _text(value: Any) -> str | None:
    return value if type(value) is str else None
