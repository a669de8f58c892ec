"""Redirect targets taken from the request (security.md section 4.7).

`is_safe_redirect` accepts only same-site relative paths; absolute URLs, same-origin ones
included, are refused by design and the caller falls back to its default. The end-to-end tests
log in through a real Starlette app and validate the `Location` header actually emitted.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import anyio
import pytest
from session_entries import STARLETTE, session_identity
from starlette_app import PASSWORD, Kit, make_kit, set_session_cookie, signed_session

from passport_py.redirects import is_safe_redirect, safe_redirect

CREDENTIALS = {"username": "alice", "password": PASSWORD}
BROWSER = {"accept": "text/html"}

#: security.md section 4.7, one entry per item (escapes spelled out as Python escapes).
CORPUS = [
    "https://evil.test",
    "http://evil.test",
    "//evil.test",
    "///evil.test",
    "////evil.test",
    "/\\evil.test",
    "\\/evil.test",
    "\\\\evil.test",
    "/\\/evil.test",
    "/%5Cevil.test",
    "%2F%2Fevil.test",
    "/%2F/evil.test",
    "/%252F%252Fevil.test",
    "/\t/evil.test",
    "/%09/evil.test",
    "/%0d/evil.test",
    "/%0a/evil.test",
    " //evil.test",
    "\x00//evil.test",
    "http:evil.test",
    "https:evil.test",
    "http:/evil.test",
    "http:\\\\evil.test",
    "http:999999999",
    "https://app.test@evil.test",
    "https://app.test\\@evil.test",
    "https://app.test.evil.test",
    "https://evilapp.test",
    "https://evil.test#@app.test",
    "https://evil.test?@app.test",
    "https://evil.test\\app.test",
    "HTTPS://EVIL.TEST",
    "https://app.test:443@evil.test",
    "https://\u0430pp.test",
    "/\u2215evil.test",
    "/\uff0fevil.test",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java%0ascript:alert(1)",
    "\njavascript:alert(1)",
    " javascript:alert(1)",
    "\x08javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "/%0d%0aSet-Cookie:%20x=1",
    "/..//evil.test",
    "/a" * 51_200,
]

#: Variations on the corpus that a looser check would miss.
EXTRA = [
    "",
    "/%2e%2e//evil.test",
    "/.%2e/evil.test",
    "/./x",
    "/a/../b",
    "/%5C%5Cevil.test",
    "/%2F%2Fevil.test",
    "/\r\nSet-Cookie: x=1",
    "/ evil",
    "/\u00e9",
    "http://testserver/dashboard",
    "https://app.test/x",
    "//testserver/dashboard",
]

MUST_WORK = ["/dashboard", "/a/b?x=1#frag", "/", "/orders/7?tab=2&sort=-date", "/caf%C3%A9"]


def corpus_id(value: str) -> str:
    return ascii(value[:40]) + (f"...({len(value)})" if len(value) > 40 else "")


# -- is_safe_redirect -----------------------------------------------------------------------


@pytest.mark.parametrize("target", CORPUS + EXTRA, ids=corpus_id)
def test_corpus_entry_is_rejected(target: str) -> None:
    assert is_safe_redirect(target) is False
    assert safe_redirect(target, "/home") == "/home"


@pytest.mark.parametrize("target", MUST_WORK)
def test_same_site_path_is_accepted(target: str) -> None:
    assert is_safe_redirect(target) is True
    assert safe_redirect(target, "/home") == target


def test_path_to_an_own_redirector_is_a_same_origin_path() -> None:
    # The corpus' chained-redirect entry: it is a path on this site, so it passes (security.md
    # expects "/ or a same-origin path"); an app's own open redirector must validate its `url`.
    target = "/redirect?url=https://evil.test"
    assert is_safe_redirect(target) is True


@pytest.mark.parametrize("target", [None, b"/dashboard", 1, ["/dashboard"], {"url": "/"}])
def test_non_string_target_is_rejected(target: Any) -> None:
    assert is_safe_redirect(target) is False
    assert safe_redirect(target) == "/"


def test_path_at_the_length_limit_is_accepted_and_one_more_is_not() -> None:
    assert is_safe_redirect("/" + "a" * 2047) is True
    assert is_safe_redirect("/" + "a" * 2048) is False


# -- end to end through a Starlette login ------------------------------------------------------


def assert_location_is_root(response: Any) -> None:
    assert response.status_code == 302
    (location,) = response.headers.get_list("location")
    assert location == "/"
    parts = urlsplit(location)
    assert (parts.scheme, parts.netloc) == ("", "")


@pytest.fixture(scope="module")
def kit() -> Kit:
    return make_kit()


@pytest.mark.parametrize("target", [t for t in CORPUS + EXTRA if len(t) < 60_000], ids=corpus_id)
def test_login_with_hostile_next_redirects_to_the_default(kit: Kit, target: str) -> None:
    """Conformance: passport-core.md 2 behaviour 40."""
    kit.client.cookies.clear()
    response = kit.client.post("/login/return", params={"next": target}, data=CREDENTIALS)
    assert_location_is_root(response)
    assert session_identity(kit.session(), STARLETTE) == {"passport": {"user": 1}}


def test_login_with_100_kb_next_redirects_to_the_default(kit: Kit) -> None:
    # httpx refuses URLs this long, so the request goes to the ASGI app directly.
    query = urlencode({"next": "/a" * 51_200}).encode()
    body = urlencode(CREDENTIALS).encode()
    status, headers = anyio.run(post_asgi, kit.app, "/login/return", query, body)
    assert status == 302
    assert [v for k, v in headers if k == b"location"] == [b"/"]


async def post_asgi(
    app: Any, path: str, query: bytes, body: bytes
) -> tuple[int, list[tuple[bytes, bytes]]]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], list(start["headers"])


@pytest.mark.parametrize("target", CORPUS + EXTRA, ids=corpus_id)
def test_login_with_hostile_session_return_to_redirects_to_the_default(
    kit: Kit, target: str
) -> None:
    """Conformance: passport-core.md 2 behaviour 40."""
    set_session_cookie(kit.client, signed_session({"return_to": target}))
    response = kit.client.post("/login/return", data=CREDENTIALS)
    assert_location_is_root(response)
    assert session_identity(kit.session(), STARLETTE) == {"passport": {"user": 1}}


@pytest.mark.parametrize("target", [None, 1, ["/dashboard"], {"a": "/"}], ids=str)
def test_non_string_session_return_to_redirects_to_the_default(kit: Kit, target: Any) -> None:
    """Conformance: passport-core.md 2 behaviour 40."""
    set_session_cookie(kit.client, signed_session({"return_to": target}))
    response = kit.client.post("/login/return", data=CREDENTIALS)
    assert_location_is_root(response)


def test_hostile_session_return_to_falls_back_to_a_safe_next(kit: Kit) -> None:
    """Conformance: passport-core.md 2 behaviour 40."""
    set_session_cookie(kit.client, signed_session({"return_to": "//evil.test"}))
    response = kit.client.post("/login/return?next=/orders", data=CREDENTIALS)
    assert response.headers["location"] == "/orders"


@pytest.mark.parametrize("target", ["/dashboard", "/a/b?x=1#frag", "/caf%C3%A9"])
def test_login_with_safe_next_redirects_there(kit: Kit, target: str) -> None:
    """Conformance: passport-core.md 2 behaviour 40."""
    kit.client.cookies.clear()
    response = kit.client.post("/login/return", params={"next": target}, data=CREDENTIALS)
    assert response.status_code == 302
    assert response.headers.get_list("location") == [target]


def test_login_with_own_redirector_next_stays_on_this_site(kit: Kit) -> None:
    kit.client.cookies.clear()
    target = "/redirect?url=https://evil.test"
    response = kit.client.post("/login/return", params={"next": target}, data=CREDENTIALS)
    location = response.headers["location"]
    assert location == target
    assert (urlsplit(location).scheme, urlsplit(location).netloc) == ("", "")


@pytest.mark.parametrize(
    "path",
    [
        "/secret//evil.test",
        "/secret/%2F%2Fevil.test",
        "/secret/%5Cevil.test",
        "/secret/%09/evil.test",
        "/secret/%0d/evil.test",
        "/secret/%E2%88%95evil.test",
        "/secret?next=//evil.test",
        "/secret?x=%0d%0a",
    ],
)
def test_login_required_saves_only_safe_return_to_and_login_goes_back_safely(
    kit: Kit, path: str
) -> None:
    kit.client.cookies.clear()
    protected = kit.client.get(path, headers=BROWSER)
    assert protected.status_code == 302
    location = protected.headers["location"]
    assert location.startswith("/login?next=")
    (next_value,) = parse_qs(urlsplit(location).query)["next"]
    assert is_safe_redirect(next_value)
    saved = kit.session()["return_to"]
    assert saved == next_value

    response = kit.client.post("/login/return", data=CREDENTIALS)
    assert response.status_code == 302
    final = response.headers["location"]
    assert final == saved
    assert is_safe_redirect(final)
    parts = urlsplit(final)
    assert (parts.scheme, parts.netloc) == ("", "")
    assert final == "/" or final.startswith("/secret")
