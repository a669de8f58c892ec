"""The authenticate engine: failure with one strategy and with a chain.

Reference: passport-core.md 2.6 (behaviours 46-57) and 2.7 (60-66).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from engine_helpers import Fixed, U, authenticate, headers_named, make_passport

from passport_py import (
    AuthenticateOptions,
    AuthenticationError,
    BadRequest,
    Fail,
    Pass,
    Proceed,
    Redirect,
    Respond,
    Strategy,
    Success,
    UnknownStrategyError,
)
from passport_py.request import AuthRequest
from passport_py.testing import TestRequest

TEXT_PLAIN = ("Content-Type", "text/plain; charset=utf-8")
NO_STORE = ("Cache-Control", "no-store")


def failing(*outcomes: Fail) -> tuple[Any, list[str]]:
    """A passport with one failing strategy per outcome, named s0, s1, ..."""
    names = [f"s{i}" for i in range(len(outcomes))]
    passport = make_passport(**{n: Fixed(o) for n, o in zip(names, outcomes, strict=True)})
    return passport, names


# -- 2.6 failure with a single strategy -------------------------------------------------------


def test_fail_without_challenge_is_401_unauthorized_46() -> None:
    passport, _ = failing(Fail())
    request = TestRequest()
    decision = authenticate(passport, request, "s0")
    assert decision == Respond(401, (TEXT_PLAIN, NO_STORE), "Unauthorized")
    assert dict(request.session or {}) == {}


def test_fail_with_string_challenge_sets_www_authenticate_47() -> None:
    passport, _ = failing(Strategy.fail("MOCK challenge"))
    decision = authenticate(passport, TestRequest(), "s0")
    assert decision == Respond(
        401, (TEXT_PLAIN, NO_STORE, ("WWW-Authenticate", "MOCK challenge")), "Unauthorized"
    )


def test_fail_with_challenge_and_403_has_no_www_authenticate_48() -> None:
    passport, _ = failing(Strategy.fail("MOCK challenge", 403))
    decision = authenticate(passport, TestRequest(), "s0")
    assert decision == Respond(403, (TEXT_PLAIN, NO_STORE), "Forbidden")


def test_fail_with_number_alone_is_the_status_49() -> None:
    outcome = Strategy.fail(400)
    assert outcome == Fail(None, 400)
    passport, _ = failing(outcome)
    decision = authenticate(passport, TestRequest(), "s0")
    assert decision == Respond(400, (TEXT_PLAIN, NO_STORE), "Bad Request")


def test_fail_refuses_a_bool_challenge_49() -> None:
    """Not in Passport: `fail(True)` is a mistake (bool is an int in Python), not status 1."""
    with pytest.raises(TypeError, match="challenge"):
        Strategy.fail(True)


def test_fail_with_object_challenge_never_becomes_a_header_50() -> None:
    passport, _ = failing(Fail({"message": "Bad creds", "type": "warn"}))
    decision = authenticate(passport, TestRequest(), "s0")
    assert isinstance(decision, Respond)
    assert decision.status == 401
    assert headers_named(decision, "WWW-Authenticate") == []


def test_failure_redirect_redirects_51() -> None:
    passport, _ = failing(Fail("MOCK challenge"))
    decision = authenticate(
        passport, TestRequest(), "s0", failure_redirect="http://www.example.com/login"
    )
    assert decision == Respond(302, (("Location", "http://www.example.com/login"), NO_STORE), "")


def test_fail_with_error_raises_authentication_error_52() -> None:
    passport, _ = failing(Fail())
    with pytest.raises(AuthenticationError) as caught:
        authenticate(passport, TestRequest(), "s0", fail_with_error=True)
    error = caught.value
    assert (error.status, error.message, str(error)) == (401, "Unauthorized", "Unauthorized")
    assert error.challenges == ()
    assert error.headers == []


def test_fail_with_error_and_object_challenge_53() -> None:
    passport, _ = failing(Fail({"message": "Invalid credentials"}))
    with pytest.raises(AuthenticationError) as caught:
        authenticate(passport, TestRequest(), "s0", fail_with_error=True)
    assert (caught.value.status, caught.value.message) == (401, "Unauthorized")
    assert caught.value.headers == []


def test_fail_with_error_and_400_54() -> None:
    passport, _ = failing(Fail({"message": "Missing"}, 400))
    with pytest.raises(AuthenticationError) as caught:
        authenticate(passport, TestRequest(), "s0", fail_with_error=True)
    assert (caught.value.status, caught.value.message) == (400, "Bad Request")


def test_fail_with_error_and_string_challenge_carries_header_55() -> None:
    passport, _ = failing(Fail("Bearer challenge"))
    with pytest.raises(AuthenticationError) as caught:
        authenticate(passport, TestRequest(), "s0", fail_with_error=True)
    assert (caught.value.status, caught.value.message) == (401, "Unauthorized")
    assert caught.value.challenges == ("Bearer challenge",)
    assert caught.value.headers == [("WWW-Authenticate", "Bearer challenge")]


def test_fail_with_error_and_challenge_with_403_has_no_header_56() -> None:
    passport, _ = failing(Fail("Bearer challenge", 403))
    with pytest.raises(AuthenticationError) as caught:
        authenticate(passport, TestRequest(), "s0", fail_with_error=True)
    assert (caught.value.status, caught.value.message) == (403, "Forbidden")
    assert caught.value.headers == []


def test_fail_with_error_and_402_56() -> None:
    passport, _ = failing(Strategy.fail(402))
    with pytest.raises(AuthenticationError) as caught:
        authenticate(passport, TestRequest(), "s0", fail_with_error=True)
    assert (caught.value.status, caught.value.message) == (402, "Payment Required")


def test_failure_redirect_wins_over_fail_with_error_57() -> None:
    passport, _ = failing(Fail())
    decision = authenticate(
        passport, TestRequest(), "s0", fail_with_error=True, failure_redirect="/login"
    )
    assert isinstance(decision, Respond)
    assert (decision.status, decision.location) == (302, "/login")


class ReadsBadBody(Strategy):
    name = "bad-body"

    async def authenticate(self, request: AuthRequest, options: AuthenticateOptions) -> Fail:
        await request.json()
        raise AssertionError("unreachable: the body is not JSON")


def test_bad_request_while_reading_becomes_fail_with_status_46() -> None:
    """Our design: BadRequest raised while reading the request is Fail({"message"}, status)."""
    passport = make_passport()
    passport.use(ReadsBadBody())
    request = TestRequest(body=b"{nope", content_type="application/json")
    decision = authenticate(passport, request, "bad-body")
    assert decision == Respond(400, (TEXT_PLAIN, NO_STORE), "Bad Request")


def test_bad_request_with_its_own_status_49() -> None:
    passport = make_passport(big=Fixed(BadRequest("Request body too large", 413)))
    decision = authenticate(passport, TestRequest(), "big")
    assert isinstance(decision, Respond)
    assert (decision.status, decision.body) == (413, HTTPStatus(413).phrase)


def test_bad_request_then_next_strategy_is_tried_59() -> None:
    passport = make_passport(big=Fixed(BadRequest("malformed")), ok=Fixed(Success(U)))
    decision = authenticate(passport, TestRequest(), ["big", "ok"], session=False)
    assert isinstance(decision, Proceed)
    assert decision.user == U


# -- 2.7 multiple strategies: failure ---------------------------------------------------------


def test_all_fail_sends_every_string_challenge_in_order_60() -> None:
    passport = make_passport(
        basic=Fixed(Fail("BASIC challenge")),
        **{"no-challenge": Fixed(Fail())},
        digest=Fixed(Fail("DIGEST challenge")),
    )
    decision = authenticate(passport, TestRequest(), ["basic", "no-challenge", "digest"])
    assert decision == Respond(
        401,
        (
            TEXT_PLAIN,
            NO_STORE,
            ("WWW-Authenticate", "BASIC challenge"),
            ("WWW-Authenticate", "DIGEST challenge"),
        ),
        "Unauthorized",
    )


def test_all_fail_uses_first_status_without_challenges_61() -> None:
    passport, names = failing(Fail("BASIC", 400), Fail(None, 402), Fail("BEARER", 403))
    decision = authenticate(passport, TestRequest(), names)
    assert decision == Respond(400, (TEXT_PLAIN, NO_STORE), "Bad Request")


def test_all_fail_status_is_first_explicit_one_62() -> None:
    passport, names = failing(Fail('Basic realm="x"'), Fail("Bearer", 403))
    decision = authenticate(passport, TestRequest(), names)
    assert decision == Respond(403, (TEXT_PLAIN, NO_STORE), "Forbidden")


def test_all_fail_flash_uses_first_failure_then_redirects_63() -> None:
    passport, names = failing(Fail("A message"), Fail("B message"))
    request = TestRequest()
    decision = authenticate(passport, request, names, failure_flash=True, failure_redirect="/login")
    assert request.flashes == [("error", "A message")]
    assert isinstance(decision, Respond)
    assert (decision.status, decision.location) == (302, "/login")


def test_failures_then_redirect_redirects_64() -> None:
    passport = make_passport(
        a=Fixed(Fail("A")), b=Fixed(Fail(None, 403)), idp=Fixed(Redirect("https://idp/", 303))
    )
    decision = authenticate(passport, TestRequest(), ["a", "b", "idp"], failure_redirect="/x")
    assert decision == Respond(303, (("Location", "https://idp/"), NO_STORE), "")


def test_failures_then_pass_proceeds_unauthenticated_65() -> None:
    passport = make_passport(a=Fixed(Fail("A")), anon=Fixed(Pass()))
    request = TestRequest()
    decision = authenticate(passport, request, ["a", "anon"], failure_flash="Nope")
    assert decision == Proceed()
    assert request.flashes == []


def test_failures_then_error_raises_65() -> None:
    passport = make_passport(a=Fixed(Fail("A")), broken=Fixed(OSError("db down")))
    with pytest.raises(OSError, match="db down"):
        authenticate(passport, TestRequest(), ["a", "broken"])


def test_session_in_chain_is_unknown_66() -> None:
    """Differs from Passport (where 'session' passes and stops the chain): there is no
    'session' strategy, so naming it fails loudly instead of skipping the next strategies."""
    passport = make_passport(basic=Fixed(Fail("Basic")))
    with pytest.raises(UnknownStrategyError, match="'session'"):
        authenticate(passport, TestRequest(), ["session", "basic"])


def test_empty_chain_is_401_60() -> None:
    decision = authenticate(make_passport(), TestRequest(), [])
    assert decision == Respond(401, (TEXT_PLAIN, NO_STORE), "Unauthorized")


def test_failing_strategies_are_each_tried_once_60() -> None:
    first, second = Fixed(Fail("A")), Fixed(Fail("B"))
    passport = make_passport(a=first, b=second)
    request = TestRequest()
    authenticate(passport, request, ["a", "b"])
    assert [r for r, _ in first.calls] == [request]
    assert [r for r, _ in second.calls] == [request]


@pytest.mark.parametrize("status", [498, 499, 419])
def test_fail_with_unregistered_status_has_empty_body_49(status: int) -> None:
    """Passport ends the response with STATUS_CODES[status], undefined for such codes: an
    empty body. (Looking the phrase up with HTTPStatus(status) used to raise ValueError.)"""
    passport, _ = failing(Fail("Token", status))
    decision = authenticate(passport, TestRequest(), "s0")
    assert decision == Respond(status, (TEXT_PLAIN, NO_STORE), "")


def test_fail_with_error_and_unregistered_status_52() -> None:
    passport, _ = failing(Fail(None, 498))
    with pytest.raises(AuthenticationError) as caught:
        authenticate(passport, TestRequest(), "s0", fail_with_error=True)
    assert (caught.value.status, caught.value.message, str(caught.value)) == (
        498,
        "HTTP 498",
        "HTTP 498",
    )
