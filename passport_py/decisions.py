"""What the engine decided, in a form every adapter can render without knowing the policy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeAlias, TypeVar

from passport_py.cookies import Cookie
from passport_py.errors import reason_phrase
from passport_py.outcomes import Challenge

__all__ = [
    "AuthResult",
    "Decision",
    "Handoff",
    "Proceed",
    "Respond",
    "redirect_response",
    "status_response",
]

UserT = TypeVar("UserT")

NO_STORE = ("Cache-Control", "no-store")


@dataclass(frozen=True, slots=True)
class Proceed:
    """Continue to the view.

    `authenticated` is True when a strategy succeeded; then `user` is the user and `info` the
    (transformed) auth info, or None with `auth_info=False`. With `assign_property` the user
    belongs on that request property and nobody was logged in.

    The adapter puts `cookies` on the view's response and, when `vary` names request headers
    the strategies read (`Authorization`), adds them to `Vary` and `Cache-Control: no-store`
    unless the view set its own.
    """

    user: Any = None
    info: Any = None
    authenticated: bool = False
    logged_in: bool = False
    assign_property: str | None = None
    cookies: tuple[Cookie, ...] = ()
    vary: tuple[str, ...] = ()
    #: False when the strategy said the user did not just prove who they are (remember-me).
    fresh: bool = True


@dataclass(frozen=True, slots=True)
class Respond:
    """Answer the request now with this status, headers and text body."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""
    cookies: tuple[Cookie, ...] = ()
    #: The authentication behind this answer, when there was one: every strategy failed
    #: (`result.ok` False), or a user logged in before a redirect (`result.user`). Adapters use
    #: it to signal logins and failures; equality compares only what the client receives.
    result: AuthResult[Any] | None = field(default=None, compare=False)

    @property
    def location(self) -> str | None:
        """The redirect target, when this is a redirect."""
        for name, value in self.headers:
            if name == "Location":
                return value
        return None


@dataclass(frozen=True, slots=True)
class AuthResult(Generic[UserT]):
    """What a custom callback receives: the outcome with nothing logged in.

    On success `user` is set and `info` is the strategy's info. When every strategy failed,
    `user` is None and `challenges` / `statuses` hold one entry per strategy tried (None where
    a strategy gave none). When a strategy raised, `error` is the exception.

    `pending` names the second factors the user must still prove (`passport.second_factors`):
    the first factor succeeded, the session now holds a pending login and nobody is logged
    in; `user` is who it is for, and `ok` is False until a second factor completes it.
    """

    user: UserT | None = None
    info: Any = None
    challenges: Sequence[Challenge] = field(default=())
    statuses: Sequence[int | None] = field(default=())
    error: BaseException | None = None
    pending: tuple[str, ...] | None = None

    @property
    def ok(self) -> bool:
        """True when a strategy authenticated a user (and no second factor is pending)."""
        return self.error is None and self.user is not None and not self.pending

    @property
    def challenge(self) -> Challenge:
        """The first failure's challenge (what Passport passes for a single strategy)."""
        return self.challenges[0] if self.challenges else None

    @property
    def status(self) -> int | None:
        """The first explicit failure status, if any."""
        return next((s for s in self.statuses if s), None)


@dataclass(frozen=True, slots=True)
class Handoff:
    """A custom callback was given: hand it `result` and let the app respond.

    The adapter still puts `cookies` (a rotated remember-me token) and `vary` on the
    callback's response, as for `Proceed`.
    """

    result: AuthResult[Any]
    # Equality compares what the callback receives.
    cookies: tuple[Cookie, ...] = field(default=(), compare=False)
    vary: tuple[str, ...] = field(default=(), compare=False)


Decision: TypeAlias = Proceed | Respond | Handoff
"""What the adapter does with an authentication's result: `Proceed` to the view,
`Respond` (a redirect or an error), or `Handoff` to the route's custom callback.
"""


def redirect_response(url: str, status: int = 302) -> Respond:
    """A redirect with an empty body that no cache may store."""
    return Respond(status, (("Location", url), NO_STORE), "")


def status_response(status: int, challenges: Sequence[str] = ()) -> Respond:
    """A failure: the reason phrase as body, one `WWW-Authenticate` per challenge given."""
    headers: list[tuple[str, str]] = [("Content-Type", "text/plain; charset=utf-8"), NO_STORE]
    headers.extend(("WWW-Authenticate", c) for c in challenges)
    return Respond(status, tuple(headers), reason_phrase(status))
