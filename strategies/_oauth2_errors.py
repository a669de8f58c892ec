"""The errors of OAuth 2.0 strategies (passport-oauth2's, with the HTTP status each answers)."""

from __future__ import annotations

import re

from passport_py.errors import StrategyError

__all__ = ["AuthorizationError", "InternalOAuthError", "TokenError", "printable", "redacted"]

#: A token's value in a JSON or form-encoded body (`"access_token": "..."`, `refresh_token=...`).
_TOKEN_VALUE = re.compile(r'(?i)((?:access|refresh|id)_token"?\s*[:=]\s*"?)[^"&,\s}\]]+')

#: Provider-supplied text (error_description, a response body) is cut to this for messages.
_MAX_TEXT = 300


def printable(text: object, limit: int = _MAX_TEXT) -> str:
    """Provider-supplied text as one bounded, printable line (safe in logs and flash messages)."""
    value = "".join(c if c.isprintable() else " " for c in str(text))
    return value if len(value) <= limit else value[: limit - 1] + "…"


def redacted(text: str) -> str:
    """`text` with the values of access, refresh and ID tokens replaced: a refused token
    response may still carry live tokens, and error messages end up in logs."""
    return _TOKEN_VALUE.sub(r"\1[redacted]", text)


def _data(body: str) -> str:
    return printable(redacted(body))


class AuthorizationError(StrategyError):
    """The provider answered the authorization request with an error other than
    `access_denied` (RFC 6749 4.1.2.1). `code` is its `error`, `uri` its `error_uri`.

    Status 502 for `server_error`, 503 for `temporarily_unavailable`, else 500: the request
    the app sent was refused (a misconfigured client, scope or redirect URI).
    """

    def __init__(
        self, description: str | None = None, code: str = "server_error", uri: str | None = None
    ) -> None:
        status = {"server_error": 502, "temporarily_unavailable": 503}.get(code, 500)
        self.description = description
        self.code = code
        self.uri = uri
        detail = f": {description}" if description else ""
        super().__init__(f"the provider refused the authorization ({code}){detail}", status=status)


class TokenError(StrategyError):
    """The token endpoint answered with an OAuth error (`{"error": ...}`, RFC 6749 5.2).

    `code` is its `error`, `description` and `uri` its `error_description` and `error_uri`,
    `http_status` and `body` what the endpoint sent. Answered with 502: the login cannot
    finish because the provider refused the code.
    """

    def __init__(
        self,
        description: str | None = None,
        code: str = "invalid_request",
        uri: str | None = None,
        *,
        http_status: int | None = None,
        body: str = "",
    ) -> None:
        self.description = description
        self.code = code
        self.uri = uri
        self.http_status = http_status
        self.body = body
        detail = f": {printable(description)}" if description else ""
        super().__init__(
            f"the token endpoint refused the code ({printable(code, 80)}){detail} "
            f"(status: {http_status} data: {_data(body)})",
            status=502,
        )


class InternalOAuthError(StrategyError):
    """A provider endpoint could not be used: no answer, a timeout, an unexpected status, or a
    body that is not what the protocol says (HTML instead of JSON, no access token).

    `http_status` and `body` are what came back (None and "" when nothing did). The message
    names them all. Answered with 502 (Bad Gateway).
    """

    def __init__(self, message: str, *, http_status: int | None = None, body: str = "") -> None:
        self.http_status = http_status
        self.body = body
        if http_status is not None:
            message = f"{message} (status: {http_status} data: {_data(body)})"
        super().__init__(message, status=502)
