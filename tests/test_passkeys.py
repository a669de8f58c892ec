"""Passkeys through a real Starlette app (tests/passkey_apps.py) and a software authenticator:
registration behind step-up, passwordless login, second factor, and the script's serving."""

from __future__ import annotations

from typing import Any

import pytest
from factor_apps import FrozenClock
from passkey_apps import ORIGIN, PASSWORD, Store, create_app
from passkey_authenticator import SoftAuthenticator
from starlette.testclient import TestClient

from passport_py.errors import ConfigurationError
from passport_py.strategies.webauthn import RelyingParty, passkeys_script

JSON = {"accept": "application/json"}


class Site:
    """The app, its store, a browser session (`client`) and an authenticator (`device`)."""

    def __init__(self, **options: Any) -> None:
        self.store = Store()
        self.clock = FrozenClock(1_800_000_000.0)
        self.app = create_app(ORIGIN, self.store, self.clock, **options)
        self.client = TestClient(self.app, base_url=ORIGIN)
        self.device = SoftAuthenticator(ORIGIN)

    def password_login(self, user: str) -> None:
        answer = self.client.post(
            "/login", data={"username": user, "password": PASSWORD}, follow_redirects=False
        )
        assert answer.status_code == 302, answer.text

    def register(self, user: str, name: str = "Laptop") -> str:
        self.password_login(user)
        options = self.client.get("/passkeys/register/options", headers=JSON)
        assert options.status_code == 200
        credential = self.device.create(options.text)
        answer = self.client.post(
            "/passkeys/register", json={**credential, "extra": {"name": name}}
        )
        assert answer.status_code == 200, answer.text
        self.client.post("/logout")
        return str(answer.json()["id"])

    def options(self, path: str = "/passkeys/login/options") -> str:
        return self.client.get(path, headers=JSON).text

    def me(self) -> dict[str, Any]:
        return dict(self.client.get("/me").json())


@pytest.fixture
def site() -> Site:
    return Site()


def test_register_then_log_in_without_a_password(site: Site) -> None:
    credential_id = site.register("alice")
    owner, passkey = next(iter(site.store.passkeys.values()))
    assert owner == "alice" and passkey.credential_id_b64 == credential_id
    assert passkey.name == "Laptop" and passkey.user_handle == site.store.handles["alice"]
    assert passkey.transports == ("internal", "hybrid") and passkey.sign_count == 0
    assert passkey.aaguid == "00010203-0405-0607-0809-0a0b0c0d0e0f"
    assert site.me()["user"] is None
    answer = site.client.post("/passkeys/login", json=site.device.get(site.options()))
    assert answer.status_code == 200 and answer.json() == {"redirect": "/"}
    assert site.me() == {"user": "alice", "amr": ["hwk"]}
    assert site.store.of("alice")[0].sign_count == 1  # the counter grew: saved


def test_registration_options_exclude_existing_passkeys_and_need_a_fresh_login(
    site: Site,
) -> None:
    credential_id = site.register("alice")
    assert site.client.get("/passkeys/register/options", headers=JSON).status_code == 401
    site.password_login("alice")
    options = site.client.get("/passkeys/register/options", headers=JSON).json()
    assert [c["id"] for c in options["excludeCredentials"]] == [credential_id]
    assert options["authenticatorSelection"] == {
        "residentKey": "required",
        "requireResidentKey": True,
        "userVerification": "preferred",
    }
    assert options["rp"] == {"name": "Passkey tests", "id": "localhost"}
    site.clock.now += 301  # the login is no longer fresh: step-up asks for it again
    stale = site.client.get("/passkeys/register/options", headers=JSON)
    assert stale.status_code == 401 and stale.json()["error"] == "reauthentication_required"


def test_passkey_as_second_factor_completes_the_pending_login(site: Site) -> None:
    site.register("bob")
    site.password_login("bob")
    assert site.me()["user"] is None  # pending: the passkey is still to come
    options = site.client.get("/login/second-factor/options", headers=JSON).json()
    assert [c["id"] for c in options["allowCredentials"]] == [
        site.store.of("bob")[0].credential_id_b64
    ]
    answer = site.client.post("/login/second-factor", json=site.device.get(options))
    assert answer.status_code == 200
    assert site.me() == {"user": "bob", "amr": ["pwd", "hwk"]}


def test_the_script_is_served_by_the_starlette_route(site: Site) -> None:
    answer = site.client.get("/static/passkeys.js")
    assert answer.status_code == 200 and answer.text == passkeys_script()
    assert answer.headers["content-type"] == "text/javascript; charset=utf-8"
    assert answer.headers["cache-control"] == "public, max-age=86400"
    assert "passportPasskeys" in answer.text and "parseCreationOptionsFromJSON" in answer.text


@pytest.mark.parametrize(
    ("rp_id", "origins"),
    [
        ("127.0.0.1", ["http://127.0.0.1:8000"]),
        ("Example.com", ["https://example.com"]),
        ("example.com", ["https://example.com/login"]),
        ("example.com", ["example.com"]),
        ("example.com", ["https://evil.test"]),
        ("example.com", "https://example.com"),
    ],
)
def test_relying_party_is_checked_at_startup(rp_id: str, origins: Any) -> None:
    with pytest.raises(ConfigurationError):
        RelyingParty(rp_id, "Example", origins)


def test_flask_and_django_serve_the_script() -> None:
    import django_project  # noqa: F401 - configures Django before its test client is used
    from django.test import RequestFactory
    from flask import Flask

    from passport_py.adapters.django.passkeys import passkeys_script_view
    from passport_py.adapters.flask.passkeys import add_passkeys_script

    app = Flask(__name__)
    add_passkeys_script(app)
    served = app.test_client().get("/static/passkeys.js")
    assert served.status_code == 200 and served.get_data(as_text=True) == passkeys_script()
    assert served.headers["content-type"] == "text/javascript; charset=utf-8"
    assert served.headers["cache-control"] == "public, max-age=86400"
    answer = passkeys_script_view(RequestFactory().get("/static/passkeys.js"))
    assert answer.status_code == 200 and answer.content.decode() == passkeys_script()
    assert answer["Content-Type"] == "text/javascript; charset=utf-8"
    assert passkeys_script_view(RequestFactory().post("/static/passkeys.js")).status_code == 405
