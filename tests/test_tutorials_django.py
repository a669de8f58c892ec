"""docs/django.md followed literally, served by `manage.py runserver` and used in Chromium.

The project is what a reader gets: `django-admin startproject`, `startapp`, the page's edits to
`mysite/settings.py` and `mysite/urls.py`, its `accounts/passport.py` and `accounts/views.py`
(with the class-based views of section 4 added), `migrate` and `createsuperuser`, all in a
temporary directory (tests/tutorial_project.py reads the page). Then headless Chromium logs in
past a wrong password and out again, and opens the admin; httpx checks what Chromium cannot
see: the headers startproject's middleware adds, and that the token view takes an API client's
POST without a CSRF token while the login form still needs one.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser import submit_login, wait_until_replaced
from tutorial_project import Project, follow, runserver, steps

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "django.md"
SECTIONS = ("A complete app", "4. Class-based views and async views")
#: What the page tells the reader to type at createsuperuser's password prompt.
PASSWORD = "down the rabbit hole"
ERROR = "Incorrect username or password."


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return follow(PAGE, SECTIONS, tmp_path_factory.mktemp("django-tutorial"), PASSWORD)


@pytest.fixture(scope="module")
def base(project: Project, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("runserver") / "runserver.log"
    with runserver(project, log) as url:
        yield url


def path_of(driver: Any, base: str) -> str:
    url: str = driver.current_url
    assert url.startswith(base), url
    return url.removeprefix(base)


def text_of(driver: Any) -> str:
    from selenium.webdriver.common.by import By

    text: str = driver.find_element(By.TAG_NAME, "body").text
    return text


# -- the page itself ---------------------------------------------------------------------


def test_the_page_tells_the_reader_the_password_the_tutorial_uses() -> None:
    assert f"`{PASSWORD}`" in PAGE.read_text(encoding="utf-8")


def test_every_snippet_of_the_tutorial_names_its_file() -> None:
    files = {step.file for step in steps(PAGE, SECTIONS) if step.lang != "console"}
    assert files == {
        "mysite/settings.py",
        "mysite/urls.py",
        "accounts/passport.py",
        "accounts/views.py",
    }


def test_the_settings_keep_what_startproject_wrote(project: Project) -> None:
    settings = (project.directory / "mysite" / "settings.py").read_text(encoding="utf-8")
    for kept in (
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "django.contrib.staticfiles",
    ):
        assert f"'{kept}'," in settings
    assert "django.contrib.auth.middleware.AuthenticationMiddleware" not in settings


def test_the_pages_password_passes_the_projects_password_validators(project: Project) -> None:
    # With these validators createsuperuser's prompt accepts it without asking to bypass them.
    check = (
        "from django.contrib.auth.password_validation import validate_password\n"
        "from django.contrib.auth.models import User\n"
        f"validate_password({PASSWORD!r}, User.objects.get(username='alice'))\n"
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", check],
        cwd=project.directory,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


# -- in Chromium -------------------------------------------------------------------------


def test_a_visitor_is_sent_to_login_refused_a_wrong_password_let_in_and_logged_out(
    base: str, fresh_driver: Any
) -> None:
    from selenium.webdriver.common.by import By

    fresh_driver.get(base + "/account/")
    assert path_of(fresh_driver, base) == "/login/?next=%2Faccount%2F"

    submit_login(fresh_driver, "alice", "not her password")
    assert path_of(fresh_driver, base) == "/login/"
    assert fresh_driver.find_element(By.CSS_SELECTOR, "p.error").text == ERROR

    submit_login(fresh_driver, "alice", PASSWORD)
    assert path_of(fresh_driver, base) == "/account/"  # where login_required found her
    assert "Account of alice." in text_of(fresh_driver)
    assert "Welcome back!" in text_of(fresh_driver)

    button = fresh_driver.find_element(By.XPATH, "//button[text()='Log out']")
    button.click()
    wait_until_replaced(fresh_driver, button)
    assert path_of(fresh_driver, base) == "/"
    assert "Hello, stranger." in text_of(fresh_driver)
    fresh_driver.get(base + "/account/")
    assert path_of(fresh_driver, base) == "/login/?next=%2Faccount%2F"


def test_the_admin_logs_in_through_the_login_page_and_renders_with_its_stylesheets(
    base: str, fresh_driver: Any
) -> None:
    from selenium.webdriver.common.by import By

    fresh_driver.get(base + "/admin/")
    assert path_of(fresh_driver, base) == "/login/?next=/admin/"  # by way of /admin/login/
    submit_login(fresh_driver, "alice", PASSWORD)
    assert path_of(fresh_driver, base) == "/admin/"
    assert fresh_driver.find_element(By.ID, "site-name").text == "Django administration"
    styled = fresh_driver.execute_script(
        "return [...document.styleSheets].filter("
        "  s => s.href && s.href.endsWith('/static/admin/css/base.css') && s.cssRules.length"
        ").length"
    )
    assert styled == 1  # served by staticfiles under runserver, and parsed
    header = fresh_driver.find_element(By.ID, "header").value_of_css_property("background-color")
    assert header not in {"rgba(0, 0, 0, 0)", "transparent"}


# -- what a browser does not show --------------------------------------------------------


def test_the_login_page_may_not_be_framed(base: str) -> None:
    response = httpx.get(base + "/login/")
    assert response.status_code == 200
    assert response.headers["x-frame-options"] == "DENY"


def test_security_middleware_headers_are_sent(base: str) -> None:
    response = httpx.get(base + "/login/")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


def test_common_middleware_adds_the_missing_slash(base: str) -> None:
    response = httpx.get(base + "/account")
    assert response.status_code == 301
    assert response.headers["location"] == "/account/"


def test_the_token_view_answers_an_api_client_without_a_csrf_token(base: str) -> None:
    response = httpx.post(base + "/cbv/token/", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 200
    assert response.json() == {"user": "alice"}
    assert "sessionid" not in response.cookies  # session=False: nothing to forge a request with


def test_the_token_view_refuses_a_wrong_password(base: str) -> None:
    response = httpx.post(base + "/cbv/token/", data={"username": "alice", "password": "nope"})
    assert response.status_code == 401


def test_the_login_form_still_needs_its_csrf_token(base: str) -> None:
    response = httpx.post(base + "/login/", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 403
