"""GoogleStrategy: whole logins against the bundled OpenID provider standing in for Google.

Covers the reference's G-cases that apply to an OpenID Connect client (G1, G3, G5-G7, G12,
G17-G20); G8-G10 (request_visible_actions, openid.realm, approval_prompt, user_id) are Google+
and OpenID 2.0 leftovers Google no longer honours, and G11/G13-G16 are the Google+ profile API
and its errors (the profile now comes from the validated ID token).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from oauth_helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    authorization_redirect,
    callback_url_for,
    dance,
    make_app,
    make_client,
    make_passport,
    oauth_transport,
    preset_options,
    provider,
    user_of,
)
from oauth_helpers import login_with as login
from provider_emulators import profile_json, query_of

from passport_py.errors import ConfigurationError
from passport_py.strategies.providers.google import GOOGLE_ISSUER, GoogleStrategy
from passport_py.testing.oidc_provider import ProviderUser


@pytest.fixture(scope="module")
def idp() -> Iterator[Any]:
    server = provider(redirect_uris=[callback_url_for("google")])
    server.add_user(ProviderUser(sub="10769150350006150715113082367", username="plain"))
    yield server
    server.stop()


pytestmark = pytest.mark.usefixtures("honest_idp")


def verify(tokens: Any, profile: Any) -> dict[str, Any]:
    return profile_json(profile)


def google(idp: Any, **options: Any) -> GoogleStrategy:
    callback = "/auth/google/callback"
    return GoogleStrategy(verify, **preset_options(callback, issuer=idp.issuer, **options))


def redirect_query(strategy: GoogleStrategy, **start_options: Any) -> dict[str, list[str]]:
    return query_of(authorization_redirect(strategy, **start_options))


# -- configuration and the authorization request -------------------------------------------


def test_name_is_google_and_the_issuer_is_googles() -> None:
    strategy = GoogleStrategy(verify, client_id="id", client_secret="s")
    assert strategy.name == "google"
    assert strategy.issuer == GOOGLE_ISSUER == "https://accounts.google.com"
    assert strategy.discovery_url == "https://accounts.google.com/.well-known/openid-configuration"


def test_googles_parameters_from_authenticate_are_sent(idp: Any) -> None:
    query = redirect_query(
        google(idp),
        access_type="offline",
        prompt="select_account",
        login_hint="john@mail.com",
        include_granted_scopes=True,
    )
    assert query["access_type"] == ["offline"]
    assert query["prompt"] == ["select_account"]
    assert query["login_hint"] == ["john@mail.com"]
    assert query["include_granted_scopes"] == ["true"]
    assert query["scope"] == ["openid profile email"]
    assert "hd" not in query


def test_googles_parameters_from_the_constructor_are_sent(idp: Any) -> None:
    query = redirect_query(google(idp, access_type="online", include_granted_scopes=False))
    assert query["access_type"] == ["online"]
    assert query["include_granted_scopes"] == ["false"]


def test_the_redirect_starts_with_googles_own_parameters(idp: Any) -> None:
    app = make_app(make_passport(google(idp, hd="mycollege.edu")))
    location = make_client(app).get("/auth/google").headers["location"]
    assert location.startswith(f"{idp.issuer}/authorize?hd=mycollege.edu&response_type=code&")


def test_hd_is_sent_as_a_hint(idp: Any) -> None:
    assert redirect_query(google(idp, hd="MyCollege.edu"))["hd"] == ["mycollege.edu"]


def test_hd_given_per_route_is_refused(idp: Any) -> None:
    app = make_app(make_passport(google(idp)), start_options={"hd": "mycollege.edu"})
    with pytest.raises(ConfigurationError, match="enforced on the ID token"):
        make_client(app).get("/auth/google")


def test_an_unknown_access_type_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="'online' or 'offline'"):
        GoogleStrategy(verify, client_id="id", client_secret="s", access_type="forever")


# -- whole logins ----------------------------------------------------------------------------


def test_a_login_gives_the_profile_from_the_id_token(idp: Any) -> None:
    user = user_of(login(idp, google(idp)))
    assert user["provider"] == "google"
    assert user["id"] == "248289761001"
    assert user["issuer"] == idp.issuer
    assert user["display_name"] == "Alice Example"
    assert user["emails"] == [["alice@example.test", True, False]]
    assert user["photos"] == ["https://example.test/alice.png"]


def test_with_only_openid_the_profile_has_just_the_id(idp: Any) -> None:
    user = user_of(login(idp, google(idp, scope=["openid"])))
    assert user["id"] == "248289761001"
    assert (user["display_name"], user["emails"], user["photos"]) == (None, [], [])


def test_an_account_without_a_picture_has_no_photo(idp: Any) -> None:
    user = user_of(login(idp, google(idp), login_hint="plain"))
    assert user["id"] == "10769150350006150715113082367"
    assert user["photos"] == []
    assert user["emails"] == []


def test_an_account_of_the_required_domain_logs_in(idp: Any) -> None:
    idp.faults.id_token_claims = {"hd": "mycollege.edu"}
    user = user_of(login(idp, google(idp, hd="mycollege.edu")))
    assert user["raw"]["hd"] == "mycollege.edu"


def test_an_account_of_another_domain_is_refused_with_403(idp: Any) -> None:
    idp.faults.id_token_claims = {"hd": "other.edu"}
    client = make_client(make_app(make_passport(google(idp, hd="mycollege.edu"))))
    response = dance(client, "/auth/google", idp)
    assert response.status_code == 403
    assert client.get("/me").json() == {"user": None}


def test_a_consumer_account_is_refused_when_a_domain_is_required(idp: Any) -> None:
    # The hint was taken out of the URL; the ID token has no hd claim at all.
    assert login(idp, google(idp, hd="mycollege.edu")).status_code == 403


def test_hd_star_admits_any_workspace_account(idp: Any) -> None:
    idp.faults.id_token_claims = {"hd": "any.example"}
    assert user_of(login(idp, google(idp, hd="*")))["raw"]["hd"] == "any.example"


def test_hd_star_refuses_a_consumer_account(idp: Any) -> None:
    assert login(idp, google(idp, hd="*")).status_code == 403


def test_an_empty_hd_claim_is_not_a_domain(idp: Any) -> None:
    idp.faults.id_token_claims = {"hd": ""}
    assert login(idp, google(idp, hd="*")).status_code == 403


def test_hd_is_checked_before_verify_runs(idp: Any) -> None:
    calls: list[Any] = []

    def counting(tokens: Any, profile: Any) -> dict[str, Any]:
        calls.append(profile)
        return {"id": profile.id}

    strategy = GoogleStrategy(
        counting,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        issuer=idp.issuer,
        callback_url="/auth/google/callback",
        hd="mycollege.edu",
        transport=oauth_transport(),
    )
    assert login(idp, strategy).status_code == 403
    assert calls == []
