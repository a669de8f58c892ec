"""A docs page's example as a real app under a real server, for the tutorial browser tests.

    source = page_source("docs/starlette.md", "Starlette quickstart", blocks=1)
    with served_by_uvicorn(write_app(tmp_path, source), log) as server:
        take_the_tour(driver, server.url, tour)  # in Chromium

The page's example (its first block and the `<!-- continue -->` blocks after it, never the
hidden checks) is written to `<dir>/tutorial_app.py`, exactly what a reader pastes into a file.
Starlette apps run under uvicorn in a child process (`python -m uvicorn tutorial_app:app`),
Flask apps under Werkzeug's or waitress's server in a thread (tests/app_servers.py). The parser
is the one tests/test_docs_examples.py runs every example with. No pytest in here.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from browser import submit_login, wait_until_replaced
from test_docs_examples import ROOT, group, parse
from uvicorn_servers import Server, start_uvicorn

__all__ = [
    "Tour",
    "body_text",
    "log_out",
    "page_source",
    "path_of",
    "served_by_uvicorn",
    "served_in_thread",
    "take_the_tour",
    "write_app",
]

MODULE = "tutorial_app"
STARTUP_SECONDS = 30.0


def page_source(page: str, heading: str, *, blocks: int | None = None) -> str:
    """The code of the example that starts under `heading` in `page` (a path from the
    repository root): its first `blocks` code blocks (all of them by default), checks left out."""
    examples = [e for e in group(parse(ROOT / page)) if e.first.heading == heading]
    assert len(examples) == 1, f"{page} has {len(examples)} examples under {heading!r}"
    code = [block.code for block in examples[0].blocks if block.kind != "test"]
    return "\n\n".join(code[:blocks])


def write_app(directory: Path, source: str) -> Path:
    """Save `source` as `directory/tutorial_app.py`; return `directory`."""
    (directory / f"{MODULE}.py").write_text(source, encoding="utf-8")
    return directory


@contextmanager
def served_by_uvicorn(
    directory: Path,
    log: Path,
    *,
    attr: str = "app",
    workers: int = 1,
    env: dict[str, str] | None = None,
    port: int = 0,
) -> Iterator[Server]:
    """`tutorial_app:<attr>` of `directory` served by `python -m uvicorn` on a loopback port
    (an unused one unless the app must know it in advance); the server (its `url`, its `pids`)
    until the block ends, then stopped."""
    server = start_uvicorn(
        MODULE,
        f"{MODULE}:{attr}",
        log,
        {**os.environ, **(env or {})},
        workers=workers,
        app_dir=directory,
        is_factory=False,
        port=port,
    )
    try:
        server.wait_ready(time.monotonic() + STARTUP_SECONDS)
        yield server
    finally:
        server.stop()


def load_app(directory: Path, name: str) -> Any:
    """Import `directory/tutorial_app.py` as a module called `name` (unique per page, so two
    pages' apps never share a module) and return it."""
    spec = importlib.util.spec_from_file_location(name, directory / f"{MODULE}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # Flask finds its app's root path through sys.modules
    spec.loader.exec_module(module)
    return module


@contextmanager
def served_in_thread(
    directory: Path,
    name: str,
    server: Callable[[Any], AbstractContextManager[str]],
    *,
    attr: str = "app",
) -> Iterator[str]:
    """`tutorial_app.<attr>` (a WSGI app) served by `server` (say `werkzeug_server`) in this
    process; the base URL until the block ends."""
    module = load_app(directory, name)
    try:
        with server(getattr(module, attr)) as url:
            yield url
    finally:
        del sys.modules[name]


# -- driving a tutorial's pages in the browser ------------------------------------------------


@dataclass(frozen=True)
class Tour:
    """What a tutorial promises a visitor: where the login form is, what a wrong password
    shows, what the protected page shows once logged in, and where logging out leads."""

    protected: str  # a path that needs a login
    login: str  # where the browser is sent for it (the GET login page, with its `next`)
    username: str
    password: str
    failure: str  # text on the page a wrong password leads to
    failure_path: str
    success_path: str
    success: tuple[str, ...]  # texts on the page the right password leads to
    logged_out_path: str  # where the logout button leads
    logged_out: str  # text on that page
    logout_button: str = "form[action='/logout'] button"  # its CSS selector


def path_of(driver: Any, url: str) -> str:
    """The browser's current path and query, on the server at `url`."""
    current: str = driver.current_url
    assert current.startswith(url + "/"), current
    return current.removeprefix(url)


def body_text(driver: Any) -> str:
    from selenium.webdriver.common.by import By

    text: str = driver.find_element(By.TAG_NAME, "body").text
    return text


LOGOUT_BUTTON = "form[action='/logout'] button"


def log_out(driver: Any, button_selector: str = LOGOUT_BUTTON) -> None:
    """Press the page's logout button and wait for the answer."""
    from selenium.webdriver.common.by import By

    button = driver.find_element(By.CSS_SELECTOR, button_selector)
    button.click()
    # Navigating before the answer arrives could cancel the POST in flight.
    wait_until_replaced(driver, button)


def take_the_tour(driver: Any, url: str, tour: Tour) -> None:
    """Protected page -> login form; wrong password -> its message; right password -> the
    protected page; logout button -> anonymous again. Asserts every step."""
    driver.delete_all_cookies()
    driver.get(url + tour.protected)
    assert path_of(driver, url) == tour.login
    assert tour.failure not in body_text(driver)

    submit_login(driver, tour.username, "not-" + tour.password)
    assert path_of(driver, url) == tour.failure_path
    assert tour.failure in body_text(driver)

    submit_login(driver, tour.username, tour.password)
    assert path_of(driver, url) == tour.success_path
    body = body_text(driver)
    for text in tour.success:
        assert text in body, body

    log_out(driver, tour.logout_button)
    assert path_of(driver, url) == tour.logged_out_path
    assert tour.logged_out in body_text(driver)
    driver.get(url + tour.protected)
    assert path_of(driver, url) == tour.login
