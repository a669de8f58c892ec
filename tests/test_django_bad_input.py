"""Bad input at the Django login view: always a 4xx or a safe redirect, never a login, never a 500.

The same catalogue as tests/test_starlette_bad_input.py, through a real Django project and
Django's test `Client` (which re-raises server exceptions, so a 500 fails loudly). Each test
checks that nobody is in the session and the next request is anonymous.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import import_module
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.wsgi import WSGIHandler
from django.test import override_settings
from django_project import passports
from django_project.testapp import PASSWORD, Kit, User, make_kit

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@pytest.fixture(autouse=True)
def testapp_urls() -> Iterator[None]:
    with override_settings(ROOT_URLCONF="django_project.testapp"):
        yield


@pytest.fixture
def kit() -> Kit:
    return make_kit()


def passport_user(kit: Kit) -> Any:
    return kit.client.session.get("passport", {}).get("user")


def assert_anonymous(kit: Kit) -> None:
    """Nobody in the session, and the next request is anonymous."""
    assert passport_user(kit) is None
    after = kit.client.get("/")
    assert after.status_code == 200
    assert after.json()["authenticated"] is False


def assert_refused(response: Any, status: int, kit: Kit) -> None:
    assert response.status_code == status, response.content
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert_anonymous(kit)


def post_raw(kit: Kit, body: bytes, content_type: str | None, path: str = "/login") -> Any:
    return kit.client.generic("POST", path, body, content_type=content_type)


def urlencoded(data: dict[str, str]) -> bytes:
    from urllib.parse import urlencode

    return urlencode(data).encode()


# -- missing and empty fields ---------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"username": "alice"},
        {"password": PASSWORD},
        {"username": "", "password": PASSWORD},
        {"username": "alice", "password": ""},
        {"username": "", "password": ""},
    ],
    ids=["nothing", "no-password", "no-username", "empty-username", "empty-password", "both-empty"],
)
@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_missing_or_empty_form_fields_are_400_without_verify(
    kit: Kit, data: dict[str, str], encoding: str
) -> None:
    fields = {**data, "remember": "1"}
    if encoding == "multipart":
        response = kit.client.post("/login", fields)
    else:
        response = post_raw(kit, urlencoded(fields), FORM)
    assert_refused(response, 400, kit)
    assert response.content == b"Bad Request"
    assert kit.store.verify_calls == []


def test_whitespace_only_password_reaches_verify_and_is_401(kit: Kit) -> None:
    response = kit.client.post("/login", {"username": "alice", "password": "   "})
    assert_refused(response, 401, kit)
    assert kit.store.verify_calls == [("alice", "   ")]


def test_no_body_at_all_is_400(kit: Kit) -> None:
    assert_refused(post_raw(kit, b"", None), 400, kit)
    assert kit.store.verify_calls == []


def test_credentials_in_the_query_string_are_ignored(kit: Kit) -> None:
    response = post_raw(kit, b"", None, path="/login?username=alice&password=" + PASSWORD)
    assert_refused(response, 400, kit)
    assert kit.store.verify_calls == []


# -- content types ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"username=alice&password=" + PASSWORD.encode(), "text/plain"),
        (json.dumps({"username": "alice", "password": PASSWORD}).encode(), "text/plain"),
        (b"username=alice&password=" + PASSWORD.encode(), "application/octet-stream"),
        (json.dumps({"username": "alice", "password": PASSWORD}).encode(), "application/x-json"),
        (b"<login><username>alice</username></login>", "application/xml"),
        (b"username=alice&password=" + PASSWORD.encode(), None),
    ],
    ids=["form-as-text", "json-as-text", "octet-stream", "x-json", "xml", "no-content-type"],
)
def test_other_content_types_are_415(kit: Kit, body: bytes, content_type: str | None) -> None:
    response = post_raw(kit, body, content_type)
    assert_refused(response, 415, kit)
    assert response.content == b"Unsupported Media Type"
    assert kit.store.verify_calls == []


def test_form_body_sent_as_json_is_400(kit: Kit) -> None:
    assert_refused(post_raw(kit, b"username=alice&password=" + PASSWORD.encode(), JSON), 400, kit)


# -- JSON bodies ------------------------------------------------------------------------------


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
        b'{"username": "alice", "password": "' + b"\xff\xfe" + b'"}',
        b'{"username": "alice", "password": "\\ud800"}',
    ],
    ids=[
        "truncated",
        "empty",
        "bom",
        "utf-16",
        "empty-array",
        "null",
        "string",
        "duplicate-username",
        "nan",
        "huge-exponent",
        "10k-digit-integer",
        "invalid-utf8",
        "lone-surrogate",
    ],
)
def test_bad_json_bodies_are_400(kit: Kit, body: bytes) -> None:
    response = post_raw(kit, body, JSON)
    assert_refused(response, 400, kit)
    assert response.content == b"Bad Request"
    assert kit.store.verify_calls == []


def test_json_nested_10k_levels_is_400(kit: Kit) -> None:
    body = b'{"username": "alice", "password": ' + b"[" * 10_000 + b"1" + b"]" * 10_000 + b"}"
    assert_refused(post_raw(kit, body, JSON), 400, kit)


@pytest.mark.parametrize("value", [["wonderland"], {"$ne": None}, 0, True], ids=str)
@pytest.mark.parametrize("field", ["username", "password"])
def test_non_string_json_values_are_400(kit: Kit, field: str, value: Any) -> None:
    data: dict[str, Any] = {"username": "alice", "password": PASSWORD, field: value}
    response = kit.client.post("/login", data, content_type=JSON)
    assert_refused(response, 400, kit)
    assert kit.store.verify_calls == []


def test_json_login_works_and_extra_keys_are_ignored(kit: Kit) -> None:
    data = {"username": "alice", "password": PASSWORD, "is_admin": True, "user_id": 2}
    response = kit.client.post("/login", data, content_type=JSON)
    assert response.json()["user"] == "alice"
    assert passport_user(kit) == 1


# -- form bodies ------------------------------------------------------------------------------


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
    # Django itself would decode the invalid UTF-8 into U+FFFD and carry on.
    response = post_raw(kit, body, FORM)
    assert_refused(response, 400, kit)
    assert response.content == b"Bad Request"
    assert kit.store.verify_calls == []


def test_raw_non_ascii_bytes_in_a_urlencoded_form_are_400_not_mojibake(kit: Kit) -> None:
    kit.store.users[3] = User(3, "j\u00fcrgen")
    body = "username=j\u00fcrgen&password=".encode() + PASSWORD.encode()
    assert_refused(post_raw(kit, body, FORM), 400, kit)
    encoded = post_raw(kit, b"username=j%C3%BCrgen&password=" + PASSWORD.encode(), FORM)
    assert encoded.json()["user"] == "j\u00fcrgen"


@pytest.mark.parametrize("charset", ["UTF-8", "latin-1"])
def test_a_charset_parameter_does_not_change_how_the_form_is_read(kit: Kit, charset: str) -> None:
    body = b"username=alice&password=" + PASSWORD.encode()
    response = post_raw(kit, body, f"{FORM}; charset={charset}")
    assert response.json()["user"] == "alice"


def test_percent_encoded_utf8_password_reaches_verify(kit: Kit) -> None:
    response = post_raw(kit, b"username=alice&password=%C3%A9t%C3%A9", FORM)
    assert_refused(response, 401, kit)
    assert kit.store.verify_calls == [("alice", "\u00e9t\u00e9")]


@pytest.mark.parametrize(
    "payload", ["' OR '1'='1", "*)(uid=*))(|(uid=*", '{"$ne": null}', "\x00", "../"], ids=str
)
def test_injection_payloads_are_plain_wrong_passwords(kit: Kit, payload: str) -> None:
    response = post_raw(kit, urlencoded({"username": "alice", "password": payload}), FORM)
    assert_refused(response, 401, kit)
    assert kit.store.verify_calls == [("alice", payload)]


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_too_many_form_fields_is_400(kit: Kit, encoding: str) -> None:
    fields = {f"f{i}": "x" for i in range(2000)} | {"username": "alice", "password": "x"}
    if encoding == "multipart":
        response = kit.client.post("/login", fields)
    else:
        response = post_raw(kit, urlencoded(fields), FORM)
    assert_refused(response, 400, kit)
    assert kit.store.verify_calls == []


# -- sizes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", [FORM, JSON])
def test_body_over_1_mib_is_413(kit: Kit, content_type: str) -> None:
    body = b"username=alice&password=" + b"x" * (1024 * 1024)
    response = post_raw(kit, body, content_type)
    assert_refused(response, 413, kit)
    assert response.content == b"Request Entity Too Large"


def test_multipart_body_over_1_mib_is_413(kit: Kit) -> None:
    upload = SimpleUploadedFile("big.bin", b"x" * (1024 * 1024))
    response = kit.client.post("/login", {"username": "alice", "password": PASSWORD, "f": upload})
    assert_refused(response, 413, kit)


def test_a_smaller_limit_from_settings(kit: Kit) -> None:
    with override_settings(PASSPORT_MAX_BODY_SIZE=64):
        kit = make_kit()
        body = urlencoded({"username": "alice", "password": PASSWORD, "pad": "x" * 64})
        assert_refused(post_raw(kit, body, FORM), 413, kit)


def test_chunked_body_is_411_under_wsgi() -> None:
    """Django reads Content-Length bytes of a WSGI body, so a chunked one would look empty."""
    passports.current = make_kit().passport
    without_csrf = [m for m in settings.MIDDLEWARE if "csrf" not in m]  # httpx has no token
    with override_settings(MIDDLEWARE=without_csrf):
        app = WSGIHandler()
    client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://testserver")

    def chunks() -> Iterator[bytes]:
        yield b'{"username": "alice", "password": "'
        for _ in range(20):
            yield b"x" * 65_536
        yield b'"}'

    response = client.post("/login", content=chunks(), headers={"content-type": JSON})
    assert response.status_code == 411
    assert response.headers["cache-control"] == "no-store"


def test_password_of_5000_bytes_is_400_before_verify(kit: Kit) -> None:
    response = kit.client.post("/login", {"username": "alice", "password": "p" * 5000})
    assert_refused(response, 400, kit)
    assert kit.store.verify_calls == []


# -- multipart --------------------------------------------------------------------------------


def test_multipart_form_login_works(kit: Kit) -> None:
    assert kit.login().json()["user"] == "alice"
    assert passport_user(kit) == 1


def test_multipart_file_upload_in_the_username_field_is_400(kit: Kit) -> None:
    upload = SimpleUploadedFile("alice.txt", b"alice", "text/plain")
    response = kit.client.post("/login", {"username": upload, "password": PASSWORD})
    assert_refused(response, 400, kit)
    assert kit.store.verify_calls == []


def test_multipart_duplicate_field_is_400(kit: Kit) -> None:
    response = kit.client.post("/login", {"username": ["alice", "bob"], "password": PASSWORD})
    assert_refused(response, 400, kit)


def test_multipart_invalid_utf8_is_400(kit: Kit) -> None:
    body = (
        b'--xyz\r\nContent-Disposition: form-data; name="username"\r\n\r\nalice\r\n'
        b'--xyz\r\nContent-Disposition: form-data; name="password"\r\n\r\nwonder\xffland\r\n'
        b"--xyz--\r\n"
    )
    assert_refused(post_raw(kit, body, "multipart/form-data; boundary=xyz"), 400, kit)
    assert kit.store.verify_calls == []


def test_multipart_without_boundary_is_400(kit: Kit) -> None:
    assert_refused(post_raw(kit, b"username=alice", "multipart/form-data"), 400, kit)


def test_multipart_garbage_is_400(kit: Kit) -> None:
    body = b"--xyz\r\nContent-Disposition: form-data\r\n\r\nalice\r\n--xyz"
    response = post_raw(kit, body, "multipart/form-data; boundary=xyz")
    assert response.status_code == 400
    assert_anonymous(kit)


# -- headers ----------------------------------------------------------------------------------


def test_a_host_outside_allowed_hosts_is_400(kit: Kit) -> None:
    # The cross-site check reads the request URL; Django refuses the Host as it builds it.
    response = kit.client.post(
        "/login",
        {"username": "alice", "password": PASSWORD},
        headers={"host": "evil.test", "origin": "http://evil.test"},
    )
    assert response.status_code == 400
    assert_anonymous(kit)


def test_a_cross_site_login_is_403(kit: Kit) -> None:
    response = kit.client.post(
        "/login",
        {"username": "alice", "password": PASSWORD},
        headers={"origin": "http://evil.test"},
    )
    assert_refused(response, 403, kit)


# -- the same bad input on a login route with failure_redirect ----------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", None),
        (b"username=alice", FORM),
        (b"username=alice&username=bob&password=x", FORM),
        (b"username=alice&password=%ff", FORM),
        (b'{"username": ["alice"], "password": "x"}', JSON),
        (b"[]", JSON),
        (b"username=alice&password=" + PASSWORD.encode(), "text/plain"),
    ],
    ids=["no-body", "missing", "duplicate", "invalid-utf8", "list-value", "array", "text-plain"],
)
def test_bad_input_on_a_redirecting_login_goes_to_the_failure_page(
    kit: Kit, body: bytes, content_type: str | None
) -> None:
    response = post_raw(kit, body, content_type, path="/login/redirect?next=//evil.test")
    assert response.status_code == 302
    assert response["Location"] == "/login"
    assert kit.store.verify_calls == []
    flashes = kit.client.get("/login").json()["flashes"]
    assert len(flashes) == 1
    assert flashes[0][0] == "error"
    assert_anonymous(kit)


# -- session cookies and session contents ------------------------------------------------------


def set_session(kit: Kit, data: dict[str, Any]) -> None:
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store.update(data)
    store.save()
    kit.client.cookies[settings.SESSION_COOKIE_NAME] = store.session_key


@pytest.mark.parametrize(
    "value", ["", "garbage", "%%%", "a.b.c", "null", "=" * 10, "x" * 5000], ids=str
)
def test_junk_session_cookie_is_anonymous(kit: Kit, value: str) -> None:
    kit.client.cookies[settings.SESSION_COOKIE_NAME] = value
    response = kit.client.get("/")
    assert response.status_code == 200
    assert response.json()["authenticated"] is False
    assert kit.store.deserialize_calls == []


def test_a_guessed_session_key_is_anonymous(kit: Kit) -> None:
    kit.login()
    key = kit.client.cookies[settings.SESSION_COOKIE_NAME].value
    kit.client.cookies[settings.SESSION_COOKIE_NAME] = key[:-1] + ("a" if key[-1] != "a" else "b")
    assert kit.client.get("/").json()["authenticated"] is False


@pytest.mark.parametrize(
    "passport",
    ["1", [1], 1, True, None, {"user": None}, {}, {"usr": 1}],
    ids=["string", "list", "int", "bool", "null", "user-null", "empty", "other-key"],
)
def test_session_with_a_malformed_passport_entry_is_anonymous(kit: Kit, passport: Any) -> None:
    set_session(kit, {"passport": passport})
    response = kit.client.get("/")
    assert response.status_code == 200
    assert response.json()["authenticated"] is False
    assert kit.store.deserialize_calls == []


@pytest.mark.parametrize("user_id", [999, "1", [1], {"id": 1}, 1.5], ids=str)
def test_session_naming_an_unknown_user_is_anonymous_and_forgotten(kit: Kit, user_id: Any) -> None:
    set_session(kit, {"passport": {"user": user_id}, "x": 1})
    response = kit.client.get("/")
    assert response.json()["authenticated"] is False
    assert kit.store.deserialize_calls == [user_id]
    assert dict(kit.client.session.items()) == {"passport": {}, "x": 1}
