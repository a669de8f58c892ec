"""One behaviour suite, three frameworks: the same requests get the same answers.

Each test runs against the small app of `tests/behaviour/` in Starlette, Flask and Django (the
route contract is in `tests/behaviour/common.py`; the `site` fixture of `tests/conftest.py`
serves each in turn), through real HTTP handling: Starlette's TestClient, and httpx over WSGI
for Flask and Django; and again on passport_py's server-side sessions (`starlette_server`:
Starlette with `SessionMiddleware` and `RedisStore` on the real Redis). This is the adapter
conformance suite of security.md section 0 (and, over the session variants, of section 5.5): a
test that passes for one framework or session and fails for another is an adapter bug. Bad
input has its own catalogue over the same apps, `tests/test_bad_input.py`.
"""

from __future__ import annotations

import httpx
import pytest
from behaviour.common import BASIC_CHALLENGE, TOKEN, TOKEN_CHALLENGE
from behaviour.site import Site
from session_entries import sent_by, session_identity
from users import PASSWORD, WRONG

BROWSER = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
API = {"accept": "application/json"}


def challenges(response: httpx.Response) -> str:
    """Every `WWW-Authenticate` value, joined as one header would carry them."""
    return ", ".join(response.headers.get_list("www-authenticate"))


# -- login with redirects and flashes --------------------------------------------------------


def test_form_login_redirects_home_and_logs_the_user_in(site: Site) -> None:
    response = site.login()
    assert response.headers["location"] == "/"
    assert site.who() == "hello alice"


def test_form_login_success_flash_reaches_the_next_page(site: Site) -> None:
    site.login()
    assert site.flashes() == [["success", "Welcome!"]]
    assert site.flashes() == []


def test_form_login_failure_redirects_to_login_with_the_strategys_message(site: Site) -> None:
    response = site.post_form("/login", username="alice", password="wrong")
    assert response.status_code == 302
    assert response.headers["location"] == "/login"
    assert site.flashes() == [["error", WRONG]]
    assert site.who() == "hello anonymous"


def test_unknown_user_and_wrong_password_look_the_same(site: Site) -> None:
    unknown = site.post_form("/login-api", username="mallory", password=PASSWORD)
    wrong = site.post_form("/login-api", username="alice", password="nope")
    assert (
        (unknown.status_code, unknown.text)
        == (wrong.status_code, wrong.text)
        == (
            401,
            "Unauthorized",
        )
    )


def test_api_login_answers_from_the_view_with_the_user(site: Site) -> None:
    response = site.post_form("/login-api", username="bob", password="builder")
    assert response.status_code == 200
    assert response.json() == {"user": "bob"}
    assert site.who() == "hello bob"


# -- the multi-strategy chain ----------------------------------------------------------------


def test_chain_failure_is_401_with_every_challenge_in_order(site: Site) -> None:
    response = site.client.get("/api")
    assert response.status_code == 401
    assert response.text == "Unauthorized"
    assert challenges(response) == f"{TOKEN_CHALLENGE}, {BASIC_CHALLENGE}"


def test_chain_first_success_wins_and_logs_nobody_in_with_session_false(site: Site) -> None:
    response = site.client.get("/api", headers={"authorization": f"Token {TOKEN}"})
    assert response.status_code == 200
    assert response.json() == {"user": "alice"}
    assert "www-authenticate" not in response.headers
    assert site.who() == "hello anonymous"


# -- custom callback -------------------------------------------------------------------------


def test_custom_callback_gets_the_user_and_nobody_is_logged_in(site: Site) -> None:
    response = site.post_form("/login-callback", username="alice", password=PASSWORD)
    assert response.status_code == 200
    assert response.json() == {"ok": True, "user": "alice", "challenge": None, "status": None}
    assert site.who() == "hello anonymous"


def test_custom_callback_gets_the_failure(site: Site) -> None:
    response = site.post_form("/login-callback", username="alice", password="wrong")
    assert response.json() == {"ok": False, "user": None, "challenge": WRONG, "status": None}


# -- authorize: linking an account -----------------------------------------------------------


def test_authorize_puts_the_account_beside_the_logged_in_user(site: Site) -> None:
    site.login("alice")
    response = site.post_form("/link", username="bob", password="builder")
    assert response.status_code == 200
    assert response.json() == {"user": "alice", "account": "bob"}
    assert site.who() == "hello alice"


def test_authorize_with_wrong_credentials_is_401_and_keeps_the_user(site: Site) -> None:
    site.login("alice")
    response = site.post_form("/link", username="bob", password="wrong")
    assert response.status_code == 401
    assert site.who() == "hello alice"


# -- session regeneration ----------------------------------------------------------------------


def assert_ended(site: Site, cookie: str) -> None:
    """The session this cookie named holds nothing any more (sessions with ids only: a cookie
    session cannot be revoked)."""
    site.use_session_cookie(cookie)
    assert site.session()["data"] == {}
    assert site.who() == "hello anonymous"


def test_login_drops_pre_login_session_data(site: Site) -> None:
    site.post_form("/cart", item="book")
    before, before_cookie = site.session(), site.session_cookie()
    assert before["data"] == {"cart": "book"}
    site.login()
    after = site.session()
    assert session_identity(after["data"], sent_by(site.client)) == {"passport": {"user": 1}}
    if before["id"] is not None:  # a session with ids (Django, server-side) gets a new one
        assert after["id"] not in (None, before["id"])
        assert_ended(site, before_cookie)  # no session fixation through the old id


def test_login_keeps_the_return_to_url(site: Site) -> None:
    site.client.get("/private", headers=BROWSER)
    assert site.session()["data"] == {"return_to": "/private"}
    response = site.post_form("/login-api", username="alice", password=PASSWORD)
    assert response.status_code == 200
    assert session_identity(site.session()["data"], sent_by(site.client)) == {
        "return_to": "/private",
        "passport": {"user": 1},
    }


def test_logout_removes_the_user_and_regenerates(site: Site) -> None:
    site.login()
    before, before_cookie = site.session(), site.session_cookie()
    response = site.client.post("/logout")
    assert response.status_code == 302
    assert response.headers["location"] == "/"
    after = site.session()
    assert "user" not in after["data"].get("passport", {})
    assert site.who() == "hello anonymous"
    if before["id"] is not None:
        assert after["id"] != before["id"]
        assert_ended(site, before_cookie)  # a copy of the logged-in cookie logs nobody in


def test_a_deleted_user_is_logged_out_quietly(site: Site) -> None:
    site.login()
    del site.store.users[1]
    assert site.who() == "hello anonymous"
    assert "user" not in site.session()["data"].get("passport", {})


def test_the_user_is_deserialized_once_per_request_and_only_with_a_login(site: Site) -> None:
    site.who()
    assert site.store.deserialize_calls == []
    site.login()
    site.store.deserialize_calls.clear()
    site.who()
    assert site.store.deserialize_calls == [1]


def test_a_logged_in_response_is_not_cacheable_and_varies_on_cookie(site: Site) -> None:
    site.login()
    response = site.client.get("/")
    assert response.headers["cache-control"] == "no-store"
    assert "cookie" in response.headers["vary"].lower()


# -- login_required ----------------------------------------------------------------------------


def test_login_required_sends_browsers_to_login_with_next(site: Site) -> None:
    response = site.client.get("/private?tab=1", headers=BROWSER)
    assert response.status_code == 302
    assert response.headers["location"] == "/login?next=%2Fprivate%3Ftab%3D1"


def test_login_required_answers_api_clients_401(site: Site) -> None:
    assert site.client.get("/private", headers=API).status_code == 401


def test_login_required_answers_401_to_a_request_with_authorization(site: Site) -> None:
    headers = {**BROWSER, "authorization": "Token nope"}
    assert site.client.get("/private", headers=headers).status_code == 401


def test_login_required_lets_the_logged_in_user_through(site: Site) -> None:
    site.login()
    response = site.client.get("/private", headers=BROWSER)
    assert response.status_code == 200
    assert response.json() == {"user": "alice"}


def test_login_returns_to_the_page_that_required_it(site: Site) -> None:
    site.client.get("/private", headers=BROWSER)
    assert site.login().headers["location"] == "/private"


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.test/",
        "//evil.test",
        "/\\evil.test",
        "\\\\evil.test",
        "javascript:alert(1)",
        "http:evil.test",
        " /evil",
    ],
)
def test_an_unsafe_next_ends_on_home(site: Site, next_url: str) -> None:
    response = site.client.post(
        "/login", params={"next": next_url}, data={"username": "alice", "password": PASSWORD}
    )
    assert response.headers["location"] == "/"


def test_a_same_site_next_is_followed(site: Site) -> None:
    response = site.client.post(
        "/login", params={"next": "/orders?id=7"}, data={"username": "alice", "password": PASSWORD}
    )
    assert response.headers["location"] == "/orders?id=7"


# -- custom strategies, sync and async ---------------------------------------------------------


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_custom_strategy_authenticates(site: Site, kind: str) -> None:
    response = site.client.get(f"/custom/{kind}", headers={"x-member": "bob"})
    assert response.status_code == 200
    assert response.json() == {"user": "bob"}


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_custom_strategy_failure_is_401_with_its_challenge(site: Site, kind: str) -> None:
    response = site.client.get(f"/custom/{kind}")
    assert response.status_code == 401
    assert challenges(response) == "Member"
