"""The demo's passkeys through Starlette's TestClient and a software authenticator: adding one
needs a recent login, the list renames and deletes (only the user's own), and the login page
logs in with one. Chromium does the same with its virtual authenticator in
test_demo_browser.py."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from passkey_authenticator import SoftAuthenticator
from starlette.testclient import TestClient
from test_demo import HTML, NAME, PASSWORD, SECRET

from passport_py.demo.app import DEMO_USERS, build_app
from passport_py.demo.passkeys import passkey_party
from passport_py.sessions import MemoryStore

ORIGIN = "http://localhost:8000"
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"


@pytest.fixture
def app() -> object:
    return build_app(SECRET, store=MemoryStore(), origins=["http://127.0.0.1:8000", ORIGIN])


def browser(app: object) -> TestClient:
    headers = {**HTML, "user-agent": CHROME, "origin": ORIGIN}
    return TestClient(app, base_url=ORIGIN, headers=headers, follow_redirects=False)  # type: ignore[arg-type]


@pytest.fixture
def alice(app: object) -> Iterator[TestClient]:
    with browser(app) as client:
        assert client.post("/login", data={"username": NAME, "password": PASSWORD}).is_redirect
        yield client


def add_passkey(client: TestClient, device: SoftAuthenticator) -> None:
    options = client.get("/account/passkeys/options")
    assert options.status_code == 200
    added = client.post("/account/passkeys/add", json=device.create(options.text))
    assert added.json() == {"redirect": "/account/passkeys"}, added.text


def ids(page: str) -> list[str]:
    """The credential ids the page's forms carry (each passkey has a rename and a delete)."""
    return sorted(set(re.findall(r'name="id" value="([A-Za-z0-9_-]+)"', page)))


def test_the_relying_party_is_the_first_origin_named_by_a_domain() -> None:
    rp = passkey_party(["http://127.0.0.1:8001", "http://localhost:8001"])
    assert (rp.id, list(rp.origins)) == ("localhost", ["http://localhost:8001"])
    assert passkey_party([]).id == "localhost"


def test_add_a_passkey_then_log_in_with_it_and_no_password(app: object, alice: TestClient) -> None:
    device = SoftAuthenticator(ORIGIN)
    add_passkey(alice, device)
    page = alice.get("/account/passkeys").text
    assert "Chrome on Linux" in page and "Passkey added: Chrome on Linux." in page
    with browser(app) as later:
        assert 'autocomplete="username webauthn"' in later.get("/login").text
        options = later.get("/login/passkey/options").text
        done = later.post("/login/passkey", json=device.get(options))
        assert done.headers["location"] == "/"
        assert f"Logged in as <b>{NAME}</b>." in later.get("/").text


def test_rename_and_delete_only_the_users_own_passkeys(app: object, alice: TestClient) -> None:
    add_passkey(alice, SoftAuthenticator(ORIGIN))
    (mine,) = ids(alice.get("/account/passkeys").text)
    alice.post("/account/passkeys/rename", data={"id": mine, "name": "  Work laptop  "})
    assert "<h2>Work laptop</h2>" in alice.get("/account/passkeys").text
    with browser(app) as bob:
        bob.post("/login", data={"username": "bob", "password": DEMO_USERS["bob"]})
        bob.post("/account/passkeys/rename", data={"id": mine, "name": "mine now"})
        bob.post("/account/passkeys/delete", data={"id": mine})
        assert "That passkey was already deleted." in bob.get("/account/passkeys").text
    assert "<h2>Work laptop</h2>" in alice.get("/account/passkeys").text
    for bad in ("", "!!", "x" * 5000):
        assert alice.post("/account/passkeys/delete", data={"id": bad}).status_code == 303
    alice.post("/account/passkeys/delete", data={"id": mine})
    assert "No passkeys yet." in alice.get("/account/passkeys").text


def test_adding_a_passkey_needs_a_recent_login(app: object) -> None:
    with browser(app) as laptop:
        laptop.post("/login", data={"username": NAME, "password": PASSWORD, "remember_me": "on"})
        remembered = {"remember_me": laptop.cookies["remember_me"]}
    with TestClient(  # type: ignore[arg-type]
        app, base_url=ORIGIN, headers=HTML, cookies=remembered, follow_redirects=False
    ) as later:
        answer = later.get("/account/passkeys")
        assert answer.headers["location"].startswith("/account/confirm?next=")
        api = later.get("/account/passkeys/options", headers={"accept": "application/json"})
        assert api.status_code == 401


def test_a_passkey_for_another_site_does_not_log_in(app: object, alice: TestClient) -> None:
    device = SoftAuthenticator(ORIGIN)
    add_passkey(alice, device)
    with browser(app) as later:
        options = later.get("/login/passkey/options").text
        forged = device.get(options, origin="https://evil.example")
        assert later.post("/login/passkey", json=forged).status_code == 401
        options = later.get("/login/passkey/options").text
        garbled = later.post(
            "/login/passkey", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert garbled.status_code == 400
        assert "Logged in as" not in later.get("/").text
