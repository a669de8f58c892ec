"""A password change ends the user's other sessions (ASVS 7.4.3): the session auth hash,
through each adapter and session type of `lifetime_sites`, and in the core."""

from __future__ import annotations

from typing import Any

import pytest
from lifetime_sites import SITES, Account, Site, build_site

from passport_py import Authenticator, run_sync
from passport_py.errors import ConfigurationError
from passport_py.session_checks import auth_digest
from passport_py.testing import MemorySession, TestRequest


@pytest.fixture(params=SITES)
def plain_site(request: pytest.FixtureRequest) -> Site:
    """A site without a session auth hash function."""
    return build_site(request.param, request)


@pytest.fixture
def site(plain_site: Site) -> Site:
    """A site whose session auth hash is the account's password hash."""
    plain_site.passport.session_auth_hash(lambda account: account.password_hash)
    return plain_site


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one_on_a_new_id(
    site: Site,
) -> None:
    laptop, phone = site.client(), site.client()
    site.login(laptop)
    site.login(phone)
    before = site.cookie(laptop)
    site.change_password(laptop, "hash-1b")
    assert site.cookie(laptop) != before  # a new session id (or a re-signed cookie)
    assert site.me(laptop) == (200, "alice")
    assert site.me(phone)[0] == 401
    assert site.me(phone)[0] == 401
    assert [(e.user_id, e.by, e.count) for e in site.ended] == [(1, "password_changed", 1)]
    assert site.me(laptop) == (200, "alice")


def test_the_login_records_a_digest_never_the_value(site: Site) -> None:
    client = site.client()
    site.login(client)
    assert site.entry(client)["auth"] == auth_digest("hash-1")
    assert len(auth_digest("hash-1")) == 32


def test_without_update_session_auth_the_changing_session_ends_too(site: Site) -> None:
    client = site.client()
    site.login(client)
    site.change_password(client, "hash-1b", keep=False)
    assert site.me(client)[0] == 401


def test_another_users_password_change_ends_none_of_this_users_sessions(site: Site) -> None:
    alice, bob = site.client(), site.client()
    site.login(alice, 1)
    site.login(bob, 2)
    site.change_password(bob, "hash-2b")
    assert site.me(alice) == (200, "alice")
    assert site.me(bob) == (200, "bob")
    assert site.ended == []


def test_a_login_from_before_the_hash_was_registered_ends(request: pytest.FixtureRequest) -> None:
    site = build_site("starlette-cookie", request)
    client = site.client()
    site.login(client)
    site.passport.session_auth_hash(lambda account: account.password_hash)
    assert site.me(client)[0] == 401
    assert [e.by for e in site.ended] == ["password_changed"]


@pytest.mark.parametrize("kind", ["flask-cookie", "flask-redis"])
def test_the_flask_testing_login_records_the_auth_digest(
    kind: str, request: pytest.FixtureRequest
) -> None:
    from passport_py.testing import flask as testing

    site = build_site(kind, request)
    site.passport.session_auth_hash(lambda account: account.password_hash)
    client = site.client()
    testing.login(client, site.accounts[1])
    assert site.me(client) == (200, "alice")
    site.accounts[1].password_hash = "changed elsewhere"
    assert site.me(client)[0] == 401


@pytest.mark.parametrize("engine", ["signed_cookies", "db"])
def test_django_async_views_keep_the_changing_session_and_the_testing_login_records_auth(
    engine: str, request: pytest.FixtureRequest
) -> None:
    from passport_py.testing import django as testing

    site = build_site(f"django-{engine}", request)
    site.passport.session_auth_hash(lambda account: account.password_hash)
    laptop, phone = site.client(), site.client()
    site.login(laptop)
    testing.login(phone, site.accounts[1])
    assert site.get(phone, "/ame") == (200, "alice")
    before = site.cookie(laptop)
    assert site.post(laptop, "/apassword", "hash-1b") == (200, "changed")
    assert site.cookie(laptop) != before
    assert site.get(laptop, "/ame") == (200, "alice")
    assert site.get(phone, "/ame") == (401, "anonymous")
    assert [e.by for e in site.ended] == ["password_changed"]


# -- the core, without a web framework -----------------------------------------------------


USERS = {1: Account(1, "alice", "hash-1")}


def core_passport() -> Authenticator[Account]:
    passport: Authenticator[Account] = Authenticator()
    passport.serialize_user(lambda account: account.id)
    passport.deserialize_user(USERS.get)
    return passport


def logged_in_request(passport: Authenticator[Account]) -> TestRequest:
    request = TestRequest(session=MemorySession())
    run_sync(passport.login(request, USERS[1]))
    return request


@pytest.mark.parametrize("stored", ["0" * 32, auth_digest("hash-1")[:-1] + "0", 12, None, ""])
def test_a_tampered_or_absent_auth_digest_is_refused(stored: Any) -> None:
    passport = core_passport()
    passport.session_auth_hash(lambda account: account.password_hash)
    request = logged_in_request(passport)
    assert request.session is not None
    entry = request.session["passport"]
    if stored is None:
        del entry["auth"]
    else:
        entry["auth"] = stored
    assert run_sync(passport.restore(request)) is None
    assert "user" not in request.session["passport"]


def test_an_async_hash_function_and_bytes_values_work() -> None:
    passport = core_passport()

    @passport.session_auth_hash
    async def password_hash(account: Account) -> bytes:
        return account.password_hash.encode()

    request = logged_in_request(passport)
    assert request.session is not None
    assert request.session["passport"]["auth"] == auth_digest(b"hash-1")
    assert run_sync(passport.restore(request)) == USERS[1]


def test_a_user_without_a_value_keeps_logging_in_without_a_digest() -> None:
    passport = core_passport()
    passport.session_auth_hash(lambda account: None)  # an account with no password
    request = logged_in_request(passport)
    assert request.session is not None
    assert "auth" not in request.session["passport"]
    assert run_sync(passport.restore(request)) == USERS[1]


def test_without_a_hash_function_nothing_is_recorded_and_nothing_is_checked(
    plain_site: Site,
) -> None:
    site = plain_site
    laptop, phone = site.client(), site.client()
    site.login(laptop)
    site.login(phone)
    assert "auth" not in site.entry(laptop)
    site.change_password(laptop, "hash-1b", keep=False)
    assert site.me(phone) == (200, "alice")
    assert site.me(laptop) == (200, "alice")


def test_a_hash_function_returning_something_else_is_a_configuration_error() -> None:
    passport = core_passport()
    passport.session_auth_hash(lambda account: 42)
    with pytest.raises(ConfigurationError, match="return a str or bytes"):
        logged_in_request(passport)


def test_update_session_auth_leaves_another_users_session_alone() -> None:
    passport = core_passport()
    passport.session_auth_hash(lambda account: account.password_hash)
    request = logged_in_request(passport)
    session = request.session
    assert isinstance(session, MemorySession)
    before = (session.id, dict(session["passport"]))
    run_sync(passport.update_session_auth(request, Account(2, "bob", "hash-2")))
    assert (session.id, session["passport"]) == before


def test_update_session_auth_needs_a_session() -> None:
    with pytest.raises(ConfigurationError, match="session"):
        run_sync(core_passport().update_session_auth(TestRequest(session=None), USERS[1]))
