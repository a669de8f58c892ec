"""`GoogleStrategy` (name "google"): Sign in with Google, through OpenID Connect.

Google Cloud console (https://console.cloud.google.com): APIs & Services > OAuth consent
screen (app name, support email; "External" for any Google account, "Internal" for your
Workspace only), then Credentials > Create credentials > OAuth client ID > "Web application".
"Authorized redirect URIs": the absolute URL of the route that finishes the login, e.g.
https://app.example.com/auth/google/callback (matched exactly). The dialog shows the "Client
ID" and "Client secret" (also downloadable as JSON). Scopes: openid, profile and email are
asked for on each login; they need no verification by Google.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from passport_py.errors import ConfigurationError
from passport_py.options import AuthenticateOptions
from passport_py.outcomes import Outcome
from passport_py.request import AuthRequest
from passport_py.strategies.oauth2 import OAuth2Tokens, Verify
from passport_py.strategies.oidc import OIDCProfile, OpenIDConnectStrategy

__all__ = ["GOOGLE_ISSUER", "WRONG_DOMAIN", "GoogleStrategy"]

GOOGLE_ISSUER = "https://accounts.google.com"
"""Google's OpenID issuer."""
WRONG_DOMAIN = "This Google account does not belong to the required domain."
"""The failure message when the account is outside the required Google Workspace domain."""
ACCESS_TYPES = ("online", "offline")


class GoogleStrategy(OpenIDConnectStrategy):
    """Google's OpenID provider, with Google's own authorization parameters.

    `access_type="offline"` asks for a refresh token, `include_granted_scopes=True` keeps the
    scopes granted before (incremental authorization); both, like `prompt` and `login_hint`,
    may also be given per route: `authenticate("google", access_type="offline")`.

    `hd="example.com"` restricts the login to that Google Workspace domain: it is sent as a
    hint (Google then offers only that domain's accounts) and enforced on the ID token's `hd`
    claim, since a user can remove the hint from the URL: any other account fails with 403.
    `hd="*"` admits any Workspace account and no consumer (gmail.com) account. `hd` is set
    here only, never per route, so it cannot be a hint that is mistaken for a check.

    The profile's `id` is Google's `sub` (stable for the account, never reassigned); the
    issuer is `https://accounts.google.com`. `issuer=` points the preset elsewhere, for tests.
    Every `OpenIDConnectStrategy` option is accepted and overrides the preset.
    """

    name = "google"

    def __init__(
        self,
        verify: Verify,
        *,
        client_id: str,
        client_secret: str | None = None,
        issuer: str = GOOGLE_ISSUER,
        hd: str | None = None,
        access_type: str | None = None,
        include_granted_scopes: bool | None = None,
        provider: str | None = "google",
        **options: Any,
    ) -> None:
        if hd is not None and (not isinstance(hd, str) or not hd or hd != hd.strip()):
            raise ConfigurationError(f"hd={hd!r} must be a domain name, or '*'")
        _check_access_type(access_type)
        super().__init__(
            verify,
            issuer=issuer,
            client_id=client_id,
            client_secret=client_secret,
            provider=provider,
            **options,
        )
        self.hd = hd.lower() if hd is not None else None
        self.access_type = access_type
        self.include_granted_scopes = include_granted_scopes

    def authorization_params(self, options: AuthenticateOptions) -> Mapping[str, str]:
        """`access_type`, `include_granted_scopes` and `hd`, then the OpenID Connect ones."""
        if options.get("hd") is not None:
            raise ConfigurationError(
                "hd= is a GoogleStrategy option (it is enforced on the ID token), not a "
                "per-route one: a per-route hd would only be a hint"
            )
        params: dict[str, str] = {}
        access_type = options.get("access_type", self.access_type)
        _check_access_type(access_type)
        if access_type is not None:
            params["access_type"] = access_type
        granted = options.get("include_granted_scopes", self.include_granted_scopes)
        if granted is not None:
            if not isinstance(granted, bool):
                raise ConfigurationError("include_granted_scopes= must be True or False")
            params["include_granted_scopes"] = "true" if granted else "false"
        if self.hd is not None:
            params["hd"] = self.hd
        params.update(super().authorization_params(options))
        return params

    async def call_verify(
        self, request: AuthRequest, tokens: OAuth2Tokens, profile: Any
    ) -> Outcome:
        """Refuse an account outside `hd` (by the validated ID token's claim), then verify."""
        if self.hd is not None:
            claims = profile.claims if isinstance(profile, OIDCProfile) else {}
            domain = claims.get("hd")
            if not isinstance(domain, str) or not domain or self.hd not in ("*", domain.lower()):
                return self.fail({"message": WRONG_DOMAIN}, 403)
        return await super().call_verify(request, tokens, profile)


def _check_access_type(value: Any) -> None:
    if value is not None and value not in ACCESS_TYPES:
        raise ConfigurationError(f"access_type={value!r}: use 'online' or 'offline'")
