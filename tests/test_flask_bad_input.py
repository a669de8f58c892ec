"""Bad input only a Flask app gets: Werkzeug's streamed bodies, Flask's limits and cookies.

The catalogue every adapter answers alike (malformed forms and JSON, sizes, multipart, headers,
sessions) is `tests/test_bad_input.py`. These tests need Flask itself: a WSGI environ the test
clients cannot build, Flask's own settings, its signed cookie session, or Werkzeug's test client
(which sends header bytes httpx will not). `app.testing` is on, so a server error would fail
the test with its exception.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask
from test_flask_adapter import SECRET, Kit, make_kit
from users import PASSWORD, UserStore, local_passport
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response as WerkzeugResponse

from passport_py.adapters.flask import FlaskPassport, authenticate

JSON = "application/json"
MIB = 1024 * 1024
CREDENTIALS = {"username": "alice", "password": PASSWORD}


@pytest.fixture
def kit() -> Kit:
    return make_kit()


def assert_refused(response: Any, status: int, kit: Kit) -> None:
    assert response.status_code == status, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert "user" not in kit.session().get("passport", {})
    assert kit.client.get("/").json == {"user": None, "authenticated": False}


def post_streamed(kit: Kit, body: io.BytesIO) -> WerkzeugResponse:
    """POST `body` to `/login` with no Content-Length, as a server that de-chunks a body hands
    it on (`wsgi.input_terminated`). The test client always sets a length, so the WSGI app is
    called with an environ built here."""
    builder = EnvironBuilder(path="/login", method="POST", input_stream=body, content_type=JSON)
    environ = builder.get_environ()
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    return WerkzeugResponse.from_app(kit.app, environ, buffered=True)


@pytest.mark.parametrize("size", [MIB + 1, 4 * MIB])
def test_streamed_body_over_1_mib_is_413_without_reading_it_all(kit: Kit, size: int) -> None:
    prefix = b'{"username": "alice", "password": "'
    body = io.BytesIO(prefix + b"x" * (size - len(prefix) - 2) + b'"}')
    response = post_streamed(kit, body)
    assert response.status_code == 413
    assert response.get_data() == b"Request Entity Too Large"
    assert body.tell() <= MIB + 1
    assert kit.store.verify_calls == []


def test_streamed_body_of_exactly_1_mib_is_read(kit: Kit) -> None:
    prefix = b'{"username": "alice", "password": "wonderland", "pad": "'
    body = io.BytesIO(prefix + b"x" * (MIB - len(prefix) - 2) + b'"}')
    assert post_streamed(kit, body).status_code == 200
    assert kit.store.verify_calls == [("alice", PASSWORD)]


def test_the_apps_smaller_max_content_length_still_applies(kit: Kit) -> None:
    kit.app.config["MAX_CONTENT_LENGTH"] = 64
    response = kit.client.post("/login", data={"username": "alice", "password": "p" * 100})
    assert_refused(response, 413, kit)


def test_the_body_limit_is_configurable() -> None:
    app = Flask(__name__)
    app.secret_key = SECRET
    FlaskPassport(app, local_passport(UserStore.default()), max_body_size=100)

    @app.post("/login")
    @authenticate("local")
    def login_view() -> Any:
        return {"ok": True}

    client = app.test_client()
    assert client.post("/login", data=CREDENTIALS).status_code == 200
    assert client.post("/login", data={**CREDENTIALS, "pad": "x" * 100}).status_code == 413


def test_a_session_cookie_signed_with_another_key_is_anonymous(kit: Kit) -> None:
    other = Flask(__name__)
    other.secret_key = "not-" + SECRET
    serializer = other.session_interface.get_signing_serializer(other)  # type: ignore[attr-defined]
    kit.client.set_cookie("session", serializer.dumps({"passport": {"user": 1}}))
    assert kit.client.get("/").json == {"user": None, "authenticated": False}
    assert kit.store.deserialize_calls == []


def test_a_non_ascii_host_header_is_a_403_not_a_crash(kit: Kit) -> None:
    # The browser's Origin names another host than the (junk) Host: a cross-site login.
    response = kit.client.post(
        "/login", data=CREDENTIALS, headers={"host": "\u00e9vil.test", "origin": "http://localhost"}
    )
    assert_refused(response, 403, kit)
    assert kit.store.verify_calls == []
