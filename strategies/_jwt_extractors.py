"""Where `JwtStrategy` finds the token: extractors (passport-jwt's `ExtractJwt`).

An extractor is any callable `extract(request) -> str | None` (plain or `async def`); None
means "no token here". The ones below also carry `vary`, the request headers they read, which
the strategy reports so responses are not cached across users. A token sent twice in one place
(two query parameters, two form fields, two headers) is refused with 400: frameworks disagree
on which copy wins.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeAlias

from passport_py._async import maybe_await
from passport_py.authorization import read_token68
from passport_py.errors import BadRequest
from passport_py.request import AuthRequest, MultiMapping, ensure_text, media_type
from passport_py.strategies._openapi_schemes import api_key_scheme, http_scheme

__all__ = [
    "Extractor",
    "TokenExtractor",
    "from_auth_header_as_bearer_token",
    "from_auth_header_with_scheme",
    "from_body_field",
    "from_cookie",
    "from_extractors",
    "from_header",
    "from_query",
]

#: What an extractor returns: the token, None for none, or an awaitable of either.
ExtractResult: TypeAlias = str | Awaitable[str | None] | None
Extractor: TypeAlias = Callable[[AuthRequest], ExtractResult]
"""A token extractor: takes the `AuthRequest` and returns the token, None for none, or an
awaitable of either. The `from_*` functions build the usual ones.
"""

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class TokenExtractor:
    """An extractor with a name for `repr`, the request headers it reads (`vary`) and the
    OpenAPI Security Scheme Object of where it looks (`openapi`, None when OpenAPI has no
    words for it, as for a body field)."""

    __slots__ = ("_read", "description", "openapi", "vary")

    def __init__(
        self,
        read: Extractor,
        vary: tuple[str, ...] = (),
        description: str = "extractor",
        openapi: dict[str, Any] | None = None,
    ) -> None:
        self._read = read
        self.vary = vary
        self.description = description
        self.openapi = openapi

    def __call__(self, request: AuthRequest) -> ExtractResult:
        return self._read(request)

    def __repr__(self) -> str:
        return self.description


def _single(values: MultiMapping, name: str, where: str) -> str | None:
    found = values.getlist(name)
    if not found:
        return None
    if len(found) > 1:
        raise BadRequest(f"{where} {name!r} was sent more than once")
    return ensure_text(found[0], name) or None


def from_auth_header_with_scheme(scheme: str) -> TokenExtractor:
    """The credentials of an `Authorization: <scheme> <token>` header (scheme case-insensitive).

    A header with another scheme is no token (another strategy may take it); a duplicated,
    over-long or non-ASCII header, one with only the scheme, or credentials that are not one
    token68 (the same rule as `BearerStrategy`) is a 400.
    """
    if not isinstance(scheme, str) or not _TOKEN.fullmatch(scheme):
        raise ValueError(f"from_auth_header_with_scheme: {scheme!r} is not an auth scheme")

    def read(request: AuthRequest) -> str | None:
        return read_token68(request, scheme)

    # Swagger UI offers no input for other HTTP schemes: those are described as the
    # Authorization header, whose whole value the user types.
    if scheme.lower() == "bearer":
        openapi = http_scheme("bearer")
    else:
        openapi = api_key_scheme("Authorization", "header", f"Send `{scheme} <token>`.")
    description = f"from_auth_header_with_scheme({scheme!r})"
    return TokenExtractor(read, ("Authorization",), description, openapi)


_BEARER = from_auth_header_with_scheme("Bearer")
_BEARER.description = "from_auth_header_as_bearer_token()"


def from_auth_header_as_bearer_token() -> TokenExtractor:
    """`Authorization: Bearer <token>` (RFC 6750 §2.1), the default."""
    return _BEARER


def from_header(name: str) -> TokenExtractor:
    """The whole value of request header `name` (`X-Access-Token: <token>`)."""

    def read(request: AuthRequest) -> str | None:
        value = _single(request.headers, name, "Header")
        return None if value is None else value.strip(" \t") or None

    return TokenExtractor(read, (name,), f"from_header({name!r})", api_key_scheme(name, "header"))


def from_cookie(name: str) -> TokenExtractor:
    """The value of cookie `name`. Set it `HttpOnly; Secure; SameSite` and protect
    state-changing routes against CSRF: browsers send cookies on their own."""

    def read(request: AuthRequest) -> str | None:
        value = request.cookies.get(name)
        return None if value is None else ensure_text(value, name) or None

    return TokenExtractor(
        read, ("Cookie",), f"from_cookie({name!r})", api_key_scheme(name, "cookie")
    )


def from_body_field(name: str) -> TokenExtractor:
    """Field `name` of an urlencoded, multipart or JSON object body; other bodies have none."""

    async def read(request: AuthRequest) -> str | None:
        kind = media_type(request)
        if kind in _FORM_TYPES:
            return _single(await request.form(), name, "Field")
        if kind == "application/json" or (
            kind.startswith("application/") and kind.endswith("+json")
        ):
            data = await request.json()
            value = data.get(name) if isinstance(data, dict) else None
            return None if value is None else ensure_text(value, name) or None
        return None

    return TokenExtractor(read, (), f"from_body_field({name!r})")


def from_query(name: str) -> TokenExtractor:
    """Query parameter `name`. Opt-in only: URLs end up in server logs, proxy logs, browser
    history and `Referer` headers, and the token with them (RFC 6750 §2.3)."""

    def read(request: AuthRequest) -> str | None:
        return _single(request.query, name, "Query parameter")

    return TokenExtractor(read, (), f"from_query({name!r})", api_key_scheme(name, "query"))


def from_extractors(extractors: Sequence[Extractor]) -> TokenExtractor:
    """The first token any of `extractors` finds, tried in order; API docs show the first
    place OpenAPI can describe (a body field cannot be)."""
    if not isinstance(extractors, list | tuple):
        raise TypeError("from_extractors() takes a list of extractors")
    parts = tuple(extractors)
    for part in parts:
        if not callable(part):
            raise TypeError(f"from_extractors(): {part!r} is not callable")
    vary: tuple[str, ...] = ()
    for part in parts:
        vary += tuple(n for n in getattr(part, "vary", ()) if n not in vary)

    async def read(request: AuthRequest) -> str | None:
        for part in parts:
            token: Any = await maybe_await(part(request))
            if token is not None and token != "":
                return token  # type: ignore[no-any-return]  # the strategy checks it is a str
        return None

    names = ", ".join(repr(p) for p in parts)
    openapi = next((o for p in parts if (o := getattr(p, "openapi", None)) is not None), None)
    return TokenExtractor(read, vary, f"from_extractors([{names}])", openapi)
