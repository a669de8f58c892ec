"""Bad input at a login endpoint: a 4xx or a safe redirect, never a login, never a 500.

One catalogue, run against the behaviour app of each framework (`tests/behaviour/`, the `site`
fixture): security.md section 0 asks that the same raw request lead to the same decision on
every adapter. `/login-api` is the plain `authenticate("local")` route; `/login` is the one with
`failure_redirect` and `failure_flash`. After each refusal nobody is in the session and the next
request is anonymous. Where a framework reads the same bytes differently on purpose, the test
says so with a per-framework expectation. What only one framework has (its own settings, its
server interface, its cookie signing) stays with that framework: `tests/test_flask_bad_input.py`
and the bad-input sections of `tests/test_starlette_adapter.py` and `test_django_adapter.py`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from behaviour.site import Site, sites_of
from session_entries import sent_by, session_identity
from users import PASSWORD, User

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
MULTIPART = "multipart/form-data"
CREDENTIALS = {"username": "alice", "password": PASSWORD}
FORM_CREDENTIALS = b"username=alice&password=" + PASSWORD.encode()
JSON_CREDENTIALS = json.dumps(CREDENTIALS).encode()
MIB = 1024 * 1024


def assert_anonymous(site: Site) -> None:
    """Nobody in the session, and the next request is anonymous."""
    assert site.logged_in_user() is None
    assert site.who() == "hello anonymous"


def assert_refused(site: Site, response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert_anonymous(site)


def post_fields(site: Site, fields: dict[str, str], encoding: str) -> httpx.Response:
    """POST `fields` to `/login-api` as a urlencoded or a multipart form."""
    if encoding == "multipart":
        parts = [(name, (None, value)) for name, value in fields.items()]
        return site.client.post("/login-api", files=parts)
    return site.client.post("/login-api", data=fields)


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
@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_missing_or_empty_form_fields_are_400_without_verify(
    site: Site, data: dict[str, str], encoding: str
) -> None:
    """Conformance: strategies.md L7, L8, L9."""
    # An unrelated field keeps the body non-empty: a form without credentials is "missing".
    response = post_fields(site, {**data, "remember": "1"}, encoding)
    assert_refused(site, response, 400)
    assert response.text == "Bad Request"
    assert site.store.verify_calls == []


@pytest.mark.parametrize(
    ("username", "password"), [("alice", "   "), ("  ", PASSWORD)], ids=["password", "username"]
)
def test_whitespace_only_credentials_reach_verify_untrimmed_and_are_401(
    site: Site, username: str, password: str
) -> None:
    # "   " is a (wrong) value, not a missing one.
    response = site.post_form("/login-api", username=username, password=password)
    assert_refused(site, response, 401)
    assert site.store.verify_calls == [(username, password)]


def test_no_body_at_all_is_400(site: Site) -> None:
    """Conformance: strategies.md L6."""
    assert_refused(site, site.client.post("/login-api"), 400)
    assert site.store.verify_calls == []


def test_credentials_in_the_query_string_are_ignored(site: Site) -> None:
    """Conformance: strategies.md L5."""
    response = site.client.post("/login-api", params=CREDENTIALS)
    assert_refused(site, response, 400)
    assert site.store.verify_calls == []


# -- content types -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (FORM_CREDENTIALS, "text/plain"),
        (JSON_CREDENTIALS, "text/plain"),
        (FORM_CREDENTIALS, "application/octet-stream"),
        (JSON_CREDENTIALS, "application/x-json"),
        (b"<login><username>alice</username></login>", "application/xml"),
        (FORM_CREDENTIALS, None),
    ],
    ids=["form-as-text", "json-as-text", "octet-stream", "x-json", "xml", "no-content-type"],
)
def test_other_content_types_are_415(site: Site, body: bytes, content_type: str | None) -> None:
    response = site.post_raw("/login-api", body, content_type)
    assert_refused(site, response, 415)
    assert response.text == "Unsupported Media Type"
    assert site.store.verify_calls == []


def test_form_body_sent_as_json_is_400(site: Site) -> None:
    assert_refused(site, site.post_raw("/login-api", FORM_CREDENTIALS, JSON), 400)


# -- malformed bodies, JSON values --------------------------------------------------------


#: JSON bodies a login must refuse, by test id.
BAD_JSON = {
    "truncated": b'{"username": "alice", "password": ',
    "empty": b"",
    "bom": b"\xef\xbb\xbf" + JSON_CREDENTIALS,
    "utf-16": json.dumps(CREDENTIALS).encode("utf-16"),
    "empty-array": b"[]",
    "array": b'["alice", "wonderland"]',
    "null": b"null",
    "number": b"123",
    "string": b'"alice"',
    "bool": b"true",
    "duplicate-username": b'{"username": "alice", "username": "bob", "password": "builder"}',
    "duplicate-password": b'{"username": "alice", "password": "a", "password": "wonderland"}',
    "nan": b'{"username": "alice", "password": NaN}',
    "infinity": b'{"username": "alice", "password": Infinity}',
    "minus-infinity": b'{"username": "alice", "password": -Infinity}',
    "huge-exponent": b'{"username": "alice", "password": 1e999999}',
    "10k-digit-integer": b'{"username": "alice", "password": ' + b"9" * 10_000 + b"}",
    "invalid-utf8": b'{"username": "alice", "password": "' + b"\xff\xfe" + b'"}',
    "truncated-utf8": b'{"username": "alice", "password": "wonder\xc3"}',
    "lone-surrogate-password": b'{"username": "alice", "password": "\\ud800"}',
    "lone-surrogate-username": b'{"username": "\\udfff", "password": "wonderland"}',
}

#: Urlencoded bodies a login must refuse, by test id. Django and Werkzeug alone would decode
#: invalid UTF-8 into U+FFFD and carry on.
BAD_FORMS = {
    "password-invalid-utf8": b"username=alice&password=%ff%fe",
    "username-invalid-utf8": b"username=%ff%fe&password=wonderland",
    "password-encoded-surrogate": b"username=alice&password=%ED%A0%80",
    "raw-invalid-byte": b"username=alice&password=wonder\xffland",
    "duplicate-username": b"username=alice&username=bob&password=builder",
    "duplicate-password": b"username=alice&password=a&password=wonderland",
    "brackets": b"username[]=alice&password=wonderland",
    "bracket-operator": b"username[$ne]=x&password=wonderland",
    "nested-name": b"user[name]=alice&password=wonderland",
}


@pytest.mark.parametrize(
    ("content_type", "body"),
    [pytest.param(JSON, body, id=f"json-{name}") for name, body in BAD_JSON.items()]
    + [pytest.param(FORM, body, id=f"form-{name}") for name, body in BAD_FORMS.items()],
)
def test_malformed_json_and_form_bodies_are_400(site: Site, content_type: str, body: bytes) -> None:
    response = site.post_raw("/login-api", body, content_type)
    assert_refused(site, response, 400)
    assert response.text == "Bad Request"
    assert site.store.verify_calls == []


@pytest.mark.parametrize(
    ("opener", "closer"), [(b"[", b"]"), (b'{"a":', b"}")], ids=["arrays", "objects"]
)
def test_json_nested_10k_levels_is_400(site: Site, opener: bytes, closer: bytes) -> None:
    nested = opener * 10_000 + b"1" + closer * 10_000
    body = b'{"username": "alice", "password": ' + nested + b"}"
    assert_refused(site, site.post_raw("/login-api", body, JSON), 400)
    assert site.store.verify_calls == []


@pytest.mark.parametrize(
    "value",
    [["wonderland"], {"$ne": None}, 0, 123, True, False, 1.5],
    ids=["list", "dict", "zero", "int", "true", "false", "float"],
)
@pytest.mark.parametrize("field", ["username", "password"])
def test_non_string_json_values_are_400(site: Site, field: str, value: Any) -> None:
    response = site.client.post("/login-api", json={**CREDENTIALS, field: value})
    assert_refused(site, response, 400)
    assert site.store.verify_calls == []


@pytest.mark.parametrize("field", ["username", "password"])
def test_null_json_value_is_missing_400(site: Site, field: str) -> None:
    """Conformance: strategies.md L7."""
    response = site.client.post("/login-api", json={**CREDENTIALS, field: None})
    assert_refused(site, response, 400)
    assert site.store.verify_calls == []


def test_json_login_works_and_extra_keys_are_ignored(site: Site) -> None:
    data = {**CREDENTIALS, "is_admin": True, "user_id": 2}
    response = site.client.post("/login-api", json=data)
    assert response.status_code == 200
    assert response.json() == {"user": "alice"}
    assert site.logged_in_user() == 1


# -- how form bodies are read -------------------------------------------------------------


def test_raw_utf8_bytes_in_a_urlencoded_form_are_refused(site: Site) -> None:
    """Raw (not percent-encoded) UTF-8, as `curl -d` sends it: browsers percent-encode, and
    Starlette's own parser would read the bytes as Latin-1, so every adapter refuses raw
    non-ASCII bytes in a urlencoded body rather than guess (passport_py.request.parse_urlencoded).
    """
    site.store.add(User(3, "j\u00fcrgen"))
    body = "username=j\u00fcrgen&password=".encode() + PASSWORD.encode()
    response = site.post_raw("/login-api", body, FORM)
    assert_refused(site, response, 400)
    assert site.store.verify_calls == []


def test_percent_encoded_utf8_in_a_form_is_read_as_utf8(site: Site) -> None:
    site.store.add(User(3, "j\u00fcrgen"))
    response = site.post_raw(
        "/login-api", b"username=j%C3%BCrgen&password=" + PASSWORD.encode(), FORM
    )
    assert response.status_code == 200
    assert response.json() == {"user": "j\u00fcrgen"}


@pytest.mark.parametrize("charset", ["UTF-8", "latin-1"])
def test_a_charset_parameter_does_not_change_how_the_form_is_read(site: Site, charset: str) -> None:
    response = site.post_raw("/login-api", FORM_CREDENTIALS, f"{FORM}; charset={charset}")
    assert response.status_code == 200
    assert response.json() == {"user": "alice"}
    assert site.logged_in_user() == 1


def test_percent_encoded_utf8_password_reaches_verify(site: Site) -> None:
    response = site.post_raw("/login-api", b"username=alice&password=%C3%A9t%C3%A9", FORM)
    assert_refused(site, response, 401)
    assert site.store.verify_calls == [("alice", "\u00e9t\u00e9")]


@pytest.mark.parametrize(
    "payload",
    ["' OR '1'='1", "admin'--", "*)(uid=*))(|(uid=*", '{"$ne": null}', "\x00", "../"],
    ids=["sql", "sql-comment", "ldap", "nosql", "nul", "dot-dot"],
)
def test_injection_payloads_are_plain_wrong_passwords(site: Site, payload: str) -> None:
    response = site.post_form("/login-api", username="alice", password=payload)
    assert_refused(site, response, 401)
    assert site.store.verify_calls == [("alice", payload)]


@pytest.mark.parametrize("count", [2_000, 100_000])
def test_too_many_urlencoded_fields_is_400(site: Site, count: int) -> None:
    body = b"&".join(b"f%d=x" % i for i in range(count)) + b"&username=alice&password=x"
    assert_refused(site, site.post_raw("/login-api", body, FORM), 400)
    assert site.store.verify_calls == []


@pytest.mark.parametrize("site", sites_of("flask", "django"), indirect=True)
def test_a_bogus_content_length_is_400_under_wsgi(site: Site) -> None:
    # A WSGI server may hand the header on as CONTENT_LENGTH unchecked (wsgiref does); ASGI
    # servers refuse such a request before the app sees it, so Starlette is not asked.
    request = site.client.build_request(
        "POST", "/login-api", content=FORM_CREDENTIALS, headers={"content-type": FORM}
    )
    request.headers["content-length"] = "many"
    assert_refused(site, site.client.send(request), 400)
    assert site.store.verify_calls == []


@pytest.mark.parametrize("site", sites_of("flask", "django"), indirect=True)
def test_a_chunked_body_without_length_is_411_under_wsgi(site: Site) -> None:
    # Plain WSGI gives the app no way to read a chunked body to its end (unless the server
    # de-chunks it and sets wsgi.input_terminated): answer 411 rather than read it as empty.
    def chunks() -> Iterator[bytes]:
        yield b'{"username": "alice", "password": "'
        yield PASSWORD.encode()
        yield b'"}'

    response = site.client.post("/login-api", content=chunks(), headers={"content-type": JSON})
    assert_refused(site, response, 411)
    assert site.store.verify_calls == []


# -- sizes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", [FORM, JSON])
def test_body_over_1_mib_is_413(site: Site, content_type: str) -> None:
    body = b"username=alice&password=" + b"x" * MIB
    response = site.post_raw("/login-api", body, content_type)
    assert_refused(site, response, 413)
    assert response.text == "Request Entity Too Large"
    assert site.store.verify_calls == []


def test_multipart_body_over_1_mib_is_413(site: Site) -> None:
    files: dict[str, Any] = {
        "username": (None, "alice"),
        "password": (None, PASSWORD),
        "f": ("big.bin", b"x" * MIB),
    }
    assert_refused(site, site.client.post("/login-api", files=files), 413)
    assert site.store.verify_calls == []


def test_password_of_5000_bytes_is_400_before_verify(site: Site) -> None:
    response = site.post_form("/login-api", username="alice", password="p" * 5000)
    assert_refused(site, response, 400)
    assert site.store.verify_calls == []


def test_password_of_4096_bytes_reaches_verify(site: Site) -> None:
    response = site.post_form("/login-api", username="alice", password="p" * 4096)
    assert_refused(site, response, 401)
    assert site.store.verify_calls == [("alice", "p" * 4096)]


def test_username_of_10_kb_is_400_before_verify(site: Site) -> None:
    response = site.client.post("/login-api", json={"username": "a" * 10_000, "password": PASSWORD})
    assert_refused(site, response, 400)
    assert site.store.verify_calls == []


# -- multipart ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [{}, {"avatar": ("a.png", b"png", "image/png")}],
    ids=["fields-only", "with-an-unrelated-file"],
)
def test_multipart_form_login_works(site: Site, extra: dict[str, Any]) -> None:
    """Conformance: strategies.md L4."""
    files = {"username": (None, "alice"), "password": (None, PASSWORD), **extra}
    response = site.client.post("/login-api", files=files)
    assert response.status_code == 200
    assert response.json() == {"user": "alice"}
    assert site.logged_in_user() == 1


def test_multipart_file_upload_in_the_username_field_is_400(site: Site) -> None:
    files: dict[str, Any] = {
        "username": ("alice.txt", b"alice", "text/plain"),
        "password": (None, PASSWORD),
    }
    assert_refused(site, site.client.post("/login-api", files=files), 400)
    assert site.store.verify_calls == []


def test_multipart_duplicate_field_is_400(site: Site) -> None:
    files = [
        ("username", (None, "alice")),
        ("username", (None, "bob")),
        ("password", (None, PASSWORD)),
    ]
    assert_refused(site, site.client.post("/login-api", files=files), 400)
    assert site.store.verify_calls == []


def test_multipart_invalid_utf8_is_400(site: Site) -> None:
    body = (
        b'--xyz\r\nContent-Disposition: form-data; name="username"\r\n\r\nalice\r\n'
        b'--xyz\r\nContent-Disposition: form-data; name="password"\r\n\r\nwonder\xffland\r\n'
        b"--xyz--\r\n"
    )
    assert_refused(site, site.post_raw("/login-api", body, f"{MULTIPART}; boundary=xyz"), 400)
    assert site.store.verify_calls == []


@pytest.mark.parametrize("password", ["wonder\u00ffland", "wonder\ufffdland"], ids=["y", "fffd"])
def test_multipart_valid_utf8_that_looks_like_a_decoding_fallback_logs_in(
    site: Site, password: str
) -> None:
    """A genuine "ÿ" (what Starlette's Latin-1 fallback yields) or U+FFFD (what Werkzeug and
    Django put for bad bytes), sent as valid UTF-8, is a real password and reaches verify."""
    site.store.add(User(3, "carol", password))
    body = (
        b'--xyz\r\nContent-Disposition: form-data; name="username"\r\n\r\ncarol\r\n'
        b'--xyz\r\nContent-Disposition: form-data; name="password"\r\n\r\n'
        + password.encode()
        + b"\r\n--xyz--\r\n"
    )
    response = site.post_raw("/login-api", body, f"{MULTIPART}; boundary=xyz")
    assert response.status_code == 200
    assert response.json() == {"user": "carol"}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"username=alice", MULTIPART),
        (
            b"--xyz\r\nContent-Disposition: form-data\r\n\r\nalice\r\n--xyz",
            f"{MULTIPART}; boundary=xyz",
        ),
        (b"\x00\xff" * 100, f"{MULTIPART}; boundary=xyz"),
    ],
    ids=["no-boundary", "nameless-part", "binary-garbage"],
)
def test_malformed_multipart_is_400(site: Site, body: bytes, content_type: str) -> None:
    assert_refused(site, site.post_raw("/login-api", body, content_type), 400)
    assert site.store.verify_calls == []


#: Each framework's multipart parser counts the parts and stops at its limit; Werkzeug reports
#: too many parts as "Request Entity Too Large" (413), Starlette and Django as a bad request.
TOO_MANY_PARTS_STATUS = {"starlette": 400, "flask": 413, "django": 400}


def test_multipart_with_too_many_parts_is_refused(site: Site) -> None:
    parts = [(f"f{i}", (None, "x")) for i in range(2_000)]
    parts += [("username", (None, "alice")), ("password", (None, PASSWORD))]
    response = site.client.post("/login-api", files=parts)
    assert_refused(site, response, TOO_MANY_PARTS_STATUS[site.framework])
    assert site.store.verify_calls == []


# -- the same bad input on a login route with failure_redirect ------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", None),
        (b"username=alice", FORM),
        (b"username=alice&username=bob&password=x", FORM),
        (b"username=alice&password=%ff", FORM),
        (b'{"username": ["alice"], "password": "x"}', JSON),
        (b"[]", JSON),
        (FORM_CREDENTIALS, "text/plain"),
    ],
    ids=["no-body", "missing", "duplicate", "invalid-utf8", "list-value", "array", "text-plain"],
)
def test_bad_input_on_a_redirecting_login_goes_to_the_failure_page(
    site: Site, body: bytes, content_type: str | None
) -> None:
    response = site.post_raw("/login?next=//evil.test", body, content_type)
    assert response.status_code == 302
    assert response.headers["location"] == "/login"
    assert site.store.verify_calls == []
    assert [category for category, _ in site.flashes()] == ["error"]
    assert_anonymous(site)


# -- headers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"sec-fetch-site": "cross-site"},
        {"origin": "http://evil.test"},
        {"origin": "null"},
        {"origin": "http://[::1"},
        {"origin": "http://[bad]:x"},
    ],
    ids=["sec-fetch-site", "foreign-origin", "null-origin", "unclosed-ipv6", "bad-port"],
)
def test_a_cross_site_or_malformed_origin_login_is_403(site: Site, headers: dict[str, str]) -> None:
    response = site.client.post("/login-api", data=CREDENTIALS, headers=headers)
    assert_refused(site, response, 403)
    assert site.store.verify_calls == []


#: A junk Host with a browser's Origin naming another host: a cross-site login (403). Django
#: refuses a Host outside `ALLOWED_HOSTS` before any view runs (400).
JUNK_HOST_STATUS = {"starlette": 403, "flask": 403, "django": 400}


@pytest.mark.parametrize(
    "host",
    ["bad host", "x:99999999", "[::1", "evil.test"],
    ids=["space", "port-out-of-range", "unclosed-ipv6", "foreign"],
)
def test_a_junk_host_header_is_refused_not_a_crash(site: Site, host: str) -> None:
    response = site.client.post(
        "/login-api", data=CREDENTIALS, headers={"host": host, "origin": "http://localhost"}
    )
    assert response.status_code == JUNK_HOST_STATUS[site.framework], response.text
    assert_anonymous(site)
    assert site.store.verify_calls == []


# -- session cookies and session contents --------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["", "garbage", "%%%", "a.b.c", "null", "=" * 10, "x" * 5000],
    ids=["empty", "garbage", "percent", "dots", "null", "padding", "5000-chars"],
)
def test_junk_session_cookie_is_anonymous(site: Site, value: str) -> None:
    site.use_session_cookie(value)
    assert site.who() == "hello anonymous"
    assert site.store.deserialize_calls == []


def test_a_session_cookie_changed_anywhere_is_anonymous(site: Site) -> None:
    site.login()
    cookie = site.session_cookie()
    # The middle of each dot-separated part (a signed cookie's payload, timestamp and
    # signature; a session key), and the last character.
    places, start = [], 0
    for part in cookie.split("."):
        if part:  # a compressed Flask cookie starts with a dot
            places.append(start + len(part) // 2)
        start += len(part) + 1
    places.append(len(cookie) - 1)
    site.store.deserialize_calls.clear()
    for index in places:
        changed = cookie[:index] + flip(cookie[index]) + cookie[index + 1 :]
        site.use_session_cookie(changed)
        assert site.who() == "hello anonymous", f"changed at {index}: {changed}"
    assert site.store.deserialize_calls == []


def flip(char: str) -> str:
    """Another URL-safe base64 digit: bit 5 flipped, significant even in a signature's last
    digit."""
    digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return digits[digits.index(char) ^ 32]


@pytest.mark.parametrize(
    "passport",
    ["1", [1], 1, True, None, {"user": None}, {}, {"usr": 1}],
    ids=["string", "list", "int", "bool", "null", "user-null", "empty", "other-key"],
)
def test_session_with_a_malformed_passport_entry_is_anonymous(site: Site, passport: Any) -> None:
    """Conformance: passport-core.md 2 behaviour 111."""
    site.use_session({"passport": passport})
    assert site.who() == "hello anonymous"
    assert site.store.deserialize_calls == []


@pytest.mark.parametrize("user_id", [999, "1", [1], {"id": 1}, 1.0, 1.5], ids=str)
def test_session_naming_an_unknown_user_is_anonymous_and_forgotten(
    site: Site, user_id: Any
) -> None:
    """Conformance: passport-core.md 2 behaviours 21, 114."""
    site.use_session({"passport": {"user": user_id}, "cart": "book"})
    assert site.who() == "hello anonymous"
    assert site.store.deserialize_calls == [user_id]
    assert site.session()["data"] == {"passport": {}, "cart": "book"}


def test_login_from_a_changed_session_cookie_still_works_and_starts_fresh(site: Site) -> None:
    site.use_session({"cart": "book"})
    cookie = site.session_cookie()
    site.use_session_cookie(cookie[:-1] + flip(cookie[-1]))
    site.login()
    data = site.session()["data"]
    assert session_identity(data, sent_by(site.client)) == {"passport": {"user": 1}}
