"""The custom-callback form: `authenticate(..., callback=True)` hands the app an `AuthResult`.

Reference: passport-core.md 1.4, 2.7 (behaviours 67-68) and 2.10 (82-86).
Differs from Passport throughout: `challenges` and `statuses` are always lists, one entry per
strategy tried (Passport passes scalars when a single name was given).
"""

from __future__ import annotations

from typing import Any

import pytest
from engine_helpers import Fixed, U, authenticate, make_passport

from passport_py import (
    AuthResult,
    Fail,
    Handoff,
    Pass,
    Proceed,
    Redirect,
    Respond,
    Strategy,
    Success,
    UnknownStrategyError,
)
from passport_py.strategies.local import LocalStrategy
from passport_py.testing import MemorySession, TestRequest


def handed_over(decision: Any) -> AuthResult[Any]:
    assert isinstance(decision, Handoff)
    return decision.result


def test_success_hands_over_user_and_info_without_login_82() -> None:
    passport = make_passport(s=Fixed(Success(U, {"message": "Hello"})))
    session = MemorySession({"cart": ["1"]})
    old_id = session.id
    request = TestRequest(session=session)
    result = handed_over(authenticate(passport, request, "s", callback=True))
    assert result == AuthResult(user=U, info={"message": "Hello"})
    assert result.ok
    assert (session.id, dict(session)) == (old_id, {"cart": ["1"]})


def test_success_without_info_hands_over_none_82() -> None:
    transformed: list[Any] = []
    passport = make_passport(s=Fixed(Success(U)))
    passport.transform_auth_info(lambda info: transformed.append(info) or info)
    result = handed_over(authenticate(passport, TestRequest(), "s", callback=True))
    assert (result.user, result.info) == (U, None)
    assert transformed == []


def test_fail_without_challenge_83() -> None:
    """Differs from Passport (cb(null, false)): one-entry lists."""
    passport = make_passport(s=Fixed(Fail()))
    result = handed_over(authenticate(passport, TestRequest(), "s", callback=True))
    assert result == AuthResult(challenges=[None], statuses=[None])
    assert (result.ok, result.user, result.challenge, result.status) == (False, None, None, None)


def test_fail_with_object_challenge_83() -> None:
    passport = make_passport(s=Fixed(Fail({"message": "Invalid password"})))
    result = handed_over(authenticate(passport, TestRequest(), "s", callback=True))
    assert list(result.challenges) == [{"message": "Invalid password"}]
    assert result.challenge == {"message": "Invalid password"}
    assert result.status is None


def test_fail_with_object_challenge_and_403_83() -> None:
    passport = make_passport(s=Fixed(Fail({"message": "Invalid password"}, 403)))
    result = handed_over(authenticate(passport, TestRequest(), "s", callback=True))
    assert list(result.statuses) == [403]
    assert result.status == 403


def test_fail_with_string_challenge_83() -> None:
    passport = make_passport(s=Fixed(Fail("Bearer challenge")))
    result = handed_over(authenticate(passport, TestRequest(), "s", callback=True))
    assert list(result.challenges) == ["Bearer challenge"]


def test_fail_with_status_only_83() -> None:
    passport = make_passport(s=Fixed(Strategy.fail(402)))
    result = handed_over(authenticate(passport, TestRequest(), "s", callback=True))
    assert (list(result.challenges), list(result.statuses)) == ([None], [402])


def test_failure_options_are_not_applied_in_callback_form_83() -> None:
    passport = make_passport(s=Fixed(Fail({"message": "Invalid password"})))
    request = TestRequest()
    decision = authenticate(
        passport,
        request,
        "s",
        callback=True,
        failure_flash=True,
        failure_message=True,
        failure_redirect="/login",
        fail_with_error=True,
    )
    assert isinstance(decision, Handoff)
    assert request.flashes == []
    assert dict(request.session or {}) == {}


def test_error_is_handed_over_84() -> None:
    boom = RuntimeError("something went wrong")
    passport = make_passport(s=Fixed(boom))
    result = handed_over(authenticate(passport, TestRequest(), "s", callback=True))
    assert result.error is boom
    assert (result.user, result.ok) == (None, False)


class SyncRaiser(Strategy):
    name = "sync-raiser"

    def authenticate(self, request: Any, options: Any) -> Fail:
        raise KeyError("raised synchronously")


def test_synchronous_raise_is_handed_over_like_error_84() -> None:
    """Differs from Passport (a synchronous throw escapes): it becomes `AuthResult.error`."""
    passport = make_passport()
    passport.use(SyncRaiser())
    result = handed_over(authenticate(passport, TestRequest(), "sync-raiser", callback=True))
    assert isinstance(result.error, KeyError)


def test_bad_request_is_a_failure_in_callback_form_84() -> None:
    passport = make_passport()
    request = TestRequest(json={"username": "a", "password": 1})
    passport.use(LocalStrategy(lambda u, p: U))
    result = handed_over(authenticate(passport, request, "local", callback=True))
    assert list(result.challenges) == [{"message": "Field 'password' must be a string"}]
    assert list(result.statuses) == [400]
    assert result.error is None


def test_redirect_does_not_reach_the_callback_85() -> None:
    passport = make_passport(s=Fixed(Redirect("https://idp.example/authorize")))
    decision = authenticate(passport, TestRequest(), "s", callback=True)
    assert isinstance(decision, Respond)
    assert (decision.status, decision.location) == (302, "https://idp.example/authorize")


def test_pass_does_not_reach_the_callback_85() -> None:
    passport = make_passport(s=Fixed(Pass()))
    decision = authenticate(passport, TestRequest(), "s", callback=True)
    assert decision == Proceed()


def test_callback_with_options_has_the_same_semantics_86() -> None:
    strategy = Fixed(Success(U, {"scope": "read"}))
    passport = make_passport(s=strategy)
    request = TestRequest()
    decision = authenticate(
        passport, request, "s", callback=True, success_redirect="/home", foo="bar"
    )
    assert handed_over(decision) == AuthResult(user=U, info={"scope": "read"})
    assert strategy.calls[0][1].get("foo") == "bar"
    assert dict(request.session or {}) == {}


def test_unknown_strategy_raises_even_in_callback_form_7() -> None:
    with pytest.raises(UnknownStrategyError):
        authenticate(make_passport(), TestRequest(), "nope", callback=True)


def test_multiple_strategies_all_failing_67() -> None:
    passport = make_passport(
        basic=Fixed(Fail("BASIC challenge")),
        none=Fixed(Fail()),
        digest=Fixed(Fail("DIGEST challenge")),
    )
    result = handed_over(
        authenticate(passport, TestRequest(), ["basic", "none", "digest"], callback=True)
    )
    assert result == AuthResult(
        challenges=["BASIC challenge", None, "DIGEST challenge"], statuses=[None, None, None]
    )


def test_multiple_strategies_all_failing_with_statuses_67() -> None:
    passport = make_passport(
        basic=Fixed(Fail("BASIC challenge", 400)),
        none=Fixed(Fail(None, 402)),
        digest=Fixed(Fail("DIGEST challenge", 403)),
    )
    result = handed_over(
        authenticate(passport, TestRequest(), ["basic", "none", "digest"], callback=True)
    )
    assert list(result.statuses) == [400, 402, 403]
    assert result.status == 400
    assert result.challenge == "BASIC challenge"


def test_list_of_one_strategy_still_gives_lists_68() -> None:
    passport = make_passport(basic=Fixed(Fail("BASIC challenge")))
    result = handed_over(authenticate(passport, TestRequest(), ["basic"], callback=True))
    assert (list(result.challenges), list(result.statuses)) == (["BASIC challenge"], [None])


def test_failure_then_success_hands_over_the_success_59() -> None:
    passport = make_passport(a=Fixed(Fail("A")), b=Fixed(Success(U)))
    result = handed_over(authenticate(passport, TestRequest(), ["a", "b"], callback=True))
    assert result == AuthResult(user=U, info=None)


def test_result_status_skips_missing_statuses_67() -> None:
    passport = make_passport(a=Fixed(Fail("A")), b=Fixed(Fail("B", 403)))
    result = handed_over(authenticate(passport, TestRequest(), ["a", "b"], callback=True))
    assert (result.challenge, result.status) == ("A", 403)
