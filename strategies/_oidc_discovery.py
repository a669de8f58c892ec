"""OpenID Provider metadata (OpenID Connect Discovery 1.0): fetched, validated, then cached.

The strategy fetches `<issuer>/.well-known/openid-configuration` on the first login (not at
startup: a provider that is down then must not stop the app from starting) and keeps it only
once it validated: the `issuer` it names is exactly the configured one (Discovery 4.3, ASVS
10.5.3), and every endpoint the strategy uses is https (http only on a loopback host).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from authlib.oidc.discovery import OpenIDProviderMetadata

from passport_py._redaction import provider_text
from passport_py.errors import ConfigurationError
from passport_py.strategies._oauth2_errors import InternalOAuthError
from passport_py.strategies._oauth2_request import get_document, require_https
from passport_py.transport import Transport

__all__ = ["DiscoveryError", "ProviderMetadata", "discover", "get_json"]

#: Largest metadata or key set document read (real ones are a few kilobytes).
MAX_DOCUMENT_BYTES = 512 * 1024


class DiscoveryError(InternalOAuthError):
    """The provider's metadata could not be fetched, or it is not the configured provider's
    (another issuer, an endpoint over plain http). Answered with 502 on the login that needed
    it; the next login tries again."""


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    """What the strategy uses of the provider's metadata; `raw` is the whole document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None = None
    #: RFC 9207: the provider puts `iss` in every authorization response.
    iss_parameter_supported: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)


async def get_json(
    transport: Transport,
    url: str,
    *,
    what: str,
    timeout: float,  # noqa: ASYNC109 - bounds the HTTP request, passed to the transport
    error: type[InternalOAuthError] = InternalOAuthError,
) -> dict[str, Any]:
    """GET `url` and parse a JSON object; `error` (a 502) for anything else."""
    document = await get_document(
        transport,
        url,
        what=f"{what} from {url}",
        timeout=timeout,
        max_bytes=MAX_DOCUMENT_BYTES,
        error=error,
    )
    if not isinstance(document, dict):
        raise error(f"Failed to parse {what} from {url}: not a JSON object")
    return document


async def discover(
    transport: Transport,
    url: str,
    issuer: str,
    *,
    timeout: float,  # noqa: ASYNC109 - bounds the HTTP request, passed to the transport
) -> ProviderMetadata:
    """The provider metadata at `url`, validated for `issuer`; `DiscoveryError` otherwise."""
    document = await get_json(
        transport, url, what="OpenID provider metadata", timeout=timeout, error=DiscoveryError
    )
    return validate_metadata(document, issuer, url)


def validate_metadata(document: Mapping[str, Any], issuer: str, url: str) -> ProviderMetadata:
    """`document` as `ProviderMetadata` if it describes `issuer`; `DiscoveryError` otherwise."""
    named = document.get("issuer")
    # Exact string equality (Discovery 4.3): no trailing-slash, case or prefix leniency.
    if named != issuer:
        raise DiscoveryError(
            f"The OpenID provider metadata at {url} names the issuer "
            f"{provider_text(repr(named), 120)}, not the configured issuer {issuer!r}; check "
            "issuer= (it must match the provider's exactly, trailing slash included)"
        )
    metadata = OpenIDProviderMetadata(document)
    try:
        # Authlib's checks of the members this strategy relies on (required, https, no
        # query or fragment in the issuer).
        for check in (
            metadata.validate_issuer,
            metadata.validate_authorization_endpoint,
            metadata.validate_token_endpoint,
            metadata.validate_jwks_uri,
        ):
            check()
    except (ValueError, TypeError, AttributeError) as exc:
        raise DiscoveryError(
            f"The OpenID provider metadata at {url} is invalid: {provider_text(exc)}"
        ) from None
    endpoints: dict[str, str | None] = {}
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint"):
        value = document.get(name)
        if value is None and name == "userinfo_endpoint":
            endpoints[name] = None
            continue
        if not isinstance(value, str):
            raise DiscoveryError(f"The OpenID provider metadata at {url} has no valid {name}")
        try:
            # Stricter than Authlib's check, which an environment variable can turn off.
            require_https(value, name)
        except ConfigurationError as exc:
            raise DiscoveryError(f"The OpenID provider metadata at {url}: {exc}") from None
        endpoints[name] = value
    return ProviderMetadata(
        issuer=issuer,
        authorization_endpoint=str(endpoints["authorization_endpoint"]),
        token_endpoint=str(endpoints["token_endpoint"]),
        jwks_uri=str(endpoints["jwks_uri"]),
        userinfo_endpoint=endpoints["userinfo_endpoint"],
        # Only the JSON boolean true turns the check on; the string "true" is not a yes.
        iss_parameter_supported=document.get("authorization_response_iss_parameter_supported")
        is True,
        raw=dict(document),
    )
