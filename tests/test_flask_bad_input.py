"""Bad input at a Flask login view: always a 4xx or a safe redirect, never a login, never a 500.

The catalogue of `test_starlette_bad_input.py`, through a real Flask app and its test client
(`app.testing` is on, so a server error would fail the test with its exception). After each
refusal nobody is in the session and the next request is anonymous.
"""

from __future__ import annotations

import io
import json
import string
from typing import Any

import pytest
from flask import Flask
from test_flask_adapter import PASSWORD, SECRET, Directory, Kit, User, make_kit, make_passport
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response as WerkzeugResponse

from passport_py.adapters.flask import FlaskPassport, authenticate

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
URLSAFE_B64 = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"


@pytest.fixture
def kit() -> Kit:
    return make_kit()


def logged_in_user(kit: Kit) -> Any:
    data = kit.session().get("passport")
    return data.get("user") if isinstance(data, dict) else None


def assert_anonymous(kit: Kit) -> None:
    """Nobody in the session, and the next request is anonymous."""
    assert logged_in_user(kit) is None
    after = kit.client.get("/")
    assert after.status_code == 200
    assert after.json == {"user": None, "authenticated": False}


def assert_refused(response: Any, status: int, kit: Kit) -> None:
    assert response.status_code == status, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert_anonymous(kit)


def post_raw(kit: Kit, body: bytes, content_type: str | None, path: str = "/login") -> Any:
    headers = {"content-type": content_type} if content_type else {}
    return kit.client.post(path, data=body, headers=headers)


# -- missing and empty fields -----------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"username": "alice"},
        {"password": PASSWORD},
        {"username": "", "password": PASSWORD},
        {"username": "alice", "password": ""},
    ],
    ids=["nothing", "no-password", "no-username", "empty-username", "empty-password"],
)
def test_missing_or_empty_form_fields_are_400_without_verify(
    kit: Kit, data: dict[str, str]
) -> None:
    response = kit.client.post("/login", data={**data, "remember": "1"})
    assert_refused(response, 400, kit)
    assert response.text == "Bad Request"
    assert kit.directory.verify_calls == []


def test_no_body_at_all_is_400(kit: Kit) -> None:
    assert_refused(kit.client.post("/login"), 400, kit)


def test_credentials_in_the_query_string_are_ignored(kit: Kit) -> None:
    response = kit.client.post("/login?username=alice&password=" + PASSWORD)
    assert_refused(response, 400, kit)
    assert kit.directory.verify_calls == []


# -- content types -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"username=alice&password=" + PASSWORD.encode(), "text/plain"),
        (json.dumps({"username": "alice", "password": PASSWORD}).encode(), "text/plain"),
        (b"username=alice&password=" + PASSWORD.encode(), "application/octet-stream"),
        (b"<login><username>alice</username></login>", "application/xml"),
        (b"username=alice&password=" + PASSWORD.encode(), None),
    ],
    ids=["form-as-text", "json-as-text", "octet-stream", "xml", "no-content-type"],
)
def test_other_content_types_are_415(kit: Kit, body: bytes, content_type: str | None) -> None:
    response = post_raw(kit, body, content_type)
    assert_refused(response, 415, kit)
    assert response.text == "Unsupported Media Type"
    assert kit.directory.verify_calls == []


def test_form_body_sent_as_json_is_400(kit: Kit) -> None:
    response = post_raw(kit, b"username=alice&password=" + PASSWORD.encode(), JSON)
    assert_refused(response, 400, kit)


# -- JSON bodies ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"username": "alice", "password": ',
        b"",
        b"\xef\xbb\xbf" + json.dumps({"username": "alice", "password": PASSWORD}).encode(),
        json.dumps({"username": "alice", "password": PASSWORD}).encode("utf-16"),
        b"[]",
        b"null",
        b'"alice"',
        b'{"username": "alice", "username": "bob", "password": "builder"}',
        b'{"username": "alice", "password": NaN}',
        b'{"username": "alice", "password": 1e999999}',
        b'{"username": "alice", "password": ' + b"9" * 10_000 + b"}",
        b'{"username": "alice", "password": "wonder\xc3"}',
        b'{"username": "alice", "password": "\\ud800"}',
    ],
    ids=[
        "truncated",
        "empty",
        "bom",
        "utf-16",
        "array",
        "null",
        "string",
        "duplicate-username",
        "nan",
        "huge-exponent",
        "10k-digit-integer",
        "truncated-utf8",
        "lone-surrogate",
    ],
)
def test_bad_json_bodies_are_400(kit: Kit, body: bytes) -> None:
    response = post_raw(kit, body, JSON)
    assert_refused(response, 400, kit)
    assert response.text == "Bad Request"
    assert kit.directory.verify_calls == []


def test_json_nested_10k_levels_is_400(kit: Kit) -> None:
    nested = b"[" * 10_000 + b"1" + b"]" * 10_000
    response = post_raw(kit, b'{"username": "alice", "password": ' + nested + b"}", JSON)
    assert_refused(response, 400, kit)


@pytest.mark.parametrize("value", [["wonderland"], {"$ne": None}, 0, True, 1.5, None])
@pytest.mark.parametrize("field", ["username", "password"])
def test_non_string_json_values_are_400(kit: Kit, field: str, value: Any) -> None:
    data: dict[str, Any] = {"username": "alice", "password": PASSWORD, field: value}
    response = kit.client.post("/login", json=data)
    assert_refused(response, 400, kit)
    assert kit.directory.verify_calls == []


def test_json_extra_keys_are_ignored(kit: Kit) -> None:
    data = {"username": "alice", "password": PASSWORD, "is_admin": True, "user_id": 2}
    response = kit.client.post("/login", json=data)
    assert response.json is not None
    assert response.json["user"] == "alice"
    assert logged_in_user(kit) == 1


# -- form bodies ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"username=alice&password=%ff%fe",
        b"username=%ff%fe&password=wonderland",
        b"username=alice&password=%ED%A0%80",
        b"username=alice&password=wonder\xffland",
        b"username=alice&username=bob&password=builder",
        b"username=alice&password=a&password=wonderland",
        b"username[]=alice&password=wonderland",
        b"user[name]=alice&password=wonderland",
    ],
    ids=[
        "password-invalid-utf8",
        "username-invalid-utf8",
        "password-encoded-surrogate",
        "raw-invalid-byte",
        "duplicate-username",
        "duplicate-password",
        "brackets",
        "nested-name",
    ],
)
def test_bad_form_bodies_are_400(kit: Kit, body: bytes) -> None:
    response = post_raw(kit, body, FORM)
    assert_refused(response, 400, kit)
    assert response.text == "Bad Request"
    assert kit.directory.verify_calls == []


def test_raw_utf8_in_a_urlencoded_form_is_read_as_utf8(kit: Kit) -> None:
    # Werkzeug decodes form bodies as UTF-8 (Starlette as Latin-1, so there it is refused).
    kit.directory.users[3] = User(3, "j\u00fcrgen")
    body = "username=j\u00fcrgen&password=".encode() + PASSWORD.encode()
    response = post_raw(kit, body, FORM)
    assert response.json == {"user": "j\u00fcrgen", "authenticated": True, "auth_info": {}}


def test_form_with_charset_parameter_still_logs_in(kit: Kit) -> None:
    body = b"username=alice&password=" + PASSWORD.encode()
    assert post_raw(kit, body, FORM + "; charset=UTF-8").status_code == 200
    assert logged_in_user(kit) == 1


def test_percent_encoded_utf8_password_reaches_verify(kit: Kit) -> None:
    response = post_raw(kit, b"username=alice&password=%C3%A9t%C3%A9", FORM)
    assert_refused(response, 401, kit)
    assert kit.directory.verify_calls == [("alice", "\u00e9t\u00e9")]


def test_too_many_form_fields_is_400(kit: Kit) -> None:
    body = b"&".join(b"f%d=x" % i for i in range(100_000)) + b"&username=alice&password=x"
    assert_refused(post_raw(kit, body, FORM), 400, kit)


def test_a_bogus_content_length_is_refused_not_a_crash(kit: Kit) -> None:
    response = kit.client.post(
        "/login",
        data=b"username=alice&password=" + PASSWORD.encode(),
        headers={"content-type": FORM},
        environ_overrides={"CONTENT_LENGTH": "many"},
    )
    assert_refused(response, 400, kit)


# -- sizes ---------------------------------------------------------------------------------


def test_body_over_1_mib_is_413(kit: Kit) -> None:
    response = post_raw(kit, b"username=alice&password=" + b"x" * (1024 * 1024), FORM)
    assert_refused(response, 413, kit)
    assert response.text == "Request Entity Too Large"
    assert kit.directory.verify_calls == []


@pytest.mark.parametrize("size", [1024 * 1024 + 1, 4 * 1024 * 1024])
def test_streamed_body_over_1_mib_is_413_without_reading_it_all(kit: Kit, size: int) -> None:
    # No Content-Length: a server that de-chunks the body sets wsgi.input_terminated. The
    # test client always sets a length, so the WSGI app is called with a built environ.
    prefix = b'{"username": "alice", "password": "'
    body = io.BytesIO(prefix + b"x" * (size - len(prefix) - 2) + b'"}')
    builder = EnvironBuilder(path="/login", method="POST", input_stream=body, content_type=JSON)
    environ = builder.get_environ()
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    response = WerkzeugResponse.from_app(kit.app, environ, buffered=True)
    assert response.status_code == 413
    assert response.get_data() == b"Request Entity Too Large"
    assert body.tell() <= 1024 * 1024 + 1
    assert kit.directory.verify_calls == []


def test_streamed_body_of_exactly_1_mib_is_read(kit: Kit) -> None:
    prefix = b'{"username": "alice", "password": "wonderland", "pad": "'
    body = io.BytesIO(prefix + b"x" * (1024 * 1024 - len(prefix) - 2) + b'"}')
    builder = EnvironBuilder(path="/login", method="POST", input_stream=body, content_type=JSON)
    environ = builder.get_environ()
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    response = WerkzeugResponse.from_app(kit.app, environ, buffered=True)
    assert response.status_code == 200
    assert kit.directory.verify_calls == [("alice", PASSWORD)]


def test_the_apps_smaller_max_content_length_still_applies() -> None:
    kit = make_kit()
    kit.app.config["MAX_CONTENT_LENGTH"] = 64
    response = kit.client.post("/login", data={"username": "alice", "password": "p" * 100})
    assert_refused(response, 413, kit)


def test_the_body_limit_is_configurable() -> None:
    app = Flask(__name__)
    app.secret_key = SECRET
    FlaskPassport(app, make_passport(Directory()), max_body_size=100)

    @app.post("/login")
    @authenticate("local")
    def login_view() -> Any:
        return {"ok": True}

    client = app.test_client()
    credentials = {"username": "alice", "password": PASSWORD}
    assert client.post("/login", data=credentials).status_code == 200
    assert client.post("/login", data={**credentials, "pad": "x" * 100}).status_code == 413


def test_password_of_5000_bytes_is_400_before_verify(kit: Kit) -> None:
    response = kit.client.post("/login", data={"username": "alice", "password": "p" * 5000})
    assert_refused(response, 400, kit)
    assert kit.directory.verify_calls == []


# -- multipart ------------------------------------------------------------------------------


def test_multipart_form_login_works(kit: Kit) -> None:
    data = {"username": "alice", "password": PASSWORD, "avatar": (io.BytesIO(b"png"), "a.png")}
    response = kit.client.post("/login", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    assert logged_in_user(kit) == 1


def test_multipart_file_upload_in_the_username_field_is_400(kit: Kit) -> None:
    data = {"username": (io.BytesIO(b"alice"), "alice.txt"), "password": PASSWORD}
    response = kit.client.post("/login", data=data, content_type="multipart/form-data")
    assert_refused(response, 400, kit)
    assert kit.directory.verify_calls == []


def test_multipart_duplicate_field_is_400(kit: Kit) -> None:
    data = {"username": ["alice", "bob"], "password": PASSWORD}
    response = kit.client.post("/login", data=data, content_type="multipart/form-data")
    assert_refused(response, 400, kit)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"username=alice", "multipart/form-data"),
        (
            b"--xyz\r\nContent-Disposition: form-data\r\n\r\nalice\r\n--xyz",
            "multipart/form-data; boundary=xyz",
        ),
        (b"\x00\xff" * 100, "multipart/form-data; boundary=xyz"),
    ],
    ids=["no-boundary", "nameless-part", "binary-garbage"],
)
def test_malformed_multipart_is_400(kit: Kit, body: bytes, content_type: str) -> None:
    assert_refused(post_raw(kit, body, content_type), 400, kit)


def test_multipart_with_too_many_parts_is_413(kit: Kit) -> None:
    data: dict[str, Any] = {f"f{i}": "x" for i in range(1500)}
    data.update(username="alice", password=PASSWORD)
    response = kit.client.post("/login", data=data, content_type="multipart/form-data")
    assert_refused(response, 413, kit)


# -- the same bad input on a login route with failure_redirect ------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", None),
        (b"username=alice", FORM),
        (b"username=alice&username=bob&password=x", FORM),
        (b"username=alice&password=%ff", FORM),
        (b'{"username": ["alice"], "password": "x"}', JSON),
        (b"username=alice&password=" + PASSWORD.encode(), "text/plain"),
    ],
    ids=["no-body", "missing", "duplicate", "invalid-utf8", "list-value", "text-plain"],
)
def test_bad_input_on_a_redirecting_login_goes_to_the_failure_page(
    kit: Kit, body: bytes, content_type: str | None
) -> None:
    response = post_raw(kit, body, content_type, path="/login/redirect?next=//evil.test")
    assert response.status_code == 302
    assert response.headers["location"] == "/login"
    assert kit.directory.verify_calls == []
    flashes = kit.client.get("/login").json["flashes"]
    assert [category for category, _ in flashes] == ["error"]
    assert_anonymous(kit)


# -- cookies and session contents ---------------------------------------------------------------


def signed(data: Any, secret: str = SECRET) -> str:
    """A session cookie holding `data`, signed as Flask signs it."""
    app = Flask(__name__)
    app.secret_key = secret
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    return str(serializer.dumps(data))


def use_cookie(kit: Kit, value: str) -> None:
    kit.client.delete_cookie("session")
    kit.client.set_cookie("session", value)


@pytest.mark.parametrize("where", ["payload", "timestamp", "signature"])
def test_tampered_session_cookie_is_anonymous(kit: Kit, where: str) -> None:
    kit.login()
    cookie = kit.client.get_cookie("session")
    assert cookie is not None
    value = cookie.value
    payload, timestamp, _ = value.split(".")
    index = {
        "payload": len(payload) // 2,
        "timestamp": len(payload) + 2,
        "signature": len(payload) + len(timestamp) + 4,
    }[where]
    flipped = URLSAFE_B64[URLSAFE_B64.index(value[index]) ^ 32]
    use_cookie(kit, value[:index] + flipped + value[index + 1 :])
    kit.directory.deserialize_calls.clear()
    response = kit.client.get("/secret", headers={"accept": "application/json"})
    assert response.status_code == 401
    assert kit.directory.deserialize_calls == []


def test_cookie_signed_with_another_key_is_anonymous(kit: Kit) -> None:
    use_cookie(kit, signed({"passport": {"user": 1}}, secret="not-" + SECRET))
    assert kit.client.get("/").json == {"user": None, "authenticated": False}
    assert kit.directory.deserialize_calls == []


@pytest.mark.parametrize("value", ["", "garbage", "%%%", "a.b.c", "null", "=" * 10])
def test_junk_session_cookie_is_anonymous(kit: Kit, value: str) -> None:
    use_cookie(kit, value)
    assert kit.client.get("/").json == {"user": None, "authenticated": False}


@pytest.mark.parametrize(
    "passport",
    ["1", [1], 1, True, None, {"user": None}, {}, {"usr": 1}],
    ids=["string", "list", "int", "bool", "null", "user-null", "empty", "other-key"],
)
def test_session_with_a_malformed_passport_entry_is_anonymous(kit: Kit, passport: Any) -> None:
    use_cookie(kit, signed({"passport": passport}))
    assert kit.client.get("/").json == {"user": None, "authenticated": False}
    assert kit.directory.deserialize_calls == []


@pytest.mark.parametrize("user_id", [999, "1", [1], {"id": 1}, 1.5], ids=str)
def test_session_naming_an_unknown_user_is_anonymous_and_forgotten(kit: Kit, user_id: Any) -> None:
    use_cookie(kit, signed({"passport": {"user": user_id}, "x": 1}))
    assert kit.client.get("/").json == {"user": None, "authenticated": False}
    assert kit.directory.deserialize_calls == [user_id]
    assert kit.session() == {"passport": {}, "x": 1}


def test_login_from_a_tampered_session_still_works_and_starts_fresh(kit: Kit) -> None:
    use_cookie(kit, signed({"cart": [1]}, secret="other"))
    kit.login()
    assert kit.session() == {"passport": {"user": 1}}


@pytest.mark.parametrize("origin", ["http://[::1", "http://[bad]:x", "null", "http://evil.test"])
def test_a_malformed_or_foreign_origin_is_a_403_not_a_crash(kit: Kit, origin: str) -> None:
    response = kit.client.post(
        "/login", data={"username": "alice", "password": PASSWORD}, headers={"origin": origin}
    )
    assert_refused(response, 403, kit)
    assert kit.directory.verify_calls == []


@pytest.mark.parametrize("host", ["bad host", "\u00e9vil.test", "x:99999999", "[::1"])
def test_a_junk_host_header_is_not_a_crash(kit: Kit, host: str) -> None:
    # The browser's Origin names another host than the (junk) Host: a cross-site login.
    response = kit.client.post(
        "/login",
        data={"username": "alice", "password": PASSWORD},
        headers={"host": host, "origin": "http://localhost"},
    )
    assert_refused(response, 403, kit)
