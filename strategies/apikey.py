"""`ApiKeyStrategy`: an API key sent in a header (or a query parameter), checked by `verify`.

Also two helpers for apps that keep keys themselves: `keys_match` compares in constant time and
`hash_key` gives the digest to store instead of the key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Awaitable, Callable
from typing import Any

from passport_py._async import call
from passport_py.errors import BadRequest
from passport_py.options import AuthenticateOptions
from passport_py.outcomes import Outcome, outcome_from_verify
from passport_py.request import AuthRequest
from passport_py.strategies._openapi_schemes import api_key_scheme
from passport_py.strategy import Strategy

__all__ = ["MAX_KEY_LENGTH", "ApiKeyStrategy", "hash_key", "keys_match"]

MAX_KEY_LENGTH = 1024
"""Longer keys are refused (400) before `verify` runs; generated keys are far shorter."""

# Visible ASCII but the comma: keys are generated tokens, and anything else (a space, control
# or non-ASCII characters, the comma a WSGI server joins two copies of a header with) is a
# client error, answered 400 before verify runs.
_KEY = re.compile(r"[\x21-\x2b\x2d-\x7e]+")

Verify = Callable[..., Any | Awaitable[Any]]

MISSING = "Missing API key"


def keys_match(given: str, expected: str) -> bool:
    """True when `given` equals `expected`, compared in constant time (`hmac.compare_digest`).

    Use it wherever a key is compared with a known one: `==` returns as soon as a character
    differs, which lets an attacker find a key one character at a time.
    """
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def hash_key(key: str) -> str:
    """The SHA-256 hex digest of `key`: store this, and look keys up by it.

    Fit for random keys of 128 bits or more (`secrets.token_urlsafe(32)`), which cannot be
    guessed from their digest; passwords need a slow, salted hash instead.
    """
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class ApiKeyStrategy(Strategy):
    """Authenticate with an API key from the `header` header (default `X-API-Key`).

    `verify(key)` (or `verify(request, key)` with `pass_request=True`), sync or async, returns
    the user, None/False, `Verified` or `Rejected`. With `query="api_key"` the key may come
    from that query parameter instead. No key → 401 `{"message": "Missing API key"}` (there is
    no standard `WWW-Authenticate` scheme for API keys); a wrong key → 401; an empty, oversized,
    non-ASCII, duplicated or doubly sent key → 400 before `verify` runs.
    """

    name = "apikey"
    vary: tuple[str, ...] = ("X-API-Key",)

    def __init__(
        self,
        verify: Verify,
        header: str | None = "X-API-Key",
        query: str | None = None,
        *,
        pass_request: bool = False,
        max_length: int = MAX_KEY_LENGTH,
    ) -> None:
        if not callable(verify):
            raise TypeError("ApiKeyStrategy requires a verify callable")
        if not header and not query:
            raise TypeError("ApiKeyStrategy needs a header, a query parameter or both")
        self.verify = verify
        self.header = header
        self.query = query
        self.pass_request = pass_request
        self.max_length = max_length
        # Responses depend on this instance's header, not the class default.
        self.vary = (header,) if header else ()

    async def authenticate(self, request: AuthRequest, options: AuthenticateOptions) -> Outcome:
        """Read the one key of the request, check its shape, and ask `verify`."""
        found: list[Any] = []
        if self.header:
            found.extend(_one(request.headers.getlist(self.header), f"{self.header} header"))
        if self.query:
            found.extend(_one(request.query.getlist(self.query), f"{self.query} parameter"))
        if not found:
            return self.fail({"message": MISSING})
        if len(found) > 1:
            raise BadRequest("API key sent in more than one place")
        key = found[0]
        if not isinstance(key, str) or not key:
            raise BadRequest("API key is empty")
        if len(key) > self.max_length:
            raise BadRequest("API key is too long")
        if not _KEY.fullmatch(key):
            raise BadRequest("API key must be printable ASCII without spaces or commas")
        if self.pass_request:
            result = await call(self.verify, request, key)
        else:
            result = await call(self.verify, key)
        return outcome_from_verify(result)

    def openapi_scheme(self) -> dict[str, Any] | None:
        """`{"type": "apiKey", "in": "header", "name": <header>}`, or `"in": "query"` for an
        instance that reads only a query parameter.

        OpenAPI gives a scheme one place; an instance that reads both is described by its
        header, the place to recommend (query strings end up in logs), and the description
        names the query parameter too.
        """
        if self.header:
            also = f"Also accepted in the {self.query} query parameter." if self.query else None
            return api_key_scheme(self.header, "header", also)
        assert self.query is not None  # __init__ requires a header or a query parameter
        return api_key_scheme(self.query, "query")


def _one(values: list[Any], where: str) -> list[Any]:
    """`values` when there is at most one: frameworks disagree on which duplicate wins."""
    if len(values) > 1:
        raise BadRequest(f"API key sent more than once in the {where}")
    return values
