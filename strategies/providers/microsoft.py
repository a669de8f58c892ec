"""`MicrosoftStrategy` (name "microsoft"): sign in with Microsoft Entra ID (work and school
accounts) or personal Microsoft accounts, through OpenID Connect (the v2.0 endpoints).

Microsoft Entra admin center (https://entra.microsoft.com): Identity > Applications > App
registrations > New registration. "Supported account types" decides `tenant=`: "this
organizational directory only" is your tenant id; "any organizational directory"
(multitenant) is "organizations"; "any organizational directory and personal Microsoft
accounts" is "common"; personal accounts only is "consumers". "Redirect URI": platform
"Web", the absolute URL of the route that finishes the login, e.g.
https://app.example.com/auth/microsoft/callback. The app's Overview shows the "Application
(client) ID" and the "Directory (tenant) ID"; Certificates & secrets > New client secret shows
the secret's "Value" once (it expires: note the date). Scopes openid, profile and email need
no admin consent.

Multi-tenant ("common", "organizations"): the discovery document names the issuer as a
template, https://login.microsoftonline.com/{tenantid}/v2.0, and each ID token's `iss` must
be that template filled with the token's own `tid` claim (a tenant id in Entra's form, a
lowercase GUID). Any tenant's users can then sign in unless `allowed_tenants=` lists the
tenants accepted.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any

from passport_py.errors import ConfigurationError
from passport_py.outcomes import Outcome
from passport_py.strategies._oauth2_errors import InternalOAuthError
from passport_py.strategies._oidc_id_token import IdTokenRejected, Messages
from passport_py.strategies.oauth2 import Verify
from passport_py.strategies.oidc import WRONG_ISS, OIDCProfile, OpenIDConnectStrategy

__all__ = [
    "CONSUMERS_TENANT_ID",
    "MICROSOFT_AUTHORITY",
    "PERSONAL_ACCOUNTS_REFUSED",
    "TENANT_NOT_ALLOWED",
    "TENANT_PLACEHOLDER",
    "MicrosoftStrategy",
]

MICROSOFT_AUTHORITY = "https://login.microsoftonline.com"
"""The Microsoft identity platform's origin; the tenant follows it in the issuer URL."""
CONSUMERS_TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"
"""The tenant of every personal Microsoft account (what "consumers" tokens name)."""
MULTI_TENANT = ("common", "organizations")
TENANT_PLACEHOLDER = "{tenantid}"
"""What a multi-tenant discovery document's issuer holds in place of the tenant id."""

TENANT_NOT_ALLOWED = "ID token is from a tenant this application does not accept."
"""The failure message when the ID token's tenant is not one the application accepts."""
PERSONAL_ACCOUNTS_REFUSED = "Personal Microsoft accounts cannot sign in to this application."
"""The failure message when a personal Microsoft account signs in to an application that
refuses them.
"""

_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class MicrosoftStrategy(OpenIDConnectStrategy):
    """Microsoft's OpenID provider, for one tenant or (multi-tenant) for many.

    `tenant` is the directory (tenant) id, a GUID, for apps of one organisation;
    "consumers" for personal Microsoft accounts; "organizations" for work and school accounts
    of any tenant; "common" for those and personal accounts. (A tenant's domain name is
    refused: its tokens name the tenant by id, so the id is what the issuer check needs.)

    Multi-tenant, `issuer` is Microsoft's template (`TENANT_PLACEHOLDER` in place of the
    tenant id) and each ID token must carry the issuer of its own `tid` claim; a `tid` that
    is not a tenant id refuses the token (403). "organizations" refuses the personal accounts'
    tenant (`CONSUMERS_TENANT_ID`). `allowed_tenants=` (tenant ids; "consumers" names the
    personal accounts' tenant) accepts only the tenants listed: a token from another tenant
    is refused (403) before `verify` runs.

    The profile's `id` is the `oid` claim, the user's object id in their tenant, and `issuer`
    names the user's tenant, so `profile.key` is Microsoft's recommended oid + tid: the same
    user whatever app registration they sign in through (the `sub` claim differs per app
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
        allowed_tenants: Iterable[str] | None = None,
        provider: str | None = "microsoft",
        **options: Any,
    ) -> None:
        if "issuer" in options:
            raise ConfigurationError(
                "MicrosoftStrategy builds the issuer from authority= and tenant=: "
                "pass those instead of issuer="
            )
        self.tenant = tenant
        self.multi_tenant = isinstance(tenant, str) and tenant in MULTI_TENANT
        self.tenant_id = None if self.multi_tenant else _tenant_id(tenant)
        self.allowed_tenants = _allowed_tenants(allowed_tenants, tenant, self.multi_tenant)
        self.authority = authority.rstrip("/")
        if self.multi_tenant and options.get("discovery_url") is None:
            # The template issuer is no URL to fetch: the document lives under the alias.
            options["discovery_url"] = (
                f"{self.authority}/{tenant}/v2.0/.well-known/openid-configuration"
            )
        super().__init__(
            verify,
            issuer=self._issuer_of(
                TENANT_PLACEHOLDER if self.tenant_id is None else self.tenant_id
            ),
            client_id=client_id,
            client_secret=client_secret,
            provider=provider,
            **options,
        )

    def _issuer_of(self, tenant_id: str) -> str:
        return f"{self.authority}/{tenant_id}/v2.0"

    def expected_issuer(self, claims: Mapping[str, Any]) -> str:
        """Multi-tenant: the issuer of the token's own `tid`, once that is a tenant id this
        application accepts (`IdTokenRejected` otherwise); else the tenant's issuer."""
        if not self.multi_tenant:
            return self.issuer
        tenant = claims.get("tid")
        if tenant is None:
            raise IdTokenRejected(Messages.missing("tid"))
        # Only a GUID: anything else could fill the template with a path, or the template.
        if not isinstance(tenant, str) or not _GUID.fullmatch(tenant):
            raise IdTokenRejected(Messages.invalid("tid"))
        refusal = self._tenant_refusal(tenant)
        if refusal is not None:
            raise IdTokenRejected(refusal)
        return self._issuer_of(tenant)

    def check_response(
        self, params: Mapping[str, str], transaction: Mapping[str, Any]
    ) -> Outcome | None:
        """Multi-tenant, an RFC 9207 `iss` parameter names the user's tenant, which is not
        known yet: it must be exactly the template filled with a tenant id this application
        accepts (so the response is this authority's, and the code goes to this authority's
        token endpoint); the ID token's own `tid` and `iss` are checked after. Otherwise, and
        when `iss` is absent, the exact check of `OpenIDConnectStrategy`."""
        iss = params.get("iss")
        if not self.multi_tenant or iss is None:
            return super().check_response(params, transaction)
        if transaction.get("issuer") != self.issuer:
            return self.fail({"message": WRONG_ISS}, 403)
        tenant = self._tenant_of(iss)
        if tenant is None:
            return self.fail({"message": WRONG_ISS}, 403)
        refusal = self._tenant_refusal(tenant)
        if refusal is not None:
            return self.fail({"message": refusal}, 403)
        return None

    def _tenant_of(self, issuer: str) -> str | None:
        """The tenant id when `issuer` is exactly the template filled with one, else None."""
        prefix, _, suffix = self.issuer.partition(TENANT_PLACEHOLDER)
        if len(issuer) <= len(prefix) + len(suffix):
            return None
        tenant = issuer[len(prefix) : len(issuer) - len(suffix)]
        if not _GUID.fullmatch(tenant) or self._issuer_of(tenant) != issuer:
            return None
        return tenant

    def _tenant_refusal(self, tenant: str) -> str | None:
        """Why a multi-tenant login from `tenant` is refused, or None."""
        if self.tenant == "organizations" and tenant == CONSUMERS_TENANT_ID:
            return PERSONAL_ACCOUNTS_REFUSED
        if self.allowed_tenants is not None and tenant not in self.allowed_tenants:
            return TENANT_NOT_ALLOWED
        return None

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
    raise ConfigurationError(
        f"tenant={tenant!r}: use the directory (tenant) id, a GUID shown on the app "
        "registration's Overview page, or 'consumers', 'organizations' or 'common'"
    )


def _allowed_tenants(
    tenants: Iterable[str] | None, tenant: str, multi_tenant: bool
) -> frozenset[str] | None:
    if tenants is None:
        return None
    if not multi_tenant:
        raise ConfigurationError(
            f"allowed_tenants= is for tenant='common' or 'organizations'; tenant={tenant!r} "
            "already accepts that tenant alone"
        )
    if isinstance(tenants, str | bytes) or not isinstance(tenants, Iterable):
        raise ConfigurationError("allowed_tenants= must be a list of tenant ids, not one string")
    ids: set[str] = set()
    for item in tenants:
        if item == "consumers":
            item = CONSUMERS_TENANT_ID
        if not isinstance(item, str) or not _GUID.fullmatch(item.lower()):
            raise ConfigurationError(
                f"allowed_tenants: {item!r} is not a directory (tenant) id, a GUID"
            )
        ids.add(item.lower())
    if not ids:
        raise ConfigurationError("allowed_tenants= is empty: nobody could sign in")
    if tenant == "organizations" and CONSUMERS_TENANT_ID in ids:
        raise ConfigurationError(
            "tenant='organizations' never signs in personal accounts: to accept them "
            "(allowed_tenants has 'consumers'), use tenant='common'"
        )
    return frozenset(ids)
