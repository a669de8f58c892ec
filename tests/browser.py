"""Headless Chromium for the browser tests: Debian's Chromium and its matching ChromeDriver
driven through Selenium; nothing is downloaded.

Without them a browser test skips with a one-line reason, unless CI=true: there it fails,
since CI must run it (`make test` installs Chromium there).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=900,700",
)


def browser_paths() -> tuple[str, str]:
    """Chromium's and ChromeDriver's paths; skips (or fails when CI=true) without them."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver")
    missing = [
        what
        for what, found in (("chromium", chromium), ("chromedriver", chromedriver))
        if not found
    ]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package")
    if missing:
        reason = (
            f"browser test needs {', '.join(missing)} (apt-get install chromium chromium-driver)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)
    assert chromium is not None and chromedriver is not None
    return chromium, chromedriver


@contextmanager
def chromium(profile: Path, *flags: str) -> Iterator[Any]:
    """A headless Chromium WebDriver with its own profile directory, quit on exit."""
    binary, chromedriver = browser_paths()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (*CHROMIUM_FLAGS, *flags):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    browser = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    browser.set_page_load_timeout(15)
    try:
        yield browser
    finally:
        browser.quit()


def wait_until_replaced(driver: Any, element: Any) -> None:
    """Wait until the page `element` was on has been replaced by the next one."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    # While the old document is torn down, Chromium can answer the staleness probe with a
    # transient inspector error instead of "stale": that only means "not yet", so poll again.
    wait = WebDriverWait(driver, 10, ignored_exceptions=(WebDriverException,))
    wait.until(expected_conditions.staleness_of(element))


def submit_login(driver: Any, username: str, password: str) -> None:
    """Fill the page's POST form's username and password, submit it, and wait for the next
    page to load."""
    from selenium.webdriver.common.by import By

    form = driver.find_element(By.CSS_SELECTOR, "form[method=post]")
    form.find_element(By.NAME, "username").send_keys(username)
    form.find_element(By.NAME, "password").send_keys(password)
    # A <button> without a type is a submit button too (HTML's default).
    submit = "button:not([type]), button[type=submit], input[type=submit]"
    form.find_element(By.CSS_SELECTOR, submit).click()
    wait_until_replaced(driver, form)
