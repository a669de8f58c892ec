"""`MicrosoftStrategy` (name "microsoft"): sign in with Microsoft Entra ID (work and school
accounts) or personal Microsoft accounts, through OpenID Connect (the v2.0 endpoints).

Microsoft Entra admin center (https://entra.microsoft.com): Identity > Applications > App
registrations > New registration. "Supported account types" decides `tenant=`: "this
organizational directory only" is your tenant id; personal accounts only is "consumers".
"Redirect URI": platform "Web", the absolute URL of the route that finishes the login, e.g.
https://app.example.com/auth/microsoft/callback. The app's Overview shows the "Application
(client) ID" and the "Directory (tenant) ID"; Certificates & secrets > New client secret shows
the secret's "Value" once (it expires: note the date). Scopes openid, profile and email need
no admin consent.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from passport_py.errors import ConfigurationError
from passport_py.strategies._oauth2_errors import InternalOAuthError
from passport_py.strategies.oauth2 import Verify
from passport_py.strategies.oidc import OIDCProfile, OpenIDConnectStrategy

__all__ = ["CONSUMERS_TENANT_ID", "MICROSOFT_AUTHORITY", "MicrosoftStrategy"]

MICROSOFT_AUTHORITY = "https://login.microsoftonline.com"
#: The tenant of every personal Microsoft account (what "consumers" tokens name).
CONSUMERS_TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"
MULTI_TENANT = ("common", "organizations")

_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class MicrosoftStrategy(OpenIDConnectStrategy):
    """Microsoft's OpenID provider for one tenant.

    `tenant` is the directory (tenant) id, a GUID, for apps of one organisation, or
    "consumers" for personal Microsoft accounts. (A tenant's domain name is refused: its
    tokens name the tenant by id, so the id is what the issuer check needs.)

    The profile's `id` is the `oid` claim, the user's object id in their tenant, and `issuer`
    names the tenant, so `profile.key` is Microsoft's recommended oid + tid: the same user
    whatever app registration they sign in through (the `sub` claim differs per app
    registration, so re-creating the registration would orphan every account). `username`
    is `preferred_username` (changeable: display only). The `email` claim is never marked
    verified: a tenant administrator can set it to any address, so never link accounts by it.

    `authority=` replaces https://login.microsoftonline.com, for national clouds
    (https://login.microsoftonline.us, https://login.chinacloudapi.cn) and for tests. Every
    `OpenIDConnectStrategy` option is accepted and overrides the preset.
    """

    name = "microsoft"

    def __init__(
        self,
        verify: Verify,
        *,
        client_id: str,
        tenant: str,
        client_secret: str | None = None,
        authority: str = MICROSOFT_AUTHORITY,
        provider: str | None = "microsoft",
        **options: Any,
    ) -> None:
        if "issuer" in options:
            raise ConfigurationError(
                "MicrosoftStrategy builds the issuer from authority= and tenant=: "
                "pass those instead of issuer="
            )
        tenant_id = _tenant_id(tenant)
        self.tenant = tenant
        self.tenant_id = tenant_id
        self.authority = authority.rstrip("/")
        super().__init__(
            verify,
            issuer=f"{self.authority}/{tenant_id}/v2.0",
            client_id=client_id,
            client_secret=client_secret,
            provider=provider,
            **options,
        )

    def build_profile(
        self, claims: Mapping[str, Any], userinfo: Mapping[str, Any] | None = None
    ) -> OIDCProfile:
        """The standard profile with `id` = `oid` and no address marked verified."""
        profile = super().build_profile(claims, userinfo)
        oid = claims.get("oid")
        if not isinstance(oid, str) or not _GUID.fullmatch(oid.lower()):
            raise InternalOAuthError(
                "The Microsoft ID token has no oid claim: ask for the 'profile' scope"
            )
        emails = tuple(dataclasses.replace(e, verified=None) for e in profile.emails)
        return dataclasses.replace(profile, id=oid.lower(), emails=emails)


def _tenant_id(tenant: Any) -> str:
    if not isinstance(tenant, str) or not tenant:
        raise ConfigurationError("MicrosoftStrategy requires tenant= (the directory tenant id)")
    if tenant == "consumers":
        return CONSUMERS_TENANT_ID
    if _GUID.fullmatch(tenant.lower()):
        return tenant.lower()
    if tenant in MULTI_TENANT:
        raise ConfigurationError(
            f"tenant={tenant!r} (multi-tenant) is not supported yet: its ID tokens name each "
            "user's own tenant as issuer; use your tenant id, or 'consumers'"
        )
    raise ConfigurationError(
        f"tenant={tenant!r}: use the directory (tenant) id, a GUID shown on the app "
        "registration's Overview page, or 'consumers'"
    )
