"""The demo's pages as a person meets them, through Starlette's TestClient: every page has the
same layout (lang, viewport, one h1, navigation with logout once logged in), errors a browser
meets are pages that say what happened and what to do with a way back, API clients keep the
plain status, and the messages a visitor reads are plain words rather than protocol phrases.

The look itself (widths, focus rings, screenshots) is checked in Chromium by
test_demo_layout.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient
from test_demo import HTML, NAME, PASSWORD, SECRET, log_in

from passport_py.demo.app import MISSING, build_app
from passport_py.demo.dev_login import start_dev_provider
from passport_py.demo.pages import error_page
from passport_py.sessions import MemoryStore

LOGOUT_IN_NAV = re.compile(r'<nav aria-label="Main">.*<form method="post" action="/logout">', re.S)


@pytest.fixture
def browser() -> Iterator[TestClient]:
    with TestClient(build_app(SECRET, store=MemoryStore()), follow_redirects=False) as client:
        yield client


def nav_text(page: str) -> str:
    nav = re.search(r"<nav .*?</nav>", page, re.S)
    assert nav is not None
    return re.sub(r"<[^>]+>", "", nav[0])


def flashes(browser: TestClient) -> list[str]:
    return re.findall(r'<p class="flash \w+" role="alert">([^<]*)</p>', browser.get("/login").text)


def test_every_page_declares_its_language_the_viewport_and_one_h1(browser: TestClient) -> None:
    pages = [browser.get("/", headers=HTML), browser.get("/login", headers=HTML)]
    log_in(browser)
    pages += [browser.get(path, headers=HTML) for path in ("/", "/secret", "/no-such-page")]
    for page in pages:
        assert page.text.startswith('<!doctype html><html lang="en">'), page.url
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page.text
        assert page.text.count("<h1>") == 1, page.url


def test_the_pages_fetch_nothing_from_elsewhere(browser: TestClient) -> None:
    log_in(browser)
    for path in ("/", "/secret", "/no-such-page"):
        text = browser.get(path, headers=HTML).text
        assert "<style>" in text
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), path
        assert "@import" not in text and "url(" not in text


def test_a_logged_in_user_has_navigation_with_logout_on_every_page(browser: TestClient) -> None:
    log_in(browser)
    for path in ("/", "/secret", "/login", "/no-such-page"):
        page = browser.get(path, headers=HTML).text
        assert LOGOUT_IN_NAV.search(page), path
        assert f"Signed in as {NAME}" in nav_text(page)


def test_a_visitor_has_navigation_with_a_login_link(browser: TestClient) -> None:
    page = browser.get("/", headers=HTML).text
    assert '<li><a href="/login">Log in</a></li>' in page
    assert not LOGOUT_IN_NAV.search(page)


def test_every_login_field_has_a_label(browser: TestClient) -> None:
    form = browser.get("/login", headers=HTML).text
    for field in ("username", "password", "remember_me"):
        assert f'<input id="{field}" name="{field}"' in form
        assert f'<label for="{field}">' in form


def test_the_login_page_names_the_demo_users(browser: TestClient) -> None:
    form = browser.get("/login", headers=HTML).text
    assert f"<code>{NAME}</code> / <code>{PASSWORD}</code>" in form


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 413, 418, 500, 502, 503])
def test_every_error_status_has_a_page_with_what_to_do_and_the_way_home(status: int) -> None:
    visitor = HTTPConnection({"type": "http", "path": "/somewhere", "headers": []})
    page = error_page(visitor, status)
    assert page.count("<h1>") == 1
    assert f'<p class="status">Error {status}</p>' in page
    assert len(re.findall(r'<p class="lead">[^<]+</p><p>[^<]+</p>', page)) == 1
    assert 'href="/">Back to the home page</a>' in page
    assert ('<a class="button" href="/login">Log in</a>' in page) == (status in (401, 403))


def test_a_missing_page_says_so_and_links_home(browser: TestClient) -> None:
    page = browser.get("/no-such-page", headers=HTML)
    assert page.status_code == 404
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>Page not found</h1>" in page.text
    assert '<a class="button" href="/">Back to the home page</a>' in page.text
    assert "Not Found" not in page.text


def test_the_api_in_a_browser_explains_the_token_and_keeps_the_challenge(
    browser: TestClient,
) -> None:
    page = browser.get("/api/me", headers=HTML)
    assert page.status_code == 401
    assert page.headers["www-authenticate"] == 'Bearer realm="demo"'
    assert "<h1>You need to log in</h1>" in page.text
    assert "the API token shown on your account page" in page.text
    assert '<a class="button" href="/login">Log in</a>' in page.text
    assert "Unauthorized" not in page.text


def test_an_api_client_keeps_the_apis_json_answer(browser: TestClient) -> None:
    for accept in ({}, {"accept": "application/json"}):
        answer = browser.get("/api/me", headers=accept)
        assert answer.status_code == 401
        assert answer.headers["content-type"] == "application/json"
        assert answer.json() == {"detail": "Unauthorized"}


def test_a_wrong_token_sent_from_a_browser_keeps_the_apis_json_answer(browser: TestClient) -> None:
    answer = browser.get("/api/me", headers={**HTML, "authorization": "Bearer not-a-token"})
    assert answer.status_code == 401
    assert answer.json() == {"detail": "Unauthorized"}


def test_typing_the_logout_address_explains_the_button_and_keeps_allow(
    browser: TestClient,
) -> None:
    log_in(browser)
    page = browser.get("/logout", headers=HTML)
    assert page.status_code == 405
    assert page.headers["allow"] == "POST"
    assert "<h1>This address takes a button, not a visit</h1>" in page.text
    assert LOGOUT_IN_NAV.search(page.text)  # still logged in, and told so
    assert f"Logged in as <b>{NAME}</b>." in browser.get("/", headers=HTML).text


def test_an_empty_login_form_asks_for_both_fields(browser: TestClient) -> None:
    answer = browser.post("/login", data={"username": NAME})
    assert answer.headers["location"] == "/login"
    assert flashes(browser) == [MISSING]


def test_a_form_the_demo_cannot_read_is_explained_in_plain_words(browser: TestClient) -> None:
    raw = {"content-type": "application/x-www-form-urlencoded"}
    browser.post("/login", content=b"username=\xff&password=x", headers=raw)
    (message,) = flashes(browser)
    assert message.startswith("Your browser sent the form in a way the demo cannot read.")


def test_a_login_posted_from_another_site_is_refused_in_plain_words(
    browser: TestClient,
) -> None:
    fields = {"username": NAME, "password": PASSWORD}
    answer = browser.post("/login", data=fields, headers={"sec-fetch-site": "cross-site"})
    assert answer.headers["location"] == "/login"
    (message,) = flashes(browser)
    assert message.startswith("That login came from a form on another site")
    assert "Nobody is logged in." in browser.get("/", headers=HTML).text


def test_an_unreachable_provider_is_a_page_offering_the_password_login() -> None:
    provider, dev = start_dev_provider(["http://testserver"])
    provider.stop()  # the provider is gone: discovery gets no answer
    app = build_app(SECRET, store=MemoryStore(), dev=dev)
    with TestClient(app, follow_redirects=False) as browser:
        page = browser.post("/auth/dev", headers=HTML)
    assert page.status_code == 502
    assert "<h1>The sign-in provider did not answer</h1>" in page.text
    assert "Log in with a password instead" in page.text


def test_an_unexpected_exception_is_a_page_without_the_traceback() -> None:
    app = build_app(SECRET, store=MemoryStore())

    async def broken(request: Request) -> Response:
        raise RuntimeError("internal detail")

    app.router.routes.append(Route("/broken", broken))
    with TestClient(app, raise_server_exceptions=False) as browser:
        page = browser.get("/broken", headers=HTML)
        plain = browser.get("/broken")
    assert page.status_code == 500
    assert "<h1>Something went wrong on our side</h1>" in page.text
    assert "internal detail" not in page.text and "Traceback" not in page.text
    assert (plain.status_code, plain.text) == (500, "Internal Server Error")
