"""Chromium with a virtual authenticator, for the passkey browser tests.

    with virtual_authenticator(driver):
        driver.get(on_localhost(base) + "/passkeys/register")
        ...  # navigator.credentials.create/get answer without a person or a device

The authenticator is a CTAP2 platform authenticator (transport "internal") that keeps
discoverable credentials and verifies the user on every ceremony, as a phone or a laptop's
fingerprint reader would. It is removed on exit, so other tests sharing the module's driver
never see it or its credentials. Pages must be opened on `localhost`: WebAuthn takes a domain as
the RP id, never an IP address. No pytest in here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = ["on_localhost", "stored_credentials", "virtual_authenticator", "wait_for_page"]


@contextmanager
def virtual_authenticator(driver: Any) -> Iterator[str]:
    """Attach a virtual passkey authenticator to `driver` until the block ends; its id."""
    from selenium.webdriver.common.virtual_authenticator import (
        Protocol,
        Transport,
        VirtualAuthenticatorOptions,
    )

    options = VirtualAuthenticatorOptions(
        protocol=Protocol.CTAP2,
        transport=Transport.INTERNAL,
        has_resident_key=True,
        has_user_verification=True,
        is_user_verified=True,
    )
    driver.add_virtual_authenticator(options)
    try:
        yield str(driver.virtual_authenticator_id)
    finally:
        driver.remove_virtual_authenticator()


def stored_credentials(driver: Any) -> list[Any]:
    """The credentials the current virtual authenticator holds (Selenium `Credential`s)."""
    return list(driver.get_credentials())


def on_localhost(url: str) -> str:
    """`url` (say `http://127.0.0.1:8123`) with the host `localhost`: WebAuthn's RP id must
    be a domain."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"localhost{port}"))


def wait_for_page(driver: Any, url: str, text: str, timeout: float = 10.0) -> None:
    """Wait until the browser shows `url` with `text` on it: a page a script navigated to,
    which Selenium does not wait for as it does for `get` and form submissions."""
    from selenium.common.exceptions import TimeoutException, WebDriverException
    from selenium.webdriver.support.wait import WebDriverWait

    def arrived(browser: Any) -> bool:
        body = browser.execute_script("return document.body ? document.body.innerText : ''")
        return bool(browser.current_url == url and text in body)

    try:
        # While a page is replaced, a script can fail with an inspector error: "not yet".
        WebDriverWait(driver, timeout, ignored_exceptions=(WebDriverException,)).until(arrived)
    except TimeoutException as error:  # say where the browser is instead
        body = driver.execute_script("return document.body && document.body.innerText")
        raise AssertionError(
            f"expected {url} showing {text!r}; the browser is at {driver.current_url}: {body!r}"
        ) from error
