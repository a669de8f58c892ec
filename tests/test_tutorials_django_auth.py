"""docs/coming-from-django-auth.md followed literally, served by `manage.py runserver` and used
in Chromium, before and after the move to passport_py.

Three projects are built from the page in temporary directories (tests/tutorial_project.py
reads it): "before" (Django's backend, `authenticate()` and `login()`), "after" (the whole
page, with the section that logs other sessions out when the password changes) and
"after, ids only" (the move without that section). The same login flow must work on the first
two; a password change must log another browser out on those two and, as the page warns, not
on the third.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from browser import wait_until_replaced
from tutorial_project import follow, run_command, runserver, steps

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "coming-from-django-auth.md"
BEFORE = "Before: a backend, `authenticate()` and `login()`"
MOVE = "Before and after"
HASH = "Logging other sessions out when the password changes"
BUILDS = {"before": (BEFORE,), "after": (MOVE, HASH), "after, ids only": (MOVE,)}
#: What the page tells the reader to type at createsuperuser's password prompt.
PASSWORD = "down the rabbit hole"
ERROR = "Incorrect e-mail or password."


class Site:
    """A project built from the page and served by runserver."""

    def __init__(self, directory: Path, base: str) -> None:
        self.directory = directory
        self.base = base

    def manage_shell(self, code: str) -> None:
        run_command([sys.executable, "manage.py", "shell", "-c", code], self.directory)


class Builds:
    """Each build of the page, made and served on first use (the tests ask for them in
    different orders), and stopped with `servers`."""

    def __init__(self, servers: ExitStack, workdirs: pytest.TempPathFactory) -> None:
        self.servers = servers
        self.workdirs = workdirs
        self.running: dict[str, Site] = {}

    def __getitem__(self, name: str) -> Site:
        if name not in self.running:
            workdir = self.workdirs.mktemp("django-auth-" + re.sub(r"\W+", "-", name))
            project = follow(PAGE, BUILDS[name], workdir, PASSWORD)
            base = self.servers.enter_context(runserver(project, workdir / "runserver.log"))
            self.running[name] = Site(project.directory, base)
        return self.running[name]


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Builds]:
    with ExitStack() as servers:
        yield Builds(servers, tmp_path_factory)


@pytest.fixture
def site(request: pytest.FixtureRequest, builds: Builds) -> Site:
    """The build the test is parametrized with (indirectly)."""
    return builds[request.param]


def path_of(driver: Any, site: Site) -> str:
    url: str = driver.current_url
    assert url.startswith(site.base), url
    return url.removeprefix(site.base)


def log_in(driver: Any, email: str, password: str) -> None:
    """Fill the login form on the current page, submit it, and wait for the next page."""
    from selenium.webdriver.common.by import By

    form = driver.find_element(By.CSS_SELECTOR, "form[method=post]")
    form.find_element(By.NAME, "email").send_keys(email)
    form.find_element(By.NAME, "password").send_keys(password)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_until_replaced(driver, form)


def body_text(driver: Any) -> str:
    from selenium.webdriver.common.by import By

    text: str = driver.find_element(By.TAG_NAME, "body").text
    return text


def test_every_snippet_names_its_file() -> None:
    files = {step.file for step in steps(PAGE, (MOVE, HASH)) if step.lang != "console"}
    assert files == {
        "mysite/settings.py",
        "mysite/urls.py",
        "accounts/backends.py",
        "accounts/views.py",
    }


@pytest.mark.parametrize("site", list(BUILDS), indirect=True)
def test_a_visitor_logs_in_with_her_email_past_a_wrong_password_and_logs_out(
    site: Site, fresh_driver: Any
) -> None:
    from selenium.webdriver.common.by import By

    fresh_driver.get(site.base + "/orders/")
    assert path_of(fresh_driver, site) == "/login/?next=/orders/"
    log_in(fresh_driver, "alice@example.com", "not her password")
    assert path_of(fresh_driver, site) == "/login/"
    assert fresh_driver.find_element(By.CSS_SELECTOR, "p.error").text == ERROR

    fresh_driver.get(site.base + "/orders/")
    log_in(fresh_driver, "ALICE@example.com", PASSWORD)  # the backend ignores the e-mail's case
    assert path_of(fresh_driver, site) == "/orders/"
    assert "Orders of alice@example.com." in body_text(fresh_driver)

    button = fresh_driver.find_element(By.XPATH, "//button[text()='Log out']")
    button.click()
    wait_until_replaced(fresh_driver, button)
    assert path_of(fresh_driver, site) == "/login/"
    fresh_driver.get(site.base + "/orders/")
    assert path_of(fresh_driver, site) == "/login/?next=/orders/"


@pytest.mark.parametrize(
    ("site", "logged_out"),
    [("before", True), ("after", True), ("after, ids only", False)],
    indirect=["site"],
)
def test_a_password_change_elsewhere_logs_the_session_out_unless_only_ids_are_stored(
    site: Site, logged_out: bool, fresh_driver: Any
) -> None:
    site.manage_shell(
        "from django.contrib.auth.models import User\n"
        "User.objects.create_user('bob', 'bob@example.com', 'a builder of things')\n"
    )
    fresh_driver.get(site.base + "/login/")
    log_in(fresh_driver, "bob@example.com", "a builder of things")
    assert path_of(fresh_driver, site) == "/orders/"

    site.manage_shell(
        "from django.contrib.auth.models import User\n"
        "bob = User.objects.get(username='bob')\n"
        "bob.set_password('a new password for bob')\n"
        "bob.save()\n"
    )
    fresh_driver.get(site.base + "/orders/")
    expected = "/login/?next=/orders/" if logged_out else "/orders/"
    assert path_of(fresh_driver, site) == expected  # "/orders/": what the page's last section fixes


@pytest.mark.parametrize("site", ["after", "after, ids only"], indirect=True)
def test_staff_reach_the_admin_through_the_login_page_after_the_move(
    site: Site, fresh_driver: Any
) -> None:
    from selenium.webdriver.common.by import By

    fresh_driver.get(site.base + "/admin/")
    assert path_of(fresh_driver, site) == "/login/?next=/admin/"  # by way of /admin/login/
    log_in(fresh_driver, "alice@example.com", PASSWORD)
    assert path_of(fresh_driver, site) == "/admin/"
    assert fresh_driver.find_element(By.ID, "site-name").text == "Django administration"
