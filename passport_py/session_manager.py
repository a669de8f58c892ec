"""The only code that changes the session on login and logout, and reads it back per request."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

from passport_py.request import Session

__all__ = ["SessionManager"]


class SessionManager:
    """Login regenerates the session then writes the user; logout removes it and regenerates.

    `key` is where the core keeps its data (`session[key]["user"]` is the serialized user).
    `preserve` lists the keys that survive a login's regeneration by default (the return-to
    URL and the messages list); the request adds its pending-flash keys.
    """

    def __init__(self, key: str = "passport", preserve: Iterable[str] = ()) -> None:
        self.key = key
        self.preserve = tuple(preserve)

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
    ) -> None:
        """Regenerate `session` (fixation defence) and record `serialized` as the user.

        `fresh=False` marks a login that did not come from the user proving who they are just
        now (a remember-me cookie, say); `fresh_login_required` views refuse it.
        """
        previous = dict(session)
        session.regenerate()
        if keep_session_info:
            kept = previous
        else:
            kept = {k: previous[k] for k in (*self.preserve, *flash_keys) if k in previous}
            kept.pop(self.key, None)
        session.update(kept)
        old = previous.get(self.key) if keep_session_info else None
        passport = dict(old) if isinstance(old, dict) else {}
        passport["user"] = serialized
        if fresh:
            passport.pop("fresh", None)
        else:
            passport["fresh"] = False
        session[self.key] = passport
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
            session[self.key] = {k: v for k, v in passport.items() if k != "user"}
        session.regenerate()
        if keep_session_info:
            previous[self.key] = (
                {k: v for k, v in passport.items() if k != "user"}
                if isinstance(passport, dict)
                else {}
            )
            session.update(previous)

    def forget_user(self, session: MutableMapping[str, Any]) -> None:
        """Drop a user the deserializer no longer knows (deleted); the rest of the session stays."""
        data = session.get(self.key)
        if isinstance(data, dict):
            session[self.key] = {k: v for k, v in data.items() if k != "user"}
        bind = getattr(session, "bind_user", None)
        if callable(bind):
            bind(None)
