"""Bad input at the Starlette login endpoint: always a 4xx or a safe redirect, never a login.

Every test drives a real app through the TestClient (which re-raises server exceptions, so a
500 fails loudly), then checks that nobody is in the session and the next request is anonymous.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from typing import Any

import pytest
from starlette_app import (
    PASSWORD,
    SECRET,
    Kit,
    User,
    make_kit,
    passport_user,
    set_session_cookie,
    signed_session,
)

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
URLSAFE_B64 = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"


@pytest.fixture
def kit() -> Kit:
    return make_kit()


def assert_anonymous(kit: Kit) -> None:
    """Nobody in the session cookie, and the next request is anonymous."""
    assert passport_user(kit.client) is None
    after = kit.client.get("/")
    assert after.status_code == 200
    assert after.json()["authenticated"] is False
    assert after.json()["user"] is None


def assert_refused(response: Any, status: int, kit: Kit) -> None:
    assert response.status_code == status, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert_anonymous(kit)


def post_raw(kit: Kit, body: bytes, content_type: str | None, path: str = "/login") -> Any:
    headers = {"content-type": content_type} if content_type else {}
    return kit.client.post(path, content=body, headers=headers)


# -- missing and empty fields -----------------------------------------------------------------


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
def test_missing_or_empty_form_fields_are_400_without_verify(
    kit: Kit, data: dict[str, str]
) -> None:
    """Conformance: strategies.md L7, L8, L9."""
    # An unrelated field keeps the body non-empty: a form without credentials is "missing".
    response = kit.client.post("/login", data={**data, "remember": "1"})
    assert_refused(response, 400, kit)
    assert response.text == "Bad Request"
    assert kit.store.verify_calls == []


def test_whitespace_only_password_reaches_verify_and_is_401(kit: Kit) -> None:
    # Passwords are not trimmed: "   " is a (wrong) password, not a missing one.
    response = kit.client.post("/login", data={"username": "alice", "password": "   "})
    assert_refused(response, 401, kit)
    assert kit.store.verify_calls == [("alice", "   ")]


def test_whitespace_only_username_reaches_verify_and_is_401(kit: Kit) -> None:
    response = kit.client.post("/login", data={"username": "  ", "password": PASSWORD})
    assert_refused(response, 401, kit)
    assert kit.store.verify_calls == [("  ", PASSWORD)]


def test_no_body_at_all_is_400(kit: Kit) -> None:
    """Conformance: strategies.md L6."""
    response = kit.client.post("/login")
    assert_refused(response, 400, kit)
    assert kit.store.verify_calls == []


def test_credentials_in_the_query_string_are_ignored(kit: Kit) -> None:
    """Conformance: strategies.md L5."""
    response = kit.client.post("/login?username=alice&password=" + PASSWORD)
    assert_refused(response, 400, kit)
    assert kit.store.verify_calls == []


# -- content types -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"username=alice&password=" + PASSWORD.encode(), "text/plain"),
        (json.dumps({"username": "alice", "password": PASSWORD}).encode(), "text/plain"),
        (b"username=alice&password=" + PASSWORD.encode(), "application/octet-stream"),
        (json.dumps({"username": "alice", "password": PASSWORD}).encode(), "application/x-json"),
        (b"<login><username>alice</username></login>", "application/xml"),
    ],
    ids=["form-as-text", "json-as-text", "octet-stream", "x-json", "xml"],
)
def test_other_content_types_are_415(kit: Kit, body: bytes, content_type: str) -> None:
    response = post_raw(kit, body, content_type)
    assert_refused(response, 415, kit)
    assert response.text == "Unsupported Media Type"
    assert kit.store.verify_calls == []


def test_body_without_content_type_is_415(kit: Kit) -> None:
    response = post_raw(kit, b"username=alice&password=" + PASSWORD.encode(), None)
    assert_refused(response, 415, kit)


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
        b'["alice", "wonderland"]',
        b"null",
        b"123",
        b'"alice"',
        b"true",
        b'{"username": "alice", "username": "bob", "password": "builder"}',
        b'{"username": "alice", "password": "a", "password": "wonderland"}',
        b'{"username": "alice", "password": NaN}',
        b'{"username": "alice", "password": Infinity}',
        b'{"username": "alice", "password": -Infinity}',
        b'{"username": "alice", "password": 1e999999}',
        b'{"username": "alice", "password": ' + b"9" * 10_000 + b"}",
        b'{"username": "alice", "password": "' + b"\xff\xfe" + b'"}',
        b'{"username": "alice", "password": "wonder\xc3"}',
        b'{"username": "alice", "password": "\\ud800"}',
        b'{"username": "\\udfff", "password": "wonderland"}',
    ],
    ids=[
        "truncated",
        "empty",
        "bom",
        "utf-16",
        "empty-array",
        "array",
        "null",
        "number",
        "string",
        "bool",
        "duplicate-username",
        "duplicate-password",
        "nan",
        "infinity",
        "minus-infinity",
        "huge-exponent",
        "10k-digit-integer",
        "invalid-utf8",
        "truncated-utf8",
        "lone-surrogate-password",
        "lone-surrogate-username",
    ],
)
def test_bad_json_bodies_are_400(kit: Kit, body: bytes) -> None:
    response = post_raw(kit, body, JSON)
    assert_refused(response, 400, kit)
    assert response.text == "Bad Request"
    assert kit.store.verify_calls == []


@pytest.mark.parametrize("opener", [b"[", b'{"a":'], ids=["arrays", "objects"])
def test_json_nested_10k_levels_is_400(kit: Kit, opener: bytes) -> None:
    closer = b"]" if opener == b"[" else b"}"
    nested = opener * 10_000 + b"1" + closer * 10_000
    body = b'{"username": "alice", "password": ' + nested + b"}"
    response = post_raw(kit, body, JSON)
    assert_refused(response, 400, kit)
    assert kit.store.verify_calls == []


@pytest.mark.parametrize(
    "value",
    [["wonderland"], {"$ne": None}, 0, 123, True, False, 1.5],
    ids=["list", "dict", "zero", "int", "true", "false", "float"],
)
@pytest.mark.parametrize("field", ["username", "password"])
def test_non_string_json_values_are_400(kit: Kit, field: str, value: Any) -> None:
    data: dict[str, Any] = {"username": "alice", "password": PASSWORD, field: value}
    response = kit.client.post("/login", json=data)
    assert_refused(response, 400, kit)
    assert kit.store.verify_calls == []


@pytest.mark.parametrize("field", ["username", "password"])
def test_null_json_value_is_missing_400(kit: Kit, field: str) -> None:
    """Conformance: strategies.md L7."""
    data: dict[str, Any] = {"username": "alice", "password": PASSWORD, field: None}
    response = kit.client.post("/login", json=data)
    assert_refused(response, 400, kit)
    assert kit.store.verify_calls == []


def test_json_extra_keys_are_ignored(kit: Kit) -> None:
    data = {"username": "alice", "password": PASSWORD, "is_admin": True, "user_id": 2}
    response = kit.client.post("/login", json=data)
    assert response.status_code == 200
    assert response.json()["user"] == "alice"
    assert passport_user(kit.client) == 1


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
        b"username[$ne]=x&password=wonderland",
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
        "bracket-operator",
        "nested-name",
    ],
)
def test_bad_form_bodies_are_400(kit: Kit, body: bytes) -> None:
    response = post_raw(kit, body, FORM)
    assert_refused(response, 400, kit)
    assert response.text == "Bad Request"
    assert kit.store.verify_calls == []


def test_raw_non_ascii_bytes_in_a_urlencoded_form_are_400_not_mojibake(kit: Kit) -> None:
    # Browsers percent-encode; raw UTF-8 (curl -d) would be read as Latin-1 by Starlette.
    kit.store.add(User(3, "j\u00fcrgen", PASSWORD))
    body = "username=j\u00fcrgen&password=".encode() + PASSWORD.encode()
    response = post_raw(kit, body, FORM)
    assert_refused(response, 400, kit)
    assert kit.store.verify_calls == []
    encoded = post_raw(kit, b"username=j%C3%BCrgen&password=" + PASSWORD.encode(), FORM)
    assert encoded.status_code == 200
    assert encoded.json()["user"] == "j\u00fcrgen"


def test_form_with_charset_parameter_still_logs_in(kit: Kit) -> None:
    body = b"username=alice&password=" + PASSWORD.encode()
    response = post_raw(kit, body, FORM + "; charset=UTF-8")
    assert response.status_code == 200
    assert passport_user(kit.client) == 1


def test_percent_encoded_utf8_password_reaches_verify(kit: Kit) -> None:
    response = post_raw(kit, b"username=alice&password=%C3%A9t%C3%A9", FORM)
    assert_refused(response, 401, kit)
    assert kit.store.verify_calls == [("alice", "\u00e9t\u00e9")]


@pytest.mark.parametrize(
    "payload",
    ["' OR '1'='1", "admin'--", "*)(uid=*))(|(uid=*", '{"$ne": null}', "\x00", "../"],
    ids=["sql", "sql-comment", "ldap", "nosql", "nul", "dot-dot"],
)
def test_injection_payloads_are_plain_wrong_passwords(kit: Kit, payload: str) -> None:
    response = kit.client.post("/login", data={"username": "alice", "password": payload})
    assert_refused(response, 401, kit)
    assert kit.store.verify_calls == [("alice", payload)]


def test_too_many_form_fields_is_400(kit: Kit) -> None:
    body = b"&".join(b"f%d=x" % i for i in range(100_000)) + b"&username=alice&password=x"
    response = post_raw(kit, body, FORM)
    assert_refused(response, 400, kit)


# -- sizes ---------------------------------------------------------------------------------


def test_body_over_1_mib_is_413(kit: Kit) -> None:
    body = b"username=alice&password=" + b"x" * (1024 * 1024)
    response = post_raw(kit, body, FORM)
    assert_refused(response, 413, kit)
    assert response.text == "Request Entity Too Large"
    assert kit.store.verify_calls == []


def test_chunked_body_over_1_mib_is_413(kit: Kit) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"username": "alice", "password": "'
        for _ in range(20):
            yield b"x" * 65_536
        yield b'"}'

    response = kit.client.post("/login", content=chunks(), headers={"content-type": JSON})
    assert_refused(response, 413, kit)
    assert kit.store.verify_calls == []


def test_password_of_5000_bytes_is_400_before_verify(kit: Kit) -> None:
    response = kit.client.post("/login", data={"username": "alice", "password": "p" * 5000})
    assert_refused(response, 400, kit)
    assert kit.store.verify_calls == []


def test_password_of_4096_bytes_reaches_verify(kit: Kit) -> None:
    response = kit.client.post("/login", data={"username": "alice", "password": "p" * 4096})
    assert_refused(response, 401, kit)
    assert len(kit.store.verify_calls) == 1


def test_username_of_10_kb_is_400_before_verify(kit: Kit) -> None:
    response = kit.client.post("/login", json={"username": "a" * 10_000, "password": PASSWORD})
    assert_refused(response, 400, kit)
    assert kit.store.verify_calls == []


# -- multipart ------------------------------------------------------------------------------


def test_multipart_form_login_works(kit: Kit) -> None:
    """Conformance: strategies.md L4."""
    files = {"username": (None, "alice"), "password": (None, PASSWORD)}
    response = kit.client.post("/login", files=files)
    assert response.status_code == 200
    assert response.json()["user"] == "alice"
    assert passport_user(kit.client) == 1


def test_multipart_file_upload_in_the_username_field_is_400(kit: Kit) -> None:
    files = {
        "username": ("alice.txt", b"alice", "text/plain"),
        "password": (None, PASSWORD),
    }
    response = kit.client.post("/login", files=files)
    assert_refused(response, 400, kit)
    assert kit.store.verify_calls == []


def test_multipart_duplicate_field_is_400(kit: Kit) -> None:
    files = [
        ("username", (None, "alice")),
        ("username", (None, "bob")),
        ("password", (None, PASSWORD)),
    ]
    response = kit.client.post("/login", files=files)
    assert_refused(response, 400, kit)


def test_multipart_without_boundary_is_400(kit: Kit) -> None:
    response = post_raw(kit, b"username=alice", "multipart/form-data")
    assert_refused(response, 400, kit)


def test_multipart_garbage_is_400(kit: Kit) -> None:
    body = b"--xyz\r\nContent-Disposition: form-data\r\n\r\nalice\r\n--xyz"
    response = post_raw(kit, body, "multipart/form-data; boundary=xyz")
    assert response.status_code == 400
    assert_anonymous(kit)


# -- the same bad input on a login route with failure_redirect ------------------------------------


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
    assert response.headers["location"] == "/login"
    assert kit.store.verify_calls == []
    assert passport_user(kit.client) is None
    flashes = kit.client.get("/login").json()["flashes"]
    assert len(flashes) == 1
    assert flashes[0][0] == "error"
    assert_anonymous(kit)


# -- cookies and session contents ---------------------------------------------------------------


def logged_in_cookie(kit: Kit) -> str:
    kit.login()
    cookie = kit.client.cookies["session"]
    kit.client.cookies.clear()
    return cookie


@pytest.mark.parametrize("where", ["payload", "timestamp", "signature", "last"])
def test_tampered_session_cookie_is_anonymous(kit: Kit, where: str) -> None:
    cookie = logged_in_cookie(kit)
    payload, timestamp, _signature = cookie.split(".")
    index = {
        "payload": len(payload) // 2,
        "timestamp": len(payload) + 2,
        "signature": len(payload) + len(timestamp) + 4,
        "last": len(cookie) - 1,
    }[where]
    # Flip bit 5 of the base64 digit: a significant bit even in a signature's last digit.
    flipped = URLSAFE_B64[URLSAFE_B64.index(cookie[index]) ^ 32]
    tampered = cookie[:index] + flipped + cookie[index + 1 :]
    assert tampered != cookie
    kit.store.deserialize_calls.clear()
    set_session_cookie(kit.client, tampered)
    response = kit.client.get("/secret", headers={"accept": "application/json"})
    assert response.status_code == 401
    assert kit.store.deserialize_calls == []


def test_cookie_signed_with_another_key_is_anonymous(kit: Kit) -> None:
    forged = signed_session({"passport": {"user": 1}}, secret="not-" + SECRET)
    set_session_cookie(kit.client, forged)
    response = kit.client.get("/")
    assert response.status_code == 200
    assert response.json()["authenticated"] is False
    assert kit.store.deserialize_calls == []


@pytest.mark.parametrize(
    "value",
    ["", "garbage", "%%%", "a.b.c", "null", "=" * 10],
    ids=["empty", "garbage", "percent", "dots", "null", "padding"],
)
def test_junk_session_cookie_is_anonymous(kit: Kit, value: str) -> None:
    set_session_cookie(kit.client, value)
    response = kit.client.get("/")
    assert response.status_code == 200
    assert response.json()["authenticated"] is False


@pytest.mark.parametrize(
    "passport",
    ["1", [1], 1, True, None, {"user": None}, {}, {"usr": 1}],
    ids=["string", "list", "int", "bool", "null", "user-null", "empty", "other-key"],
)
def test_session_with_a_malformed_passport_entry_is_anonymous(kit: Kit, passport: Any) -> None:
    """Conformance: passport-core.md 2 behaviour 111."""
    set_session_cookie(kit.client, signed_session({"passport": passport}))
    response = kit.client.get("/")
    assert response.status_code == 200
    assert response.json()["authenticated"] is False
    assert kit.store.deserialize_calls == []


@pytest.mark.parametrize("user_id", [999, "1", [1], {"id": 1}, 1.0], ids=str)
def test_session_naming_an_unknown_user_is_anonymous_and_forgotten(kit: Kit, user_id: Any) -> None:
    """Conformance: passport-core.md 2 behaviours 21, 114."""
    set_session_cookie(kit.client, signed_session({"passport": {"user": user_id}, "x": 1}))
    response = kit.client.get("/")
    assert response.status_code == 200
    assert response.json()["authenticated"] is False
    assert kit.store.deserialize_calls == [user_id]
    assert kit.session() == {"passport": {}, "x": 1}


def test_login_from_a_tampered_session_still_works_and_starts_fresh(kit: Kit) -> None:
    set_session_cookie(kit.client, signed_session({"cart": [1]}, secret="other"))
    kit.login()
    assert kit.session() == {"passport": {"user": 1}}
