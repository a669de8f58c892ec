"""The OpenID Connect page, saved as the file a reader would write, served by uvicorn (the
development provider it starts runs in the same process) and driven in headless Chromium
through the provider's own page: deny, then approve as alice, then log out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser import browser_paths, wait_until_replaced
from redis_helpers import unused_port
from tutorials import body_text, log_out, page_source, path_of, served_by_uvicorn, write_app
from uvicorn_servers import Server

LOG_IN = "Log in with the development provider"
DENIED = "The resource owner or authorization server denied the request"  # Authlib's words


@pytest.fixture(scope="module")
def oidc_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    browser_paths()
    source = page_source("docs/openid-connect.md", "OpenID Connect", blocks=1)
    directory = write_app(tmp_path_factory.mktemp("openid-connect"), source)
    # The callback URL registered at the provider names the app's port: the app must know it.
    port = unused_port()
    env = {"APP_URL": f"http://127.0.0.1:{port}"}
    with served_by_uvicorn(directory, directory / "uvicorn.log", env=env, port=port) as server:
        yield server


def to_the_provider(driver: Any, url: str) -> None:
    """From the app's home page, follow "Log in with ..." to the provider's page."""
    from selenium.webdriver.common.by import By

    driver.get(url + "/")
    link = driver.find_element(By.LINK_TEXT, LOG_IN)
    link.click()
    wait_until_replaced(driver, link)
    assert not driver.current_url.startswith(url), driver.current_url
    assert "/authorize?" in driver.current_url
    assert driver.find_element(By.TAG_NAME, "h1").text == "Development OpenID provider"


def press(driver: Any, element_id: str) -> None:
    from selenium.webdriver.common.by import By

    button = driver.find_element(By.ID, element_id)
    button.click()
    wait_until_replaced(driver, button)


def test_openid_connect_page_logs_in_through_the_providers_page_in_chromium(
    oidc_app: Server, driver: Any
) -> None:
    from selenium.webdriver.common.by import By

    url = oidc_app.url
    driver.delete_all_cookies()
    to_the_provider(driver, url)
    press(driver, "deny")
    assert path_of(driver, url) == "/"
    assert DENIED in body_text(driver)
    assert LOG_IN in body_text(driver)

    to_the_provider(driver, url)
    driver.find_element(By.ID, "user-alice").click()
    press(driver, "approve")
    assert path_of(driver, url) == "/"
    assert "Hello, Alice Example." in body_text(driver)

    log_out(driver)
    assert path_of(driver, url) == "/"
    assert LOG_IN in body_text(driver)
    assert "Hello," not in body_text(driver)
