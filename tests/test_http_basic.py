"""`BasicStrategy`: passport-http's Basic tests HB1-HB14, our fixes, and three real frameworks.

Reference: strategies.md section 3a. Every HB case applies; the adaptations:

| ID | upstream | here |
| --- | --- | --- |
| HB4 | verify error → `error()` | verify raises → the exception reaches the app (500) |
| HB6 | `XXXXX` scheme → challenge | same, and `XBasic` too (upstream's regex was unanchored) |
| HB9 | `Basic` → 400 | same, for every malformed header (`test_malformed_*`) |
| HB13 | no verify → throws | `TypeError` |
| HB14 | `passReqToCallback` | `pass_request=True` |

Beyond upstream: the password is split at the first colon (passport-http#20), credentials are
UTF-8 (RFC 7617; invalid UTF-8 is a 400), base64 must be canonical, control characters are
refused, `Verified` info is kept, and the bad-input catalogue runs through every framework.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from behaviour.tokens import FRAMEWORKS, token_client
from engine_helpers import USER, Verify, authenticate, headers_named, make_passport
from users import User, UserStore

from passport_py import Authenticator, AuthResult, Handoff, Rejected, Respond, Strategy, Verified
from passport_py.options import AuthenticateOptions
from passport_py.outcomes import Outcome
from passport_py.request import AuthRequest
from passport_py.strategies.http import BasicStrategy
from passport_py.testing import TestRequest

CHALLENGE = 'Basic realm="Users"'


def basic(userid: str, password: str) -> str:
    """An `Authorization` value for the pair, UTF-8 encoded as RFC 7617 says."""
    return "Basic " + base64.b64encode(f"{userid}:{password}".encode()).decode()


def request(authorization: str | None = None) -> TestRequest:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return TestRequest(method="GET", headers=headers)


def run(strategy: BasicStrategy, req: TestRequest) -> Any:
    """The decision of `authenticate("basic", callback=True)`: the failure detail is visible."""
    passport = make_passport(basic=strategy)
    return authenticate(passport, req, "basic", callback=True, session=False)


def respond(strategy: BasicStrategy, req: TestRequest) -> Respond:
    """The response the engine gives when the strategy fails (no callback)."""
    passport = make_passport(basic=strategy)
    decision = authenticate(passport, req, "basic", session=False)
    assert isinstance(decision, Respond)
    return decision


def failure(decision: Any) -> tuple[Any, Any]:
    assert isinstance(decision, Handoff)
    assert decision.result.user is None and decision.result.error is None
    [challenge] = decision.result.challenges
    [status] = decision.result.statuses
    return challenge, status


def bad_request(decision: Any) -> str:
    """The message of a 400 failure."""
    challenge, status = failure(decision)
    assert status == 400
    return str(challenge["message"])


# -- HB1-HB14 ---------------------------------------------------------------------------------


def test_name_is_basic_HB1() -> None:
    assert BasicStrategy(Verify()).name == "basic"
    assert BasicStrategy.vary == ("Authorization",)


def test_valid_credentials_succeed_HB2() -> None:
    verify = Verify()
    decision = run(BasicStrategy(verify), request("Basic Ym9iOnNlY3JldA=="))
    assert decision == Handoff(AuthResult(user=USER, info=None))
    assert verify.calls == [("bob", "secret")]


def test_verify_false_fails_with_challenge_HB3() -> None:
    assert failure(run(BasicStrategy(Verify(False)), request(basic("bob", "x")))) == (
        CHALLENGE,
        None,
    )


def test_verify_error_is_an_error_HB4() -> None:
    boom = RuntimeError("database down")
    decision = run(BasicStrategy(Verify(boom)), request(basic("bob", "secret")))
    assert decision == Handoff(AuthResult(error=boom))


def test_no_header_fails_with_challenge_HB5() -> None:
    response = respond(BasicStrategy(Verify()), request())
    assert response.status == 401
    assert headers_named(response, "WWW-Authenticate") == [CHALLENGE]
    assert headers_named(response, "Vary") == ["Authorization"]


@pytest.mark.parametrize(
    "header", ["XXXXX Ym9iOnNlY3JldA==", "XBasic Ym9iOnNlY3JldA==", "Bearer abc", "Digest a=b"]
)
def test_other_scheme_fails_with_challenge_HB6(header: str) -> None:
    verify = Verify()
    assert failure(run(BasicStrategy(verify), request(header))) == (CHALLENGE, None)
    assert verify.calls == []


def test_empty_password_fails_with_challenge_HB7() -> None:
    verify = Verify()
    assert failure(run(BasicStrategy(verify), request("Basic Ym9iOg=="))) == (CHALLENGE, None)
    assert verify.calls == []


def test_empty_userid_fails_with_challenge_HB8() -> None:
    verify = Verify()
    assert failure(run(BasicStrategy(verify), request("Basic OnNlY3JldA=="))) == (
        CHALLENGE,
        None,
    )
    assert verify.calls == []


def test_scheme_without_credentials_is_bad_request_HB9() -> None:
    assert bad_request(run(BasicStrategy(Verify()), request("Basic"))) == (
        "Basic credentials are missing"
    )


def test_credentials_that_are_not_base64_are_bad_request_HB10() -> None:
    assert bad_request(run(BasicStrategy(Verify()), request("Basic *****"))) == (
        "Basic credentials are not valid base64"
    )


@pytest.mark.parametrize("scheme", ["BASIC", "basic", "bAsIc"])
def test_scheme_is_case_insensitive_HB11(scheme: str) -> None:
    decision = run(BasicStrategy(Verify()), request(f"{scheme} Ym9iOnNlY3JldA=="))
    assert decision == Handoff(AuthResult(user=USER, info=None))


def test_realm_option_sets_the_challenge_HB12() -> None:
    response = respond(BasicStrategy(Verify(), realm="Administrators"), request())
    assert headers_named(response, "WWW-Authenticate") == ['Basic realm="Administrators"']


def test_constructing_without_verify_raises_HB13() -> None:
    with pytest.raises(TypeError, match="BasicStrategy requires a verify callable"):
        BasicStrategy(None)  # type: ignore[arg-type]


def test_pass_request_gives_verify_the_request_HB14() -> None:
    verify = Verify()
    req = request(basic("bob", "secret"))
    assert run(BasicStrategy(verify, pass_request=True), req).result.user == USER
    assert verify.calls == [(req, "bob", "secret")]


# -- fixes and hardening ------------------------------------------------------------------------


def test_password_keeps_every_colon_after_the_first() -> None:
    verify = Verify()
    run(BasicStrategy(verify), request(basic("bob", "pa:ss:word:")))
    assert verify.calls == [("bob", "pa:ss:word:")]


def test_credentials_are_decoded_as_utf8() -> None:
    verify = Verify()
    run(BasicStrategy(verify), request(basic("jürgen", "pässwörd€")))
    assert verify.calls == [("jürgen", "pässwörd€")]


def test_credentials_that_are_not_utf8_are_bad_request() -> None:
    latin1 = "Basic " + base64.b64encode("jürgen:secret".encode("latin-1")).decode()
    assert bad_request(run(BasicStrategy(Verify()), request(latin1))) == (
        "Basic credentials are not valid UTF-8"
    )


@pytest.mark.parametrize(
    "token",
    [
        "Ym9iOnNlY3JldA",  # padding missing
        "Ym9iOnNlY3JldB==",  # stray bits in the last character
        "Ym9i OnNlY3JldA==",  # a space inside
        "Ym9iOnNlY3JldA==,",  # a comma after
        "Ym9iOnNlY3JldA===",  # too much padding
        "Ym9iOnNlY3JldA-_",  # the URL-safe alphabet
    ],
)
def test_non_canonical_base64_is_bad_request(token: str) -> None:
    verify = Verify()
    assert bad_request(run(BasicStrategy(verify), request(f"Basic {token}"))) == (
        "Basic credentials are not valid base64"
    )
    assert verify.calls == []


def test_credentials_without_colon_are_bad_request() -> None:
    header = "Basic " + base64.b64encode(b"bobsecret").decode()
    assert bad_request(run(BasicStrategy(Verify()), request(header))) == (
        "Basic credentials have no colon"
    )


@pytest.mark.parametrize("text", ["bob:sec\x00ret", "bo\nb:secret", "bob:secret\x7f"])
def test_control_characters_are_bad_request(text: str) -> None:
    header = "Basic " + base64.b64encode(text.encode()).decode()
    assert bad_request(run(BasicStrategy(Verify()), request(header))) == (
        "Basic credentials contain a control character"
    )


def test_verified_info_becomes_auth_info() -> None:
    decision = run(
        BasicStrategy(Verify(Verified(USER, {"scope": "read"}))), request(basic("a", "b"))
    )
    assert decision == Handoff(AuthResult(user=USER, info={"scope": "read"}))


def test_rejected_fails_with_challenge() -> None:
    decision = run(BasicStrategy(Verify(Rejected("Account locked"))), request(basic("a", "b")))
    assert failure(decision) == (CHALLENGE, None)


def test_async_verify_is_awaited() -> None:
    async def verify(userid: str, password: str) -> Any:
        return USER if (userid, password) == ("bob", "secret") else None

    assert run(BasicStrategy(verify), request(basic("bob", "secret"))).result.user == USER


def test_charset_option_announces_utf8() -> None:
    response = respond(BasicStrategy(Verify(), charset=True), request())
    assert headers_named(response, "WWW-Authenticate") == ['Basic realm="Users", charset="UTF-8"']


def test_realm_with_quote_is_escaped_in_challenge() -> None:
    strategy = BasicStrategy(Verify(), realm='My "app"\r\n')
    assert strategy.challenge == 'Basic realm="My \\"app\\"??"'


# -- through Starlette, Flask and Django -------------------------------------------------------


class FixedBearer(Strategy):
    """A stand-in bearer strategy for the `basic-or-bearer` chain: token `t0k3n` is alice."""

    name = "bearer"
    vary = ("Authorization",)

    def __init__(self, store: UserStore) -> None:
        self.store = store

    def authenticate(self, request: AuthRequest, options: AuthenticateOptions) -> Outcome:
        if request.headers.get("authorization") == "Bearer t0k3n":
            return self.success(self.store.by_name("alice"))
        return self.fail('Bearer realm="Users"')


def basic_passport() -> Authenticator[Any]:
    store = UserStore.default()
    store.add(User(3, "carol", "pass:word:"))
    passport: Authenticator[Any] = Authenticator()
    passport.use(BasicStrategy(store.verify))
    passport.use(FixedBearer(store))
    return passport


@pytest.fixture(params=FRAMEWORKS)
def client(request: pytest.FixtureRequest) -> httpx.Client:
    return token_client(request.param, basic_passport())


def assert_refused(response: httpx.Response, status: int, challenges: list[str]) -> None:
    """Refused: the status, its reason phrase, the challenges, no caching, nobody logged in."""
    assert response.status_code == status, response.text
    assert response.text == ("Unauthorized" if status == 401 else "Bad Request")
    # Django joins repeated headers into one comma-separated value (RFC 9110 section 5.3 says
    # they mean the same), so compare the joined list.
    assert ", ".join(response.headers.get_list("www-authenticate")) == ", ".join(challenges)
    assert response.headers["cache-control"] == "no-store"
    assert "Authorization" in response.headers["vary"]


def test_frameworks_authenticate_basic_credentials(client: httpx.Client) -> None:
    response = client.get("/tokens/basic", auth=("bob", "builder"))
    assert response.status_code == 200
    assert response.json() == {"user": "bob", "info": {}}
    assert response.headers["cache-control"] == "no-store"
    assert "Authorization" in response.headers["vary"]


def test_frameworks_keep_colons_in_password(client: httpx.Client) -> None:
    assert client.get("/tokens/basic", auth=("carol", "pass:word:")).json()["user"] == "carol"
    assert_refused(client.get("/tokens/basic", auth=("carol", "pass")), 401, [CHALLENGE])


def test_frameworks_answer_wrong_password_with_challenge(client: httpx.Client) -> None:
    assert_refused(client.get("/tokens/basic", auth=("bob", "nope")), 401, [CHALLENGE])


def test_frameworks_chain_basic_then_bearer(client: httpx.Client) -> None:
    route = "/tokens/basic-or-bearer"
    assert client.get(route, auth=("bob", "builder")).json()["user"] == "bob"
    assert client.get(route, headers={"Authorization": "Bearer t0k3n"}).json()["user"] == "alice"
    both = [CHALLENGE, 'Bearer realm="Users"']
    assert_refused(client.get(route), 401, both)
    assert_refused(client.get(route, auth=("bob", "nope")), 401, both)
    assert_refused(client.get(route, headers={"Authorization": "Basic !!"}), 400, [])


def send_raw(client: httpx.Client, path: str, lines: list[bytes]) -> httpx.Response:
    """GET `path` with these `Authorization` header lines as raw bytes (token_client serves
    Flask and Django the way a WSGI server does: Latin-1 text, repeats joined by commas)."""
    return client.get(path, headers=[(b"Authorization", line) for line in lines])


GOOD = basic("bob", "builder")

#: The issue's bad-input catalogue: case -> (raw header lines, status, challenges).
BAD_INPUT: dict[str, tuple[list[bytes], int, list[str]]] = {
    "missing": ([], 401, [CHALLENGE]),
    "empty": ([b""], 400, []),
    "oversized 64 KiB": ([b"Basic " + b"A" * 65536], 400, []),
    "non-ASCII": (["Basic Ym9iOmJ1aWxkZXI= ü".encode()], 400, []),
    "latin-1 bytes": ([b"Basic \xe9\xe9"], 400, []),
    "duplicated": ([GOOD.encode(), GOOD.encode()], 400, []),
    "wrong scheme": ([b"Bearer Ym9iOmJ1aWxkZXI="], 401, [CHALLENGE]),
    "scheme only": ([b"Basic"], 400, []),
    "bad base64": ([b"Basic ==="], 400, []),
    "two tokens": ([f"{GOOD} {GOOD[6:]}".encode()], 400, []),
    "no colon": ([b"Basic Ym9iYnVpbGRlcg=="], 400, []),
    "not UTF-8": ([b"Basic Ym9iOmL/aWxkZXI="], 400, []),
    "empty userid": ([basic("", "builder").encode()], 401, [CHALLENGE]),
}


@pytest.mark.parametrize("case", BAD_INPUT)
def test_frameworks_refuse_bad_input(client: httpx.Client, case: str) -> None:
    lines, status, challenges = BAD_INPUT[case]
    assert_refused(send_raw(client, "/tokens/basic", lines), status, challenges)
