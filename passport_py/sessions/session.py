"""`ServerSession`: the session dict an app sees, and what saving it does to the store."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Awaitable, Callable, Generator, Sequence
from typing import Any, Literal, Self, TypeVar

from passport_py._async import maybe_await, run_sync
from passport_py.sessions.stores import SessionStore, SyncSessionStore, user_key

__all__ = [
    "MAX_SESSION_BYTES",
    "ServerSession",
    "new_session_id",
    "open_session",
    "open_session_sync",
    "save",
    "save_sync",
]

logger = logging.getLogger("passport_py.sessions")

MAX_SESSION_BYTES = 1024 * 1024
"""Largest stored session read back, in bytes; a larger one is ignored (logged) as if absent."""

# One encoder for every session: `json.dumps` with options builds a new one per call.
_encode = json.JSONEncoder(separators=(",", ":")).encode

# A store operation the commit wants done: (method name, positional args, keyword args).
StoreOp = tuple[str, tuple[Any, ...], dict[str, Any]]
CookieAction = Literal["set", "delete"] | None
S = TypeVar("S", bound="ServerSession")
T = TypeVar("T")


def new_session_id() -> str:
    """256 bits from `secrets`, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


class ServerSession(dict[str, Any]):
    """A request's session: a plain dict for the app (`request.session`, `flask.session`),
    whose data lives in a store under an id the cookie carries.

    Changes are found by comparing the JSON at the end of the request with what was loaded, so
    changing a nested value (`session["cart"].append(...)`) is saved too. Values must be JSON:
    str, int, float, bool, None, lists and dicts with string keys.
    """

    __slots__ = (
        "_accessed",
        "_ended",
        "_loaded",
        "_undo",
        "id",
        "resign",
        "sent_cookie",
        "store",
        "user",
    )

    #: Its store keeps an index of the user's sessions, so "last seen" is worth keeping
    #: current for their list of sessions (`passport_py.sessions.devices`).
    lists_devices = True

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        super().__init__(data or {})
        self.id: str | None = None
        """The stored session's id; None until a new session is first saved."""
        self.user: str | None = None
        """The owner's `user_key`, for the per-user index (None: nobody is logged in)."""
        self.sent_cookie = False
        """The request came with a session cookie (valid or not)."""
        self.resign = False
        """The cookie verified with an older secret: sign it again with the current one."""
        self.store: SessionStore | None = None
        """The store it is kept in (set by the middleware; `logout_everywhere` uses it)."""
        self._loaded: str | None = None
        self._ended: list[tuple[str, str | None]] = []
        self._accessed = False
        self._undo: list[Callable[[], object]] | None = None

    @classmethod
    def load(cls, session_id: str, stored: str | None) -> Self:
        """The session a store's value holds, or a new empty one when it holds none (expired,
        ended, never issued) or something that is not a session (logged, never trusted)."""
        record = _decode(stored) if stored is not None else None
        if record is None:
            return cls()
        data, user = record
        session = cls(data)
        session.id = session_id
        session.user = user
        session._loaded = stored
        return session

    def opened(self, resign: bool) -> Self:
        """This session, as the one a request's session cookie named (`resign`: an older key
        signed that cookie)."""
        self.resign = resign
        self.sent_cookie = True
        return self

    def regenerate(self, keep_data: bool = False) -> None:
        """Start over under a new id: the old entry is deleted when the response goes out.

        The data is cleared unless `keep_data`; the new session belongs to nobody until a
        login says whose it is. Passport's login and logout call this.
        """
        if self.id is not None:
            self._ended.append((self.id, self.user))
        self.id = None
        self.user = None
        self._loaded = None
        if not keep_data:
            self.clear()

    def destroy(self) -> None:
        """End this session: its entry is deleted and the browser told to drop the cookie.

        Anything written to the session afterwards in this request starts a new one.
        """
        self.regenerate()

    def bind_user(self, serialized: Any) -> None:
        """Record whose session this is (a serialized user; None for nobody), so that
        `destroy_user_sessions` can find it. The session manager calls this on login."""
        user = None if serialized is None else user_key(serialized)
        if user != self.user and self.id is not None:
            # A stored session changing hands (a deleted user forgotten) moves to a new id,
            # so the old owner's index never points at it.
            self.regenerate(keep_data=True)
        self.user = user

    def if_not_saved(self, undo: Callable[[], object]) -> None:
        """Have `undo` (sync or async) run if this request's session cannot be saved.

        The store did not answer, so the response is a 503 that carries none of the request's
        cookies: whatever they were to deliver must be taken back (a remember-me token rotated
        for a cookie the browser will never get).
        """
        if self._undo is None:
            self._undo = []
        self._undo.append(undo)

    async def undo_unsaved(self) -> None:
        """Run the `if_not_saved` callbacks, once; one that fails is logged, not raised (the
        request is already answered with a 503)."""
        undo, self._undo = self._undo or [], None
        for fn in undo:
            try:
                await maybe_await(fn())
            except Exception:
                logger.exception("could not undo what a request did before its session failed")

    def mark_accessed(self) -> None:
        """The response depends on this session: it gets `Vary: Cookie`."""
        self._accessed = True

    @property
    def accessed(self) -> bool:
        """True when the response depends on the session (it came with one, or it was used):
        it then gets `Vary: Cookie`. Settable, as Flask sets it on every use of its session."""
        return self._accessed or self.id is not None

    @accessed.setter
    def accessed(self, value: bool) -> None:
        self._accessed = bool(value)

    def needs_save(self, rolling: bool) -> bool:
        """True when `commit` has work: the fast path of a request that only read its session
        (one JSON dump and a comparison) answers False."""
        if self._ended or self.resign:
            return True
        if not self:
            return self.id is not None or self.sent_cookie
        return rolling or self.id is None or self.encode() != self._loaded

    def encode(self) -> str:
        """The store's value for this session (JSON: owner and data)."""
        try:
            return _encode({"user": self.user, "data": self})
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"session values must be JSON (str, int, float, bool, None, list, dict): {exc}"
            ) from None

    def commit(
        self, ttl: int, rolling: bool, anonymous_ttl: int | None = None
    ) -> Generator[StoreOp, Any, CookieAction]:
        """The store operations that save this session, in order, as a generator: it yields
        each operation, is sent the store's answer, and returns what the cookie should do.

        A session nobody has logged into is kept at most `anonymous_ttl` seconds (when
        given): what anonymous visitors and bots leave behind (a return-to URL, a pending
        OAuth request) expires within the time a login may take. One plan for the async
        middleware and the sync Flask interface: each runs it against its side of the store.
        """
        if self.user is None and anonymous_ttl is not None:
            ttl = min(ttl, anonymous_ttl)
        for ended_id, owner in self._ended:
            yield ("delete", (ended_id,), {"user": owner})
        ended_any = bool(self._ended)
        self._ended = []
        if not self:
            if self.id is not None:  # emptied by the app: nothing left to keep
                yield ("delete", (self.id,), {"user": self.user})
                self.id = None
                return "delete"
            return "delete" if ended_any or self.sent_cookie else None
        value = self.encode()
        if len(value) > MAX_SESSION_BYTES:
            raise ValueError(
                f"the session holds {len(value)} bytes of JSON; the limit is {MAX_SESSION_BYTES}"
                ": keep large data elsewhere and its key in the session"
            )
        if self.id is None:
            session_id = new_session_id()
            # An unused id is all but certain (256 bits); the store still refuses a used one.
            while not (yield ("set", (session_id, value, ttl), {"user": self.user, "new": True})):
                session_id = new_session_id()
            self.id = session_id
            self._loaded = value
            return "set"
        if value != self._loaded:
            saved = yield ("set", (self.id, value, ttl), {"user": self.user, "new": False})
        elif rolling:
            saved = yield ("touch", (self.id, ttl), {"user": self.user})
        else:
            return "set" if self.resign else None
        if not saved:
            # The session ended while this request ran (logout elsewhere, log out everywhere,
            # expiry): never bring it back. Nor delete the cookie: the browser may hold a newer
            # session's by now (a login in another tab); a dead cookie goes with the next
            # request that finds nothing under it.
            self.id = None
            self.clear()
            self._accessed = True  # the response still depended on the session it loaded
            return None
        self._loaded = value
        return "set"


async def open_session(store: SessionStore, cls: type[S], ids: Sequence[tuple[str, bool]]) -> S:
    """The session of a request that came with session cookies: the first of `ids` (the
    verified ids they carried, with whether an older key signed them) that the store holds,
    else a new empty one.

    A stale or unknown id never wins over a live one: a sibling subdomain can plant a cookie
    of an ended session beside the browser's own (cookie tossing), and the store, not the
    order of the cookies, tells which one is alive.
    """
    for session_id, resign in ids:
        session = cls.load(session_id, await store.get(session_id))
        if session.id is not None:
            return session.opened(resign)
    return cls().opened(False)


def open_session_sync(store: SyncSessionStore, cls: type[S], ids: Sequence[tuple[str, bool]]) -> S:
    """`open_session` for sync code, against a store's sync side."""
    for session_id, resign in ids:
        session = cls.load(session_id, store.get(session_id))
        if session.id is not None:
            return session.opened(resign)
    return cls().opened(False)


async def save(
    store: SessionStore,
    session: ServerSession,
    ttl: int,
    rolling: bool,
    anonymous_ttl: int | None = None,
) -> CookieAction:
    """Run `session.commit` against an async store; returns what the cookie should do."""
    return await _perform(session.commit(ttl, rolling, anonymous_ttl), _async_caller(store))


def save_sync(
    store: SyncSessionStore,
    session: ServerSession,
    ttl: int,
    rolling: bool,
    anonymous_ttl: int | None = None,
) -> CookieAction:
    """`save` for sync code, against a store's sync side (driven without an event loop)."""
    return run_sync(_perform(session.commit(ttl, rolling, anonymous_ttl), _sync_caller(store)))


Caller = Callable[[str, tuple[Any, ...], dict[str, Any]], Awaitable[Any]]


def _async_caller(store: SessionStore) -> Caller:
    async def call(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return await getattr(store, name)(*args, **kwargs)

    return call


def _sync_caller(store: SyncSessionStore) -> Caller:
    async def call(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return getattr(store, name)(*args, **kwargs)

    return call


async def _perform(steps: Generator[StoreOp, Any, T], call: Caller) -> T:
    answer: Any = None
    try:
        while True:
            answer = await call(*steps.send(answer))
    except StopIteration as done:
        result: T = done.value
        return result


def _decode(stored: str) -> tuple[dict[str, Any], str | None] | None:
    """(data, owner) from a store's value, or None (and a warning) when it is not a session."""
    if len(stored) > MAX_SESSION_BYTES:
        logger.warning("a stored session is over %d bytes: ignored", MAX_SESSION_BYTES)
        return None
    try:
        record = json.loads(stored)
    except ValueError:
        logger.warning("a stored session is not JSON: ignored, a new session starts")
        return None
    if type(record) is dict:
        data = record.get("data")
        user = record.get("user")
        if type(data) is dict and (user is None or type(user) is str):
            return data, user
    logger.warning("a stored session does not have the expected shape: ignored")
    return None
