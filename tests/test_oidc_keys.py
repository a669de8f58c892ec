"""OpenIDConnectStrategy: the provider's signing keys (Core 10.1.1): which key verifies a
token, refetching on rotation (once, rate-limited), and keys that must never be used.

Counted at the provider: how many times the strategy fetched its JWKS.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from loopback import ScriptedServer
from oauth_fixtures import hits, serve_idp
from oauth_helpers import client_for
from oidc_helpers import ShortLivedKeys, accepted, attempt, oidc_strategy, refused

from passport_py.strategies.oidc import Messages
from passport_py.testing.oidc_provider import REMOVE, OIDCProvider
from passport_py.testing.oidc_provider._keys import _stranger  # the key "unknown-key" signs with

pytestmark = pytest.mark.usefixtures("honest_idp")


@pytest.fixture
def fresh_idp() -> Iterator[OIDCProvider]:
    """A provider of the test's own, for tests that rotate its keys."""
    yield from serve_idp()


def test_an_unknown_key_refetches_the_keys_once_then_is_refused(idp: OIDCProvider) -> None:
    strategy = oidc_strategy(idp)
    accepted(client_for(strategy), idp)
    assert hits(idp, "GET", "/jwks") == 1
    idp.clear_requests()
    idp.faults.id_token_signing = "unknown-key"
    refused(client_for(strategy), idp, Messages.UNKNOWN_KEY)
    assert hits(idp, "GET", "/jwks") == 1


def test_unknown_keys_refetch_at_most_once_per_cooldown(idp: OIDCProvider) -> None:
    strategy = oidc_strategy(idp)
    accepted(client_for(strategy), idp)
    idp.faults.id_token_signing = "unknown-key"
    idp.clear_requests()
    refused(client_for(strategy), idp, Messages.UNKNOWN_KEY)
    idp.clear_requests()
    refused(client_for(strategy), idp, Messages.UNKNOWN_KEY)
    assert hits(idp, "GET", "/jwks") == 0


def test_a_rotated_key_is_accepted_after_one_refetch(fresh_idp: OIDCProvider) -> None:
    """OIDF oidcc-client-test-signing-key-rotation(-just-before-signing)."""
    strategy = oidc_strategy(fresh_idp)
    accepted(client_for(strategy), fresh_idp)
    fresh_idp.rotate_keys()
    fresh_idp.clear_requests()
    accepted(client_for(strategy), fresh_idp)
    assert hits(fresh_idp, "GET", "/jwks") == 1


def test_a_key_rotated_right_after_a_periodic_fetch_is_accepted(fresh_idp: OIDCProvider) -> None:
    """The cooldown limits refetches caused by unknown kids; a periodic fetch starts none (as
    in JwtStrategy)."""
    strategy = oidc_strategy(fresh_idp, cls=ShortLivedKeys)
    accepted(client_for(strategy), fresh_idp)
    time.sleep(ShortLivedKeys.jwks_max_age + 0.05)
    accepted(client_for(strategy), fresh_idp)
    assert hits(fresh_idp, "GET", "/jwks") == 2
    fresh_idp.rotate_keys()
    fresh_idp.clear_requests()
    accepted(client_for(strategy), fresh_idp)
    assert hits(fresh_idp, "GET", "/jwks") == 1


def test_without_kid_the_only_key_is_used(idp: OIDCProvider) -> None:
    """OIDF oidcc-client-test-kid-absent-single-jwks."""
    assert len(idp.jwks()["keys"]) == 1
    idp.faults.id_token_header = {"kid": REMOVE}
    accepted(client_for(oidc_strategy(idp)), idp)


def test_without_kid_several_keys_are_ambiguous(fresh_idp: OIDCProvider) -> None:
    fresh_idp.rotate_keys()
    fresh_idp.faults.id_token_header = {"kid": REMOVE}
    refused(client_for(oidc_strategy(fresh_idp)), fresh_idp, Messages.UNKNOWN_KEY)


def test_keys_named_by_the_token_itself_are_never_used(idp: OIDCProvider) -> None:
    """P0 3: signed with the attacker's key, which the header embeds (`jwk`) and points at
    (`jku`, `x5u`): refused, and the attacker's URLs are not even fetched."""
    attacker_key = _stranger().as_dict(private=False)
    with ScriptedServer() as attacker:
        attacker.answer_json("/keys", {"keys": [attacker_key]})
        idp.faults.id_token_signing = "unknown-key"
        idp.faults.id_token_header = {
            "jwk": attacker_key,
            "jku": f"{attacker.base}/keys",
            "x5u": f"{attacker.base}/cert.pem",
        }
        refused(client_for(oidc_strategy(idp)), idp, Messages.UNKNOWN_KEY)
        assert attacker.requests == []


@pytest.mark.parametrize(
    "answer",
    [(500, "text/plain", b"down"), (200, "text/html", b"<html>keys</html>")],
    ids=["500", "html"],
)
def test_an_unusable_keys_endpoint_is_a_502(idp: OIDCProvider, answer: Any) -> None:
    idp.faults.responses["/jwks"] = answer
    client = client_for(oidc_strategy(idp))
    assert attempt(client, idp).status_code == 502
    assert client.get("/me").json() == {"user": None}


def published(idp: OIDCProvider, **changes: Any) -> None:
    """Make `idp` publish its signing key with `changes` (REMOVE deletes a member)."""
    key = dict(idp.jwks()["keys"][-1])
    for name, value in changes.items():
        if value is REMOVE:
            key.pop(name, None)
        else:
            key[name] = value
    document = json.dumps({"keys": [key]}).encode()
    idp.faults.responses["/jwks"] = (200, "application/json", document)


@pytest.mark.parametrize(
    "changes",
    [{"use": "enc"}, {"key_ops": ["encrypt"]}, {"key_ops": "verify"}, {"alg": "RS512"}],
    ids=["use-enc", "key_ops-encrypt", "key_ops-not-a-list", "alg-RS512"],
)
def test_a_key_published_for_another_use_does_not_verify(
    idp: OIDCProvider, changes: dict[str, Any]
) -> None:
    published(idp, **changes)
    refused(client_for(oidc_strategy(idp)), idp, Messages.UNKNOWN_KEY)


def test_a_key_without_use_or_alg_verifies(idp: OIDCProvider) -> None:
    published(idp, use=REMOVE, alg=REMOVE, key_ops=["verify"])
    accepted(client_for(oidc_strategy(idp)), idp)


def test_a_symmetric_key_in_the_key_set_is_never_used(idp: OIDCProvider) -> None:
    """A `kty: oct` key published under the provider's kid: anyone who fetched the set
    knows it, so nothing it "verifies" is trusted (security.md 4.8)."""
    kid = idp.jwks()["keys"][-1]["kid"]
    secret = "a-symmetric-key-anybody-can-read-0123456789"
    oct_key = {"kty": "oct", "kid": kid, "k": secret}
    document = json.dumps({"keys": [oct_key]}).encode()
    idp.faults.responses["/jwks"] = (200, "application/json", document)
    refused(client_for(oidc_strategy(idp)), idp, Messages.UNKNOWN_KEY)


def test_a_key_set_without_keys_is_a_502(idp: OIDCProvider) -> None:
    idp.faults.responses["/jwks"] = (200, "application/json", b'{"keys": "none"}')
    client = client_for(oidc_strategy(idp))
    assert attempt(client, idp).status_code == 502
    assert client.get("/me").json() == {"user": None}
