"""The demo end to end in headless Chromium: login form, wrong and right password, logout,
remember me, the throttled login page, the "Log out everywhere" button, the "Your sessions"
page (each with a second browser that is not Chromium), two-factor login (an authenticator
app enrolled, then password + code and password + recovery code), "confirm it's you" before
the security settings after a remembered login, and
"Log in with the development provider" through the provider's own page.

Drives Debian's Chromium (/usr/bin/chromium) through its matching ChromeDriver
(/usr/bin/chromedriver) with Selenium; nothing is downloaded. Without them the test skips,
unless CI=true: there it fails, since CI must run it. A screenshot of the login form showing
the error is saved to build/screenshots/demo-login-error.png.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser import browser_paths, submit_login, wait_until_replaced
from test_demo import (
    ANONYMOUS,
    DEV_WELCOME,
    ERROR,
    HTML,
    NAME,
    PASSWORD,
    DemoProcess,
    demo_process,
)

from passport_py.demo.app import DEMO_USERS

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = ROOT / "build" / "screenshots" / "demo-login-error.png"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoProcess]:
    browser_paths()
    with demo_process(tmp_path_factory.mktemp("demo") / "demo.log") as running:
        yield running


def path_of(driver: Any, demo: DemoProcess) -> str:
    url: str = driver.current_url
    assert url.startswith(demo.url), url
    return url.removeprefix(demo.url)


def test_login_wrong_password_right_password_and_logout_in_chromium(
    demo: DemoProcess, driver: Any
) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{demo.url}/secret")
    assert path_of(driver, demo) == "/login?next=%2Fsecret"
    assert driver.find_element(By.TAG_NAME, "h1").text == "Log in"
    assert driver.find_elements(By.CSS_SELECTOR, ".flash") == []

    submit_login(driver, NAME, "not-the-password")
    assert path_of(driver, demo) == "/login"
    alert = driver.find_element(By.CSS_SELECTOR, "p.flash.error[role=alert]")
    assert alert.text == ERROR
    assert alert.value_of_css_property("color") == "rgba(180, 35, 24, 1)"  # --danger, #b42318
    assert driver.find_element(By.NAME, "username").get_attribute("value") == ""
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(SCREENSHOT))

    submit_login(driver, NAME, PASSWORD)
    assert path_of(driver, demo) == "/secret"
    assert driver.find_element(By.TAG_NAME, "h1").text == "The secret page"
    body = driver.find_element(By.TAG_NAME, "body").text
    assert f"Only logged-in users see this, {NAME}." in body
    assert "Welcome back!" in body

    driver.get(f"{demo.url}/")
    assert f"Logged in as {NAME}." in driver.find_element(By.TAG_NAME, "body").text
    logout_button = driver.find_element(By.CSS_SELECTOR, "form[action='/logout'] button")
    logout_button.click()
    wait_until_replaced(driver, logout_button)
    assert path_of(driver, demo) == "/"
    assert "Nobody is logged in." in driver.find_element(By.TAG_NAME, "body").text

    driver.get(f"{demo.url}/secret")
    assert path_of(driver, demo) == "/login?next=%2Fsecret"
    assert driver.find_element(By.TAG_NAME, "h1").text == "Log in"


def test_remember_me_survives_the_end_of_the_session_in_chromium(
    demo: DemoProcess, driver: Any
) -> None:
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(f"{demo.url}/login")
    driver.find_element(By.NAME, "remember_me").click()
    submit_login(driver, NAME, PASSWORD)
    remembered = driver.get_cookie("remember_me")
    assert remembered is not None and remembered["httpOnly"] is True
    assert remembered["sameSite"] == "Lax"

    driver.delete_cookie("session")  # the browser was closed: its session cookie is gone
    driver.get(f"{demo.url}/")
    assert f"Logged in as {NAME}." in driver.find_element(By.TAG_NAME, "body").text
    rotated = driver.get_cookie("remember_me")
    assert rotated is not None and rotated["value"] != remembered["value"]

    logout_button = driver.find_element(By.CSS_SELECTOR, "form[action='/logout'] button")
    logout_button.click()
    # Wait for the logout's answer: navigating at once could cancel the POST in flight.
    wait_until_replaced(driver, logout_button)
    driver.get(f"{demo.url}/")
    assert driver.get_cookie("remember_me") is None
    assert "Nobody is logged in." in driver.find_element(By.TAG_NAME, "body").text


def test_log_out_everywhere_in_chromium_logs_the_other_browser_out(
    demo: DemoProcess, driver: Any
) -> None:
    from selenium.webdriver.common.by import By

    bob = {"username": "bob", "password": DEMO_USERS["bob"]}  # no other test logs bob in
    driver.delete_all_cookies()
    driver.get(f"{demo.url}/login")
    submit_login(driver, bob["username"], bob["password"])
    with httpx.Client(base_url=demo.url, headers=HTML) as phone:
        phone.post("/login", data=bob)
        assert "Logged in as <b>bob</b>." in phone.get("/").text

        driver.get(f"{demo.url}/")
        button = driver.find_element(By.CSS_SELECTOR, "form[action='/logout-everywhere'] button")
        assert button.text == "Log out everywhere"
        button.click()
        wait_until_replaced(driver, button)
        assert path_of(driver, demo) == "/"
        body = driver.find_element(By.TAG_NAME, "body").text
        assert ANONYMOUS in body
        assert "Logged out of 2 sessions." in body
        assert ANONYMOUS in phone.get("/").text


def test_log_in_with_the_development_provider_in_chromium(demo: DemoProcess, driver: Any) -> None:
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(f"{demo.url}/")
    assert ANONYMOUS in driver.find_element(By.TAG_NAME, "body").text
    button = driver.find_element(By.CSS_SELECTOR, "form[action='/auth/dev'] button")
    assert button.text == "Log in with the development provider"
    button.click()
    wait_until_replaced(driver, button)

    # The provider's own page, on its own loopback port: pick alice, approve.
    assert not driver.current_url.startswith(demo.url), driver.current_url
    assert "/authorize?" in driver.current_url
    assert driver.find_element(By.TAG_NAME, "h1").text == "Development OpenID provider"
    driver.find_element(By.ID, "user-alice").click()
    approve = driver.find_element(By.ID, "approve")
    approve.click()
    wait_until_replaced(driver, approve)

    assert path_of(driver, demo) == "/"
    body = driver.find_element(By.TAG_NAME, "body").text
    assert f"Logged in as {NAME}." in body
    assert DEV_WELCOME in body
    assert f"Development-provider accounts linked to you: {NAME}." in body


def test_your_sessions_page_ends_the_phones_session_in_chromium(
    demo: DemoProcess, driver: Any
) -> None:
    from selenium.webdriver.common.by import By

    bob = {"username": "bob", "password": DEMO_USERS["bob"]}
    driver.delete_all_cookies()
    driver.get(f"{demo.url}/login")
    submit_login(driver, bob["username"], bob["password"])
    phone_agent = "Mozilla/5.0 (Linux; Android 15; Pixel 9) Chrome/131.0 Mobile DemoPhone"
    with httpx.Client(base_url=demo.url, headers={**HTML, "user-agent": phone_agent}) as phone:
        phone.post("/login", data=bob)
        assert "Logged in as <b>bob</b>." in phone.get("/").text

        driver.find_element(By.LINK_TEXT, "Sessions").click()
        assert path_of(driver, demo) == "/sessions"
        cards = driver.find_elements(By.CSS_SELECTOR, "li.card")
        mine = [c for c in cards if "This session" in c.text]
        assert len(mine) == 1 and "Chrome on Linux" in mine[0].text
        (phones,) = [c for c in cards if "DemoPhone" in c.text]
        assert "Chrome on Android" in phones.text
        end = phones.find_element(By.TAG_NAME, "button")
        end.click()
        wait_until_replaced(driver, end)
        assert "That session has ended." in driver.find_element(By.TAG_NAME, "body").text
        assert "DemoPhone" not in driver.find_element(By.TAG_NAME, "main").text
        assert "Logged in as <b>bob</b>." not in phone.get("/").text

        phone.post("/login", data=bob)
        driver.get(f"{demo.url}/sessions")  # the phone's new session is listed once reloaded
        button = driver.find_element(By.CSS_SELECTOR, "form[action='/sessions/end-others'] button")
        button.click()
        wait_until_replaced(driver, button)
        assert len(driver.find_elements(By.CSS_SELECTOR, "li.card")) == 1
        assert "Logged in as <b>bob</b>." not in phone.get("/").text
        assert "Ended 1 other session." in driver.find_element(By.TAG_NAME, "body").text


def test_the_login_page_says_when_to_try_again_after_five_failures_in_chromium(
    demo: DemoProcess, driver: Any
) -> None:
    from selenium.webdriver.common.by import By

    # An account nobody has: the throttle answers the same whether or not it exists, and no
    # other test is held up by its wait.
    driver.delete_all_cookies()
    driver.get(f"{demo.url}/login")
    for _ in range(5):
        submit_login(driver, "mallory", "guess")
        assert ERROR in driver.find_element(By.TAG_NAME, "body").text
    submit_login(driver, "mallory", "guess")
    assert path_of(driver, demo) == "/login"
    alert = driver.find_element(By.CSS_SELECTOR, "[role=alert]").text
    assert alert == "Too many failed login attempts. Try again in 30 seconds."


def test_two_factor_login_with_an_app_and_a_recovery_code_in_chromium(
    demo: DemoProcess, driver: Any
) -> None:
    import time

    import pyotp
    from selenium.webdriver.common.by import By

    def body() -> str:
        text: str = driver.find_element(By.TAG_NAME, "body").text
        return text

    def submit(selector: str, value: str) -> None:
        field = driver.find_element(By.CSS_SELECTOR, selector)
        field.send_keys(value)
        form = field.find_element(By.XPATH, "./ancestor::form")
        form.find_element(By.CSS_SELECTOR, "button").click()
        wait_until_replaced(driver, form)

    def log_out() -> None:
        button = driver.find_element(By.CSS_SELECTOR, "nav form[action='/logout'] button")
        button.click()
        wait_until_replaced(driver, button)

    bob = DEMO_USERS["bob"]
    driver.delete_all_cookies()
    driver.get(f"{demo.url}/login")
    submit_login(driver, "bob", bob)
    driver.find_element(By.LINK_TEXT, "Security").click()
    link = driver.find_element(By.LINK_TEXT, "Set up an authenticator app")
    link.click()
    wait_until_replaced(driver, link)
    assert driver.find_element(By.CSS_SELECTOR, ".qr svg").is_displayed()
    key = driver.find_element(By.XPATH, "//p[starts-with(., 'Or type the key')]/code").text
    secret = key.replace(" ", "")
    used = pyotp.TOTP(secret).now()
    submit("#code", used)
    codes = [c.text for c in driver.find_elements(By.CSS_SELECTOR, "ul.codes code")]
    assert len(codes) == 10 and "Two-factor login is on." in body()
    log_out()

    # Password, then the app's code (the next step's: the enrollment spent this one).
    driver.get(f"{demo.url}/login")
    submit_login(driver, "bob", bob)
    assert path_of(driver, demo) == "/login/second-factor"
    submit("#code", pyotp.TOTP(secret).at(time.time() + 30))
    assert path_of(driver, demo) == "/" and "Logged in as bob." in body()
    log_out()

    # Password, then a recovery code; it works once.
    driver.get(f"{demo.url}/login")
    submit_login(driver, "bob", bob)
    submit("#recovery", codes[0])
    assert path_of(driver, demo) == "/" and "Logged in as bob." in body()

    # Turn it off again (a fresh login: no confirmation asked), so bob logs in as before.
    driver.get(f"{demo.url}/account/security")
    assert "9 unused recovery codes" in body()
    off = driver.find_element(By.CSS_SELECTOR, "form[action='/account/two-factor/off'] button")
    off.click()
    wait_until_replaced(driver, off)
    assert "Two-factor login is off." in body()


def test_a_remembered_login_confirms_the_password_before_security_settings_in_chromium(
    demo: DemoProcess, driver: Any
) -> None:
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(f"{demo.url}/login")
    driver.find_element(By.ID, "remember_me").click()
    submit_login(driver, NAME, PASSWORD)
    driver.delete_cookie("session")  # the browser was closed; remember-me brings alice back
    driver.get(f"{demo.url}/account/totp")
    assert path_of(driver, demo) == "/account/confirm?next=%2Faccount%2Ftotp"
    body = driver.find_element(By.TAG_NAME, "body").text
    assert "Please confirm it's you to continue." in body
    username = driver.find_element(By.ID, "username")
    assert username.get_attribute("value") == NAME and username.get_attribute("readonly")
    password = driver.find_element(By.ID, "password")
    password.send_keys(PASSWORD)
    form = password.find_element(By.XPATH, "./ancestor::form")
    form.find_element(By.TAG_NAME, "button").click()
    wait_until_replaced(driver, form)
    assert path_of(driver, demo) == "/account/totp"
    assert driver.find_element(By.CSS_SELECTOR, ".qr svg").is_displayed()


def test_passkeys_add_rename_log_in_and_delete_in_chromium(demo: DemoProcess, driver: Any) -> None:
    from passkey_browser import on_localhost, virtual_authenticator, wait_for_page
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By

    url = on_localhost(demo.url)  # passkeys need a domain: the demo's relying party is localhost
    with virtual_authenticator(driver):
        driver.delete_all_cookies()
        driver.get(f"{url}/login")
        submit_login(driver, NAME, PASSWORD)
        driver.get(f"{url}/account/passkeys")
        assert "No passkeys yet." in driver.find_element(By.TAG_NAME, "body").text
        driver.find_element(By.ID, "passkey-add").click()
        wait_for_page(driver, f"{url}/account/passkeys", "Passkey added: Chrome on Linux.")

        field = driver.find_element(By.CSS_SELECTOR, "input[name=name]")
        field.clear()
        field.send_keys("My laptop")
        form = field.find_element(By.XPATH, "./ancestor::form")
        form.find_element(By.TAG_NAME, "button").click()
        wait_until_replaced(driver, form)
        assert driver.find_element(By.TAG_NAME, "h2").text == "My laptop"

        logout = driver.find_element(By.CSS_SELECTOR, "nav form[action='/logout'] button")
        logout.click()
        wait_until_replaced(driver, logout)
        driver.get(f"{url}/login")
        # No username, no password: the button, or the autofill's request (conditional UI),
        # which the virtual authenticator may answer first and so replace the page under us.
        with contextlib.suppress(WebDriverException):
            driver.find_element(By.ID, "passkey-login").click()
        wait_for_page(driver, f"{url}/", f"Logged in as {NAME}.")

        driver.get(f"{url}/account/passkeys")
        delete = driver.find_element(
            By.CSS_SELECTOR, "form[action='/account/passkeys/delete'] button"
        )
        delete.click()
        wait_until_replaced(driver, delete)
        assert "No passkeys yet." in driver.find_element(By.TAG_NAME, "body").text
