"""`DiscordStrategy` (name "discord"): log in with Discord.

Discord console: https://discord.com/developers/applications > New Application > OAuth2.
"Redirects": add the absolute URL of the route that finishes the login, e.g.
https://app.example.com/auth/discord/callback (matched exactly). The same page shows the
"Client ID" and, under "Client Secret", "Reset Secret" shows the secret once. Scopes are asked
for on each login (`scope=`, default "identify" and "email"); no bot permissions are needed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from passport_py.errors import ConfigurationError
from passport_py.options import AuthenticateOptions
from passport_py.strategies._oauth2_errors import InternalOAuthError
from passport_py.strategies._oauth2_profile import Profile, ProfileEmail
from passport_py.strategies._oauth2_tokens import OAuth2Tokens
from passport_py.strategies.oauth2 import OAuth2Strategy, require_https
from passport_py.strategies.providers._common import document, flag, text

__all__ = ["DISCORD_API_URL", "DISCORD_CDN_URL", "DiscordStrategy"]

AUTHORIZATION_URL = "https://discord.com/oauth2/authorize"
TOKEN_URL = "https://discord.com/api/oauth2/token"
DISCORD_API_URL = "https://discord.com/api/v10"
"""The base URL of Discord's REST API (versioned), where the profile is read."""
DISCORD_CDN_URL = "https://cdn.discordapp.com"
"""The base URL of Discord's CDN, where avatar images are served."""
DEFAULT_SCOPE = ("identify", "email")
PROMPTS = ("none", "consent")

_SNOWFLAKE = re.compile(r"[0-9]{1,20}")
_AVATAR_HASH = re.compile(r"(a_)?[0-9A-Za-z]{1,64}")


class DiscordStrategy(OAuth2Strategy):
    """Discord's OAuth2 flow with a `Profile` from `GET /users/@me`: `id` (the user's
    snowflake), `username`, `display_name` (`global_name`, else the username), `emails` (the
    address, with Discord's `verified` flag, when `email` was granted) and `photos` (the
    avatar on Discord's CDN, when the user set one).

    `prompt="none"` skips the consent screen for a user who already authorized the app;
    `"consent"` always shows it (also per login: `authenticate("discord", prompt=...)`).
    Every `OAuth2Strategy` option is accepted and overrides the preset.
    """

    name = "discord"

    def __init__(
        self,
        verify: Callable[..., Any],
        *,
        client_id: str,
        client_secret: str | None = None,
        scope: str | Sequence[str] | None = DEFAULT_SCOPE,
        prompt: str | None = None,
        authorization_url: str = AUTHORIZATION_URL,
        token_url: str = TOKEN_URL,
        api_url: str = DISCORD_API_URL,
        cdn_url: str = DISCORD_CDN_URL,
        **options: Any,
    ) -> None:
        _check_prompt(prompt)
        require_https(api_url, "api_url")
        super().__init__(
            verify,
            authorization_url=authorization_url,
            token_url=token_url,
            client_id=client_id,
            client_secret=client_secret,
            scope=scope,
            **options,
        )
        self.prompt = prompt
        self.api_url = api_url.rstrip("/")
        self.cdn_url = cdn_url.rstrip("/")

    def authorization_params(self, options: AuthenticateOptions) -> Mapping[str, str]:
        """`prompt` (from `authenticate()` or the constructor) after any hook's parameters."""
        params = dict(super().authorization_params(options))
        prompt = options.get("prompt", self.prompt)
        _check_prompt(prompt)
        if prompt is not None:
            params["prompt"] = prompt
        return params

    async def user_profile(self, tokens: OAuth2Tokens) -> Any:
        """`GET /users/@me` as a `Profile`."""
        if self._user_profile is not None:  # a user_profile= hook replaces the preset's
            return await super().user_profile(tokens)
        user = document(await self.fetch_json(f"{self.api_url}/users/@me", tokens), "user profile")
        user_id = user.get("id")
        if not isinstance(user_id, str) or not _SNOWFLAKE.fullmatch(user_id):
            raise InternalOAuthError("Failed to parse user profile: no id")
        username = text(user.get("username"), 100)
        email = text(user.get("email"), 320)
        return Profile(
            provider="discord",
            id=user_id,
            username=username,
            display_name=text(user.get("global_name"), 100) or username,
            emails=(ProfileEmail(email, flag(user.get("verified")), primary=True),)
            if email
            else (),
            photos=self._avatar(user_id, user.get("avatar")),
            raw=dict(user),
        )

    def _avatar(self, user_id: str, avatar: Any) -> tuple[str, ...]:
        # Discord gives a hash; the image lives on its CDN ("a_" marks an animated one).
        if not isinstance(avatar, str) or not _AVATAR_HASH.fullmatch(avatar):
            return ()
        extension = "gif" if avatar.startswith("a_") else "png"
        return (f"{self.cdn_url}/avatars/{user_id}/{avatar}.{extension}",)


def _check_prompt(prompt: Any) -> None:
    if prompt is not None and prompt not in PROMPTS:
        raise ConfigurationError(f"prompt={prompt!r}: Discord accepts 'none' or 'consent'")
