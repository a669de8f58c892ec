"""Passkeys in headless Chromium with Selenium's virtual authenticator, against the app of
tests/passkey_apps.py under uvicorn at http://localhost:<port> (WebAuthn refuses IP addresses
as RP ids): register behind a fresh password login, log in with the passkey and no username,
and use a passkey as the second factor after a password."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from browser import browser_paths, submit_login
from passkey_browser import virtual_authenticator
from redis_helpers import unused_port
from uvicorn_servers import Server, start_uvicorn

STARTUP_SECONDS = 20.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    browser_paths()
    port = unused_port()
    env = {**os.environ, "PASSKEY_ORIGIN": f"http://localhost:{port}"}
    log = tmp_path_factory.mktemp("passkeys") / "uvicorn.log"
    running = start_uvicorn("passkeys", "passkey_apps:create_app", log, env, port=port)
    try:
        running.wait_ready(time.monotonic() + STARTUP_SECONDS)
        running.url = f"http://localhost:{port}"
        yield running
    finally:
        running.stop()


@pytest.fixture
def authenticator(driver: Any) -> Iterator[None]:
    with virtual_authenticator(driver):
        yield


def wait_for_path(driver: Any, url: str, path: str) -> None:
    from selenium.webdriver.support.wait import WebDriverWait

    try:
        WebDriverWait(driver, 10).until(lambda d: d.current_url == url + path)
    except Exception:
        error = driver.find_element("id", "error").text if "error" in driver.page_source else ""
        raise AssertionError(f"still at {driver.current_url} ({error!r}), wanted {path}") from None


def click(driver: Any, element_id: str) -> None:
    driver.find_element("id", element_id).click()


def register(driver: Any, url: str, user: str) -> None:
    driver.get(url + "/login")
    submit_login(driver, user, "wonderland")
    driver.get(url + "/account")
    click(driver, "add")
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.wait import WebDriverWait

    def settled(d: Any) -> str:  # the list once the page reloaded, or the error shown
        return str(d.find_element("id", "passkeys").text or d.find_element("id", "error").text)

    wait = WebDriverWait(driver, 10, ignored_exceptions=(StaleElementReferenceException,))
    assert wait.until(settled) == "Laptop"
    driver.find_element("css selector", "form[action='/logout'] button").click()
    wait_for_path(driver, url, "/login")


def test_register_then_log_in_with_the_passkey_and_no_username(
    server: Server, driver: Any, authenticator: None
) -> None:
    url = server.url
    driver.delete_all_cookies()
    register(driver, url, "alice")
    click(driver, "passkey")  # the username field stays empty: a discoverable credential
    wait_for_path(driver, url, "/")
    assert "Hello, alice." in driver.find_element("tag name", "body").text
    assert driver.get_credentials()[0].is_resident_credential


def test_passkey_as_second_factor_after_the_password(
    server: Server, driver: Any, authenticator: None
) -> None:
    url = server.url
    driver.delete_all_cookies()
    register(driver, url, "bob")
    submit_login(driver, "bob", "wonderland")
    wait_for_path(driver, url, "/login/second-factor")
    click(driver, "confirm")
    wait_for_path(driver, url, "/")
    assert "Hello, bob." in driver.find_element("tag name", "body").text


def test_the_script_loads_without_errors(server: Server, driver: Any) -> None:
    driver.get(server.url + "/login")
    assert driver.execute_script("return typeof window.passportPasskeys.login") == "function"
