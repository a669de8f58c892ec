"""Reading the `Authorization` header and writing `WWW-Authenticate` challenges (RFC 9110 §11).

Shared by the token strategies (Basic, Digest, Bearer, JWT) and open to strategies users
write: one strict reader, so the same header gets the same answer in every strategy and every
framework, and one challenge writer that never lets a quote or a line break into a header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from passport_py.errors import BadRequest
from passport_py.request import AuthRequest

__all__ = [
    "MAX_AUTHORIZATION_LENGTH",
    "TOKEN68",
    "Authorization",
    "format_challenge",
    "parse_auth_params",
    "read_authorization",
    "read_token68",
]

MAX_AUTHORIZATION_LENGTH = 8192
"""Longer `Authorization` values are refused (400) before any decoding; real credentials,
JWTs with many claims included, stay far below it.
"""

TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
"""token68 (RFC 9110 §11.2), RFC 6750's b64token: what Basic and Bearer credentials look like."""
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")
_UNSAFE_IN_QUOTES = re.compile(r"[^\x20-\x7e]")
# auth-param = token BWS "=" BWS ( token / quoted-string ), comma separated (RFC 9110 §11.2)
_AUTH_PARAM = re.compile(
    r'\s*([!#$%&\'*+\-.^_`|~0-9A-Za-z]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(,|$)'
)


@dataclass(frozen=True, slots=True)
class Authorization:
    """A well-formed `Authorization` header: `scheme` lower-cased, `credentials` as sent.

    `credentials` is what follows the scheme and its spaces: a token68 (Basic, Bearer) or a
    list of auth-params (Digest); "" when the header holds only a scheme.
    """

    scheme: str
    credentials: str


def read_authorization(request: AuthRequest) -> Authorization | None:
    """The request's `Authorization` header, or None when there is none.

    `BadRequest` (400) when it is sent twice, empty, longer than `MAX_AUTHORIZATION_LENGTH`,
    holds anything but printable ASCII (a line break, a byte above 0x7E), or does not start with
    a scheme token. Scheme names compare case-insensitively (RFC 9110 §11.1).
    """
    values = request.headers.getlist("authorization")
    if not values:
        return None
    if len(values) > 1:
        raise BadRequest("Authorization header sent more than once")
    value = str(values[0])
    if len(value) > MAX_AUTHORIZATION_LENGTH:
        raise BadRequest("Authorization header is too long")
    if not _PRINTABLE_ASCII.fullmatch(value):
        raise BadRequest("Authorization header must be printable ASCII")
    value = value.strip(" ")
    scheme, _, credentials = value.partition(" ")
    if not _TOKEN.fullmatch(scheme):
        raise BadRequest("Authorization header has no valid scheme")
    return Authorization(scheme.lower(), credentials.lstrip(" "))


def read_token68(request: AuthRequest, scheme: str) -> str | None:
    """The token68 credentials of an `Authorization: <scheme> <token>` header.

    None when there is no header or it names another scheme (a chained strategy may take it);
    `BadRequest` (400) when it is malformed (see `read_authorization`), holds only the scheme,
    or its credentials are not one token68 (a space, a comma from a repeated header, quotes).
    """
    authorization = read_authorization(request)
    if authorization is None or authorization.scheme != scheme.lower():
        return None
    if not authorization.credentials:
        raise BadRequest(f"Authorization header has no {scheme} credentials")
    if not TOKEN68.fullmatch(authorization.credentials):
        raise BadRequest(f"Authorization header's {scheme} credentials are malformed")
    return authorization.credentials


def parse_auth_params(credentials: str) -> dict[str, str] | None:
    """The auth-params of `credentials` (`a="1", b=2`), names lower-cased; None if malformed
    or a name repeats. Quoted values are unescaped."""
    params: dict[str, str] = {}
    position = 0
    text = credentials.strip()
    if not text:
        return None
    while position < len(text):
        match = _AUTH_PARAM.match(text, position)
        if match is None:
            return None
        name = match.group(1).lower()
        if name in params:
            return None
        quoted, bare = match.group(2), match.group(3)
        params[name] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
        position = match.end()
        if match.group(4) == "," and position >= len(text):
            return None  # a trailing comma
    return params


def _quote(value: str) -> str:
    # Only printable ASCII goes into a header: anything else (a line break, non-ASCII text
    # from an exception or a user's message) becomes "?", and quotes and backslashes are
    # escaped, so a challenge can never be split or extended by what it carries.
    safe = _UNSAFE_IN_QUOTES.sub("?", value)
    return '"' + safe.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_challenge(
    scheme: str, params: list[tuple[str, str | None]], *, bare: frozenset[str] = frozenset()
) -> str:
    """`scheme name="value", ...` for a `WWW-Authenticate` header.

    Values are quoted strings (escaped, non-printable characters replaced), except the names
    in `bare`, written as tokens (Digest's `algorithm=SHA-256`, `stale=true`). Params whose
    value is None are left out.
    """
    parts = []
    for name, value in params:
        if value is None:
            continue
        if name in bare:
            if not _TOKEN.fullmatch(value):
                raise ValueError(f"challenge parameter {name}={value!r} is not a token")
            parts.append(f"{name}={value}")
        else:
            parts.append(f"{name}={_quote(value)}")
    return f"{scheme} {', '.join(parts)}" if parts else scheme
