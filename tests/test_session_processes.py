"""Two uvicorn processes of one app share their sessions through Redis (issue 5): a login
through one is a login on the other, and logging out everywhere on one ends the sessions on
both. The app is tests/session_server_app.py on a `RedisStore` under this test's prefix.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis_helpers import REDIS_URL
from users import PASSWORD
from uvicorn_servers import Server, start_uvicorn

SECRET = "session-processes-tests-secret-8d1e4b7a"
STARTUP_SECONDS = 20.0
BOB = {"username": "bob", "password": "builder"}
ALICE = {"username": "alice", "password": PASSWORD}


@pytest.fixture
def servers(redis_prefix: str, tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    """Processes A and B of the app, sharing one RedisStore prefix; stopped afterwards (their
    output is printed then, so a failing test's report shows it)."""
    env = {
        **os.environ,
        "REDIS_URL": REDIS_URL,
        "SESSION_PREFIX": redis_prefix,
        "SESSION_SECRET": SECRET,
    }
    started: list[Server] = []
    try:
        for name in ("A", "B"):
            log = tmp_path / f"server-{name}.log"
            started.append(start_uvicorn(name, "session_server_app:create_app", log, env))
        deadline = time.monotonic() + STARTUP_SECONDS
        for server in started:
            server.wait_ready(deadline)
        yield started[0], started[1]
    finally:
        for server in started:
            server.stop()
            print(f"--- server {server.name} ---\n{server.output()}")


def user_on(browser: httpx.Client, server: Server) -> Any:
    response = browser.get(f"{server.url}/whoami")
    assert response.status_code == 200, response.text
    return response.json()["user"]


def log_in(browser: httpx.Client, server: Server, form: dict[str, str]) -> None:
    response = browser.post(f"{server.url}/login", data=form)
    assert response.status_code == 200, response.text
    assert response.json() == {"user": form["username"]}


def test_a_login_through_one_process_holds_on_the_other_and_logout_everywhere_ends_both(
    servers: tuple[Server, Server],
) -> None:
    a, b = servers
    # Cookies belong to the host, not the port: like a browser behind a load balancer, each
    # client sends its cookie to both processes.
    with (
        httpx.Client(timeout=5) as laptop,
        httpx.Client(timeout=5) as phone,
        httpx.Client(timeout=5) as bobs,
    ):
        log_in(laptop, a, ALICE)
        assert user_on(laptop, b) == "alice"
        log_in(phone, b, ALICE)
        assert user_on(phone, a) == "alice"
        log_in(bobs, b, BOB)
        captured = laptop.cookies["session"]

        response = laptop.post(f"{a.url}/logout-everywhere")
        assert response.status_code == 200, response.text
        assert response.json() == {"ended": 2}

        laptop.cookies.set("session", captured)  # replayed: the ended session, not a new one
        for browser in (laptop, phone):
            assert user_on(browser, a) is None
            assert user_on(browser, b) is None
        assert user_on(bobs, a) == "bob"
        assert user_on(bobs, b) == "bob"
