"""RememberMeStrategy at the engine: the cookie's life from issue to rotation, theft and logout.

passport-remember-me has no behaviour tests upstream (reference §11); these follow its flow
(no cookie → pass; good cookie → new cookie + success; bad cookie → cookie cleared + pass) and
the hardening of issue 4: split series/validator, only a hash stored, rotation on every use,
reuse of an old validator revokes the series, HttpOnly + SameSite=Lax + Secure on https, not
a fresh login, logout clears the cookie. tests/test_remember_me_web.py runs it through the
three frameworks.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from remember_store import RememberStore, remember_passport
from session_entries import TEST_REQUEST, identity
from users import PASSWORD, User, UserStore

from passport_py import AuthenticateOptions, ConfigurationError, Pass, Success, run_sync
from passport_py.cookies import Cookie
from passport_py.decisions import Proceed, Respond
from passport_py.strategies.remember_me import RememberMeStrategy
from passport_py.testing import MemorySession, TestRequest

DAY = 24 * 3600


@pytest.fixture
def users() -> UserStore:
    return UserStore.default()


@pytest.fixture
def tokens(users: UserStore) -> RememberStore:
    return RememberStore(users)


def alice(users: UserStore) -> User:
    user = users.by_name("alice")
    assert user is not None
    return user


def issue_cookie(tokens: RememberStore, user: User, **request: Any) -> Cookie:
    (cookie,) = run_sync(tokens.strategy().remember(TestRequest(**request), user))
    return cookie


def run(strategy: RememberMeStrategy, cookie: str | None, **request: Any) -> Any:
    cookies = {strategy.cookie_name: cookie} if cookie is not None else {}
    return run_sync(strategy.authenticate(TestRequest(cookies=cookies, **request), options()))


def options() -> AuthenticateOptions:
    return AuthenticateOptions()


# -- issuing ------------------------------------------------------------------------------


def test_remember_issues_an_httponly_lax_cookie_for_thirty_days(
    tokens: RememberStore, users: UserStore
) -> None:
    cookie = issue_cookie(tokens, alice(users))
    assert (cookie.name, cookie.path, cookie.httponly, cookie.samesite) == (
        "remember_me",
        "/",
        True,
        "lax",
    )
    assert cookie.max_age == 30 * DAY
    assert cookie.secure is False
    header = cookie.header_value()
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header


def test_remember_on_https_sets_secure(tokens: RememberStore, users: UserStore) -> None:
    assert issue_cookie(tokens, alice(users), scheme="https").secure is True
    (forced,) = run_sync(tokens.strategy(secure=True).remember(TestRequest(), alice(users)))
    assert forced.secure is True


def test_only_a_hash_of_the_validator_is_stored(tokens: RememberStore, users: UserStore) -> None:
    cookie = issue_cookie(tokens, alice(users))
    series, validator = cookie.value.split(":")
    user_id, token = tokens.rows[series]
    assert user_id == 1
    assert validator not in repr(tokens.rows)
    assert len(token.validator_hash) == 64 and token.previous_hash is None


def test_each_remember_starts_a_new_series(tokens: RememberStore, users: UserStore) -> None:
    first = issue_cookie(tokens, alice(users))
    second = issue_cookie(tokens, alice(users))
    assert first.value.split(":")[0] != second.value.split(":")[0]
    assert len(tokens.rows) == 2


def test_max_age_takes_seconds_or_a_timedelta(tokens: RememberStore, users: UserStore) -> None:
    for max_age in (3600, timedelta(hours=1)):
        strategy = tokens.strategy(max_age=max_age)
        (cookie,) = run_sync(strategy.remember(TestRequest(), alice(users)))
        assert cookie.max_age == 3600


# -- authenticating -----------------------------------------------------------------------


def test_no_cookie_passes_without_asking_the_app(tokens: RememberStore) -> None:
    assert run(tokens.strategy(), None) == Pass()
    assert tokens.calls == []


def test_a_good_cookie_logs_in_not_fresh_and_rotates_the_validator(
    tokens: RememberStore, users: UserStore
) -> None:
    cookie = issue_cookie(tokens, alice(users))
    series, validator = cookie.value.split(":")
    outcome = run(tokens.strategy(), cookie.value)
    assert type(outcome) is Success
    assert outcome.user == alice(users) and outcome.fresh is False
    (rotated,) = outcome.cookies
    new_series, new_validator = rotated.value.split(":")
    assert new_series == series and new_validator != validator
    _, token = tokens.rows[series]
    assert token.previous_hash is not None and token.rotated_at is not None
    assert 29 * DAY < (rotated.max_age or 0) <= 30 * DAY  # the series' end does not move


def test_a_rotated_cookie_works_and_the_series_keeps_its_expiry(
    tokens: RememberStore, users: UserStore
) -> None:
    cookie = issue_cookie(tokens, alice(users))
    expires = tokens.rows[cookie.value.split(":")[0]][1].expires_at
    rotated = run(tokens.strategy(), cookie.value).cookies[0]
    again = run(tokens.strategy(), rotated.value)
    assert type(again) is Success
    assert tokens.rows[cookie.value.split(":")[0]][1].expires_at == expires


def test_an_old_validator_after_the_grace_period_revokes_the_series(
    tokens: RememberStore, users: UserStore, caplog: pytest.LogCaptureFixture
) -> None:
    strategy = tokens.strategy(grace_period=0)
    stolen = issue_cookie(tokens, alice(users))
    series = stolen.value.split(":")[0]
    owner = run(strategy, stolen.value).cookies[0]  # the owner's browser rotates it
    tokens.rows[series] = (1, replace(tokens.rows[series][1], rotated_at=time.time() - 1))
    with caplog.at_level(logging.WARNING, logger="passport_py.remember_me"):
        outcome = run(strategy, stolen.value)  # the thief replays the copy
    assert type(outcome) is Pass
    assert outcome.cookies == (Cookie("remember_me", "", 0),)
    assert series not in tokens.rows
    assert type(run(strategy, owner.value)) is Pass  # the owner's cookie is dead too
    assert "reused" in caplog.text
    assert series not in caplog.text and stolen.value.split(":")[1] not in caplog.text


def test_an_old_validator_within_the_grace_period_gets_in_without_a_new_cookie(
    tokens: RememberStore, users: UserStore
) -> None:
    cookie = issue_cookie(tokens, alice(users))
    strategy = tokens.strategy()
    first = run(strategy, cookie.value)
    second = run(strategy, cookie.value)  # sent by the browser at the same moment
    assert type(first) is Success and first.cookies
    assert type(second) is Success and second.cookies == () and second.fresh is False
    assert cookie.value.split(":")[0] in tokens.rows


def test_an_unknown_series_clears_the_cookie(tokens: RememberStore) -> None:
    value = "A" * 24 + ":" + "B" * 43
    outcome = run(tokens.strategy(), value)
    assert type(outcome) is Pass and outcome.cookies[0].deletes
    assert tokens.calls == [("verify", "A" * 24)]


def test_an_expired_series_is_revoked_and_cleared(tokens: RememberStore, users: UserStore) -> None:
    cookie = issue_cookie(tokens, alice(users))
    series = cookie.value.split(":")[0]
    tokens.rows[series] = (1, replace(tokens.rows[series][1], expires_at=time.time() - 1))
    outcome = run(tokens.strategy(), cookie.value)
    assert type(outcome) is Pass and outcome.cookies[0].deletes
    assert series not in tokens.rows


def test_a_deleted_user_is_an_unknown_series(tokens: RememberStore, users: UserStore) -> None:
    cookie = issue_cookie(tokens, alice(users))
    del users.users[1]
    outcome = run(tokens.strategy(), cookie.value)
    assert type(outcome) is Pass and outcome.cookies[0].deletes


MALFORMED = {
    "empty": "",
    "no colon": "A" * 68,
    "short series": "A" * 23 + ":" + "B" * 43,
    "long validator": "A" * 24 + ":" + "B" * 44,
    "two colons": "A" * 24 + ":" + "B" * 43 + ":x",
    "quoted": '"' + "A" * 24 + ":" + "B" * 43 + '"',
    "non-ascii": "é" * 24 + ":" + "B" * 43,
    "sql": "' OR '1'='1:x",
    "64 KiB": "A" * 65536,
    "padding": "A" * 24 + ":" + "B" * 42 + "=",
}


@pytest.mark.parametrize("value", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_cookie_is_cleared_without_asking_the_app(
    tokens: RememberStore, value: str
) -> None:
    outcome = run(tokens.strategy(), value)
    assert type(outcome) is Pass and outcome.cookies[0].deletes
    assert tokens.calls == []


def test_pass_request_gives_verify_the_request(users: UserStore) -> None:
    tokens = RememberStore(users)
    seen: list[Any] = []

    def verify(request: Any, series: str) -> Any:
        seen.append(request)
        return tokens.verify(series)

    strategy = RememberMeStrategy(verify, tokens.issue, revoke=tokens.revoke, pass_request=True)
    (cookie,) = run_sync(strategy.remember(TestRequest(), alice(users)))
    request = TestRequest(cookies={"remember_me": cookie.value})
    assert type(run_sync(strategy.authenticate(request, options()))) is Success
    assert seen == [request]


def test_async_callbacks_work(users: UserStore) -> None:
    tokens = RememberStore(users)

    async def verify(series: str) -> Any:
        return tokens.verify(series)

    async def issue(token: Any) -> None:
        tokens.issue(token)

    async def revoke(series: str) -> None:
        tokens.revoke(series)

    strategy = RememberMeStrategy(verify, issue, revoke=revoke)
    (cookie,) = run_sync(strategy.remember(TestRequest(), alice(users)))
    assert type(run(strategy, cookie.value)) is Success


@pytest.mark.parametrize("missing", ["verify", "issue", "revoke"])
def test_every_callback_is_required(tokens: RememberStore, missing: str) -> None:
    callbacks: dict[str, Any] = {
        "verify": tokens.verify,
        "issue": tokens.issue,
        "revoke": tokens.revoke,
    }
    callbacks[missing] = None
    with pytest.raises(TypeError, match=f"requires a {missing} callable"):
        RememberMeStrategy(callbacks["verify"], callbacks["issue"], revoke=callbacks["revoke"])


# -- the authenticator: recall, remember, logout -----------------------------------------------


def test_recall_logs_the_user_into_a_regenerated_session_not_fresh(users: UserStore) -> None:
    passport, tokens = remember_passport(users)
    cookie = issue_cookie(tokens, alice(users))
    session = MemorySession({"cart": "tea"})
    request = TestRequest(cookies={"remember_me": cookie.value}, session=session)
    user, cookies = run_sync(passport.recall(request, "remember-me"))
    assert user == alice(users)
    assert session.regenerations == 1 and "cart" not in session
    assert identity(session["passport"], TEST_REQUEST) == {"user": 1, "fresh": False}
    assert passport.sessions.is_fresh(session) is False
    assert cookies[0].name == "remember_me" and not cookies[0].deletes


def test_recall_with_a_bad_cookie_stays_anonymous_and_clears_it(users: UserStore) -> None:
    passport, _ = remember_passport(users)
    request = TestRequest(cookies={"remember_me": "junk"})
    user, cookies = run_sync(passport.recall(request, "remember-me"))
    assert user is None and cookies[0].deletes
    assert request.session is not None and "passport" not in request.session


def test_logout_revokes_the_series_and_deletes_the_cookie_with_its_attributes(
    users: UserStore,
) -> None:
    passport, tokens = remember_passport(users)
    cookie = issue_cookie(tokens, alice(users))
    request = TestRequest(cookies={"remember_me": cookie.value}, session={"passport": {"user": 1}})
    (deletion,) = run_sync(passport.logout(request))
    assert deletion == replace(cookie, value="", max_age=0)
    assert "Max-Age=0" in deletion.header_value() and "1970" in deletion.header_value()
    assert tokens.rows == {}


def test_logout_without_a_cookie_sets_none(users: UserStore) -> None:
    passport, _ = remember_passport(users)
    assert run_sync(passport.logout(TestRequest(session={"passport": {"user": 1}}))) == ()


def login_form(**extra: str) -> TestRequest:
    return TestRequest(form={"username": "alice", "password": PASSWORD, **extra})


@pytest.mark.parametrize(
    ("remember", "fields", "issued"),
    [
        ("remember_me", {"remember_me": "on"}, True),
        ("remember_me", {"remember_me": "1"}, True),
        ("remember_me", {}, False),
        ("remember_me", {"remember_me": "off"}, False),
        (True, {}, True),
        (False, {"remember_me": "on"}, False),
    ],
)
def test_the_remember_option_issues_a_cookie_on_a_session_login(
    users: UserStore, remember: bool | str, fields: dict[str, str], issued: bool
) -> None:
    passport, tokens = remember_passport(users)
    opts = AuthenticateOptions.build(remember=remember)
    decision = run_sync(passport.authenticate(login_form(**fields), "local", opts))
    assert type(decision) is Proceed and decision.logged_in
    assert bool(decision.cookies) is issued
    assert len(tokens.rows) == int(issued)


def test_the_remember_option_reads_a_json_login(users: UserStore) -> None:
    passport, tokens = remember_passport(users)
    request = TestRequest(json={"username": "alice", "password": PASSWORD, "remember_me": True})
    opts = AuthenticateOptions.build(remember="remember_me", success_redirect="/")
    decision = run_sync(passport.authenticate(request, "local", opts))
    assert type(decision) is Respond and decision.cookies and len(tokens.rows) == 1


def test_a_duplicated_remember_field_is_not_a_yes(users: UserStore) -> None:
    passport, tokens = remember_passport(users)
    twice = [("remember_me", "on"), ("remember_me", "on")]
    request = TestRequest(form=[("username", "alice"), ("password", PASSWORD), *twice])
    decision = run_sync(
        passport.authenticate(request, "local", AuthenticateOptions.build(remember="remember_me"))
    )
    assert type(decision) is Proceed and decision.cookies == () and tokens.rows == {}


def test_remembering_without_a_remember_me_strategy_says_how_to_fix_it(users: UserStore) -> None:
    from users import local_passport

    passport = local_passport(users)
    with pytest.raises(ConfigurationError, match=r"passport.use\(RememberMeStrategy"):
        run_sync(passport.remember(TestRequest(), alice(users)))


def test_remember_option_must_be_true_or_a_field_name() -> None:
    with pytest.raises(ConfigurationError, match="remember="):
        AuthenticateOptions.build(remember=1)
