"""OpenIDConnectStrategy: ID token validation (OpenID Connect Core 3.1.3.7), attack by attack.

The dances run against the bundled provider with its faults turned on: the provider signs the
tampered token itself and serves it from its token endpoint, the way a compromised or
confused provider (or a token swapped in transit) would. Every refusal is a 403 with its
message, nobody logged in, never a 500. The last part checks the validator directly with
tokens the provider signs on request, for the variants of security.md P0 4-6. The signing
keys (rotation, unknown and unusable keys) are in test_oidc_keys.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from oauth_fixtures import HS_CLIENT_ID, HS_SECRET, hits
from oauth_helpers import CLIENT_ID, Recorder, client_for
from oidc_helpers import accepted, attempt, now, oidc_strategy, refused

from passport_py._async import run_sync
from passport_py.strategies.oidc import IdTokenRejected, Messages, OpenIDConnectStrategy
from passport_py.testing.oidc_provider import REMOVE, OIDCProvider

pytestmark = pytest.mark.usefixtures("honest_idp")


# -- the claims -----------------------------------------------------------------------------


def test_a_token_for_another_client_is_refused(idp: OIDCProvider) -> None:
    idp.faults.id_token_claims = {"aud": "another-client", "azp": REMOVE}
    refused(client_for(oidc_strategy(idp)), idp, Messages.AUDIENCE)


def test_a_token_from_another_issuer_is_refused(idp: OIDCProvider) -> None:
    idp.faults.id_token_claims = {"iss": "https://evil.test"}
    refused(client_for(oidc_strategy(idp)), idp, Messages.ISSUER)


@pytest.mark.parametrize(
    "claims",
    [
        {"nonce": "not-the-nonce-that-was-sent"},
        {"nonce": REMOVE},
        # A token saying it does not do nonces changes nothing (Authlib CVE-2026-114617).
        {"nonce": REMOVE, "nonce_supported": False},
    ],
    ids=["wrong", "missing", "nonce_supported-false"],
)
def test_the_nonce_is_required_and_must_match(idp: OIDCProvider, claims: dict[str, Any]) -> None:
    idp.faults.id_token_claims = claims
    refused(client_for(oidc_strategy(idp)), idp, Messages.NONCE)


def test_an_id_token_of_an_earlier_login_is_not_accepted_again(idp: OIDCProvider) -> None:
    """ASVS 10.5.1: a captured valid ID token replayed into a new login fails its nonce."""
    verify = Recorder()
    client = client_for(oidc_strategy(idp, verify))
    accepted(client, idp)
    captured = verify.tokens.id_token
    replay = {"access_token": "at", "token_type": "Bearer", "id_token": captured}
    idp.faults.token_response = (200, "application/json", json.dumps(replay).encode())
    idp.clear_requests()
    refused(client_for(oidc_strategy(idp, verify)), idp, Messages.NONCE)


def test_an_expired_token_is_refused(idp: OIDCProvider) -> None:
    idp.faults.id_token_claims = {"exp": now() - 61, "iat": now() - 3600}
    refused(client_for(oidc_strategy(idp)), idp, Messages.EXPIRED)


def test_expiry_is_allowed_the_leeway(idp: OIDCProvider) -> None:
    idp.faults.id_token_claims = {"exp": now() - 30, "iat": now() - 3600}
    accepted(client_for(oidc_strategy(idp, leeway=60)), idp)


def test_a_token_expiring_this_second_is_expired_without_leeway(idp: OIDCProvider) -> None:
    """passport-openidconnect C30: exp == now is expired."""
    idp.faults.id_token_claims = {"exp": now(), "iat": now() - 60}
    refused(client_for(oidc_strategy(idp, leeway=0)), idp, Messages.EXPIRED)


def test_a_token_issued_in_the_future_is_refused(idp: OIDCProvider) -> None:
    idp.faults.id_token_claims = {"iat": now() + 600, "exp": now() + 3600}
    refused(client_for(oidc_strategy(idp)), idp, Messages.NOT_YET_VALID)


def test_a_token_without_iat_is_refused(idp: OIDCProvider) -> None:
    """OIDF oidcc-client-test-missing-iat."""
    idp.faults.id_token_claims = {"iat": REMOVE}
    refused(client_for(oidc_strategy(idp)), idp, "ID token missing issued at claim.")


@pytest.mark.parametrize(
    ("sub", "message"),
    [
        (REMOVE, "ID token missing subject claim."),
        ("", "ID token has an invalid subject claim."),
        ("x" * 256, "ID token has an invalid subject claim."),
        (42, "ID token has an invalid subject claim."),
    ],
    ids=["missing", "empty", "256-chars", "number"],
)
def test_the_subject_must_be_a_short_string(idp: OIDCProvider, sub: Any, message: str) -> None:
    """Core 2, OIDF oidcc-client-test-missing-sub."""
    idp.faults.id_token_claims = {"sub": sub}
    refused(client_for(oidc_strategy(idp)), idp, message)


def test_several_audiences_need_an_authorized_party(idp: OIDCProvider) -> None:
    idp.faults.id_token_claims = {"aud": [CLIENT_ID, "another-client"], "azp": REMOVE}
    refused(client_for(oidc_strategy(idp)), idp, Messages.NO_AZP)


def test_several_audiences_with_this_client_as_authorized_party_are_accepted(
    idp: OIDCProvider,
) -> None:
    """passport-openidconnect C20."""
    idp.faults.id_token_claims = {"aud": [CLIENT_ID, "another-client"], "azp": CLIENT_ID}
    accepted(client_for(oidc_strategy(idp)), idp)


def test_another_authorized_party_is_refused(idp: OIDCProvider) -> None:
    idp.faults.id_token_claims = {"azp": "another-client"}
    refused(client_for(oidc_strategy(idp)), idp, Messages.AZP)


@pytest.mark.parametrize(
    "auth_time",
    [lambda: now() - 3600, lambda: REMOVE, lambda: "yesterday"],
    ids=["an-hour-ago", "missing", "not-a-time"],
)
def test_max_age_refuses_an_old_or_unknown_authentication(
    idp: OIDCProvider, auth_time: Any
) -> None:
    idp.faults.id_token_claims = {"auth_time": auth_time()}
    refused(client_for(oidc_strategy(idp, max_age=300)), idp, Messages.MAX_AGE)


def test_max_age_asked_on_the_route_is_checked_too(idp: OIDCProvider) -> None:
    idp.faults.id_token_claims = {"auth_time": now() - 3600}
    client = client_for(oidc_strategy(idp), start_options={"max_age": 300})
    refused(client, idp, Messages.MAX_AGE)


def test_max_age_accepts_a_recent_authentication(idp: OIDCProvider) -> None:
    """passport-openidconnect C21."""
    idp.faults.id_token_claims = {"auth_time": now() - 10}
    accepted(client_for(oidc_strategy(idp, max_age=300)), idp)


def test_an_old_authentication_is_fine_when_max_age_was_not_asked(idp: OIDCProvider) -> None:
    idp.faults.id_token_claims = {"auth_time": now() - 86400}
    accepted(client_for(oidc_strategy(idp)), idp)


# -- the signature --------------------------------------------------------------------------


def test_an_unsigned_token_is_refused(idp: OIDCProvider) -> None:
    """alg: none (OIDF oidcc-client-test-idtoken-sig-none)."""
    idp.faults.id_token_signing = "none"
    refused(client_for(oidc_strategy(idp)), idp, Messages.ALGORITHM)


def test_an_hs256_token_is_refused_when_rs256_is_pinned(idp: OIDCProvider) -> None:
    """Key confusion: an HMAC over the token with the client secret is not a signature the
    provider's keys made."""
    idp.faults.id_token_signing = "hs256"
    refused(client_for(oidc_strategy(idp)), idp, Messages.ALGORITHM)


def test_a_bad_signature_is_refused(idp: OIDCProvider) -> None:
    """OIDF oidcc-client-test-invalid-sig-rs256: the provider's kid, another key."""
    idp.faults.id_token_signing = "foreign-key"
    refused(client_for(oidc_strategy(idp)), idp, Messages.SIGNATURE)


def test_hs256_keyed_with_the_client_secret_when_configured(idp: OIDCProvider) -> None:
    """Core 10.1: listed explicitly, HS256 tokens verify with the client secret, and the
    provider's keys are never fetched."""
    idp.faults.id_token_signing = "hs256"
    strategy = oidc_strategy(
        idp, client_id=HS_CLIENT_ID, client_secret=HS_SECRET, id_token_signing_algs=["HS256"]
    )
    accepted(client_for(strategy), idp)
    assert hits(idp, "GET", "/jwks") == 0


def test_an_rs256_token_is_refused_when_hs256_is_pinned(idp: OIDCProvider) -> None:
    strategy = oidc_strategy(
        idp, client_id=HS_CLIENT_ID, client_secret=HS_SECRET, id_token_signing_algs=["HS256"]
    )
    refused(client_for(strategy), idp, Messages.ALGORITHM)


# -- the token response and the keys endpoint --------------------------------------------------


def test_a_token_response_without_id_token_is_a_502(idp: OIDCProvider) -> None:
    body = json.dumps({"access_token": "at", "token_type": "Bearer"}).encode()
    idp.faults.token_response = (200, "application/json", body)
    client = client_for(oidc_strategy(idp))
    response = attempt(client, idp)
    assert response.status_code == 502
    assert client.get("/me").json() == {"user": None}


# -- the validator on its own: P0 4, 5, 6 -------------------------------------------------------


NONCE = "n-0S6_WzA2Mj"


def claims_for(idp: OIDCProvider, **changes: Any) -> dict[str, Any]:
    claims = {
        "iss": idp.issuer,
        "sub": "248289761001",
        "aud": CLIENT_ID,
        "exp": now() + 600,
        "iat": now(),
        "nonce": NONCE,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not REMOVE}


def check(strategy: OpenIDConnectStrategy, token: str) -> str | dict[str, Any]:
    """The claims, or the refusal's message."""
    try:
        return run_sync(strategy.validate_id_token(token, nonce=NONCE))
    except IdTokenRejected as exc:
        return exc.message


@pytest.fixture(scope="module")
def strategy(idp: OIDCProvider) -> OpenIDConnectStrategy:
    return oidc_strategy(idp)


def test_a_valid_token_gives_its_claims(idp: OIDCProvider, strategy: Any) -> None:
    claims = claims_for(idp)
    assert check(strategy, idp.issue_id_token(claims)) == claims


@pytest.mark.parametrize(
    "issuer",
    [
        lambda base: base + "/",
        lambda base: base[:-1],
        lambda base: "http",
        lambda base: base.upper(),
        lambda base: [base],
    ],
    ids=["trailing-slash", "prefix", "http", "upper-case", "list"],
)
def test_the_issuer_is_compared_exactly(idp: OIDCProvider, strategy: Any, issuer: Any) -> None:
    token = idp.issue_id_token(claims_for(idp, iss=issuer(idp.issuer)))
    assert check(strategy, token) == Messages.ISSUER


@pytest.mark.parametrize(
    ("audience", "message"),
    [
        (REMOVE, "ID token missing audience claim."),
        ([], "ID token has an invalid audience claim."),
        ("", Messages.AUDIENCE),
        ("other", Messages.AUDIENCE),
        (CLIENT_ID + "-x", Messages.AUDIENCE),
        ([CLIENT_ID.upper()], Messages.AUDIENCE),
        ({"aud": CLIENT_ID}, "ID token has an invalid audience claim."),
    ],
    ids=["missing", "empty-list", "empty", "other", "suffix", "upper-case", "object"],
)
def test_the_audience_must_name_this_client(
    idp: OIDCProvider, strategy: Any, audience: Any, message: str
) -> None:
    token = idp.issue_id_token(claims_for(idp, aud=audience))
    assert check(strategy, token) == message


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
@pytest.mark.parametrize(
    "value", ["1700000000", True, None, 1e300], ids=["str", "bool", "null", "huge"]
)
def test_time_claims_of_the_wrong_type_are_refused(
    idp: OIDCProvider, strategy: Any, claim: str, value: Any
) -> None:
    token = idp.issue_id_token(claims_for(idp, **{claim: value}))
    assert check(strategy, token) == Messages.invalid(claim)


def test_an_encrypted_token_is_refused(strategy: Any) -> None:
    assert check(strategy, "a.b.c.d.e") == Messages.ENCRYPTED


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("", Messages.MALFORMED),
        ("abc", Messages.MALFORMED),
        ("a.b", Messages.MALFORMED),
        ("a.b.c", Messages.MALFORMED),
        ("e30.e30.", Messages.ALGORITHM),  # {} as header: no alg
        ("e30.e30.c2ln", Messages.ALGORITHM),
    ],
)
def test_malformed_tokens_are_refused(strategy: Any, token: str, message: str) -> None:
    assert check(strategy, token) == message
