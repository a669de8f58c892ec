"""What a strategy decides (`Success`, `Fail`, `Redirect`, `Pass`) and what a verify returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeAlias, TypeVar

from passport_py.cookies import Cookie

__all__ = [
    "Challenge",
    "Cookies",
    "Fail",
    "Outcome",
    "Pass",
    "Redirect",
    "Rejected",
    "Success",
    "Verified",
    "outcome_from_verify",
]

UserT = TypeVar("UserT")

Challenge: TypeAlias = str | Mapping[str, Any] | None
"""A failure's challenge: a string becomes a `WWW-Authenticate` value on a 401; a mapping
(usually `{"message": ..., "type": ...}`) feeds flash and messages and never becomes a header.
"""

Cookies: TypeAlias = tuple[Cookie, ...]
"""Cookies an outcome sets or deletes (remember-me's); the adapter puts them on whatever
response the request ends with.
"""


@dataclass(frozen=True, slots=True)
class Success(Generic[UserT]):
    """The strategy authenticated `user`; `info` becomes the request's auth info.

    `fresh=False` marks a login the user did not just prove (a remember-me cookie): session
    logins record it and `fresh_login_required` views refuse it. `cookies` go on the response.
    """

    user: UserT
    info: Any = None
    cookies: Cookies = ()
    fresh: bool = True


@dataclass(frozen=True, slots=True)
class Fail:
    """The strategy could not authenticate; the engine tries the next strategy in the chain.

    `cookies` go on the response.
    """

    challenge: Challenge = None
    status: int | None = None
    cookies: Cookies = ()
    #: Send a str challenge as `WWW-Authenticate` even when the answer is not a 401 (RFC
    #: 6750's 400 `invalid_request` and 403 `insufficient_scope`). Passport sends it on 401 only.
    www_authenticate: bool = False
    #: The account name the failed attempt tried (a username), when the strategy knows it:
    #: `LoginFailed` events report it. Never a password or token.
    account: str | None = None


@dataclass(frozen=True, slots=True)
class Redirect:
    """Send the client elsewhere (an identity provider, a consent page); ends the chain."""

    url: str
    status: int = 302


@dataclass(frozen=True, slots=True)
class Pass:
    """No decision: the request goes on to the view unauthenticated; ends the chain."""

    cookies: Cookies = ()


Outcome: TypeAlias = Success[Any] | Fail | Redirect | Pass
"""What a strategy's `authenticate()` returns: `Success`, `Fail`, `Redirect` or `Pass`."""


@dataclass(frozen=True, slots=True)
class Verified(Generic[UserT]):
    """A verify callable's success with extra info (`Verified(user, {"scope": "read"})`)."""

    user: UserT
    info: Any = None


class Rejected:
    """A verify callable's failure with a message and extra info for the challenge."""

    __slots__ = ("info", "message")

    def __init__(self, message: str | None = None, **info: Any) -> None:
        self.message = message
        self.info: dict[str, Any] = info

    def challenge(self) -> dict[str, Any] | None:
        """The failure challenge: `{"message": ..., **info}`, or None when both are empty."""
        if self.message is None and not self.info:
            return None
        data = dict(self.info)
        if self.message is not None:
            data["message"] = self.message
        return data

    def __repr__(self) -> str:
        return f"Rejected(message={self.message!r}, info={self.info!r})"


def outcome_from_verify(result: Any, status: int | None = None) -> Success[Any] | Fail:
    """Map what a verify callable returned to an outcome.

    The user → success; `None` or `False` → failure with no challenge; `Verified` → success
    with info; `Rejected` → failure whose challenge carries the message. `status` is the
    failure's status (None lets the engine default to 401).
    """
    if result is None or result is False:
        return Fail(None, status)
    if isinstance(result, Success | Fail | Redirect | Pass):
        # Taken for a user it would log a `Fail` in: say what a verify returns instead.
        raise TypeError(
            f"a verify callable returned {result!r}; return the user, None/False, "
            "Verified(user, info) or Rejected(message)"
        )
    if isinstance(result, Verified):
        return Success(result.user, result.info)
    if isinstance(result, Rejected):
        return Fail(result.challenge(), status)
    return Success(result, None)
