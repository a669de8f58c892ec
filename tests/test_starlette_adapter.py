"""The Starlette adapter driven through real Starlette apps with Starlette's TestClient."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from session_entries import STARLETTE, session_identity
from starlette.applications import Starlette
from starlette.authentication import UnauthenticatedUser, requires
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette_app import (
    SECRET,
    describe,
    make_kit,
    passport_user,
    set_session_cookie,
    signed_session,
)
from users import PASSWORD, WRONG, User, UserStore

from passport_py import (
    AuthenticationError,
    Authenticator,
    AuthResult,
    ConfigurationError,
    SessionRequiredError,
    Strategy,
)
from passport_py.adapters.starlette import (
    PassportCredentials,
    PassportMiddleware,
    StarletteAuthRequest,
    authenticate,
    authorize,
    login,
)
from passport_py.options import AuthenticateOptions
from passport_py.outcomes import Outcome
from passport_py.request import AuthRequest
from passport_py.strategies.local import LocalStrategy

CREDENTIALS = {"username": "alice", "password": PASSWORD}
BROWSER = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


# -- strategies used through the app ------------------------------------------------------


class HeaderStrategy(Strategy):
    """Logs in the user named by `X-User` (sync `authenticate`)."""

    name = "header"

    def __init__(self, store: UserStore) -> None:
        self.store = store

    def decide(self, request: AuthRequest) -> Outcome:
        name = request.headers.get("x-user")
        if name is None:
            return self.fail('Header realm="tests"', 401)
        user = self.store.by_name(name)
        if user is None:
            return self.fail({"message": "Unknown user"})
        return self.success(user, {"scope": "read write", "via": self.name})

    def authenticate(self, request: AuthRequest, options: AuthenticateOptions) -> Outcome:
        return self.decide(request)


class AsyncHeaderStrategy(HeaderStrategy):
    """The same strategy with an `async def authenticate`."""

    name = "async-header"

    async def authenticate(  # type: ignore[override]
        self, request: AuthRequest, options: AuthenticateOptions
    ) -> Outcome:
        return self.decide(request)


class ChallengeStrategy(Strategy):
    """Always fails with a string challenge (a `WWW-Authenticate` value)."""

    def __init__(self, challenge: str) -> None:
        self.challenge = challenge

    def authenticate(self, request: AuthRequest, options: AuthenticateOptions) -> Outcome:
        return self.fail(self.challenge)


# -- request.user, request.auth, @requires --------------------------------------------------


def test_anonymous_request_gets_unauthenticated_user_and_no_scopes() -> None:
    kit = make_kit()
    response = kit.client.get("/")
    assert response.status_code == 200
    assert response.json() == {
        "user": None,
        "authenticated": False,
        "starlette_authenticated": False,
        "scopes": [],
    }
    assert "cache-control" not in response.headers
    assert "set-cookie" not in response.headers


def test_middleware_sets_request_user_and_auth_from_the_session() -> None:
    """Conformance: passport-core.md 2 behaviours 20, 112."""
    seen: dict[str, Any] = {}

    async def inspect_request(request: Request) -> Response:
        seen["user"] = request.user
        seen["auth"] = request.auth
        return PlainTextResponse("ok")

    kit = make_kit([Route("/inspect", inspect_request)])
    kit.login()
    response = kit.client.get("/inspect")
    assert response.status_code == 200
    assert seen["user"] == kit.alice
    assert isinstance(seen["auth"], PassportCredentials)
    assert list(seen["auth"].scopes) == ["authenticated"]


def test_middleware_leaves_starlette_unauthenticated_user_when_logged_out() -> None:
    seen: dict[str, Any] = {}

    async def inspect_request(request: Request) -> Response:
        seen["user"] = request.user
        seen["auth"] = request.auth
        return PlainTextResponse("ok")

    kit = make_kit([Route("/inspect", inspect_request)])
    kit.client.get("/inspect")
    assert isinstance(seen["user"], UnauthenticatedUser)
    assert isinstance(seen["auth"], PassportCredentials)
    assert list(seen["auth"].scopes) == []
    with pytest.raises(AttributeError):  # shared by anonymous requests: not appendable
        seen["auth"].scopes.append("admin")


def test_starlette_requires_authenticated_works_with_the_passport_user() -> None:
    @requires("authenticated")
    async def members(request: Request) -> Response:
        return PlainTextResponse(f"hello {request.user.username}")

    kit = make_kit([Route("/members", members)])
    assert kit.client.get("/members").status_code == 403
    kit.login()
    response = kit.client.get("/members")
    assert response.status_code == 200
    assert response.text == "hello alice"


def test_strategy_info_scope_becomes_request_auth_scopes() -> None:
    """Conformance: passport-core.md 2 behaviours 27, 34."""

    @authenticate("header", session=False)
    async def api(request: Request) -> Response:
        return JSONResponse({"scopes": request.auth.scopes, "info": request.auth.info})

    kit = make_kit([Route("/api", api)])
    kit.passport.use(HeaderStrategy(kit.store))
    response = kit.client.get("/api", headers={"x-user": "bob"})
    assert response.status_code == 200
    assert response.json() == {
        "scopes": ["authenticated", "read", "write"],
        "info": {"scope": "read write", "via": "header"},
    }


# -- login, the session, logout -------------------------------------------------------------


def test_login_form_logs_in_and_the_session_persists_on_later_requests() -> None:
    """Conformance: passport-core.md 2 behaviours 10, 94, 112; strategies.md L4."""
    kit = make_kit()
    response = kit.client.post("/login", data=CREDENTIALS)
    assert response.status_code == 200
    assert response.json()["user"] == "alice"
    assert session_identity(kit.session(), STARLETTE) == {"passport": {"user": 1}}

    later = kit.client.get("/")
    assert later.status_code == 200
    assert later.json()["user"] == "alice"
    assert later.json()["scopes"] == ["authenticated"]


def test_logout_clears_the_session_and_later_requests_are_anonymous() -> None:
    """Conformance: passport-core.md 2 behaviour 102."""
    kit = make_kit()
    kit.login()
    response = kit.client.post("/logout")
    assert response.status_code == 200
    assert response.json()["user"] is None
    assert response.headers["set-cookie"].startswith("session=null;")
    assert kit.session() == {}
    assert kit.client.get("/").json()["authenticated"] is False


def test_login_json_body_logs_in() -> None:
    """Conformance: strategies.md L4."""
    kit = make_kit()
    response = kit.client.post("/login", json=CREDENTIALS)
    assert response.status_code == 200
    assert response.json()["user"] == "alice"
    assert passport_user(kit.client) == 1


def test_wrong_password_is_401_without_challenge_and_nobody_logged_in() -> None:
    """Conformance: passport-core.md 2 behaviour 50; strategies.md L15."""
    kit = make_kit()
    response = kit.client.post("/login", data={"username": "alice", "password": "nope"})
    assert response.status_code == 401
    assert response.text == "Unauthorized"
    assert response.headers.get_list("www-authenticate") == []
    assert response.headers["cache-control"] == "no-store"
    assert passport_user(kit.client) is None


def test_login_replaces_the_session_cookie_and_drops_pre_login_data() -> None:
    """Conformance: passport-core.md 2 behaviours 94, 95."""
    kit = make_kit()
    kit.client.post("/prepare")
    before_cookie = kit.client.cookies["session"]
    before = kit.session()
    assert before == {
        "cart": ["book"],
        "return_to": "/orders",
        "flash": [["info", "Please log in"]],
    }

    kit.login()
    after_cookie = kit.client.cookies["session"]
    assert after_cookie != before_cookie
    assert session_identity(kit.session(), STARLETTE) == {
        "return_to": "/orders",
        "flash": [["info", "Please log in"]],
        "passport": {"user": 1},
    }


def test_login_with_keep_session_info_keeps_everything() -> None:
    """Conformance: passport-core.md 2 behaviour 95."""
    kit = make_kit()
    kit.client.post("/prepare")
    response = kit.client.post("/login/keep", data=CREDENTIALS)
    assert response.status_code == 200
    assert session_identity(kit.session(), STARLETTE) == {
        "cart": ["book"],
        "return_to": "/orders",
        "flash": [["info", "Please log in"]],
        "passport": {"user": 1},
    }


def test_login_as_another_user_replaces_the_first() -> None:
    kit = make_kit()
    kit.client.post("/cart")
    kit.login()
    kit.login("bob", "builder")
    assert session_identity(kit.session(), STARLETTE) == {"passport": {"user": 2}}
    assert kit.client.get("/").json()["user"] == "bob"


def test_login_helper_called_from_an_endpoint_logs_in() -> None:
    """Conformance: passport-core.md 2 behaviour 94."""

    async def signup(request: Request) -> Response:
        await login(request, User(3, "carol", "pw"))
        return describe(request)

    kit = make_kit([Route("/signup", signup, methods=["POST"])])
    kit.store.add(User(3, "carol", "pw"))
    response = kit.client.post("/signup")
    assert response.status_code == 200
    assert response.json()["user"] == "carol"
    assert response.headers["cache-control"] == "no-store"
    assert passport_user(kit.client) == 3


# -- redirects, flash, return-to --------------------------------------------------------------


def test_success_redirect_sends_the_browser_to_the_target() -> None:
    """Conformance: passport-core.md 2 behaviour 37."""
    kit = make_kit()
    response = kit.client.post("/login/redirect", data=CREDENTIALS)
    assert response.status_code == 302
    assert response.headers["location"] == "/welcome"
    assert response.headers["cache-control"] == "no-store"
    assert response.text == ""
    assert passport_user(kit.client) == 1


def test_success_redirect_ignores_next() -> None:
    """Conformance: passport-core.md 2 behaviour 41."""
    kit = make_kit()
    response = kit.client.post("/login/redirect?next=/orders", data=CREDENTIALS)
    assert response.headers["location"] == "/welcome"


def test_failure_redirect_and_failure_flash_are_shown_once() -> None:
    """Conformance: passport-core.md 2 behaviours 51, 69; strategies.md L15."""
    kit = make_kit()
    response = kit.client.post("/login/redirect", data={"username": "alice", "password": "x"})
    assert response.status_code == 302
    assert response.headers["location"] == "/login"
    assert passport_user(kit.client) is None
    assert kit.session() == {"flash": [["error", WRONG]]}

    page = kit.client.get("/login")
    assert page.json() == {"flashes": [["error", WRONG]]}
    assert kit.client.get("/login").json() == {"flashes": []}


def test_failure_flash_for_missing_credentials_says_so() -> None:
    """Conformance: passport-core.md 2 behaviour 69; strategies.md L8."""
    kit = make_kit()
    response = kit.client.post("/login/redirect", data={"username": "alice"})
    assert response.status_code == 302
    assert response.headers["location"] == "/login"
    assert kit.client.get("/login").json() == {"flashes": [["error", "Missing credentials"]]}


def test_return_to_saved_by_login_required_is_used_then_removed() -> None:
    """Conformance: passport-core.md 2 behaviours 38, 40."""
    kit = make_kit()
    protected = kit.client.get("/secret?tab=2", headers=BROWSER)
    assert protected.status_code == 302
    assert protected.headers["location"] == "/login?next=%2Fsecret%3Ftab%3D2"
    assert kit.session() == {"return_to": "/secret?tab=2"}

    response = kit.client.post("/login/return", data=CREDENTIALS)
    assert response.status_code == 302
    assert response.headers["location"] == "/secret?tab=2"
    assert session_identity(kit.session(), STARLETTE) == {"passport": {"user": 1}}


def test_return_to_or_redirect_uses_next_query_parameter() -> None:
    """Conformance: passport-core.md 2 behaviour 40."""
    kit = make_kit()
    response = kit.client.post("/login/return?next=/orders/7", data=CREDENTIALS)
    assert response.status_code == 302
    assert response.headers["location"] == "/orders/7"


def test_session_return_to_wins_over_next() -> None:
    """Conformance: passport-core.md 2 behaviour 40."""
    kit = make_kit()
    kit.client.get("/secret", headers=BROWSER)
    response = kit.client.post("/login/return?next=/orders", data=CREDENTIALS)
    assert response.headers["location"] == "/secret"


def test_return_to_or_redirect_falls_back_to_the_option() -> None:
    """Conformance: passport-core.md 2 behaviour 39."""
    kit = make_kit()
    response = kit.client.post("/login/return", data=CREDENTIALS)
    assert response.status_code == 302
    assert response.headers["location"] == "/"


# -- strategy chains, errors, callbacks ---------------------------------------------------------


def test_chain_of_failing_strategies_sends_one_www_authenticate_per_challenge() -> None:
    """Conformance: passport-core.md 2 behaviours 2, 60."""

    @authenticate(["basic", "bearer"], session=False)
    async def api(request: Request) -> Response:  # pragma: no cover - never reached
        return PlainTextResponse("ok")

    kit = make_kit([Route("/api", api)])
    kit.passport.use(ChallengeStrategy('Basic realm="api"'), name="basic")
    kit.passport.use(ChallengeStrategy('Bearer realm="api"'), name="bearer")
    response = kit.client.get("/api")
    assert response.status_code == 401
    assert response.headers.get_list("www-authenticate") == [
        'Basic realm="api"',
        'Bearer realm="api"',
    ]
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == "Unauthorized"


def test_chain_stops_at_the_first_success() -> None:
    """Conformance: passport-core.md 2 behaviour 59."""

    @authenticate(["basic", "header"], session=False)
    async def api(request: Request) -> Response:
        return describe(request)

    kit = make_kit([Route("/api", api)])
    kit.passport.use(ChallengeStrategy('Basic realm="api"'), name="basic")
    kit.passport.use(HeaderStrategy(kit.store))
    response = kit.client.get("/api", headers={"x-user": "alice"})
    assert response.status_code == 200
    assert response.json()["user"] == "alice"
    assert "www-authenticate" not in response.headers


def test_fail_with_error_raises_authentication_error_for_the_app_handler() -> None:
    """Conformance: passport-core.md 2 behaviour 55."""

    @authenticate(["basic", "bearer"], session=False, fail_with_error=True)
    async def api(request: Request) -> Response:  # pragma: no cover - never reached
        return PlainTextResponse("ok")

    async def handle(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AuthenticationError)
        response = JSONResponse({"error": exc.message, "status": exc.status}, exc.status)
        for name, value in exc.headers:
            response.headers.append(name, value)
        return response

    kit = make_kit([Route("/api", api)], exception_handlers={AuthenticationError: handle})
    kit.passport.use(ChallengeStrategy('Basic realm="api"'), name="basic")
    kit.passport.use(ChallengeStrategy('Bearer realm="api"'), name="bearer")
    response = kit.client.get("/api")
    assert response.status_code == 401
    assert response.json() == {"error": "Unauthorized", "status": 401}
    assert response.headers.get_list("www-authenticate") == [
        'Basic realm="api"',
        'Bearer realm="api"',
    ]


def test_custom_callback_gets_the_result_and_nobody_is_logged_in() -> None:
    """Conformance: passport-core.md 2 behaviour 82."""
    results: list[AuthResult[Any]] = []

    async def decide(request: Request, result: AuthResult[Any]) -> Response:
        results.append(result)
        user = result.user.username if result.user else None
        return JSONResponse({"ok": result.ok, "user": user, "request_user": describe_user(request)})

    @authenticate("local", callback=decide)
    async def login_api(request: Request) -> Response:  # pragma: no cover - callback answers
        return PlainTextResponse("not reached")

    kit = make_kit([Route("/api/login", login_api, methods=["POST"])])
    kit.client.post("/cart")
    response = kit.client.post("/api/login", data=CREDENTIALS)
    assert response.status_code == 200
    assert response.json() == {"ok": True, "user": "alice", "request_user": None}
    assert results[0].user == kit.alice
    assert results[0].error is None
    assert kit.session() == {"cart": ["book"]}
    assert kit.client.get("/").json()["authenticated"] is False


def test_custom_callback_gets_failures_as_lists() -> None:
    """Conformance: passport-core.md 2 behaviour 83; strategies.md L15."""
    results: list[AuthResult[Any]] = []

    def decide(request: Request, result: AuthResult[Any]) -> Response:
        results.append(result)
        return PlainTextResponse("denied", 403)

    @authenticate("local", callback=decide)
    async def login_api(request: Request) -> Response:  # pragma: no cover - callback answers
        return PlainTextResponse("not reached")

    kit = make_kit([Route("/api/login", login_api, methods=["POST"])])
    response = kit.client.post("/api/login", data={"username": "alice", "password": "x"})
    assert response.status_code == 403
    assert response.text == "denied"
    (result,) = results
    assert result.ok is False
    assert result.user is None
    assert list(result.challenges) == [{"message": WRONG}]
    assert list(result.statuses) == [None]
    assert passport_user(kit.client) is None


class BrokenStrategy(Strategy):
    name = "broken"

    def authenticate(self, request: AuthRequest, options: AuthenticateOptions) -> Outcome:
        raise RuntimeError("user store is down")


def test_strategy_error_reaches_the_custom_callback_as_result_error() -> None:
    """Conformance: passport-core.md 2 behaviour 84."""

    def decide(request: Request, result: AuthResult[Any]) -> Response:
        assert isinstance(result.error, RuntimeError)
        return PlainTextResponse(f"error: {result.error}", 503)

    @authenticate("broken", callback=decide)
    async def login_api(request: Request) -> Response:  # pragma: no cover - callback answers
        return PlainTextResponse("not reached")

    kit = make_kit([Route("/api/login", login_api, methods=["POST"])])
    kit.passport.use(BrokenStrategy())
    response = kit.client.post("/api/login")
    assert response.status_code == 503
    assert response.text == "error: user store is down"
    assert passport_user(kit.client) is None


def test_strategy_error_without_callback_propagates_to_the_app() -> None:
    """Conformance: passport-core.md 2 behaviours 80, 81."""

    @authenticate("broken")
    async def login_api(request: Request) -> Response:  # pragma: no cover - strategy raises
        return PlainTextResponse("not reached")

    kit = make_kit([Route("/api/login", login_api, methods=["POST"])])
    kit.passport.use(BrokenStrategy())
    with pytest.raises(RuntimeError, match="user store is down"):
        kit.client.post("/api/login")
    quiet = TestClient(kit.app, raise_server_exceptions=False)
    response = quiet.post("/api/login")
    assert response.status_code == 500
    assert "user store is down" not in response.text


def describe_user(request: Request) -> str | None:
    return getattr(request.user, "username", None)


def test_authorize_puts_the_account_on_request_state_and_leaves_request_user() -> None:
    """Conformance: passport-core.md 2 behaviours 87, 90."""

    @authorize("header")
    async def connect(request: Request) -> Response:
        return JSONResponse(
            {
                "user": describe_user(request),
                "account": request.state.account.username,
                "auth_info": request.state.auth_info,
            }
        )

    kit = make_kit([Route("/connect", connect)])
    kit.passport.use(HeaderStrategy(kit.store))
    kit.login()
    response = kit.client.get("/connect", headers={"x-user": "bob"})
    assert response.status_code == 200
    assert response.json() == {
        "user": "alice",
        "account": "bob",
        "auth_info": {"scope": "read write", "via": "header"},
    }
    assert session_identity(kit.session(), STARLETTE) == {"passport": {"user": 1}}
    assert kit.client.get("/").json()["user"] == "alice"


def test_session_false_authenticates_this_request_only() -> None:
    """Conformance: passport-core.md 2 behaviours 43, 91."""
    kit = make_kit()
    response = kit.client.post("/login/stateless", data=CREDENTIALS)
    assert response.status_code == 200
    assert response.json()["user"] == "alice"
    assert response.json()["scopes"] == ["authenticated"]
    assert "set-cookie" not in response.headers
    assert "cache-control" not in response.headers
    assert kit.client.get("/").json()["authenticated"] is False


# -- restoring the user -----------------------------------------------------------------------


def test_deleted_user_becomes_anonymous_and_leaves_the_session() -> None:
    """Conformance: passport-core.md 2 behaviours 21, 114."""
    kit = make_kit()
    kit.client.post("/cart")
    kit.client.post("/login/keep", data=CREDENTIALS)
    del kit.store.users[kit.alice.id]

    response = kit.client.get("/")
    assert response.status_code == 200
    assert response.json()["authenticated"] is False
    assert kit.session() == {"cart": ["book"], "passport": {}}
    kit.store.deserialize_calls.clear()
    assert kit.client.get("/").json()["authenticated"] is False
    assert kit.store.deserialize_calls == []


def test_user_is_deserialized_once_per_request() -> None:
    """Conformance: passport-core.md 2 behaviour 112."""
    kit = make_kit()
    kit.login()
    kit.store.deserialize_calls.clear()
    response = kit.client.get("/secret")
    assert response.status_code == 200
    assert kit.store.deserialize_calls == [1]
    kit.client.get("/")
    assert kit.store.deserialize_calls == [1, 1]


def test_no_deserialization_when_the_session_holds_no_user() -> None:
    """Conformance: passport-core.md 2 behaviour 111."""
    kit = make_kit()
    kit.client.post("/cart")
    kit.client.get("/")
    kit.client.get("/secret")
    assert kit.store.deserialize_calls == []


def test_deserializer_with_pass_request_receives_the_request() -> None:
    """Conformance: passport-core.md 2 behaviours 26, 112."""
    store = UserStore()
    passport: Authenticator[User] = Authenticator()
    passport.use(LocalStrategy(store.verify))
    passport.serialize_user(lambda user: user.id)
    seen: list[Any] = []

    @passport.deserialize_user(pass_request=True)
    def deserialize(request: AuthRequest, user_id: int) -> User | None:
        seen.append((request, user_id))
        return store.users.get(user_id)

    kit = make_kit(passport=passport, store=store)
    kit.login()
    assert kit.client.get("/secret").json()["user"] == "alice"
    ((request, user_id),) = seen
    assert user_id == 1
    assert isinstance(request, StarletteAuthRequest)
    assert isinstance(request.native, Request)
    assert request.path == "/secret"
    assert request.method == "GET"


# -- login_required ---------------------------------------------------------------------------


def test_login_required_redirects_browsers_with_next() -> None:
    kit = make_kit()
    response = kit.client.get("/secret", headers=BROWSER)
    assert response.status_code == 302
    assert response.headers["location"] == "/login?next=%2Fsecret"
    assert response.headers["cache-control"] == "no-store"
    assert kit.session() == {"return_to": "/secret"}


def test_login_required_answers_json_clients_with_401() -> None:
    kit = make_kit()
    response = kit.client.get("/secret", headers={"accept": "application/json"})
    assert response.status_code == 401
    assert response.text == "Unauthorized"
    assert response.headers["cache-control"] == "no-store"
    assert "location" not in response.headers
    assert kit.session() == {}


def test_login_required_answers_requests_with_authorization_header_with_401() -> None:
    kit = make_kit()
    headers = {**BROWSER, "authorization": "Bearer abc"}
    response = kit.client.get("/secret", headers=headers)
    assert response.status_code == 401
    assert "location" not in response.headers


def test_login_required_lets_a_logged_in_user_through() -> None:
    kit = make_kit()
    kit.login()
    response = kit.client.get("/secret", headers=BROWSER)
    assert response.status_code == 200
    assert response.json()["page"] == "secret"


def test_login_required_keeps_a_non_ascii_path_as_return_to() -> None:
    kit = make_kit()
    response = kit.client.get("/secret/caf%C3%A9%20menu", headers=BROWSER)
    assert response.status_code == 302
    assert kit.session() == {"return_to": "/secret/caf%C3%A9%20menu"}
    assert response.headers["location"] == "/login?next=%2Fsecret%2Fcaf%25C3%25A9%2520menu"
    done = kit.client.post("/login/return", data=CREDENTIALS)
    assert done.headers["location"] == "/secret/caf%C3%A9%20menu"
    assert kit.client.get(done.headers["location"]).json()["page"] == "secret"


# -- configuration errors ---------------------------------------------------------------------


def test_login_without_session_middleware_names_the_fix() -> None:
    """Conformance: passport-core.md 2 behaviours 44, 101."""
    kit = make_kit(sessions=False)
    with pytest.raises(
        SessionRequiredError, match="add SessionMiddleware before PassportMiddleware"
    ):
        kit.client.post("/login", data=CREDENTIALS)


def test_stateless_login_works_without_session_middleware() -> None:
    """Conformance: passport-core.md 2 behaviour 43."""
    kit = make_kit(sessions=False)
    response = kit.client.post("/login/stateless", data=CREDENTIALS)
    assert response.status_code == 200
    assert response.json()["user"] == "alice"


def test_authenticate_without_passport_middleware_names_it() -> None:
    kit = make_kit(passport_middleware=False)
    with pytest.raises(ConfigurationError, match="PassportMiddleware"):
        kit.client.post("/login", data=CREDENTIALS)


def test_login_required_without_passport_middleware_names_it() -> None:
    kit = make_kit(passport_middleware=False)
    with pytest.raises(ConfigurationError, match="PassportMiddleware"):
        kit.client.get("/secret")


def test_passport_middleware_refuses_something_that_is_not_an_authenticator() -> None:
    app = Starlette(
        middleware=[
            Middleware(SessionMiddleware, secret_key=SECRET),
            Middleware(PassportMiddleware, passport="passport"),
        ]
    )
    with pytest.raises(ConfigurationError, match="Authenticator"):
        TestClient(app).get("/")


# -- sync endpoints and custom strategies -----------------------------------------------------


def test_sync_endpoint_behind_authenticate_logs_in() -> None:
    kit = make_kit()
    response = kit.client.post("/login/sync", data=CREDENTIALS)
    assert response.status_code == 200
    assert response.json()["user"] == "alice"
    assert response.json()["endpoint"] == "sync"
    assert passport_user(kit.client) == 1


def test_sync_endpoint_behind_login_required() -> None:
    kit = make_kit()
    assert kit.client.get("/secret-sync", headers=BROWSER).status_code == 302
    kit.login()
    response = kit.client.get("/secret-sync")
    assert response.status_code == 200
    assert response.json() == {
        "user": "alice",
        "authenticated": True,
        "starlette_authenticated": True,
        "scopes": ["authenticated"],
        "page": "secret-sync",
    }


@pytest.mark.parametrize("strategy_class", [HeaderStrategy, AsyncHeaderStrategy])
def test_custom_strategy_logs_in_through_the_app(strategy_class: type[HeaderStrategy]) -> None:
    """Conformance: passport-core.md 2 behaviour 1."""
    strategy_name = strategy_class.name
    assert strategy_name is not None

    @authenticate(strategy_name)
    async def header_login(request: Request) -> Response:
        return describe(request)

    kit = make_kit([Route("/header-login", header_login, methods=["POST"])])
    kit.passport.use(strategy_class(kit.store))
    response = kit.client.post("/header-login", headers={"x-user": "bob"})
    assert response.status_code == 200
    assert response.json()["user"] == "bob"
    assert response.json()["scopes"] == ["authenticated", "read", "write"]
    assert passport_user(kit.client) == 2
    assert kit.client.get("/").json()["user"] == "bob"


@pytest.mark.parametrize("strategy_class", [HeaderStrategy, AsyncHeaderStrategy])
def test_custom_strategy_failures_render_status_and_challenge(
    strategy_class: type[HeaderStrategy],
) -> None:
    """Conformance: passport-core.md 2 behaviours 47, 50."""
    strategy_name = strategy_class.name
    assert strategy_name is not None

    @authenticate(strategy_name)
    async def header_login(request: Request) -> Response:  # pragma: no cover - fails
        return describe(request)

    kit = make_kit([Route("/header-login", header_login, methods=["POST"])])
    kit.passport.use(strategy_class(kit.store))
    missing = kit.client.post("/header-login")
    assert missing.status_code == 401
    assert missing.headers.get_list("www-authenticate") == ['Header realm="tests"']
    unknown = kit.client.post("/header-login", headers={"x-user": "mallory"})
    assert unknown.status_code == 401
    assert unknown.headers.get_list("www-authenticate") == []
    assert passport_user(kit.client) is None


# -- caching ----------------------------------------------------------------------------------


def test_responses_to_logged_in_requests_are_not_stored() -> None:
    kit = make_kit()
    kit.login()
    response = kit.client.get("/")
    assert response.headers.get_list("cache-control") == ["no-store"]
    assert response.headers.get_list("vary") == ["Cookie"]


def test_login_and_logout_responses_are_not_stored() -> None:
    kit = make_kit()
    login_response = kit.client.post("/login", data=CREDENTIALS)
    assert login_response.headers.get_list("cache-control") == ["no-store"]
    assert login_response.headers.get_list("vary") == ["Cookie"]
    logout_response = kit.client.post("/logout")
    assert logout_response.headers.get_list("cache-control") == ["no-store"]
    assert logout_response.headers.get_list("vary") == ["Cookie"]


def test_anonymous_responses_keep_default_caching() -> None:
    kit = make_kit()
    response = kit.client.get("/")
    assert "cache-control" not in response.headers


def test_app_cache_control_is_not_overridden() -> None:
    async def cached(request: Request) -> Response:
        return PlainTextResponse("x", headers={"Cache-Control": "private, max-age=60"})

    kit = make_kit([Route("/cached", cached)])
    kit.login()
    response = kit.client.get("/cached")
    assert response.headers.get_list("cache-control") == ["private, max-age=60"]


def test_a_form_read_before_authenticate_is_reused() -> None:
    from starlette.middleware import Middleware
    from starlette.middleware.sessions import SessionMiddleware
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from passport_py import Authenticator
    from passport_py.adapters.starlette import PassportMiddleware, authenticate
    from passport_py.strategies.local import LocalStrategy

    passport: Authenticator[str] = Authenticator()
    passport.use(LocalStrategy(lambda name, password: name if password == "pw" else None))
    passport.serialize_user(lambda user: user)

    @authenticate("local")
    async def logged_in(request: Request) -> Response:
        return PlainTextResponse(str(request.user))

    async def csrf_checked(request: Request) -> Response:
        form = await request.form()
        if form.get("csrf") != "token":
            return PlainTextResponse("CSRF", 403)
        return await logged_in(request)

    app = Starlette(
        routes=[Route("/login", csrf_checked, methods=["POST"])],
        middleware=[
            Middleware(SessionMiddleware, secret_key="x" * 32),
            Middleware(PassportMiddleware, passport=passport),
        ],
    )
    response = TestClient(app).post(
        "/login", data={"username": "alice", "password": "pw", "csrf": "token"}
    )
    assert (response.status_code, response.text) == (200, "alice")


# -- bad input only an ASGI app or Starlette's cookie session gets ------------------------------
# (the catalogue every adapter answers alike is tests/test_bad_input.py)


def test_a_chunked_body_over_1_mib_is_413_while_it_is_read() -> None:
    # No Content-Length to refuse it by: the limit stops the read itself.
    def chunks() -> Iterator[bytes]:
        yield b'{"username": "alice", "password": "'
        for _ in range(20):
            yield b"x" * 65_536
        yield b'"}'

    kit = make_kit()
    response = kit.client.post(
        "/login", content=chunks(), headers={"content-type": "application/json"}
    )
    assert (response.status_code, response.text) == (413, "Request Entity Too Large")
    assert response.headers["cache-control"] == "no-store"
    assert passport_user(kit.client) is None
    assert kit.store.verify_calls == []


def test_a_session_cookie_signed_with_another_key_is_anonymous() -> None:
    kit = make_kit()
    set_session_cookie(kit.client, signed_session({"passport": {"user": 1}}, "not-" + SECRET))
    assert kit.client.get("/").json()["authenticated"] is False
    assert kit.store.deserialize_calls == []
