"""GitHubStrategy: whole logins against an emulated GitHub over real HTTP (GH1-GH14)."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from oauth_helpers import (
    CLIENT_SECRET,
    dance,
    login_with,
    make_app,
    make_client,
    make_passport,
    preset_options,
    user_of,
)
from provider_emulators import BAD_CODE, ProviderEmulator, profile_json, query_of

from passport_py.errors import ConfigurationError
from passport_py.strategies.providers.github import GitHubStrategy

CALLBACK = "/auth/github/callback"


@pytest.fixture
def github(emulator: ProviderEmulator) -> ProviderEmulator:
    """The module's emulator (conftest), reset for this test."""
    return emulator


def verify(tokens: Any, profile: Any) -> dict[str, Any]:
    return {**profile_json(profile), "granted": tokens.scope}


def strategy(github: ProviderEmulator, **options: Any) -> GitHubStrategy:
    chosen = options.pop("verify", verify)
    return GitHubStrategy(chosen, **preset_options(CALLBACK, base_url=github.base, **options))


def login(github: ProviderEmulator, **options: Any) -> httpx.Response:
    """A whole login through a Starlette app; the callback's answer."""
    return login_with(github.base, strategy(github, **options))


# -- configuration and the authorization request -------------------------------------------


def test_name_is_github() -> None:
    assert GitHubStrategy(verify, client_id="id", client_secret="s").name == "github"


def test_the_redirect_goes_to_github_with_comma_separated_default_scopes() -> None:
    app = make_app(
        make_passport(GitHubStrategy(verify, client_id="ABC123", client_secret="s")),
        success_redirect=None,
    )
    response = make_client(app).get("/auth/github")
    location = response.headers["location"]
    assert response.status_code == 302
    assert location.startswith("https://github.com/login/oauth/authorize?response_type=code&")
    assert "&scope=read%3Auser%2Cuser%3Aemail&" in location
    query = query_of(location)
    assert query["client_id"] == ["ABC123"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["state"][0]) == 43


def test_scope_given_to_authenticate_replaces_the_default() -> None:
    app = make_app(
        make_passport(GitHubStrategy(verify, client_id="ABC123", client_secret="s")),
        start_options={"scope": ["repo", "read:org"]},
    )
    location = make_client(app).get("/auth/github").headers["location"]
    assert query_of(location)["scope"] == ["repo,read:org"]


def test_enterprise_base_url_moves_the_web_endpoints_and_the_api() -> None:
    ghe = GitHubStrategy(
        verify, client_id="id", client_secret="s", base_url="https://github.example.com/"
    )
    assert ghe.authorization_url == "https://github.example.com/login/oauth/authorize"
    assert ghe.token_url == "https://github.example.com/login/oauth/access_token"
    assert ghe.api_url == "https://github.example.com/api/v3"
    assert GitHubStrategy(verify, client_id="id", client_secret="s").api_url == (
        "https://api.github.com"
    )


def test_an_http_base_url_off_loopback_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="base_url"):
        GitHubStrategy(verify, client_id="id", client_secret="s", base_url="http://ghe.corp")


# -- whole logins ----------------------------------------------------------------------------


def test_a_login_gives_the_normalised_profile(github: ProviderEmulator) -> None:
    user = user_of(login(github))
    assert user["provider"] == "github"
    assert user["id"] == "1"
    assert user["username"] == "octocat"
    assert user["display_name"] == "The Octocat"
    assert user["photos"] == ["https://avatars.githubusercontent.com/u/1?v=4"]
    assert user["raw"]["html_url"] == "https://github.com/octocat"
    assert user["granted"] == "read:user,user:email"


def test_the_client_secret_goes_in_the_token_request_body(github: ProviderEmulator) -> None:
    user_of(login(github))
    (token_request,) = github.paths("/login/oauth/access_token")
    assert token_request.form["client_secret"] == CLIENT_SECRET
    assert "authorization" not in token_request.headers
    assert token_request.form["code_verifier"]


def test_api_requests_carry_a_user_agent_and_the_token(github: ProviderEmulator) -> None:
    user_of(login(github, user_agent="my-app/1.0"))
    for path in ("/api/v3/user", "/api/v3/user/emails"):
        (request,) = github.paths(path)
        assert request.headers["user-agent"] == "my-app/1.0"
        assert request.headers["authorization"].startswith("Bearer ")
        assert request.headers["accept"] == "application/vnd.github+json"


def test_an_enterprise_profile_names_its_server_as_issuer(github: ProviderEmulator) -> None:
    user = user_of(login(github))
    assert user["issuer"] == github.base  # not github.com: its ids are another namespace


def test_emails_are_merged_with_primary_first_and_verified_flags(
    github: ProviderEmulator,
) -> None:
    user = user_of(login(github))
    assert user["emails"] == [
        ["octocat@github.test", True, True],
        ["octo@work.test", False, False],
    ]


def test_without_a_public_email_the_addresses_come_from_the_email_list(
    github: ProviderEmulator,
) -> None:
    github.github_user["email"] = None
    user = user_of(login(github))
    assert user["emails"][0] == ["octocat@github.test", True, True]


def test_without_any_email_the_profile_has_none(github: ProviderEmulator) -> None:
    github.github_user["email"] = None
    github.github_emails.clear()
    assert user_of(login(github))["emails"] == []


def test_without_user_email_granted_the_email_list_is_not_requested(
    github: ProviderEmulator,
) -> None:
    user = user_of(login(github, scope=["read:user"]))
    assert github.paths("/api/v3/user/emails") == []
    assert user["emails"] == [["octocat@github.test", None, False]]


def test_the_granted_scope_decides_not_the_requested_one(github: ProviderEmulator) -> None:
    github.granted_scope = "read:user"  # the user's org policy trimmed the grant
    user = user_of(login(github))
    assert github.paths("/api/v3/user/emails") == []
    assert user["emails"] == [["octocat@github.test", None, False]]


def test_a_failing_email_list_is_logged_and_the_login_goes_on(
    github: ProviderEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    github.emails_answer = (500, b"<html>Whoa there!</html>")
    with caplog.at_level(logging.WARNING, "passport_py.strategies.providers.github"):
        user = user_of(login(github))
    assert user["emails"] == [["octocat@github.test", None, False]]
    assert "GitHub emails left out" in caplog.text
    assert "status: 500" in caplog.text


def test_an_email_list_that_is_not_a_list_is_ignored(github: ProviderEmulator) -> None:
    github.emails_answer = (200, {"message": "surprise"})
    assert user_of(login(github))["emails"] == [["octocat@github.test", None, False]]


def test_a_bad_code_answered_with_200_and_an_error_is_a_refused_code(
    github: ProviderEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    """GitHub's `bad_verification_code` is its `invalid_grant`: a 403 failure, logged."""
    github.token_answer = (200, BAD_CODE)
    with caplog.at_level(logging.WARNING):
        response = login(github)
    assert response.status_code == 403
    assert "oauth2_code_refused: GitHubStrategy" in caplog.text
    assert "bad_verification_code" in caplog.text
    assert "The code passed is incorrect or expired." in caplog.text
    assert github.paths("/api/v3/user") == []


def test_the_same_error_with_status_400_is_a_refused_code_too(github: ProviderEmulator) -> None:
    github.token_answer = (400, BAD_CODE)
    assert login(github).status_code == 403


def test_wrong_client_credentials_are_a_token_error(
    github: ProviderEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    """GitHub's other token errors (a wrong secret, a redirect URI it does not know) mean the
    app is misconfigured: 502 and a TokenError warning."""
    github.token_answer = (200, {"error": "incorrect_client_credentials"})
    with caplog.at_level(logging.WARNING):
        assert login(github).status_code == 502
    assert "TokenError" in caplog.text and "incorrect_client_credentials" in caplog.text


def test_a_failed_user_request_is_a_502_and_no_login(github: ProviderEmulator) -> None:
    client = make_client(make_app(make_passport(strategy(github, api_url=f"{github.base}/gone"))))
    assert dance(client, "/auth/github", github.base).status_code == 502
    assert [r.path for r in github.requests if "/gone/" in r.path] == ["/gone/user"]
    assert client.get("/me").json() == {"user": None}


def test_an_empty_user_agent_is_refused_at_configuration() -> None:
    with pytest.raises(ConfigurationError, match="user_agent"):
        GitHubStrategy(verify, client_id="id", client_secret="s", user_agent="")


def test_a_user_document_without_an_id_is_a_502(github: ProviderEmulator) -> None:
    del github.github_user["id"]
    assert login(github).status_code == 502


def test_skip_user_profile_still_works_on_the_preset(github: ProviderEmulator) -> None:
    def keep_tokens(tokens: Any, profile: Any) -> dict[str, Any]:
        return {"profile": profile, "scope": tokens.scope}

    response = login(github, verify=keep_tokens, skip_user_profile=True)
    assert response.json()["user"] == {"profile": None, "scope": "read:user,user:email"}
    assert github.paths("/api/v3/user") == []


def test_a_user_profile_hook_replaces_the_preset_profile(github: ProviderEmulator) -> None:
    def keep_profile(tokens: Any, profile: Any) -> dict[str, Any]:
        return {"profile": profile}

    response = login(github, verify=keep_profile, user_profile=lambda tokens: "custom")
    assert response.json()["user"] == {"profile": "custom"}
    assert github.paths("/api/v3/user") == []


def test_a_denied_authorization_is_a_401_with_no_token_request(github: ProviderEmulator) -> None:
    github.deny = True
    assert login(github).status_code == 401
    assert github.paths("/login/oauth/access_token") == []
