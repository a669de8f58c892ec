"""The errors of OAuth 2.0 strategies (passport-oauth2's, with the HTTP status each answers).

Their messages are logged by the engine, so whatever a provider sent reaches them only through
`passport_py._redaction`: its `error` and `error_description` bounded and redacted, the rest
of its answer as a short redacted preview.
"""

from __future__ import annotations

from passport_py._redaction import preview, printable, provider_text, redacted
from passport_py.errors import StrategyError

__all__ = ["AuthorizationError", "InternalOAuthError", "TokenError", "printable", "redacted"]

#: What a token error's message shows on its own, so the preview leaves it out.
_SHOWN = ("error", "error_description")


def _answer(http_status: int | None, data: str) -> str:
    """`status: 400 data: ...` (passport-oauth2's wording), without `data` when empty."""
    return f"status: {http_status}" + (f" data: {data}" if data else "")


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
        detail = f": {provider_text(description)}" if description else ""
        super().__init__(
            f"the provider refused the authorization ({provider_text(code, 80)}){detail}",
            status=status,
        )


class TokenError(StrategyError):
    """The token endpoint answered with an OAuth error (`{"error": ...}`, RFC 6749 5.2).

    `code` is its `error`, `description` and `uri` its `error_description` and `error_uri`,
    `http_status` and `body` what the endpoint sent (`body` as it came: never log it; the
    message holds a redacted preview). Answered with 502: the provider refused the request
    the app sent (`invalid_client`, `unauthorized_client`, ...). `OAuth2Strategy` turns a
    refused code (`invalid_grant`) into a 403 failure instead.
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
        detail = f": {provider_text(description)}" if description else ""
        super().__init__(
            f"the token endpoint refused the code ({provider_text(code, 80)}){detail} "
            f"({_answer(http_status, preview(body, omit=_SHOWN))})",
            status=502,
        )


class InternalOAuthError(StrategyError):
    """A provider endpoint could not be used: no answer, a timeout, an unexpected status, or a
    body that is not what the protocol says (HTML instead of JSON, no access token).

    `http_status` and `body` are what came back (None and "" when nothing did; `body` as it
    came: never log it). The message names the status and a redacted preview of the body.
    Answered with 502 (Bad Gateway).
    """

    def __init__(self, message: str, *, http_status: int | None = None, body: str = "") -> None:
        self.http_status = http_status
        self.body = body
        if http_status is not None:
            message = f"{message} ({_answer(http_status, preview(body))})"
        super().__init__(message, status=502)
