"""Pending logins through every adapter: a first factor leaves a user with second factors
anonymous until a second-factor strategy completes the login (or re-authenticates a
logged-in user)."""

from __future__ import annotations

import pytest
from pending_sites import HTML, SITES, Site, build_site
from second_factor_helpers import CODE, START

from passport_py.events import LoggedIn, LoginFailed, LoginPending
from passport_py.second_factor import NO_PENDING_LOGIN
from passport_py.throttle import Limit, LoginThrottle


@pytest.fixture(params=SITES)
def site(request: pytest.FixtureRequest) -> Site:
    return build_site(request.param, request)


def test_a_form_login_waits_for_the_second_factor_then_logs_in_with_both_methods(
    site: Site,
) -> None:
    client = site.client()
    refused = site.get(client, "/me", HTML)  # saves the return-to URL: a session exists
    assert refused.status == 302
    anonymous_id = site.session_id(client)

    first = site.login_form(client)
    assert (first.status, first.location) == (302, "/login/second-factor")
    pending_id = site.session_id(client)
    assert pending_id != anonymous_id
    assert site.whoami(client) is None
    assert site.get(client, "/me").status == 401
    page = site.get(client, "/login/second-factor")
    assert page.json() == {"user": "alice", "factors": ["code"]}
    entry = site.entry(client)
    assert "user" not in entry
    assert entry["pending"] == {
        "user": 1,
        "first": "local",
        "amr": ["pwd"],
        "at": int(START),
        "expires": int(START) + 300,
        "remember": False,
        "factors": ["code"],
    }

    site.kit.clock.now += 20
    done = site.form(client, "/login/second-factor", {"code": CODE})
    assert (done.status, done.location) == (302, "/me")  # the return-to URL, kept
    assert site.session_id(client) not in (pending_id, anonymous_id)
    assert site.get(client, "/me").text == "alice"
    entry = site.entry(client)
    assert (entry["user"], entry["amr"], entry["auth_at"]) == (1, ["pwd", "otp"], START + 20)
    assert "pending" not in entry
    events = [e for e in site.kit.events if isinstance(e, LoginPending | LoggedIn)]
    assert [type(e) for e in events] == [LoginPending, LoggedIn]
    assert (events[0].user_id, events[0].strategy, events[0].factors) == (1, "local", ("code",))
    assert (events[1].user_id, events[1].strategy, events[1].fresh) == (1, "code", True)


def test_an_api_login_answers_401_naming_the_factors_then_the_code_logs_in(site: Site) -> None:
    client = site.client()
    first = site.api(client, "/api/login", {"username": "alice", "password": "wonderland"})
    assert first.status == 401
    assert first.json() == {"error": "second_factor_required", "factors": ["code"]}
    assert first.headers["cache-control"] == "no-store"
    assert site.whoami(client) is None
    done = site.api(client, "/api/second-factor", {"code": CODE})
    assert (done.status, done.json()) == (200, {"user": "alice"})
    assert site.whoami(client) == "alice"


def test_a_wrong_code_is_a_failed_login_and_the_login_stays_pending(site: Site) -> None:
    client = site.client()
    site.api(client, "/api/login", {"username": "alice", "password": "wonderland"})
    assert site.api(client, "/api/second-factor", {"code": "000000"}).status == 401
    failed = [e for e in site.kit.events if isinstance(e, LoginFailed)]
    assert [(e.strategy, e.reason) for e in failed] == [("code", "Wrong code")]
    assert site.get(client, "/login/second-factor").status == 200
    assert site.api(client, "/api/second-factor", {"code": CODE}).status == 200


def test_a_code_without_a_first_factor_is_refused_without_calling_the_strategy(
    site: Site,
) -> None:
    client = site.client()
    assert site.api(client, "/api/second-factor", {"code": CODE}).status == 401
    refused = site.form(client, "/login/second-factor", {"code": CODE})
    assert (refused.status, refused.location) == (302, "/login/second-factor")
    assert site.kit.code.checked == []
    failed = [e for e in site.kit.events if isinstance(e, LoginFailed)]
    assert [e.reason for e in failed] == [NO_PENDING_LOGIN, NO_PENDING_LOGIN]
    assert site.whoami(client) is None


def test_another_client_cannot_complete_the_pending_login(site: Site) -> None:
    alice, other = site.client(), site.client()
    site.login_form(alice)
    assert site.api(other, "/api/second-factor", {"code": CODE}).status == 401
    assert site.whoami(other) is None
    assert site.kit.code.checked == []


def test_an_expired_pending_login_is_refused_and_removed(site: Site) -> None:
    client = site.client()
    site.login_form(client)
    site.kit.clock.now += 300
    assert site.api(client, "/api/second-factor", {"code": CODE}).status == 401
    assert "pending" not in (site.entry(client) or {})
    assert site.get(client, "/login/second-factor").status == 404
    assert site.kit.code.checked == []


def test_the_first_factor_again_replaces_the_pending_login(site: Site) -> None:
    client = site.client()
    site.login_form(client)
    old = site.session_id(client)
    assert old is not None
    site.kit.clock.now += 60
    site.login_form(client)
    assert site.session_id(client) != old
    assert site.entry(client)["pending"]["at"] == START + 60
    if site.server_sessions:
        # The old session is gone from the store: its cookie completes nothing.
        replay = site.client()
        site.set_cookie(replay, site.session_cookie, old)
        assert site.api(replay, "/api/second-factor", {"code": CODE}).status == 401
        assert site.kit.code.checked == []
    assert site.api(client, "/api/second-factor", {"code": CODE}).status == 200


def test_the_code_is_checked_for_the_pending_user_whatever_the_request_says(
    site: Site,
) -> None:
    client = site.client()
    site.login_form(client)
    done = site.api(client, "/api/second-factor", {"code": CODE, "username": "bob"})
    assert done.json() == {"user": "alice"}
    assert site.kit.code.checked == [site.kit.users.users[1]]


def test_code_guesses_are_throttled_per_pending_user(site: Site) -> None:
    site.kit.passport.throttle = LoginThrottle(account=Limit(3, 600, 60, 60))
    client = site.client()
    site.api(client, "/api/login", {"username": "alice", "password": "wonderland"})
    statuses = [site.api(client, "/api/second-factor", {"code": "000000"}).status for _ in "123"]
    assert statuses == [401, 401, 401]
    refused = site.api(client, "/api/second-factor", {"code": CODE})
    assert refused.status == 429
    assert "retry-after" in refused.headers
    assert site.whoami(client) is None


def test_remember_me_is_issued_only_at_completion_and_recalls_a_completed_login(
    site: Site,
) -> None:
    client = site.client()
    first = site.login_form(client, remember="on")
    assert "remember_me=" not in first.headers.get("set-cookie", "")
    assert site.entry(client)["pending"]["remember"] is True
    assert site.kit.tokens.rows == {}
    done = site.form(client, "/login/second-factor", {"code": CODE})
    assert "remember_me=" in done.headers.get("set-cookie", "")
    token = site.cookie(client, "remember_me")
    assert token

    later = site.client()
    site.set_cookie(later, "remember_me", token)
    assert site.whoami(later) == "alice"
    entry = site.entry(later)
    assert entry["fresh"] is False
    assert "auth_at" not in entry and "pending" not in entry


def test_a_user_without_factors_logs_in_directly(site: Site) -> None:
    client = site.client()
    reply = site.login_form(client, "bob")
    assert (reply.status, reply.location) == (302, "/home")
    assert site.whoami(client) == "bob"
    assert site.entry(client)["amr"] == ["pwd"]
    assert not any(isinstance(e, LoginPending) for e in site.kit.events)


def test_logout_and_cancel_drop_the_pending_login(site: Site) -> None:
    client = site.client()
    site.login_form(client)
    assert site.form(client, "/cancel", {}).status == 200
    assert site.get(client, "/login/second-factor").status == 404
    site.login_form(client)
    assert site.form(client, "/logout", {}).status == 200
    assert site.get(client, "/login/second-factor").status == 404
    assert site.api(client, "/api/second-factor", {"code": CODE}).status == 401


def test_a_factor_on_a_logged_in_session_refreshes_auth_at_on_a_new_session_id(
    site: Site,
) -> None:
    client = site.client()
    site.login_form(client, "bob")
    before = site.session_id(client)
    site.kit.clock.now += 100
    site.kit.events.clear()
    assert site.api(client, "/api/second-factor", {"code": CODE}).json() == {"user": "bob"}
    assert site.session_id(client) != before
    entry = site.entry(client)
    assert (entry["user"], entry["auth_at"], entry["amr"]) == (2, START + 100, ["pwd", "otp"])
    assert entry["at"] == START  # a re-authentication, not a new login
    logged_in = [e for e in site.kit.events if isinstance(e, LoggedIn)]
    assert [(e.user_id, e.strategy, e.fresh) for e in logged_in] == [(2, "code", True)]
