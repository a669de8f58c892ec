"""`ApiKeyStrategy` and its helpers `keys_match` / `hash_key`.

There is no Passport package for API keys, so no reference IDs: the behaviour is issue 4's
("a constant-time comparison helper") and its "Bad input" section (missing, empty, oversized,
non-ASCII, wrong place, duplicated, malformed → the documented 400/401, never a 500), plus
security.md 11.2.4 (constant-time comparison of static keys). Engine-level tests first, then the
same cases through real Starlette, Flask and Django apps.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from behaviour.tokens import FRAMEWORKS, token_client
from engine_helpers import USER, Verify, authenticate, headers_named, make_passport
from users import UserStore

from passport_py import (
    AuthenticateOptions,
    Authenticator,
    AuthResult,
    Fail,
    Handoff,
    Rejected,
    Respond,
    Success,
    Verified,
    maybe_await,
    run_sync,
)
from passport_py.strategies import apikey
from passport_py.strategies.apikey import ApiKeyStrategy, hash_key, keys_match
from passport_py.testing import TestRequest

KEY = "k-live-3f9a.Zx_~+/="
MISSING = Fail({"message": "Missing API key"})


def outcome(strategy: ApiKeyStrategy, request: TestRequest) -> Any:
    return run_sync(maybe_await(strategy.authenticate(request, AuthenticateOptions())))


def keyed(value: str, **kwargs: Any) -> TestRequest:
    return TestRequest(method="GET", headers={"X-API-Key": value}, **kwargs)


def bad(message: str) -> Fail:
    """What the engine makes of the strategy's `BadRequest(message)`."""
    return Fail({"message": message}, 400)


def run(strategy: ApiKeyStrategy, request: TestRequest) -> Any:
    """The single failure (challenge, status) or success of the engine with a callback."""
    decision = authenticate(make_passport(apikey=strategy), request, "apikey", callback=True)
    assert isinstance(decision, Handoff)
    result = decision.result
    if result.user is not None or result.error is not None:
        return result
    [challenge] = result.challenges
    [status] = result.statuses
    return Fail(challenge, status)


# -- construction ---------------------------------------------------------------------------------


def test_name_is_apikey_and_module_exports() -> None:
    assert ApiKeyStrategy(Verify()).name == "apikey"
    assert set(apikey.__all__) >= {"ApiKeyStrategy", "keys_match", "hash_key"}


def test_vary_names_the_configured_header() -> None:
    assert ApiKeyStrategy(Verify()).vary == ("X-API-Key",)
    assert ApiKeyStrategy(Verify(), header="X-Partner-Key").vary == ("X-Partner-Key",)
    assert ApiKeyStrategy(Verify(), header=None, query="api_key").vary == ()
    assert ApiKeyStrategy.vary == ("X-API-Key",)  # the instance value shadows, never mutates


def test_constructing_without_callable_verify_raises() -> None:
    with pytest.raises(TypeError, match="ApiKeyStrategy requires a verify callable"):
        ApiKeyStrategy("k-live-3f9a")  # type: ignore[arg-type]


def test_constructing_without_header_or_query_raises() -> None:
    with pytest.raises(TypeError, match="needs a header, a query parameter or both"):
        ApiKeyStrategy(Verify(), header=None)


# -- reading the key ------------------------------------------------------------------------------


def test_key_in_header_is_verified() -> None:
    verify = Verify()
    assert outcome(ApiKeyStrategy(verify), keyed(KEY)) == Success(USER)
    assert verify.calls == [(KEY,)]


def test_header_name_is_case_insensitive() -> None:
    request = TestRequest(headers={"x-api-key": KEY})
    assert outcome(ApiKeyStrategy(Verify()), request) == Success(USER)


def test_custom_header() -> None:
    verify = Verify()
    request = TestRequest(headers={"X-Partner-Key": KEY})
    assert outcome(ApiKeyStrategy(verify, header="X-Partner-Key"), request) == Success(USER)
    assert outcome(ApiKeyStrategy(verify, header="X-Partner-Key"), keyed(KEY)) == MISSING


def test_key_in_query_when_enabled() -> None:
    verify = Verify()
    request = TestRequest(method="GET", query={"api_key": KEY})
    assert outcome(ApiKeyStrategy(verify, query="api_key"), request) == Success(USER)
    assert verify.calls == [(KEY,)]


def test_key_in_query_is_ignored_by_default() -> None:
    verify = Verify()
    request = TestRequest(method="GET", query={"api_key": KEY})
    assert outcome(ApiKeyStrategy(verify), request) == MISSING
    assert verify.calls == []


def test_query_only_configuration_ignores_the_header() -> None:
    strategy = ApiKeyStrategy(Verify(), header=None, query="key")
    assert outcome(strategy, keyed(KEY)) == MISSING
    assert outcome(strategy, TestRequest(query={"key": KEY})) == Success(USER)


def test_missing_key_is_401_without_www_authenticate() -> None:
    decision = authenticate(
        make_passport(apikey=ApiKeyStrategy(Verify())), TestRequest(), "apikey", session=False
    )
    assert isinstance(decision, Respond)
    assert (decision.status, decision.body) == (401, "Unauthorized")
    assert headers_named(decision, "WWW-Authenticate") == []
    assert headers_named(decision, "Vary") == ["X-API-Key"]


# -- verify's answers -----------------------------------------------------------------------------


@pytest.mark.parametrize("result", [None, False])
def test_wrong_key_is_401_without_challenge(result: Any) -> None:
    assert run(ApiKeyStrategy(Verify(result)), keyed(KEY)) == Fail(None, None)


def test_rejected_message() -> None:
    strategy = ApiKeyStrategy(Verify(Rejected("Key revoked")))
    assert run(strategy, keyed(KEY)) == Fail({"message": "Key revoked"}, None)


def test_verified_info() -> None:
    strategy = ApiKeyStrategy(Verify(Verified(USER, {"scope": "read"})))
    assert run(strategy, keyed(KEY)) == AuthResult(user=USER, info={"scope": "read"})


def test_pass_request_gives_verify_the_request() -> None:
    def verify(request: Any, key: str) -> Any:
        return Verified(USER, {"path": request.path, "key": key})

    strategy = ApiKeyStrategy(verify, pass_request=True)
    assert outcome(strategy, keyed(KEY)) == Success(USER, {"path": "/", "key": KEY})


def test_async_verify_is_awaited() -> None:
    async def verify(key: str) -> Any:
        await asyncio.sleep(0)
        return USER if keys_match(key, KEY) else None

    assert outcome(ApiKeyStrategy(verify), keyed(KEY)) == Success(USER)


def test_verify_raising_is_an_error() -> None:
    boom = ConnectionError("database down")
    result = run(ApiKeyStrategy(Verify(boom)), keyed(KEY))
    assert result.error is boom


# -- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (keyed(""), "API key is empty"),
        (keyed("a" * 1025), "API key is too long"),
        (keyed("a" * 65536), "API key is too long"),
        (keyed("k\u00f6y"), "API key must be printable ASCII without spaces or commas"),
        (keyed("k y"), "API key must be printable ASCII without spaces or commas"),
        (keyed("k\ty"), "API key must be printable ASCII without spaces or commas"),
        (keyed("k\x00y"), "API key must be printable ASCII without spaces or commas"),
        (keyed(f"{KEY},{KEY}"), "API key must be printable ASCII without spaces or commas"),
        (
            TestRequest(headers=[("X-API-Key", KEY), ("X-API-Key", KEY)]),
            "API key sent more than once in the X-API-Key header",
        ),
        (
            TestRequest(method="GET", query=[("api_key", KEY), ("api_key", KEY)]),
            "API key sent more than once in the api_key parameter",
        ),
        (keyed(KEY, query={"api_key": KEY}), "API key sent in more than one place"),
        (TestRequest(method="GET", query={"api_key": ""}), "API key is empty"),
    ],
    ids=[
        "empty",
        "1-kib-plus-1",
        "64-kib",
        "non-ascii",
        "space",
        "tab",
        "nul",
        "comma-joined",
        "two-headers",
        "two-params",
        "header-and-query",
        "empty-query",
    ],
)
def test_bad_input_is_400_before_verify(request_: TestRequest, message: str) -> None:
    verify = Verify()
    assert run(ApiKeyStrategy(verify, query="api_key"), request_) == bad(message)
    assert verify.calls == []


def test_max_length_is_configurable() -> None:
    strategy = ApiKeyStrategy(Verify(), max_length=8)
    assert run(strategy, keyed("a" * 9)) == bad("API key is too long")
    assert outcome(strategy, keyed("a" * 8)) == Success(USER)


# -- helpers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected", "match"),
    [
        (KEY, KEY, True),
        (KEY, KEY + "x", False),
        ("", KEY, False),
        ("", "", True),
        ("clé", "clé", True),
        ("cle", "clé", False),
    ],
)
def test_keys_match(given: str, expected: str, match: bool) -> None:
    assert keys_match(given, expected) is match


def test_keys_match_compares_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """security.md 11.2.4: static keys are compared with `hmac.compare_digest`."""
    seen: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(apikey.hmac, "compare_digest", spy)
    assert keys_match("abc", "abd") is False
    assert seen == [(b"abc", b"abd")]


def test_keys_match_never_raises_on_odd_text() -> None:
    assert keys_match("\ud800", "x") is False


def test_hash_key_is_sha256_hex() -> None:
    assert hash_key(KEY) == hashlib.sha256(KEY.encode()).hexdigest()
    assert len(hash_key("")) == 64


# -- through Starlette, Flask and Django ---------------------------------------------------------


STORE = UserStore.default()
KEYS = {hash_key(KEY): STORE.users[2]}  # stored hashed, looked up by digest


def verify_key(key: str) -> Any:
    if key == "revoked-key":
        return Rejected("Key revoked")
    user = KEYS.get(hash_key(key))
    return Verified(user, {"via": "api-key"}) if user is not None else None


@pytest.fixture(scope="module", params=FRAMEWORKS)
def client(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    passport = Authenticator().use(ApiKeyStrategy(verify_key, query="api_key"))
    with token_client(str(request.param), passport) as c:
        yield c


#: (id, request kwargs, status, user): every entry also checks headers and body.
CASES: list[tuple[str, dict[str, Any], int, str | None]] = [
    ("header", {"headers": {"X-API-Key": KEY}}, 200, "bob"),
    ("header-lowercase-name", {"headers": {"x-api-key": KEY}}, 200, "bob"),
    ("query", {"params": {"api_key": KEY}}, 200, "bob"),
    ("missing", {}, 401, None),
    ("other-header", {"headers": {"Authorization": f"Bearer {KEY}"}}, 401, None),
    ("wrong", {"headers": {"X-API-Key": "k-guess"}}, 401, None),
    ("revoked", {"headers": {"X-API-Key": "revoked-key"}}, 401, None),
    ("null", {"headers": {"X-API-Key": "null"}}, 401, None),
    ("empty", {"headers": {"X-API-Key": ""}}, 400, None),
    ("1-kib-plus-1", {"headers": {"X-API-Key": "a" * 1025}}, 400, None),
    ("64-kib", {"headers": {"X-API-Key": "a" * 65536}}, 400, None),
    ("non-ascii", {"headers": {"X-API-Key": "k\u00f6y".encode()}}, 400, None),
    ("latin-1-bytes", {"headers": {"X-API-Key": b"k\xe9y"}}, 400, None),
    ("zero-width", {"headers": {"X-API-Key": "k\u200by".encode()}}, 400, None),
    ("inner-space", {"headers": {"X-API-Key": "k y"}}, 400, None),
    ("inner-tab", {"headers": {"X-API-Key": "k\ty"}}, 400, None),
    ("comma-list", {"headers": {"X-API-Key": f"{KEY}, {KEY}"}}, 400, None),
    ("two-headers", {"headers": [("X-API-Key", KEY), ("X-API-Key", KEY)]}, 400, None),
    (
        "header-and-query",
        {"headers": {"X-API-Key": KEY}, "params": {"api_key": KEY}},
        400,
        None,
    ),
    ("two-params", {"params": [("api_key", KEY), ("api_key", KEY)]}, 400, None),
    ("empty-param", {"params": {"api_key": ""}}, 400, None),
    ("non-ascii-param", {"params": {"api_key": "k\u00f6y"}}, 400, None),
]


@pytest.mark.parametrize(
    ("case", "kwargs", "status", "user"), CASES, ids=[case[0] for case in CASES]
)
def test_cases_through_every_framework(
    client: httpx.Client, case: str, kwargs: dict[str, Any], status: int, user: str | None
) -> None:
    response = client.get("/tokens/apikey", **kwargs)
    assert response.status_code == status, response.text
    assert "www-authenticate" not in response.headers
    assert "x-api-key" in response.headers.get("vary", "").lower()
    assert response.headers.get("cache-control") == "no-store"
    if status == 200:
        assert response.json() == {"user": user, "info": {"via": "api-key"}}
    else:
        assert response.text == {400: "Bad Request", 401: "Unauthorized"}[status]
