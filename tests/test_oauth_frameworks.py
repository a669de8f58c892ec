"""Logging in with an OAuth 2.0 / OpenID Connect provider, in Starlette, Flask and Django.

Each test runs the app (`tests/oauth_apps`) of each framework through its real test client
(Starlette's TestClient, Flask's test client, Django's test Client with CSRF checks on), and the
bundled OpenID provider over real HTTP on a loopback port: the user picks an account on the
provider's consent page and approves or denies, one hop at a time. Every test runs with plain
`OAuth2Strategy` (profile from /userinfo) and with `OpenIDConnectStrategy`.
"""

from __future__ import annotations

import pytest
from oauth_apps import Site
from oauth_apps.common import APP_STATE, BROWSER, at_provider, start_and_authorize
from session_entries import TEST_CLIENTS, session_identity


@pytest.fixture
def app(oauth_site: Site) -> Site:
    """The app of each framework and strategy kind in turn (conftest's `oauth_site`)."""
    return oauth_site


# -- the whole dance --------------------------------------------------------------------------


def test_the_start_sends_the_user_to_the_provider_with_state_and_pkce(app: Site) -> None:
    reply = app.browser().get("/auth/dev")
    assert reply.status == 302
    assert reply.location is not None
    assert reply.location.startswith(app.provider.url("/authorize?"))
    for parameter in ("state=", "code_challenge=", "code_challenge_method=S256"):
        assert parameter in reply.location
    assert "redirect_uri=http%3A%2F%2Ftestserver%2Fauth%2Fdev%2Fcallback" in reply.location


def test_the_dance_logs_the_linked_user_in(app: Site) -> None:
    browser = app.browser()
    answer = start_and_authorize(browser, "/auth/dev", "alice-dev")
    assert answer.method == "GET" and answer.path.startswith("/auth/dev/callback?code=")
    reply = answer.deliver(browser)
    assert (reply.status, reply.location) == (302, "/")
    assert browser.get("/").text == "hello alice"


def test_the_user_is_restored_on_the_next_requests(app: Site) -> None:
    browser = app.browser()
    start_and_authorize(browser, "/auth/dev", "bob-dev").deliver(browser)
    assert browser.get("/private").json() == {"user": "bob"}
    assert browser.get("/").text == "hello bob"


def test_login_regenerates_the_session(app: Site) -> None:
    browser = app.browser()
    browser.post("/cart", {"item": "book"})
    before = browser.session_cookie()
    before_id = browser.get("/session").json()["id"]
    answer = start_and_authorize(browser, "/auth/dev", "alice-dev")
    answer.deliver(browser)

    assert browser.session_cookie() not in (None, before)
    session = browser.get("/session").json()
    client = TEST_CLIENTS[app.app.framework]
    # No cart, no pending OAuth request:
    assert session_identity(session["data"], client) == {"passport": {"user": 1}}
    if before_id is not None:  # sessions with ids (Starlette's here, Django's): a new one
        assert session["id"] not in (None, before_id)


def test_an_account_nobody_linked_logs_nobody_in_even_with_a_users_email(app: Site) -> None:
    # mallory-dev has alice's address, verified by the provider: accounts are found by the
    # identity key (issuer or provider, sub), never by email.
    browser = app.browser()
    reply = start_and_authorize(browser, "/auth/dev", "mallory-dev").deliver(browser)
    assert (reply.status, reply.location) == (302, "/login")
    assert browser.get("/").text == "hello anonymous"


# -- failures -----------------------------------------------------------------------------------


def test_access_denied_at_the_provider_goes_to_the_failure_redirect(app: Site) -> None:
    browser = app.browser()
    answer = start_and_authorize(browser, "/auth/dev", "alice-dev", decision="deny")
    assert "error=access_denied" in answer.path
    tokens = app.token_requests()
    reply = answer.deliver(browser)
    assert (reply.status, reply.location) == (302, "/login")
    assert browser.get("/").text == "hello anonymous"
    assert app.token_requests() == tokens


def test_a_callback_from_another_session_is_refused_with_403(app: Site) -> None:
    attacker, victim = app.browser(), app.browser()
    stolen = start_and_authorize(attacker, "/auth/dev/api", "carol-dev")
    start_and_authorize(victim, "/auth/dev/api", "alice-dev")  # the victim's own, pending
    tokens = app.token_requests()
    reply = stolen.deliver(victim)
    assert reply.status == 403
    assert victim.get("/").text == "hello anonymous"
    assert app.token_requests() == tokens  # the code was never exchanged


def test_a_callback_without_a_started_login_is_refused_with_403(app: Site) -> None:
    stolen = start_and_authorize(app.browser(), "/auth/dev/api", "alice-dev")
    victim = app.browser()
    tokens = app.token_requests()
    assert stolen.deliver(victim).status == 403
    assert victim.get("/").text == "hello anonymous"
    assert app.token_requests() == tokens


def test_a_callback_without_state_is_refused_with_403(app: Site) -> None:
    browser = app.browser()
    answer = start_and_authorize(browser, "/auth/dev/api", "alice-dev")
    path = "&".join(p for p in answer.path.split("&") if not p.startswith("state="))
    tokens = app.token_requests()
    assert browser.get(path).status == 403
    assert app.token_requests() == tokens


def test_a_replayed_callback_is_refused_with_403(app: Site) -> None:
    browser = app.browser()
    answer = start_and_authorize(browser, "/auth/dev/api", "alice-dev")
    assert answer.deliver(browser).json()["user"] == "alice"
    tokens = app.token_requests()
    assert answer.deliver(browser).status == 403
    assert app.token_requests() == tokens


def test_a_state_failure_on_a_route_with_failure_redirect_redirects(app: Site) -> None:
    stolen = start_and_authorize(app.browser(), "/auth/dev", "alice-dev")
    victim = app.browser()
    reply = stolen.deliver(victim)
    assert (reply.status, reply.location) == (302, "/login")
    assert victim.get("/").text == "hello anonymous"


# -- form_post, return-to and app state -------------------------------------------------------


def test_a_form_post_callback_logs_in(app: Site) -> None:
    # Django enforces CSRF checks here: the callback view is csrf_exempt, since the provider's
    # page (another site) cannot carry our token; `state` is what protects this POST.
    browser = app.browser()
    answer = start_and_authorize(browser, "/auth/dev/form-post", "alice-dev")
    assert answer.method == "POST" and answer.path == "/auth/dev/callback"
    assert set(answer.fields) >= {"code", "state"}
    reply = answer.deliver(browser)
    assert (reply.status, reply.location) == (302, "/")
    assert browser.get("/").text == "hello alice"


def test_the_return_to_url_survives_the_dance(app: Site) -> None:
    browser = app.browser()
    reply = browser.get("/private", headers=BROWSER)
    assert (reply.status, reply.location) == (302, "/login?next=%2Fprivate")
    reply = start_and_authorize(browser, "/auth/dev", "alice-dev").deliver(browser)
    assert (reply.status, reply.location) == (302, "/private")
    assert browser.get("/private").json() == {"user": "alice"}


def test_the_app_state_comes_back_with_the_callback(app: Site) -> None:
    browser = app.browser()
    reply = start_and_authorize(browser, "/auth/dev/api", "alice-dev").deliver(browser)
    assert reply.status == 200
    assert reply.json() == {"user": "alice", "state": APP_STATE}


def test_two_tabs_each_finish_their_own_login(app: Site) -> None:
    browser = app.browser()
    first = browser.get("/auth/dev")
    second = browser.get("/auth/dev")
    assert first.location and second.location
    late = at_provider(first.location, "alice-dev")
    at_provider(second.location, "bob-dev")  # started later, never finished
    assert late.deliver(browser).location == "/"
    assert browser.get("/").text == "hello alice"
