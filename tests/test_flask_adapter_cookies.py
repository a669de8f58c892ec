"""The Flask adapter's cookies, Vary and `restore_with` (remember-me), through real Flask apps.

`RememberStrategy` ("remember-me") stands in for the real remember-me strategy: cookie
`rm=v1` recalls alice (rotating the cookie to `v2`, login not fresh), any other `rm` value
fails and deletes the cookie, no cookie passes. It remembers a login with `rm=token-<id>` and
deletes `rm` on logout. `HeaderStrategy` ("header") reads `Authorization: Token <name>`, so
its answers vary on that header, and sets a `seen` cookie when it passes or succeeds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from behaviour.tokens import token_client
from flask import Flask, Response, abort, g, make_response, session
from flask.testing import FlaskClient
from session_entries import FLASK, identity
from users import PASSWORD, User, UserStore, local_passport

from passport_py import Authenticator, ConfigurationError, SessionRequiredError, Strategy
from passport_py.adapters.flask import (
    FlaskPassport,
    aget_user,
    alogin,
    alogout,
    authenticate,
    current_user,
    fresh_login_required,
    get_user,
    login,
    login_required,
    logout,
)
from passport_py.cookies import Cookie
from passport_py.options import AuthenticateOptions
from passport_py.outcomes import Outcome
from passport_py.request import AuthRequest

SECRET = "flask-cookie-tests-secret-2b7e11f04c95"
API = {"accept": "application/json"}
#: The remember-me cookie as the strategy sets it; its deletion must carry the same attributes.
RM = Cookie("rm", "", max_age=60, path="/", domain="app.test", secure=True, samesite="strict")
EPOCH = "expires=thu, 01 jan 1970 00:00:00 gmt"


class RememberStrategy(Strategy):
    """A remember-me stand-in that counts how often it runs."""

    name = "remember-me"

    def __init__(self, store: UserStore, *, slow: bool = False) -> None:
        self.store = store
        self.slow = slow  # await real I/O (a timer), which only an event loop can finish
        self.calls = 0

    async def authenticate(self, request: AuthRequest, options: AuthenticateOptions) -> Outcome:
        self.calls += 1
        if self.slow:
            await asyncio.sleep(0.001)
        value = request.cookies.get("rm")
        if value is None:
            return self.pass_()
        if value != "v1":
            return self.fail(cookies=(RM.deletion(),))
        rotated = Cookie("rm", "v2", max_age=60, domain="app.test", secure=True)
        return self.success(self.store.users[1], cookies=(rotated,), fresh=False)

    async def remember(self, request: AuthRequest, user: User) -> tuple[Cookie, ...]:
        return (Cookie("rm", f"token-{user.id}", max_age=60),)

    def logout(self, request: AuthRequest) -> tuple[Cookie, ...]:
        return (RM.deletion(),)


class HeaderStrategy(Strategy):
    """`Authorization: Token <name>` authenticates <name>; no header passes, others fail."""

    name = "header"
    vary = ("Authorization",)

    def __init__(self, store: UserStore) -> None:
        self.store = store

    def authenticate(self, request: AuthRequest, options: AuthenticateOptions) -> Outcome:
        seen = (Cookie("seen", "1"),)
        value = request.headers.get("Authorization")
        if value is None:
            return self.pass_(cookies=seen)
        user = self.store.by_name(value.removeprefix("Token "))
        if user is None:
            return self.fail("Token", cookies=(Cookie("seen", "bad"),))
        return self.success(user, cookies=seen)


@dataclass
class App:
    """One test's Flask app, its strategies and a test client."""

    app: Flask
    store: UserStore
    remember: RememberStrategy
    client: FlaskClient

    def route(self, rule: str, **options: Any) -> Callable[[Any], Any]:
        return self.app.route(rule, **options)

    def session(self) -> dict[str, Any]:
        with self.client.session_transaction() as data:
            return dict(data)


def make_app(
    *,
    restore_with: tuple[str, ...] = ("remember-me",),
    secret: str | None = SECRET,
    cache_headers: bool = True,
    slow: bool = False,
    remember_strategy: bool = True,
) -> App:
    store = UserStore.default()
    passport: Authenticator[User] = local_passport(store)
    remember = RememberStrategy(store, slow=slow)
    if remember_strategy:
        passport.use(remember)
    passport.use(HeaderStrategy(store))
    app = Flask(__name__)
    app.testing = True
    app.secret_key = secret
    FlaskPassport(app, passport, restore_with=restore_with, cache_headers=cache_headers)

    @app.get("/")
    def whoami() -> Any:
        return {"user": getattr(current_user, "username", None)}

    @app.get("/untouched")
    def untouched() -> str:
        return "nobody asked"

    @app.get("/secret")
    @login_required
    def secret_page() -> Any:
        return {"user": current_user.username}

    @app.get("/fresh")
    @fresh_login_required
    def fresh_page() -> Any:
        return {"user": current_user.username}

    @app.post("/logout")
    def log_out() -> Any:
        logout()
        return {"user": None}

    return App(app, store, remember, app.test_client())


@pytest.fixture
def site() -> App:
    return make_app()


def set_cookie(response: Any, name: str) -> set[str] | None:
    """The attributes (lower-cased) of the one `Set-Cookie` for `name`, without the `Expires`
    Werkzeug derives from a positive Max-Age (a deletion keeps its 1970 `Expires`)."""
    found = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    if not found:
        return None
    assert len(found) == 1, found
    parts = {part.strip().lower() for part in found[0].split(";")}
    return {p for p in parts if p == EPOCH or not p.startswith("expires=")}


def is_deletion_of_rm(attributes: set[str] | None) -> bool:
    """Empty, expired, and with every attribute `RM` was set with."""
    expected = {"rm=", "max-age=0", EPOCH, "path=/", "domain=app.test", "secure", "httponly"}
    return attributes == expected | {"samesite=strict"}


def vary_of(response: Any) -> list[str]:
    return [v.strip() for h in response.headers.getlist("Vary") for v in h.split(",")]


# -- (a) Proceed: cookies and Vary on the view's response -------------------------------------


def test_a_success_puts_the_strategy_cookies_on_the_view_response(site: App) -> None:
    @site.route("/api")
    @authenticate("header", session=False)
    def api() -> Any:
        return {"user": current_user.username}

    response = site.client.get("/api", headers={"Authorization": "Token bob"})
    assert response.json == {"user": "bob"}
    assert set_cookie(response, "seen") == {"seen=1", "path=/", "httponly", "samesite=lax"}


def test_a_success_through_a_credential_header_varies_on_it_and_is_not_stored(
    site: App,
) -> None:
    @site.route("/api")
    @authenticate("header", session=False)
    def api() -> str:
        return "ok"

    response = site.client.get("/api", headers={"Authorization": "Token bob"})
    assert vary_of(response) == ["Authorization", "Cookie"]  # Cookie: Flask's session
    assert response.headers.getlist("Cache-Control") == ["no-store"]


def test_the_views_own_vary_and_cache_control_are_kept(site: App) -> None:
    @site.route("/api")
    @authenticate("header", session=False)
    def api() -> Response:
        response = make_response("ok")
        response.headers.add("Vary", "Accept-Encoding")
        response.headers.add("Vary", "authorization, Origin")
        response.headers["Cache-Control"] = "private, max-age=60"
        return response

    response = site.client.get("/api", headers={"Authorization": "Token bob"})
    assert vary_of(response) == ["Accept-Encoding", "authorization", "Origin", "Cookie"]
    assert response.headers.getlist("Cache-Control") == ["private, max-age=60"]


def test_a_pass_puts_its_cookies_and_vary_on_the_view_response(site: App) -> None:
    @site.route("/api")
    @authenticate("header", session=False)
    def api() -> Any:
        return {"user": getattr(current_user, "username", None)}

    response = site.client.get("/api")
    assert response.json == {"user": None}
    assert set_cookie(response, "seen") is not None
    assert "Authorization" in vary_of(response)


def test_proceed_cookies_reach_the_response_of_a_view_that_aborts(site: App) -> None:
    @site.route("/api")
    @authenticate("header", session=False)
    def api() -> Any:
        abort(404)

    response = site.client.get("/api", headers={"Authorization": "Token bob"})
    assert response.status_code == 404
    assert set_cookie(response, "seen") is not None
    assert "Authorization" in vary_of(response)


def test_proceed_cookies_go_out_without_cache_headers() -> None:
    site = make_app(cache_headers=False)

    @site.route("/api")
    @authenticate("header", session=False)
    def api() -> str:
        return "ok"

    response = site.client.get("/api", headers={"Authorization": "Token bob"})
    assert set_cookie(response, "seen") is not None
    assert vary_of(response)[0] == "Authorization"
    assert response.headers["Cache-Control"] == "no-store"


def test_a_custom_callbacks_response_carries_the_strategy_cookies_and_vary(site: App) -> None:
    @site.route("/api")
    @authenticate("header", session=False, callback=lambda result: {"ok": result.ok})
    def api() -> str:  # pragma: no cover - the callback answers
        return "view"

    for headers in ({"Authorization": "Token bob"}, {"Authorization": "Token mallory"}):
        response = site.client.get("/api", headers=headers)
        assert response.status_code == 200
        assert set_cookie(response, "seen") is not None
        assert "Authorization" in vary_of(response)
        assert response.headers["Cache-Control"] == "no-store"


# -- (b) Respond: cookies on the response built from the decision --------------------------


def test_a_failure_answer_carries_the_strategy_cookies(site: App) -> None:
    @site.route("/api")
    @authenticate("header", session=False)
    def api() -> str:  # pragma: no cover - refused
        return "ok"

    response = site.client.get("/api", headers={"Authorization": "Token mallory"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"
    assert set_cookie(response, "seen") == {"seen=bad", "path=/", "httponly", "samesite=lax"}
    assert "Authorization" in vary_of(response)


def test_a_login_redirect_carries_the_remember_cookie_when_asked(site: App) -> None:
    @site.route("/login", methods=["POST"])
    @authenticate("local", remember="remember_me", success_redirect="/")
    def log_in() -> str:  # pragma: no cover - redirects
        return "ok"

    form = {"username": "alice", "password": PASSWORD}
    response = site.client.post("/login", data={**form, "remember_me": "on"})
    assert response.status_code == 302
    assert set_cookie(response, "rm") == {
        "rm=token-1",
        "max-age=60",
        "path=/",
        "httponly",
        "samesite=lax",
    }
    unticked = make_app().client.post("/login", data=form)
    assert set_cookie(unticked, "rm") is None


# -- (c) logout ------------------------------------------------------------------------------


def test_logout_deletes_the_remember_cookie_with_all_its_attributes(site: App) -> None:
    response = site.client.post("/logout")
    assert is_deletion_of_rm(set_cookie(response, "rm"))


def test_alogout_deletes_the_remember_cookie_in_an_async_view(site: App) -> None:
    @site.route("/async/logout", methods=["POST"])
    async def async_logout() -> Any:
        await alogout()
        return {"user": None}

    response = site.client.post("/async/logout")
    assert is_deletion_of_rm(set_cookie(response, "rm"))


def test_a_logout_after_a_recall_sends_only_the_deletion(site: App) -> None:
    @site.route("/recall-then-logout", methods=["POST"])
    def recall_then_logout() -> Any:
        assert current_user.username == "alice"
        logout()
        return {"user": None}

    site.client.set_cookie("rm", "v1")
    response = site.client.post("/recall-then-logout")
    assert is_deletion_of_rm(set_cookie(response, "rm"))
    assert "user" not in site.session().get("passport", {})


# -- (d) login(..., remember=True) ---------------------------------------------------------


def test_login_with_remember_sets_the_remember_cookie(site: App) -> None:
    @site.route("/remember", methods=["POST"])
    def remember() -> Any:
        login(site.store.users[2], remember=True)
        return {"user": current_user.username}

    response = site.client.post("/remember")
    assert response.json == {"user": "bob"}
    assert set_cookie(response, "rm") == {
        "rm=token-2",
        "max-age=60",
        "path=/",
        "httponly",
        "samesite=lax",
    }
    assert site.session()["passport"]["user"] == 2


def test_login_without_remember_sets_no_remember_cookie(site: App) -> None:
    @site.route("/plain", methods=["POST"])
    def plain() -> str:
        login(site.store.users[2])
        return "ok"

    assert set_cookie(site.client.post("/plain"), "rm") is None


def test_alogin_with_remember_sets_the_remember_cookie(site: App) -> None:
    @site.route("/async/remember", methods=["POST"])
    async def remember() -> Any:
        await alogin(site.store.users[1], remember=True)
        return {"user": (await aget_user()).username}

    response = site.client.post("/async/remember")
    assert response.json == {"user": "alice"}
    assert set_cookie(response, "rm") is not None


def test_login_with_remember_needs_a_remember_me_strategy() -> None:
    site = make_app(restore_with=(), remember_strategy=False)

    @site.route("/remember", methods=["POST"])
    def remember() -> str:  # pragma: no cover - raises
        login(site.store.users[1], remember=True)
        return "ok"

    with pytest.raises(ConfigurationError, match="RememberMeStrategy"):
        site.client.post("/remember")


def test_login_with_remember_refuses_a_login_without_session(site: App) -> None:
    @site.route("/remember", methods=["POST"])
    def remember() -> str:  # pragma: no cover - raises
        login(site.store.users[1], session=False, remember=True)
        return "ok"

    with pytest.raises(ConfigurationError, match="session=False"):
        site.client.post("/remember")


# -- (e) restore_with ------------------------------------------------------------------------


def test_a_remember_cookie_logs_the_user_back_in(site: App) -> None:
    site.client.set_cookie("rm", "v1")
    response = site.client.get("/")
    assert response.json == {"user": "alice"}
    assert set_cookie(response, "rm") == {
        "rm=v2",
        "max-age=60",
        "path=/",
        "domain=app.test",
        "secure",
        "httponly",
        "samesite=lax",
    }
    assert response.headers["Cache-Control"] == "no-store"
    assert "Cookie" in vary_of(response)
    assert identity(site.session()["passport"], FLASK) == {"user": 1, "fresh": False}


def test_a_recalled_login_is_then_restored_from_the_session(site: App) -> None:
    site.client.set_cookie("rm", "v1")
    site.client.get("/")
    site.client.delete_cookie("rm")
    assert site.client.get("/").json == {"user": "alice"}
    assert site.remember.calls == 1
    assert site.store.deserialize_calls == [1]


def test_recall_runs_at_most_once_per_request(site: App) -> None:
    @site.route("/twice")
    def twice() -> Any:
        first = get_user()
        return {"same": first is get_user() and current_user.username == "alice"}

    site.client.set_cookie("rm", "v1")
    assert site.client.get("/twice").json == {"same": True}
    assert site.remember.calls == 1


def test_an_anonymous_request_without_a_cookie_asks_once_and_stays_cacheable(
    site: App,
) -> None:
    @site.route("/twice")
    def twice() -> Any:
        return {"users": [getattr(get_user(), "username", None) for _ in range(3)]}

    response = site.client.get("/twice")
    assert response.json == {"users": [None, None, None]}
    assert site.remember.calls == 1
    assert "Set-Cookie" not in response.headers
    assert "Cache-Control" not in response.headers


def test_nothing_is_recalled_when_the_view_never_asks_for_the_user(site: App) -> None:
    site.client.set_cookie("rm", "v1")
    response = site.client.get("/untouched")
    assert site.remember.calls == 0
    assert set_cookie(response, "rm") is None


def test_nothing_is_recalled_without_restore_with() -> None:
    site = make_app(restore_with=())
    site.client.set_cookie("rm", "v1")
    assert site.client.get("/").json == {"user": None}
    assert site.remember.calls == 0


def test_a_session_login_is_not_replaced_by_the_remember_cookie(site: App) -> None:
    @site.route("/login-bob", methods=["POST"])
    def login_bob() -> str:
        login(site.store.users[2])
        return "ok"

    site.client.post("/login-bob")
    site.client.set_cookie("rm", "v1")
    assert site.client.get("/").json == {"user": "bob"}
    assert site.remember.calls == 0


def test_a_deleted_users_session_falls_back_to_the_remember_cookie(site: App) -> None:
    with site.client.session_transaction() as data:
        data["passport"] = {"user": 99}
    site.client.set_cookie("rm", "v1")
    assert site.client.get("/").json == {"user": "alice"}
    assert site.session()["passport"]["user"] == 1


def test_a_rejected_remember_cookie_is_deleted_and_the_request_stays_anonymous(
    site: App,
) -> None:
    site.client.set_cookie("rm", "stolen")
    response = site.client.get("/")
    assert response.status_code == 200
    assert response.json == {"user": None}
    assert is_deletion_of_rm(set_cookie(response, "rm"))
    assert response.headers["Cache-Control"] == "no-store"


def test_restore_with_without_a_session_says_how_to_get_one() -> None:
    site = make_app(secret=None)
    with pytest.raises(SessionRequiredError, match="secret_key"):
        site.client.get("/")


def test_login_required_lets_a_recalled_user_through(site: App) -> None:
    site.client.set_cookie("rm", "v1")
    assert site.client.get("/secret", headers=API).json == {"user": "alice"}


def test_fresh_login_required_refuses_a_recalled_login(site: App) -> None:
    site.client.set_cookie("rm", "v1")
    response = site.client.get("/fresh", headers=API)
    assert response.status_code == 401
    # The recall still happened: the rotated cookie and the session login went out.
    assert set_cookie(response, "rm") is not None
    assert site.client.get("/secret", headers=API).status_code == 200
    assert site.client.get("/fresh", headers=API).status_code == 401


def test_a_remembered_success_logged_into_the_session_is_not_fresh(site: App) -> None:
    @site.route("/via-cookie")
    @authenticate("remember-me")
    @fresh_login_required
    def via_cookie() -> str:  # pragma: no cover - refused
        return "fresh"

    site.client.set_cookie("rm", "v1")
    assert site.client.get("/via-cookie", headers=API).status_code == 401


def test_a_not_fresh_success_without_a_session_is_not_fresh_either(site: App) -> None:
    @site.route("/stateless-cookie")
    @authenticate("remember-me", session=False)
    @fresh_login_required
    def stateless_cookie() -> str:  # pragma: no cover - refused
        return "fresh"

    site.client.set_cookie("rm", "v1")
    assert site.client.get("/stateless-cookie", headers=API).status_code == 401


def test_aget_user_recalls_with_a_strategy_awaiting_real_io() -> None:
    site = make_app(slow=True)

    @site.route("/async/me")
    async def async_me() -> Any:
        user = await aget_user()
        return {"user": user.username, "again": current_user.username}

    site.client.set_cookie("rm", "v1")
    response = site.client.get("/async/me")
    assert response.json == {"user": "alice", "again": "alice"}
    assert set_cookie(response, "rm") is not None
    assert site.remember.calls == 1


def test_recalled_cookies_reach_an_http_error_response(site: App) -> None:
    @site.route("/forbidden")
    def forbidden() -> Any:
        g.who = current_user.username
        abort(403)

    site.client.set_cookie("rm", "v1")
    response = site.client.get("/forbidden")
    assert response.status_code == 403
    assert set_cookie(response, "rm") is not None
    assert site.session()["passport"]["user"] == 1


def test_recalled_cookies_reach_the_500_page_of_an_unhandled_error() -> None:
    site = make_app()
    site.app.testing = False  # Flask then answers an unhandled error with its 500 page

    @site.route("/broken")
    def broken() -> Any:
        session["seen"] = current_user.username
        raise RuntimeError("the view broke")

    site.client.set_cookie("rm", "v1")
    response = site.client.get("/broken")
    assert response.status_code == 500
    assert set_cookie(response, "rm") is not None
    assert site.session()["passport"]["user"] == 1


# -- the cross-framework token app ---------------------------------------------------------


def test_token_app_remembers_a_form_login_and_recalls_it_in_a_new_session() -> None:
    store = UserStore.default()
    passport = local_passport(store)
    passport.use(RememberStrategy(store))
    form = {"username": "alice", "password": PASSWORD, "remember_me": "on"}
    with token_client("flask", passport, restore_with=("remember-me",)) as client:
        response = client.post("/tokens/login", data=form)
        assert response.status_code == 302
        assert response.headers["location"] == "/tokens/who"
        assert client.cookies["rm"] == "token-1"
    with token_client("flask", passport, restore_with=("remember-me",)) as client:
        client.cookies.set("rm", "v1")
        assert client.get("/tokens/who").json() == {"user": "alice", "fresh": False}
