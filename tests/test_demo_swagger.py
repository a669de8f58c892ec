"""The demo's Swagger UI (`/api/docs`) in headless Chromium, as a person uses it: log in through
the demo's pages and copy the API token from the account page, open the API docs, "Try it out"
and "Execute" on a protected operation without authorizing (401), then press Authorize and give
the token as the bearer token or as the API key (200 with the user), fill a path parameter, and
meet a missing scope (403). The page loads nothing from outside the demo. A screenshot of the
authorized answer is saved to build/screenshots/demo-api-docs.png.

Drives Swagger UI's own DOM (the Authorize button and dialog, `.try-out__btn`, `.execute`, the
live response's status cell) with explicit waits. Skips without Chromium, fails when CI=true.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import browser_paths, submit_login
from test_demo import DemoProcess, demo_process

from passport_py.demo.app import DEMO_USERS

SCREENSHOT = Path(__file__).resolve().parents[1] / "build" / "screenshots" / "demo-api-docs.png"
WAIT = 15  # seconds; Swagger UI renders after fetching the schema, the 1.5 MB bundle first


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoProcess]:
    browser_paths()
    with demo_process(tmp_path_factory.mktemp("demo") / "demo.log") as running:
        yield running


@pytest.fixture(scope="module")
def tokens(demo: DemoProcess, driver: Any) -> dict[str, str]:
    """Each demo user's API token, read off the account page after logging in with the form."""
    from selenium.webdriver.common.by import By

    found = {}
    for name, password in DEMO_USERS.items():
        driver.delete_all_cookies()
        driver.get(f"{demo.url}/login")
        submit_login(driver, name, password)
        code = driver.find_element(By.XPATH, "//p[starts-with(., 'Your API token:')]/code")
        found[name] = code.text
    # The API ignores sessions (session=False): no test below is helped by a login cookie.
    driver.delete_all_cookies()
    return found


def wait(driver: Any) -> Any:
    from selenium.webdriver.support.wait import WebDriverWait

    return WebDriverWait(driver, WAIT)


def open_docs(driver: Any, demo: DemoProcess) -> None:
    """Load the API docs afresh (Swagger UI forgets its authorizations on reload)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    driver.get(f"{demo.url}/api/docs")
    wait(driver).until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, ".auth-wrapper .btn.authorize"))
    )
    wait(driver).until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".opblock")))


def authorize(driver: Any, scheme: str, value: str) -> None:
    """Authorize in the dialog: `value` in the form of the security scheme named `scheme`."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    driver.find_element(By.CSS_SELECTOR, ".auth-wrapper .btn.authorize").click()
    container = wait(driver).until(
        ec.visibility_of_element_located(
            (By.XPATH, f"//div[@class='auth-container'][.//h4/code[text()='{scheme}']]")
        )
    )
    container.find_element(By.CSS_SELECTOR, "input").send_keys(value)
    container.find_element(By.CSS_SELECTOR, "button.authorize[type=submit]").click()
    # Once applied, the scheme's form offers Logout instead of Authorize.
    wait(driver).until(
        lambda _: "Logout" in [b.text for b in container.find_elements(By.TAG_NAME, "button")]
    )
    container.find_element(By.CSS_SELECTOR, "button.btn-done").click()
    wait(driver).until(ec.invisibility_of_element_located((By.CSS_SELECTOR, ".dialog-ux")))


def try_it_out(driver: Any, method: str, path: str, **parameters: str) -> tuple[str, Any]:
    """Expand the operation, "Try it out", fill `parameters`, "Execute"; the live response's
    status code and JSON body (None when it has none)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    block = driver.find_element(
        By.XPATH,
        f"//div[contains(@class, 'opblock-{method}')]"
        f"[.//*[contains(@class, 'opblock-summary-path') and @data-path='{path}']]",
    )
    block.find_element(By.CSS_SELECTOR, ".opblock-summary-control").click()
    button = wait(driver).until(lambda _: block.find_element(By.CSS_SELECTOR, ".try-out__btn"))
    wait(driver).until(ec.element_to_be_clickable(button)).click()
    for name, value in parameters.items():
        field = block.find_element(By.CSS_SELECTOR, f"tr[data-param-name='{name}'] input")
        field.clear()
        field.send_keys(value)
    block.find_element(By.CSS_SELECTOR, ".execute").click()
    status = wait(driver).until(
        lambda _: block.find_element(
            By.CSS_SELECTOR, ".live-responses-table .response .response-col_status"
        )
    )
    shown = block.find_elements(
        By.CSS_SELECTOR, ".live-responses-table .response-col_description pre"
    )
    body = shown[0].text if shown else ""
    # The cell reads "401" then, for a status the schema does not list, "Undocumented".
    return status.text.splitlines()[0], json.loads(body) if body.strip() else None


def test_without_authorizing_the_protected_operation_answers_401(
    demo: DemoProcess, driver: Any, tokens: dict[str, str]
) -> None:
    open_docs(driver, demo)
    assert try_it_out(driver, "get", "/me") == ("401", {"detail": "Unauthorized"})


def test_authorized_with_the_bearer_token_the_operation_answers_200_with_the_user(
    demo: DemoProcess, driver: Any, tokens: dict[str, str]
) -> None:
    from selenium.webdriver.common.by import By

    open_docs(driver, demo)
    authorize(driver, "bearer", tokens["alice"])
    assert try_it_out(driver, "get", "/me") == ("200", {"id": 1, "username": "alice"})
    answer = driver.find_element(By.CSS_SELECTOR, ".live-responses-table")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", answer)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(SCREENSHOT))


def test_authorized_with_the_api_key_the_operation_answers_200_with_the_user(
    demo: DemoProcess, driver: Any, tokens: dict[str, str]
) -> None:
    open_docs(driver, demo)
    authorize(driver, "apikey", tokens["bob"])
    assert try_it_out(driver, "get", "/me") == ("200", {"id": 2, "username": "bob"})


def test_try_it_out_sends_the_path_parameter_typed_in(
    demo: DemoProcess, driver: Any, tokens: dict[str, str]
) -> None:
    open_docs(driver, demo)
    authorize(driver, "bearer", tokens["bob"])
    answer = try_it_out(driver, "get", "/items/{item_id}", item_id="3")
    assert answer == ("200", {"id": 3, "name": "Lantern"})


def test_a_token_without_the_scope_sees_403_in_swagger_ui(
    demo: DemoProcess, driver: Any, tokens: dict[str, str]
) -> None:
    open_docs(driver, demo)
    authorize(driver, "apikey", tokens["bob"])
    status, _ = try_it_out(driver, "delete", "/items/{item_id}", item_id="2")
    assert status == "403"


def test_the_docs_page_loads_nothing_from_outside_the_demo(demo: DemoProcess, driver: Any) -> None:
    open_docs(driver, demo)
    loaded = driver.execute_script(
        "return performance.getEntriesByType('resource').map((entry) => entry.name)"
    )
    assert f"{demo.url}/api/docs-assets/swagger-ui-bundle.js" in loaded
    assert f"{demo.url}/api/openapi.json" in loaded
    assert [address for address in loaded if not address.startswith(f"{demo.url}/")] == []


def test_the_demo_prints_the_address_of_the_api_docs(demo: DemoProcess) -> None:
    assert f"Its JSON API's docs (Swagger UI): {demo.url}/api/docs\n" in demo.output()
