"""The answers of an OAuth 2.0 resource server (RFC 6750 §3), shared by `BearerStrategy` and
`JwtStrategy`: the same request gets the same status and challenge from either."""

from __future__ import annotations

from collections.abc import Sequence

from passport_py.authorization import format_challenge
from passport_py.errors import BadRequest
from passport_py.outcomes import Fail, Rejected

__all__ = ["BearerAnswers", "scope_text"]


def scope_text(scope: str | Sequence[str] | None, what: str) -> str | None:
    """A scope as the space-separated string RFC 6750 §3 puts in a challenge."""
    if scope is None:
        return None
    if isinstance(scope, str):
        return scope
    if isinstance(scope, Sequence) and all(isinstance(s, str) for s in scope):
        return " ".join(scope)
    raise TypeError(f"{what} must be a string or a list of strings, got {scope!r}")


class BearerAnswers:
    """The failures of a `Bearer` realm (and the scope it advertises), built once per text.

    The challenge lists realm, scope, error and error_description, in Passport's order; the
    token never appears in it and `format_challenge` escapes whatever a description holds.
    """

    #: App texts (from `Rejected`) are not all kept: at most this many failures are cached.
    CACHED = 64

    def __init__(self, realm: str, scope: str | None = None) -> None:
        self.realm = realm
        self.scope = scope
        self.no_token = Fail(self._challenge())
        self._failures: dict[tuple[str, str | None], Fail] = {}

    def _challenge(self, error: str | None = None, description: str | None = None) -> str:
        params = [("realm", self.realm), ("scope", self.scope)]
        return format_challenge(
            "Bearer", [*params, ("error", error), ("error_description", description or None)]
        )

    def _cached(self, error: str, description: str | None) -> Fail:
        key = (error, description)
        failure = self._failures.get(key)
        if failure is None:
            challenge = self._challenge(error, description)
            if error == "invalid_token":
                failure = Fail(challenge)
            else:  # a 400 keeps its challenge (RFC 6750 §3.1)
                failure = Fail(challenge, 400, www_authenticate=True)
            if len(self._failures) < self.CACHED:
                self._failures[key] = failure
        return failure

    def invalid_token(self, description: str | None = None) -> Fail:
        """401 `invalid_token`: the token is expired, revoked, malformed or unknown."""
        return self._cached("invalid_token", description)

    def invalid_request(self, description: str) -> Fail:
        """400 `invalid_request`: the request is malformed or ambiguous."""
        return self._cached("invalid_request", description)

    def bad_request(self, exc: BadRequest) -> Fail:
        """A `BadRequest` from reading the request: 400 `invalid_request`, or its own status
        (413 for a body too large) with no challenge."""
        if exc.status != 400:
            return Fail({"message": exc.message}, exc.status)
        return self.invalid_request(exc.message)

    def rejected(self, result: Rejected, default: str | None = None) -> Fail:
        """`Rejected(scope=...)`: 403 `insufficient_scope` naming the scope needed; any other
        `Rejected`: 401 `invalid_token` described by its message (else `default`)."""
        if "scope" not in result.info:
            return self.invalid_token(result.message or default)
        needed = scope_text(result.info["scope"], "Rejected(scope=...)")
        challenge = format_challenge(
            "Bearer",
            [
                ("realm", self.realm),
                ("error", "insufficient_scope"),
                ("error_description", result.message or None),
                ("scope", needed),
            ],
        )
        return Fail(challenge, 403, www_authenticate=True)
