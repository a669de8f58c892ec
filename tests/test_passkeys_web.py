"""Passkeys in headless Chromium through the Flask and Django apps of tests/passkey_web_apps.py,
each under a real server (Werkzeug's for Flask, runserver's for Django) reached at
`http://localhost:<port>`, with Selenium's virtual authenticator standing in for the device.

The stories: a password login, then a passkey registered behind `fresh_login_required`, then
a passwordless login with it (discoverable: no username typed), then the passkey as the second
factor after a password. Django keeps its CSRF middleware: the shipped script's JSON POSTs
pass it with the `X-CSRFToken` header (from the `csrftoken` cookie, or, with
`CSRF_USE_SESSIONS`, from the page through the script's `headers` option) and fail without it.
A refused registration answer is a 4xx with its message in both frameworks.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from app_servers import runserver_server, werkzeug_server
from browser import submit_login, wait_until_replaced
from passkey_browser import on_localhost, stored_credentials, virtual_authenticator, wait_for_page
from passkey_django_app import django_site
from passkey_web_apps import Site, flask_site

FRAMEWORKS = ["flask", "django"]


@pytest.fixture(scope="module", params=FRAMEWORKS)
def served(request: pytest.FixtureRequest) -> Iterator[tuple[Site, str]]:
    """Each framework's app under its real server, once per module: (site, base URL)."""
    if request.param == "flask":
        site = flask_site()
        with werkzeug_server(site.app) as url:
            base = on_localhost(url)
            site.configure(base)
            yield site, base
        return
    from django.test import override_settings

    with override_settings(ROOT_URLCONF="passkey_django_app"):
        site = django_site()
        with runserver_server(site.app) as url:
            base = on_localhost(url)
            site.configure(base)
            yield site, base


@pytest.fixture
def browser(driver: Any, served: tuple[Site, str]) -> Iterator[Any]:
    """The module's Chromium with a virtual authenticator of its own for one test, starting
    with no cookies on the server's host."""
    _, base = served
    driver.get(base + "/login")
    driver.delete_all_cookies()
    with virtual_authenticator(driver):
        yield driver


def click(driver: Any, selector: str) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, selector).click()


def proved(driver: Any) -> str:
    from selenium.webdriver.common.by import By

    text: str = driver.find_element(By.ID, "amr").text
    return text


def password_of(site: Site, name: str) -> str:
    user = site.users.by_name(name)
    assert user is not None, name
    return user.password


def password_login(driver: Any, served: tuple[Site, str], user: str) -> None:
    site, base = served
    driver.get(base + "/login")
    submit_login(driver, user, password_of(site, user))


def log_out(driver: Any, base: str) -> None:
    from selenium.webdriver.common.by import By

    button = driver.find_element(By.CSS_SELECTOR, "form[action='/logout'] button")
    button.click()
    wait_until_replaced(driver, button)
    assert driver.current_url == base + "/"
    assert "Nobody is logged in." in driver.find_element(By.TAG_NAME, "body").text


def register_passkey(driver: Any, base: str, user: str) -> None:
    driver.get(base + "/passkeys/register")
    assert driver.current_url == base + "/passkeys/register"
    click(driver, "#register")
    wait_for_page(driver, base + "/", f"Logged in as {user}")


def test_a_registered_passkey_logs_in_without_a_username(
    browser: Any, served: tuple[Site, str]
) -> None:
    site, base = served
    password_login(browser, served, "alice")
    wait_for_page(browser, base + "/", "Logged in as alice")
    assert proved(browser) == "Proved: pwd"

    register_passkey(browser, base, "alice")
    (credential,) = stored_credentials(browser)
    assert credential.is_resident_credential
    assert credential.rp_id == "localhost"
    (passkey,) = site.passkeys.of(site.users.users[1])
    # Selenium gives the authenticator's ids in padded base64url.
    assert passkey.credential_id_b64 == credential.id.rstrip("=")
    assert passkey.user_handle == site.passkeys.handle_of(site.users.users[1])
    assert base64.urlsafe_b64decode(credential.user_handle) == passkey.user_handle
    assert passkey.name == "Test passkey"

    # The same authenticator again: the options exclude its passkey, so Chromium refuses.
    browser.get(base + "/passkeys/register")
    click(browser, "#register")
    wait_for_page(browser, base + "/passkeys/register", "Error: ")
    assert len(stored_credentials(browser)) == len(site.passkeys.of(site.users.users[1])) == 1

    browser.get(base + "/")
    log_out(browser, base)
    browser.get(base + "/login")
    click(browser, "#passkey")  # no username typed: the authenticator offers alice's passkey
    wait_for_page(browser, base + "/", "Logged in as alice")
    assert proved(browser) == "Proved: hwk"
    log_out(browser, base)


def test_a_passkey_completes_a_password_login_as_the_second_factor(
    browser: Any, served: tuple[Site, str]
) -> None:
    site, base = served
    password_login(browser, served, "bob")
    wait_for_page(browser, base + "/", "Logged in as bob")  # no passkey yet: one factor
    register_passkey(browser, base, "bob")
    assert len(site.passkeys.of(site.users.users[2])) == 1
    log_out(browser, base)

    password_login(browser, served, "bob")
    assert browser.current_url == base + "/login/second-factor"
    assert "bob, confirm it's you" in browser.page_source
    browser.get(base + "/")
    assert "Nobody is logged in." in browser.page_source  # pending, not logged in

    browser.get(base + "/login/second-factor")
    click(browser, "#passkey")
    wait_for_page(browser, base + "/", "Logged in as bob")
    assert proved(browser) == "Proved: pwd hwk"
    log_out(browser, base)


def test_registering_sends_an_anonymous_visitor_to_log_in(served: tuple[Site, str]) -> None:
    _, base = served
    with httpx.Client(base_url=base) as client:
        page = client.get("/passkeys/register", headers={"accept": "text/html"})
        assert page.status_code == 302
        assert page.headers["location"].startswith("/login?next=")
        options = client.get("/passkeys/register/options", headers={"accept": "application/json"})
        assert options.status_code == 401


@pytest.mark.parametrize("served", ["django"], indirect=True)
def test_django_refuses_the_passkey_posts_without_the_csrf_token(
    served: tuple[Site, str],
) -> None:
    _, base = served
    with httpx.Client(base_url=base) as client:
        assert client.get("/login").status_code == 200  # sets the csrftoken cookie
        options = client.get("/passkeys/login/options")
        assert options.status_code == 200 and options.json()["allowCredentials"] == []
        refused = client.post("/passkeys/login", json={"id": "x"})
        assert refused.status_code == 403
        assert "CSRF" in refused.text
        # With the header the script sends, the request reaches the strategy, which answers
        # the malformed credential itself.
        token = {"X-CSRFToken": client.cookies["csrftoken"]}
        answered = client.post("/passkeys/login", json={"id": "x"}, headers=token)
        assert answered.status_code == 400, answered.text


@pytest.mark.parametrize("served", ["django"], indirect=True)
def test_django_without_a_readable_csrf_cookie_the_page_passes_the_token_header(
    browser: Any, served: tuple[Site, str]
) -> None:
    from django.test import override_settings

    _, base = served
    with override_settings(CSRF_USE_SESSIONS=True):  # the token lives in the session
        password_login(browser, served, "carol")
        wait_for_page(browser, base + "/", "Logged in as carol")
        assert browser.get_cookie("csrftoken") is None
        register_passkey(browser, base, "carol")
        log_out(browser, base)
        browser.get(base + "/login")
        click(browser, "#passkey")
        wait_for_page(browser, base + "/", "Logged in as carol")
        assert proved(browser) == "Proved: hwk"


def api_login(client: httpx.Client, site: Site, user: str) -> None:
    """A password login through the form, with Django's CSRF field when the page has one."""
    form = client.get("/login").text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    fields = {"username": user, "password": password_of(site, user)}
    if token is not None:
        fields["csrfmiddlewaretoken"] = token[1]
    assert client.post("/login", data=fields).headers["location"] == "/"


def test_a_bad_registration_answer_is_a_clear_4xx(served: tuple[Site, str]) -> None:
    site, base = served
    before = dict(site.passkeys.rows)
    with httpx.Client(base_url=base) as client:
        api_login(client, site, "alice")
        headers = {"X-CSRFToken": client.cookies.get("csrftoken", "")}
        stale = client.post("/passkeys/register", json={"id": "x"}, headers=headers)
        assert stale.status_code in (400, 401), stale.text  # no challenge in the session
        assert stale.json()["error"]
        assert client.get("/passkeys/register/options").status_code == 200
        broken = client.post("/passkeys/register", content=b"{not json", headers=headers)
        assert broken.status_code == 400, broken.text
        assert broken.json()["error"]
    assert site.passkeys.rows == before


def test_the_script_is_served_the_adapters_way(served: tuple[Site, str]) -> None:
    _, base = served
    answer = httpx.get(base + "/static/passkeys.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "cache-control" in answer.headers
    assert "passportPasskeys" in answer.text
