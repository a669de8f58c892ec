"""`GenericOIDCStrategy`: any other OpenID provider (Keycloak, Okta, Auth0, Authentik,
Zitadel, ...), registered under a name of the app's choosing.

Provider console: create a "web application" (confidential client, authorization code flow)
and register the absolute URL of the route that finishes the login as its redirect URI, e.g.
https://app.example.com/auth/keycloak/callback. The provider shows the client id and secret,
and its issuer: the URL whose `/.well-known/openid-configuration` is the discovery document
(Keycloak: https://host/realms/<realm>; Okta: https://<org>.okta.com or an authorization
server's URL; Auth0: https://<tenant>.auth0.com/ with its trailing slash).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from passport_py.errors import ConfigurationError
from passport_py.strategies.oauth2 import Verify
from passport_py.strategies.oidc import OIDCProfile, OpenIDConnectStrategy

__all__ = ["GenericOIDCStrategy"]


class GenericOIDCStrategy(OpenIDConnectStrategy):
    """An OpenID provider by its `issuer`, under `name` (also the profile's `provider`).

    Unlike the bare `OpenIDConnectStrategy`, the name is required (an app usually has one
    strategy per provider, and `provider` follows it), the userinfo endpoint is read by
    default (many providers put only `sub` in the ID token and the rest in userinfo), and the
    username comes from `username_claim` (default `preferred_username`; Auth0 uses
    `nickname`). The profile's `id` stays the `sub` claim and `key` is `(issuer, sub)`.
    Every `OpenIDConnectStrategy` option is accepted.
    """

    def __init__(
        self,
        verify: Verify,
        *,
        name: str,
        issuer: str,
        client_id: str,
        client_secret: str | None = None,
        userinfo: bool = True,
        username_claim: str = "preferred_username",
        provider: str | None = None,
        **options: Any,
    ) -> None:
        if not isinstance(name, str) or not name or name != name.strip():
            raise ConfigurationError("GenericOIDCStrategy requires name= (e.g. 'keycloak')")
        super().__init__(
            verify,
            issuer=issuer,
            client_id=client_id,
            client_secret=client_secret,
            userinfo=userinfo,
            provider=provider or name,
            name=name,
            **options,
        )
        self.username_claim = username_claim

    def build_profile(
        self, claims: Mapping[str, Any], userinfo: Mapping[str, Any] | None = None
    ) -> OIDCProfile:
        """The standard profile, with the username read from `username_claim`."""
        profile = super().build_profile(claims, userinfo)
        username = profile.raw.get(self.username_claim)
        return dataclasses.replace(
            profile, username=username if isinstance(username, str) and username else None
        )
