"""The only code that changes the session on login and logout, and reads it back per request."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from typing import Any

from passport_py.events import SessionEndReason
from passport_py.request import Session
from passport_py.session_checks import DEFAULT_LIFETIME, Timeouts

__all__ = ["SessionManager"]


#: What a login writes into the core's entry; logging out or forgetting the user drops it all.
LOGIN_KEYS = frozenset(
    {"user", "at", "seen", "ip", "ua", "fresh", "auth", "auth_at", "amr", "pending"}
)

#: The longest user agent recorded for a login (the rest is cut: it is shown, never parsed).
MAX_USER_AGENT = 200


class SessionManager:
    """Login regenerates the session then writes the user; logout removes it and regenerates.

    `key` is where the core keeps its data: `session[key]["user"]` is the serialized user,
    `"at"` when the login happened and `"seen"` when the session was last used (Unix seconds),
    `"ip"` and `"ua"` the client address and user agent recorded at login (when known);
    a fresh login also records `"auth_at"`, when the user last proved who they are, and
    `"amr"`, how (see `Strategy.amr`), which step-up requirements read.
    `preserve` lists the keys that survive a login's regeneration by default (the return-to
    URL and the messages list); the request adds its pending-flash keys. `timeouts` are the
    logins' idle timeout and absolute lifetime (`check`); `"auth"` holds the digest of the
    app's session auth value, when it has one (see `Authenticator.session_auth_hash`).
    """

    def __init__(
        self,
        key: str = "passport",
        preserve: Iterable[str] = (),
        timeouts: Timeouts | None = None,
    ) -> None:
        self.key = key
        self.preserve = tuple(preserve)
        self.timeouts = timeouts or Timeouts(None, DEFAULT_LIFETIME)
        #: The clock (Unix seconds) for login times and timeouts; tests may replace it.
        self.clock: Callable[[], float] = time.time

    def stored_user(self, session: Mapping[str, Any] | None) -> tuple[bool, Any]:
        """`(True, id)` when the session holds a serialized user, else `(False, None)`.

        Falsy ids (`0`, `""`) are valid; only a missing entry or None means "nobody".
        """
        if not session:
            return False, None
        data = session.get(self.key)
        if type(data) is not dict:
            return False, None
        serialized = data.get("user")
        return serialized is not None, serialized

    def login(
        self,
        session: Session,
        serialized: Any,
        *,
        keep_session_info: bool = False,
        flash_keys: tuple[str, ...] = (),
        fresh: bool = True,
        client_ip: str | None = None,
        user_agent: str | None = None,
        auth: str | None = None,
        amr: Sequence[str] = (),
    ) -> None:
        """Regenerate `session` (fixation defence) and record `serialized` as the user.

        `fresh=False` marks a login that did not come from the user proving who they are just
        now (a remember-me cookie, say); `fresh_login_required` views refuse it. The login
        time, `client_ip` and `user_agent` are recorded for the user's list of sessions;
        `auth` is the digest of the user's session auth value (`session_checks.auth_digest`);
        `amr` the methods a fresh login proved (`("pwd",)`).
        """
        passport = self._regenerate(session, keep_session_info, flash_keys)
        passport["user"] = serialized
        now = int(self.clock())
        passport["at"] = passport["seen"] = now
        _record(passport, "ip", client_ip)
        _record(passport, "ua", user_agent[:MAX_USER_AGENT] if user_agent else None)
        _record(passport, "auth", auth)
        if fresh:
            passport["auth_at"] = now
            if amr:
                passport["amr"] = list(amr)
        else:
            passport["fresh"] = False
        session[self.key] = passport
        session.bind_user(serialized)

    def _regenerate(
        self, session: Session, keep_session_info: bool, flash_keys: tuple[str, ...]
    ) -> dict[str, Any]:
        """Regenerate `session`, copying back what survives; the core's entry to fill in."""
        previous = dict(session)
        session.regenerate()
        if keep_session_info:
            kept = previous
        else:
            kept = {k: previous[k] for k in (*self.preserve, *flash_keys) if k in previous}
            kept.pop(self.key, None)
        session.update(kept)
        old = previous.get(self.key) if keep_session_info else None
        # Another login's facts never carry over, even when the rest of the entry does.
        return _without_login(old) if isinstance(old, dict) else {}

    def start_pending(
        self,
        session: Session,
        pending: dict[str, Any],
        *,
        keep_session_info: bool = False,
        flash_keys: tuple[str, ...] = (),
    ) -> None:
        """Regenerate `session` and record a login waiting for a second factor (`pending`,
        see `second_factor.pending_entry`). Nobody is logged in: any user, and any earlier
        pending login, is gone."""
        passport = self._regenerate(session, keep_session_info, flash_keys)
        passport["pending"] = pending
        session[self.key] = passport
        session.bind_user(None)

    def pending(self, session: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """The session's pending login entry, as `start_pending` wrote it (None: there is
        none, or the session also holds a user). Expiry is the caller's to check."""
        if not session:
            return None
        data = session.get(self.key)
        if type(data) is not dict or data.get("user") is not None:
            return None
        pending = data.get("pending")
        return pending if type(pending) is dict and "user" in pending else None

    def drop_pending(self, session: MutableMapping[str, Any]) -> None:
        """Remove the session's pending login (cancelled, or expired)."""
        data = session.get(self.key)
        if isinstance(data, dict) and "pending" in data:
            session[self.key] = {k: v for k, v in data.items() if k != "pending"}

    def reauthenticate(self, session: Session, amr: Sequence[str]) -> None:
        """The logged-in user proved a factor again (step-up): move the login to a new
        session id, and record the time and `amr` (added to what the login proved); a
        remembered login becomes fresh."""
        previous = dict(session)
        present, serialized = self.stored_user(previous)
        if not present:
            return
        session.regenerate()
        session.update(previous)
        entry = dict(previous[self.key])
        entry["auth_at"] = int(self.clock())
        entry.pop("fresh", None)
        known = entry.get("amr")
        methods = list(known) if isinstance(known, list) else []
        methods += [m for m in amr if m not in methods]
        if methods:
            entry["amr"] = methods
        session[self.key] = entry
        session.bind_user(serialized)

    def check(self, session: MutableMapping[str, Any]) -> SessionEndReason | None:
        """Why the login `session` holds has ended (idle, too old), or None while it may be
        used; then `"seen"` is kept current. Call it only when `stored_user` found a user."""
        listed = getattr(session, "lists_devices", False) is True
        reason, updated = self.timeouts.check(session[self.key], int(self.clock()), listed=listed)
        if updated is not None:
            # A new dict: cookie sessions notice assignments, not changes inside a value.
            session[self.key] = updated
        return reason

    def renew(self, session: Session, auth: str | None) -> None:
        """Move the login `session` holds to a new session (a new id where the store has ids,
        the data kept) and record `auth` as its auth digest: after a password change, this
        session stays logged in while the others end."""
        previous = dict(session)
        present, serialized = self.stored_user(previous)
        session.regenerate()
        session.update(previous)
        if present:
            entry = dict(previous[self.key])
            _record(entry, "auth", auth)
            session[self.key] = entry
            session.bind_user(serialized)

    def is_fresh(self, session: Mapping[str, Any] | None) -> bool:
        """True when the session holds a user who logged in with credentials (not remembered)."""
        present, _ = self.stored_user(session)
        if not present or session is None:
            return False
        return session[self.key].get("fresh", True) is not False

    def logout(self, session: Session, *, keep_session_info: bool = False) -> None:
        """Remove the user and regenerate the session (new id, data cleared unless kept)."""
        previous = dict(session)
        passport = previous.get(self.key)
        if isinstance(passport, dict) and "user" in passport:
            # Drop the user from the old session first, so a replay of it finds nobody even
            # where the store cannot delete the old entry.
            session[self.key] = _without_login(passport)
        session.regenerate()
        if keep_session_info:
            previous[self.key] = _without_login(passport) if isinstance(passport, dict) else {}
            session.update(previous)

    def forget_user(self, session: MutableMapping[str, Any]) -> None:
        """Drop a user the deserializer no longer knows (deleted); the rest of the session stays."""
        data = session.get(self.key)
        if isinstance(data, dict):
            session[self.key] = _without_login(data)
        bind = getattr(session, "bind_user", None)
        if callable(bind):
            bind(None)


def _record(entry: dict[str, Any], name: str, value: str | None) -> None:
    if value:
        entry[name] = value
    else:
        entry.pop(name, None)


def _without_login(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k not in LOGIN_KEYS}
