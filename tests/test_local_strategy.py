"""`LocalStrategy` at engine level: passport-local's tests L1-L17 and our hardening.

Reference: strategies.md section 1. Adapted: verify returns the user / None / `Verified` /
`Rejected` (no `done` callback, no arity: `pass_request=True` prepends the request), and
malformed input is refused with 400 or 415 before verify runs.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from engine_helpers import USER, U, Verify, authenticate, headers_named, make_passport
from session_entries import TEST_REQUEST, session_identity

import passport_py.strategies.local as local_module
from passport_py import (
    AuthResult,
    Fail,
    Handoff,
    Proceed,
    Rejected,
    Respond,
    Success,
    Verified,
    run_sync,
)
from passport_py.options import AuthenticateOptions
from passport_py.strategies.local import LocalStrategy
from passport_py.testing import TestRequest


def run(strategy: LocalStrategy, request: TestRequest, **options: Any) -> Any:
    """The decision of `authenticate(..., callback=True)`, so the failure detail is visible."""
    passport = make_passport(local=strategy)
    return authenticate(passport, request, "local", callback=True, session=False, **options)


def failure(decision: Any) -> tuple[Any, Any]:
    """The (challenge, status) of a single failed strategy."""
    assert isinstance(decision, Handoff)
    result = decision.result
    assert result.user is None and result.error is None
    [challenge] = result.challenges
    [status] = result.statuses
    return challenge, status


def form(**fields: str) -> TestRequest:
    return TestRequest(form=fields)


MISSING = ({"message": "Missing credentials"}, 400)


# -- L1-L3: module and constructor -------------------------------------------------------------


def test_module_exports_local_strategy_L1() -> None:
    assert local_module.LocalStrategy is LocalStrategy
    assert "LocalStrategy" in local_module.__all__


def test_name_is_local_L2() -> None:
    assert LocalStrategy(Verify()).name == "local"


def test_constructing_without_callable_verify_raises_L3() -> None:
    with pytest.raises(TypeError, match="LocalStrategy requires a verify callable"):
        LocalStrategy(None)  # type: ignore[arg-type]


# -- L4-L9: reading the credentials ------------------------------------------------------------


def test_valid_credentials_in_form_body_succeed_with_info_L4() -> None:
    verify = Verify(Verified(USER, {"scope": "read"}))
    decision = run(LocalStrategy(verify), form(username="johndoe", password="secret"))
    assert decision == Handoff(AuthResult(user=USER, info={"scope": "read"}))
    assert verify.calls == [("johndoe", "secret")]


def test_valid_credentials_log_in_through_the_engine_L4() -> None:
    passport = make_passport(local=LocalStrategy(lambda u, p: U))
    request = form(username="jaredhanson", password="secret")
    decision = authenticate(passport, request, "local")
    assert decision == Proceed(user=U, info={}, authenticated=True, logged_in=True)
    assert session_identity(request.session or {}, TEST_REQUEST) == {"passport": {"user": "1"}}


def test_valid_credentials_in_json_body_succeed_L4() -> None:
    verify = Verify()
    request = TestRequest(json={"username": "johndoe", "password": "secret"})
    decision = run(LocalStrategy(verify), request)
    assert decision == Handoff(AuthResult(user=USER, info=None))
    assert verify.calls == [("johndoe", "secret")]


@pytest.mark.parametrize("content_type", ["application/vnd.api+json", "application/json; v=1"])
def test_json_media_type_variants_are_read_L4(content_type: str) -> None:
    request = TestRequest(
        body=b'{"username": "johndoe", "password": "secret"}', content_type=content_type
    )
    assert run(LocalStrategy(Verify()), request) == Handoff(AuthResult(user=USER))


def test_multipart_form_is_read_L4() -> None:
    request = TestRequest(
        form={"username": "johndoe", "password": "secret"},
        content_type="multipart/form-data; boundary=xyz",
    )
    assert run(LocalStrategy(Verify()), request) == Handoff(AuthResult(user=USER))


def test_credentials_in_query_are_read_with_allow_query_L5() -> None:
    verify = Verify()
    request = TestRequest(method="GET", query={"username": "johndoe", "password": "secret"})
    decision = run(LocalStrategy(verify, allow_query=True), request)
    assert decision == Handoff(AuthResult(user=USER))
    assert verify.calls == [("johndoe", "secret")]


def test_credentials_in_query_are_ignored_by_default_L5() -> None:
    """Differs from Passport (which reads req.query): URLs end up in logs, so the query is read
    only with `allow_query=True`."""
    verify = Verify()
    request = TestRequest(method="GET", query={"username": "johndoe", "password": "secret"})
    assert failure(run(LocalStrategy(verify), request)) == MISSING
    assert verify.calls == []


def test_body_wins_over_query_with_allow_query_L5() -> None:
    verify = Verify()
    request = TestRequest(
        query={"username": "fromquery", "password": "q"},
        form={"username": "frombody", "password": "b"},
    )
    run(LocalStrategy(verify, allow_query=True), request)
    assert verify.calls == [("frombody", "b")]


def test_request_without_body_is_400_missing_credentials_L6() -> None:
    verify = Verify()
    assert failure(run(LocalStrategy(verify), TestRequest())) == MISSING
    assert verify.calls == []


def test_missing_credentials_through_engine_is_400_without_challenge_L6() -> None:
    passport = make_passport(local=LocalStrategy(Verify()))
    decision = authenticate(passport, TestRequest(), "local")
    assert isinstance(decision, Respond)
    assert (decision.status, decision.body) == (400, "Bad Request")
    assert headers_named(decision, "WWW-Authenticate") == []


@pytest.mark.parametrize(
    "request_",
    [
        TestRequest(form={}),
        TestRequest(json={}),
        TestRequest(form={"username": "", "password": ""}),
        TestRequest(json={"username": None, "password": None}),
    ],
    ids=["empty-form", "empty-json", "empty-strings", "json-nulls"],
)
def test_empty_body_is_400_missing_credentials_L7(request_: TestRequest) -> None:
    verify = Verify()
    assert failure(run(LocalStrategy(verify), request_)) == MISSING
    assert verify.calls == []


def test_only_username_is_400_L8() -> None:
    verify = Verify()
    assert failure(run(LocalStrategy(verify), form(username="johndoe"))) == MISSING
    assert verify.calls == []


def test_only_password_is_400_L9() -> None:
    verify = Verify()
    assert failure(run(LocalStrategy(verify), form(password="secret"))) == MISSING
    assert verify.calls == []


# -- L10-L13: options ---------------------------------------------------------------------------


def test_custom_field_names_L10() -> None:
    verify = Verify()
    strategy = LocalStrategy(verify, username_field="userid", password_field="passwd")
    decision = run(strategy, form(userid="johndoe", passwd="secret"))
    assert decision == Handoff(AuthResult(user=USER))
    assert verify.calls == [("johndoe", "secret")]


def test_bracket_field_names_in_form_L11() -> None:
    verify = Verify()
    strategy = LocalStrategy(
        verify, username_field="user[username]", password_field="user[password]"
    )
    request = TestRequest(form={"user[username]": "johndoe", "user[password]": "secret"})
    assert run(strategy, request) == Handoff(AuthResult(user=USER))
    assert verify.calls == [("johndoe", "secret")]


def test_bracket_field_names_walk_json_objects_L11() -> None:
    verify = Verify()
    strategy = LocalStrategy(
        verify, username_field="user[username]", password_field="user[password]"
    )
    request = TestRequest(json={"user": {"username": "johndoe", "password": "secret"}})
    assert run(strategy, request) == Handoff(AuthResult(user=USER))
    assert verify.calls == [("johndoe", "secret")]


@pytest.mark.parametrize(
    "body",
    [{"user": "johndoe"}, {"user": {}}, {"user": {"username": {"x": 1}, "password": "s"}}],
    ids=["not-an-object", "missing-leaf", "object-leaf"],
)
def test_bracket_field_names_with_wrong_shape_L11(body: dict[str, Any]) -> None:
    verify = Verify()
    strategy = LocalStrategy(
        verify, username_field="user[username]", password_field="user[password]"
    )
    _, status = failure(run(strategy, TestRequest(json=body)))
    assert status == 400
    assert verify.calls == []


def test_bad_request_message_from_authenticate_options_L12() -> None:
    decision = run(
        LocalStrategy(Verify()),
        TestRequest(),
        bad_request_message="Something is wrong with this request",
    )
    assert failure(decision) == ({"message": "Something is wrong with this request"}, 400)


def test_bad_request_message_from_constructor_L12() -> None:
    strategy = LocalStrategy(Verify(), bad_request_message="Enter your email and password")
    assert failure(run(strategy, TestRequest())) == (
        {"message": "Enter your email and password"},
        400,
    )


def test_pass_request_gives_verify_the_request_L13() -> None:
    def verify(request: Any, username: str, password: str) -> Any:
        return Verified(USER, {"foo": request.headers.get("x-foo")})

    request = TestRequest(
        headers={"X-Foo": "hello"}, form={"username": "johndoe", "password": "secret"}
    )
    decision = run(LocalStrategy(verify, pass_request=True), request)
    assert decision == Handoff(AuthResult(user=USER, info={"foo": "hello"}))


# -- L14-L17: verify's answers ------------------------------------------------------------------


@pytest.mark.parametrize("result", [None, False])
def test_verify_rejecting_fails_without_challenge_L14(result: Any) -> None:
    decision = run(LocalStrategy(Verify(result)), form(username="johndoe", password="wrong"))
    assert failure(decision) == (None, None)


def test_wrong_credentials_through_engine_are_401_without_www_authenticate_L14() -> None:
    passport = make_passport(local=LocalStrategy(Verify(None)))
    request = form(username="johndoe", password="wrong")
    decision = authenticate(passport, request, "local")
    assert isinstance(decision, Respond)
    assert (decision.status, decision.body) == (401, "Unauthorized")
    assert headers_named(decision, "WWW-Authenticate") == []
    assert dict(request.session or {}) == {}


def test_verify_rejected_with_message_L15() -> None:
    verify = Verify(Rejected("authentication failed"))
    decision = run(LocalStrategy(verify), form(username="johndoe", password="wrong"))
    assert failure(decision) == ({"message": "authentication failed"}, None)


def test_verify_rejected_with_message_and_info_L15() -> None:
    verify = Verify(Rejected("locked", type="warning", retry_after=30))
    decision = run(LocalStrategy(verify), form(username="johndoe", password="wrong"))
    assert failure(decision) == (
        {"message": "locked", "type": "warning", "retry_after": 30},
        None,
    )


def test_rejected_message_feeds_failure_flash_L15() -> None:
    passport = make_passport(local=LocalStrategy(Verify(Rejected("Incorrect password"))))
    request = form(username="johndoe", password="wrong")
    decision = authenticate(
        passport, request, "local", failure_flash=True, failure_redirect="/login"
    )
    assert request.flashes == [("error", "Incorrect password")]
    assert isinstance(decision, Respond)
    assert decision.location == "/login"


def test_verify_error_is_an_error_L16() -> None:
    boom = ConnectionError("something went wrong")
    decision = run(LocalStrategy(Verify(boom)), form(username="johndoe", password="secret"))
    assert isinstance(decision, Handoff)
    assert decision.result.error is boom


def test_async_verify_raising_is_raised_without_callback_L17() -> None:
    async def verify(username: str, password: str) -> Any:
        await asyncio.sleep(0)
        raise ValueError("verify exploded")

    passport = make_passport(local=LocalStrategy(verify))
    with pytest.raises(ValueError, match="verify exploded"):
        authenticate(passport, form(username="johndoe", password="secret"), "local")


def test_outcomes_from_verify_are_values_L4() -> None:
    strategy = LocalStrategy(Verify(Verified(USER, {"scope": "read"})))
    request = form(username="johndoe", password="secret")
    outcome = run_sync(strategy.authenticate(request, AuthenticateOptions()))
    assert outcome == Success(USER, {"scope": "read"})
    assert run_sync(strategy.authenticate(TestRequest(), AuthenticateOptions())) == Fail(
        {"message": "Missing credentials"}, 400
    )


# -- hardening ---------------------------------------------------------------------------------


def test_duplicate_form_field_is_400() -> None:
    verify = Verify()
    request = TestRequest(
        form=[("username", "johndoe"), ("username", "admin"), ("password", "secret")]
    )
    assert failure(run(LocalStrategy(verify), request)) == (
        {"message": "Field 'username' was sent more than once"},
        400,
    )
    assert verify.calls == []


def test_duplicate_query_field_is_400_with_allow_query() -> None:
    verify = Verify()
    request = TestRequest(
        method="GET", query=[("username", "a"), ("password", "x"), ("password", "y")]
    )
    challenge, status = failure(run(LocalStrategy(verify, allow_query=True), request))
    assert (challenge, status) == ({"message": "Field 'password' was sent more than once"}, 400)
    assert verify.calls == []


def test_duplicate_json_key_is_400() -> None:
    verify = Verify()
    request = TestRequest(
        body=b'{"username": "johndoe", "username": "admin", "password": "secret"}',
        content_type="application/json",
    )
    challenge, status = failure(run(LocalStrategy(verify), request))
    assert status == 400
    assert "duplicate key 'username'" in challenge["message"]
    assert verify.calls == []


def test_duplicate_field_through_engine_is_400_bad_request() -> None:
    passport = make_passport(local=LocalStrategy(Verify()))
    request = TestRequest(form=[("password", "a"), ("password", "b"), ("username", "u")])
    decision = authenticate(passport, request, "local")
    assert isinstance(decision, Respond)
    assert (decision.status, decision.body) == (400, "Bad Request")


@pytest.mark.parametrize(
    "value",
    [1234, 12.5, True, ["secret"], {"plain": "secret"}],
    ids=["int", "float", "bool", "list", "object"],
)
def test_non_string_json_value_is_400(value: Any) -> None:
    verify = Verify()
    request = TestRequest(json={"username": "johndoe", "password": value})
    assert failure(run(LocalStrategy(verify), request)) == (
        {"message": "Field 'password' must be a string"},
        400,
    )
    assert verify.calls == []


def test_non_string_json_username_is_400() -> None:
    verify = Verify()
    request = TestRequest(json={"username": 42, "password": "secret"})
    assert failure(run(LocalStrategy(verify), request)) == (
        {"message": "Field 'username' must be a string"},
        400,
    )


@pytest.mark.parametrize(
    "body", [b"[1, 2]", b'"johndoe"', b"null"], ids=["array", "string", "null"]
)
def test_json_body_that_is_not_an_object_is_400(body: bytes) -> None:
    request = TestRequest(body=body, content_type="application/json")
    assert failure(run(LocalStrategy(Verify()), request)) == (
        {"message": "JSON body must be an object"},
        400,
    )


@pytest.mark.parametrize(
    "body",
    [b'{"username": "a", ', b'{"username": NaN}', b"\xff\xfe", b'\xef\xbb\xbf{"a": "b"}'],
    ids=["truncated", "nan", "not-utf8", "bom"],
)
def test_malformed_json_body_is_400(body: bytes) -> None:
    verify = Verify()
    request = TestRequest(body=body, content_type="application/json")
    challenge, status = failure(run(LocalStrategy(verify), request))
    assert status == 400
    assert challenge["message"].startswith("Request body")
    assert verify.calls == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"username=johndoe&password=secret", "text/plain"),
        (b"<creds/>", "application/xml"),
        (b"username=johndoe&password=secret", None),
    ],
    ids=["text-plain", "xml", "no-content-type"],
)
def test_other_content_type_with_body_is_415(body: bytes, content_type: str | None) -> None:
    verify = Verify()
    request = TestRequest(body=body, content_type=content_type)
    challenge, status = failure(run(LocalStrategy(verify), request))
    assert status == 415
    assert "Unsupported content type" in challenge["message"]
    assert verify.calls == []


def test_415_through_engine_is_unsupported_media_type() -> None:
    passport = make_passport(local=LocalStrategy(Verify()))
    request = TestRequest(body=b"hello", content_type="text/plain")
    decision = authenticate(passport, request, "local")
    assert isinstance(decision, Respond)
    assert (decision.status, decision.body) == (415, "Unsupported Media Type")


def test_username_at_length_cap_is_accepted() -> None:
    verify = Verify()
    name = "u" * 256
    assert run(LocalStrategy(verify), form(username=name, password="secret")) == Handoff(
        AuthResult(user=USER)
    )
    assert verify.calls == [(name, "secret")]


def test_username_over_length_cap_is_400() -> None:
    verify = Verify()
    decision = run(LocalStrategy(verify), form(username="u" * 257, password="secret"))
    assert failure(decision) == ({"message": "Credentials too long"}, 400)
    assert verify.calls == []


def test_password_at_byte_cap_is_accepted() -> None:
    verify = Verify()
    password = "p" * 4096
    run(LocalStrategy(verify), form(username="johndoe", password=password))
    assert verify.calls == [("johndoe", password)]


@pytest.mark.parametrize("password", ["p" * 4097, "\u20ac" * 1366], ids=["ascii", "multibyte"])
def test_password_over_byte_cap_is_400(password: str) -> None:
    verify = Verify()
    decision = run(LocalStrategy(verify), form(username="johndoe", password=password))
    assert failure(decision) == ({"message": "Credentials too long"}, 400)
    assert verify.calls == []


def test_length_caps_are_configurable() -> None:
    verify = Verify()
    strategy = LocalStrategy(verify, max_username_length=5, max_password_bytes=8)
    assert failure(run(strategy, form(username="johndoe", password="secret"))) == (
        {"message": "Credentials too long"},
        400,
    )
    assert run(strategy, form(username="john", password="secret")) == Handoff(AuthResult(user=USER))


def test_lone_surrogate_in_json_is_400() -> None:
    verify = Verify()
    request = TestRequest(
        body=b'{"username": "\\ud800", "password": "secret"}', content_type="application/json"
    )
    assert failure(run(LocalStrategy(verify), request)) == (
        {"message": "Field 'username' is not valid text"},
        400,
    )
    assert verify.calls == []
