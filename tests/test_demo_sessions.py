"""The demo's "Your sessions" page through Starlette's TestClient: every browser the user logged
in with is listed (this one marked), one can be ended, all others can be ended, and what a
person cannot do (another user's session, a made-up handle, no login) is refused in words.
Chromium runs the same page in test_demo_browser.py."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient
from test_demo import HTML, NAME, PASSWORD, SECRET

from passport_py.demo.app import DEMO_USERS, build_app
from passport_py.demo.sessions_page import describe_browser
from passport_py.sessions import MemoryStore

PHONE = "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 Chrome/131.0 Mobile"
LAPTOP = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


@pytest.fixture
def browsers() -> Iterator[tuple[TestClient, TestClient, TestClient]]:
    """alice's laptop and phone, and bob, on one demo app."""
    app = build_app(SECRET, store=MemoryStore())
    with (
        TestClient(app, headers={**HTML, "user-agent": LAPTOP}, follow_redirects=False) as laptop,
        TestClient(app, headers={**HTML, "user-agent": PHONE}, follow_redirects=False) as phone,
        TestClient(app, headers=HTML, follow_redirects=False) as bob,
    ):
        for client, name, password in (
            (laptop, NAME, PASSWORD),
            (phone, NAME, PASSWORD),
            (bob, "bob", DEMO_USERS["bob"]),
        ):
            assert client.post("/login", data={"username": name, "password": password}).is_redirect
        yield laptop, phone, bob


def cards(page: str) -> list[str]:
    return re.findall(r'<li class="card">(.*?)</li>', page, re.S)


def handles(page: str) -> list[str]:
    return re.findall(r'name="session" value="([^"]+)"', page)


def flashes(client: TestClient) -> list[str]:
    return re.findall(r'role="alert">([^<]*)<', client.get("/sessions").text)


def test_the_page_lists_each_browser_and_marks_this_one(browsers: tuple[TestClient, ...]) -> None:
    laptop, _, _ = browsers
    page = laptop.get("/sessions")
    assert page.status_code == 200
    listed = cards(page.text)
    assert len(listed) == 2  # alice's two; bob's is not hers
    assert "Firefox on Linux" in listed[0] and "This session" in listed[0]
    assert "Chrome on Android" in listed[1] and "This session" not in listed[1]
    assert "testclient" in listed[1]  # the address recorded at login
    assert 'href="/sessions" aria-current="page"' in page.text  # in the navigation


def test_ending_the_phones_session_logs_the_phone_out(browsers: tuple[TestClient, ...]) -> None:
    laptop, phone, bob = browsers
    (handle,) = handles(laptop.get("/sessions").text)
    answer = laptop.post("/sessions/end", data={"session": handle})
    assert answer.status_code == 303 and answer.headers["location"] == "/sessions"
    assert "That session has ended." in flashes(laptop)
    assert phone.get("/secret").headers["location"].startswith("/login")
    assert laptop.get("/secret").status_code == 200
    assert bob.get("/secret").status_code == 200


@pytest.mark.parametrize("handle", ["", "x" * 22, "not a handle", "a" * 5000])
def test_a_made_up_handle_ends_nothing_and_says_so(
    browsers: tuple[TestClient, ...], handle: str
) -> None:
    laptop, phone, _ = browsers
    answer = laptop.post("/sessions/end", data={"session": handle})
    assert answer.status_code == 303
    assert "That session had already ended." in flashes(laptop)
    assert phone.get("/secret").status_code == 200


def test_bobs_session_cannot_be_ended_from_alices_page(browsers: tuple[TestClient, ...]) -> None:
    laptop, _, bob = browsers
    # A second login of bob's, so bob's page shows a handle (its own session has none).
    with TestClient(bob.app, headers=HTML, follow_redirects=False) as other:
        other.post("/login", data={"username": "bob", "password": DEMO_USERS["bob"]})
        (bobs_handle,) = handles(bob.get("/sessions").text)
        laptop.post("/sessions/end", data={"session": bobs_handle})
        assert "That session had already ended." in flashes(laptop)
        assert other.get("/secret").status_code == 200


def test_end_all_others_leaves_only_this_session(browsers: tuple[TestClient, ...]) -> None:
    laptop, phone, bob = browsers
    answer = laptop.post("/sessions/end-others")
    assert answer.status_code == 303
    page = laptop.get("/sessions").text
    assert "Ended 1 other session." in page
    assert len(cards(page)) == 1 and "You are not logged in anywhere else." in page
    assert phone.get("/secret").headers["location"].startswith("/login")
    assert bob.get("/secret").status_code == 200


def test_a_visitor_is_sent_to_log_in(browsers: tuple[TestClient, ...]) -> None:
    with TestClient(browsers[0].app, headers=HTML, follow_redirects=False) as visitor:
        assert visitor.get("/sessions").headers["location"].startswith("/login")
        assert visitor.post("/sessions/end-others").headers["location"].startswith("/login")


@pytest.mark.parametrize(
    ("agent", "said"),
    [
        (PHONE, "Chrome on Android"),
        (LAPTOP, "Firefox on Linux"),
        (
            "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/131.0 Edg/131.0",
            "Edge on Windows",
        ),
        ("curl/8.5.0", "curl"),
        (None, "Unknown browser"),
        ("<script>", "Unknown browser"),
    ],
)
def test_browsers_are_named_in_words(agent: str | None, said: str) -> None:
    assert describe_browser(agent) == said
