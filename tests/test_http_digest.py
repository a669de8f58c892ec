"""`DigestStrategy`: passport-http's Digest tests HD1-HD33, RFC 7616, and three real frameworks.

Reference: strategies.md section 3b. Upstream's nonces were random and never checked, so its
requests cannot be replayed against signed nonces: each case below sends the same request
with a nonce from our own challenge, and the upstream response values are checked as
vectors of `digest_ha1` / `digest_response`. Adapted or not applicable:

- HD2, HD4-HD7 (no `qop`, RFC 2069 → success): `qop` is required here, since without a
  cnonce and a nonce-count there is no replay protection. These cases run with `qop=auth`;
  a request without `qop` is a 400 (`test_missing_param_is_bad_request`).
- HD3, HD13, HD14, HD18, HD19 (challenge `Digest realm="Users", nonce="\\w{32}"`): our
  challenge, with `qop`, `algorithm` and a signed nonce (`CHALLENGE`).
- HD6 (no `validate` callback → success): there is no `validate`; every test uses the
  default `nonce_counter`.
- HD12 (`qop=auth-int` → error): a 400, never a 500.
- HD15, HD17 (`validate` false / raises): a `nonce_counter` that refuses (→ `stale=true`)
  or raises (→ error).
- HD32 (`qop: 'auth,auth-int'` in the challenge): not applicable, `qop="auth-int"` is a
  `ConfigurationError` (`test_auth_int_qop_option_is_refused_HD32`).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from typing import Any

import httpx
import httpx2
import pytest
from behaviour.tokens import FRAMEWORKS, token_app, token_client
from django.core.handlers.asgi import ASGIHandler
from django.test import Client as DjangoClient
from engine_helpers import USER, authenticate, headers_named, make_passport
from itsdangerous import TimestampSigner
from starlette.testclient import TestClient
from test_http_basic import assert_refused, failure, send_raw
from users import UserStore

from passport_py import Authenticator, AuthResult, ConfigurationError, Handoff, Respond
from passport_py.authorization import parse_auth_params
from passport_py.request import asgi_target, wsgi_target
from passport_py.strategies.http import (
    DigestSecret,
    DigestStrategy,
    MemoryNonceCounter,
    digest_ha1,
    digest_response,
)
from passport_py.testing import TestRequest

SECRET = "n" * 32
CHALLENGE = re.compile(r'Digest realm="Users", qop="auth", algorithm=SHA-256, nonce="[\w.-]+"')


class Secrets:
    """A `get_secret` that knows bob (password "secret") and records its calls."""

    def __init__(self, result: Any = "password") -> None:
        self.result = result
        self.calls: list[tuple[Any, ...]] = []

    def __call__(self, *args: Any) -> Any:
        self.calls.append(args)
        if isinstance(self.result, BaseException):
            raise self.result
        if self.result == "password":
            return DigestSecret(USER, password="secret") if args[-1] == "bob" else None
        return self.result


def strategy(secrets: Any = None, **options: Any) -> DigestStrategy:
    return DigestStrategy(secrets or Secrets(), nonce_secret=SECRET, **options)


def hexdigest(algorithm: str, *parts: str) -> str:
    """Our own client-side hash, written apart from the strategy's."""
    name = "sha256" if algorithm.upper().startswith("SHA-256") else "md5"
    return hashlib.new(name, ":".join(parts).encode()).hexdigest()


def answer(
    challenge: str,
    *,
    username: str = "bob",
    password: str = "secret",
    method: str = "GET",
    uri: str = "/",
    nc: str = "00000001",
    cnonce: str = "0a4f113b",
    separator: str = ", ",
    drop: tuple[str, ...] = (),
    **override: str | None,
) -> str:
    """The `Authorization` a correct client sends for `challenge`; after the response is
    computed, `override` replaces parameters (None removes one) and `drop` removes some."""
    offered = parse_auth_params(challenge.removeprefix("Digest ")) or {}
    realm, nonce, algorithm = offered["realm"], offered["nonce"], offered["algorithm"]
    ha1 = hexdigest(algorithm, username, realm, password)
    if algorithm.lower().endswith("-sess"):
        ha1 = hexdigest(algorithm, ha1, nonce, cnonce)
    ha2 = hexdigest(algorithm, method, uri)
    params: dict[str, str | None] = {
        "username": username,
        "realm": realm,
        "nonce": nonce,
        "uri": uri,
        "algorithm": algorithm,
        "qop": "auth",
        "nc": nc,
        "cnonce": cnonce,
        "response": hexdigest(algorithm, ha1, nonce, nc, cnonce, "auth", ha2),
        "opaque": offered.get("opaque"),
    }
    params.update(override)
    params.update(dict.fromkeys(drop))
    bare = {"algorithm", "qop", "nc"}
    return "Digest " + separator.join(
        f"{k}={v}" if k in bare else f'{k}="{v}"' for k, v in params.items() if v is not None
    )


def request(authorization: str | None = None, method: str = "GET", **kwargs: Any) -> TestRequest:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return TestRequest(method=method, headers=headers, **kwargs)


def run(digest: DigestStrategy, req: TestRequest) -> Any:
    passport = make_passport(digest=digest)
    return authenticate(passport, req, "digest", callback=True, session=False)


def succeeds(digest: DigestStrategy, req: TestRequest) -> None:
    assert run(digest, req) == Handoff(AuthResult(user=USER, info=None))


def challenged(decision: Any, *, stale: bool = False) -> str:
    """The challenge of a 401 failure (checked to carry `stale=true` only when expected)."""
    challenge, status = failure(decision)
    assert status is None and isinstance(challenge, str)
    assert challenge.endswith(", stale=true") is stale
    return challenge


def bad_request(decision: Any) -> str:
    challenge, status = failure(decision)
    assert status == 400
    return str(challenge["message"])


# -- the upstream and RFC vectors -------------------------------------------------------------


def test_ha1_vector_HD2_HD5() -> None:
    assert digest_ha1("bob", "Users", "secret", "MD5") == "9e3bcfb22c441e9648cae34400c648d0"


@pytest.mark.parametrize(
    ("case", "algorithm", "uri", "nonce", "cnonce", "expected"),
    [
        ("HD8", "MD5", "/", "T1vogipt8GzzWyCZt7U3TNV5XsarMW8y", "MTMxOTkx", "7495a912e5c52e1e9ac92793c6f5c229"),  # noqa: E501
        ("HD9", "MD5", "/sessions.json?sEcho=2&iColumns=12", "3sauEztFK9HB2vjADmXE4sQbtwpGCFZ2", "MTM0MTkw", "83e2cb1afbb943a0cde78290c5002607"),  # noqa: E501
        ("HD11", "MD5-sess", "/", "Ag1nqGybX7GXpXGWjTJs0pCCRboeLnbI", "MTMxOTkx", "db5b2989137bf89622d8cb1ea583eec9"),  # noqa: E501
    ],
)  # fmt: skip
def test_response_vectors_of_passport_http(
    case: str, algorithm: str, uri: str, nonce: str, cnonce: str, expected: str
) -> None:
    ha1 = digest_ha1("bob", "Users", "secret", algorithm)
    response = digest_response(
        algorithm, ha1, method="HEAD", uri=uri, nonce=nonce, nc="00000001", cnonce=cnonce
    )
    assert response == expected, case


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
    ],
)
def test_rfc7616_section_3_9_1_vectors(algorithm: str, expected: str) -> None:
    ha1 = digest_ha1("Mufasa", "http-auth@example.org", "Circle of Life", algorithm)
    response = digest_response(
        algorithm,
        ha1,
        method="GET",
        uri="/dir/index.html",
        nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        nc="00000001",
        cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    )
    assert response == expected


# -- HD1-HD33 ---------------------------------------------------------------------------------


def test_name_is_digest_HD1() -> None:
    assert strategy().name == "digest"
    assert DigestStrategy.vary == ("Authorization",)


@pytest.mark.parametrize(
    ("case", "algorithm"),
    [("HD2", "SHA-256"), ("HD7", "MD5"), ("HD11", "MD5-sess"), ("HD11", "SHA-256-sess")],
)
def test_valid_request_succeeds_HD2_HD7_HD8_HD11(case: str, algorithm: str) -> None:
    digest = strategy(algorithm=algorithm)
    succeeds(digest, request(answer(digest.challenge(), method="HEAD"), method="HEAD"))


def test_empty_username_fails_with_challenge_HD3() -> None:
    secrets = Secrets()
    digest = strategy(secrets)
    header = answer(digest.challenge(), username="")
    assert CHALLENGE.fullmatch(challenged(run(digest, request(header))))
    assert secrets.calls == []


def test_params_without_spaces_succeed_HD4_HD10() -> None:
    digest = strategy()
    succeeds(digest, request(answer(digest.challenge(), separator=",")))


def test_precomputed_ha1_succeeds_HD5() -> None:
    ha1 = digest_ha1("bob", "Users", "secret")
    digest = strategy(Secrets(DigestSecret(USER, ha1=ha1.upper())))
    succeeds(digest, request(answer(digest.challenge())))


def test_precomputed_ha1_works_with_session_algorithm_HD5() -> None:
    ha1 = digest_ha1("bob", "Users", "secret", "MD5-sess")
    digest = strategy(Secrets(DigestSecret(USER, ha1=ha1)), algorithm="MD5-sess")
    succeeds(digest, request(answer(digest.challenge())))


def test_query_with_equal_signs_succeeds_HD9() -> None:
    digest = strategy()
    uri = "/sessions.json?sEcho=2&iColumns=12"
    req = request(
        answer(digest.challenge(), uri=uri),
        path="/sessions.json",
        query=[("sEcho", "2"), ("iColumns", "12")],
    )
    succeeds(digest, req)


def test_auth_int_is_bad_request_HD12() -> None:
    digest = strategy()
    decision = run(digest, request(answer(digest.challenge(), qop="auth-int"), method="POST"))
    assert bad_request(decision) == "Digest qop auth-int is not supported"


def test_wrong_password_fails_with_challenge_HD13() -> None:
    digest = strategy()
    challenged(run(digest, request(answer(digest.challenge(), password="idontknow"))))


def test_unknown_user_fails_with_challenge_HD14() -> None:
    digest = strategy()
    challenged(run(digest, request(answer(digest.challenge(), username="eve"))))


class Counter:
    """A `nonce_counter` answering `result` (or raising it), recording its calls."""

    def __init__(self, result: Any) -> None:
        self.result = result
        self.calls: list[tuple[str, int, float]] = []

    async def advance(self, nonce: str, count: int, expires_at: float) -> bool:
        self.calls.append((nonce, count, expires_at))
        if isinstance(self.result, BaseException):
            raise self.result
        return bool(self.result)


def test_counter_refusing_fails_with_stale_challenge_HD15() -> None:
    digest = strategy(nonce_counter=Counter(False))
    challenged(run(digest, request(answer(digest.challenge()))), stale=True)


def test_get_secret_error_is_an_error_HD16() -> None:
    boom = RuntimeError("directory down")
    digest = strategy(Secrets(boom))
    assert run(digest, request(answer(digest.challenge()))) == Handoff(AuthResult(error=boom))


def test_counter_error_is_an_error_HD17() -> None:
    boom = RuntimeError("redis down")
    digest = strategy(nonce_counter=Counter(boom))
    assert run(digest, request(answer(digest.challenge()))) == Handoff(AuthResult(error=boom))


def test_no_header_fails_with_challenge_HD18() -> None:
    passport = make_passport(digest=strategy())
    response = authenticate(passport, request(), "digest", session=False)
    assert isinstance(response, Respond) and response.status == 401
    [value] = headers_named(response, "WWW-Authenticate")
    assert CHALLENGE.fullmatch(value)
    assert headers_named(response, "Vary") == ["Authorization"]


@pytest.mark.parametrize("header", ["XXXXX username=bob", "Basic Ym9iOnNlY3JldA==", "XDigest a=b"])
def test_other_scheme_fails_with_challenge_HD19(header: str) -> None:
    assert CHALLENGE.fullmatch(challenged(run(strategy(), request(header))))


def test_scheme_without_params_is_bad_request_HD20() -> None:
    assert bad_request(run(strategy(), request("Digest"))) == "Digest credentials are malformed"


@pytest.mark.parametrize("header", ["Digest *****", 'Digest a="1", a="2"', "Digest a=1,"])
def test_malformed_params_are_bad_request_HD21(header: str) -> None:
    assert bad_request(run(strategy(), request(header))) == "Digest credentials are malformed"


def test_uri_of_another_resource_is_bad_request_HD22() -> None:
    digest = strategy()
    decision = run(digest, request(answer(digest.challenge(), uri="/"), path="/admin"))
    assert bad_request(decision) == "Digest uri does not match the request"


def test_unknown_algorithm_is_bad_request_HD23() -> None:
    digest = strategy()
    decision = run(digest, request(answer(digest.challenge(), algorithm="XXX")))
    assert bad_request(decision) == "Digest algorithm is not supported"


def test_unknown_qop_is_bad_request_HD24() -> None:
    digest = strategy()
    decision = run(digest, request(answer(digest.challenge(), qop="xxxx")))
    assert bad_request(decision) == "Digest qop is not supported"


def test_scheme_is_case_insensitive_HD25() -> None:
    digest = strategy()
    succeeds(digest, request("DIGEST" + answer(digest.challenge()).removeprefix("Digest")))


@pytest.mark.parametrize(
    ("case", "options", "expected"),
    [
        ("HD26", {"realm": "Administrators"}, r'Digest realm="Administrators", qop="auth", '),
        ("HD27", {"domain": "/admin"}, r'Digest realm="Users", domain="/admin", qop="auth", '),
        ("HD28", {"domain": ["/admin", "/private"]}, r'.*, domain="/admin /private", qop='),
        ("HD29", {"opaque": "abcdefg1234"}, r'.*, nonce="[\w.-]+", opaque="abcdefg1234"$'),
        ("HD30", {"algorithm": "MD5-sess"}, r'.*, qop="auth", algorithm=MD5-sess, nonce='),
        ("HD31", {}, r'Digest realm="Users", qop="auth", algorithm=SHA-256, nonce="[\w.-]+"$'),
    ],
)
def test_options_appear_in_challenge_HD26_HD31(
    case: str, options: dict[str, Any], expected: str
) -> None:
    assert re.match(expected, strategy(**options).challenge()), case


def test_auth_int_qop_option_is_refused_HD32() -> None:
    with pytest.raises(ConfigurationError, match="qop='auth' only"):
        strategy(qop="auth-int")


def test_constructing_without_get_secret_raises_HD33() -> None:
    with pytest.raises(TypeError, match="DigestStrategy requires a get_secret callable"):
        DigestStrategy(None, nonce_secret=SECRET)  # type: ignore[arg-type]


# -- configuration ----------------------------------------------------------------------------


@pytest.mark.parametrize("secret", [None, "", "short-secret-31-bytes-long-xxxxx"[:31], b"x" * 31])
def test_missing_or_short_nonce_secret_is_refused_without_echoing_it(secret: Any) -> None:
    with pytest.raises(ConfigurationError, match="nonce_secret= of at least 32 random") as info:
        DigestStrategy(Secrets(), nonce_secret=secret)
    assert not secret or str(secret) not in str(info.value)


@pytest.mark.parametrize("algorithm", ["SHA-512", "sha1", "MD5-sess2"])
def test_unsupported_algorithm_option_is_refused(algorithm: str) -> None:
    with pytest.raises(ConfigurationError, match="is not supported: use 'SHA-256'"):
        strategy(algorithm=algorithm)


def test_digest_secret_takes_exactly_one_of_password_and_ha1() -> None:
    with pytest.raises(TypeError, match="exactly one of password= or ha1="):
        DigestSecret(USER)
    with pytest.raises(TypeError, match="exactly one of password= or ha1="):
        DigestSecret(USER, password="a", ha1="b")


# -- nonces: signed, expiring, counted --------------------------------------------------------


def test_forged_nonce_fails_with_challenge_before_get_secret() -> None:
    secrets = Secrets()
    digest = strategy(secrets)
    other = DigestStrategy(Secrets(), nonce_secret="o" * 32)
    for header in (
        answer(other.challenge()),
        answer(digest.challenge().replace('nonce="', 'nonce="x')),
        answer(digest.challenge(), nonce="NOIEDJ3hJtqSKaty8KF8xlkaYbItAkiS"),
    ):
        challenged(run(digest, request(header)))
    assert secrets.calls == []


def test_nonce_of_another_realm_fails_with_challenge() -> None:
    digest = strategy()
    admin = strategy(realm="Admins")
    header = answer(admin.challenge(), realm="Users")
    challenged(run(digest, request(header)))


def expire(monkeypatch: pytest.MonkeyPatch, seconds: int) -> None:
    """Move itsdangerous' clock `seconds` ahead."""
    now = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now(self) + seconds)


def test_expired_nonce_with_right_password_fails_with_stale(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    digest = strategy(nonce_max_age=60)
    header = answer(digest.challenge())
    expire(monkeypatch, 61)
    assert CHALLENGE.match(challenged(run(digest, request(header)), stale=True))


def test_expired_nonce_with_wrong_password_is_not_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    digest = strategy(nonce_max_age=60)
    header = answer(digest.challenge(), password="guess")
    expire(monkeypatch, 61)
    challenged(run(digest, request(header)), stale=False)


def test_nonce_younger_than_max_age_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    digest = strategy(nonce_max_age=60)
    header = answer(digest.challenge())
    expire(monkeypatch, 59)
    succeeds(digest, request(header))


def test_replayed_nonce_count_fails_with_stale() -> None:
    digest = strategy()
    header = answer(digest.challenge())
    succeeds(digest, request(header))
    challenged(run(digest, request(header)), stale=True)


def test_increasing_nonce_count_is_accepted_and_decreasing_refused() -> None:
    digest = strategy()
    challenge = digest.challenge()
    succeeds(digest, request(answer(challenge, nc="00000002")))
    succeeds(digest, request(answer(challenge, nc="0000000a")))
    challenged(run(digest, request(answer(challenge, nc="00000009"))), stale=True)


def test_wrong_password_does_not_use_up_a_nonce_count() -> None:
    digest = strategy()
    challenge = digest.challenge()
    challenged(run(digest, request(answer(challenge, nc="00000005", password="guess"))))
    succeeds(digest, request(answer(challenge, nc="00000001")))


def test_counter_is_given_nonce_count_and_expiry() -> None:
    counter = Counter(True)
    digest = strategy(nonce_counter=counter, nonce_max_age=90)
    challenge = digest.challenge()
    succeeds(digest, request(answer(challenge, nc="000000ff")))
    [(nonce, count, expires_at)] = counter.calls
    assert f'nonce="{nonce}"' in challenge and count == 255
    assert abs(expires_at - (time.time() + 90)) <= 2


def test_memory_counter_refuses_what_it_had_to_forget() -> None:
    counter = MemoryNonceCounter(max_nonces=2)
    far = 4_000_000_000.0
    assert counter.advance("a", 1, far)
    assert counter.advance("b", 1, far + 1)
    assert counter.advance("c", 1, far + 2)  # "a" is dropped: nonces expiring by `far` refused
    assert not counter.advance("a", 2, far)
    assert not counter.advance("z", 1, far - 5)
    assert counter.advance("d", 1, far + 3)
    assert not counter.advance("c", 1, far + 2)


def test_memory_counter_drops_expired_nonces() -> None:
    counter = MemoryNonceCounter()
    assert counter.advance("old", 1, 1.0)
    assert not counter.advance("old", 2, 1.0)  # forgotten, and refused from then on
    assert len(counter._counts) == 0


# -- protection spaces and parameters ---------------------------------------------------------


@pytest.mark.parametrize(
    "override",
    [{"realm": "Other"}, {"algorithm": "MD5"}, {"algorithm": None}, {"opaque": "changed"}],
)
def test_credentials_for_another_protection_space_fail_with_challenge(
    override: dict[str, str | None],
) -> None:
    digest = strategy(opaque="abc")
    challenged(run(digest, request(answer(digest.challenge(), **override))))


@pytest.mark.parametrize(
    "param", ["username", "realm", "nonce", "uri", "response", "qop", "nc", "cnonce"]
)
def test_missing_param_is_bad_request(param: str) -> None:
    digest = strategy()
    decision = run(digest, request(answer(digest.challenge(), drop=(param,))))
    assert bad_request(decision).startswith("Digest")


@pytest.mark.parametrize("nc", ["1", "0000001", "000000001", "0000000g", "00000000"])
def test_malformed_nonce_count_is_bad_request(nc: str) -> None:
    digest = strategy()
    decision = run(digest, request(answer(digest.challenge(), nc=nc)))
    assert bad_request(decision) == "Digest nc must be 8 hexadecimal digits, from 00000001"


def test_userhash_is_bad_request() -> None:
    digest = strategy()
    decision = run(digest, request(answer(digest.challenge(), userhash="true")))
    assert bad_request(decision) == "Digest userhash is not supported"


def test_extended_username_is_decoded() -> None:
    secrets = Secrets(DigestSecret(USER, password="secret"))
    digest = strategy(secrets)
    header = answer(digest.challenge(), username="jürgen", drop=("username",))
    header += ", username*=UTF-8''j%C3%BCrgen"
    succeeds(digest, request(header))
    assert secrets.calls == [("jürgen",)]


@pytest.mark.parametrize("value", ["UTF-8''j%FCrgen", "latin-1''j%FCrgen", "j%C3%BCrgen"])
def test_malformed_extended_username_is_bad_request(value: str) -> None:
    digest = strategy()
    header = answer(digest.challenge(), drop=("username",)) + f", username*={value}"
    assert bad_request(run(digest, request(header))) == "Digest username* is malformed"


def test_response_in_upper_case_hex_is_accepted() -> None:
    digest = strategy()
    header = answer(digest.challenge())
    response = re.search(r'response="(\w+)"', header)
    assert response is not None
    succeeds(digest, request(header.replace(response[1], response[1].upper())))


def test_pass_request_and_async_get_secret_and_info() -> None:
    seen: list[Any] = []

    async def get_secret(req: Any, username: str) -> DigestSecret[Any]:
        seen.append((req, username))
        return DigestSecret(USER, password="secret", info={"method": "digest"})

    digest = strategy(get_secret, pass_request=True)
    req = request(answer(digest.challenge()))
    assert run(digest, req) == Handoff(AuthResult(user=USER, info={"method": "digest"}))
    assert seen == [(req, "bob")]


def test_get_secret_returning_another_type_is_an_error() -> None:
    digest = strategy(Secrets(("user", "secret")))
    decision = run(digest, request(answer(digest.challenge())))
    assert isinstance(decision.result.error, TypeError)
    assert "secret" not in str(decision.result.error).replace("get_secret", "")


def test_two_instances_offer_sha256_and_md5() -> None:
    passport = make_passport(digest=strategy(), md5=strategy(algorithm="MD5"))
    chain = ["digest", "md5"]
    response = authenticate(passport, request(), chain, session=False)
    assert isinstance(response, Respond) and response.status == 401
    sha256, md5 = headers_named(response, "WWW-Authenticate")
    assert "algorithm=SHA-256," in sha256 and "algorithm=MD5," in md5
    for challenge in (sha256, md5):
        header = answer(challenge)
        decision = authenticate(passport, request(header), chain, callback=True, session=False)
        assert decision.result.user == USER


# -- the request-target ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "target", "matches"),
    [
        ("/a?b=1", "http://testserver/a?b=1", True),  # an absolute-form request
        ("http://testserver/a?b=1", "http://testserver/a?b=1", True),
        ("http://testserver/a?b=1", "/a?b=1", True),  # the effective request URI
        ("HTTP://TestServer/a?b=1", "/a?b=1", True),  # scheme and host in any case
        ("http://testserver?b=1", "/?b=1", True),
        ("http://testserver/a?", "/a", True),
        ("http://evil.test/a?b=1", "/a?b=1", False),
        ("https://testserver/a?b=1", "/a?b=1", False),
        ("http://testserver:8080/a?b=1", "/a?b=1", False),
        ("http://evil.test/a?b=1", "http://testserver/a?b=1", False),
        ("/a?b=1", "http://testserver/a?b=2", False),
        ("http://testserver/a%3Fb=1", "/a?b=1", False),
        ("http://testserver/A?b=1", "/a?b=1", False),
        ("//testserver/a?b=1", "/a?b=1", False),
        ("/a?b=1#top", "/a?b=1", False),
        ("/a??", "/a?", False),
        ("*", "*", True),
    ],
)
def test_uri_is_compared_with_the_target_as_sent(uri: str, target: str, matches: bool) -> None:
    digest = strategy()
    req = request(answer(digest.challenge(), uri=uri), target=target)
    if matches:
        succeeds(digest, req)
    else:
        assert bad_request(run(digest, req)) == "Digest uri does not match the request"


@pytest.mark.parametrize(
    ("scope", "target"),
    [
        ({"path": "/a/b", "raw_path": b"/a%2Fb", "query_string": b"x=%26y"}, "/a%2Fb?x=%26y"),
        ({"path": "/a", "raw_path": b"/a", "query_string": b""}, "/a"),
        ({"path": "/caf\u00e9/a b|%", "query_string": b"q=a+b"}, "/caf%C3%A9/a%20b%7C%25?q=a+b"),
        ({"path": "/a", "raw_path": None, "query_string": b"q=%2f"}, "/a?q=%2f"),
    ],
)
def test_asgi_target_is_raw_path_and_query_or_a_rebuilt_path(
    scope: dict[str, Any], target: str
) -> None:
    assert asgi_target(scope) == target


@pytest.mark.parametrize(
    ("environ", "path", "target"),
    [
        (
            {"REQUEST_URI": "/a%2Fb?x=%26", "RAW_URI": "/other", "QUERY_STRING": "x=%26"},
            "/a/b",
            "/a%2Fb?x=%26",
        ),
        ({"RAW_URI": "/a%2Fb?x=%26", "QUERY_STRING": "x=%26"}, "/a/b", "/a%2Fb?x=%26"),  # gunicorn
        (
            {"QUERY_STRING": "q=a+b%2f"},
            "/app/caf\u00e9/a b|%",
            "/app/caf%C3%A9/a%20b%7C%25?q=a+b%2f",
        ),
        ({"QUERY_STRING": ""}, "/a/:@!$&'()*+,;=-._~", "/a/:@!$&'()*+,;=-._~"),
        ({}, "", "/"),
    ],
)
def test_wsgi_target_is_the_raw_uri_or_a_rebuilt_path(
    environ: dict[str, Any], path: str, target: str
) -> None:
    assert wsgi_target(environ, path) == target


# -- through Starlette, Flask and Django ------------------------------------------------------


def digest_passport(algorithm: str = "SHA-256") -> Authenticator[Any]:
    store = UserStore.default()

    def get_secret(username: str) -> DigestSecret[Any] | None:
        user = store.by_name(username)
        return DigestSecret(user, password=user.password) if user else None

    passport: Authenticator[Any] = Authenticator()
    passport.use(DigestStrategy(get_secret, algorithm=algorithm, nonce_secret=SECRET))
    return passport


def digest_auth(client: httpx.Client, username: str, password: str) -> Any:
    """httpx's own Digest client (Starlette's TestClient is built on httpx2, with its twin)."""
    module: Any = httpx2 if isinstance(client, TestClient) else httpx
    return module.DigestAuth(username, password)


@pytest.mark.parametrize("algorithm", ["SHA-256", "MD5", "SHA-256-sess", "MD5-sess"])
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_frameworks_authenticate_httpx_digest_client(framework: str, algorithm: str) -> None:
    client = token_client(framework, digest_passport(algorithm))
    auth = digest_auth(client, "bob", "builder")
    for path in ("/tokens/digest", "/tokens/digest?q=a%20b&r=%2F", "/tokens/digest"):
        response = client.get(path, auth=auth)  # nc 00000001, 00000002, ... on one nonce
        assert response.status_code == 200
        assert response.json() == {"user": "bob", "info": {}}
        assert response.headers["cache-control"] == "no-store"
    assert client.post("/tokens/digest", auth=auth).json()["user"] == "bob"


@pytest.fixture(params=FRAMEWORKS)
def client(request: pytest.FixtureRequest) -> httpx.Client:
    return token_client(request.param, digest_passport())


def test_frameworks_answer_wrong_password_with_challenge(client: httpx.Client) -> None:
    response = client.get("/tokens/digest", auth=digest_auth(client, "bob", "wonderland"))
    assert response.status_code == 401 and response.text == "Unauthorized"
    assert CHALLENGE.fullmatch(response.headers["www-authenticate"])


def test_frameworks_refuse_a_replayed_request_with_stale(client: httpx.Client) -> None:
    first = client.get("/tokens/digest", auth=digest_auth(client, "bob", "builder"))
    assert first.status_code == 200
    replay = client.get(
        "/tokens/digest", headers={"Authorization": first.request.headers["authorization"]}
    )
    assert replay.status_code == 401
    assert replay.headers["www-authenticate"].endswith(", stale=true")


def test_frameworks_let_client_renew_a_stale_nonce(
    client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth = digest_auth(client, "bob", "builder")
    assert client.get("/tokens/digest", auth=auth).status_code == 200
    expire(monkeypatch, 301)
    response = client.get("/tokens/digest", auth=auth)  # stale, then retried with a new nonce
    assert response.status_code == 200
    assert response.json()["user"] == "bob"


def test_frameworks_check_uri_against_the_request(client: httpx.Client) -> None:
    challenge = client.get("/tokens/digest").headers["www-authenticate"]
    header = answer(challenge, username="bob", password="builder", uri="/tokens/basic")
    response = client.get("/tokens/digest", headers={"Authorization": header})
    assert response.status_code == 400


#: (the `uri` a client hashed and sent to, another target that decodes to the same text):
#: a response for the first must not be accepted on the second.
OTHER_TARGETS = {
    "issue: %26 and %3D in the query": (
        "/tokens/digest?x=%26admin%3D1",
        "/tokens/digest?x=&admin=1",
    ),
    "issue: %2F in the path": ("/tokens%2Fdigest", "/tokens/digest"),
    "/ for %2F in the path": ("/tokens/digest", "/tokens%2Fdigest"),
    "%2F in the query": ("/tokens/digest?next=%2Fadmin", "/tokens/digest?next=/admin"),
    "%3F in the query": ("/tokens/digest?a=%3Fb", "/tokens/digest?a=?b"),
    "%23 encoded twice": ("/tokens/digest?q=%2523", "/tokens/digest?q=%25%32%33"),
    "%25 for a bare %": ("/tokens/digest?q=%25", "/tokens/digest?q=%"),
    "+ for %2B": ("/tokens/digest?q=a%2Bb", "/tokens/digest?q=a+b"),
    "+ for %20": ("/tokens/digest?q=a%20b", "/tokens/digest?q=a+b"),
    "case of an escape": ("/tokens/digest?next=%2fadmin", "/tokens/digest?next=%2Fadmin"),
    "an escaped letter": ("/tokens/dig%65st", "/tokens/digest"),
}


def sent_to(client: httpx.Client, target: str, authorization: str) -> httpx.Response:
    """GET `target` exactly as written (checked: the client re-encodes nothing)."""
    response = client.get(target, headers={"Authorization": authorization})
    assert response.request.url.raw_path == target.encode("ascii")
    return response


@pytest.mark.parametrize("case", OTHER_TARGETS)
def test_frameworks_refuse_a_response_made_for_another_raw_target(
    client: httpx.Client, case: str
) -> None:
    uri, other = OTHER_TARGETS[case]
    challenge = client.get("/tokens/digest").headers["www-authenticate"]
    header = answer(challenge, username="bob", password="builder", uri=uri)
    assert_refused(sent_to(client, other, header), 400, [])
    # The same header on the target it was made for: accepted (the 400 used up nothing).
    assert sent_to(client, uri, header).json() == {"user": "bob", "info": {}}


@pytest.mark.parametrize(
    ("uri", "target"),
    [("/tokens/digest?", "/tokens/digest"), ("/tokens/digest", "/tokens/digest?")],
)
def test_frameworks_take_an_empty_query_for_none(
    client: httpx.Client, uri: str, target: str
) -> None:
    """ASGI servers do not say whether a `?` ended the target, so no framework tells `/a?`
    from `/a` (both reach the app as the same request)."""
    challenge = client.get("/tokens/digest").headers["www-authenticate"]
    header = answer(challenge, username="bob", password="builder", uri=uri)
    assert sent_to(client, target, header).json() == {"user": "bob", "info": {}}


#: On a WSGI server that gives neither REQUEST_URI nor RAW_URI, the path is rebuilt from
#: PATH_INFO and the query is as sent: (uri hashed, target sent to, status).
REBUILT_PATH = {
    "issue: the query is raw": ("/tokens/digest?x=%26admin%3D1", "/tokens/digest?x=&admin=1", 400),
    "issue: no %2F is rebuilt": ("/tokens%2Fdigest", "/tokens/digest", 400),
    "a client's own %2F": ("/tokens%2Fdigest", "/tokens%2Fdigest", 400),
    "a client's escaped letter": ("/tokens/dig%65st", "/tokens/dig%65st", 400),
    "/ for %2F, which the app cannot tell either": ("/tokens/digest", "/tokens%2Fdigest", 200),
    "the escapes of the rebuilt path": (
        "/tokens/digest/caf%C3%A9/a%20b%7C%25",
        "/tokens/digest/caf%C3%A9/a%20b%7C%25",
        200,
    ),
    "the characters it keeps": (
        "/tokens/digest/:@!$&'()*+,;=-._~",
        "/tokens/digest/:@!$&'()*+,;=-._~",
        200,
    ),
    "a query as sent": (
        "/tokens/digest?q=a+b%2f&r=%C3%A9",
        "/tokens/digest?q=a+b%2f&r=%C3%A9",
        200,
    ),
}


@pytest.mark.parametrize("case", REBUILT_PATH)
@pytest.mark.parametrize("framework", ["flask", "django"])
def test_wsgi_servers_without_the_raw_target_compare_a_rebuilt_path(
    framework: str, case: str
) -> None:
    uri, target, status = REBUILT_PATH[case]
    client = token_client(framework, digest_passport(), raw_target=False)
    challenge = client.get("/tokens/digest").headers["www-authenticate"]
    response = sent_to(
        client, target, answer(challenge, username="bob", password="builder", uri=uri)
    )
    if status == 200:
        assert response.json() == {"user": "bob", "info": {}}
    else:
        assert_refused(response, 400, [])


def own_test_client(framework: str) -> Any:
    """The framework's own test client over the Digest token app (all of them have
    `get(target, headers=...)`, and responses with `status_code`, `headers` and `text`);
    `django-asgi` is Django's ASGI handler driven by Starlette's TestClient."""
    app = token_app(framework.removesuffix("-asgi"), digest_passport())
    if framework == "starlette":
        return TestClient(app)
    if framework == "django-asgi":
        return TestClient(ASGIHandler())  # loads the middleware, and so the passport, now
    return app.test_client() if framework == "flask" else DjangoClient()


@pytest.mark.parametrize(
    ("framework", "raw_path"),
    [("starlette", True), ("flask", True), ("django", False), ("django-asgi", True)],
)
def test_framework_test_clients_give_the_raw_target_or_the_decoded_path(
    framework: str, raw_path: bool
) -> None:
    """Starlette's TestClient sets `raw_path` (for Django's ASGI handler too) and Flask's
    (Werkzeug's) `REQUEST_URI`. Django's test client sets neither, so there the path is
    rebuilt from PATH_INFO. The query is raw in all of them."""
    client = own_test_client(framework)

    def status(uri: str, target: str) -> int:
        challenge = client.get("/tokens/digest").headers["www-authenticate"]
        header = answer(challenge, username="bob", password="builder", uri=uri)
        response = client.get(target, headers={"Authorization": header})
        if response.status_code == 200:
            assert json.loads(response.text) == {"user": "bob", "info": {}}
        else:
            assert response.text == "Bad Request"
        return int(response.status_code)

    assert status("/tokens/digest?x=%26admin%3D1", "/tokens/digest?x=&admin=1") == 400
    assert status("/tokens%2Fdigest", "/tokens/digest") == 400
    assert status("/tokens/digest", "/tokens%2Fdigest") == (400 if raw_path else 200)


GOOD = 'Digest username="bob", realm="Users", nonce="abc", uri="/tokens/digest", response="00"'
FORGED = f'{GOOD}, algorithm=SHA-256, qop=auth, nc=00000001, cnonce="x"'

#: The issue's bad-input catalogue: case -> (raw header lines, status, challenge or None).
BAD_INPUT: dict[str, tuple[list[bytes], int, bool]] = {
    "missing": ([], 401, True),
    "empty": ([b""], 400, False),
    "oversized 64 KiB": ([b'Digest username="' + b"a" * 65536 + b'"'], 400, False),
    "non-ASCII": (['Digest username="jürgen"'.encode()], 400, False),
    "latin-1 bytes": ([b'Digest username="j\xfcrgen"'], 400, False),
    "duplicated": ([GOOD.encode(), GOOD.encode()], 400, False),
    "wrong scheme": ([b"Basic Ym9iOmJ1aWxkZXI="], 401, True),
    "scheme only": ([b"Digest"], 400, False),
    "not auth-params": ([b"Digest *****"], 400, False),
    "params missing": ([GOOD.encode()], 400, False),
    "forged nonce": (
        [f'{GOOD}, algorithm=SHA-256, qop=auth, nc=00000001, cnonce="x"'.encode()],
        401,
        True,
    ),
}


@pytest.mark.parametrize("case", BAD_INPUT)
def test_frameworks_refuse_bad_input(client: httpx.Client, case: str) -> None:
    lines, status, challenge = BAD_INPUT[case]
    response = send_raw(client, "/tokens/digest", lines)
    if challenge:
        assert response.status_code == 401
        assert CHALLENGE.fullmatch(response.headers["www-authenticate"])
        assert response.text == "Unauthorized"
    else:
        assert_refused(response, status, [])
