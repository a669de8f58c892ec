"""`AnonymousStrategy` (passport-anonymous A1-A3) and `CustomStrategy` (passport-custom CU1-CU9).

Reference: strategies.md sections 9 and 10. Engine-level tests first, then both strategies,
and the `["bearer", "anonymous"]` chain, through real Starlette, Flask and Django apps.

Adapted or not applicable IDs:

| ID | how and why |
| --- | --- |
| A1 | passport-anonymous ignores a function given to its constructor; ours takes none |
| CU3 | not applicable: there is no `done(err)`; an error is raised (CU4) |
| CU5-CU7 | `fn` returns what a verify returns (API.md §4): None, `Rejected(...)`, `Verified(...)` |
| CU8 | `pass_options=True` (a bool, not "exactly `true`") passes the identical options object |
| CU9 | without the flag `fn(request)` gets exactly one argument, whatever its signature |
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from behaviour.tokens import FRAMEWORKS, token_client
from engine_helpers import USER, Verify, authenticate, headers_named, make_passport
from test_bearer_strategy import TOKEN, verify_token
from users import UserStore

from passport_py import (
    AuthenticateOptions,
    Authenticator,
    AuthResult,
    ConfigurationError,
    Fail,
    Handoff,
    Pass,
    Proceed,
    Rejected,
    Respond,
    Strategy,
    Success,
    Verified,
    maybe_await,
    run_sync,
)
from passport_py.strategies.anonymous import AnonymousStrategy
from passport_py.strategies.bearer import BearerStrategy
from passport_py.strategies.custom import CustomStrategy
from passport_py.testing import TestRequest


def outcome(strategy: Strategy, request: TestRequest, options: Any = None) -> Any:
    options = options or AuthenticateOptions()
    return run_sync(maybe_await(strategy.authenticate(request, options)))


def handoff(strategy: Strategy, request: TestRequest | None = None) -> AuthResult[Any]:
    passport = make_passport(s=strategy)
    decision = authenticate(passport, request or TestRequest(), "s", callback=True)
    assert isinstance(decision, Handoff)
    return decision.result


# -- A1-A3: AnonymousStrategy ------------------------------------------------------------------


def test_anonymous_name_is_anonymous_A1() -> None:
    assert AnonymousStrategy().name == "anonymous"
    assert AnonymousStrategy.vary == ()


def test_anonymous_passes_A2() -> None:
    assert outcome(AnonymousStrategy(), TestRequest()) == Pass()


def test_anonymous_leaves_the_request_without_user_A3() -> None:
    request = TestRequest()
    decision = authenticate(make_passport(anonymous=AnonymousStrategy()), request, "anonymous")
    assert decision == Proceed()
    assert decision.user is None and not decision.authenticated
    assert dict(request.session or {}) == {}


def test_anonymous_after_a_failure_passes_and_drops_the_failure() -> None:
    """Passport: the chain ends at the pass; the bearer failure before it is not answered."""
    passport = make_passport(bearer=BearerStrategy(Verify(None)), anonymous=AnonymousStrategy())
    request = TestRequest(headers={"Authorization": "Bearer wrong"})
    decision = authenticate(passport, request, ["bearer", "anonymous"], session=False)
    assert decision == Proceed(vary=("Authorization",))


# -- CU1-CU9: CustomStrategy --------------------------------------------------------------------


def test_custom_name_defaults_to_custom_CU1() -> None:
    assert CustomStrategy(Verify()).name == "custom"


def test_custom_without_callable_raises_CU2() -> None:
    with pytest.raises(TypeError, match="CustomStrategy requires a callable"):
        CustomStrategy(None)  # type: ignore[arg-type]


def test_fn_raising_is_an_error_CU4() -> None:
    boom = RuntimeError("something went horribly wrong")
    assert handoff(CustomStrategy(Verify(boom))).error is boom


def test_fn_raising_without_callback_reaches_the_caller_CU4() -> None:
    passport = make_passport(custom=CustomStrategy(Verify(ValueError("horribly wrong"))))
    with pytest.raises(ValueError, match="horribly wrong"):
        authenticate(passport, TestRequest(), "custom")


@pytest.mark.parametrize("result", [None, False])
def test_fn_rejecting_fails_without_challenge_CU5(result: Any) -> None:
    failed = handoff(CustomStrategy(Verify(result)))
    assert (failed.challenges, failed.statuses) == ([None], [None])


def test_fn_rejecting_with_message_CU6() -> None:
    failed = handoff(CustomStrategy(Verify(Rejected("authentication failed"))))
    assert failed.challenges == [{"message": "authentication failed"}]


def test_fn_failure_through_engine_is_401_without_challenge_CU5() -> None:
    decision = authenticate(
        make_passport(custom=CustomStrategy(Verify(None))), TestRequest(), "custom"
    )
    assert isinstance(decision, Respond)
    assert (decision.status, decision.body) == (401, "Unauthorized")
    assert headers_named(decision, "WWW-Authenticate") == []


def test_fn_success_with_info_CU7() -> None:
    result = handoff(CustomStrategy(Verify(Verified(USER, {"scope": "read"}))))
    assert result == AuthResult(user=USER, info={"scope": "read"})


def test_fn_returning_the_user_succeeds_CU7() -> None:
    verify = Verify()
    request = TestRequest()
    assert outcome(CustomStrategy(verify), request) == Success(USER)
    assert verify.calls == [(request,)]


def test_pass_options_gives_fn_the_identical_options_CU8() -> None:
    verify = Verify()
    request = TestRequest()
    options = AuthenticateOptions.build(session=False, scope="read")
    assert outcome(CustomStrategy(verify, pass_options=True), request, options) == Success(USER)
    assert verify.calls == [(request, options)]
    assert verify.calls[0][1] is options


def test_without_pass_options_fn_gets_exactly_the_request_CU9() -> None:
    seen: list[Any] = []

    def fn(request: Any, options: Any = "not given", extra: Any = None) -> Any:
        seen.append(options)
        return USER

    outcome(CustomStrategy(fn), TestRequest())
    assert seen == ["not given"]


def test_async_fn_is_awaited() -> None:
    async def fn(request: Any) -> Any:
        await asyncio.sleep(0)
        return Verified(USER, {"via": request.headers.get("x-via")})

    request = TestRequest(headers={"X-Via": "async"})
    assert outcome(CustomStrategy(fn), request) == Success(USER, {"via": "async"})


# -- CustomStrategy beyond passport-custom ------------------------------------------------------


def test_name_is_set_per_instance_and_used_by_passport_use() -> None:
    admin = CustomStrategy(Verify(), "admin-header")
    partner = CustomStrategy(Verify(None), "partner")
    passport = Authenticator().use(admin).use(partner)
    assert passport.strategies == {"admin-header": admin, "partner": partner}
    assert CustomStrategy.name == "custom"  # the class default is untouched


def test_passport_use_name_still_overrides() -> None:
    strategy = CustomStrategy(Verify(), "one")
    assert Authenticator().use(strategy, "two").strategies == {"two": strategy}


@pytest.mark.parametrize("name", ["", None, 3])
def test_empty_or_non_string_name_is_refused(name: Any) -> None:
    with pytest.raises(ConfigurationError, match="non-empty name"):
        CustomStrategy(Verify(), name)


@pytest.mark.parametrize(
    "result",
    [
        Fail('Custom realm="x"', 401),
        Fail({"message": "Slow down"}, 429),
        Pass(),
        Success(USER, {"via": "outcome"}),
    ],
    ids=["fail-challenge", "fail-status", "pass", "success"],
)
def test_fn_returning_an_outcome_uses_it_as_is(result: Any) -> None:
    """A returned `Fail` must never be taken for a truthy user."""
    assert outcome(CustomStrategy(Verify(result)), TestRequest()) is result


def test_vary_option_reaches_the_response() -> None:
    strategy = CustomStrategy(Verify(None), vary=["X-Tenant-Key"])
    assert strategy.vary == ("X-Tenant-Key",)
    assert CustomStrategy.vary == ()
    decision = authenticate(make_passport(custom=strategy), TestRequest(), "custom")
    assert isinstance(decision, Respond)
    assert headers_named(decision, "Vary") == ["X-Tenant-Key"]


# -- through Starlette, Flask and Django ---------------------------------------------------------


STORE = UserStore.default()


def who_is_it(request: Any, options: Any) -> Any:
    """Trusts an `X-User` header set by a fronting proxy: the kind of check `fn` is for."""
    name = request.headers.get("x-user")
    if name is None:
        return Rejected("Who are you?")
    if name == "nobody":
        return Pass()
    if name == "challenge":
        return Fail('Proxy realm="internal"')
    user = STORE.by_name(name)
    return Verified(user, {"session": options.session}) if user is not None else None


@pytest.fixture(scope="module", params=FRAMEWORKS)
def client(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    passport = (
        Authenticator()
        .use(AnonymousStrategy())
        .use(CustomStrategy(who_is_it, pass_options=True, vary=["X-User"]))
        .use(BearerStrategy(verify_token))
    )
    with token_client(str(request.param), passport) as c:
        yield c


def test_anonymous_route_answers_without_user(client: httpx.Client) -> None:
    response = client.get("/tokens/anonymous", headers={"Authorization": "Bearer junk"})
    assert response.status_code == 200
    assert response.json()["user"] is None
    assert "www-authenticate" not in response.headers


@pytest.mark.parametrize(
    ("headers", "status", "user", "challenge"),
    [
        ({"X-User": "bob"}, 200, "bob", None),
        ({"X-User": "mallory"}, 401, None, None),
        ({}, 401, None, None),
        ({"X-User": "nobody"}, 200, None, None),
        ({"X-User": "challenge"}, 401, None, 'Proxy realm="internal"'),
    ],
    ids=["known", "unknown", "missing", "pass", "outcome-challenge"],
)
def test_custom_route(
    client: httpx.Client,
    headers: dict[str, str],
    status: int,
    user: str | None,
    challenge: str | None,
) -> None:
    response = client.get("/tokens/custom", headers=headers)
    assert response.status_code == status
    assert response.headers.get("www-authenticate") == challenge
    assert "x-user" in response.headers.get("vary", "").lower()
    if status == 200:
        assert response.json()["user"] == user
    else:
        assert response.text == "Unauthorized"


def test_custom_route_passes_the_route_options(client: httpx.Client) -> None:
    response = client.get("/tokens/custom", headers={"X-User": "alice"})
    assert response.json() == {"user": "alice", "info": {"session": False}}


#: `["bearer", "anonymous"]`: (id, headers, user). Every request reaches the view (200).
CHAIN: list[tuple[str, dict[str, str], str | None]] = [
    ("valid-token", {"Authorization": f"Bearer {TOKEN}"}, "alice"),
    ("no-token", {}, None),
    ("wrong-token", {"Authorization": "Bearer wrong"}, None),
    ("expired-token", {"Authorization": "Bearer expired-token"}, None),
    ("malformed-header", {"Authorization": "Bearer"}, None),
    ("other-scheme", {"Authorization": "Basic dXNlcjpwYXNz"}, None),
    ("64-kib", {"Authorization": "Bearer " + "a" * 65536}, None),
]


@pytest.mark.parametrize(("case", "headers", "user"), CHAIN, ids=[case[0] for case in CHAIN])
def test_bearer_or_anonymous(
    client: httpx.Client, case: str, headers: dict[str, str], user: str | None
) -> None:
    """Passport's behaviour: a token that fails (wrong, expired, malformed) is dropped and the
    request goes on anonymous; only a valid token gives a user."""
    response = client.get("/tokens/bearer-or-anonymous", headers=headers)
    assert response.status_code == 200
    assert response.json()["user"] == user
    assert "www-authenticate" not in response.headers
    assert "authorization" in response.headers.get("vary", "").lower()
    assert response.headers.get("cache-control") == "no-store"
