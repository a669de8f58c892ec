"""`BearerStrategy`: passport-http-bearer's tests B1-B24, RFC 6750, and the bad-input corpus.

Reference: strategies.md section 2, security.md sections 2.3 (RFC 6750) and 4.1 (the
`Authorization` corpus). Engine-level tests come first (`TestRequest`), then every behaviour
through real Starlette, Flask and Django apps (tests/behaviour/tokens.py).

Adapted or not applicable IDs:

| ID | how and why |
| --- | --- |
| B2, B18 | "info undefined": a verify returning the bare user gives info None |
| B4, B5 | body and query tokens are read only with `allow_body` / `allow_query` (RFC 6750 |
| | §2.2-2.3, passport-http-bearer#59); without them they are ignored |
| B13 | a bare `Bearer` is a 400 with an `error="invalid_request"` challenge (RFC 6750 §3.1) |
| B14-B16 | the same 400 `invalid_request` with a challenge |
| B17 | the message is "BearerStrategy requires a verify callable" |
| B20 | `pass_request=True` prepends the neutral request (`request.path == "/"`) |
| B23 | not applicable: a verify returning a str returns that str as the user (API.md §4); |
| | the message travels in `Rejected(message)` (B22) |
| B24 | verify raising is an error (there is no `done(err)`) |
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import pytest
from behaviour.tokens import token_client
from engine_helpers import USER, Verify, authenticate, headers_named, make_passport
from users import UserStore

import passport_py.strategies.bearer as bearer_module
from passport_py import (
    AuthenticateOptions,
    Authenticator,
    AuthResult,
    Fail,
    Handoff,
    Rejected,
    Respond,
    Strategy,
    Success,
    Verified,
    maybe_await,
    run_sync,
)
from passport_py.strategies.bearer import BearerStrategy
from passport_py.testing import TestRequest

TOKEN = "mF_9.B5f-4.1JqM"
CHALLENGE = 'Bearer realm="Users"'
INVALID_TOKEN = 'Bearer realm="Users", error="invalid_token"'


def outcome(strategy: Strategy, request: TestRequest) -> Any:
    """What `strategy.authenticate` returns for `request`."""
    return run_sync(maybe_await(strategy.authenticate(request, AuthenticateOptions())))


def header(value: str) -> TestRequest:
    return TestRequest(method="GET", headers={"Authorization": value})


def invalid_request(description: str, realm: str = "Users") -> Fail:
    challenge = (
        f'Bearer realm="{realm}", error="invalid_request", error_description="{description}"'
    )
    return Fail(challenge, 400, www_authenticate=True)


def respond(strategy: BearerStrategy, request: TestRequest) -> Respond:
    decision = authenticate(make_passport(bearer=strategy), request, "bearer", session=False)
    assert isinstance(decision, Respond)
    return decision


# -- B1, B17: module and constructor ------------------------------------------------------------


def test_module_exports_bearer_strategy_and_name_is_bearer_B1() -> None:
    assert bearer_module.__all__ == ["BearerStrategy"]
    assert BearerStrategy(Verify()).name == "bearer"
    assert BearerStrategy.vary == ("Authorization",)


def test_constructing_without_callable_verify_raises_B17() -> None:
    with pytest.raises(TypeError, match="BearerStrategy requires a verify callable"):
        BearerStrategy(None)  # type: ignore[arg-type]


def test_a_hard_coded_token_string_is_refused_security_7_2_2() -> None:
    """security.md 7.2.2: one static token is not a bearer scheme; the error names the fix."""
    with pytest.raises(TypeError, match=r"not a token string.*keys_match"):
        BearerStrategy("s3cret-token")  # type: ignore[arg-type]


def test_scope_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(TypeError, match="scope must be a string or a list of strings"):
        BearerStrategy(Verify(), scope=42)  # type: ignore[arg-type]


# -- B2-B5: where the token comes from ----------------------------------------------------------


def test_token_in_authorization_header_succeeds_B2() -> None:
    verify = Verify()
    assert outcome(BearerStrategy(verify), header(f"Bearer {TOKEN}")) == Success(USER)
    assert verify.calls == [(TOKEN,)]


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
def test_scheme_is_case_insensitive_B3(scheme: str) -> None:
    assert outcome(BearerStrategy(Verify()), header(f"{scheme} {TOKEN}")) == Success(USER)


def test_token_in_form_body_with_allow_body_B4() -> None:
    verify = Verify()
    request = TestRequest(form={"access_token": TOKEN})
    assert outcome(BearerStrategy(verify, allow_body=True), request) == Success(USER)
    assert verify.calls == [(TOKEN,)]


def test_token_in_form_body_is_ignored_by_default_B4() -> None:
    verify = Verify()
    request = TestRequest(form={"access_token": TOKEN})
    assert outcome(BearerStrategy(verify), request) == Fail(CHALLENGE)
    assert verify.calls == []


@pytest.mark.parametrize(
    "request_",
    [
        TestRequest(method="GET", form={"access_token": TOKEN}),
        TestRequest(method="HEAD", form={"access_token": TOKEN}),
        TestRequest(json={"access_token": TOKEN}),
        TestRequest(form={"access_token": TOKEN}, content_type="multipart/form-data; boundary=x"),
    ],
    ids=["GET", "HEAD", "json", "multipart"],
)
def test_body_token_only_from_urlencoded_non_get_request_rfc6750_2_2(
    request_: TestRequest,
) -> None:
    verify = Verify()
    assert outcome(BearerStrategy(verify, allow_body=True), request_) == Fail(CHALLENGE)
    assert verify.calls == []


def test_token_in_query_with_allow_query_B5() -> None:
    verify = Verify()
    request = TestRequest(method="GET", query={"access_token": TOKEN})
    assert outcome(BearerStrategy(verify, allow_query=True), request) == Success(USER)
    assert verify.calls == [(TOKEN,)]


def test_token_in_query_is_treated_as_no_credentials_by_default_B5() -> None:
    """RFC 6750 §2.3 (security.md 2.3): `?access_token=<valid>` → 401 with no error."""
    verify = Verify()
    request = TestRequest(method="GET", query={"access_token": TOKEN})
    assert outcome(BearerStrategy(verify), request) == Fail(CHALLENGE)
    assert verify.calls == []


# -- B6-B12: the challenge when there is no token ------------------------------------------------


def test_realm_option_B6() -> None:
    assert outcome(BearerStrategy(Verify(), realm="example"), TestRequest()) == Fail(
        'Bearer realm="example"', None
    )


def test_scope_list_is_advertised_B7() -> None:
    strategy = BearerStrategy(Verify(), scope=["profile", "email"])
    assert outcome(strategy, TestRequest()) == Fail('Bearer realm="Users", scope="profile email"')


def test_scope_string_is_advertised_B8() -> None:
    strategy = BearerStrategy(Verify(), scope="profile")
    assert outcome(strategy, TestRequest()) == Fail('Bearer realm="Users", scope="profile"')


def test_no_credentials_is_a_challenge_without_error_B9() -> None:
    decision = respond(BearerStrategy(Verify()), TestRequest(method="GET"))
    assert (decision.status, decision.body) == (401, "Unauthorized")
    assert headers_named(decision, "WWW-Authenticate") == [CHALLENGE]
    assert headers_named(decision, "Vary") == ["Authorization"]


@pytest.mark.parametrize(
    "value",
    ["Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", f"Bearer2 {TOKEN}", f"XBearer {TOKEN}", "Negotiate x"],
    ids=["Basic-B10", "Bearer2-B11", "XBearer-B12", "Negotiate"],
)
def test_other_scheme_is_no_credentials_B10_B11_B12(value: str) -> None:
    verify = Verify()
    assert outcome(BearerStrategy(verify), header(value)) == Fail(CHALLENGE)
    assert verify.calls == []


# -- B13-B16: malformed and ambiguous requests ---------------------------------------------------


@pytest.mark.parametrize("value", ["Bearer", "Bearer ", "bearer   "])
def test_scheme_without_token_is_invalid_request_B13(value: str) -> None:
    verify = Verify()
    assert outcome(BearerStrategy(verify), header(value)) == invalid_request(
        "The Authorization header must be 'Bearer <token>'"
    )
    assert verify.calls == []


def test_invalid_request_through_engine_is_400_with_challenge_B13() -> None:
    decision = respond(BearerStrategy(Verify()), header("Bearer a b"))
    assert (decision.status, decision.body) == (400, "Bad Request")
    assert headers_named(decision, "WWW-Authenticate") == [
        'Bearer realm="Users", error="invalid_request", '
        "error_description=\"The Authorization header must be 'Bearer <token>'\""
    ]


def test_header_and_form_body_is_invalid_request_B14() -> None:
    request = TestRequest(headers={"Authorization": f"Bearer {TOKEN}"}, form={"access_token": "x"})
    strategy = BearerStrategy(Verify(), allow_body=True)
    assert outcome(strategy, request) == invalid_request(
        "The access token was sent in more than one place"
    )


def test_header_and_query_is_invalid_request_B15() -> None:
    request = TestRequest(
        method="GET", headers={"Authorization": f"Bearer {TOKEN}"}, query={"access_token": "x"}
    )
    strategy = BearerStrategy(Verify(), allow_query=True)
    assert outcome(strategy, request) == invalid_request(
        "The access token was sent in more than one place"
    )


def test_form_body_and_query_is_invalid_request_B16() -> None:
    request = TestRequest(query={"access_token": TOKEN}, form={"access_token": TOKEN})
    strategy = BearerStrategy(Verify(), allow_body=True, allow_query=True)
    assert outcome(strategy, request) == invalid_request(
        "The access token was sent in more than one place"
    )


def test_query_token_ignored_without_allow_query_is_no_conflict() -> None:
    verify = Verify()
    request = TestRequest(
        method="GET", headers={"Authorization": f"Bearer {TOKEN}"}, query={"access_token": "x"}
    )
    assert outcome(BearerStrategy(verify), request) == Success(USER)
    assert verify.calls == [(TOKEN,)]


def test_duplicated_query_parameter_is_invalid_request() -> None:
    request = TestRequest(method="GET", query=[("access_token", "a"), ("access_token", "b")])
    assert outcome(BearerStrategy(Verify(), allow_query=True), request) == invalid_request(
        "access_token was sent more than once in the query string"
    )


def test_duplicated_form_field_is_invalid_request() -> None:
    request = TestRequest(form=[("access_token", "a"), ("access_token", "b")])
    assert outcome(BearerStrategy(Verify(), allow_body=True), request) == invalid_request(
        "access_token was sent more than once in the form body"
    )


def test_two_authorization_headers_are_invalid_request() -> None:
    request = TestRequest(headers=[("Authorization", "Bearer a"), ("Authorization", "Bearer b")])
    assert outcome(BearerStrategy(Verify()), request) == invalid_request(
        "Authorization header sent more than once"
    )


@pytest.mark.parametrize("token", ['"tok"', "{}", "t,k", "=abc", "a=b", "töken", ""], ids=repr)
def test_token_outside_b64token_syntax_is_invalid_request_rfc6750_2_1(token: str) -> None:
    verify = Verify()
    request = TestRequest(method="GET", query={"access_token": token})
    expected = "The access token is malformed"
    assert outcome(BearerStrategy(verify, allow_query=True), request) == invalid_request(expected)
    assert verify.calls == []


def test_oversized_query_token_is_invalid_request() -> None:
    request = TestRequest(method="GET", query={"access_token": "a" * 65536})
    assert outcome(BearerStrategy(Verify(), allow_query=True), request) == invalid_request(
        "The access token is too long"
    )


# -- B18-B24: verify ----------------------------------------------------------------------------


def test_verify_receives_the_exact_token_B18() -> None:
    verify = Verify()
    assert outcome(BearerStrategy(verify), header("Bearer abc+/-._~==")) == Success(USER)
    assert verify.calls == [("abc+/-._~==",)]


def test_verified_info_is_passed_through_B19() -> None:
    info = {"scope": ["profile", "email"]}
    strategy = BearerStrategy(Verify(Verified(USER, info)))
    decision = authenticate(
        make_passport(bearer=strategy), header(f"Bearer {TOKEN}"), "bearer", callback=True
    )
    assert decision == Handoff(AuthResult(user=USER, info=info))


def test_pass_request_gives_verify_the_request_B20() -> None:
    def verify(request: Any, token: str) -> Any:
        return Verified(USER, {"path": request.path, "token": token})

    strategy = BearerStrategy(verify, pass_request=True)
    assert outcome(strategy, header(f"Bearer {TOKEN}")) == Success(
        USER, {"path": "/", "token": TOKEN}
    )


@pytest.mark.parametrize("result", [None, False])
def test_verify_rejecting_is_invalid_token_B21(result: Any) -> None:
    decision = respond(BearerStrategy(Verify(result)), header(f"Bearer {TOKEN}"))
    assert decision.status == 401
    assert headers_named(decision, "WWW-Authenticate") == [INVALID_TOKEN]


def test_rejected_message_is_the_error_description_B22() -> None:
    strategy = BearerStrategy(Verify(Rejected("The access token expired")))
    assert outcome(strategy, header(f"Bearer {TOKEN}")) == Fail(
        'Bearer realm="Users", error="invalid_token", error_description="The access token expired"'
    )


def test_invalid_token_with_scope_configured_keeps_passport_order_B21() -> None:
    strategy = BearerStrategy(Verify(None), scope=["read", "write"])
    assert outcome(strategy, header(f"Bearer {TOKEN}")) == Fail(
        'Bearer realm="Users", scope="read write", error="invalid_token"'
    )


def test_verify_raising_is_an_error_B24() -> None:
    boom = ConnectionError("something went wrong")
    strategy = BearerStrategy(Verify(boom))
    decision = authenticate(
        make_passport(bearer=strategy), header(f"Bearer {TOKEN}"), "bearer", callback=True
    )
    assert isinstance(decision, Handoff)
    assert decision.result.error is boom


def test_async_verify_is_awaited_B18() -> None:
    async def verify(token: str) -> Any:
        await asyncio.sleep(0)
        return USER if token == TOKEN else None

    assert outcome(BearerStrategy(verify), header(f"Bearer {TOKEN}")) == Success(USER)
    assert outcome(BearerStrategy(verify), header("Bearer other")) == Fail(INVALID_TOKEN)


# -- RFC 6750 §3.1 beyond Passport: insufficient_scope, escaping, no echo ------------------------


def test_rejected_with_scope_is_403_insufficient_scope() -> None:
    decision = respond(BearerStrategy(Verify(Rejected(scope="admin"))), header(f"Bearer {TOKEN}"))
    assert (decision.status, decision.body) == (403, "Forbidden")
    assert headers_named(decision, "WWW-Authenticate") == [
        'Bearer realm="Users", error="insufficient_scope", scope="admin"'
    ]


def test_rejected_with_scope_list_and_message() -> None:
    result = Rejected("Needs write access", scope=["write", "admin"])
    assert outcome(BearerStrategy(Verify(result)), header(f"Bearer {TOKEN}")) == Fail(
        'Bearer realm="Users", error="insufficient_scope", '
        'error_description="Needs write access", scope="write admin"',
        403,
        www_authenticate=True,
    )


def test_error_description_is_escaped_and_cannot_split_the_header() -> None:
    result = Rejected('bad "token" \\ here\r\nX-Injected: 1')
    [value] = headers_named(
        respond(BearerStrategy(Verify(result)), header("Bearer t")), "WWW-Authenticate"
    )
    assert value == (
        'Bearer realm="Users", error="invalid_token", '
        'error_description="bad \\"token\\" \\\\ here??X-Injected: 1"'
    )


def test_realm_is_escaped() -> None:
    strategy = BearerStrategy(Verify(), realm='my "api"')
    assert outcome(strategy, TestRequest()) == Fail('Bearer realm="my \\"api\\""')


@pytest.mark.parametrize(
    "request_",
    [
        header("Bearer s3cr3t-token-value"),
        header("Bearer s3cr3t-token-value extra"),
        TestRequest(method="GET", query={"access_token": "s3cr3t-token-value!"}),
    ],
    ids=["invalid_token", "invalid_request-header", "invalid_request-query"],
)
def test_challenge_never_echoes_the_token(request_: TestRequest) -> None:
    strategy = BearerStrategy(Verify(None), allow_query=True)
    response = respond(strategy, request_)
    assert response.status in (400, 401)
    assert all("s3cr3t" not in value for _, value in response.headers)


def test_invalid_request_status_wins_over_a_chained_401() -> None:
    """The first explicit status (400) wins and only its own challenge is sent."""

    class Basic(Strategy):
        name = "basic"

        def authenticate(self, request: Any, options: Any) -> Fail:
            return self.fail('Basic realm="Users"')

    passport = make_passport(basic=Basic(), bearer=BearerStrategy(Verify()))
    decision = authenticate(passport, header("Bearer"), ["basic", "bearer"], session=False)
    assert isinstance(decision, Respond)
    assert decision.status == 400
    [value] = headers_named(decision, "WWW-Authenticate")
    assert value.startswith('Bearer realm="Users", error="invalid_request"')


# -- through Starlette, Flask and Django ---------------------------------------------------------


STORE = UserStore.default()
BOB_TOKEN = "bob/token+1=="


def verify_token(token: str) -> Any:
    """alice's and bob's tokens; two that verify refuses with a message or a missing scope."""
    if token == "expired-token":
        return Rejected("The access token expired")
    if token == "read-only-token":
        return Rejected(scope="admin")
    user = {TOKEN: STORE.users[1], BOB_TOKEN: STORE.users[2]}.get(token)
    return Verified(user, {"scope": "read"}) if user is not None else None


def bearer_passport(**options: Any) -> Authenticator[Any]:
    return Authenticator().use(BearerStrategy(verify_token, **options))


@pytest.fixture(scope="module")
def client(framework: str) -> Iterator[httpx.Client]:
    """The default configuration: header only."""
    with token_client(framework, bearer_passport()) as c:
        yield c


@pytest.fixture(scope="module")
def open_client(framework: str) -> Iterator[httpx.Client]:
    """Body and query tokens enabled, and a scope advertised."""
    passport = bearer_passport(allow_body=True, allow_query=True, scope=["profile", "email"])
    with token_client(framework, passport) as c:
        yield c


def check(response: httpx.Response, status: int, error: str | None, user: str | None) -> None:
    """Status, body, user, and the one challenge with its `error` (None: no error attribute)."""
    assert response.status_code == status, response.text
    challenges = response.headers.get_list("www-authenticate")
    if status == 200:
        assert response.json()["user"] == user
        assert challenges == []
        return
    assert response.text == {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden"}[status]
    assert len(challenges) == 1
    assert challenges[0].startswith('Bearer realm="Users"')
    found = re.search(r', error="([a-z_]+)"', challenges[0])
    assert (found.group(1) if found else None) == error, challenges
    assert "authorization" in response.headers["vary"].lower()
    assert response.headers["cache-control"] == "no-store"


Headers = Sequence[tuple[str, str | bytes]]

#: security.md 4.1, plus RFC 6750's cases: (id, Authorization values, status, error, user).
AUTHORIZATION_CORPUS: list[tuple[str, Headers, int, str | None, str | None]] = [
    ("valid", [("Authorization", f"Bearer {TOKEN}")], 200, None, "alice"),
    ("valid-b64-chars", [("Authorization", f"Bearer {BOB_TOKEN}")], 200, None, "bob"),
    ("lowercase-scheme", [("Authorization", f"bearer {TOKEN}")], 200, None, "alice"),
    ("uppercase-scheme", [("Authorization", f"BEARER {TOKEN}")], 200, None, "alice"),
    ("mixed-case-scheme", [("Authorization", f"BeArEr {TOKEN}")], 200, None, "alice"),
    ("two-spaces", [("Authorization", f"Bearer  {TOKEN}")], 200, None, "alice"),  # 1*SP
    ("absent", [], 401, None, None),
    ("basic-scheme", [("Authorization", "Basic dXNlcjpwYXNz")], 401, None, None),
    ("digest-scheme", [("Authorization", 'Digest username="u"')], 401, None, None),
    ("negotiate-scheme", [("Authorization", "Negotiate YIIB")], 401, None, None),
    ("dpop-scheme", [("Authorization", f"DPoP {TOKEN}")], 401, None, None),
    ("bearer2-scheme", [("Authorization", f"Bearer2 {TOKEN}")], 401, None, None),
    ("wrong-token", [("Authorization", "Bearer wrong")], 401, "invalid_token", None),
    ("null", [("Authorization", "Bearer null")], 401, "invalid_token", None),
    ("undefined", [("Authorization", "Bearer undefined")], 401, "invalid_token", None),
    ("dot", [("Authorization", "Bearer .")], 401, "invalid_token", None),
    ("dots", [("Authorization", "Bearer ...")], 401, "invalid_token", None),
    ("padding", [("Authorization", f"Bearer {TOKEN}=")], 401, "invalid_token", None),
    ("expired", [("Authorization", "Bearer expired-token")], 401, "invalid_token", None),
    (
        "missing-scope",
        [("Authorization", "Bearer read-only-token")],
        403,
        "insufficient_scope",
        None,
    ),
    ("empty-value", [("Authorization", "")], 400, "invalid_request", None),
    ("scheme-only", [("Authorization", "Bearer")], 400, "invalid_request", None),
    ("trailing-space", [("Authorization", "Bearer ")], 400, "invalid_request", None),
    ("tab", [("Authorization", f"Bearer\t{TOKEN}")], 400, "invalid_request", None),
    ("extra-part", [("Authorization", f"Bearer {TOKEN} extra")], 400, "invalid_request", None),
    ("quoted", [("Authorization", f'Bearer "{TOKEN}"')], 400, "invalid_request", None),
    ("object", [("Authorization", "Bearer [object Object]")], 400, "invalid_request", None),
    ("braces", [("Authorization", "Bearer {}")], 400, "invalid_request", None),
    ("list", [("Authorization", f"Bearer {TOKEN}, Bearer b")], 400, "invalid_request", None),
    (
        "two-headers",
        [("Authorization", f"Bearer {TOKEN}"), ("Authorization", f"Bearer {TOKEN}")],
        400,
        "invalid_request",
        None,
    ),
    ("nul", [("Authorization", f"Bearer {TOKEN}==\x00")], 400, "invalid_request", None),
    ("non-ascii", [("Authorization", "Bearer töken".encode())], 400, "invalid_request", None),
    (
        "fullwidth",
        [("Authorization", "Bearer \uff34\uff2f\uff2b\uff25\uff2e".encode())],
        400,
        "invalid_request",
        None,
    ),
    (
        "zero-width",
        [("Authorization", "Bearer to\u200bken".encode())],
        400,
        "invalid_request",
        None,
    ),
    (
        "rtl-override",
        [("Authorization", "Bearer \u202etok".encode())],
        400,
        "invalid_request",
        None,
    ),
    ("latin-1", [("Authorization", b"Bearer \xe9t\xe9")], 400, "invalid_request", None),
    ("8-kib", [("Authorization", "Bearer " + "a" * 8192)], 400, "invalid_request", None),
    ("64-kib", [("Authorization", "Bearer " + "a" * 65536)], 400, "invalid_request", None),
    ("100k-dots", [("Authorization", "Bearer " + "a." * 50_000)], 400, "invalid_request", None),
]


@pytest.mark.parametrize(
    ("case", "headers", "status", "error", "user"),
    AUTHORIZATION_CORPUS,
    ids=[case[0] for case in AUTHORIZATION_CORPUS],
)
def test_authorization_corpus(
    client: httpx.Client,
    case: str,
    headers: Headers,
    status: int,
    error: str | None,
    user: str | None,
) -> None:
    check(client.get("/tokens/bearer", headers=list(headers)), status, error, user)


def test_crlf_in_the_header_at_the_asgi_boundary() -> None:
    """security.md 4.1: a raw ASGI scope can carry CR/LF. A WSGI server splits such a line
    into two headers before the app sees it, so this case exists only for Starlette."""
    with token_client("starlette", bearer_passport()) as starlette:
        response = starlette.get(
            "/tokens/bearer", headers=[("Authorization", b"Bearer a\r\nX-Injected: 1")]
        )
    check(response, 400, "invalid_request", None)
    assert "x-injected" not in response.headers


def test_success_answers_user_and_info(client: httpx.Client) -> None:
    response = client.get("/tokens/bearer", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.json() == {"user": "alice", "info": {"scope": "read"}}
    assert "set-cookie" not in response.headers


def test_success_response_varies_on_authorization(client: httpx.Client) -> None:
    response = client.get("/tokens/bearer", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert "authorization" in response.headers.get("vary", "").lower()
    assert response.headers.get("cache-control") == "no-store"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([], CHALLENGE),
        ([("Authorization", "Bearer wrong")], INVALID_TOKEN),
        (
            [("Authorization", "Bearer expired-token")],
            INVALID_TOKEN + ', error_description="The access token expired"',
        ),
        (
            [("Authorization", "Bearer read-only-token")],
            'Bearer realm="Users", error="insufficient_scope", scope="admin"',
        ),
        (
            [("Authorization", "Bearer a b")],
            'Bearer realm="Users", error="invalid_request", '
            "error_description=\"The Authorization header must be 'Bearer <token>'\"",
        ),
    ],
    ids=["none-B9", "wrong-B21", "message-B22", "scope-403", "malformed-B13"],
)
def test_exact_challenges(
    client: httpx.Client, headers: list[tuple[str, str]], expected: str
) -> None:
    response = client.get("/tokens/bearer", headers=headers)
    assert response.headers.get_list("www-authenticate") == [expected]


@pytest.mark.parametrize("where", ["query", "body"])
def test_query_and_body_tokens_are_ignored_by_default(client: httpx.Client, where: str) -> None:
    if where == "query":
        response = client.get("/tokens/bearer", params={"access_token": TOKEN})
    else:
        response = client.post("/tokens/bearer", data={"access_token": TOKEN})
    check(response, 401, None, None)
    assert response.headers["www-authenticate"] == CHALLENGE


#: With allow_body and allow_query: (id, request kwargs, status, error, user).
OPEN_CASES: list[tuple[str, dict[str, Any], int, str | None, str | None]] = [
    ("body-B4", {"method": "POST", "data": {"access_token": TOKEN}}, 200, None, "alice"),
    ("query-B5", {"params": {"access_token": TOKEN}}, 200, None, "alice"),
    ("wrong-query-token", {"params": {"access_token": "nope"}}, 401, "invalid_token", None),
    ("none-B7", {}, 401, None, None),
    (
        "header-and-body-B14",
        {
            "method": "POST",
            "headers": {"Authorization": f"Bearer {TOKEN}"},
            "data": {"access_token": TOKEN},
        },
        400,
        "invalid_request",
        None,
    ),
    (
        "header-and-query-B15",
        {"headers": {"Authorization": f"Bearer {TOKEN}"}, "params": {"access_token": TOKEN}},
        400,
        "invalid_request",
        None,
    ),
    (
        "body-and-query-B16",
        {"method": "POST", "params": {"access_token": TOKEN}, "data": {"access_token": TOKEN}},
        400,
        "invalid_request",
        None,
    ),
    (
        "duplicated-query",
        {"params": [("access_token", TOKEN), ("access_token", TOKEN)]},
        400,
        "invalid_request",
        None,
    ),
    (
        "duplicated-body",
        {"method": "POST", "data": {"access_token": [TOKEN, TOKEN]}},
        400,
        "invalid_request",
        None,
    ),
    ("empty-query", {"params": {"access_token": ""}}, 400, "invalid_request", None),
    ("non-ascii-query", {"params": {"access_token": "töken"}}, 400, "invalid_request", None),
    # httpx refuses a query component over 64 KiB, so this one stays just under it
    ("64-kib-query", {"params": {"access_token": "a" * 65000}}, 400, "invalid_request", None),
    (
        "64-kib-body",
        {"method": "POST", "data": {"access_token": "a" * 65536}},
        400,
        "invalid_request",
        None,
    ),
    (
        "get-with-form-body",
        {
            "content": f"access_token={TOKEN}".encode(),
            "headers": {"content-type": "application/x-www-form-urlencoded"},
        },
        401,
        None,
        None,
    ),
    ("json-body", {"method": "POST", "json": {"access_token": TOKEN}}, 401, None, None),
    (
        "multipart-body",
        {"method": "POST", "files": {"access_token": (None, TOKEN)}},
        401,
        None,
        None,
    ),
]


@pytest.mark.parametrize(
    ("case", "kwargs", "status", "error", "user"),
    OPEN_CASES,
    ids=[case[0] for case in OPEN_CASES],
)
def test_body_and_query_tokens_when_enabled(
    open_client: httpx.Client,
    case: str,
    kwargs: dict[str, Any],
    status: int,
    error: str | None,
    user: str | None,
) -> None:
    options = dict(kwargs)  # the table is shared by every framework's run
    response = open_client.request(options.pop("method", "GET"), "/tokens/bearer", **options)
    check(response, status, error, user)


def test_scope_is_advertised_in_every_challenge_B7(open_client: httpx.Client) -> None:
    assert open_client.get("/tokens/bearer").headers.get_list("www-authenticate") == [
        'Bearer realm="Users", scope="profile email"'
    ]
    wrong = open_client.get("/tokens/bearer", headers={"Authorization": "Bearer nope"})
    assert wrong.headers.get_list("www-authenticate") == [
        'Bearer realm="Users", scope="profile email", error="invalid_token"'
    ]


# -- the "basic-or-bearer" chain ------------------------------------------------------------------


class FakeBasic(Strategy):
    """Stands in for BasicStrategy: always fails with its challenge."""

    name = "basic"
    vary = ("Authorization",)

    def authenticate(self, request: Any, options: Any) -> Fail:
        return self.fail('Basic realm="Users"')


@pytest.fixture(scope="module")
def chain_client(framework: str) -> Iterator[httpx.Client]:
    passport = bearer_passport().use(FakeBasic())
    with token_client(framework, passport) as c:
        yield c


def challenges(response: httpx.Response) -> str:
    """Every `WWW-Authenticate` value, comma-joined: Django sends several as one header (RFC
    9110 §5.3 allows it), Starlette and Flask as separate lines."""
    return ", ".join(response.headers.get_list("www-authenticate"))


def test_chain_without_credentials_sends_both_challenges(chain_client: httpx.Client) -> None:
    response = chain_client.get("/tokens/basic-or-bearer")
    assert (response.status_code, response.text) == (401, "Unauthorized")
    assert challenges(response) == f'Basic realm="Users", {CHALLENGE}'
    assert "authorization" in response.headers["vary"].lower()


def test_chain_with_valid_bearer_token_succeeds(chain_client: httpx.Client) -> None:
    response = chain_client.get(
        "/tokens/basic-or-bearer", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.json() == {"user": "alice", "info": {"scope": "read"}}


def test_chain_with_wrong_token_sends_both_challenges(chain_client: httpx.Client) -> None:
    response = chain_client.get("/tokens/basic-or-bearer", headers={"Authorization": "Bearer x"})
    assert response.status_code == 401
    assert challenges(response) == f'Basic realm="Users", {INVALID_TOKEN}'


def test_chain_with_malformed_bearer_header_is_400(chain_client: httpx.Client) -> None:
    response = chain_client.get("/tokens/basic-or-bearer", headers={"Authorization": "Bearer"})
    assert response.status_code == 400
    [value] = response.headers.get_list("www-authenticate")
    assert value.startswith('Bearer realm="Users", error="invalid_request"')
