"""OpenAPI 3.1 Security Scheme Objects: the builders the built-in strategies share, and
`check_scheme`, which refuses a declared scheme that lacks a field its type requires.

The objects are plain dicts, framework-neutral: an adapter puts them in an OpenAPI document's
`components.securitySchemes`. Each call builds a new dict, so a caller may change its copy.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from passport_py.errors import ConfigurationError

__all__ = [
    "api_key_scheme",
    "check_scheme",
    "http_scheme",
    "pkce_text",
    "realm_text",
    "scope_names",
]

#: The fields each type requires (OpenAPI 3.1 section 4.8.27), besides `type`.
_REQUIRED: dict[str, tuple[str, ...]] = {
    "apiKey": ("name", "in"),
    "http": ("scheme",),
    "mutualTLS": (),
    "oauth2": ("flows",),
    "openIdConnect": ("openIdConnectUrl",),
}
#: The fields each type may have, besides `type`, `description` and `x-` extensions.
_ALLOWED: dict[str, frozenset[str]] = {
    "apiKey": frozenset({"name", "in"}),
    "http": frozenset({"scheme", "bearerFormat"}),
    "mutualTLS": frozenset(),
    "oauth2": frozenset({"flows"}),
    "openIdConnect": frozenset({"openIdConnectUrl"}),
}
_API_KEY_PLACES = ("header", "query", "cookie")
#: The URLs each OAuth 2.0 flow requires (OpenAPI 3.1 section 4.8.29).
_FLOW_URLS: dict[str, tuple[str, ...]] = {
    "implicit": ("authorizationUrl",),
    "password": ("tokenUrl",),
    "clientCredentials": ("tokenUrl",),
    "authorizationCode": ("authorizationUrl", "tokenUrl"),
}


def http_scheme(
    scheme: str, description: str | None = None, *, bearer_format: str | None = None
) -> dict[str, Any]:
    """An `http` scheme (`basic`, `digest`, `bearer`, ...), lower-cased as OpenAPI advises."""
    found: dict[str, Any] = {"type": "http", "scheme": scheme.lower()}
    if bearer_format is not None:
        found["bearerFormat"] = bearer_format
    if description:
        found["description"] = description
    return found


def api_key_scheme(name: str, where: str, description: str | None = None) -> dict[str, Any]:
    """An `apiKey` scheme: the key in header, query parameter or cookie `name`."""
    found: dict[str, Any] = {"type": "apiKey", "name": name, "in": where}
    if description:
        found["description"] = description
    return found


def realm_text(realm: str) -> str:
    """How a description names the realm of an HTTP challenge."""
    return f'Realm "{realm}".'


def pkce_text(pkce: bool) -> str:
    """How an OAuth 2.0 scheme's description says whether our client sends PKCE."""
    return " with PKCE (S256)" if pkce else ", without PKCE"


def scope_names(scope: str | Sequence[str] | None, separator: str = " ") -> list[str]:
    """Each scope once, in order, from a string (split on `separator` and spaces) or a list."""
    if scope is None:
        return []
    parts = scope.replace(separator, " ").split() if isinstance(scope, str) else list(scope)
    return list(dict.fromkeys(p for p in parts if p))


def check_scheme(scheme: Any, owner: str) -> dict[str, Any]:
    """A deep copy of `scheme` once it has every field OpenAPI 3.1 requires of its type.

    `ConfigurationError` (naming `owner`, the strategy, and the field) otherwise: a scheme
    Swagger UI cannot use is a mistake to find at startup, not in the browser.
    """
    if not isinstance(scheme, Mapping):
        raise ConfigurationError(
            f"{owner}: openapi_scheme must be a dict such as "
            f'{{"type": "http", "scheme": "bearer"}}, not {type(scheme).__name__}'
        )
    kind = scheme.get("type")
    if kind not in _REQUIRED:
        raise ConfigurationError(
            f"{owner}: openapi_scheme type {kind!r} is not an OpenAPI one: use "
            + ", ".join(repr(k) for k in _REQUIRED)
        )
    for field in _REQUIRED[kind]:
        if not scheme.get(field):
            raise ConfigurationError(f"{owner}: an OpenAPI {kind!r} scheme needs {field!r}")
    for field, value in scheme.items():
        known = field in ("type", "description") or field in _ALLOWED[kind]
        if not known and not (isinstance(field, str) and field.startswith("x-")):
            raise ConfigurationError(
                f"{owner}: {field!r} is not a field of an OpenAPI {kind!r} scheme "
                "(name extensions 'x-...')"
            )
        if field != "flows" and not field.startswith("x-") and not isinstance(value, str):
            raise ConfigurationError(f"{owner}: openapi_scheme {field!r} must be a string")
    if kind == "apiKey" and scheme["in"] not in _API_KEY_PLACES:
        raise ConfigurationError(
            f"{owner}: an OpenAPI apiKey scheme is 'in' 'header', 'query' or 'cookie', "
            f"not {scheme['in']!r}"
        )
    if kind == "oauth2":
        _check_flows(scheme["flows"], owner)
    return copy.deepcopy(dict(scheme))


def _check_flows(flows: Any, owner: str) -> None:
    if not isinstance(flows, Mapping):
        raise ConfigurationError(f"{owner}: an OpenAPI oauth2 scheme's 'flows' must be a dict")
    for name, flow in flows.items():
        if name not in _FLOW_URLS:
            raise ConfigurationError(
                f"{owner}: OAuth 2.0 flow {name!r} is not an OpenAPI one: use "
                + ", ".join(repr(f) for f in _FLOW_URLS)
            )
        if not isinstance(flow, Mapping):
            raise ConfigurationError(f"{owner}: the {name!r} flow must be a dict")
        for url in _FLOW_URLS[name]:
            if not isinstance(flow.get(url), str) or not flow[url]:
                raise ConfigurationError(f"{owner}: the {name!r} flow needs {url!r}")
        scopes = flow.get("scopes")
        if not isinstance(scopes, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in scopes.items()
        ):
            raise ConfigurationError(
                f"{owner}: the {name!r} flow needs 'scopes', a dict of scope name to "
                "description (may be empty)"
            )
