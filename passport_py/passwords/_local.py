"""`password_verify`: a LocalStrategy verify callable over stored password hashes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from passport_py._async import call
from passport_py.events import Events, PasswordRehashed
from passport_py.outcomes import Rejected
from passport_py.passwords._formats import InvalidHashError
from passport_py.passwords._hasher import PasswordHasher

__all__ = ["Lookup", "Rehash", "password_verify"]

logger = logging.getLogger("passport_py.passwords")

T = TypeVar("T")

Lookup = Callable[[str], "tuple[Any, str | None] | Awaitable[tuple[Any, str | None] | None] | None"]
"""`lookup(username)` -> `(user, stored_hash)` or None; sync or async."""
Rehash = Callable[[Any, str], "Awaitable[None] | None"]
"""`rehash(user, new_hash)`: store the upgraded hash; sync or async."""


async def _off_loop(fn: Callable[..., T], *args: Any) -> T:
    # Hashing takes tens of milliseconds: under an event loop it runs in a worker thread so
    # other requests keep being served; in a sync framework (no loop) it runs inline.
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn(*args)
    return await asyncio.to_thread(fn, *args)


def password_verify(
    lookup: Lookup,
    *,
    rehash: Rehash | None = None,
    hasher: PasswordHasher | None = None,
    message: str | None = None,
    events: Events | None = None,
) -> Callable[[str, str], Awaitable[Any]]:
    """A `verify(username, password)` for `LocalStrategy` that checks stored password hashes.

    `lookup(username)` returns `(user, stored_hash)`, or None for an unknown user (a dummy
    verify then takes the same time as a wrong password); a stored hash of None (a user who
    signed up without a password) fails the same way. When the password matches a hash in
    an older format or with weaker parameters, `rehash(user, new_hash)` is called with an
    Argon2id hash for the app to store. A stored hash that cannot be read fails the login and
    logs a warning on the `passport_py.passwords` logger. A failed login returns
    `Rejected(message)` (the same for unknown users and wrong passwords), or None without a
    message. `hasher` defaults to the module's `default_hasher`. With `events=passport.events`,
    each upgrade stored through `rehash` is reported as a `PasswordRehashed` event.
    """
    if not callable(lookup):
        raise TypeError("password_verify requires a lookup(username) callable")
    if rehash is not None and not callable(rehash):
        raise TypeError("password_verify's rehash must be a callable(user, new_hash) or None")

    failed = None if message is None else Rejected(message)

    async def verify(username: str, password: str) -> Any:
        active = hasher if hasher is not None else _default()
        found = await call(lookup, username)
        if found is None:
            await _off_loop(active.verify_dummy, password)
            return failed
        user, stored = found
        try:
            ok, new_hash = await _off_loop(active.verify_and_update, password, stored)
        except InvalidHashError as exc:
            logger.warning("login refused for user %r: %s", username, exc)
            await _off_loop(active.verify_dummy, password)
            return failed
        if not ok:
            return failed
        if new_hash is not None and rehash is not None:
            await call(rehash, user, new_hash)
            if events is not None and events.wants(PasswordRehashed):
                await events.emit(PasswordRehashed(account=username, scheme="argon2id"))
        return user

    return verify


def _default() -> PasswordHasher:
    from passport_py.passwords import default_hasher

    return default_hasher
