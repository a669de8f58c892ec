"""The demo app: its login flow through Starlette's TestClient, and `python -m passport_py.demo`.

`demo_process()` is shared with test_demo_browser.py, which drives the same flow in Chromium.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient

from passport_py.demo.app import DEMO_USERS, build_app

HTML = {"accept": "text/html,application/xhtml+xml"}
ERROR = "Incorrect username or password."
NAME, PASSWORD = next(iter(DEMO_USERS.items()))


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(build_app("demo-tests-secret"), follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture(autouse=True)
def fresh_cookies(client: TestClient) -> None:
    client.cookies.clear()


def test_secret_page_sends_a_browser_to_the_login_form(client: TestClient) -> None:
    response = client.get("/secret", headers=HTML)
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert location.path == "/login"
    assert parse_qs(location.query) == {"next": ["/secret"]}
    assert response.headers["cache-control"] == "no-store"
    form = client.get(response.headers["location"], headers=HTML)
    assert form.status_code == 200
    assert '<form method="post" action="/login?next=/secret">' in form.text
    assert 'name="username"' in form.text
    assert 'name="password" type="password"' in form.text


def test_secret_page_answers_an_api_client_401(client: TestClient) -> None:
    response = client.get("/secret", headers={"accept": "application/json"})
    assert response.status_code == 401
    assert response.text == "Unauthorized"


def test_wrong_password_shows_the_error_on_the_login_form(client: TestClient) -> None:
    client.get("/secret", headers=HTML)
    response = client.post("/login", data={"username": NAME, "password": "nope"})
    assert response.status_code == 302
    assert response.headers["location"] == "/login"
    form = client.get("/login", headers=HTML)
    assert f'<p class="flash error" role="alert">{ERROR}</p>' in form.text
    assert ERROR not in client.get("/login", headers=HTML).text  # a flash shows once


def test_unknown_user_gets_the_same_error_as_a_wrong_password(client: TestClient) -> None:
    response = client.post("/login", data={"username": "mallory", "password": PASSWORD})
    assert response.headers["location"] == "/login"
    assert ERROR in client.get("/login", headers=HTML).text


def test_right_password_returns_to_the_secret_page_with_the_username(
    client: TestClient,
) -> None:
    client.get("/secret", headers=HTML)
    response = client.post("/login?next=/secret", data={"username": NAME, "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["location"] == "/secret"
    page = client.get("/secret", headers=HTML)
    assert page.status_code == 200
    assert f"Only logged-in users see this, {NAME}." in page.text
    assert "Welcome back!" in page.text
    assert page.headers["cache-control"] == "no-store"


def test_logout_sends_the_secret_page_back_to_login(client: TestClient) -> None:
    client.post("/login", data={"username": NAME, "password": PASSWORD})
    assert client.get("/secret", headers=HTML).status_code == 200
    response = client.post("/logout")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    home = client.get("/", headers=HTML)
    assert "Nobody is logged in." in home.text
    again = client.get("/secret", headers=HTML)
    assert again.status_code == 302
    assert urlsplit(again.headers["location"]).path == "/login"


def test_every_demo_user_can_log_in(client: TestClient) -> None:
    for name, password in DEMO_USERS.items():
        client.cookies.clear()
        client.post("/login", data={"username": name, "password": password})
        assert f"Logged in as <b>{name}</b>." in client.get("/", headers=HTML).text


def test_remember_me_logs_a_returning_browser_back_in(client: TestClient) -> None:
    fields = {"username": NAME, "password": PASSWORD, "remember_me": "on"}
    cookie = client.post("/login", data=fields).cookies["remember_me"]
    client.cookies.clear()  # the browser was closed: the session cookie is gone
    home = client.get("/", headers={**HTML, "cookie": f"remember_me={cookie}"})
    assert f"Logged in as <b>{NAME}</b>." in home.text
    assert home.cookies["remember_me"] != cookie  # rotated on use
    client.post("/logout")
    client.cookies.clear()
    again = client.get("/", headers={**HTML, "cookie": f"remember_me={cookie}"})
    assert "Nobody is logged in." in again.text


def test_without_the_box_no_remember_me_cookie_is_set(client: TestClient) -> None:
    response = client.post("/login", data={"username": NAME, "password": PASSWORD})
    assert "remember_me" not in response.cookies


def test_the_api_takes_the_token_shown_on_the_home_page(client: TestClient) -> None:
    client.post("/login", data={"username": NAME, "password": PASSWORD})
    page = client.get("/", headers=HTML).text
    token = page.split("Your API token: <code>", 1)[1].split("</code>", 1)[0]
    client.cookies.clear()
    answer = client.get("/api/me", headers={"authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    assert answer.json() == {"id": 1, "username": NAME}
    assert "authorization" in answer.headers["vary"].lower()
    assert answer.headers["cache-control"] == "no-store"


def test_the_api_refuses_a_missing_or_wrong_token(client: TestClient) -> None:
    missing = client.get("/api/me")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == 'Bearer realm="demo"'
    wrong = client.get("/api/me", headers={"authorization": "Bearer not-a-token"})
    assert wrong.status_code == 401
    assert 'error="invalid_token"' in wrong.headers["www-authenticate"]


# -- the process ------------------------------------------------------------------------------


@dataclass
class DemoProcess:
    """A running `python -m passport_py.demo`; `output()` is what it printed so far."""

    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def demo_process(log: Path, timeout: float = 20.0) -> Iterator[DemoProcess]:
    """Start the demo on a free loopback port and wait until it accepts connections."""
    port = free_port()
    env = {
        **os.environ,
        "DEMO_HOST": "127.0.0.1",
        "DEMO_PORT": str(port),
        "DEMO_SECRET": "demo-process-tests-secret",
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "passport_py.demo"],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
        )
    demo = DemoProcess(f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the demo exited early:\n{demo.output()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"the demo did not start:\n{demo.output()}") from None
                time.sleep(0.05)
        yield demo
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - only when uvicorn hangs
            process.kill()
            process.wait()


def test_python_m_passport_py_demo_serves_and_prints_the_users(tmp_path: Path) -> None:
    with demo_process(tmp_path / "demo.log") as demo:
        printed = demo.output()
    assert f"passport_py demo on {demo.url}/" in printed
    for name, password in DEMO_USERS.items():
        assert f"  {name} / {password}\n" in printed
