"""The remember-me and sessions-in-production pages, each saved as the file a reader would
write, served by uvicorn and driven in headless Chromium: the remember-me cookie outlives the
session, a session in Redis is the same session whichever server process answers, and "Log out
everywhere" ends the session of the user's other device too."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
import redis
from browser import browser_paths, submit_login
from redis_helpers import REDIS_URL, require_redis
from tutorials import (
    Tour,
    body_text,
    log_out,
    page_source,
    path_of,
    served_by_uvicorn,
    take_the_tour,
    write_app,
)
from uvicorn_servers import Server

REMEMBER_ME_TOUR = Tour(
    protected="/",
    login="/login?next=%2F",
    username="alice",
    password="wonderland",
    failure="Wrong username or password.",
    failure_path="/login",
    success_path="/",
    success=("Hello, alice.",),
    logged_out_path="/login?next=%2F",  # "/" needs a login
    logged_out="Remember me",
)
SESSIONS_PREFIX = "myapp:session:"  # the page's own prefix, in the test Redis


@pytest.fixture(scope="module")
def remember_me_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    browser_paths()
    source = page_source("docs/remember-me.md", "Remember me", blocks=1)
    directory = write_app(tmp_path_factory.mktemp("remember-me"), source)
    with served_by_uvicorn(directory, directory / "uvicorn.log") as server:
        yield server


@pytest.fixture(scope="module")
def sessions_apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    """The page's app twice, in two uvicorn processes sharing the test Redis (a load
    balancer's two backends); its session keys are deleted afterwards."""
    browser_paths()
    require_redis()
    source = page_source("docs/sessions.md", "Sessions in production", blocks=1)
    directory = write_app(tmp_path_factory.mktemp("sessions"), source)
    env = {"REDIS_URL": REDIS_URL}
    try:
        with ExitStack() as servers:
            one = servers.enter_context(served_by_uvicorn(directory, directory / "a.log", env=env))
            two = servers.enter_context(served_by_uvicorn(directory, directory / "b.log", env=env))
            yield one, two
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        try:
            for key in client.scan_iter(match=f"{SESSIONS_PREFIX}*"):
                client.delete(key)
        finally:
            client.close()


def test_remember_me_page_logs_in_and_out_in_chromium(remember_me_app: Server, driver: Any) -> None:
    take_the_tour(driver, remember_me_app.url, REMEMBER_ME_TOUR)


def test_remember_me_page_keeps_alice_logged_in_without_her_session_in_chromium(
    remember_me_app: Server, driver: Any
) -> None:
    from selenium.webdriver.common.by import By

    url = remember_me_app.url
    driver.delete_all_cookies()
    driver.get(url + "/login")
    driver.find_element(By.NAME, "remember_me").click()
    submit_login(driver, "alice", "wonderland")
    assert "Hello, alice." in body_text(driver)
    remembered = driver.get_cookie("remember_me")
    assert remembered is not None and remembered["httpOnly"] is True

    driver.delete_cookie("session")  # the browser was closed: its session cookie is gone
    driver.get(url + "/")
    assert path_of(driver, url) == "/"
    assert "Hello, alice." in body_text(driver)
    rotated = driver.get_cookie("remember_me")
    assert rotated is not None and rotated["value"] != remembered["value"]

    log_out(driver)
    assert driver.get_cookie("remember_me") is None
    driver.get(url + "/")
    assert path_of(driver, url) == "/login?next=%2F"


def test_sessions_page_session_in_redis_is_served_by_either_process_in_chromium(
    sessions_apps: tuple[Server, Server], driver: Any
) -> None:
    from selenium.webdriver.common.by import By

    one, two = sessions_apps
    assert one.pids != two.pids
    driver.delete_all_cookies()
    driver.get(one.url + "/")
    assert "Hello, stranger!" in body_text(driver)
    driver.find_element(By.LINK_TEXT, "Log in").click()
    assert path_of(driver, one.url) == "/login"

    submit_login(driver, "alice", "not-wonderland")
    assert path_of(driver, one.url) == "/login"
    assert "Wrong username or password." in body_text(driver)
    submit_login(driver, "alice", "wonderland")
    assert path_of(driver, one.url) == "/"
    assert "Hello, alice!" in body_text(driver)

    # Cookies ignore ports: the other process gets the same session cookie, and only Redis
    # can tell it whose session that is.
    driver.get(two.url + "/")
    assert "Hello, alice!" in body_text(driver)
    log_out(driver)
    assert path_of(driver, two.url) == "/"
    assert "Hello, stranger!" in body_text(driver)
    driver.get(one.url + "/")
    assert "Hello, stranger!" in body_text(driver)


def test_sessions_page_log_out_everywhere_ends_the_other_devices_session_in_chromium(
    sessions_apps: tuple[Server, Server], driver: Any
) -> None:
    one, two = sessions_apps
    driver.delete_all_cookies()
    driver.get(one.url + "/login")
    submit_login(driver, "alice", "wonderland")
    assert "Hello, alice!" in body_text(driver)
    with httpx.Client(base_url=two.url, follow_redirects=True) as phone:  # her other device
        phone.post("/login", data={"username": "alice", "password": "wonderland"})
        assert "Hello, alice!" in phone.get("/").text

        log_out(driver, "form[action='/logout-everywhere'] button")
        assert "Hello, stranger!" in body_text(driver)
        assert "Hello, stranger!" in phone.get("/").text
