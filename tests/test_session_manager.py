"""Login, logout and restoring the user from the session.

Reference: passport-core.md 1.11, 2.12 (behaviours 91-101), 2.13 (102-108) and 2.15 (110-116),
where `Authenticator.restore` plays the part of Passport's SessionStrategy. The last section
covers what a login records beside the user (its time, the client IP and user agent).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from engine_helpers import Fixed, U, authenticate, make_passport
from session_entries import NO_CLIENT, TEST_REQUEST, Client, identity, session_identity
from starlette_app import make_kit
from users import PASSWORD

from passport_py import (
    Authenticator,
    Proceed,
    SerializationError,
    SessionRequiredError,
    Success,
    run_sync,
)
from passport_py.session_manager import LOGIN_KEYS, SessionManager
from passport_py.testing import MemorySession, TestRequest


class RecordingSession(MemorySession):
    """Records the data it held each time it was regenerated; can be told to fail."""

    def __init__(self, data: dict[str, Any] | None = None, *, fail: bool = False) -> None:
        super().__init__(data)
        self.fail = fail
        self.before_regenerate: list[dict[str, Any]] = []

    def regenerate(self) -> None:
        self.before_regenerate.append({k: _copy(v) for k, v in self.items()})
        if self.fail:
            raise OSError("store unavailable")
        super().regenerate()


def _copy(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else value


def login(passport: Authenticator[Any], session: Any, user: Any = U, **kw: Any) -> None:
    run_sync(passport.login(TestRequest(session=session), user, **kw))


def logout(passport: Authenticator[Any], session: Any, **kw: Any) -> None:
    run_sync(passport.logout(TestRequest(session=session), **kw))


# -- 2.12 login -------------------------------------------------------------------------------


def test_authenticate_with_session_false_does_not_log_in_91() -> None:
    passport = make_passport(s=Fixed(Success(U)))
    session = MemorySession()
    old_id = session.id
    decision = authenticate(passport, TestRequest(session=session), "s", session=False)
    assert decision == Proceed(user=U, info={}, authenticated=True, logged_in=False)
    assert (session.id, dict(session), session.regenerations) == (old_id, {}, 0)


def test_login_regenerates_and_writes_serialized_user_94() -> None:
    passport = make_passport()
    session = MemorySession()
    old_id = session.id
    login(passport, session)
    assert session.id != old_id
    assert session.regenerations == 1
    assert session_identity(session, TEST_REQUEST) == {"passport": {"user": "1"}}


def test_login_drops_previous_session_data_95() -> None:
    passport = make_passport()
    session = MemorySession({"cart": ["1", "2"]})
    login(passport, session)
    assert session_identity(session, TEST_REQUEST) == {"passport": {"user": "1"}}


def test_login_with_keep_session_info_keeps_previous_data_95() -> None:
    passport = make_passport()
    session = MemorySession({"cart": ["1", "2"]})
    old_id = session.id
    login(passport, session, keep_session_info=True)
    assert session.id != old_id
    assert session_identity(session, TEST_REQUEST) == {
        "cart": ["1", "2"],
        "passport": {"user": "1"},
    }


def test_login_keep_session_info_merges_previous_passport_data_96() -> None:
    passport = make_passport()
    session = MemorySession({"passport": {"user": 99, "extra": "e"}, "cart": ["1"]})
    login(passport, session, {"id": 5}, keep_session_info=True)
    assert session_identity(session, TEST_REQUEST) == {
        "passport": {"user": 5, "extra": "e"},
        "cart": ["1"],
    }


def test_login_without_keep_session_info_replaces_passport_data_96() -> None:
    passport = make_passport()
    session = MemorySession({"passport": {"user": 99, "extra": "e"}})
    login(passport, session, {"id": 5})
    assert session_identity(session, TEST_REQUEST) == {"passport": {"user": 5}}


def test_login_keeps_return_to_and_messages_by_default_95() -> None:
    """Differs from Passport (everything is lost to regeneration): the return-to URL and the
    pending messages survive a default login."""
    passport = make_passport()
    session = MemorySession({"return_to": "/orders", "messages": ["Hi"], "cart": ["1"]})
    login(passport, session)
    assert session_identity(session, TEST_REQUEST) == {
        "return_to": "/orders",
        "messages": ["Hi"],
        "passport": {"user": "1"},
    }


def test_login_regenerate_error_leaves_session_as_it_was_97() -> None:
    passport = make_passport()
    session = RecordingSession({"cart": ["1"]}, fail=True)
    old_id = session.id
    with pytest.raises(OSError, match="store unavailable"):
        login(passport, session)
    assert (session.id, dict(session)) == (old_id, {"cart": ["1"]})


def test_login_serialize_error_leaves_session_untouched_98() -> None:
    """Differs from Passport (the session is already regenerated when serialization fails):
    we serialize first, so the session keeps its id and data."""
    passport: Authenticator[Any] = Authenticator()
    passport.serialize_user(lambda user: None)
    session = RecordingSession({"cart": ["1"]})
    old_id = session.id
    with pytest.raises(SerializationError, match="Failed to serialize user into session"):
        login(passport, session)
    assert (session.id, dict(session), session.before_regenerate) == (old_id, {"cart": ["1"]}, [])


def test_login_without_session_raises_with_hint_101() -> None:
    passport = make_passport()
    with pytest.raises(SessionRequiredError) as caught:
        run_sync(passport.login(TestRequest(session=None), U))
    message = str(caught.value)
    assert message.startswith("Login sessions require session support")
    assert "build the TestRequest with a session" in message
    assert "session=False" in message


@pytest.mark.parametrize("user_id", [0, ""])
def test_login_stores_falsy_ids_11(user_id: Any) -> None:
    passport = make_passport()
    session = MemorySession()
    login(passport, session, {"id": user_id})
    assert session_identity(session, TEST_REQUEST) == {"passport": {"user": user_id}}


def test_login_under_custom_session_key_94() -> None:
    passport: Authenticator[Any] = Authenticator(session_key="auth")
    passport.serialize_user(lambda user: user["id"])
    session = MemorySession({"passport": {"user": "other"}})
    login(passport, session)
    assert session_identity(session, TEST_REQUEST, key="auth") == {"auth": {"user": "1"}}


def test_session_manager_keeps_adapter_flash_keys_95() -> None:
    manager = SessionManager("passport", preserve=("return_to",))
    session = MemorySession({"_flash": [["info", "Saved"]], "return_to": "/x", "cart": [1]})
    manager.login(session, "1", flash_keys=("_flash",))
    assert session_identity(session) == {
        "_flash": [["info", "Saved"]],
        "return_to": "/x",
        "passport": {"user": "1"},
    }


def test_session_manager_never_preserves_its_own_key_96() -> None:
    manager = SessionManager("passport", preserve=("passport",))
    session = MemorySession({"passport": {"user": "old", "extra": 1}})
    manager.login(session, "new")
    assert session_identity(session) == {"passport": {"user": "new"}}


# -- 2.13 logout ------------------------------------------------------------------------------


def test_logout_removes_user_before_regenerating_102() -> None:
    passport = make_passport()
    session = RecordingSession({"passport": {"user": "1"}})
    old_id = session.id
    logout(passport, session)
    assert session.before_regenerate == [{"passport": {}}]
    assert session.id != old_id
    assert dict(session) == {}
    assert run_sync(passport.restore(TestRequest(session=session))) is None


def test_logout_drops_other_data_103() -> None:
    passport = make_passport()
    session = MemorySession({"cart": ["1"], "passport": {"user": "1"}})
    logout(passport, session)
    assert dict(session) == {}


def test_logout_with_keep_session_info_keeps_other_data_103() -> None:
    passport = make_passport()
    session = MemorySession({"cart": ["1"], "passport": {"user": "1", "extra": "e"}})
    old_id = session.id
    logout(passport, session, keep_session_info=True)
    assert session.id != old_id
    assert dict(session) == {"cart": ["1"], "passport": {"extra": "e"}}


def test_logout_with_keep_session_info_leaves_empty_passport_103() -> None:
    passport = make_passport()
    session = MemorySession({"cart": ["1"], "passport": {"user": "1"}})
    logout(passport, session, keep_session_info=True)
    assert dict(session) == {"cart": ["1"], "passport": {}}


def test_logout_when_nobody_is_logged_in_still_regenerates_102() -> None:
    passport = make_passport()
    session = MemorySession({"cart": ["1"]})
    old_id = session.id
    logout(passport, session)
    assert (session.id != old_id, dict(session)) == (True, {})


def test_logout_regenerate_error_has_already_removed_user_106() -> None:
    passport = make_passport()
    session = RecordingSession({"passport": {"user": "1"}, "cart": ["1"]}, fail=True)
    with pytest.raises(OSError, match="store unavailable"):
        logout(passport, session)
    assert dict(session) == {"passport": {}, "cart": ["1"]}


def test_logout_without_session_raises_108() -> None:
    with pytest.raises(SessionRequiredError, match="Login sessions require session support"):
        run_sync(make_passport().logout(TestRequest(session=None)))


def test_login_then_logout_then_login_round_trip_94_102() -> None:
    passport = make_passport()
    session = MemorySession()
    request = TestRequest(session=session)
    run_sync(passport.login(request, U))
    assert run_sync(passport.restore(request)) == U
    run_sync(passport.logout(request))
    assert run_sync(passport.restore(request)) is None
    run_sync(passport.login(request, U))
    assert run_sync(passport.restore(request)) == U
    assert session.regenerations == 3


def test_a_login_is_fresh_by_default() -> None:
    passport = make_passport()
    session = MemorySession()
    run_sync(passport.login(TestRequest(session=session), U))
    assert session_identity(session, TEST_REQUEST) == {"passport": {"user": "1"}}
    assert passport.sessions.is_fresh(session)


def test_a_login_with_fresh_false_is_marked_not_fresh() -> None:
    passport = make_passport()
    session = MemorySession()
    run_sync(passport.login(TestRequest(session=session), U, fresh=False))
    assert identity(session["passport"], TEST_REQUEST) == {"user": "1", "fresh": False}
    assert not passport.sessions.is_fresh(session)


def test_a_fresh_login_over_a_remembered_one_with_kept_info_is_fresh_again() -> None:
    passport = make_passport()
    session = MemorySession({"passport": {"user": "1", "fresh": False}})
    run_sync(passport.login(TestRequest(session=session), U, keep_session_info=True))
    assert passport.sessions.is_fresh(session)


@pytest.mark.parametrize("data", [None, {}, {"passport": {}}, {"passport": {"user": None}}])
def test_nobody_logged_in_is_not_fresh(data: dict[str, Any] | None) -> None:
    assert not make_passport().sessions.is_fresh(data)


# -- 2.15 restoring the user (Passport's SessionStrategy) -------------------------------------


def restore(passport: Authenticator[Any], session: Any) -> Any:
    return run_sync(passport.restore(TestRequest(session=session)))


def counting_passport(result: Any = U) -> tuple[Authenticator[Any], list[Any]]:
    passport: Authenticator[Any] = Authenticator()
    calls: list[Any] = []

    @passport.deserialize_user
    def load(user_id: Any) -> Any:
        calls.append(user_id)
        if isinstance(result, BaseException):
            raise result
        return {"id": user_id} if result is U else result

    return passport, calls


def test_restore_without_session_is_nobody_110() -> None:
    """Differs from Passport (an error when there is no session): restoring reads no session
    and finds nobody; what needs a session (login, logout) raises SessionRequiredError."""
    passport, calls = counting_passport()
    assert restore(passport, None) is None
    assert calls == []


@pytest.mark.parametrize(
    "data",
    [{}, {"passport": {}}, {"passport": {"user": None}}, {"passport": "junk"}, {"cart": [1]}],
)
def test_restore_without_stored_user_is_nobody_111(data: dict[str, Any]) -> None:
    passport, calls = counting_passport()
    session = MemorySession(data)
    assert restore(passport, session) is None
    assert calls == []
    assert dict(session) == data


def test_restore_deserializes_stored_user_112() -> None:
    passport, calls = counting_passport()
    session = MemorySession({"passport": {"user": "123456"}})
    old_id = session.id
    assert restore(passport, session) == {"id": "123456"}
    assert calls == ["123456"]
    assert session.id == old_id
    # A login stored before login times were recorded gets them at its first restore.
    assert session_identity(dict(session), NO_CLIENT) == {"passport": {"user": "123456"}}


def test_restore_deserializes_zero_id_113() -> None:
    passport, _ = counting_passport()
    assert restore(passport, MemorySession({"passport": {"user": 0}})) == {"id": 0}


def test_restore_deserializes_empty_string_id_113() -> None:
    """Differs from Passport (which skips ''): an empty string is a valid id."""
    passport, calls = counting_passport()
    assert restore(passport, MemorySession({"passport": {"user": ""}})) == {"id": ""}
    assert calls == [""]


@pytest.mark.parametrize("gone", [None, False])
def test_restore_forgets_deleted_user_quietly_114(gone: Any) -> None:
    passport, _ = counting_passport(gone)
    session = MemorySession({"passport": {"user": "1", "extra": "e"}, "cart": ["1"]})
    old_id = session.id
    assert restore(passport, session) is None
    assert (session.id, session.regenerations) == (old_id, 0)
    assert dict(session) == {"passport": {"extra": "e"}, "cart": ["1"]}


def test_restore_deserializer_error_raises_and_keeps_session_115() -> None:
    passport, _ = counting_passport(ConnectionError("db down"))
    session = MemorySession({"passport": {"user": "1"}})
    with pytest.raises(ConnectionError, match="db down"):
        restore(passport, session)
    assert session_identity(dict(session), NO_CLIENT) == {"passport": {"user": "1"}}


def test_restore_with_pass_request_deserializer_gets_request_112() -> None:
    passport: Authenticator[Any] = Authenticator()

    @passport.deserialize_user(pass_request=True)
    def load(request: Any, user_id: Any) -> Any:
        return {"id": user_id, "path": request.path}

    request = TestRequest(path="/me", session={"passport": {"user": "7"}})
    assert run_sync(passport.restore(request)) == {"id": "7", "path": "/me"}


def test_restore_under_custom_session_key_112() -> None:
    passport: Authenticator[Any] = Authenticator(session_key="auth")
    passport.deserialize_user(lambda user_id: {"id": user_id})
    session = MemorySession({"passport": {"user": "1"}, "auth": {"user": "2"}})
    assert restore(passport, session) == {"id": "2"}


# -- what a login records beside the user -----------------------------------------------------

#: A long-lived entry holding every key a login may write, plus an app's own key.
FULL_ENTRY = {
    "user": "1",
    "at": 1_700_000_000,
    "seen": 1_700_000_600,
    "ip": "203.0.113.9",
    "ua": "Firefox/130.0",
    "fresh": False,
    "auth": "password-hash-digest",
    "auth_at": 1_700_000_000,
    "amr": ["pwd", "otp"],
    "pending": {"user": "2", "first": "local", "expires": 1_700_000_300},
    "extra": "e",
}


def login_entry(**request: Any) -> dict[str, Any]:
    """The core's entry after a login through `TestRequest(**request)` into a new session."""
    session = MemorySession()
    run_sync(make_passport().login(TestRequest(session=session, **request), U))
    entry = session["passport"]
    assert isinstance(entry, dict)
    return entry


def test_a_login_records_when_it_happened_as_at_and_seen() -> None:
    before = int(time.time())
    entry = login_entry()
    after = int(time.time())
    assert type(entry["at"]) is int
    assert before <= entry["at"] == entry["seen"] <= after


def test_a_login_records_the_client_ip_and_user_agent() -> None:
    entry = login_entry(client_ip="203.0.113.9", headers={"User-Agent": "Firefox/130.0"})
    assert identity(entry, Client("203.0.113.9", "Firefox/130.0")) == {"user": "1"}


def test_a_long_user_agent_is_cut_to_200_characters() -> None:
    entry = login_entry(headers={"User-Agent": "A" * 150 + "B" * 100})
    assert entry["ua"] == "A" * 150 + "B" * 50


@pytest.mark.parametrize("user_agent", [None, ""])
def test_an_unknown_client_leaves_no_ip_or_ua_key(user_agent: str | None) -> None:
    headers = {} if user_agent is None else {"User-Agent": user_agent}
    entry = login_entry(client_ip=None, headers=headers)
    assert identity(entry, NO_CLIENT) == {"user": "1"}
    assert "ip" not in entry and "ua" not in entry


def test_a_login_keeping_session_info_drops_the_old_ip_and_ua_it_cannot_replace() -> None:
    old = {"user": "2", "at": 1_700_000_000, "seen": 1_700_000_600, "ip": "203.0.113.9"}
    session = MemorySession({"passport": {**old, "ua": "Firefox/130.0", "extra": "e"}})
    request = TestRequest(session=session, client_ip=None)
    run_sync(make_passport().login(request, U, keep_session_info=True))
    assert session_identity(session, NO_CLIENT) == {"passport": {"user": "1", "extra": "e"}}
    assert session["passport"]["at"] > old["seen"]


def test_the_full_entry_holds_every_login_key() -> None:
    assert set(FULL_ENTRY) - {"extra"} == LOGIN_KEYS


def test_a_fresh_login_records_when_and_how_the_user_proved_who_they_are() -> None:
    passport = make_passport()
    session = MemorySession({"passport": dict(FULL_ENTRY)})
    run_sync(passport.login(TestRequest(session=session), {"id": "1"}, amr=("pwd",)))
    entry = session["passport"]
    assert entry["auth_at"] == entry["at"] and entry["amr"] == ["pwd"]
    assert "pending" not in entry and "fresh" not in entry


def test_a_login_that_is_not_fresh_records_no_proof_and_drops_the_old_one() -> None:
    passport = make_passport()
    session = MemorySession({"passport": dict(FULL_ENTRY)})
    run_sync(
        passport.login(
            TestRequest(session=session), {"id": "1"}, keep_session_info=True, fresh=False
        )
    )
    entry = session["passport"]
    assert entry["fresh"] is False and entry["extra"] == "e"
    assert not {"auth_at", "amr", "pending", "auth"} & set(entry)


def test_logout_drops_every_login_key_before_regenerating() -> None:
    session = RecordingSession({"passport": dict(FULL_ENTRY), "cart": ["1"]})
    logout(make_passport(), session)
    assert session.before_regenerate == [{"passport": {"extra": "e"}, "cart": ["1"]}]
    assert dict(session) == {}


def test_logout_keeping_session_info_drops_every_login_key_and_keeps_the_rest() -> None:
    session = MemorySession({"passport": dict(FULL_ENTRY), "cart": ["1"]})
    logout(make_passport(), session, keep_session_info=True)
    assert dict(session) == {"passport": {"extra": "e"}, "cart": ["1"]}


def test_forgetting_a_deleted_user_drops_every_login_key_and_keeps_the_rest() -> None:
    passport, _ = counting_passport(None)
    session = MemorySession({"passport": dict(FULL_ENTRY), "cart": ["1"]})
    assert restore(passport, session) is None
    assert dict(session) == {"passport": {"extra": "e"}, "cart": ["1"]}


def test_a_login_through_a_starlette_app_records_its_client() -> None:
    kit = make_kit()
    firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"
    response = kit.client.post(
        "/login", data={"username": "alice", "password": PASSWORD}, headers={"User-Agent": firefox}
    )
    assert response.status_code == 200
    # Starlette's TestClient is the client "testclient" unless told otherwise.
    assert identity(kit.session()["passport"], Client("testclient", firefox)) == {"user": 1}
