"""The `Strategy` base class that every authentication strategy extends."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from passport_py.outcomes import Challenge, Fail, Outcome, Pass, Redirect, Success

if TYPE_CHECKING:
    from passport_py.options import AuthenticateOptions
    from passport_py.request import AuthRequest

__all__ = ["Strategy"]

UserT = TypeVar("UserT")
_PASS = Pass()


class Strategy:
    """Reads credentials from a request, verifies them and returns exactly one outcome.

    Subclasses set `name` and implement `authenticate(request, options)` as a plain or
    `async def` method. A strategy is shared by concurrent requests: keep per-request state in
    local variables, never on `self`. Raising an exception reports an error.
    """

    name: ClassVar[str | None] = None

    def authenticate(
        self, request: AuthRequest, options: AuthenticateOptions
    ) -> Outcome | Awaitable[Outcome]:
        """Authenticate `request`: return `self.success/fail/redirect/pass_(...)`."""
        raise NotImplementedError(f"{type(self).__name__}.authenticate must be overridden")

    @staticmethod
    def success(user: UserT, info: Any = None) -> Success[UserT]:
        """Report that `user` is authenticated; `info` becomes the request's auth info."""
        return Success(user, info)

    @staticmethod
    def fail(challenge: Challenge | int = None, status: int | None = None) -> Fail:
        """Report a failure; a str challenge is a `WWW-Authenticate` value, an int the status."""
        if isinstance(challenge, bool):
            raise TypeError("fail() takes a challenge (str or mapping) or a status (int)")
        if isinstance(challenge, int):
            return Fail(None, challenge)
        return Fail(challenge, status)

    @staticmethod
    def redirect(url: str, status: int = 302) -> Redirect:
        """Send the client to `url` (for example an identity provider)."""
        return Redirect(url, status)

    @staticmethod
    def pass_() -> Pass:
        """Make no decision: the request continues unauthenticated."""
        return _PASS
