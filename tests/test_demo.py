"""The demo app: its login flow through Starlette's TestClient (with its sessions in memory
and in the real Redis), log out everywhere with two browsers, "Log in with the development
provider" and account linking against the real bundled OpenID provider (over HTTP on a
loopback port), and `python -m passport_py.demo`.

`demo_process()` is shared with test_demo_browser.py, which drives the same flow in Chromium.
"""

from __future__ import annotations

import html
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
import redis_helpers
from session_entries import STARLETTE, identity
from starlette.testclient import TestClient

from passport_py.demo.app import DEMO_USERS, REDIS_PREFIX, build_app, session_store
from passport_py.demo.dev_login import (
    DEV_CLIENT_ID,
    NOT_LINKED,
    TAKEN,
    DevProvider,
    start_dev_provider,
)
from passport_py.sessions import MemoryStore
from passport_py.sessions.redis import RedisStore

HTML = {"accept": "text/html,application/xhtml+xml"}
ERROR = "Incorrect username or password."
NAME, PASSWORD = next(iter(DEMO_USERS.items()))
SECRET = "demo-tests-secret-of-32-bytes-or-more"
IN_MEMORY = "Sessions live in the memory of this process; set REDIS_URL to keep them in Redis."
IN_REDIS = "Sessions live in Redis (REDIS_URL), shared by every process that uses it."
LOGGED_IN = f"Logged in as <b>{NAME}</b>."
ANONYMOUS = "Nobody is logged in."
DEV_BUTTON = (
    '<form method="post" action="/auth/dev">'
    '<button class="secondary">Log in with the development provider</button></form>'
)
DEV_WELCOME = "Welcome! You logged in with the development provider."


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    """A browser on the demo, with its sessions in memory whatever REDIS_URL says."""
    app = build_app(SECRET, store=MemoryStore())
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def browsers() -> Iterator[tuple[TestClient, TestClient]]:
    """Two browsers (a laptop and a phone) on a demo of their own."""
    app = build_app(SECRET, store=MemoryStore())
    with (
        TestClient(app, follow_redirects=False) as laptop,
        TestClient(app, follow_redirects=False) as phone,
    ):
        yield laptop, phone


def log_in(browser: TestClient, name: str = NAME, password: str = PASSWORD, **extra: str) -> None:
    response = browser.post("/login", data={"username": name, "password": password, **extra})
    assert response.headers["location"] == "/"


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


# -- server-side sessions and log out everywhere ----------------------------------------------


def test_the_cookie_carries_only_a_signed_id_and_the_store_holds_the_login() -> None:
    store = MemoryStore()
    with TestClient(build_app(SECRET, store=store), follow_redirects=False) as browser:
        log_in(browser)
        session_id, signature = browser.cookies["session"].split(".")
    assert len(session_id) == 43 and signature
    stored = store.sync.get(session_id)
    assert stored is not None
    record = json.loads(stored)
    assert record["user"] == "1"
    assert identity(record["data"]["passport"], STARLETTE) == {"user": 1}


def test_the_home_page_says_where_the_sessions_live(client: TestClient) -> None:
    assert IN_MEMORY in client.get("/", headers=HTML).text


def test_without_redis_url_the_sessions_live_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert isinstance(session_store(), MemoryStore)


def test_with_redis_url_the_sessions_live_in_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6399/3")
    store = session_store()  # connects on first use only
    assert isinstance(store, RedisStore)
    assert (store.url, store.prefix) == ("redis://127.0.0.1:6399/3", REDIS_PREFIX)


def test_a_logged_in_user_sees_the_log_out_everywhere_button(client: TestClient) -> None:
    log_in(client)
    home = client.get("/", headers=HTML).text
    assert (
        '<form method="post" action="/logout-everywhere">'
        '<button class="danger">Log out everywhere</button></form>' in home
    )
    client.cookies.clear()
    assert "/logout-everywhere" not in client.get("/", headers=HTML).text


def test_log_out_everywhere_logs_the_other_browser_out(
    browsers: tuple[TestClient, TestClient],
) -> None:
    laptop, phone = browsers
    log_in(laptop)
    log_in(phone)
    assert LOGGED_IN in laptop.get("/", headers=HTML).text
    response = phone.post("/logout-everywhere")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    home = phone.get("/", headers=HTML).text
    assert ANONYMOUS in home
    assert "Logged out of 2 sessions." in home
    assert ANONYMOUS in laptop.get("/", headers=HTML).text
    assert laptop.get("/secret", headers=HTML).status_code == 302


def test_log_out_everywhere_revokes_the_remember_me_cookies_too(
    browsers: tuple[TestClient, TestClient],
) -> None:
    laptop, phone = browsers
    log_in(laptop, remember_me="on")
    remembered = laptop.cookies["remember_me"]
    log_in(phone)
    phone.post("/logout-everywhere")
    home = laptop.get("/", headers=HTML)  # its session ended; its remember-me cookie is revoked
    assert ANONYMOUS in home.text
    assert "remember_me=; " in "\n".join(home.headers.get_list("set-cookie"))
    laptop.cookies.clear()  # the browser restarted with only its remember-me cookie
    again = laptop.get("/", headers={**HTML, "cookie": f"remember_me={remembered}"})
    assert ANONYMOUS in again.text


def test_log_out_everywhere_leaves_other_users_logged_in(
    browsers: tuple[TestClient, TestClient],
) -> None:
    laptop, phone = browsers
    log_in(laptop, "bob", DEMO_USERS["bob"], remember_me="on")
    log_in(phone)
    phone.post("/logout-everywhere")
    assert "Logged in as <b>bob</b>." in laptop.get("/", headers=HTML).text
    laptop.cookies.delete("session")  # bob's remember-me series survived as well
    assert "Logged in as <b>bob</b>." in laptop.get("/", headers=HTML).text


def test_log_out_everywhere_without_a_login_only_redirects(client: TestClient) -> None:
    response = client.post("/logout-everywhere")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert "set-cookie" not in response.headers


def test_log_out_everywhere_takes_only_post(client: TestClient) -> None:
    log_in(client)
    assert client.get("/logout-everywhere").status_code == 405
    assert LOGGED_IN in client.get("/", headers=HTML).text


def test_with_redis_log_out_everywhere_reaches_another_demo_process(
    redis_store: RedisStore, redis_prefix: str
) -> None:
    # Two demo apps on one Redis stand for two processes behind a load balancer.
    other_store = RedisStore(redis_helpers.REDIS_URL, prefix=redis_prefix)
    first, second = build_app(SECRET, store=redis_store), build_app(SECRET, store=other_store)
    try:
        with (
            TestClient(first, follow_redirects=False) as laptop,
            TestClient(second, follow_redirects=False) as phone,
        ):
            log_in(laptop)
            home = laptop.get("/", headers=HTML).text
            assert LOGGED_IN in home and IN_REDIS in home
            phone.cookies.set("session", laptop.cookies["session"])
            assert LOGGED_IN in phone.get("/", headers=HTML).text  # the same session
            phone.cookies.clear()
            log_in(phone)
            phone.post("/logout-everywhere")
            assert ANONYMOUS in laptop.get("/", headers=HTML).text
    finally:
        other_store.sync_close()


# -- "Log in with the development provider" ---------------------------------------------------


@pytest.fixture(scope="module")
def dev_provider() -> Iterator[DevProvider]:
    """The bundled provider on a loopback port, the demo registered at http://testserver."""
    provider, dev = start_dev_provider(["http://testserver"])
    try:
        yield dev
    finally:
        provider.stop()


@pytest.fixture(scope="module")
def dev_app_client(dev_provider: DevProvider) -> Iterator[TestClient]:
    app = build_app(SECRET, store=MemoryStore(), dev=dev_provider)
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def dev_client(dev_app_client: TestClient) -> TestClient:
    """A browser with no cookies on the demo with the development provider."""
    dev_app_client.cookies.clear()
    return dev_app_client


@pytest.fixture
def linking_client(dev_provider: DevProvider) -> Iterator[TestClient]:
    """A browser on a demo of its own (linking changes the demo's links)."""
    app = build_app(SECRET, store=MemoryStore(), dev=dev_provider)
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


def at_provider(location: str, username: str, decision: str = "approve") -> str:
    """What a person does on the provider's page at `location`: pick `username`, press
    Approve (or Deny). Returns where the provider sends the browser back to."""
    with httpx.Client() as http:
        page = http.get(location)
        assert page.status_code == 200
        form = re.search(r'<form method="post" action="([^"]+)" id="consent">', page.text)
        assert form is not None, page.text
        answer = http.post(
            urljoin(location, html.unescape(form[1])),
            data={"username": username, "decision": decision},
        )
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def dev_login(browser: TestClient, username: str, start: str = "/auth/dev", **kw: str) -> str:
    """The whole dance through the demo and the provider; returns where the callback sends
    the browser."""
    started = browser.post(start)
    assert started.status_code == 302
    callback = at_provider(started.headers["location"], username, **kw)
    answer = browser.get(callback)
    assert answer.status_code in (302, 303), answer.text
    return str(answer.headers["location"])


def test_the_home_page_offers_the_development_provider_login(dev_client: TestClient) -> None:
    assert DEV_BUTTON in dev_client.get("/", headers=HTML).text


def test_the_demo_without_a_provider_has_no_such_button(client: TestClient) -> None:
    assert "/auth/dev" not in client.get("/", headers=HTML).text
    assert client.post("/auth/dev").status_code == 404


def test_the_button_sends_the_browser_to_the_provider_with_state_nonce_and_pkce(
    dev_client: TestClient, dev_provider: DevProvider
) -> None:
    response = dev_client.post("/auth/dev")
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}" == dev_provider.issuer
    assert location.path == "/authorize"
    query = {name: values[0] for name, values in parse_qs(location.query).items()}
    assert query["client_id"] == DEV_CLIENT_ID
    assert query["redirect_uri"] == "http://testserver/auth/dev/callback"
    assert query["response_type"] == "code"
    assert query["scope"] == "openid profile email"
    assert query["code_challenge_method"] == "S256"
    assert len(query["state"]) >= 43 and len(query["nonce"]) >= 43


def test_the_provider_page_lets_the_user_pick_who_logs_in(dev_client: TestClient) -> None:
    location = dev_client.post("/auth/dev").headers["location"]
    page = httpx.get(location)
    assert page.status_code == 200
    assert f'<strong id="client">{DEV_CLIENT_ID}</strong>' in page.text
    for username in ("alice", "bob", "carol"):
        assert f'name="username" value="{username}"' in page.text
    assert 'id="approve"' in page.text and 'id="deny"' in page.text


def test_the_dance_logs_in_the_demo_user_linked_to_the_picked_account(
    dev_client: TestClient,
) -> None:
    assert dev_login(dev_client, "bob") == "/"
    home = dev_client.get("/", headers=HTML).text
    assert "Logged in as <b>bob</b>." in home
    assert DEV_WELCOME in home
    assert "Development-provider accounts linked to you: bob." in home


def test_the_dance_returns_to_the_page_that_asked_for_the_login(dev_client: TestClient) -> None:
    to_login = dev_client.get("/secret", headers=HTML).headers["location"]
    form = dev_client.get(to_login, headers=HTML).text
    assert '<form method="post" action="/auth/dev?next=/secret">' in form
    assert dev_login(dev_client, NAME, start="/auth/dev?next=/secret") == "/secret"
    page = dev_client.get("/secret", headers=HTML)
    assert f"Only logged-in users see this, {NAME}." in page.text


def test_an_unsafe_next_is_not_where_the_dance_returns(dev_client: TestClient) -> None:
    assert dev_login(dev_client, NAME, start="/auth/dev?next=//evil.example/") == "/"


def test_denying_on_the_provider_page_logs_nobody_in(dev_client: TestClient) -> None:
    assert dev_login(dev_client, NAME, decision="deny") == "/login"
    # Said plainly, not in the provider's RFC 6749 words.
    denied = "You pressed Deny at the development provider, so nobody was logged in."
    login_page = dev_client.get("/login", headers=HTML).text
    assert f'<p class="flash error" role="alert">{denied} ' in login_page
    assert "resource owner" not in login_page
    assert ANONYMOUS in dev_client.get("/", headers=HTML).text


def test_a_provider_account_linked_to_nobody_is_refused_with_the_reason(
    dev_client: TestClient,
) -> None:
    assert dev_login(dev_client, "carol") == "/login"
    assert (
        f'<p class="flash error" role="alert">{NOT_LINKED}</p>'
        in dev_client.get("/login", headers=HTML).text
    )
    assert ANONYMOUS in dev_client.get("/", headers=HTML).text


def test_a_replayed_callback_logs_nobody_in(dev_client: TestClient) -> None:
    started = dev_client.post("/auth/dev")
    callback = at_provider(started.headers["location"], NAME)
    assert dev_client.get(callback).headers["location"] == "/"
    dev_client.post("/logout")
    replayed = dev_client.get(callback)
    assert replayed.headers["location"] == "/login"
    error = "That sign-in was already used or was started in another browser"
    assert error in dev_client.get("/login", headers=HTML).text
    assert ANONYMOUS in dev_client.get("/", headers=HTML).text


def test_linking_needs_a_login(dev_client: TestClient) -> None:
    response = dev_client.post("/auth/dev/link", headers=HTML)
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert location.path == "/login"
    assert parse_qs(location.query) == {"next": ["/auth/dev/link"]}


def test_a_linked_account_logs_its_demo_user_in(linking_client: TestClient) -> None:
    log_in(linking_client)
    assert dev_login(linking_client, "carol", start="/auth/dev/link") == "/"
    home = linking_client.get("/", headers=HTML).text
    assert "Linked the development-provider account carol." in home
    assert "Development-provider accounts linked to you: alice, carol." in home
    assert LOGGED_IN in home  # linking left the login as it was
    linking_client.post("/logout")
    assert dev_login(linking_client, "carol") == "/"
    assert LOGGED_IN in linking_client.get("/", headers=HTML).text


def test_an_account_linked_to_another_user_cannot_be_linked(linking_client: TestClient) -> None:
    log_in(linking_client)
    assert dev_login(linking_client, "bob", start="/auth/dev/link") == "/"
    home = linking_client.get("/", headers=HTML).text
    assert f'<p class="flash error" role="alert">{TAKEN}</p>' in home
    assert "Development-provider accounts linked to you: alice." in home
    linking_client.post("/logout")
    assert dev_login(linking_client, "bob") == "/"
    assert "Logged in as <b>bob</b>." in linking_client.get("/", headers=HTML).text


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
        "DEMO_SECRET": "demo-process-tests-secret-of-32-bytes",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("REDIS_URL", None)  # sessions in memory: a test's demo leaves nothing in Redis
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


@pytest.fixture(scope="module")
def running_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoProcess]:
    with demo_process(tmp_path_factory.mktemp("demo") / "demo.log") as demo:
        yield demo


def test_python_m_passport_py_demo_serves_and_prints_the_users(running_demo: DemoProcess) -> None:
    printed = running_demo.output()
    assert f"passport_py demo on {running_demo.url}/" in printed
    for name, password in DEMO_USERS.items():
        assert f"  {name} / {password}\n" in printed
    assert f"{IN_MEMORY}\n" in printed
    provider = re.search(
        r"^Development OpenID provider on (http://127\.0\.0\.1:\d+)/ ", printed, re.M
    )
    assert provider is not None, printed
    assert "(its users: alice, bob, carol)" in printed


def test_python_m_passport_py_demo_logs_in_with_its_development_provider(
    running_demo: DemoProcess,
) -> None:
    with httpx.Client(base_url=running_demo.url, headers=HTML) as browser:
        started = browser.post("/auth/dev")
        assert started.status_code == 302
        callback = at_provider(started.headers["location"], "bob")
        assert callback.startswith(f"{running_demo.url}/auth/dev/callback?")
        answer = browser.get(callback)
        assert answer.status_code == 302
        assert answer.headers["location"] == "/"
        home = browser.get("/").text
    assert "Logged in as <b>bob</b>." in home
    assert DEV_WELCOME in home
