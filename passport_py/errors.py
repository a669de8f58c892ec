"""Exceptions raised by passport_py. Each message says how to fix the problem."""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus

__all__ = [
    "AuthenticationError",
    "BadRequest",
    "ConfigurationError",
    "PassToNext",
    "PassportError",
    "SerializationError",
    "SessionRequiredError",
    "StrategyError",
    "SyncContextError",
    "UnknownStrategyError",
]


def reason_phrase(status: int) -> str:
    """The HTTP reason phrase for `status` ("Unauthorized"); "" for a code Python lacks (498)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class PassportError(Exception):
    """Base class of every error passport_py raises on purpose."""


class ConfigurationError(PassportError):
    """The app is wired up wrongly; the message names the fix."""


class UnknownStrategyError(ConfigurationError):
    """`authenticate()` named a strategy that was never registered with `use()`."""

    def __init__(self, name: str, registered: Sequence[str]) -> None:
        known = ", ".join(repr(n) for n in sorted(registered)) or "none"
        super().__init__(
            f"Unknown authentication strategy {name!r} (registered: {known}); "
            f"register it first with passport.use(...)"
        )
        self.name = name


class SessionRequiredError(ConfigurationError):
    """A login session was needed but the request has no session."""

    def __init__(self, hint: str | None = None, *, for_login: bool = True) -> None:
        super().__init__(
            "Login sessions require session support: "
            + (hint or "give the request a session (add a session middleware)")
            + ("; or pass session=False for stateless authentication" if for_login else "")
        )


class SerializationError(PassportError):
    """No serializer or deserializer in the chain produced a result."""


class SyncContextError(PassportError):
    """An async callable awaited real async I/O while running in a sync framework."""


class PassToNext(Exception):
    """Raised by a serializer, deserializer or auth-info transformer to defer to the next one."""


class BadRequest(PassportError):
    """The request itself is malformed (body, header, field); answered with `status`."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class StrategyError(PassportError):
    """A strategy could not reach a verdict because something outside the request failed (an
    identity provider's error, an unusable token response, a network failure).

    `status` is the HTTP status to answer with (502 for an upstream that failed, say). The
    engine logs the message and answers with the status and its reason phrase; a custom
    callback receives the error instead. The message may hold upstream details for the log
    and is never shown to the client.
    """

    status: int = 500

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class AuthenticationError(PassportError):
    """Every strategy failed and `fail_with_error=True`: hand the failure to the app.

    `status` is the HTTP status the engine decided on, `challenges` the string challenges
    (the `WWW-Authenticate` values: all of them on a 401, on another status those of
    the failures that chose it), `message` the reason phrase.
    """

    def __init__(self, status: int = 401, challenges: Sequence[str] = ()) -> None:
        self.status = status
        self.challenges = tuple(challenges)
        self.message = reason_phrase(status) or f"HTTP {status}"
        super().__init__(self.message)

    @property
    def headers(self) -> list[tuple[str, str]]:
        """The `WWW-Authenticate` headers to send with this error (one per challenge)."""
        return [("WWW-Authenticate", c) for c in self.challenges]
