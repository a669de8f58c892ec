"""The authenticate engine: success, redirect, pass and error outcomes, and authorize.

Reference: passport-core.md 2.5 (behaviours 32-45), 2.7 (58-59), 2.9 (77-81), 2.11 (87-90).
"""

from __future__ import annotations

from typing import Any

import pytest
from engine_helpers import Fixed, U, authenticate, make_passport
from session_entries import TEST_REQUEST, session_identity

from passport_py import (
    AuthenticateOptions,
    Authenticator,
    ConfigurationError,
    Fail,
    Pass,
    Proceed,
    Redirect,
    Respond,
    SerializationError,
    SessionRequiredError,
    Strategy,
    Success,
    run_sync,
)
from passport_py.request import AuthRequest
from passport_py.testing import MemorySession, TestRequest


def logged_in_id(request: TestRequest) -> Any:
    session = request.session
    assert session is not None
    return session.get("passport", {}).get("user")


# -- 2.5 success ------------------------------------------------------------------------------


def test_success_logs_in_and_proceeds_with_empty_info_32() -> None:
    passport = make_passport(success=Fixed(Success(U)))
    session = MemorySession({"cart": ["1"]})
    old_id = session.id
    request = TestRequest(session=session)
    decision = authenticate(passport, request, "success")
    assert decision == Proceed(user=U, info={}, authenticated=True, logged_in=True)
    assert session_identity(session, TEST_REQUEST) == {"passport": {"user": "1"}}
    assert session.id != old_id


def test_success_with_strategy_instance_passed_directly_33() -> None:
    passport = make_passport()
    request = TestRequest()
    decision = authenticate(passport, request, Fixed(Success(U)))
    assert decision == Proceed(user=U, info={}, authenticated=True, logged_in=True)
    assert logged_in_id(request) == "1"
    assert passport.strategies == {}


def test_success_info_is_passed_through_34() -> None:
    passport = make_passport(success=Fixed(Success(U, {"clientId": "123", "scope": "read"})))
    decision = authenticate(passport, TestRequest(), "success")
    assert isinstance(decision, Proceed)
    assert decision.info == {"clientId": "123", "scope": "read"}


def test_success_info_goes_through_transform_34() -> None:
    passport = make_passport(success=Fixed(Success(U, {"clientId": "123", "scope": "read"})))
    passport.transform_auth_info(lambda info: {"client": {"id": info["clientId"]}})
    decision = authenticate(passport, TestRequest(), "success")
    assert isinstance(decision, Proceed)
    assert decision.info == {"client": {"id": "123"}}


def test_transform_error_raises_after_login_35() -> None:
    passport = make_passport(success=Fixed(Success(U, {"clientId": "123"})))

    @passport.transform_auth_info
    def broken(info: Any) -> Any:
        raise LookupError("no such client")

    request = TestRequest()
    with pytest.raises(LookupError, match="no such client"):
        authenticate(passport, request, "success")
    assert logged_in_id(request) == "1"


def test_auth_info_false_skips_transform_36() -> None:
    passport = make_passport(success=Fixed(Success(U, {"scope": "read"})))
    calls: list[Any] = []
    passport.transform_auth_info(lambda info: calls.append(info) or info)
    request = TestRequest()
    decision = authenticate(passport, request, "success", auth_info=False)
    assert decision == Proceed(user=U, info=None, authenticated=True, logged_in=True)
    assert calls == []
    assert logged_in_id(request) == "1"


def test_success_redirect_logs_in_and_redirects_37() -> None:
    passport = make_passport(success=Fixed(Success(U)))
    request = TestRequest()
    decision = authenticate(
        passport, request, "success", success_redirect="http://www.example.com/account"
    )
    assert decision == Respond(
        302, (("Location", "http://www.example.com/account"), ("Cache-Control", "no-store")), ""
    )
    assert logged_in_id(request) == "1"


def test_return_to_in_session_wins_and_is_removed_38() -> None:
    passport = make_passport(success=Fixed(Success(U)))
    request = TestRequest(session={"return_to": "/return"})
    decision = authenticate(passport, request, "success", success_return_to_or_redirect="/default")
    assert isinstance(decision, Respond)
    assert (decision.status, decision.location) == (302, "/return")
    assert session_identity(request.session or {}, TEST_REQUEST) == {"passport": {"user": "1"}}


def test_no_return_to_redirects_to_option_39() -> None:
    passport = make_passport(success=Fixed(Success(U)))
    decision = authenticate(
        passport, TestRequest(), "success", success_return_to_or_redirect="/default"
    )
    assert isinstance(decision, Respond)
    assert (decision.status, decision.location, decision.body) == (302, "/default", "")


def test_return_to_survives_regeneration_without_keep_session_info_40() -> None:
    """Differs from Passport (which reads returnTo after regeneration and loses it): the
    return-to URL survives the login's regeneration."""
    passport = make_passport(success=Fixed(Success(U)))
    session = MemorySession({"return_to": "/back", "cart": ["1"]})
    old_id = session.id
    request = TestRequest(session=session)
    decision = authenticate(passport, request, "success", success_return_to_or_redirect="/default")
    assert isinstance(decision, Respond)
    assert decision.location == "/back"
    assert session.id != old_id
    assert session_identity(session, TEST_REQUEST) == {"passport": {"user": "1"}}


def test_return_to_with_keep_session_info_keeps_other_keys_40() -> None:
    passport = make_passport(success=Fixed(Success(U)))
    session = MemorySession({"return_to": "/back", "cart": ["1"]})
    request = TestRequest(session=session)
    decision = authenticate(
        passport,
        request,
        "success",
        success_return_to_or_redirect="/default",
        keep_session_info=True,
    )
    assert isinstance(decision, Respond)
    assert decision.location == "/back"
    assert session_identity(session, TEST_REQUEST) == {"cart": ["1"], "passport": {"user": "1"}}
    assert session.regenerations == 1


@pytest.mark.parametrize(
    "saved", ["http://evil.example/", "//evil.example/", "/\\evil.example", "/%2F%2Fevil", 42]
)
def test_unsafe_return_to_falls_back_to_option_40(saved: Any) -> None:
    """Not in Passport (which follows any returnTo): only same-site paths are followed."""
    passport = make_passport(success=Fixed(Success(U)))
    request = TestRequest(session={"return_to": saved})
    decision = authenticate(passport, request, "success", success_return_to_or_redirect="/default")
    assert isinstance(decision, Respond)
    assert decision.location == "/default"
    assert "return_to" not in (request.session or {})


def test_next_query_parameter_used_when_no_return_to_40() -> None:
    """Not in Passport: a safe ?next= is followed when the session has no return-to."""
    passport = make_passport(success=Fixed(Success(U)))
    request = TestRequest(query={"next": "/orders?page=2"})
    decision = authenticate(passport, request, "success", success_return_to_or_redirect="/default")
    assert isinstance(decision, Respond)
    assert decision.location == "/orders?page=2"


def test_session_return_to_wins_over_next_query_parameter_40() -> None:
    passport = make_passport(success=Fixed(Success(U)))
    request = TestRequest(query={"next": "/from-query"}, session={"return_to": "/from-session"})
    decision = authenticate(passport, request, "success", success_return_to_or_redirect="/default")
    assert isinstance(decision, Respond)
    assert decision.location == "/from-session"


def test_unsafe_next_query_parameter_falls_back_to_option_40() -> None:
    passport = make_passport(success=Fixed(Success(U)))
    request = TestRequest(query={"next": "https://evil.example/"})
    decision = authenticate(passport, request, "success", success_return_to_or_redirect="/default")
    assert isinstance(decision, Respond)
    assert decision.location == "/default"


def test_success_redirect_ignores_next_and_return_to_41() -> None:
    passport = make_passport(success=Fixed(Success(U)))
    request = TestRequest(query={"next": "/wanted"}, session={"return_to": "/saved"})
    decision = authenticate(passport, request, "success", success_redirect="/home")
    assert isinstance(decision, Respond)
    assert decision.location == "/home"


def test_return_to_option_wins_over_success_redirect_41() -> None:
    passport = make_passport(success=Fixed(Success(U)))
    decision = authenticate(
        passport,
        TestRequest(),
        "success",
        success_return_to_or_redirect="/default",
        success_redirect="/home",
    )
    assert isinstance(decision, Respond)
    assert decision.location == "/default"


def test_login_error_raises_and_leaves_session_untouched_42() -> None:
    """Differs from Passport (which regenerates first): the user is serialized before the
    session is regenerated, so a serializer error leaves the session as it was."""
    passport: Authenticator[Any] = Authenticator()
    passport.use(Fixed(Success(U)), "success")
    transforms: list[Any] = []
    passport.transform_auth_info(lambda info: transforms.append(info) or info)
    session = MemorySession({"cart": ["1"]})
    old_id = session.id
    with pytest.raises(SerializationError, match="no serializer is registered"):
        authenticate(passport, TestRequest(session=session), "success")
    assert (session.id, dict(session), session.regenerations) == (old_id, {"cart": ["1"]}, 0)
    assert transforms == []


def test_session_false_without_session_redirects_43() -> None:
    passport = make_passport(success=Fixed(Success(U)))
    request = TestRequest(session=None)
    decision = authenticate(passport, request, "success", session=False, success_redirect="/home")
    assert isinstance(decision, Respond)
    assert (decision.status, decision.location) == (302, "/home")


def test_session_false_proceeds_without_touching_session_43() -> None:
    passport = make_passport(success=Fixed(Success(U)))
    session = MemorySession({"cart": ["1"]})
    old_id = session.id
    decision = authenticate(passport, TestRequest(session=session), "success", session=False)
    assert decision == Proceed(user=U, info={}, authenticated=True, logged_in=False)
    assert (session.id, dict(session)) == (old_id, {"cart": ["1"]})


def test_session_true_without_session_raises_44() -> None:
    passport = make_passport(success=Fixed(Success(U)))
    with pytest.raises(SessionRequiredError, match="Login sessions require session support"):
        authenticate(passport, TestRequest(session=None), "success")


def test_strategy_options_reach_the_strategy_45() -> None:
    strategy = Fixed(Success(U))
    passport = make_passport(success=strategy)
    authenticate(passport, TestRequest(), "success", scope="email", session=False)
    [(_, options)] = strategy.calls
    assert options.get("scope") == "email"
    assert options.extra == {"scope": "email"}
    assert options.session is False


def test_options_are_not_mutated_45() -> None:
    strategy = Fixed(Success(U))
    passport = make_passport(success=strategy)
    options = AuthenticateOptions.build(scope="email", success_flash={"message": "Hi"})
    run_sync(passport.authenticate(TestRequest(), "success", options))
    run_sync(passport.authorize(TestRequest(), "success", options))
    assert options == AuthenticateOptions.build(scope="email", success_flash={"message": "Hi"})
    assert options.assign_property is None
    assert options.strategy_name is None
    assert strategy.calls[0][1] == options.replace(strategy_name="success")


def test_a_strategy_sees_the_name_it_runs_under() -> None:
    """Registered twice, one instance sees each name; named by instance, its own name. The
    named options are made once per route's options, not per request."""
    strategy = Fixed(Success(U))
    strategy.name = "own"
    passport = make_passport(first=strategy, second=strategy)
    options = AuthenticateOptions.build(scope="email")
    for chain in ("first", "second", strategy, "first"):
        run_sync(passport.authenticate(TestRequest(), chain, options))
    seen = [call[1] for call in strategy.calls]
    assert [o.strategy_name for o in seen] == ["first", "second", "own", "first"]
    assert seen[0] is seen[3]
    assert all(o.get("scope") == "email" for o in seen)


def test_routes_cannot_set_the_strategy_name() -> None:
    with pytest.raises(ConfigurationError, match=r"passport\.use"):
        AuthenticateOptions.build(strategy_name="admin")


# -- 2.7 multiple strategies: success ---------------------------------------------------------


def test_first_success_in_chain_wins_58() -> None:
    second = Fixed(Success({"id": "b", "username": "bob-b"}))
    passport = make_passport(a=Fixed(Success({"id": "a", "username": "bob-a"})), b=second)
    decision = authenticate(passport, TestRequest(), ["a", "b"], session=False)
    assert isinstance(decision, Proceed)
    assert decision.user["username"] == "bob-a"
    assert second.calls == []


def test_failure_then_success_authenticates_59() -> None:
    passport = make_passport(
        a=Fixed(Fail("A challenge")), b=Fixed(Success({"id": "b", "username": "bob-b"}))
    )
    request = TestRequest()
    decision = authenticate(passport, request, ["a", "b"])
    assert decision == Proceed(
        user={"id": "b", "username": "bob-b"}, info={}, authenticated=True, logged_in=True
    )
    assert logged_in_id(request) == "b"


# -- 2.9 redirect, pass and error -------------------------------------------------------------


def test_redirect_action_answers_302_with_empty_body_77() -> None:
    passport = make_passport(idp=Fixed(Redirect("http://www.example.com/idp")))
    request = TestRequest()
    decision = authenticate(passport, request, "idp")
    assert isinstance(decision, Respond)
    assert decision.status == 302
    assert decision.headers == (
        ("Location", "http://www.example.com/idp"),
        ("Cache-Control", "no-store"),
    )
    assert decision.body == ""
    assert dict(request.session or {}) == {}


def test_redirect_action_with_status_303_78() -> None:
    passport = make_passport(idp=Fixed(Strategy.redirect("http://www.example.com/idp", 303)))
    decision = authenticate(passport, TestRequest(), "idp")
    assert isinstance(decision, Respond)
    assert (decision.status, decision.location) == (303, "http://www.example.com/idp")


def test_pass_action_proceeds_unauthenticated_79() -> None:
    passport = make_passport(anon=Fixed(Pass()))
    request = TestRequest(session={"cart": ["1"]})
    decision = authenticate(passport, request, "anon")
    assert decision == Proceed()
    assert decision.user is None and not decision.authenticated
    assert dict(request.session or {}) == {"cart": ["1"]}


def test_raising_strategy_is_an_error_80() -> None:
    boom = RuntimeError("something is wrong")
    passport = make_passport(broken=Fixed(boom))
    request = TestRequest()
    with pytest.raises(RuntimeError) as caught:
        authenticate(passport, request, "broken")
    assert caught.value is boom
    assert dict(request.session or {}) == {}


class SyncRaiser(Strategy):
    name = "sync-raiser"

    def authenticate(self, request: AuthRequest, options: AuthenticateOptions) -> Success[Any]:
        raise ValueError("raised synchronously")


class AsyncRaiser(Strategy):
    name = "async-raiser"

    async def authenticate(
        self, request: AuthRequest, options: AuthenticateOptions
    ) -> Success[Any]:
        raise ValueError("raised asynchronously")


@pytest.mark.parametrize("strategy", [SyncRaiser(), AsyncRaiser()], ids=["sync", "async"])
def test_strategy_raising_is_routed_like_error_81(strategy: Strategy) -> None:
    """Differs from Passport (a synchronous throw escapes the middleware): a raise from a plain
    or async `authenticate` is the error outcome, raised to the adapter."""
    passport = make_passport()
    passport.use(strategy)
    with pytest.raises(ValueError, match="raised"):
        authenticate(passport, TestRequest(), strategy.name or "")


def test_unknown_outcome_type_is_a_type_error_81() -> None:
    passport = make_passport(odd=Fixed("yes"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"return self.success\(...\)"):
        authenticate(passport, TestRequest(), "odd")


# -- 2.11 authorize and assign_property -------------------------------------------------------


def test_authorize_puts_user_on_account_without_login_87() -> None:
    serialized: list[Any] = []
    passport: Authenticator[Any] = Authenticator()
    passport.use(Fixed(Success(U)), "success")
    passport.serialize_user(lambda user: serialized.append(user) or user["id"])
    request = TestRequest(session={"cart": ["1"]})
    old_id = request.session.id  # type: ignore[union-attr]
    decision = run_sync(passport.authorize(request, "success"))
    assert decision == Proceed(
        user=U, info={}, authenticated=True, logged_in=False, assign_property="account"
    )
    assert serialized == []
    assert dict(request.session or {}) == {"cart": ["1"]}
    assert request.session.id == old_id  # type: ignore[union-attr]


def test_authorize_with_auth_info_false_88() -> None:
    passport = make_passport(success=Fixed(Success(U, {"scope": "read"})))
    options = AuthenticateOptions.build(auth_info=False)
    decision = run_sync(passport.authorize(TestRequest(), "success", options))
    assert decision == Proceed(
        user=U, info=None, authenticated=True, logged_in=False, assign_property="account"
    )


def test_authorize_transforms_info_88() -> None:
    passport = make_passport(success=Fixed(Success(U, {"scope": "read"})))
    passport.transform_auth_info(lambda info: {"scopes": [info["scope"]]})
    decision = run_sync(passport.authorize(TestRequest(), "success"))
    assert isinstance(decision, Proceed)
    assert decision.info == {"scopes": ["read"]}


def test_assign_property_equals_authorize_89() -> None:
    passport = make_passport(success=Fixed(Success(U)))
    request = TestRequest()
    decision = authenticate(passport, request, "success", assign_property="account")
    assert decision == Proceed(
        user=U, info={}, authenticated=True, logged_in=False, assign_property="account"
    )
    assert dict(request.session or {}) == {}


def test_assign_property_ignores_success_redirect_89() -> None:
    passport = make_passport(success=Fixed(Success(U)))
    decision = authenticate(
        passport,
        TestRequest(),
        "success",
        assign_property="account",
        success_redirect="/home",
        success_return_to_or_redirect="/default",
    )
    assert isinstance(decision, Proceed)
    assert decision.assign_property == "account"


def test_authorize_overrides_a_given_assign_property_89() -> None:
    passport = make_passport(success=Fixed(Success(U)))
    options = AuthenticateOptions.build(assign_property="linked")
    decision = run_sync(passport.authorize(TestRequest(), "success", options))
    assert isinstance(decision, Proceed)
    assert decision.assign_property == "account"
    assert options.assign_property == "linked"


def test_authorize_leaves_the_logged_in_user_alone_90() -> None:
    passport = make_passport(github=Fixed(Success({"id": "gh-7", "login": "octocat"})))
    session = MemorySession({"passport": {"user": "1"}})
    old_id = session.id
    decision = run_sync(passport.authorize(TestRequest(session=session), "github"))
    assert isinstance(decision, Proceed)
    assert decision.user == {"id": "gh-7", "login": "octocat"}
    assert (session.id, dict(session)) == (old_id, {"passport": {"user": "1"}})
