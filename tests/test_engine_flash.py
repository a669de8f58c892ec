"""The authenticate engine: flash messages and session messages on failure and success.

Reference: passport-core.md 1.12 and 2.8 (behaviours 69-76).
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
    Proceed,
    Respond,
    SessionRequiredError,
    Success,
)
from passport_py.testing import MemorySession, TestRequest

# The strategy's challenge (failure) or info (success), in each form the reference tests.
SOURCES: dict[str, Any] = {
    "object": {"message": "Invalid password"},
    "object+type": {"message": "Invalid password", "type": "notice"},
    "string": "Invalid password",
    "absent": None,
}
# The route's flash option, in each form; Passport's table (reference 1.12) gives the result.
OPTIONS: dict[str, Any] = {
    "true": True,
    "{type}": {"type": "info"},
    "string": "Wrong!",
    "{message}": {"message": "Try again"},
    "{type,message}": {"type": "warn", "message": "Try again"},
}


def expected_flash(source: str, option: str, default: str) -> list[tuple[str, str]]:
    """Passport's precedence table, written out per combination."""
    has_message = source != "absent"
    table: dict[str, list[tuple[str, str]]] = {
        "true": [("notice" if source == "object+type" else default, "Invalid password")]
        if has_message
        else [],
        "{type}": [("info", "Invalid password")] if has_message else [],
        "string": [(default, "Wrong!")],
        "{message}": [(default, "Try again")],
        "{type,message}": [("warn", "Try again")],
    }
    return table[option]


COMBINATIONS = [(s, o) for s in SOURCES for o in OPTIONS]


@pytest.mark.parametrize(("source", "option"), COMBINATIONS)
def test_failure_flash_combinations_then_redirect_69(source: str, option: str) -> None:
    challenge = SOURCES[source]
    passport = make_passport(s=Fixed(Fail(challenge)))
    request = TestRequest()
    decision = authenticate(
        passport, request, "s", failure_flash=OPTIONS[option], failure_redirect="/login"
    )
    assert request.flashes == expected_flash(source, option, "error")
    assert isinstance(decision, Respond)
    assert (decision.status, decision.location) == (302, "/login")


@pytest.mark.parametrize(("source", "option"), COMBINATIONS)
def test_success_flash_combinations_then_redirect_70(source: str, option: str) -> None:
    info = SOURCES[source]
    passport = make_passport(s=Fixed(Success(U, info)))
    request = TestRequest()
    decision = authenticate(
        passport, request, "s", success_flash=OPTIONS[option], success_redirect="/home"
    )
    assert request.flashes == expected_flash(source, option, "success")
    assert isinstance(decision, Respond)
    assert (decision.status, decision.location) == (302, "/home")


def test_success_flash_with_string_info_70() -> None:
    passport = make_passport(s=Fixed(Success(U, "Greetings")))
    request = TestRequest()
    decision = authenticate(passport, request, "s", success_flash=True)
    assert request.flashes == [("success", "Greetings")]
    assert isinstance(decision, Proceed)
    assert decision.info == "Greetings"


def test_flash_option_mapping_is_not_mutated_69() -> None:
    """Differs from Passport (which writes the default type back into the route's option)."""
    option = {"message": "Try again"}
    passport = make_passport(s=Fixed(Fail()))
    authenticate(passport, TestRequest(), "s", failure_flash=option)
    assert option == {"message": "Try again"}


def test_flash_option_with_unknown_keys_is_refused_69() -> None:
    with pytest.raises(ConfigurationError, match="failure_flash="):
        AuthenticateOptions.build(failure_flash={"kind": "error"})


def test_failure_message_string_is_appended_71() -> None:
    passport = make_passport(s=Fixed(Fail({"message": "Invalid password"})))
    request = TestRequest()
    authenticate(passport, request, "s", failure_message="Wrong credentials")
    assert dict(request.session or {}) == {"messages": ["Wrong credentials"]}


def test_failure_message_appends_to_existing_messages_71() -> None:
    passport = make_passport(s=Fixed(Fail()))
    request = TestRequest(session={"messages": ["I exist!"]})
    authenticate(passport, request, "s", failure_message="Wrong credentials")
    assert (request.session or {})["messages"] == ["I exist!", "Wrong credentials"]


def test_failure_message_true_uses_challenge_message_only_72() -> None:
    passport = make_passport(s=Fixed(Fail({"message": "Invalid password", "scope": "read"})))
    request = TestRequest()
    authenticate(passport, request, "s", failure_message=True)
    assert (request.session or {})["messages"] == ["Invalid password"]


def test_failure_message_true_with_string_challenge_73() -> None:
    passport = make_passport(s=Fixed(Fail("Bearer realm=api")))
    request = TestRequest()
    authenticate(passport, request, "s", failure_message=True)
    assert (request.session or {})["messages"] == ["Bearer realm=api"]


def test_failure_message_true_without_message_records_nothing_73() -> None:
    passport = make_passport(s=Fixed(Fail({"scope": "read"})))
    request = TestRequest()
    authenticate(passport, request, "s", failure_message=True)
    assert dict(request.session or {}) == {}


def test_custom_messages_key_is_used_and_kept_through_login_71() -> None:
    passport: Authenticator[Any] = Authenticator(messages_key="notices")
    passport.use(Fixed(Fail()), "bad").use(Fixed(Success(U)), "good")
    passport.serialize_user(lambda user: user["id"])
    request = TestRequest()
    authenticate(passport, request, "bad", failure_message="Nope")
    assert dict(request.session or {}) == {"notices": ["Nope"]}
    authenticate(passport, request, "good", success_message="Welcome")
    assert session_identity(request.session or {}, TEST_REQUEST) == {
        "notices": ["Nope", "Welcome"],
        "passport": {"user": "1"},
    }


def test_success_message_string_is_appended_74() -> None:
    passport = make_passport(s=Fixed(Success(U)))
    request = TestRequest()
    authenticate(passport, request, "s", success_message="Login complete")
    assert session_identity(request.session or {}, TEST_REQUEST) == {
        "passport": {"user": "1"},
        "messages": ["Login complete"],
    }


def test_success_message_true_uses_info_message_74() -> None:
    passport = make_passport(s=Fixed(Success(U, {"message": "Welcome!", "scope": "read"})))
    request = TestRequest()
    authenticate(passport, request, "s", success_message=True)
    assert (request.session or {})["messages"] == ["Welcome!"]


def test_success_message_survives_regeneration_75() -> None:
    """Differs from Passport (messages written before regeneration are lost): success messages
    are written after the login, and earlier messages are kept through it."""
    passport = make_passport(s=Fixed(Success(U, {"message": "Welcome!"})))
    session = MemorySession({"messages": ["Earlier"], "cart": ["1"]})
    old_id = session.id
    request = TestRequest(session=session)
    authenticate(passport, request, "s", success_message=True)
    assert session.id != old_id
    assert session_identity(session, TEST_REQUEST) == {
        "passport": {"user": "1"},
        "messages": ["Earlier", "Welcome!"],
    }


class SessionFlashRequest(TestRequest):
    """A request that keeps flashes in the session, the way adapters do (Starlette's)."""

    flash_keys = ("flash",)

    def flash(self, category: str, message: str) -> None:
        session = self.session
        assert session is not None
        session["flash"] = [*session.get("flash", []), [category, message]]


def test_success_flash_survives_regeneration_75() -> None:
    """Differs from Passport (a success flash is lost to the login's regeneration): the flash is
    applied after the login, and flashes already pending are carried through it."""
    passport = make_passport(s=Fixed(Success(U)))
    session = MemorySession({"flash": [["info", "Pending"]], "cart": ["1"]})
    old_id = session.id
    request = SessionFlashRequest(session=session)
    authenticate(passport, request, "s", success_flash="Welcome back")
    assert session.id != old_id
    assert session_identity(session, TEST_REQUEST) == {
        "passport": {"user": "1"},
        "flash": [["info", "Pending"], ["success", "Welcome back"]],
    }


def test_success_flash_and_message_apply_with_assign_property_89() -> None:
    passport = make_passport(s=Fixed(Success(U, {"message": "Linked"})))
    request = TestRequest()
    decision = authenticate(
        passport,
        request,
        "s",
        assign_property="account",
        success_flash=True,
        success_message=True,
    )
    assert isinstance(decision, Proceed)
    assert request.flashes == [("success", "Linked")]
    assert dict(request.session or {}) == {"messages": ["Linked"]}


def test_failure_flash_and_message_without_redirect_still_401_76() -> None:
    passport = make_passport(s=Fixed(Fail({"message": "Invalid password"})))
    request = TestRequest()
    decision = authenticate(passport, request, "s", failure_flash=True, failure_message=True)
    assert request.flashes == [("error", "Invalid password")]
    assert (request.session or {})["messages"] == ["Invalid password"]
    assert isinstance(decision, Respond)
    assert (decision.status, decision.body) == (401, "Unauthorized")


def test_failure_message_without_session_raises_76() -> None:
    passport = make_passport(s=Fixed(Fail({"message": "Invalid password"})))
    with pytest.raises(SessionRequiredError, match="Login sessions require session support"):
        authenticate(passport, TestRequest(session=None), "s", failure_message=True)


def test_no_flash_or_message_without_the_options_76() -> None:
    passport = make_passport(s=Fixed(Fail({"message": "Invalid password"})))
    request = TestRequest()
    authenticate(passport, request, "s")
    assert request.flashes == []
    assert dict(request.session or {}) == {}
