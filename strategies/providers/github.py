"""`GitHubStrategy` (name "github"): log in with GitHub or GitHub Enterprise Server.

GitHub console: Settings > Developer settings > OAuth Apps > New OAuth App (an organisation's
apps live under the organisation's settings). "Authorization callback URL" is the absolute
URL of the route that finishes the login, e.g. https://app.example.com/auth/github/callback.
The app page shows the "Client ID"; "Generate a new client secret" shows the secret once.
Scopes are not registered: they are asked for on each login (`scope=`, default "read:user"
and "user:email").

GitHub Enterprise Server: `base_url="https://github.example.com"` (the web endpoints live
there and the API at `base_url + "/api/v3"` unless `api_url=` says otherwise).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from passport_py.errors import ConfigurationError
from passport_py.strategies._oauth2_errors import InternalOAuthError
from passport_py.strategies._oauth2_profile import Profile, ProfileEmail
from passport_py.strategies._oauth2_tokens import AuthMethod, OAuth2Tokens
from passport_py.strategies.oauth2 import OAuth2Strategy, require_https
from passport_py.strategies.providers._common import document, flag, granted_scopes, text

__all__ = ["GITHUB_API_URL", "GITHUB_URL", "GitHubStrategy"]

GITHUB_URL = "https://github.com"
"""GitHub's web origin, where the authorization and token endpoints live."""
GITHUB_API_URL = "https://api.github.com"
"""The base URL of GitHub's REST API, where the profile and e-mail addresses are read."""
DEFAULT_SCOPE = ("read:user", "user:email")
#: Either scope lets the app read every address of the user (`GET /user/emails`).
_EMAIL_SCOPES = frozenset({"user:email", "user"})

_MAX_EMAILS = 100

logger = logging.getLogger("passport_py.strategies.providers.github")


class GitHubStrategy(OAuth2Strategy):
    """GitHub's OAuth App flow with a `Profile`: `id` (GitHub's numeric user id, as a string:
    logins can be renamed), `username` (the login), `display_name`, `photos` (the avatar) and
    `emails`.

    With `user:email` (or `user`) granted, `emails` lists every address from
    `GET /user/emails`, primary first, with GitHub's `verified` flags; otherwise (or when that
    request fails, which is logged and ignored) only the public address of the profile, with
    `verified=None`. On GitHub Enterprise Server the profile's `issuer` is `base_url`, so
    `profile.key` tells its users from github.com's. Every `OAuth2Strategy` option is accepted
    and overrides the preset.
    """

    name = "github"
    #: GitHub answers a wrong or expired code with `bad_verification_code` (and status 200).
    refused_code_errors = frozenset({"invalid_grant", "bad_verification_code"})

    def __init__(
        self,
        verify: Callable[..., Any],
        *,
        client_id: str,
        client_secret: str | None = None,
        base_url: str = GITHUB_URL,
        api_url: str | None = None,
        scope: str | Sequence[str] | None = DEFAULT_SCOPE,
        scope_separator: str = ",",
        user_agent: str = "passport-py",
        token_endpoint_auth_method: AuthMethod = "client_secret_post",
        authorization_url: str | None = None,
        token_url: str | None = None,
        **options: Any,
    ) -> None:
        base = base_url.rstrip("/")
        require_https(base, "base_url")
        if api_url is None:
            api_url = GITHUB_API_URL if base == GITHUB_URL else f"{base}/api/v3"
        require_https(api_url, "api_url")
        if not user_agent:
            raise ConfigurationError("user_agent= must not be empty: GitHub's API requires one")
        # GitHub documents the client id and secret as form fields of the token request.
        super().__init__(
            verify,
            authorization_url=authorization_url or f"{base}/login/oauth/authorize",
            token_url=token_url or f"{base}/login/oauth/access_token",
            client_id=client_id,
            client_secret=client_secret,
            scope=scope,
            scope_separator=scope_separator,
            token_endpoint_auth_method=token_endpoint_auth_method,
            **options,
        )
        self.base_url = base
        self.api_url = api_url.rstrip("/")
        self.user_agent = user_agent

    def api_headers(self) -> dict[str, str]:
        """Headers for GitHub's REST API (which refuses requests without a User-Agent)."""
        return {
            "User-Agent": self.user_agent,
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }

    async def user_profile(self, tokens: OAuth2Tokens) -> Any:
        """`GET /user` (and `GET /user/emails` when granted) as a `Profile`."""
        if self._user_profile is not None:  # a user_profile= hook replaces the preset's
            return await super().user_profile(tokens)
        user = document(
            await self.fetch_json(f"{self.api_url}/user", tokens, headers=self.api_headers()),
            "user profile",
        )
        user_id = user.get("id")
        if isinstance(user_id, bool) or not isinstance(user_id, int) or user_id < 0:
            raise InternalOAuthError("Failed to parse user profile: no id")
        public = text(user.get("email"), 320)
        emails: tuple[ProfileEmail, ...] = (ProfileEmail(public),) if public else ()
        if granted_scopes(tokens, self.scope_string(self.scope)) & _EMAIL_SCOPES:
            listed = await self._emails(tokens)
            if listed is not None:
                emails = _merge_emails(listed, public)
        avatar = text(user.get("avatar_url"), 2048)
        return Profile(
            provider="github",
            id=str(user_id),
            issuer=None if self.base_url == GITHUB_URL else self.base_url,
            username=text(user.get("login"), 100),
            display_name=text(user.get("name"), 1024),
            emails=emails,
            photos=(avatar,) if avatar else (),
            raw=dict(user),
        )

    async def _emails(self, tokens: OAuth2Tokens) -> list[Mapping[str, Any]] | None:
        """`GET /user/emails`; None (logged) when it fails: the login goes on without them."""
        url = f"{self.api_url}/user/emails"
        try:
            listed = await self.fetch_json(
                url, tokens, headers=self.api_headers(), what="user emails"
            )
        except InternalOAuthError as exc:
            logger.warning("GitHub emails left out of the profile: %s", exc.message)
            return None
        if not isinstance(listed, list):
            logger.warning("GitHub emails left out of the profile: %s is not a JSON list", url)
            return None
        # A user has a handful of addresses; a longer list is cut rather than trusted.
        return [entry for entry in listed[:_MAX_EMAILS] if isinstance(entry, Mapping)]


def _merge_emails(listed: list[Mapping[str, Any]], public: str | None) -> tuple[ProfileEmail, ...]:
    """GitHub's address list as `ProfileEmail`s, the primary first; the public address is
    kept (unverified) if the list somehow lacks it."""
    emails: list[ProfileEmail] = []
    for entry in listed:
        value = text(entry.get("email"), 320)
        if value is not None and all(e.value != value for e in emails):
            emails.append(
                ProfileEmail(value, flag(entry.get("verified")), entry.get("primary") is True)
            )
    if public is not None and all(e.value != public for e in emails):
        emails.append(ProfileEmail(public))
    emails.sort(key=lambda e: not e.primary)
    return tuple(emails)
