"""OpenIDConnectStrategy: RFC 9207's `iss` authorization response parameter (the mix-up
defence), over two real providers on two ports (security.md 2.5).

Provider A advertises `authorization_response_iss_parameter_supported: true` unless a test
says otherwise; B is the attacker's (or just another) provider the same app trusts. In every
refusal the token endpoint of neither provider is called and nobody is logged in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import quote

import pytest
from oauth_fixtures import make_honest, serve_idp, token_requests
from oauth_helpers import Recorder, client_for, pending_callback, query_params
from oauth_helpers import with_params as callback_with
from oidc_helpers import messages, oidc_strategy
from starlette.testclient import TestClient

from passport_py.strategies.oidc import MISSING_ISS, WRONG_ISS
from passport_py.testing.oidc_provider import REMOVE, OIDCProvider


@pytest.fixture(scope="module")
def idp_a() -> Iterator[OIDCProvider]:
    yield from serve_idp()


@pytest.fixture(scope="module")
def idp_b() -> Iterator[OIDCProvider]:
    yield from serve_idp()


@pytest.fixture(autouse=True)
def honest(idp_a: OIDCProvider, idp_b: OIDCProvider) -> None:
    for idp in (idp_a, idp_b):
        make_honest(idp)


@pytest.fixture
def client(idp_a: OIDCProvider, idp_b: OIDCProvider) -> TestClient:
    """An app trusting both: `/auth/oidc-a` logs in with A, `/auth/oidc-b` with B."""
    return client_for(oidc_strategy(idp_a, name="oidc-a"), oidc_strategy(idp_b, name="oidc-b"))


def refused_before_token(
    client: TestClient, response: object, message: str, *idps: OIDCProvider
) -> None:
    assert getattr(response, "status_code", None) == 403
    assert messages(client) == [message]
    assert client.get("/me").json() == {"user": None}
    assert all(token_requests(idp) == 0 for idp in idps)


def accepted(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302, response.text
    assert client.get("/me").json()["user"] is not None


def test_the_right_iss_is_accepted(client: TestClient, idp_a: OIDCProvider) -> None:
    """The provider's `iss`, percent-encoded once in the query as usual."""
    callback = pending_callback(client, "/auth/oidc-a", idp_a)
    assert "&iss=" + quote(idp_a.issuer, safe="") in callback
    accepted(client, callback)


def test_a_missing_iss_is_refused_when_the_provider_advertises_it(
    client: TestClient, idp_a: OIDCProvider, idp_b: OIDCProvider
) -> None:
    idp_a.faults.authorization_iss = REMOVE
    response = client.get(pending_callback(client, "/auth/oidc-a", idp_a))
    refused_before_token(client, response, MISSING_ISS, idp_a, idp_b)


@pytest.mark.parametrize("advertised", [REMOVE, False], ids=["absent", "false"])
def test_a_missing_iss_is_accepted_when_the_provider_does_not_advertise_it(
    idp_a: OIDCProvider, advertised: object
) -> None:
    """State and PKCE are still checked; only the `iss` parameter is optional."""
    idp_a.faults.discovery = {"authorization_response_iss_parameter_supported": advertised}
    idp_a.faults.authorization_iss = REMOVE
    client = client_for(oidc_strategy(idp_a, name="oidc-a"))
    accepted(client, pending_callback(client, "/auth/oidc-a", idp_a))


def test_an_iss_present_is_checked_even_when_not_advertised(idp_a: OIDCProvider) -> None:
    idp_a.faults.discovery = {"authorization_response_iss_parameter_supported": REMOVE}
    idp_a.faults.authorization_iss = "https://evil.test"
    client = client_for(oidc_strategy(idp_a, name="oidc-a"))
    response = client.get(pending_callback(client, "/auth/oidc-a", idp_a))
    refused_before_token(client, response, WRONG_ISS, idp_a)


def test_a_response_from_b_on_a_transaction_of_a_is_refused(
    client: TestClient, idp_a: OIDCProvider, idp_b: OIDCProvider
) -> None:
    """A's transaction, B's `iss`."""
    idp_a.faults.authorization_iss = idp_b.issuer
    response = client.get(pending_callback(client, "/auth/oidc-a", idp_a))
    refused_before_token(client, response, WRONG_ISS, idp_a, idp_b)


def test_a_code_of_a_delivered_to_bs_callback_is_refused(
    client: TestClient, idp_a: OIDCProvider, idp_b: OIDCProvider
) -> None:
    """The mix-up itself: the user started at B; A's authorization response (code, iss=A)
    arrives at B's callback with B's state. B's token endpoint must never see A's code."""
    started_at_b = client.get("/auth/oidc-b")
    state_b = query_params(started_at_b.headers["location"])["state"]
    from_a = query_params(pending_callback(client, "/auth/oidc-a", idp_a))
    response = client.get(
        "/auth/oidc-b/callback",
        params={"code": from_a["code"], "state": state_b, "iss": from_a["iss"]},
    )
    refused_before_token(client, response, WRONG_ISS, idp_a, idp_b)


@pytest.mark.parametrize(
    "iss",
    [
        lambda base: base + "/",
        lambda base: base.upper(),
        lambda base: quote(base, safe=""),  # sent double-encoded, decoded once
        lambda base: "",
    ],
    ids=["trailing-slash", "upper-case", "double-encoded", "empty"],
)
def test_iss_is_compared_as_a_plain_string(
    client: TestClient, idp_a: OIDCProvider, iss: Callable[[str], str]
) -> None:
    idp_a.faults.authorization_iss = iss(idp_a.issuer)
    response = client.get(pending_callback(client, "/auth/oidc-a", idp_a))
    refused_before_token(client, response, WRONG_ISS, idp_a)


def test_a_repeated_iss_is_a_400(client: TestClient, idp_a: OIDCProvider) -> None:
    callback = pending_callback(client, "/auth/oidc-a", idp_a)
    response = client.get(callback + "&iss=" + quote(idp_a.issuer, safe=""))
    assert response.status_code == 400
    assert client.get("/me").json() == {"user": None}
    assert token_requests(idp_a) == 0


def test_an_error_response_is_checked_for_iss_too(
    client: TestClient, idp_a: OIDCProvider, idp_b: OIDCProvider
) -> None:
    """`error=access_denied&iss=B` on A's transaction: refused as a mix-up (403), not
    reported as A's denial (401)."""
    start = client.get("/auth/oidc-a")
    state = query_params(start.headers["location"])["state"]
    response = client.get(
        "/auth/oidc-a/callback",
        params={"error": "access_denied", "state": state, "iss": idp_b.issuer},
    )
    refused_before_token(client, response, WRONG_ISS, idp_a, idp_b)


def test_an_error_response_with_the_right_iss_is_the_providers_answer(
    client: TestClient, idp_a: OIDCProvider
) -> None:
    start = client.get("/auth/oidc-a")
    state = query_params(start.headers["location"])["state"]
    response = client.get(
        "/auth/oidc-a/callback",
        params={
            "error": "access_denied",
            "error_description": "No thanks",
            "state": state,
            "iss": idp_a.issuer,
        },
    )
    assert response.status_code == 401
    assert messages(client) == ["No thanks"]


def test_a_removed_iss_parameter_is_refused(client: TestClient, idp_a: OIDCProvider) -> None:
    """An attacker who strips `iss` from A's response gains nothing: A advertises it."""
    callback = callback_with(pending_callback(client, "/auth/oidc-a", idp_a), iss=None)
    response = client.get(callback)
    refused_before_token(client, response, MISSING_ISS, idp_a)


def test_the_same_sub_at_two_providers_is_two_identities(
    idp_a: OIDCProvider, idp_b: OIDCProvider
) -> None:
    """P0 16, ASVS 10.3.3: the identity is (issuer, sub), never sub (or email) alone."""
    keys = []
    for name, idp in (("oidc-a", idp_a), ("oidc-b", idp_b)):
        verify = Recorder()
        client = client_for(oidc_strategy(idp, verify, name=name))
        accepted(client, pending_callback(client, f"/auth/{name}", idp))
        keys.append(verify.profile.key)
    assert keys == [(idp_a.issuer, "248289761001"), (idp_b.issuer, "248289761001")]
