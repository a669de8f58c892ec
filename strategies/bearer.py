"""`BearerStrategy`: an OAuth 2.0 bearer token (RFC 6750), checked by the app's `verify`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from passport_py._async import call
from passport_py.authorization import MAX_AUTHORIZATION_LENGTH, TOKEN68, read_authorization
from passport_py.errors import BadRequest
from passport_py.options import AuthenticateOptions
from passport_py.outcomes import Outcome, Rejected, Verified
from passport_py.request import AuthRequest, MultiMapping, ensure_text, media_type
from passport_py.strategies._bearer_answers import BearerAnswers, scope_text
from passport_py.strategies._openapi_schemes import http_scheme, realm_text
from passport_py.strategy import Strategy

__all__ = ["BearerStrategy"]

Verify = Callable[..., Any | Awaitable[Any]]

_FIELD = "access_token"
# GET and HEAD bodies have no defined meaning: RFC 6750 §2.2 forbids the form-body token there.
_BODYLESS = frozenset({"GET", "HEAD"})


class _InvalidRequest(Exception):
    """A malformed or ambiguous request: answered 400 `invalid_request` with this description."""


class BearerStrategy(Strategy):
    """Authenticate with a bearer token, usually `Authorization: Bearer <token>`.

    `verify(token)` (or `verify(request, token)` with `pass_request=True`), sync or async,
    returns the user, None/False, `Verified` or `Rejected`; `Rejected(message)` becomes the
    `error_description` of the 401 `invalid_token` challenge and `Rejected(scope="...")` a 403
    `insufficient_scope`. The form-body (`allow_body=True`) and query (`allow_query=True`)
    `access_token` are read only when enabled. Malformed or ambiguous requests get 400
    `invalid_request`; requests with no token a 401 challenge without an error.
    """

    name = "bearer"
    vary = ("Authorization",)

    def __init__(
        self,
        verify: Verify,
        realm: str = "Users",
        scope: str | Sequence[str] | None = None,
        *,
        allow_body: bool = False,
        allow_query: bool = False,
        pass_request: bool = False,
    ) -> None:
        if isinstance(verify, str | bytes):
            # security.md 7.2.2: one hard-coded token shared by every client is not a bearer
            # token scheme; the fix is a lookup, not a flag.
            raise TypeError(
                "BearerStrategy requires a verify callable, not a token string: look the token "
                "up in verify(token) (compare fixed keys with apikey.keys_match)"
            )
        if not callable(verify):
            raise TypeError("BearerStrategy requires a verify callable")
        self.verify = verify
        self.realm = realm
        self.scope = scope_text(scope, "scope")
        self.answers = BearerAnswers(realm, self.scope)
        self.allow_body = allow_body
        self.allow_query = allow_query
        self.pass_request = pass_request

    async def authenticate(self, request: AuthRequest, options: AuthenticateOptions) -> Outcome:
        """Find the one token of the request, check its syntax, and ask `verify`."""
        try:
            token = await self._token(request)
        except _InvalidRequest as exc:
            return self.answers.invalid_request(str(exc))
        except BadRequest as exc:
            return self.answers.bad_request(exc)
        if token is None:
            return self.answers.no_token
        if self.pass_request:
            result = await call(self.verify, request, token)
        else:
            result = await call(self.verify, token)
        return self._outcome(result)

    async def _token(self, request: AuthRequest) -> str | None:
        """The token from the one place it was sent, or None; `_InvalidRequest` otherwise."""
        found: list[str] = []
        header = read_authorization(request)
        # Another scheme (Basic for a chained strategy) is not ours: Passport looks on.
        if header is not None and header.scheme == "bearer":
            found.append(header.credentials)
            if not header.credentials or " " in header.credentials:
                raise _InvalidRequest("The Authorization header must be 'Bearer <token>'")
        if (
            self.allow_body
            and request.method.upper() not in _BODYLESS
            and media_type(request) == "application/x-www-form-urlencoded"
        ):
            found.extend(_field(await request.form(), "form body"))
        if self.allow_query:
            found.extend(_field(request.query, "query string"))
        if not found:
            return None
        if len(found) > 1:
            raise _InvalidRequest("The access token was sent in more than one place")
        token = found[0]
        if len(token) > MAX_AUTHORIZATION_LENGTH:
            raise _InvalidRequest("The access token is too long")
        if not TOKEN68.fullmatch(token):
            raise _InvalidRequest("The access token is malformed")
        return token

    def openapi_scheme(self) -> dict[str, Any] | None:
        """`{"type": "http", "scheme": "bearer"}`, its description naming the realm, the
        scope every token needs, and the other places a token is read from when enabled."""
        notes = [realm_text(self.realm)]
        if self.scope:
            notes.append(f"Tokens need scope {self.scope}.")
        places = [
            p for p, on in (("form body", self.allow_body), ("query", self.allow_query)) if on
        ]
        if places:
            notes.append(f"Also accepted as access_token in the {' or '.join(places)}.")
        return http_scheme("bearer", " ".join(notes))

    def _outcome(self, result: Any) -> Outcome:
        if isinstance(result, Verified):
            return self.success(result.user, result.info)
        if result is None or result is False:
            return self.answers.invalid_token()
        if isinstance(result, Rejected):
            return self.answers.rejected(result)
        return self.success(result)


def _field(values: MultiMapping, where: str) -> list[str]:
    """The `access_token` values of a form or query; duplicates are refused because
    frameworks disagree on which copy wins."""
    found = values.getlist(_FIELD)
    if len(found) > 1:
        raise _InvalidRequest(f"access_token was sent more than once in the {where}")
    return [ensure_text(value, _FIELD) for value in found]
