"""GitLabStrategy and GenericOIDCStrategy: whole logins against the bundled OpenID provider
standing in for a self-managed GitLab, and for "any other provider"."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from oauth_helpers import callback_url_for, preset_options, provider, user_of
from oauth_helpers import login_with as login
from provider_emulators import profile_json

from passport_py.errors import ConfigurationError
from passport_py.strategies.providers.generic import GenericOIDCStrategy
from passport_py.strategies.providers.gitlab import GITLAB_ISSUER, GitLabStrategy
from passport_py.testing.oidc_provider import REMOVE


@pytest.fixture(scope="module")
def idp() -> Iterator[Any]:
    server = provider(redirect_uris=[callback_url_for(n) for n in ("gitlab", "keycloak")])
    yield server
    server.stop()


pytestmark = pytest.mark.usefixtures("honest_idp")


def verify(tokens: Any, profile: Any) -> dict[str, Any]:
    return profile_json(profile)


def options_for(idp: Any, name: str, **options: Any) -> dict[str, Any]:
    return preset_options(f"/auth/{name}/callback", issuer=idp.issuer, **options)


# -- GitLab ----------------------------------------------------------------------------------


def test_gitlab_is_named_gitlab_with_gitlab_com_as_issuer() -> None:
    strategy = GitLabStrategy(verify, client_id="id", client_secret="s")
    assert (strategy.name, strategy.issuer) == ("gitlab", GITLAB_ISSUER)
    assert strategy.scope_string(strategy.scope) == "openid profile email"


def test_a_gitlab_login_gives_the_normalised_profile(idp: Any) -> None:
    user = user_of(login(idp, GitLabStrategy(verify, **options_for(idp, "gitlab"))))
    assert user["provider"] == "gitlab"
    assert user["issuer"] == idp.issuer
    assert user["id"] == "248289761001"
    assert user["username"] == "alice"
    assert user["emails"] == [["alice@example.test", True, False]]


def test_gitlabs_nickname_is_the_username_when_preferred_username_is_missing(idp: Any) -> None:
    idp.faults.id_token_claims = {"preferred_username": REMOVE, "nickname": "alice.gl"}
    user = user_of(login(idp, GitLabStrategy(verify, **options_for(idp, "gitlab"))))
    assert user["username"] == "alice.gl"


def test_an_unverified_gitlab_address_says_so(idp: Any) -> None:
    idp.faults.id_token_claims = {"email_verified": False}
    user = user_of(login(idp, GitLabStrategy(verify, **options_for(idp, "gitlab"))))
    assert user["emails"] == [["alice@example.test", False, False]]


# -- any other provider ------------------------------------------------------------------------


def test_the_generic_preset_needs_a_name() -> None:
    with pytest.raises(TypeError, match="'name'"):
        GenericOIDCStrategy(  # type: ignore[call-arg]
            verify, issuer="https://id.example.com", client_id="id", client_secret="s"
        )
    with pytest.raises(ConfigurationError, match="name="):
        GenericOIDCStrategy(
            verify, name="", issuer="https://id.example.com", client_id="id", client_secret="s"
        )


def test_the_generic_preset_names_the_provider_after_the_strategy(idp: Any) -> None:
    strategy = GenericOIDCStrategy(verify, name="keycloak", **options_for(idp, "keycloak"))
    user = user_of(login(idp, strategy))
    assert strategy.name == "keycloak"
    assert (user["provider"], user["issuer"], user["id"]) == (
        "keycloak",
        idp.issuer,
        "248289761001",
    )


def test_the_generic_preset_reads_userinfo_by_default(idp: Any) -> None:
    # This provider puts the profile in userinfo only (as many do): the ID token has just sub.
    idp.faults.id_token_claims = {
        claim: REMOVE for claim in ("name", "email", "email_verified", "preferred_username")
    }
    strategy = GenericOIDCStrategy(verify, name="keycloak", **options_for(idp, "keycloak"))
    user = user_of(login(idp, strategy))
    assert user["display_name"] == "Alice Example"
    assert user["emails"] == [["alice@example.test", True, False]]
    assert any(path == "/userinfo" for _, path in idp.requests)


def test_the_generic_preset_reads_the_username_from_the_claim_asked_for(idp: Any) -> None:
    idp.faults.userinfo_claims = {"nickname": "ally"}
    strategy = GenericOIDCStrategy(
        verify, name="keycloak", username_claim="nickname", **options_for(idp, "keycloak")
    )
    assert user_of(login(idp, strategy))["username"] == "ally"


def test_the_generic_preset_can_skip_userinfo(idp: Any) -> None:
    strategy = GenericOIDCStrategy(
        verify, name="keycloak", userinfo=False, **options_for(idp, "keycloak")
    )
    assert user_of(login(idp, strategy))["username"] == "alice"
    assert not any(path == "/userinfo" for _, path in idp.requests)
