"""Pending logins in the core, without a web framework: callbacks, configuration errors,
and the `next` a login page was given."""

from __future__ import annotations

import pytest
from second_factor_helpers import CODE, pending_kit

from passport_py import Authenticator, ConfigurationError, Handoff, Respond, run_sync
from passport_py.options import AuthenticateOptions
from passport_py.testing import MemorySession, TestRequest

ALICE = {"username": "alice", "password": "wonderland"}


def test_a_callback_gets_a_pending_result_that_is_not_ok_and_the_session_holds_it() -> None:
    kit = pending_kit()
    request = TestRequest(form=ALICE, session=MemorySession())
    decision = run_sync(kit.passport.authenticate(request, "local", callback=True))
    assert isinstance(decision, Handoff)
    result = decision.result
    assert (result.user, result.pending, result.ok) == (kit.users.users[1], ("code",), False)
    assert request.session is not None and "user" not in request.session["passport"]
    assert run_sync(kit.passport.pending_login(request)) == (kit.users.users[1], ("code",))


def test_a_login_with_next_keeps_it_for_after_the_second_factor() -> None:
    kit = pending_kit()
    session = MemorySession()
    options = AuthenticateOptions.build(success_return_to_or_redirect="/home")
    request = TestRequest(form=ALICE, query={"next": "/reports"}, session=session)
    decision = run_sync(kit.passport.authenticate(request, "local", options))
    assert isinstance(decision, Respond) and decision.location == "/login/second-factor"
    code = TestRequest(form={"code": CODE}, session=session)
    decision = run_sync(kit.passport.authenticate(code, "code", options))
    assert isinstance(decision, Respond) and decision.location == "/reports"


def test_a_route_option_overrides_the_second_factor_page() -> None:
    kit = pending_kit()
    options = AuthenticateOptions.build(failure_redirect="/login", second_factor_redirect="/2fa")
    request = TestRequest(form=ALICE)
    decision = run_sync(kit.passport.authenticate(request, "local", options))
    assert isinstance(decision, Respond) and decision.location == "/2fa"


def test_a_redirecting_route_without_a_second_factor_page_is_a_configuration_error() -> None:
    kit = pending_kit()
    kit.passport.second_factor_url = None
    options = AuthenticateOptions.build(failure_redirect="/login")
    request = TestRequest(form=ALICE, session=MemorySession())
    with pytest.raises(ConfigurationError, match="second_factor_url="):
        run_sync(kit.passport.authenticate(request, "local", options))
    assert request.session is not None and "passport" not in request.session


@pytest.mark.parametrize("names", [["totp"], ["local"], "code", [1]])
def test_second_factors_naming_no_registered_second_factor_is_a_configuration_error(
    names: object,
) -> None:
    kit = pending_kit()
    kit.passport.second_factors(lambda user: names)
    with pytest.raises(ConfigurationError, match="second_factors"):
        run_sync(kit.passport.authenticate(TestRequest(form=ALICE), "local"))


def test_an_async_second_factors_function_with_the_request_works() -> None:
    kit = pending_kit()
    seen: list[object] = []

    @kit.passport.second_factors(pass_request=True)
    async def factors(request: object, user: object) -> list[str]:
        seen.append(request)
        return ["code"]

    request = TestRequest(form=ALICE)
    decision = run_sync(kit.passport.authenticate(request, "local"))
    assert isinstance(decision, Respond) and decision.status == 401
    assert seen == [request]


@pytest.mark.parametrize("max_age", [0, -1, 1.5, True])
def test_pending_max_age_must_be_a_positive_whole_number(max_age: object) -> None:
    with pytest.raises(ConfigurationError, match="pending_max_age"):
        Authenticator(pending_max_age=max_age)  # type: ignore[arg-type]


def test_subject_is_never_a_route_option() -> None:
    with pytest.raises(ConfigurationError, match="subject= is not a route option"):
        AuthenticateOptions.build(subject=None)


def test_a_second_factor_the_pending_login_does_not_offer_is_refused() -> None:
    kit = pending_kit()
    request = TestRequest(form=ALICE, session=MemorySession())
    run_sync(kit.passport.authenticate(request, "local"))
    assert request.session is not None
    request.session["passport"]["pending"]["factors"] = ["totp"]
    code = TestRequest(form={"code": CODE}, session=request.session)
    decision = run_sync(kit.passport.authenticate(code, "code"))
    assert isinstance(decision, Respond) and decision.status == 401
    assert kit.code.checked == []
