"""The README's app (Starlette and Flask) and the Starlette and Flask quickstarts, each saved
as a file the way a reader would, served by a real server and toured in headless Chromium:
protected page -> login form, wrong password -> the message the page promises, right password
-> the protected page, logout button -> anonymous again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from app_servers import werkzeug_server
from browser import browser_paths
from tutorials import (
    Tour,
    page_source,
    served_by_uvicorn,
    served_in_thread,
    take_the_tour,
    write_app,
)

README_TOUR = Tour(
    protected="/",
    login="/login?next=%2F",
    username="alice",
    password="correct horse",
    failure="Wrong username or password.",
    failure_path="/login",
    success_path="/",
    success=("Hello, alice!",),
    logged_out_path="/login?next=%2F",  # "/" needs a login, so logging out lands on the form
    logged_out="Log in",
)

QUICKSTART_TOUR = Tour(
    protected="/account",
    login="/login?next=%2Faccount",
    username="alice",
    password="wonderland",
    failure="Incorrect username or password.",
    failure_path="/login",
    success_path="/account",
    success=("Account of alice.", "Welcome back!"),
    logged_out_path="/",
    logged_out="Hello, stranger.",
)


@pytest.fixture(scope="module")
def readme_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    browser_paths()
    return write_app(
        tmp_path_factory.mktemp("readme"), page_source("README.md", "A complete Starlette app")
    )


def test_readme_starlette_app_under_uvicorn_in_chromium(
    readme_app: Path, driver: Any, tmp_path: Path
) -> None:
    with served_by_uvicorn(readme_app, tmp_path / "uvicorn.log") as server:
        take_the_tour(driver, server.url, README_TOUR)


def test_readme_flask_app_under_werkzeug_in_chromium(readme_app: Path, driver: Any) -> None:
    with served_in_thread(readme_app, "readme_flask_app", werkzeug_server, attr="flask_app") as url:
        take_the_tour(driver, url, README_TOUR)


def test_starlette_quickstart_under_uvicorn_in_chromium(
    driver: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    source = page_source("docs/starlette.md", "Starlette quickstart", blocks=1)
    directory = write_app(tmp_path_factory.mktemp("starlette-quickstart"), source)
    with served_by_uvicorn(directory, directory / "uvicorn.log") as server:
        take_the_tour(driver, server.url, QUICKSTART_TOUR)


def test_flask_quickstart_under_werkzeug_in_chromium(
    driver: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    source = page_source("docs/flask.md", "Flask quickstart", blocks=1)
    directory = write_app(tmp_path_factory.mktemp("flask-quickstart"), source)
    with served_in_thread(directory, "flask_quickstart_app", werkzeug_server) as url:
        take_the_tour(driver, url, QUICKSTART_TOUR)
