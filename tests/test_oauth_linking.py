"""Linking a provider account to the logged-in user with `authorize(...)`, in each framework.

The apps are `tests/oauth_apps` (Starlette, Flask, Django through their real test clients),
the provider the bundled OpenID provider over real HTTP. `authorize("dev-link")` puts the
provider account (a `Profile`) on the request (`request.state.account` and
`request.scope["account"]` in Starlette, `g.account` in Flask, `request.account` in Django)
and leaves the login alone; the app's view links `profile.key` to the logged-in user.
"""

from __future__ import annotations

import pytest
from oauth_apps import Site
from oauth_apps.common import BROWSER, CROSS_SITE, Browser, start_and_authorize
from session_entries import TEST_CLIENTS, identity


@pytest.fixture
def app(oauth_site: Site) -> Site:
    """The app of each framework and strategy kind in turn (conftest's `oauth_site`)."""
    return oauth_site


def logged_in(app: Site, username: str = "alice", password: str = "wonderland") -> Browser:
    """A browser where `username` logged in with a password, with a cart in the session."""
    browser = app.browser()
    reply = browser.post("/login", {"username": username, "password": password})
    assert reply.json() == {"user": username}
    browser.post("/cart", {"item": "book"})
    return browser


def test_linking_puts_the_account_on_the_request(app: Site) -> None:
    browser = logged_in(app)
    reply = start_and_authorize(browser, "/connect/dev", "carol-dev", post=True).deliver(browser)
    assert reply.status == 200
    assert reply.json() == {"user": "alice", "account": list(app.key("sub-carol"))}
    assert app.directory.links[app.key("sub-carol")] == 1


def test_linking_leaves_the_login_and_the_session_alone(app: Site) -> None:
    browser = logged_in(app)
    before = browser.get("/session").json()
    start_and_authorize(browser, "/connect/dev", "carol-dev", post=True).deliver(browser)
    after = browser.get("/session").json()
    assert after == before  # same id (no regeneration), same user, the cart still there
    assert after["data"]["cart"] == "book"
    assert browser.get("/").text == "hello alice"


def test_the_linked_account_then_logs_its_user_in(app: Site) -> None:
    alice = logged_in(app)
    start_and_authorize(alice, "/connect/dev", "carol-dev", post=True).deliver(alice)
    elsewhere = app.browser()
    reply = start_and_authorize(elsewhere, "/auth/dev", "carol-dev").deliver(elsewhere)
    assert (reply.status, reply.location) == (302, "/")
    assert elsewhere.get("/").text == "hello alice"


def test_linking_needs_a_login_first(app: Site) -> None:
    reply = app.browser().post("/connect/dev", headers=BROWSER)
    assert (reply.status, reply.location) == (302, "/login?next=%2Fconnect%2Fdev")


def test_a_link_callback_after_the_login_ended_links_nothing_and_logs_nobody_in(
    app: Site,
) -> None:
    browser = logged_in(app)
    answer = start_and_authorize(browser, "/connect/dev", "carol-dev", post=True)
    del app.directory.store.users[1]  # alice's account is deleted meanwhile: logged out
    reply = answer.deliver(browser)
    assert reply.status == 401  # the view's answer: nobody to link the account to
    assert reply.json() == {"error": "log in to link an account"}
    assert app.key("sub-carol") not in app.directory.links
    assert browser.get("/").text == "hello anonymous"
    assert "user" not in browser.get("/session").json()["data"].get("passport", {})


def test_a_link_callback_in_another_users_session_is_refused_with_403(app: Site) -> None:
    mallory = logged_in(app, "bob", "builder")
    stolen = start_and_authorize(mallory, "/connect/dev", "carol-dev", post=True)
    alice = logged_in(app)
    start_and_authorize(alice, "/connect/dev", "alice-dev", post=True)  # her own, pending
    before = alice.get("/session").json()
    tokens = app.token_requests()

    assert stolen.deliver(alice).status == 403
    assert app.token_requests() == tokens  # the code was never exchanged
    assert app.key("sub-carol") not in app.directory.links
    after = alice.get("/session").json()
    assert after["id"] == before["id"]
    assert identity(after["data"]["passport"], TEST_CLIENTS[app.app.framework]) == {"user": 1}
    assert alice.get("/").text == "hello alice"


def test_a_link_callback_without_a_started_link_is_refused_with_403(app: Site) -> None:
    mallory = logged_in(app, "bob", "builder")
    stolen = start_and_authorize(mallory, "/connect/dev", "carol-dev", post=True)
    alice = logged_in(app)
    assert stolen.deliver(alice).status == 403
    assert app.key("sub-carol") not in app.directory.links
    assert alice.get("/").text == "hello alice"


def test_linking_cannot_be_started_from_another_site(app: Site) -> None:
    # OmniAuth CVE-2015-9284: a cross-site request started linking. Django's CSRF check
    # refuses the form without its token; Starlette and Flask refuse Sec-Fetch-Site/Origin.
    browser = logged_in(app)
    reply = browser.post("/connect/dev", headers=CROSS_SITE, csrf=False)
    assert reply.status == 403
    assert reply.location is None
