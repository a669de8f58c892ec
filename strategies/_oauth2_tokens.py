"""The token request (RFC 6749 4.1.3) and what the token endpoint answers (5.1, 5.2)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

from authlib.common.urls import url_encode
from authlib.oauth2.auth import ClientAuth

from passport_py._redaction import provider_text
from passport_py.strategies._oauth2_errors import InternalOAuthError, TokenError
from passport_py.transport import Transport, TransportError

__all__ = ["AuthMethod", "OAuth2Tokens", "request_tokens"]

AuthMethod = Literal["client_secret_basic", "client_secret_post", "none"]

_FAILED = "Failed to obtain access token"


@dataclass(frozen=True, slots=True)
class OAuth2Tokens:
    """What the token endpoint granted.

    `expires_at` is a Unix time computed from `expires_in` (None when the provider gave no
    usable lifetime), `scope` the granted scope as the provider wrote it (None when it did
    not say), `raw` the whole JSON response. `repr()` shows no token.
    """

    access_token: str = field(repr=False)
    token_type: str = "Bearer"
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: int | None = None
    id_token: str | None = field(default=None, repr=False)
    scope: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)


def _basic(client: Any, method: str, uri: str, headers: dict[str, str], body: str) -> Any:
    # RFC 6749 2.3.1: id and secret are form-urlencoded before base64 (Authlib's own encoder
    # skips that step, so a secret holding ':', '%' or 'é' would reach the provider changed).
    pair = f"{quote(client.client_id, safe='')}:{quote(client.client_secret or '', safe='')}"
    headers["Authorization"] = "Basic " + base64.b64encode(pair.encode("ascii")).decode("ascii")
    return uri, headers, body


async def request_tokens(
    transport: Transport,
    token_url: str,
    params: list[tuple[str, str]],
    *,
    client_id: str,
    client_secret: str | None,
    auth_method: AuthMethod,
    timeout: float,  # noqa: ASYNC109 - bounds the HTTP request, passed to the transport
    extra_headers: Mapping[str, str] | None = None,
) -> OAuth2Tokens:
    """POST `params` to the token endpoint with client authentication; parse the answer.

    Raises `TokenError` for an OAuth error answer, `InternalOAuthError` for anything else
    that is not a usable token response (never retried: a code is single-use).
    """
    headers = {
        "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
        **(extra_headers or {}),
    }
    auth = ClientAuth(
        client_id, client_secret, _basic if auth_method == "client_secret_basic" else auth_method
    )
    body: str = url_encode(params)
    _, headers, body = auth.prepare("POST", token_url, headers, body)
    try:
        response = await transport.request(
            "POST", token_url, headers=headers, body=body.encode("ascii"), timeout=timeout
        )
    except TransportError as exc:
        raise InternalOAuthError(f"{_FAILED}: {exc}") from None
    text = response.body.decode("utf-8", "replace")
    document = _json_object(response.body)
    if document is not None and isinstance(document.get("error"), str):
        # Also on a 200: GitHub answers an unusable code with 200 and an error body.
        raise TokenError(
            _optional_str(document.get("error_description")),
            document["error"],
            _optional_str(document.get("error_uri")),
            http_status=response.status,
            body=text,
        )
    if not 200 <= response.status < 300:
        raise InternalOAuthError(_FAILED, http_status=response.status, body=text)
    if document is None:
        raise InternalOAuthError(
            f"{_FAILED}: the response is not a JSON object", http_status=response.status, body=text
        )
    return parse_token_response(document, status=response.status, text=text)


def parse_token_response(
    document: Mapping[str, Any], *, status: int = 200, text: str = ""
) -> OAuth2Tokens:
    """An `OAuth2Tokens` from a successful token response, or `InternalOAuthError`."""
    access_token = document.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise InternalOAuthError(
            f"{_FAILED}: the response has no access_token", http_status=status, body=text
        )
    token_type = document.get("token_type", "Bearer")
    # RFC 6749 7.1: a client must not use a token whose type it does not understand.
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise InternalOAuthError(
            f"{_FAILED}: unsupported token_type {provider_text(repr(token_type), 40)}",
            http_status=status,
        )
    return OAuth2Tokens(
        access_token=access_token,
        token_type=token_type,
        refresh_token=_optional_str(document.get("refresh_token")),
        expires_at=_expires_at(document.get("expires_in")),
        id_token=_optional_str(document.get("id_token")),
        scope=_optional_str(document.get("scope")),
        raw=dict(document),
    )


def _expires_at(expires_in: Any) -> int | None:
    """Now + `expires_in` seconds for a whole number (or a string of digits) up to ten years;
    None for anything else ("-1", 1e309, "soon"): the lifetime is then unknown."""
    if isinstance(expires_in, str) and expires_in.isascii() and expires_in.isdigit():
        expires_in = int(expires_in)
    if isinstance(expires_in, bool) or not isinstance(expires_in, int):
        return None
    if not 0 <= expires_in <= 10 * 365 * 86400:
        return None
    return int(time.time()) + expires_in


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None
