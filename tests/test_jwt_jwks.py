"""`JwtStrategy(jwks_url=...)`: keys from a JWK Set, fetched through the transport seam.

A real HTTP server on 127.0.0.1 (tests/jwt_helpers.py `JwksServer`) serves the JWKS and counts
every request, so the tests can say exactly how many fetches a token caused: none for
`jku`/`x5u`/`jwk`/`x5c` headers (security.md P0-3), one refresh at most for an unknown `kid`
(V9.1.3), none while a recent fetch failed. An unreachable or broken JWKS is a 401 and a
`jwks_unavailable` log line, never a 500 (§5.3). In Flask and Django the fetch runs with no
event loop; in Starlette a slow fetch leaves the loop free (API.md §2).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from behaviour import tokens
from behaviour.tokens import FRAMEWORKS, token_client
from engine_helpers import authenticate
from jwt_helpers import (
    AUDIENCE,
    ED_KEY,
    ISSUER,
    OTHER_RSA_KEY,
    RSA_KEY,
    JwksServer,
    b64url,
    claims,
    decide,
    forge,
    jwk,
    public_pem,
    refused,
    rs256,
    serve_jwks,
)
from users import UserStore

from passport_py import Authenticator, ConfigurationError, Proceed, Verified, run_sync
from passport_py.strategies.jwt import JwtStrategy, Reason
from passport_py.testing import TestRequest
from passport_py.transport import HttpResponse, TransportError, UrllibTransport

STORE = UserStore.default()


@pytest.fixture
def server() -> Iterator[JwksServer]:
    yield from serve_jwks()


def verify(token_claims: dict[str, Any]) -> Any:
    user = STORE.by_name(token_claims["sub"])
    return Verified(user, {"kid_sub": token_claims["sub"]}) if user else None


def jwks_strategy(server: JwksServer, **options: Any) -> JwtStrategy:
    """RS256 keys from `server`'s /jwks for this API; no refresh cooldown unless given."""
    config: dict[str, Any] = {
        "algorithms": ["RS256"],
        "jwks_url": server.url(),
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "jwks_cooldown": 0,
    }
    return JwtStrategy(verify, **{**config, **options})


def accepted(strategy: JwtStrategy, token: str) -> bool:
    decision = decide(strategy, token)
    return isinstance(decision, Proceed) and decision.authenticated


# -- fetching and caching -----------------------------------------------------------------------


def test_a_token_signed_by_a_jwks_key_is_accepted(server: JwksServer) -> None:
    assert accepted(jwks_strategy(server), rs256(kid="k1"))
    assert server.hits["/jwks"] == 1


def test_the_key_set_is_cached(server: JwksServer) -> None:
    strategy = jwks_strategy(server)
    for _ in range(5):
        assert accepted(strategy, rs256(kid="k1"))
    assert server.hits["/jwks"] == 1


def test_an_unknown_kid_refreshes_the_set_once_then_fails(server: JwksServer) -> None:
    strategy = jwks_strategy(server)
    assert accepted(strategy, rs256(kid="k1"))
    assert refused(decide(strategy, rs256(kid="k2"))) == Reason.UNKNOWN_KEY
    assert server.hits["/jwks"] == 2


def test_a_rotated_key_is_found_by_the_refresh(server: JwksServer) -> None:
    strategy = jwks_strategy(server)
    assert accepted(strategy, rs256(kid="k1"))
    server.serve_keys(jwk(RSA_KEY, "k1", "RS256"), jwk(OTHER_RSA_KEY, "k2", "RS256"))
    assert accepted(strategy, rs256(key=OTHER_RSA_KEY, kid="k2"))
    assert server.hits["/jwks"] == 2


def test_unknown_kids_refresh_at_most_once_per_cooldown_V9_1_3(server: JwksServer) -> None:
    strategy = jwks_strategy(server, jwks_cooldown=30)
    assert accepted(strategy, rs256(kid="k1"))
    for kid in ("k2", "k3", "' OR '1'='1", "../../etc/passwd", "x" * 2000):
        assert refused(decide(strategy, rs256(kid=kid))) == Reason.UNKNOWN_KEY
    assert server.hits["/jwks"] == 2  # the first fetch, then one refresh for "k2"


def test_a_key_rotated_right_after_the_first_fetch_is_found_at_once(server: JwksServer) -> None:
    """The cooldown limits refreshes caused by unknown kids; the first fetch starts none."""
    strategy = jwks_strategy(server, jwks_cooldown=30)
    assert accepted(strategy, rs256(kid="k1"))
    server.serve_keys(jwk(RSA_KEY, "k1", "RS256"), jwk(OTHER_RSA_KEY, "k2", "RS256"))
    assert accepted(strategy, rs256(key=OTHER_RSA_KEY, kid="k2"))
    assert server.hits["/jwks"] == 2


def test_a_key_rotated_right_after_a_periodic_fetch_is_found_at_once(server: JwksServer) -> None:
    strategy = jwks_strategy(server, jwks_cooldown=30, jwks_lifespan=0.2)
    assert accepted(strategy, rs256(kid="k1"))
    time.sleep(0.25)
    assert accepted(strategy, rs256(kid="k1"))  # the lifespan ended: fetched again
    assert server.hits["/jwks"] == 2
    server.serve_keys(jwk(RSA_KEY, "k1", "RS256"), jwk(OTHER_RSA_KEY, "k2", "RS256"))
    assert accepted(strategy, rs256(key=OTHER_RSA_KEY, kid="k2"))
    assert server.hits["/jwks"] == 3


def test_a_token_without_kid_is_refused_without_a_fetch(server: JwksServer) -> None:
    assert refused(decide(jwks_strategy(server), rs256())) == Reason.NO_KID
    assert server.requests == 0


@pytest.mark.parametrize("kid", [123, {}, ["k1"], None])
def test_a_kid_that_is_not_a_string_is_refused_without_a_fetch(
    server: JwksServer, kid: Any
) -> None:
    token = forge({"alg": "RS256", "kid": kid}, claims(), RSA_KEY)
    expected = Reason.NO_KID if kid is None else Reason.HEADER
    assert refused(decide(jwks_strategy(server), token)) == expected
    assert server.requests == 0


def test_the_kid_is_only_compared_never_interpreted(server: JwksServer) -> None:
    server.serve_keys(jwk(RSA_KEY, "' OR '1'='1", "RS256"))
    assert accepted(jwks_strategy(server), rs256(kid="' OR '1'='1"))
    assert refused(decide(jwks_strategy(server), rs256(kid="' OR '1'='2"))) == Reason.UNKNOWN_KEY


# -- one algorithm per key (RFC 8725 §3.1) ------------------------------------------------------


def test_a_key_tagged_rs256_cannot_verify_ps256(server: JwksServer) -> None:
    token = forge({"alg": "PS256", "kid": "k1"}, claims(), RSA_KEY)
    strategy = jwks_strategy(server, algorithms=["RS256", "PS256"])
    assert refused(decide(strategy, token)) == Reason.ALGORITHM


def test_a_key_without_alg_is_used_only_with_its_default_algorithm(server: JwksServer) -> None:
    server.serve_keys(jwk(RSA_KEY, "k1"))  # no "alg": PyJWT binds RSA keys to RS256
    strategy = jwks_strategy(server, algorithms=["RS256", "PS256"])
    assert accepted(strategy, rs256(kid="k1"))
    ps256 = forge({"alg": "PS256", "kid": "k1"}, claims(), RSA_KEY)
    assert refused(decide(strategy, ps256)) == Reason.ALGORITHM


def test_an_ed25519_key_from_the_set_verifies_eddsa(server: JwksServer) -> None:
    server.serve_keys(jwk(ED_KEY, "ed"))
    strategy = jwks_strategy(server, algorithms=["EdDSA"])
    assert accepted(strategy, forge({"alg": "EdDSA", "kid": "ed"}, claims(), ED_KEY))


# -- P0-3: keys named or embedded in the token are never fetched or trusted ---------------------


ATTACKER = OTHER_RSA_KEY


@pytest.mark.parametrize("header", ["jku", "x5u", "jwk", "x5c", "all"])
def test_untrusted_key_headers_cause_no_fetch_and_fail_P0_3(
    server: JwksServer, header: str
) -> None:
    server.serve_keys(jwk(ATTACKER, "k1", "RS256"), path="/attacker")
    attacker_jwk = jwk(ATTACKER, "k1", "RS256")
    chain = [b64url(b"self-signed certificate bytes")]
    extra = {
        "jku": {"jku": server.url("/attacker")},
        "x5u": {"x5u": server.url("/attacker")},
        "jwk": {"jwk": attacker_jwk},
        "x5c": {"x5c": chain},
    }
    parts = (
        extra[header] if header != "all" else {k: v for d in extra.values() for k, v in d.items()}
    )
    token = forge({"alg": "RS256", "kid": "k1", **parts}, claims(), ATTACKER)
    assert refused(decide(jwks_strategy(server), token)) == Reason.SIGNATURE
    assert server.hits["/attacker"] == 0


def test_untrusted_key_headers_cause_no_fetch_with_a_static_key(server: JwksServer) -> None:
    strategy = JwtStrategy(
        verify, algorithms=["RS256"], key=public_pem(), issuer=ISSUER, audience=AUDIENCE
    )
    header = {"alg": "RS256", "jku": server.url("/attacker"), "x5u": server.url("/attacker")}
    token = forge(header, claims(), ATTACKER)
    assert refused(decide(strategy, token)) == Reason.SIGNATURE
    assert server.requests == 0


# -- keys belong to their issuer (RFC 8725 §3.8) -------------------------------------------------


def test_another_issuers_token_causes_no_fetch(server: JwksServer) -> None:
    token = rs256(claims(iss="https://idp-b.test"), kid="k1")
    assert refused(decide(jwks_strategy(server), token)) == Reason.ISSUER
    assert server.requests == 0


def test_a_token_of_issuer_a_signed_with_issuer_bs_key_is_refused(server: JwksServer) -> None:
    server.serve_keys(jwk(OTHER_RSA_KEY, "b1", "RS256"), path="/b/jwks")
    passport: Authenticator[Any] = Authenticator()
    passport.use(jwks_strategy(server), "jwt-a")
    passport.use(
        jwks_strategy(server, jwks_url=server.url("/b/jwks"), issuer="https://b.test"), "jwt-b"
    )
    token = rs256(claims(iss=ISSUER), key=OTHER_RSA_KEY, kid="b1")
    request = TestRequest(method="GET", headers={"Authorization": f"Bearer {token}"}, session=None)
    decision = authenticate(passport, request, ["jwt-a", "jwt-b"], session=False)
    assert not isinstance(decision, Proceed)
    assert server.hits["/b/jwks"] == 0  # B's strategy refused the issuer before fetching


# -- outages: fail closed, log, never a 500 ------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "route"),
    [
        (b"oops", {"status": 500, "content_type": "text/plain"}),
        (b"<html><body>Sign in</body></html>", {"content_type": "text/html"}),
        (b"{not json", {}),
        (b'["keys"]', {}),
        (b'{"keys": []}', {}),
        (b'{"keys": "k1"}', {}),
        (b'{"keys": [{"kty": "RSA", "kid": "k1", "n": 5, "e": "AQAB"}]}', {}),
        (b'{"keys": [{"kty": "RSA", "kid": "k1", "n": "!!", "e": "AQAB"}]}', {}),
        (b'{"keys": [{"kid": "k1"}]}', {}),
        (b"\xff\xfe{", {}),
        (b"", {"status": 302}),
    ],
)
def test_a_broken_jwks_is_a_401_and_a_log_line(
    server: JwksServer, caplog: pytest.LogCaptureFixture, body: bytes, route: dict[str, Any]
) -> None:
    server.serve("/jwks", body, **route)
    with caplog.at_level(logging.WARNING, logger="passport_py.strategies.jwt"):
        decision = decide(jwks_strategy(server), rs256(kid="k1"))
    assert refused(decision) == Reason.KEYS_UNAVAILABLE
    [record] = caplog.records
    assert record.getMessage().startswith(f"jwks_unavailable: {server.url()}")
    assert server.hits["/elsewhere"] == 0  # redirects are not followed


def test_an_unusable_key_in_the_set_is_skipped_CVE_2026_102274(server: JwksServer) -> None:
    broken = {"kty": "RSA", "kid": "bad", "n": "!!", "e": "AQAB", "alg": "RS256"}
    server.serve_keys(broken, jwk(RSA_KEY, "k1", "RS256"))
    strategy = jwks_strategy(server)
    assert accepted(strategy, rs256(kid="k1"))
    assert refused(decide(strategy, rs256(kid="bad"))) == Reason.UNKNOWN_KEY


def test_an_unreachable_jwks_is_a_401(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    strategy = JwtStrategy(
        verify,
        algorithms=["RS256"],
        jwks_url=f"http://127.0.0.1:{port}/jwks",
        issuer=ISSUER,
        audience=AUDIENCE,
    )
    with caplog.at_level(logging.WARNING, logger="passport_py.strategies.jwt"):
        assert refused(decide(strategy, rs256(kid="k1"))) == Reason.KEYS_UNAVAILABLE
    assert "jwks_unavailable" in caplog.text


def test_a_jwks_larger_than_the_limit_is_refused(server: JwksServer) -> None:
    server.serve("/jwks", {"keys": [jwk(RSA_KEY, "k1", "RS256")], "pad": "x" * 600_000})
    assert refused(decide(jwks_strategy(server), rs256(kid="k1"))) == Reason.KEYS_UNAVAILABLE


def test_a_slow_jwks_times_out(server: JwksServer) -> None:
    server.serve("/jwks", {"keys": [jwk(RSA_KEY, "k1", "RS256")]}, delay=1.0)
    started = time.perf_counter()
    decision = decide(jwks_strategy(server, jwks_timeout=0.2), rs256(kid="k1"))
    assert refused(decision) == Reason.KEYS_UNAVAILABLE
    assert time.perf_counter() - started < 0.9


def test_cached_keys_keep_working_while_the_jwks_is_down(server: JwksServer) -> None:
    strategy = jwks_strategy(server)
    assert accepted(strategy, rs256(kid="k1"))
    server.serve("/jwks", b"down", status=503)
    assert accepted(strategy, rs256(kid="k1"))
    assert server.hits["/jwks"] == 1


def test_expired_keys_are_not_used_when_the_jwks_is_down_fail_closed(server: JwksServer) -> None:
    strategy = jwks_strategy(server, jwks_lifespan=0.1)
    assert accepted(strategy, rs256(kid="k1"))
    server.serve("/jwks", b"down", status=503)
    time.sleep(0.15)
    assert refused(decide(strategy, rs256(kid="k1"))) == Reason.KEYS_UNAVAILABLE


def test_after_a_failed_fetch_requests_do_not_retry_at_once(server: JwksServer) -> None:
    server.serve("/jwks", b"down", status=503)
    strategy = jwks_strategy(server, jwks_cooldown=30)
    for _ in range(3):
        assert refused(decide(strategy, rs256(kid="k1"))) == Reason.KEYS_UNAVAILABLE
    assert server.hits["/jwks"] == 1


def test_the_jwks_recovers_after_an_outage(server: JwksServer) -> None:
    keys = server.routes["/jwks"]
    server.serve("/jwks", b"down", status=503)
    strategy = jwks_strategy(server)
    assert refused(decide(strategy, rs256(kid="k1"))) == Reason.KEYS_UNAVAILABLE
    server.routes["/jwks"] = keys
    assert accepted(strategy, rs256(kid="k1"))


# -- configuration -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"jwks_url": "http://idp.test/jwks"}, "https"),
        ({"jwks_url": "ftp://idp.test/jwks"}, "https"),
        ({"issuer": None}, "needs issuer="),
        ({"algorithms": ["HS256"]}, "HMAC algorithms need key="),
        ({"jwks_lifespan": 0}, "jwks_lifespan="),
        ({"jwks_timeout": -1}, "jwks_timeout="),
        ({"jwks_cooldown": -1}, "jwks_cooldown="),
        ({"jwks_cooldown": float("nan")}, "jwks_cooldown="),
    ],
)
def test_unsafe_jwks_configurations_are_refused(options: dict[str, Any], message: str) -> None:
    config: dict[str, Any] = {
        "algorithms": ["RS256"],
        "jwks_url": "https://idp.test/jwks",
        "issuer": ISSUER,
    }
    with pytest.raises(ConfigurationError, match=message):
        JwtStrategy(verify, **{**config, **options})


# -- the three frameworks ------------------------------------------------------------------------


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_web_jwks_tokens_in_every_framework(server: JwksServer, framework: str) -> None:
    passport: Authenticator[Any] = Authenticator().use(jwks_strategy(server))
    with token_client(framework, passport) as client:
        ok = client.get("/tokens/jwt", headers={"Authorization": f"Bearer {rs256(kid='k1')}"})
        unknown = client.get("/tokens/jwt", headers={"Authorization": f"Bearer {rs256(kid='zz')}"})
    assert ok.status_code == 200
    assert ok.json() == {"user": "alice", "info": {"kid_sub": "alice"}}
    assert unknown.status_code == 401
    assert unknown.headers["www-authenticate"] == (
        f'Bearer realm="Users", error="invalid_token", error_description="{Reason.UNKNOWN_KEY}"'
    )


@pytest.mark.parametrize("framework", ["flask", "django"])
def test_sync_frameworks_fetch_the_jwks_without_an_event_loop(
    server: JwksServer, framework: str, loops_created: list[object]
) -> None:
    passport: Authenticator[Any] = Authenticator().use(jwks_strategy(server))
    with token_client(framework, passport) as client:
        response = client.get("/tokens/jwt", headers={"Authorization": f"Bearer {rs256(kid='k1')}"})
    assert response.json()["user"] == "alice"
    assert server.hits["/jwks"] == 1
    assert loops_created == []


def test_starlette_keeps_serving_while_a_slow_jwks_is_fetched(server: JwksServer) -> None:
    server.serve("/jwks", {"keys": [jwk(RSA_KEY, "k1", "RS256")]}, delay=0.4)
    app = tokens.token_app("starlette", Authenticator().use(jwks_strategy(server)))
    token = rs256(kid="k1")

    async def main() -> tuple[httpx.Response, float, float]:
        gaps: list[float] = []
        done = asyncio.Event()

        async def heartbeat() -> None:
            last = time.perf_counter()
            while not done.is_set():
                await asyncio.sleep(0.01)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        beating = asyncio.create_task(heartbeat())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            started = time.perf_counter()
            response = await client.get("/tokens/jwt", headers={"Authorization": f"Bearer {token}"})
            elapsed = time.perf_counter() - started
        done.set()
        await beating
        return response, elapsed, max(gaps)

    response, elapsed, longest_gap = asyncio.run(main())
    assert response.status_code == 200 and response.json()["user"] == "alice"
    assert elapsed >= 0.4  # the fetch really waited for the server
    assert longest_gap < 0.15  # and the loop kept ticking meanwhile


# -- the transport seam ---------------------------------------------------------------------------


def test_the_transport_completes_without_a_loop_in_sync_code(
    server: JwksServer, loops_created: list[object]
) -> None:
    response = run_sync(UrllibTransport().request("GET", server.url()))
    assert response.status == 200 and b'"k1"' in response.body
    assert response.headers["content-type"] == "application/json"
    assert loops_created == []


def test_the_transport_answers_error_statuses_as_responses(server: JwksServer) -> None:
    response = run_sync(UrllibTransport().get(server.url("/missing")))
    assert response == HttpResponse(404, response.headers, b"not found")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "data:,x", "ftp://127.0.0.1/x"])
def test_the_transport_fetches_only_http_urls(url: str) -> None:
    with pytest.raises(TransportError, match="only http and https"):
        run_sync(UrllibTransport().get(url))


def test_the_transport_refuses_bodies_over_max_bytes(server: JwksServer) -> None:
    with pytest.raises(TransportError, match="larger than 10 bytes"):
        run_sync(UrllibTransport().get(server.url(), max_bytes=10))
