"""`GitLabStrategy` (name "gitlab"): log in with GitLab.com or a self-managed GitLab, through
OpenID Connect.

GitLab console: User settings > Applications > Add new application (or a group's Settings >
Applications, or the Admin area's for an instance-wide app). "Redirect URI": the absolute URL
of the route that finishes the login, e.g. https://app.example.com/auth/gitlab/callback;
"Confidential": checked (a server keeps the secret); scopes: openid, profile and email.
Saving shows the "Application ID" (the client id) and the "Secret" (shown once).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from passport_py.strategies.oauth2 import Verify
from passport_py.strategies.oidc import OIDCProfile, OpenIDConnectStrategy

__all__ = ["GITLAB_ISSUER", "GitLabStrategy"]

GITLAB_ISSUER = "https://gitlab.com"
"""The OpenID issuer of gitlab.com; a self-managed GitLab passes its own URL instead."""


class GitLabStrategy(OpenIDConnectStrategy):
    """GitLab's OpenID provider. `issuer="https://gitlab.example.com"` for a self-managed
    instance (its external URL, exactly as its discovery document writes it); tests point it
    at a local provider the same way.

    The profile's `id` is GitLab's `sub` (the numeric user id, as a string); `username` is
    the GitLab username (`preferred_username`, else `nickname`), which the user can change;
    the email's `verified` is GitLab's `email_verified`. Every `OpenIDConnectStrategy` option
    is accepted and overrides the preset.
    """

    name = "gitlab"

    def __init__(
        self,
        verify: Verify,
        *,
        client_id: str,
        client_secret: str | None = None,
        issuer: str = GITLAB_ISSUER,
        provider: str | None = "gitlab",
        **options: Any,
    ) -> None:
        super().__init__(
            verify,
            issuer=issuer,
            client_id=client_id,
            client_secret=client_secret,
            provider=provider,
            **options,
        )

    def build_profile(
        self, claims: Mapping[str, Any], userinfo: Mapping[str, Any] | None = None
    ) -> OIDCProfile:
        """The standard profile; the username falls back to GitLab's `nickname` claim."""
        profile = super().build_profile(claims, userinfo)
        nickname = profile.raw.get("nickname")
        if profile.username is None and isinstance(nickname, str) and nickname:
            profile = dataclasses.replace(profile, username=nickname)
        return profile
