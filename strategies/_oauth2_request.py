"""The HTTP side of talking to a provider: the URLs sent to it (https checks, callback URL
resolution, query merging), the parameters it sends back, and GETs of its JSON documents."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from passport_py.errors import BadRequest, ConfigurationError
from passport_py.request import AuthRequest, media_type
from passport_py.strategies._oauth2_errors import InternalOAuthError
from passport_py.transport import DEFAULT_MAX_BYTES, Transport, TransportError

__all__ = [
    "callback_params",
    "check_callback_url",
    "forwarded_base",
    "get_document",
    "merge_query",
    "require_https",
]

_CALLBACK_FIELDS = ("code", "state", "error", "error_description", "error_uri", "iss")
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def require_https(url: str, option: str) -> None:
    """ConfigurationError unless `url` is absolute https (http only on a loopback host)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK:
        return
    raise ConfigurationError(
        f"{option}={url!r} must be an absolute https:// URL (http:// only on 127.0.0.1, "
        "::1 or localhost, for development)"
    )


def check_callback_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.fragment or "#" in url:
        raise ConfigurationError(f"callback_url={url!r} must not have a fragment (RFC 6749 3.1.2)")
    if parts.scheme and parts.scheme not in ("http", "https"):
        raise ConfigurationError(f"callback_url={url!r} must be an http(s) URL or a path")


def forwarded_base(request: AuthRequest, base: str) -> str:
    """`base` with the scheme and host a trusted proxy reports (the first hop's values)."""
    parts = urlsplit(base)
    proto = str(request.headers.get("x-forwarded-proto") or "").split(",")[0].strip().lower()
    host = str(request.headers.get("x-forwarded-host") or "").split(",")[0].strip()
    scheme = proto if proto in ("http", "https") else parts.scheme
    return urlunsplit((scheme, host or parts.netloc, parts.path, parts.query, ""))


def merge_query(url: str, params: Sequence[tuple[str, str]]) -> str:
    """`url` with `params` added: a name already in its query keeps its place, with the new
    value; new names follow in order. Spaces are written %20."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    for name, value in params:
        for index, (existing, _) in enumerate(pairs):
            if existing == name:
                pairs[index] = (name, value)
                break
        else:
            pairs.append((name, value))
    query = urlencode(pairs, quote_via=quote)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


async def callback_params(request: AuthRequest) -> dict[str, str]:
    """The authorization response's parameters: the query, or a `form_post` body.

    A parameter sent twice is a 400: frameworks disagree on which copy wins.
    """
    source: Any = request.query
    if request.method == "POST" and media_type(request) == "application/x-www-form-urlencoded":
        source = await request.form()
    params: dict[str, str] = {}
    for name in _CALLBACK_FIELDS:
        values = source.getlist(name)
        if len(values) > 1:
            raise BadRequest(f"Malformed authorization response: {name} is repeated")
        if values:
            value = values[0]
            if not isinstance(value, str):
                raise BadRequest(f"Malformed authorization response: {name} is not text")
            params[name] = value
    return params


async def get_document(
    transport: Transport,
    url: str,
    *,
    what: str,
    timeout: float,  # noqa: ASYNC109 - bounds the HTTP request, passed to the transport
    headers: Mapping[str, str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    error: type[InternalOAuthError] = InternalOAuthError,
) -> Any:
    """GET `url` and parse its JSON; `error` (a 502) for no answer, a status other than 200,
    or a body that is not JSON. Redirects are not followed (the transports never do).

    A signed or encrypted answer (`application/jwt` such as OpenID Connect's signed userinfo,
    or another `+jwt` type) is refused without quoting it: it holds the user's claims.
    """
    sent = {"Accept": "application/json", **(headers or {})}
    try:
        response = await transport.request(
            "GET", url, headers=sent, timeout=timeout, max_bytes=max_bytes
        )
    except TransportError as exc:
        raise error(f"Failed to fetch {what}: {exc}") from None
    content_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type == "application/jwt" or content_type.endswith("+jwt"):
        raise error(
            f"Failed to parse {what}: the answer is a signed or encrypted JWT "
            "(application/jwt), which is not read; have the provider answer plain JSON "
            "(turn off signed or encrypted answers for this client)",
            http_status=response.status,
        )
    text = response.body.decode("utf-8", "replace")
    if response.status != 200:
        raise error(f"Failed to fetch {what}", http_status=response.status, body=text)
    try:
        return json.loads(response.body)
    except (ValueError, RecursionError):
        raise error(f"Failed to parse {what}", http_status=response.status, body=text) from None
