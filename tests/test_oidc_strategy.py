"""OpenIDConnectStrategy: configuration, the authorization request, a whole login, discovery,
userinfo, and how many requests a login costs. ID token attacks are in test_oidc_id_token.py,
RFC 9207's mix-up defence in test_oidc_mixup.py.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from flask import Flask
from oauth_fixtures import hits, token_requests
from oauth_helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    Recorder,
    callback_url_for,
    client_for,
    follow_provider,
    make_passport,
    query_params,
    run_dance,
)
from oauth_helpers import session_of as session
from oidc_helpers import QuickRetry, attempt, messages, oidc_strategy
from redis_helpers import unused_port

from passport_py.adapters.flask import FlaskPassport, authenticate, current_user
from passport_py.errors import ConfigurationError
from passport_py.strategies.oauth2 import OAuth2Tokens
from passport_py.strategies.oidc import USERINFO_SUB, OIDCProfile, OpenIDConnectStrategy
from passport_py.testing.oidc_provider import REMOVE, OIDCProvider

SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # 256 bits of base64url


pytestmark = pytest.mark.usefixtures("honest_idp")


def strategy_at(issuer: str, **options: Any) -> OpenIDConnectStrategy:
    options.setdefault("client_secret", CLIENT_SECRET)
    return OpenIDConnectStrategy(Recorder(), issuer=issuer, client_id=CLIENT_ID, **options)


def start(client: Any, path: str = "/auth/oidc") -> dict[str, str]:
    """GET the start route: the authorization request's parameters."""
    response = client.get(path)
    assert response.status_code == 302, response.text
    return query_params(response.headers["location"])


# -- configuration ----------------------------------------------------------------------------


def test_name_is_openidconnect() -> None:
    assert strategy_at("https://idp.test").name == "openidconnect"


def test_constructing_fetches_nothing() -> None:
    """Discovery is lazy: a provider that is down does not stop the app from starting."""
    strategy_at(f"http://127.0.0.1:{unused_port()}")


@pytest.mark.parametrize(
    "issuer", ["", "http://idp.test", "idp.test", "https://idp.test?tenant=1", "https://idp.test#x"]
)
def test_the_issuer_must_be_an_https_url(issuer: str) -> None:
    with pytest.raises(ConfigurationError):
        strategy_at(issuer)


@pytest.mark.parametrize(
    "algorithms",
    [["none"], ["None"], ["RS256", "none"], [], "RS256", ["XS256"], ["HS256", "RS256"]],
    ids=["none", "None", "with-none", "empty", "a-string", "unknown", "hmac-and-rsa"],
)
def test_unsafe_algorithm_lists_are_refused(algorithms: Any) -> None:
    secret = "s" * 64
    with pytest.raises(ConfigurationError):
        strategy_at("https://idp.test", client_secret=secret, id_token_signing_algs=algorithms)


def test_hmac_algorithms_need_a_long_client_secret() -> None:
    with pytest.raises(ConfigurationError, match="at least 32 bytes"):
        strategy_at("https://idp.test", client_secret="short", id_token_signing_algs=["HS256"])
    strategy_at("https://idp.test", client_secret="s" * 32, id_token_signing_algs=["HS256"])


@pytest.mark.parametrize("max_age", [-1, True, 1.5, "600"])
def test_max_age_is_whole_seconds(max_age: Any) -> None:
    with pytest.raises(ConfigurationError):
        strategy_at("https://idp.test", max_age=max_age)


# -- the authorization request -----------------------------------------------------------------


def test_the_authorization_request(idp: OIDCProvider) -> None:
    """Core 3.1.2.1: code flow, openid scope, a nonce; PKCE and state from OAuth2Strategy;
    nothing optional unless configured."""
    params = start(client_for(oidc_strategy(idp)))
    assert params["response_type"] == "code"
    assert params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == callback_url_for("oidc")
    assert params["scope"] == "openid profile email"
    assert params["code_challenge_method"] == "S256"
    assert SECRET_RE.match(params["nonce"]) and SECRET_RE.match(params["state"])
    assert params["nonce"] != params["state"]
    assert not {"prompt", "max_age", "login_hint", "acr_values"} & set(params)


def test_the_nonce_is_kept_server_side_in_the_transaction(idp: OIDCProvider) -> None:
    client = client_for(oidc_strategy(idp))
    params = start(client)
    transaction = session(client)[f"oidc:{idp.issuer}"][params["state"]]
    assert transaction["nonce"] == params["nonce"]
    assert transaction["issuer"] == idp.issuer


def test_every_request_gets_a_new_nonce(idp: OIDCProvider) -> None:
    client = client_for(oidc_strategy(idp))
    nonces = {start(client)["nonce"] for _ in range(50)}
    assert len(nonces) == 50


@pytest.mark.parametrize(
    ("scope", "route_scope", "expected"),
    [
        ("profile", None, "openid profile"),
        (["email", "openid", "profile"], None, "openid email profile"),
        ("openid", None, "openid"),
        ((), None, "openid"),
        ("openid profile", ["email"], "openid email"),
    ],
)
def test_the_scope_always_starts_with_openid(
    idp: OIDCProvider, scope: Any, route_scope: Any, expected: str
) -> None:
    options = {"start_options": {"scope": route_scope}} if route_scope else {}
    params = start(client_for(oidc_strategy(idp, scope=scope), **options))
    assert params["scope"] == expected


def test_prompt_login_hint_acr_values_and_max_age(idp: OIDCProvider) -> None:
    strategy = oidc_strategy(
        idp, prompt="login", login_hint="alice", acr_values=["urn:a", "urn:b"], max_age=600
    )
    params = start(client_for(strategy))
    assert params["prompt"] == "login"
    assert params["login_hint"] == "alice"
    assert params["acr_values"] == "urn:a urn:b"
    assert params["max_age"] == "600"


def test_route_options_override_the_configured_ones(idp: OIDCProvider) -> None:
    strategy = oidc_strategy(idp, prompt="login", max_age=600)
    route = {"prompt": "consent", "max_age": 0, "login_hint": "bob"}
    params = start(client_for(strategy, start_options=route))
    assert (params["prompt"], params["max_age"], params["login_hint"]) == ("consent", "0", "bob")


def test_request_parameters_never_reach_the_authorization_request(idp: OIDCProvider) -> None:
    """ASVS 10.2.3: the query of the start route is not the app's configuration."""
    client = client_for(oidc_strategy(idp))
    response = client.get(
        "/auth/oidc",
        params={
            "scope": "admin",
            "prompt": "none",
            "max_age": "0",
            "nonce": "attacker",
            "redirect_uri": "https://evil.test",
            "response_type": "token",
        },
    )
    params = query_params(response.headers["location"])
    assert params["scope"] == "openid profile email"
    assert params["response_type"] == "code"
    assert params["redirect_uri"] == callback_url_for("oidc")
    assert params["nonce"] != "attacker"
    assert "prompt" not in params and "max_age" not in params


# -- a whole login ----------------------------------------------------------------------------


def test_login_with_the_provider(idp: OIDCProvider) -> None:
    verify = Recorder({"id": "alice"})
    client = client_for(oidc_strategy(idp, verify))
    dance = run_dance(client, "/auth/oidc", idp)
    assert dance.response.status_code == 302
    assert dance.response.headers["location"] == "/"
    assert client.get("/me").json() == {"user": {"id": "alice"}}
    assert f"oidc:{idp.issuer}" not in session(client)  # the transaction is used up
    assert "iss=http%3A%2F%2F127.0.0.1%3A" in dance.callback_url  # RFC 9207, encoded once
    tokens, profile = verify.calls[0]
    assert isinstance(tokens, OAuth2Tokens) and tokens.access_token and tokens.id_token
    assert isinstance(profile, OIDCProfile)
    assert profile.key == (idp.issuer, "248289761001")
    assert (profile.provider, profile.id, profile.issuer) == ("oidc", "248289761001", idp.issuer)
    assert (profile.username, profile.display_name) == ("alice", "Alice Example")
    assert profile.email == profile.verified_email == "alice@example.test"
    assert profile.photos == ("https://example.test/alice.png",)
    assert profile.claims["nonce"] == dance.authorization_url.split("nonce=")[1].split("&")[0]
    assert profile.raw == profile.claims and profile.userinfo is None


def test_provider_names_the_profile_provider(idp: OIDCProvider) -> None:
    verify = Recorder()
    attempt(client_for(oidc_strategy(idp, verify, provider="dev")), idp)
    assert verify.profile.provider == "dev"


@pytest.mark.parametrize("flag", ["true", 1, REMOVE])
def test_an_email_is_verified_only_by_the_boolean_true(idp: OIDCProvider, flag: Any) -> None:
    """ASVS 10.5.2: the string "true" is not a yes."""
    idp.faults.id_token_claims = {"email_verified": flag}
    verify = Recorder()
    attempt(client_for(oidc_strategy(idp, verify)), idp)
    assert verify.profile.email == "alice@example.test"
    assert verify.profile.verified_email is None


def test_pass_request_gives_verify_the_request_first(idp: OIDCProvider) -> None:
    verify = Recorder()
    attempt(client_for(oidc_strategy(idp, verify, pass_request=True)), idp)
    request, _tokens, profile = verify.calls[0]
    assert request.path == "/auth/oidc/callback"
    assert isinstance(profile, OIDCProfile)


def test_login_in_a_sync_framework_needs_no_event_loop(
    idp: OIDCProvider, loops_created: list[object]
) -> None:
    """Flask: discovery, token exchange and keys go through the transport's sync path."""
    app = Flask(__name__)
    app.secret_key = "oidc-tests-flask-secret"
    FlaskPassport(app, make_passport(oidc_strategy(idp)))

    @app.route("/auth/oidc/callback")
    @authenticate("oidc")
    def callback() -> Any:
        return {"key": current_user["key"]}

    client = app.test_client()
    start = client.get("/auth/oidc/callback")
    url, _, _, _ = follow_provider(start.headers["Location"], provider_base=idp.issuer)
    response = client.get(url.removeprefix("http://testserver"))
    assert response.status_code == 200, response.text
    assert response.json == {"key": [idp.issuer, "248289761001"]}
    assert loops_created == []


# -- discovery and round trips -----------------------------------------------------------------


def test_metadata_and_keys_are_fetched_once(idp: OIDCProvider) -> None:
    strategy = oidc_strategy(idp)
    for _ in range(3):
        assert attempt(client_for(strategy), idp).status_code == 302
    assert hits(idp, "GET", "/.well-known/openid-configuration") == 1
    assert hits(idp, "GET", "/jwks") == 1


def outbound(idp: OIDCProvider) -> list[tuple[str, str]]:
    """The requests the app made to `idp` (the browser's /authorize hops left out)."""
    return [request for request in idp.requests if request[1] != "/authorize"]


def test_a_callback_makes_one_round_trip_once_metadata_and_keys_are_cached(
    idp: OIDCProvider,
) -> None:
    strategy = oidc_strategy(idp)
    attempt(client_for(strategy), idp)
    idp.clear_requests()
    client = client_for(strategy)
    assert attempt(client, idp).status_code == 302
    assert outbound(idp) == [("POST", "/token")]


def test_with_userinfo_a_callback_makes_two_round_trips(idp: OIDCProvider) -> None:
    strategy = oidc_strategy(idp, userinfo=True)
    attempt(client_for(strategy), idp)
    idp.clear_requests()
    assert attempt(client_for(strategy), idp).status_code == 302
    assert outbound(idp) == [("POST", "/token"), ("GET", "/userinfo")]


@pytest.mark.parametrize(
    "named",
    [lambda base: base + "/", lambda base: base.upper(), lambda base: "https://evil.test"],
    ids=["trailing-slash", "upper-case", "another"],
)
def test_metadata_naming_another_issuer_is_a_502_without_redirect(
    idp: OIDCProvider, named: Any
) -> None:
    """ASVS 10.5.3: and it is not kept: once the failure is no longer remembered (for
    min(jwks_cooldown, 5) seconds) and the provider is right, logins work."""
    idp.faults.discovery = {"issuer": named(idp.issuer)}
    strategy = oidc_strategy(idp, cls=QuickRetry)
    client = client_for(strategy)
    response = client.get("/auth/oidc")
    assert response.status_code == 502
    assert "location" not in response.headers
    assert f"oidc:{idp.issuer}" not in session(client)
    idp.reset_faults()
    time.sleep(QuickRetry.jwks_cooldown + 0.05)
    assert attempt(client_for(strategy), idp).status_code == 302


@pytest.mark.parametrize("endpoint", ["authorization_endpoint", "token_endpoint", "jwks_uri"])
def test_metadata_with_a_plain_http_endpoint_is_a_502(idp: OIDCProvider, endpoint: str) -> None:
    idp.faults.discovery = {endpoint: "http://idp.example/x"}
    assert client_for(oidc_strategy(idp)).get("/auth/oidc").status_code == 502


@pytest.mark.parametrize(
    "answer",
    [(500, "text/plain", b"down"), (200, "text/html", b"<html>hello</html>")],
    ids=["500", "html"],
)
def test_unusable_metadata_is_a_502(idp: OIDCProvider, answer: Any) -> None:
    idp.faults.responses["/.well-known/openid-configuration"] = answer
    assert client_for(oidc_strategy(idp)).get("/auth/oidc").status_code == 502


def test_an_unreachable_provider_is_a_502_on_the_first_login() -> None:
    strategy = strategy_at(f"http://127.0.0.1:{unused_port()}", timeout=2.0)
    assert client_for(strategy).get("/auth/openidconnect").status_code == 502


def test_metadata_without_jwks_uri_is_a_502(idp: OIDCProvider) -> None:
    idp.faults.discovery = {"jwks_uri": REMOVE}
    assert client_for(oidc_strategy(idp)).get("/auth/oidc").status_code == 502


# -- userinfo ---------------------------------------------------------------------------------


def test_userinfo_is_merged_into_the_profile(idp: OIDCProvider) -> None:
    idp.faults.userinfo_claims = {"name": "Alice Renamed", "iss": "https://evil.test"}
    verify = Recorder()
    assert attempt(client_for(oidc_strategy(idp, verify, userinfo=True)), idp).status_code == 302
    profile = verify.profile
    assert profile.display_name == "Alice Renamed"
    assert profile.claims["name"] == "Alice Example"
    assert profile.userinfo["name"] == "Alice Renamed"
    assert profile.raw["iss"] == profile.issuer == idp.issuer  # token claims are not overridden


def test_userinfo_about_another_subject_is_refused(idp: OIDCProvider) -> None:
    """Core 5.3.2, OIDF oidcc-client-test-userinfo-invalid-sub."""
    idp.faults.userinfo_claims = {"sub": "someone-else"}
    client = client_for(oidc_strategy(idp, userinfo=True))
    response = attempt(client, idp)
    assert response.status_code == 403
    assert messages(client) == [USERINFO_SUB]
    assert client.get("/me").json() == {"user": None}


@pytest.mark.parametrize(
    "answer",
    [(500, "text/plain", b"down"), (200, "text/html", b"<html>me</html>"), (200, "a/json", b"[]")],
    ids=["500", "html", "array"],
)
def test_unusable_userinfo_is_a_502(idp: OIDCProvider, answer: Any) -> None:
    idp.faults.responses["/userinfo"] = answer
    client = client_for(oidc_strategy(idp, userinfo=True))
    assert attempt(client, idp).status_code == 502
    assert client.get("/me").json() == {"user": None}
    assert token_requests(idp) == 1


def test_without_userinfo_the_endpoint_is_not_called(idp: OIDCProvider) -> None:
    attempt(client_for(oidc_strategy(idp)), idp)
    assert hits(idp, "GET", "/userinfo") == 0


def test_userinfo_needs_the_endpoint_in_the_metadata(idp: OIDCProvider) -> None:
    idp.faults.discovery = {"userinfo_endpoint": REMOVE}
    client = client_for(oidc_strategy(idp, userinfo=True))
    assert attempt(client, idp).status_code == 502


def test_the_transport_is_httpx2_by_default() -> None:
    transport = strategy_at("https://idp.test").transport
    assert type(transport).__module__ == "passport_py.httpx2_transport"
