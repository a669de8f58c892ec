"""DiscordStrategy: whole logins against an emulated Discord over real HTTP."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from oauth_helpers import authorization_redirect as redirect_of
from oauth_helpers import login_with, preset_options, user_of
from provider_emulators import ProviderEmulator, profile_json, query_of

from passport_py.errors import ConfigurationError
from passport_py.strategies.providers.discord import DiscordStrategy

CALLBACK = "/auth/discord/callback"


@pytest.fixture
def discord(emulator: ProviderEmulator) -> ProviderEmulator:
    """The module's emulator (conftest), reset for this test."""
    return emulator


def verify(tokens: Any, profile: Any) -> dict[str, Any]:
    return {**profile_json(profile), "refresh": tokens.refresh_token is not None}


def strategy(discord: ProviderEmulator, **options: Any) -> DiscordStrategy:
    endpoints = {
        "authorization_url": f"{discord.base}/oauth2/authorize",
        "token_url": f"{discord.base}/api/oauth2/token",
        "api_url": f"{discord.base}/api/v10",
    }
    return DiscordStrategy(verify, **preset_options(CALLBACK, **endpoints, **options))


def login(discord: ProviderEmulator, **options: Any) -> httpx.Response:
    return login_with(discord.base, strategy(discord, **options))


# -- the authorization request ---------------------------------------------------------------


def test_name_is_discord() -> None:
    assert DiscordStrategy(verify, client_id="id", client_secret="s").name == "discord"


def test_the_redirect_goes_to_discord_with_space_separated_default_scopes() -> None:
    location = redirect_of(DiscordStrategy(verify, client_id="ABC123", client_secret="s"))
    assert location.startswith("https://discord.com/oauth2/authorize?response_type=code&")
    assert "&scope=identify%20email&" in location
    assert "prompt" not in query_of(location)


def test_prompt_from_the_constructor_is_sent() -> None:
    preset = DiscordStrategy(verify, client_id="ABC123", client_secret="s", prompt="none")
    assert query_of(redirect_of(preset))["prompt"] == ["none"]


def test_prompt_given_to_authenticate_wins() -> None:
    preset = DiscordStrategy(verify, client_id="ABC123", client_secret="s", prompt="none")
    assert query_of(redirect_of(preset, prompt="consent"))["prompt"] == ["consent"]


def test_an_unknown_prompt_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="'none' or 'consent'"):
        DiscordStrategy(verify, client_id="id", client_secret="s", prompt="login")


# -- whole logins ----------------------------------------------------------------------------


def test_a_login_gives_the_normalised_profile(discord: ProviderEmulator) -> None:
    user = user_of(login(discord))
    assert user["provider"] == "discord"
    assert user["id"] == "80351110224678912"
    assert user["issuer"] is None
    assert user["username"] == "nelly"
    assert user["display_name"] == "Nelly"
    assert user["emails"] == [["nelly@discord.test", True, True]]
    assert user["photos"] == [
        "https://cdn.discordapp.com/avatars/80351110224678912/8342729096ea3675442027381ff50dfe.png"
    ]
    assert user["raw"]["discriminator"] == "0"
    assert user["refresh"] is True


def test_the_token_request_authenticates_with_http_basic(discord: ProviderEmulator) -> None:
    user_of(login(discord))
    (token_request,) = discord.paths("/api/oauth2/token")
    assert token_request.headers["authorization"].startswith("Basic ")
    assert "client_secret" not in token_request.form
    assert token_request.form["code_verifier"]


def test_an_animated_avatar_is_a_gif(discord: ProviderEmulator) -> None:
    discord.discord_user["avatar"] = "a_1269e74af4df7417b13759eae50c83dc"
    assert user_of(login(discord))["photos"][0].endswith("/a_1269e74af4df7417b13759eae50c83dc.gif")


def test_without_an_avatar_there_is_no_photo(discord: ProviderEmulator) -> None:
    discord.discord_user["avatar"] = None
    assert user_of(login(discord))["photos"] == []


def test_an_avatar_hash_that_is_not_a_hash_is_left_out(discord: ProviderEmulator) -> None:
    discord.discord_user["avatar"] = "../../evil"
    assert user_of(login(discord))["photos"] == []


def test_without_a_global_name_the_display_name_is_the_username(
    discord: ProviderEmulator,
) -> None:
    discord.discord_user["global_name"] = None
    assert user_of(login(discord))["display_name"] == "nelly"


def test_an_unverified_address_says_so(discord: ProviderEmulator) -> None:
    discord.discord_user["verified"] = False
    assert user_of(login(discord))["emails"] == [["nelly@discord.test", False, True]]


def test_without_the_email_scope_there_are_no_emails(discord: ProviderEmulator) -> None:
    user = user_of(login(discord, scope="identify"))
    assert user["emails"] == []
    assert "email" not in user["raw"]


def test_a_refused_code_is_a_403_and_no_login(
    discord: ProviderEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    discord.token_answer = (400, {"error": "invalid_grant", "error_description": "Invalid code"})
    with caplog.at_level(logging.WARNING):
        assert login(discord).status_code == 403
    assert "invalid_grant" in caplog.text


def test_a_token_error_is_a_502_and_no_login(
    discord: ProviderEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    discord.token_answer = (401, {"error": "invalid_client"})
    with caplog.at_level(logging.WARNING):
        assert login(discord).status_code == 502
    assert "TokenError" in caplog.text and "invalid_client" in caplog.text
    assert discord.paths("/api/v10/users/@me") == []


def test_a_user_without_a_snowflake_id_is_a_502(discord: ProviderEmulator) -> None:
    discord.discord_user["id"] = 80351110224678912  # a number, not Discord's string
    assert login(discord).status_code == 502


def test_a_denied_authorization_is_a_401(discord: ProviderEmulator) -> None:
    discord.deny = True
    assert login(discord).status_code == 401
    assert discord.paths("/api/oauth2/token") == []
