"""Step-up: deciding whether a login is fresh enough for a sensitive page.

Every adapter's `fresh_login_required(max_age=..., factors=...)` asks `StepUp.check` about the
session's login entry (`"fresh"`, `"auth_at"`, `"amr"`, written by `SessionManager.login`), and
answers a stale login with `StepUp.api_refusal` or a redirect to the re-authentication page.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from passport_py.decisions import NO_STORE, Respond
from passport_py.errors import ConfigurationError
from passport_py.session_manager import SessionManager

__all__ = ["REAUTH_MESSAGE", "StaleReason", "StepUp"]

StaleReason: TypeAlias = Literal["not_fresh", "too_old", "factors"]
"""Why a login is refused: remembered (or with no recorded proof time while a `max_age` is
asked), proved longer than `max_age` seconds ago, or without a required method in `"amr"`."""

REAUTH_MESSAGE = "Please confirm it's you to continue."
"""What a browser sent to re-authenticate is told (a flash, where the adapter flashes)."""


@dataclass(frozen=True, slots=True)
class StepUp:
    """One `fresh_login_required`'s requirement: a login the user proved with credentials
    (not remembered), at most `max_age` seconds ago (None: any time), with every method in
    `factors` (RFC 8176 values such as `"otp"`) among those proved. `reauth_url` is where
    browsers re-authenticate (None: the `Authenticator`'s `reauth_url`, else the login page).
    """

    max_age: int | None = None
    factors: tuple[str, ...] = ()
    reauth_url: str | None = None

    @classmethod
    def build(
        cls,
        max_age: int | None = None,
        factors: Iterable[str] | None = None,
        reauth_url: str | None = None,
    ) -> StepUp:
        """A `StepUp` from a decorator's arguments; `ConfigurationError` on a wrong one."""
        if max_age is not None and (
            isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 0
        ):
            raise ConfigurationError(
                f"fresh_login_required(max_age={max_age!r}): give a whole number of seconds "
                "(0 or more), or None for no age limit"
            )
        if isinstance(factors, str):
            raise ConfigurationError(
                f"fresh_login_required(factors={factors!r}): give a list of methods, "
                f"e.g. factors=[{factors!r}]"
            )
        methods = tuple(factors or ())
        if not all(isinstance(m, str) and m for m in methods):
            raise ConfigurationError(
                f"fresh_login_required(factors={factors!r}): each factor is a method name "
                "as strategies record it in Strategy.amr, e.g. 'otp'"
            )
        if reauth_url is not None and (not isinstance(reauth_url, str) or not reauth_url):
            raise ConfigurationError(
                f"fresh_login_required(reauth_url={reauth_url!r}): give the re-authentication "
                "page's path, e.g. '/reauth', or None for the login page"
            )
        return cls(max_age, methods, reauth_url)

    def check(self, entry: Mapping[str, Any] | None, now: float) -> StaleReason | None:
        """Why the login `entry` (the session's login data; None: no session login) falls
        short at `now` (Unix seconds), or None when it passes."""
        if not isinstance(entry, Mapping) or entry.get("fresh", True) is False:
            return "not_fresh"
        if self.max_age is not None:
            auth_at = entry.get("auth_at")
            if isinstance(auth_at, bool) or not isinstance(auth_at, int | float):
                return "not_fresh"
            if now - auth_at > self.max_age:
                return "too_old"
        if self.factors:
            amr = entry.get("amr")
            proved = set(amr) if isinstance(amr, list | tuple) else set()
            if not proved.issuperset(self.factors):
                return "factors"
        return None

    def stale(
        self, sessions: SessionManager, session: Mapping[str, Any] | None
    ) -> StaleReason | None:
        """`check` on the login `session` holds, at the session manager's clock."""
        present, _ = sessions.stored_user(session)
        entry = session.get(sessions.key) if present and session is not None else None
        return self.check(entry, sessions.clock())

    def reauth_page(self, default: str | None) -> str | None:
        """Where browsers re-authenticate: this requirement's page, else `default` (the
        `Authenticator`'s `reauth_url`); None: the adapter's login page."""
        return self.reauth_url or default

    def api_refusal(self) -> Respond:
        """The 401 an API client gets: JSON `{"error": "reauthentication_required",
        "max_age": N}`, with `"factors"` when methods are required; never cached."""
        body: dict[str, Any] = {"error": "reauthentication_required", "max_age": self.max_age}
        if self.factors:
            body["factors"] = list(self.factors)
        headers = (("Content-Type", "application/json"), NO_STORE)
        return Respond(401, headers, json.dumps(body, separators=(",", ":")))
