"""Idle timeouts and absolute lifetimes of logins (ASVS 7.3.1, 7.3.2), through each adapter
and session type of `lifetime_sites`, with the passport's clock moved by the test."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from lifetime_sites import SITES, Site, build_site, starlette_site

from passport_py import Authenticator, AuthRequest, Outcome, Strategy, run_sync
from passport_py.errors import ConfigurationError
from passport_py.testing import MemorySession, TestRequest

MakeSite = Callable[..., Site]


@pytest.fixture(params=SITES)
def make_site(request: pytest.FixtureRequest) -> MakeSite:
    return lambda **timeouts: build_site(request.param, request, **timeouts)


def ended(site: Site) -> list[tuple[Any, str, int]]:
    return [(event.user_id, event.by, event.count) for event in site.ended]


def test_an_idle_session_ends_and_activity_within_the_idle_window_keeps_it(
    make_site: MakeSite,
) -> None:
    site = make_site(idle_timeout=600)
    client = site.client()
    site.login(client)
    for _ in range(3):
        site.clock.advance(599)
        assert site.me(client) == (200, "alice")
    site.clock.advance(600)
    assert site.me(client)[0] == 401
    assert site.me(client)[0] == 401
    assert site.entry(client) is None or "user" not in site.entry(client)
    assert ended(site) == [(1, "idle_timeout", 1)]


def test_the_absolute_lifetime_ends_a_session_in_constant_use(make_site: MakeSite) -> None:
    site = make_site(idle_timeout=600, absolute_timeout=3600)
    client = site.client()
    site.login(client)
    at = site.entry(client)["at"]
    for _ in range(11):
        site.clock.advance(300)
        assert site.me(client) == (200, "alice")
    assert site.entry(client)["at"] == at  # use never moves the login time
    site.clock.advance(300)
    assert site.me(client)[0] == 401
    assert ended(site) == [(1, "lifetime", 1)]


def test_the_default_lifetime_is_30_days_with_no_idle_timeout(make_site: MakeSite) -> None:
    site = make_site()
    client = site.client()
    site.login(client)
    site.clock.advance(30 * 24 * 3600 - 1)
    assert site.me(client) == (200, "alice")
    site.clock.advance(1)
    assert site.me(client)[0] == 401
    assert ended(site) == [(1, "lifetime", 1)]


def test_seen_is_written_at_most_once_a_minute(make_site: MakeSite) -> None:
    site = make_site(idle_timeout=3600)
    client = site.client()
    site.login(client)
    login_time = site.entry(client)["seen"]

    def snapshot() -> Any:
        return site.snapshot(client)

    before = snapshot()
    for _ in range(5):
        site.clock.advance(11)
        assert site.me(client) == (200, "alice")
    assert snapshot() == before  # 55 s of use: nothing written
    assert site.entry(client)["seen"] == login_time
    site.clock.advance(5)
    assert site.me(client) == (200, "alice")
    after = snapshot()
    assert after != before
    assert site.entry(client)["seen"] == login_time + 60
    site.clock.advance(30)
    assert site.me(client) == (200, "alice")
    assert snapshot() == after


#: The sites whose sessions are listed per device (our server-side sessions).
LISTED = {"starlette-memory", "starlette-redis", "flask-redis"}


@pytest.mark.parametrize("name", SITES)
def test_without_an_idle_timeout_only_listed_sessions_keep_seen_current(
    name: str, request: pytest.FixtureRequest
) -> None:
    site = build_site(name, request)  # the defaults: no idle timeout
    client = site.client()
    site.login(client)
    seen = site.entry(client)["seen"]
    before = site.snapshot(client)
    site.clock.advance(120)
    assert site.me(client) == (200, "alice")
    if name in LISTED:  # "last seen" in the user's list of sessions
        assert site.entry(client)["seen"] == seen + 120
    else:  # nobody reads it: a cookie session is not rewritten for it
        assert site.snapshot(client) == before
        assert site.entry(client)["seen"] == seen


def test_a_short_idle_timeout_writes_seen_every_tenth_of_it(make_site: MakeSite) -> None:
    site = make_site(idle_timeout=100)
    client = site.client()
    site.login(client)
    seen = site.entry(client)["seen"]
    site.clock.advance(9)
    assert site.entry(client)["seen"] == seen
    site.clock.advance(1)
    assert site.entry(client)["seen"] == seen + 10


class Remembered(Strategy):
    """A remember-me stand-in: the cookie `rm=1` logs account 1 back in (not fresh)."""

    name = "rm"

    def __init__(self, site: list[Site]) -> None:
        self.site = site

    def authenticate(self, request: AuthRequest, options: Any) -> Outcome:
        if request.cookies.get("rm") != "1":
            return self.pass_()
        return self.success(self.site[0].accounts[1], fresh=False)


def test_a_remembered_login_comes_back_as_a_new_not_fresh_session_after_the_lifetime() -> None:
    holder: list[Site] = []
    site = starlette_site("cookie", restore_with=Remembered(holder), absolute_timeout=3600)
    holder.append(site)
    client = site.client()
    site.login(client)
    first = site.entry(client)
    assert "fresh" not in first
    client.cookies.set("rm", "1")
    site.clock.advance(3600)
    assert site.me(client) == (200, "alice")  # ended, then recalled in the same request
    assert ended(site) == [(1, "lifetime", 1)]
    second = site.entry(client)
    assert second["fresh"] is False
    assert second["at"] == first["at"] + 3600
    site.clock.advance(3599)
    assert site.me(client) == (200, "alice")  # the recalled login has its own lifetime


@pytest.mark.parametrize(
    "kind", ["flask-cookie", "flask-redis", "django-signed_cookies", "django-db"]
)
def test_async_views_end_an_idle_session_too(kind: str, request: pytest.FixtureRequest) -> None:
    site = build_site(kind, request, idle_timeout=600)
    client = site.client()
    site.login(client)
    site.clock.advance(599)
    assert site.get(client, "/ame") == (200, "alice")
    site.clock.advance(600)
    assert site.get(client, "/ame") == (401, "anonymous")
    assert ended(site) == [(1, "idle_timeout", 1)]


# -- the core, without a web framework -----------------------------------------------------


def core_passport(**timeouts: Any) -> tuple[Authenticator[int], list[float]]:
    passport: Authenticator[int] = Authenticator(**timeouts)
    passport.serialize_user(lambda user: user)
    passport.deserialize_user(lambda user_id: user_id)
    now = [1_800_000_000.0]
    passport.sessions.clock = lambda: now[0]
    return passport, now


def test_a_login_recorded_before_the_timeouts_starts_its_lifetime_at_its_first_restore() -> None:
    passport, now = core_passport(absolute_timeout=100)
    session = MemorySession({"passport": {"user": 7}})
    request = TestRequest(session=session)
    assert run_sync(passport.restore(request)) == 7
    assert session["passport"] == {"user": 7, "at": 1_800_000_000, "seen": 1_800_000_000}
    now[0] += 99
    assert run_sync(passport.restore(request)) == 7
    now[0] += 1
    assert run_sync(passport.restore(request)) is None
    assert session["passport"] == {}


def test_an_ended_login_keeps_the_rest_of_the_session() -> None:
    passport, now = core_passport(idle_timeout=10)
    session = MemorySession()
    request = TestRequest(session=session)
    run_sync(passport.login(request, 3))
    session["cart"] = ["book"]
    now[0] += 10
    assert run_sync(passport.restore(request)) is None
    assert session["cart"] == ["book"]


@pytest.mark.parametrize("value", [0, -1, float("nan"), float("inf"), "600", True])
@pytest.mark.parametrize("name", ["idle_timeout", "absolute_timeout"])
def test_a_timeout_that_is_not_a_positive_number_is_refused_at_startup(
    name: str, value: Any
) -> None:
    with pytest.raises(ConfigurationError, match=f"{name}=.*positive number of seconds"):
        Authenticator(**{name: value})


def test_both_timeouts_can_be_turned_off() -> None:
    passport, now = core_passport(idle_timeout=None, absolute_timeout=None)
    request = TestRequest()
    run_sync(passport.login(request, 1))
    now[0] += 10 * 365 * 24 * 3600
    assert run_sync(passport.restore(request)) == 1
