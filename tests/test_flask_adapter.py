"""The Flask adapter driven through real Flask apps with Flask's test client.

`make_kit()` builds a Flask app with `FlaskPassport`, the local strategy over a
`users.UserStore` (which counts `verify` and `deserialize` calls), and a test client. Tests add
their own routes to `kit.app` before the first request.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import (
    Flask,
    Request,
    Response,
    flash,
    g,
    get_flashed_messages,
    message_flashed,
    render_template_string,
    request,
    session,
)
from flask.sessions import SessionInterface, SessionMixin
from flask.testing import FlaskClient
from session_entries import FLASK, identity, session_identity
from users import PASSWORD, WRONG, User, UserStore, local_passport
from werkzeug.datastructures import CallbackDict

from passport_py import (
    AuthenticationError,
    Authenticator,
    AuthResult,
    ConfigurationError,
    SessionRequiredError,
    Strategy,
    SyncContextError,
)
from passport_py.adapters.flask import (
    AnonymousUser,
    FlaskPassport,
    aget_user,
    alogin,
    authenticate,
    authorize,
    current_user,
    fresh_login_required,
    get_user,
    is_authenticated,
    login,
    login_required,
    logout,
)
from passport_py.outcomes import Outcome
from passport_py.request import AuthRequest
from passport_py.strategies.local import LocalStrategy
from passport_py.testing import flask as testing

SECRET = "flask-tests-secret-5e0d7c2a91b3"
BROWSER = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
API = {"accept": "application/json"}
CREDENTIALS = {"username": "alice", "password": PASSWORD}


def describe(**extra: Any) -> dict[str, Any]:
    """Who `current_user` is on this request, as JSON."""
    return {
        "user": getattr(current_user, "username", None),
        "authenticated": is_authenticated(),
        **extra,
    }


@dataclass
class Kit:
    """One test's app, its passport, its users and a test client for it."""

    app: Flask
    passport: Authenticator[User]
    store: UserStore
    client: FlaskClient

    def login(self, username: str = "alice", password: str = PASSWORD) -> Any:
        response = self.client.post("/login", data={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return response

    def session(self) -> dict[str, Any]:
        """The client's session as the app's session interface reads it."""
        with self.client.session_transaction() as data:
            return dict(data)


def make_kit(
    *,
    secret: str | None = SECRET,
    session_interface: SessionInterface | None = None,
    cache_headers: bool = True,
    passport: Authenticator[User] | None = None,
    store: UserStore | None = None,
) -> Kit:
    store = store or UserStore.default()
    passport = passport or local_passport(store)
    app = Flask(__name__)
    app.testing = True  # server errors reach the test as exceptions
    app.secret_key = secret
    if session_interface is not None:
        app.session_interface = session_interface
    FlaskPassport(app, passport, login_url="/login", cache_headers=cache_headers)

    @app.get("/")
    def whoami() -> Any:
        return describe()

    @app.get("/login")
    def login_page() -> Any:
        return {"flashes": get_flashed_messages(with_categories=True)}

    @app.post("/login")
    @authenticate("local")
    def login_plain() -> Any:
        return describe(auth_info=g.auth_info)

    @app.post("/login/keep")
    @authenticate("local", keep_session_info=True)
    def login_keep() -> Any:
        return describe()

    @app.post("/login/redirect")
    @authenticate(
        "local",
        success_redirect="/welcome",
        failure_redirect="/login",
        failure_flash=True,
        success_flash="Welcome!",
    )
    def login_redirect() -> Any:  # pragma: no cover - always redirects
        return describe()

    @app.post("/login/stateless")
    @authenticate("local", session=False)
    def login_stateless() -> Any:
        return describe()

    @app.post("/logout")
    def logout_view() -> Any:
        logout()
        return describe()

    @app.route("/secret", methods=["GET", "OPTIONS"])
    @login_required
    def secret() -> Any:
        return describe(page="secret")

    @app.get("/secret/<path:rest>")
    @login_required
    def secret_deep(rest: str) -> Any:
        return describe(page=rest)

    @app.get("/fresh")
    @fresh_login_required
    def fresh() -> Any:
        return describe(page="fresh")

    @app.post("/prepare")
    def prepare() -> Any:
        session["cart"] = ["book"]
        session["return_to"] = "/orders"
        flash("Please log in", "info")
        return {"ok": True}

    @app.get("/untouched")
    def untouched() -> str:
        return "nobody asked who you are"

    return Kit(app, passport, store, app.test_client())


@pytest.fixture
def kit() -> Kit:
    return make_kit()


# -- current_user ----------------------------------------------------------------------------


def test_current_user_is_the_logged_in_user_on_later_requests(kit: Kit) -> None:
    kit.login()
    assert kit.client.get("/").json == {"user": "alice", "authenticated": True}


def test_no_deserialization_without_a_login_in_the_session(kit: Kit) -> None:
    assert kit.client.get("/").json == {"user": None, "authenticated": False}
    kit.client.post("/prepare")  # a session with other data, but no login
    assert kit.client.get("/").json == {"user": None, "authenticated": False}
    assert kit.store.deserialize_calls == []


def test_the_user_is_deserialized_once_per_request_however_often_it_is_used(kit: Kit) -> None:
    @kit.app.get("/many")
    def many() -> Any:
        names = [current_user.username, current_user.username, get_user().username]
        page = render_template_string("{{ current_user.username }}")
        return {"names": names, "page": page, "auth": is_authenticated()}

    kit.login()
    kit.store.deserialize_calls.clear()
    response = kit.client.get("/many")
    assert response.json == {"names": ["alice"] * 3, "page": "alice", "auth": True}
    assert kit.store.deserialize_calls == [1]
    kit.client.get("/many")
    assert kit.store.deserialize_calls == [1, 1]


def test_the_user_is_not_loaded_when_the_view_does_not_ask(kit: Kit) -> None:
    kit.login()
    kit.store.deserialize_calls.clear()
    assert kit.client.get("/untouched").status_code == 200
    assert kit.store.deserialize_calls == []


def test_anonymous_user_is_falsy_and_shaped_like_flask_logins(kit: Kit) -> None:
    @kit.app.get("/anonymous")
    def anonymous() -> Any:
        return {
            "bool": bool(current_user),
            "is_authenticated": current_user.is_authenticated,
            "is_anonymous": current_user.is_anonymous,
            "is_active": current_user.is_active,
            "get_id": current_user.get_id(),
            "instance": isinstance(get_user(), AnonymousUser),
        }

    assert kit.client.get("/anonymous").json == {
        "bool": False,
        "is_authenticated": False,
        "is_anonymous": True,
        "is_active": False,
        "get_id": None,
        "instance": True,
    }


def test_templates_see_current_user(kit: Kit) -> None:
    @kit.app.get("/page")
    def page() -> str:
        return render_template_string(
            "{% if current_user %}hi {{ current_user.username }}{% else %}who?{% endif %}"
        )

    assert kit.client.get("/page").text == "who?"
    kit.login()
    assert kit.client.get("/page").text == "hi alice"


def test_the_user_does_not_leak_between_requests_in_one_app_context(kit: Kit) -> None:
    # Flask shares `g` between requests made inside one pushed app context; the user is
    # cached on the request instead.
    other = kit.app.test_client()
    with kit.app.app_context():
        kit.login()
        assert kit.client.get("/").json["user"] == "alice"
        assert other.get("/").json["user"] is None


def test_templates_rendered_outside_a_request_see_an_anonymous_user(kit: Kit) -> None:
    with kit.app.app_context():  # an email rendered by a CLI command, say
        page = render_template_string("{{ 'hi' if current_user else 'nobody' }}")
    assert page == "nobody"


def test_a_deleted_user_is_anonymous_and_leaves_the_session(kit: Kit) -> None:
    kit.client.post("/prepare")
    kit.login()
    del kit.store.users[1]
    assert kit.client.get("/").json == {"user": None, "authenticated": False}
    assert kit.session()["passport"] == {}
    kit.store.deserialize_calls.clear()
    kit.client.get("/")
    assert kit.store.deserialize_calls == []


def test_a_deserializer_with_pass_request_gets_the_flask_request() -> None:
    store = UserStore.default()
    passport: Authenticator[User] = Authenticator()
    passport.use(LocalStrategy(store.verify))
    passport.serialize_user(lambda user: user.id)
    seen: list[Any] = []

    @passport.deserialize_user(pass_request=True)
    def with_request(request: AuthRequest, user_id: Any) -> User | None:
        seen.append((request.path, type(request.native).__name__))
        return store.users.get(user_id)

    kit = make_kit(passport=passport, store=store)
    kit.login()
    assert kit.client.get("/").json["user"] == "alice"
    assert seen == [("/", "Request")]


# -- login and logout --------------------------------------------------------------------------


def test_login_regenerates_the_cookie_session_keeping_return_to_and_flashes(kit: Kit) -> None:
    kit.client.post("/prepare")
    kit.login()
    assert session_identity(kit.session(), FLASK) == {
        "passport": {"user": 1},
        "return_to": "/orders",
        "_flashes": [("info", "Please log in")],
    }


def test_login_with_keep_session_info_keeps_everything(kit: Kit) -> None:
    kit.client.post("/prepare")
    response = kit.client.post("/login/keep", data=CREDENTIALS)
    assert response.json == {"user": "alice", "authenticated": True}
    assert kit.session()["cart"] == ["book"]


def test_login_keeps_the_sessions_permanent_flag(kit: Kit) -> None:
    @kit.app.post("/permanent")
    def permanent() -> Any:
        session.permanent = True
        return {"ok": True}

    kit.client.post("/permanent")
    response = kit.client.post("/login", data=CREDENTIALS)
    assert "Expires=" in response.headers["set-cookie"]
    assert kit.session()["_permanent"] is True


def test_logout_clears_the_session(kit: Kit) -> None:
    kit.client.post("/prepare")
    kit.client.post("/login/keep", data=CREDENTIALS)
    response = kit.client.post("/logout")
    assert response.json == {"user": None, "authenticated": False}
    assert kit.session() == {}
    assert kit.client.get("/").json["authenticated"] is False


def test_login_from_a_view_makes_current_user_the_user_at_once(kit: Kit) -> None:
    @kit.app.post("/signup")
    def signup() -> Any:
        before = describe()
        login(kit.store.users[2])
        return {"before": before, "after": describe()}

    response = kit.client.post("/signup")
    assert response.json == {
        "before": {"user": None, "authenticated": False},
        "after": {"user": "bob", "authenticated": True},
    }
    assert session_identity(kit.session(), FLASK) == {"passport": {"user": 2}}
    assert kit.client.get("/").json["user"] == "bob"


def test_login_with_session_false_lasts_one_request(kit: Kit) -> None:
    @kit.app.post("/once")
    def once() -> Any:
        login(kit.store.users[2], session=False)
        return describe()

    assert kit.client.post("/once").json == {"user": "bob", "authenticated": True}
    assert kit.client.get("/").json["authenticated"] is False
    assert kit.session() == {}


def test_stateless_authenticate_leaves_the_session_alone(kit: Kit) -> None:
    response = kit.client.post("/login/stateless", data=CREDENTIALS)
    assert response.json == {"user": "alice", "authenticated": True}
    assert "set-cookie" not in response.headers
    assert kit.client.get("/").json["authenticated"] is False


class ServerSession(CallbackDict[str, Any], SessionMixin):
    """A server-side session: an id in the cookie, data in a dict; `regenerate()` moves it to
    a new id and deletes the old entry."""

    def __init__(self, store: dict[str, dict[str, Any]], sid: str, data: Any = None) -> None:
        def on_update(_: Any) -> None:
            self.modified = True

        super().__init__(data or {}, on_update)
        self.store = store
        self.sid = sid
        self.modified = False

    def regenerate(self) -> None:
        self.store.pop(self.sid, None)
        self.sid = secrets.token_urlsafe(16)
        self.clear()


class ServerSessionInterface(SessionInterface):
    def __init__(self) -> None:
        self.store: dict[str, dict[str, Any]] = {}

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        sid = request.cookies.get("sid")
        if sid is not None and sid in self.store:
            return ServerSession(self.store, sid, dict(self.store[sid]))
        return ServerSession(self.store, secrets.token_urlsafe(16))

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        if session.modified:
            self.store[session.sid] = dict(session)
            response.set_cookie("sid", session.sid, httponly=True)


def sid(client: FlaskClient) -> str | None:
    cookie = client.get_cookie("sid")
    return cookie.value if cookie else None


def test_login_gives_a_server_side_session_a_new_id_and_kills_the_old_one() -> None:
    interface = ServerSessionInterface()
    kit = make_kit(secret=None, session_interface=interface)
    kit.client.post("/prepare")
    before = sid(kit.client)
    assert before is not None
    assert interface.store[before]["cart"] == ["book"]

    kit.login()
    after = sid(kit.client)
    assert after not in (None, before)
    assert before not in interface.store
    assert session_identity(interface.store[after], FLASK) == {
        "passport": {"user": 1},
        "return_to": "/orders",
        "_flashes": [("info", "Please log in")],
    }

    thief = kit.app.test_client()
    thief.set_cookie("sid", before)
    assert thief.get("/").json == {"user": None, "authenticated": False}
    assert kit.client.get("/").json == {"user": "alice", "authenticated": True}


def test_logout_gives_a_server_side_session_a_new_id() -> None:
    interface = ServerSessionInterface()
    kit = make_kit(secret=None, session_interface=interface)
    kit.login()
    logged_in = sid(kit.client)
    assert logged_in is not None
    kit.client.post("/logout")
    assert sid(kit.client) != logged_in
    assert logged_in not in interface.store
    replay = kit.app.test_client()
    replay.set_cookie("sid", logged_in)
    assert replay.get("/").json["authenticated"] is False


# -- flashes -------------------------------------------------------------------------------------


def test_failure_flash_goes_through_flask_flash(kit: Kit) -> None:
    response = kit.client.post("/login/redirect", data={"username": "alice", "password": "no"})
    assert response.status_code == 302
    assert response.headers["location"] == "/login"
    assert kit.client.get("/login").json == {"flashes": [["error", WRONG]]}
    assert kit.client.get("/login").json == {"flashes": []}


def test_success_flash_survives_the_login_regeneration(kit: Kit) -> None:
    response = kit.client.post("/login/redirect", data=CREDENTIALS)
    assert response.status_code == 302
    assert response.headers["location"] == "/welcome"
    assert kit.client.get("/login").json == {"flashes": [["success", "Welcome!"]]}


def test_flashes_fire_flasks_message_flashed_signal(kit: Kit) -> None:
    seen: list[tuple[str, str]] = []

    def record(app: Flask, message: str, category: str) -> None:
        seen.append((category, message))

    with message_flashed.connected_to(record, kit.app):
        kit.client.post("/login/redirect", data={"username": "alice", "password": "no"})
    assert seen == [("error", WRONG)]


# -- login_required ----------------------------------------------------------------------------


def test_login_required_redirects_browsers_with_next_and_saves_return_to(kit: Kit) -> None:
    response = kit.client.get("/secret?tab=1", headers=BROWSER)
    assert response.status_code == 302
    assert response.headers["location"] == "/login?next=%2Fsecret%3Ftab%3D1"
    assert response.headers["cache-control"] == "no-store"
    assert kit.session() == {"return_to": "/secret?tab=1"}


def test_login_required_answers_api_clients_401(kit: Kit) -> None:
    response = kit.client.get("/secret", headers=API)
    assert response.status_code == 401
    assert response.text == "Unauthorized"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert kit.session() == {}


def test_login_required_answers_a_request_with_authorization_401(kit: Kit) -> None:
    headers = {**BROWSER, "authorization": "Bearer nope"}
    assert kit.client.get("/secret", headers=headers).status_code == 401


def test_login_required_lets_options_requests_through(kit: Kit) -> None:
    # CORS preflights carry no cookie; the view decides what to answer (as in Flask-Login).
    for headers in (BROWSER, API):
        response = kit.client.options("/secret", headers=headers)
        assert response.status_code == 200
        assert response.json == {"user": None, "authenticated": False, "page": "secret"}
    assert kit.session() == {}


def test_login_required_lets_the_logged_in_user_through(kit: Kit) -> None:
    kit.login()
    response = kit.client.get("/secret", headers=BROWSER)
    assert response.json == {"user": "alice", "authenticated": True, "page": "secret"}


def test_login_then_returns_to_the_page_that_required_it(kit: Kit) -> None:
    @kit.app.post("/login/return")
    @authenticate("local", success_return_to_or_redirect="/")
    def login_return() -> str:  # pragma: no cover - always redirects
        return "unreachable"

    kit.client.get("/secret/a%20b?x=1", headers=BROWSER)
    response = kit.client.post("/login/return", data=CREDENTIALS)
    assert response.headers["location"] == "/secret/a%20b?x=1"
    assert "return_to" not in kit.session()


def test_login_required_re_encodes_a_non_ascii_path_for_next(kit: Kit) -> None:
    response = kit.client.get("/secret/caf%C3%A9", headers=BROWSER)
    assert response.headers["location"] == "/login?next=%2Fsecret%2Fcaf%25C3%25A9"
    assert kit.session() == {"return_to": "/secret/caf%C3%A9"}


def test_login_required_includes_the_apps_mount_point_in_next(kit: Kit) -> None:
    response = kit.client.get("/secret", base_url="http://localhost/app/", headers=BROWSER)
    assert response.headers["location"] == "/login?next=%2Fapp%2Fsecret"


def test_login_required_takes_its_own_login_url(kit: Kit) -> None:
    @kit.app.get("/admin")
    @login_required(login_url="/admin/login")
    def admin() -> str:  # pragma: no cover - refused
        return "admin"

    response = kit.client.get("/admin", headers=BROWSER)
    assert response.headers["location"] == "/admin/login?next=%2Fadmin"


def test_login_url_may_be_an_endpoint_name() -> None:
    app = Flask(__name__)
    app.secret_key = SECRET
    FlaskPassport(app, local_passport(UserStore.default()), login_url="sign_in")

    @app.get("/auth/sign-in")
    def sign_in() -> str:  # pragma: no cover - only its URL is used
        return "form"

    @app.get("/private")
    @login_required
    def private() -> str:  # pragma: no cover - refused
        return "private"

    response = app.test_client().get("/private", headers=BROWSER)
    assert response.headers["location"] == "/auth/sign-in?next=%2Fprivate"


# -- fresh_login_required ----------------------------------------------------------------------


def test_fresh_login_required_lets_a_password_login_through(kit: Kit) -> None:
    kit.login()
    assert kit.client.get("/fresh", headers=BROWSER).json["page"] == "fresh"


def test_fresh_login_required_refuses_a_remembered_login(kit: Kit) -> None:
    @kit.app.post("/remember")
    def remember() -> Any:
        login(kit.store.users[1], fresh=False)
        return describe()

    kit.client.post("/remember")
    assert kit.client.get("/secret", headers=BROWSER).status_code == 200  # still logged in
    response = kit.client.get("/fresh", headers=BROWSER)
    assert response.status_code == 302
    assert response.headers["location"] == "/login?next=%2Ffresh"
    assert kit.client.get("/fresh", headers=API).status_code == 401
    kit.login()  # logging in again with the password makes it fresh
    assert kit.client.get("/fresh", headers=API).status_code == 200


def test_fresh_login_required_refuses_anonymous_users(kit: Kit) -> None:
    assert kit.client.get("/fresh", headers=API).status_code == 401
    assert kit.client.get("/fresh", headers=BROWSER).status_code == 302


def test_credentials_checked_on_this_request_are_fresh(kit: Kit) -> None:
    @kit.app.post("/transfer")
    @authenticate("local", session=False)
    @fresh_login_required
    def transfer() -> Any:
        return describe(page="transfer")

    testing.login(kit.client, kit.store.users[2], fresh=False)
    response = kit.client.post("/transfer", data=CREDENTIALS, headers=API)
    assert response.json == {"user": "alice", "authenticated": True, "page": "transfer"}


# -- authenticate and authorize ------------------------------------------------------------------


class TokenStrategy(Strategy):
    """`Authorization: Token <name>` logs in the user called <name>, with info."""

    name = "token"

    def __init__(self, store: UserStore) -> None:
        self.store = store

    def authenticate(self, request: AuthRequest, options: Any) -> Outcome:
        scheme, _, name = str(request.headers.get("authorization") or "").partition(" ")
        user = next((u for u in self.store.users.values() if u.username == name), None)
        if scheme == "Token" and user is not None:
            return self.success(user, {"scope": "read"})
        return self.fail('Token realm="api"')


class BasicChallenge(Strategy):
    name = "basic"

    def authenticate(self, request: AuthRequest, options: Any) -> Outcome:
        return self.fail('Basic realm="users"')


def token_kit() -> Kit:
    store = UserStore.default()
    passport = local_passport(store)
    passport.use(TokenStrategy(store))
    passport.use(BasicChallenge())
    return make_kit(passport=passport, store=store)


def test_auth_info_is_on_g(kit: Kit) -> None:
    assert kit.login().json["auth_info"] == {}
    tokens = token_kit()

    @tokens.app.get("/api")
    @authenticate("token", session=False)
    def api() -> Any:
        return describe(info=g.auth_info)

    response = tokens.client.get("/api", headers={"authorization": "Token bob"})
    assert response.json == {"user": "bob", "authenticated": True, "info": {"scope": "read"}}


def test_a_failing_chain_sends_one_www_authenticate_per_challenge() -> None:
    kit = token_kit()

    @kit.app.get("/api")
    @authenticate(["token", "basic"], session=False)
    def api() -> Any:  # pragma: no cover - refused
        return describe()

    response = kit.client.get("/api")
    assert response.status_code == 401
    assert response.headers.getlist("WWW-Authenticate") == [
        'Token realm="api"',
        'Basic realm="users"',
    ]
    assert response.text == "Unauthorized"


def test_authorize_puts_the_account_on_g_and_leaves_current_user() -> None:
    kit = token_kit()

    @kit.app.post("/link")
    @login_required
    @authorize("token")
    def link() -> Any:
        return describe(account=g.account.username, info=g.auth_info)

    kit.login()
    response = kit.client.post("/link", headers={**API, "authorization": "Token bob"})
    assert response.json == {
        "user": "alice",
        "authenticated": True,
        "account": "bob",
        "info": {"scope": "read"},
    }
    assert identity(kit.session()["passport"], FLASK) == {"user": 1}


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_custom_callback_gets_the_result_and_answers(kind: str) -> None:
    kit = make_kit()

    def sync_callback(result: AuthResult[User]) -> Any:
        return {"ok": result.ok, "user": getattr(result.user, "username", None)}, 202

    async def async_callback(result: AuthResult[User]) -> Any:
        await asyncio.sleep(0)
        return sync_callback(result)

    callback: Callable[[AuthResult[User]], Any] = (
        sync_callback if kind == "sync" else async_callback
    )

    @kit.app.post("/login/callback")
    @authenticate("local", callback=callback)
    def login_callback() -> str:  # pragma: no cover - the callback answers
        return "unreachable"

    response = kit.client.post("/login/callback", data=CREDENTIALS)
    assert (response.status_code, response.json) == (202, {"ok": True, "user": "alice"})
    assert kit.session() == {}
    response = kit.client.post("/login/callback", data={"username": "alice", "password": "x"})
    assert response.json == {"ok": False, "user": None}


def test_fail_with_error_reaches_the_apps_error_handler(kit: Kit) -> None:
    @kit.app.errorhandler(AuthenticationError)
    def refused(error: AuthenticationError) -> Any:
        return {"error": error.message}, error.status, error.headers

    @kit.app.post("/login/strict")
    @authenticate("local", fail_with_error=True)
    def strict() -> Any:  # pragma: no cover - refused
        return describe()

    response = kit.client.post("/login/strict", data={"username": "alice", "password": "x"})
    assert (response.status_code, response.json) == (401, {"error": "Unauthorized"})


def test_a_passing_strategy_lets_the_view_run_anonymously(kit: Kit) -> None:
    class Passing(Strategy):
        name = "passing"

        def authenticate(self, request: AuthRequest, options: Any) -> Outcome:
            return self.pass_()

    @kit.app.get("/open")
    @authenticate(Passing())
    def open_view() -> Any:
        return describe(info=g.get("auth_info"))

    assert kit.client.get("/open").json == {"user": None, "authenticated": False, "info": None}


def test_a_form_the_app_parsed_first_is_reused(kit: Kit) -> None:
    @kit.app.before_request
    def csrf_check() -> None:
        if request.method == "POST":
            assert request.form.get("csrf") in (None, "token")

    response = kit.client.post("/login", data={**CREDENTIALS, "csrf": "token"})
    assert response.json == {"user": "alice", "authenticated": True, "auth_info": {}}


def test_the_view_can_still_read_a_body_the_strategy_read(kit: Kit) -> None:
    @kit.app.post("/login/echo")
    @authenticate("local")
    def echo() -> Any:
        return {"form": request.form.get("note"), "user": current_user.username}

    response = kit.client.post("/login/echo", data={**CREDENTIALS, "note": "hi"})
    assert response.json == {"form": "hi", "user": "alice"}


# -- async views ---------------------------------------------------------------------------------


def async_kit() -> Kit:
    """A passport whose verify, serializer and deserializer await real timers: they need the
    event loop an async view runs on."""
    store = UserStore.default()
    passport: Authenticator[User] = Authenticator()

    async def verify(username: str, password: str) -> Any:
        await asyncio.sleep(0.001)
        return store.verify(username, password)

    async def serialize(user: User) -> int:
        await asyncio.sleep(0.001)
        return user.id

    async def deserialize(user_id: Any) -> User | None:
        await asyncio.sleep(0.001)
        return store.deserialize(user_id)

    passport.use(LocalStrategy(verify))
    passport.serialize_user(serialize)
    passport.deserialize_user(deserialize)
    kit = make_kit(passport=passport, store=store)

    @kit.app.post("/async/login")
    @authenticate("local")
    async def async_login() -> Any:
        return describe()

    @kit.app.get("/async/secret")
    @login_required
    async def async_secret() -> Any:
        return describe(page="async")

    @kit.app.get("/async/fresh")
    @fresh_login_required
    async def async_fresh() -> Any:
        return describe(page="async-fresh")

    async def answer(result: AuthResult[User]) -> Any:
        await asyncio.sleep(0.001)
        return {"ok": result.ok, "user": getattr(result.user, "username", None)}

    @kit.app.post("/async/callback")
    @authenticate("local", callback=answer)
    async def async_callback() -> str:  # pragma: no cover - the callback answers
        return "unreachable"

    @kit.app.post("/async/signup")
    async def async_signup() -> Any:
        await alogin(store.users[2])
        return {"user": (await aget_user()).username}

    return kit


def test_authenticate_on_an_async_view_awaits_the_core_on_its_loop() -> None:
    kit = async_kit()
    response = kit.client.post("/async/login", data=CREDENTIALS)
    assert response.json == {"user": "alice", "authenticated": True}
    assert session_identity(kit.session(), FLASK) == {"passport": {"user": 1}}


def test_login_required_on_an_async_view_loads_the_user_on_its_loop() -> None:
    kit = async_kit()
    assert kit.client.get("/async/secret", headers=API).status_code == 401
    assert kit.client.get("/async/secret", headers=BROWSER).status_code == 302
    kit.client.post("/async/login", data=CREDENTIALS)
    kit.store.deserialize_calls.clear()
    response = kit.client.get("/async/secret", headers=API)
    assert response.json == {"user": "alice", "authenticated": True, "page": "async"}
    assert kit.store.deserialize_calls == [1]
    assert kit.client.get("/async/fresh", headers=API).json["page"] == "async-fresh"


def test_a_custom_callback_on_an_async_view_is_awaited_on_its_loop() -> None:
    kit = async_kit()
    response = kit.client.post("/async/callback", data=CREDENTIALS)
    assert response.json == {"ok": True, "user": "alice"}
    assert kit.session() == {}


def test_alogin_in_an_async_view_awaits_an_async_serializer() -> None:
    kit = async_kit()
    assert kit.client.post("/async/signup").json == {"user": "bob"}
    assert session_identity(kit.session(), FLASK) == {"passport": {"user": 2}}


def test_a_sync_view_whose_deserializer_awaits_real_io_names_the_fix() -> None:
    kit = async_kit()
    kit.client.post("/async/login", data=CREDENTIALS)
    with pytest.raises(SyncContextError, match="async view"):
        kit.client.get("/")


# -- cache headers -------------------------------------------------------------------------------


def test_logged_in_responses_are_not_stored_even_when_the_user_was_not_loaded(kit: Kit) -> None:
    kit.login()
    response = kit.client.get("/untouched")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["vary"] == "Cookie"


def test_login_and_logout_responses_are_not_stored(kit: Kit) -> None:
    assert kit.login().headers["cache-control"] == "no-store"
    response = kit.client.post("/logout")
    assert response.headers["cache-control"] == "no-store"
    assert "Cookie" in response.headers["vary"]


def test_anonymous_responses_keep_default_caching_but_vary_on_cookie(kit: Kit) -> None:
    # A shared cache may keep an anonymous page, but must not serve it to a logged-in user.
    response = kit.client.get("/untouched")
    assert "cache-control" not in response.headers
    assert response.headers["vary"] == "Cookie"


def test_the_views_own_cache_control_is_kept(kit: Kit) -> None:
    @kit.app.get("/cached")
    def cached() -> Any:
        return describe(), {"Cache-Control": "private, max-age=60"}

    kit.login()
    response = kit.client.get("/cached")
    assert response.headers["cache-control"] == "private, max-age=60"
    assert response.headers["vary"] == "Cookie"


def test_cache_headers_can_be_turned_off() -> None:
    kit = make_kit(cache_headers=False)
    kit.login()
    response = kit.client.get("/untouched")
    assert "cache-control" not in response.headers


# -- passport_py.testing.flask -------------------------------------------------------------------


def test_testing_login_and_logout_work_on_the_test_client(kit: Kit) -> None:
    testing.login(kit.client, kit.store.users[2])
    assert kit.client.get("/secret", headers=API).json == {
        "user": "bob",
        "authenticated": True,
        "page": "secret",
    }
    assert kit.client.get("/fresh", headers=API).status_code == 200
    testing.logout(kit.client)
    assert kit.client.get("/secret", headers=API).status_code == 401
    assert kit.store.verify_calls == []


def test_testing_login_can_be_not_fresh(kit: Kit) -> None:
    testing.login(kit.client, kit.store.users[1], fresh=False)
    assert kit.client.get("/secret", headers=API).status_code == 200
    assert kit.client.get("/fresh", headers=API).status_code == 401


def test_testing_login_regenerates_a_server_side_session() -> None:
    interface = ServerSessionInterface()
    kit = make_kit(secret=None, session_interface=interface)
    kit.client.post("/prepare")
    before = sid(kit.client)
    testing.login(kit.client, kit.store.users[1])
    assert sid(kit.client) != before
    assert before not in interface.store
    assert kit.client.get("/").json["user"] == "alice"


def test_testing_helpers_name_the_missing_setup() -> None:
    bare = Flask(__name__)
    with pytest.raises(ConfigurationError, match=r"FlaskPassport\(app, passport\)"):
        testing.login(bare.test_client(), User(1, "alice"))
    kit = make_kit(secret=None)
    with pytest.raises(ConfigurationError, match="secret_key"):
        testing.login(kit.client, kit.store.users[1])
    with pytest.raises(ConfigurationError, match="secret_key"):
        testing.logout(kit.client)


# -- misconfiguration ------------------------------------------------------------------------------


def test_login_without_a_secret_key_names_the_fix() -> None:
    kit = make_kit(secret=None)
    with pytest.raises(SessionRequiredError, match=r"set app\.secret_key"):
        kit.client.post("/login", data=CREDENTIALS)
    with pytest.raises(SessionRequiredError, match=r"set app\.secret_key"):
        kit.client.post("/logout")


def test_without_a_secret_key_reading_and_guarding_still_work() -> None:
    kit = make_kit(secret=None)
    assert kit.client.get("/").json == {"user": None, "authenticated": False}
    response = kit.client.get("/secret", headers=BROWSER)
    assert response.headers["location"] == "/login?next=%2Fsecret"
    assert kit.client.post("/login/stateless", data=CREDENTIALS).json["user"] == "alice"


def test_using_the_adapter_without_flask_passport_names_the_fix() -> None:
    app = Flask(__name__)
    app.secret_key = SECRET
    app.testing = True

    @app.get("/")
    def home() -> Any:
        return {"anonymous": not current_user}

    @app.get("/private")
    @login_required
    def private() -> str:  # pragma: no cover - refused
        return "private"

    client = app.test_client()
    fix = r"FlaskPassport\(app, passport\), or FlaskPassport\(passport=passport\)\.init_app"
    with pytest.raises(ConfigurationError, match=fix):
        client.get("/")
    with pytest.raises(ConfigurationError, match=fix):
        client.get("/private")


def test_flask_passport_needs_an_authenticator() -> None:
    with pytest.raises(ConfigurationError, match="passport=<your Authenticator instance>"):
        FlaskPassport(Flask(__name__))


def test_an_app_factory_can_init_the_extension_later() -> None:
    store = UserStore.default()
    ext = FlaskPassport(passport=local_passport(store))

    def create_app() -> Flask:
        app = Flask(__name__)
        app.secret_key = SECRET
        ext.init_app(app)

        @app.get("/")
        def home() -> Any:
            return describe()

        return app

    for app in (create_app(), create_app()):
        assert app.extensions["passport"] is ext
        client = app.test_client()
        testing.login(client, store.users[1])
        assert client.get("/").json["user"] == "alice"


# -- no event loop per request on sync views -----------------------------------------------------


def test_sync_views_create_no_event_loop(loops_created: list[object]) -> None:
    store = UserStore.default()
    passport: Authenticator[User] = Authenticator()

    async def verify(username: str, password: str) -> Any:
        await asyncio.sleep(0)  # async code, but no real I/O: run_sync finishes it
        return store.verify(username, password)

    async def deserialize(user_id: Any) -> User | None:
        await asyncio.sleep(0)
        return store.deserialize(user_id)

    passport.use(LocalStrategy(verify))
    passport.serialize_user(lambda user: user.id)
    passport.deserialize_user(deserialize)
    kit = make_kit(passport=passport, store=store)

    @kit.app.get("/async-view")
    async def async_view() -> str:
        return "async"

    kit.login()
    assert kit.client.get("/secret", headers=API).json["user"] == "alice"
    assert kit.client.get("/fresh", headers=API).status_code == 200
    assert kit.client.post("/logout").json == {"user": None, "authenticated": False}
    assert kit.client.post("/login/redirect", data={"username": "x", "password": "y"})
    assert loops_created == []
    # The counter does see loops: Flask runs an async view on one.
    assert kit.client.get("/async-view").text == "async"
    assert len(loops_created) >= 1
