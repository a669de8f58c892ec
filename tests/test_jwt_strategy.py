"""`JwtStrategy`: passport-jwt's tests J1-J53, the extractors, and the same behaviour through
real Starlette, Flask and Django apps.

Reference: strategies.md section 4 (passport-jwt) and section 16 (PyJWT). Attacks and the
bad-token corpus are in test_jwt_attacks.py, JWKS in test_jwt_jwks.py. Names end with the ID
they cover.

Adapted or not applicable IDs:

| ID | how and why |
| --- | --- |
| J3 | no key source at all is a `ConfigurationError` naming the three (not a TypeError) |
| J4 | two key sources (any two of key, key_provider, jwks_url) are a `ConfigurationError` |
| J5 | the extractor defaults to the bearer header; a non-callable one is a TypeError |
| J6-J9, J12 | options are not forwarded to a library call we could stub: each is shown by |
| | its effect (key, issuer, audience, algorithms, leeway for clockTolerance) |
| J10 | `ignoreExpiration` is not offered: `exp` is always checked when present |
| J11 | `maxAge` is not offered: check `claims["iat"]` in verify (shown) |
| J14, J15 | the failure is a 401 `invalid_token` challenge with a stable `error_description` |
| J17 | `Rejected("invalid user")` puts its message in the `error_description` |
| J18, J19 | verify raising is an error (there is no `done(err)`) |
| J21, J22 | `key_provider(header, claims)` gets the unverified header and claims, not the |
| | request and the raw token: every provider would decode the token itself otherwise |
| J24 | a provider returning None is a 401 (unknown key); one raising is an error (a broken |
| | key store is not the client's fault), unlike passport-jwt's fail |
| J26 | no token is a 401 with `WWW-Authenticate: Bearer realm="Users"` (passport-jwt#175) |
| J27 | not applicable: `request.url` is always a str in the framework-neutral request |
| J29 | a CR/LF inside the header is a 400 (`read_authorization` refuses non-printable text) |
| J31 | not applicable: header values are always strings here |
| J37 | `querystring.parse` objects are Node's: the urlencoded form body stands in |
| J49-J53 | `versionOneCompatibility` is not offered; the same chain is one `from_extractors` |
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from behaviour.tokens import token_client
from engine_helpers import USER, Verify, headers_named
from jwt_helpers import (
    AUDIENCE,
    CHALLENGE,
    ISSUER,
    SECRET,
    claims,
    decide,
    forge,
    hs256,
    refused,
)
from users import UserStore

from passport_py import (
    Authenticator,
    ConfigurationError,
    Proceed,
    Rejected,
    Respond,
    Verified,
    maybe_await,
    run_sync,
)
from passport_py.strategies.anonymous import AnonymousStrategy
from passport_py.strategies.jwt import (
    JwtStrategy,
    Reason,
    from_auth_header_as_bearer_token,
    from_auth_header_with_scheme,
    from_body_field,
    from_cookie,
    from_extractors,
    from_header,
    from_query,
)
from passport_py.testing import TestRequest

STORE = UserStore.default()


def strategy(verify: Any = None, **options: Any) -> JwtStrategy:
    """An HS256 strategy for this API's issuer and audience, unless `options` say otherwise."""
    config: dict[str, Any] = {
        "algorithms": ["HS256"],
        "key": SECRET,
        "issuer": ISSUER,
        "audience": AUDIENCE,
    }
    config.update(options)
    return JwtStrategy(Verify() if verify is None else verify, **config)


def extract(extractor: Any, **request: Any) -> Any:
    """What `extractor` finds in a `TestRequest` built from `request`."""
    return run_sync(maybe_await(extractor(TestRequest(**request))))


def user_of(decision: Any) -> Any:
    assert isinstance(decision, Proceed) and decision.authenticated, decision
    return decision.user


# -- J1-J5: the constructor -----------------------------------------------------------------------


def test_name_is_jwt_J1() -> None:
    assert strategy().name == "jwt"


def test_constructing_without_callable_verify_raises_J2() -> None:
    with pytest.raises(TypeError, match="JwtStrategy requires a verify callable"):
        JwtStrategy(None, algorithms=["HS256"], key=SECRET)  # type: ignore[arg-type]


def test_no_key_source_is_a_configuration_error_naming_the_three_J3() -> None:
    with pytest.raises(ConfigurationError, match=r"key=.*key_provider=.*jwks_url=.*got none"):
        JwtStrategy(Verify(), algorithms=["HS256"])


@pytest.mark.parametrize(
    "sources",
    [
        {"key": SECRET, "key_provider": lambda h, c: SECRET},
        {"key": SECRET, "jwks_url": "https://idp.test/jwks"},
        {"key_provider": lambda h, c: SECRET, "jwks_url": "https://idp.test/jwks"},
    ],
)
def test_two_key_sources_are_a_configuration_error_J4(sources: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match="exactly one key source"):
        JwtStrategy(Verify(), algorithms=["RS256"], issuer=ISSUER, **sources)


def test_non_callable_extractor_raises_J5() -> None:
    with pytest.raises(TypeError, match="extractor"):
        strategy(extractor="Authorization")


def test_default_extractor_is_the_bearer_header_J5() -> None:
    assert strategy().extractor is from_auth_header_as_bearer_token()


def test_importing_without_pyjwt_names_the_extra_to_install() -> None:
    code = "import sys; sys.modules['jwt'] = None; import passport_py.strategies.jwt"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert 'pip install "passport-py[jwt]"' in done.stderr


def test_algorithms_is_a_required_argument() -> None:
    with pytest.raises(TypeError, match="algorithms"):
        JwtStrategy(Verify(), key=SECRET)  # type: ignore[call-arg]


def test_algorithms_given_as_one_string_asks_for_a_list() -> None:
    with pytest.raises(ConfigurationError) as caught:
        JwtStrategy(Verify(), algorithms="HS256", key=SECRET)
    message = str(caught.value)
    assert 'algorithms must be a list of names, e.g. algorithms=["HS256"]' in message
    assert "no default" not in message


# -- J6-J12: each option takes effect -------------------------------------------------------------


def test_the_configured_key_verifies_the_signature_J6() -> None:
    assert user_of(decide(strategy(), hs256())) == USER
    assert refused(decide(strategy(), hs256(secret=b"x" * 32))) == Reason.SIGNATURE


def test_the_configured_issuer_is_required_J7() -> None:
    token = hs256(claims(iss="https://other.test"))
    assert refused(decide(strategy(), token)) == Reason.ISSUER


def test_the_configured_audience_is_required_J8() -> None:
    assert refused(decide(strategy(), hs256(claims(aud="other")))) == Reason.AUDIENCE


def test_only_listed_algorithms_are_accepted_J9() -> None:
    long_secret = SECRET * 2
    hs384 = forge({"alg": "HS384"}, claims(), long_secret)
    two = strategy(algorithms=["HS256", "HS384"], key=long_secret)
    assert user_of(decide(two, hs384)) == USER
    assert refused(decide(strategy(key=long_secret), hs384)) == Reason.ALGORITHM


def test_expiration_is_always_checked_J10() -> None:
    token = hs256(claims(exp=int(time.time()) - 1))
    assert refused(decide(strategy(), token)) == Reason.EXPIRED


def test_a_maximum_age_is_checked_in_verify_J11() -> None:
    def verify(token_claims: dict[str, Any]) -> Any:
        too_old = token_claims["iat"] < time.time() - 3600
        return Rejected("The token is too old") if too_old else USER

    old = hs256(claims(iat=int(time.time()) - 7200))
    assert refused(decide(strategy(verify), old)) == "The token is too old"
    assert user_of(decide(strategy(verify), hs256())) == USER


def test_leeway_tolerates_clock_skew_J12() -> None:
    token = hs256(claims(exp=int(time.time()) - 5))
    assert user_of(decide(strategy(leeway=10), token)) == USER
    assert refused(decide(strategy(), token)) == Reason.EXPIRED


# -- J13-J20: verify ------------------------------------------------------------------------------


def test_verify_gets_the_decoded_claims_J13() -> None:
    verify = Verify()
    payload = claims(scope="read")
    decide(strategy(verify), hs256(payload))
    assert verify.calls == [(payload,)]


def test_expired_token_fails_without_calling_verify_J14() -> None:
    verify = Verify()
    token = hs256(claims(exp=int(time.time()) - 60))
    assert refused(decide(strategy(verify), token)) == "The token has expired"
    assert verify.calls == []


def test_malformed_token_fails_without_calling_verify_J15() -> None:
    verify = Verify()
    assert refused(decide(strategy(verify), "malformed")) == "The token is malformed"
    assert verify.calls == []


def test_verified_user_and_info_are_forwarded_J16() -> None:
    decision = decide(strategy(Verify(Verified({"user_id": "1"}, {"foo": "bar"}))), hs256())
    assert isinstance(decision, Proceed)
    assert decision.user == {"user_id": "1"} and decision.info == {"foo": "bar"}


def test_rejected_message_becomes_the_error_description_J17() -> None:
    decision = decide(strategy(Verify(Rejected("invalid user"))), hs256())
    assert refused(decision) == "invalid user"


@pytest.mark.parametrize("result", [None, False])
def test_verify_finding_no_user_is_a_401_invalid_token(result: Any) -> None:
    assert refused(decide(strategy(Verify(result)), hs256())) == Reason.NOT_ACCEPTED


def test_rejected_with_a_scope_is_a_403_insufficient_scope() -> None:
    decision = decide(strategy(Verify(Rejected(scope="admin"))), hs256())
    assert isinstance(decision, Respond) and decision.status == 403
    assert headers_named(decision, "WWW-Authenticate") == [
        'Bearer realm="Users", error="insufficient_scope", scope="admin"'
    ]


@pytest.mark.parametrize("error", [RuntimeError("ERROR"), ValueError("EXCEPTION")])
def test_verify_raising_is_an_error_J18_J19(error: Exception) -> None:
    with pytest.raises(type(error), match=str(error)):
        decide(strategy(Verify(error)), hs256())


def test_pass_request_gives_verify_the_request_first_J20() -> None:
    verify = Verify()
    decide(strategy(verify, pass_request=True), hs256(), path="/api")
    [(request, payload)] = verify.calls
    assert request.path == "/api" and payload["sub"] == "alice"


def test_async_verify_is_awaited() -> None:
    async def verify(token_claims: dict[str, Any]) -> str:
        return f"async {token_claims['sub']}"

    assert user_of(decide(strategy(verify), hs256())) == "async alice"


# -- J21-J24: key_provider ------------------------------------------------------------------------


def test_key_provider_gets_the_unverified_header_and_claims_J21_J22() -> None:
    seen: list[tuple[Any, Any]] = []

    def provider(header: dict[str, Any], token_claims: dict[str, Any]) -> bytes:
        seen.append((header, token_claims))
        return SECRET

    payload = claims()
    decide(strategy(key=None, key_provider=provider), hs256(payload, kid="k1"))
    assert seen == [({"alg": "HS256", "typ": "JWT", "kid": "k1"}, payload)]


def test_the_providers_key_verifies_the_token_J23() -> None:
    keys = {"k1": SECRET, "k2": b"k" * 32}

    async def provider(header: dict[str, Any], token_claims: dict[str, Any]) -> bytes | None:
        return keys.get(header.get("kid", ""))

    by_kid = strategy(key=None, key_provider=provider)
    assert user_of(decide(by_kid, hs256(kid="k1"))) == USER
    assert refused(decide(by_kid, hs256(kid="k2"))) == Reason.SIGNATURE


@pytest.mark.parametrize("key", [None, "", b""])
def test_a_provider_without_a_key_fails_and_never_verifies_with_an_empty_key_J24(
    key: Any,
) -> None:
    empty_hmac = hs256(secret=b"")  # an HMAC over the empty key: anybody can make one
    decision = decide(strategy(key=None, key_provider=lambda h, c: key), empty_hmac)
    assert refused(decision) == Reason.UNKNOWN_KEY


def test_a_provider_raising_is_an_error_J24() -> None:
    def provider(header: dict[str, Any], token_claims: dict[str, Any]) -> bytes:
        raise LookupError("key store down")

    with pytest.raises(LookupError, match="key store down"):
        decide(strategy(key=None, key_provider=provider), hs256())


# -- J25-J31: finding the token -------------------------------------------------------------------


def test_verify_gets_the_token_the_extractor_found_J25() -> None:
    verify = Verify()
    custom = strategy(verify, extractor=lambda request: request.headers.get("x-jwt"))
    payload = claims(sub="bob")
    decide(custom, headers={"X-JWT": hs256(payload)})
    assert verify.calls == [(payload,)]


def test_no_token_is_a_401_bearer_challenge_without_calling_verify_J26() -> None:
    verify = Verify()
    decision = decide(strategy(verify))
    assert isinstance(decision, Respond) and decision.status == 401
    assert headers_named(decision, "WWW-Authenticate") == [CHALLENGE]
    assert verify.calls == []


def test_scheme_and_value_are_split_J28() -> None:
    found = extract(from_auth_header_with_scheme("JWT"), headers={"Authorization": "JWT abc"})
    assert found == "abc"


def test_line_break_between_scheme_and_token_is_a_400_J29() -> None:
    decision = decide(strategy(), headers={"Authorization": "Bearer\r\nabc"})
    assert isinstance(decision, Respond) and decision.status == 400
    [challenge] = headers_named(decision, "WWW-Authenticate")
    assert 'error="invalid_request"' in challenge


def test_a_header_without_a_scheme_and_token_is_no_token_J30() -> None:
    assert extract(from_auth_header_as_bearer_token(), headers={"Authorization": "abcd"}) is None


@pytest.mark.parametrize(
    "value", ["Bearer", "Bearer ", 'Bearer "tok"', "Bearer a b", "Bearer a, Bearer b"]
)
def test_a_bearer_header_without_one_token68_is_a_400_as_in_bearer_strategy(value: str) -> None:
    # passport-jwt answers "No auth token"; BearerStrategy answers B13's 400: one header,
    # one answer, whichever strategy reads it.
    decision = decide(strategy(), headers={"Authorization": value})
    assert isinstance(decision, Respond) and decision.status == 400
    [challenge] = headers_named(decision, "WWW-Authenticate")
    assert 'error="invalid_request"' in challenge


def test_a_custom_extractor_returning_bytes_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="returned bytes"):
        decide(strategy(extractor=lambda request: b"abc"))


# -- J32-J53: the extractors ----------------------------------------------------------------------


def test_from_header_without_the_header_is_none_J32() -> None:
    assert extract(from_header("x-token")) is None


def test_from_header_returns_the_value_J33() -> None:
    assert extract(from_header("x-token"), headers={"X-Token": "abc"}) == "abc"


def test_from_body_field_without_a_body_is_none_J34() -> None:
    assert extract(from_body_field("token"), method="GET") is None


def test_from_body_field_without_the_field_is_none_J35() -> None:
    assert extract(from_body_field("token"), form={"other": "x"}) is None


@pytest.mark.parametrize("body", [{"form": {"token": "abc"}}, {"json": {"token": "abc"}}])
def test_from_body_field_returns_the_field_J36_J37(body: dict[str, Any]) -> None:
    assert extract(from_body_field("token"), **body) == "abc"


def test_from_body_field_refuses_a_non_string_json_value() -> None:
    decision = decide(strategy(extractor=from_body_field("token")), json={"token": 42})
    assert isinstance(decision, Respond) and decision.status == 400


def test_from_query_without_the_parameter_is_none_J38() -> None:
    assert extract(from_query("token")) is None


def test_from_query_returns_the_parameter_J39() -> None:
    assert extract(from_query("token"), query={"token": "abc"}) == "abc"


def test_from_auth_header_with_scheme_without_a_header_is_none_J40() -> None:
    assert extract(from_auth_header_with_scheme("JWT")) is None


def test_from_auth_header_with_scheme_ignores_another_scheme_J41() -> None:
    found = extract(from_auth_header_with_scheme("JWT"), headers={"Authorization": "Basic abc"})
    assert found is None


def test_from_auth_header_with_scheme_returns_the_token_J42() -> None:
    found = extract(from_auth_header_with_scheme("JWT"), headers={"Authorization": "JWT abc"})
    assert found == "abc"


def test_from_auth_header_with_scheme_compares_case_insensitively_J43() -> None:
    found = extract(from_auth_header_with_scheme("JWT"), headers={"Authorization": "jwt abc"})
    assert found == "abc"


def test_from_auth_header_as_bearer_token_J44() -> None:
    found = extract(from_auth_header_as_bearer_token(), headers={"Authorization": "bearer abcd123"})
    assert found == "abcd123"


def test_from_extractors_takes_a_list_J45() -> None:
    with pytest.raises(TypeError, match="list of extractors"):
        from_extractors(from_header("a"))  # type: ignore[arg-type]


def test_from_extractors_finding_nothing_is_none_J46() -> None:
    assert extract(from_extractors([from_header("a"), from_query("b")])) is None


def test_from_extractors_falls_through_to_the_last_J47() -> None:
    found = extract(from_extractors([from_header("a"), from_query("b")]), query={"b": "tok"})
    assert found == "tok"


def test_from_extractors_first_found_wins_J48() -> None:
    both = from_extractors([from_header("a"), from_query("b")])
    assert extract(both, headers={"A": "first"}, query={"b": "second"}) == "first"


VERSION_ONE = from_extractors(
    [from_auth_header_with_scheme("JWT"), from_body_field("auth_token"), from_query("auth_token")]
)


@pytest.mark.parametrize(
    "request_parts",
    [
        {"headers": {"Authorization": "JWT tok"}},
        {"form": {"auth_token": "tok"}},
        {"query": {"auth_token": "tok"}},
    ],
)
def test_version_one_compatibility_is_one_from_extractors_J49_J53(
    request_parts: dict[str, Any],
) -> None:
    assert extract(VERSION_ONE, **request_parts) == "tok"


# -- duplicates and Vary --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extractor", "request_parts"),
    [
        (from_query("token"), {"query": [("token", "a"), ("token", "b")]}),
        (from_body_field("token"), {"form": [("token", "a"), ("token", "b")]}),
        (from_header("x-token"), {"headers": [("X-Token", "a"), ("X-Token", "b")]}),
        (
            from_auth_header_as_bearer_token(),
            {"headers": [("Authorization", "Bearer a"), ("Authorization", "Bearer b")]},
        ),
    ],
)
def test_a_token_sent_twice_in_one_place_is_a_400_invalid_request(
    extractor: Any, request_parts: dict[str, Any]
) -> None:
    decision = decide(strategy(extractor=extractor), **request_parts)
    assert isinstance(decision, Respond) and decision.status == 400
    [challenge] = headers_named(decision, "WWW-Authenticate")
    assert challenge.startswith('Bearer realm="Users", error="invalid_request"')


@pytest.mark.parametrize(
    ("extractor", "vary"),
    [
        (from_auth_header_as_bearer_token(), ("Authorization",)),
        (from_header("X-Token"), ("X-Token",)),
        (from_cookie("jwt"), ("Cookie",)),
        (from_query("token"), ()),
        (from_body_field("token"), ()),
        (from_extractors([from_cookie("jwt"), from_header("X-Token")]), ("Cookie", "X-Token")),
        (lambda request: None, ()),
    ],
)
def test_vary_names_the_headers_the_extractor_reads(extractor: Any, vary: tuple[str, ...]) -> None:
    assert strategy(extractor=extractor).vary == vary
    assert JwtStrategy.vary == ()  # the class attribute is untouched


# -- through Starlette, Flask and Django ----------------------------------------------------------


def verify_user(token_claims: dict[str, Any]) -> Any:
    """alice and bob by `sub`; `scope` must include "read"."""
    user = STORE.by_name(token_claims.get("sub", ""))
    if user is None:
        return None
    if "read" not in str(token_claims.get("scope", "read")).split():
        return Rejected(scope="read")
    return Verified(user, {"scope": token_claims.get("scope", "read")})


def jwt_passport(**options: Any) -> Authenticator[Any]:
    passport: Authenticator[Any] = Authenticator()
    passport.use(strategy(verify_user, **options))
    passport.use(AnonymousStrategy())
    return passport


@pytest.fixture(scope="module")
def client(framework: str) -> Iterator[httpx.Client]:
    with token_client(framework, jwt_passport()) as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_web_valid_token_authenticates_the_user(client: httpx.Client) -> None:
    response = client.get("/tokens/jwt", headers=bearer(hs256()))
    assert response.status_code == 200
    assert response.json() == {"user": "alice", "info": {"scope": "read"}}
    assert response.headers["cache-control"] == "no-store"
    assert "Authorization" in response.headers["vary"]


def test_web_no_token_is_a_401_bearer_challenge(client: httpx.Client) -> None:
    response = client.get("/tokens/jwt")
    assert response.status_code == 401
    assert response.text == "Unauthorized"
    assert response.headers.get_list("www-authenticate") == [CHALLENGE]


@pytest.mark.parametrize(
    ("token", "description"),
    [
        (hs256(claims(exp=int(time.time()) - 60)), Reason.EXPIRED),
        (hs256(claims(iss="https://idp.test/")), Reason.ISSUER),
        (hs256(secret=b"y" * 32), Reason.SIGNATURE),
        ("not.a.jwt", Reason.MALFORMED),
    ],
)
def test_web_bad_token_is_a_401_invalid_token_with_its_description(
    client: httpx.Client, token: str, description: str
) -> None:
    response = client.get("/tokens/jwt", headers=bearer(token))
    assert response.status_code == 401
    assert response.text == "Unauthorized"
    assert response.headers.get_list("www-authenticate") == [
        f'Bearer realm="Users", error="invalid_token", error_description="{description}"'
    ]
    assert token not in response.text


def test_web_unknown_subject_is_a_401_not_accepted(client: httpx.Client) -> None:
    response = client.get("/tokens/jwt", headers=bearer(hs256(claims(sub="mallory"))))
    assert response.status_code == 401
    assert Reason.NOT_ACCEPTED in response.headers["www-authenticate"]


def test_web_missing_scope_is_a_403_insufficient_scope(client: httpx.Client) -> None:
    response = client.get("/tokens/jwt", headers=bearer(hs256(claims(scope="write"))))
    assert response.status_code == 403
    assert response.headers.get_list("www-authenticate") == [
        'Bearer realm="Users", error="insufficient_scope", scope="read"'
    ]


def test_web_jwt_or_anonymous_serves_both(client: httpx.Client) -> None:
    assert client.get("/tokens/jwt-or-anonymous").json() == {"user": None, "info": None}
    signed_in = client.get("/tokens/jwt-or-anonymous", headers=bearer(hs256(claims(sub="bob"))))
    assert signed_in.json()["user"] == "bob"


def test_web_jwt_or_anonymous_serves_a_bad_token_anonymously_as_passport_does(
    client: httpx.Client,
) -> None:
    response = client.get("/tokens/jwt-or-anonymous", headers=bearer("bad.token.here"))
    assert response.status_code == 200
    assert response.json()["user"] is None


def test_web_token_from_a_cookie_varies_on_cookie(framework: str) -> None:
    with token_client(framework, jwt_passport(extractor=from_cookie("jwt"))) as c:
        c.cookies.set("jwt", hs256())
        response = c.get("/tokens/jwt")
    assert response.json()["user"] == "alice"
    assert "Cookie" in response.headers["vary"]


def test_web_token_from_a_json_body_field(framework: str) -> None:
    with token_client(framework, jwt_passport(extractor=from_body_field("token"))) as c:
        response = c.post("/tokens/jwt", json={"token": hs256(claims(sub="bob"))})
    assert response.json()["user"] == "bob"


def test_web_token_from_a_multipart_body_field(framework: str) -> None:
    with token_client(framework, jwt_passport(extractor=from_body_field("token"))) as c:
        response = c.post(
            "/tokens/jwt", data={"token": hs256()}, files={"note": ("a.txt", b"x", "text/plain")}
        )
    assert response.json()["user"] == "alice"


def test_web_token_in_the_query_twice_is_a_400(framework: str) -> None:
    with token_client(framework, jwt_passport(extractor=from_query("access_token"))) as c:
        token = hs256()
        response = c.get(f"/tokens/jwt?access_token={token}&access_token={token}")
    assert response.status_code == 400
    assert 'error="invalid_request"' in response.headers["www-authenticate"]


#: The issue's bad-input catalogue through each framework: raw header lines -> (status, error).
WEB_BAD_INPUT: dict[str, tuple[list[bytes], int, str | None]] = {
    "missing": ([], 401, None),
    "empty": ([b""], 400, "invalid_request"),
    "oversized 64 KiB": ([b"Bearer " + b"A" * 65536], 400, "invalid_request"),
    "non-ASCII": (["Bearer tökenü".encode()], 400, "invalid_request"),
    "latin-1 bytes": ([b"Bearer \xe9\xe9"], 400, "invalid_request"),
    "wrong scheme": ([b"Basic Ym9iOmJ1aWxkZXI="], 401, None),
    "duplicated": ([f"Bearer {hs256()}".encode()] * 2, 400, "invalid_request"),
    "scheme only": ([b"Bearer"], 400, "invalid_request"),
    "two tokens": ([f"Bearer {hs256()} {hs256()}".encode()], 400, "invalid_request"),
    "malformed token": ([b"Bearer not.a.jwt"], 401, "invalid_token"),
    "alg none": ([b"Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9."], 401, "invalid_token"),
}


@pytest.mark.parametrize(
    ("lines", "status", "error"), WEB_BAD_INPUT.values(), ids=WEB_BAD_INPUT.keys()
)
def test_web_bad_input_gets_its_documented_answer(
    client: httpx.Client, lines: list[bytes], status: int, error: str | None
) -> None:
    response = client.get("/tokens/jwt", headers=[(b"Authorization", line) for line in lines])
    assert response.status_code == status
    assert response.text == {400: "Bad Request", 401: "Unauthorized"}[status]
    [challenge] = response.headers.get_list("www-authenticate")
    assert challenge.startswith('Bearer realm="Users"')
    assert (f'error="{error}"' in challenge) if error else challenge == CHALLENGE
