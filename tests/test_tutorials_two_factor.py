"""The complete app of totp.md, saved as the file a reader would write, served by uvicorn and
driven in headless Chromium: alice logs in, scans (reads) the QR page's key, turns the app on
with a code, logs out, and from then on her password alone leaves her at the code page until
the app's next code logs her in."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
from browser import browser_paths, submit_login, wait_until_replaced
from tutorials import body_text, page_source, path_of, served_by_uvicorn, write_app
from uvicorn_servers import Server


@pytest.fixture(scope="module")
def totp_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    browser_paths()
    source = page_source("docs/totp.md", "A complete app")
    directory = write_app(tmp_path_factory.mktemp("totp"), source)
    with served_by_uvicorn(directory, directory / "uvicorn.log") as server:
        yield server


def test_totp_page_enrolls_an_app_and_asks_for_its_code_in_chromium(
    totp_app: Server, driver: Any
) -> None:
    from selenium.webdriver.common.by import By

    def submit_code(code: str) -> None:
        form = driver.find_element(By.CSS_SELECTOR, "form[method=post]")
        form.find_element(By.NAME, "code").send_keys(code)
        form.find_element(By.TAG_NAME, "button").click()
        wait_until_replaced(driver, form)

    url = totp_app.url
    driver.delete_all_cookies()
    driver.get(url + "/login")
    submit_login(driver, "alice", "wonderland")
    assert "Hello, alice." in body_text(driver)

    link = driver.find_element(By.LINK_TEXT, "Set up an authenticator app")
    link.click()
    wait_until_replaced(driver, link)
    assert driver.find_element(By.CSS_SELECTOR, "svg").is_displayed()
    secret = driver.find_element(By.TAG_NAME, "code").text
    submit_code(pyotp.TOTP(secret).now())
    assert path_of(driver, url) == "/"

    logout = driver.find_element(By.CSS_SELECTOR, "form[action='/logout'] button")
    logout.click()
    wait_until_replaced(driver, logout)
    submit_login(driver, "alice", "wonderland")
    assert path_of(driver, url) == "/login/code"
    driver.get(url + "/")
    assert path_of(driver, url) == "/login?next=%2F"  # not logged in until the code
    driver.get(url + "/login/code")
    submit_code(pyotp.TOTP(secret).at(time.time() + 30))  # this step's code was spent
    assert path_of(driver, url) == "/"
    assert "Hello, alice." in body_text(driver)
