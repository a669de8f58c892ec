"""Whether a stored login may still be used: its idle timeout, its absolute lifetime, and the
session auth hash that ends it when the user's password changes."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, TypeGuard

from passport_py.errors import ConfigurationError
from passport_py.events import SessionEndReason

__all__ = ["DEFAULT_LIFETIME", "Timeouts", "auth_digest", "auth_matches"]

DEFAULT_LIFETIME = 30 * 24 * 3600
"""The default absolute lifetime of a login, in seconds: 30 days."""

#: The longest wait before a restore writes `"seen"` again (a session write each time).
SEEN_INTERVAL = 60

# A fixed personalisation keeps these digests apart from any other blake2b use of the value.
_PERSON = b"passport_py.auth"


class Timeouts:
    """The idle timeout and absolute lifetime of logins, in seconds (None: off).

    `check` runs on every restore, before the user is loaded: it reads the login entry's
    `"at"` (login time) and `"seen"` (last use) and says whether the login has ended. While
    `"seen"` matters (an idle timeout is set, or the session is listed among the user's
    sessions), it is kept current, written at most once per `seen_interval` (60 s, or a tenth
    of the idle timeout when that is shorter), so a session is not rewritten on every request.
    """

    __slots__ = ("absolute", "idle", "seen_interval")

    def __init__(self, idle: float | None, absolute: float | None) -> None:
        self.idle = _seconds("idle_timeout", idle)
        self.absolute = _seconds("absolute_timeout", absolute)
        self.seen_interval = (
            SEEN_INTERVAL if idle is None else max(min(SEEN_INTERVAL, idle / 10), 1)
        )

    def check(
        self, entry: dict[str, Any], now: int, *, listed: bool = False
    ) -> tuple[SessionEndReason | None, dict[str, Any] | None]:
        """`(reason, None)` when the login `entry` has ended, else `(None, updated)`:
        `updated` is the entry to write back (`"seen"` moved on, or the times of a login
        recorded before they were), or None when nothing changed. `entry` is not changed.
        `listed`: the session is shown in the user's list of sessions, so `"seen"` is kept
        current even without an idle timeout (a cookie session is not: no write for it)."""
        at = entry.get("at")
        seen = entry.get("seen")
        # Ints, as logins write them, skip the general check (this runs on every request).
        if (type(at) is not int or type(seen) is not int) and not (_is_time(at) and _is_time(seen)):
            # A login from before these times were recorded: its lifetime starts now.
            return None, {**entry, "at": at if _is_time(at) else now, "seen": now}
        if self.absolute is not None and now - at >= self.absolute:
            return "lifetime", None
        idle = now - seen
        if self.idle is not None and idle >= self.idle:
            return "idle_timeout", None
        if idle >= self.seen_interval and (self.idle is not None or listed):
            return None, {**entry, "seen": now}
        return None, None


def auth_digest(value: str | bytes) -> str:
    """What a login records of the app's session auth value: a 32-character hex digest.

    Never the value itself: a cookie session is readable by its client.
    """
    data = value.encode() if isinstance(value, str) else value
    return hashlib.blake2b(data, digest_size=16, person=_PERSON).hexdigest()


def auth_matches(entry: dict[str, Any], digest: str | None) -> bool:
    """True when the login `entry` was recorded with `digest` (None: no value at login either).

    Compared in constant time: the stored digest may come from a client-side session.
    """
    stored = entry.get("auth")
    if digest is None:
        return stored is None
    return type(stored) is str and hmac.compare_digest(stored, digest)


def _is_time(value: Any) -> TypeGuard[float]:
    return (type(value) is int or type(value) is float) and value == value  # not NaN


def _seconds(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    if (type(value) is not int and type(value) is not float) or not 0 < value < float("inf"):
        raise ConfigurationError(
            f"Authenticator({name}={value!r}): pass a positive number of seconds "
            f"(e.g. {name}=30 * 60), or None to turn it off"
        )
    return value
