"""`passport_py.adapters.fastapi`'s dependencies through real FastAPI apps (TestClient).

A failure answers what the Starlette adapter answers for the same request (status, every
`WWW-Authenticate`, `Vary`, `Cache-Control`, the strategies' cookies) with FastAPI's JSON body;
a success keeps `Vary` and the cookies on whatever the endpoint returns; scopes from
`Security(..., scopes=[...])` are checked against the auth info's `scope`.
"""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from fastapi import APIRouter, Body, Depends, FastAPI, Security
from fastapi.responses import PlainTextResponse
from fastapi_apps import SESSION_COOKIE, Item, create_app, make_passport, new_app
from httpx2 import Response as ClientResponse
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient
from users import PASSWORD, User, UserStore

from passport_py import Verified
from passport_py.adapters import starlette as starlette_adapter
from passport_py.adapters.fastapi import (
    PassportHTTPException,
    PassportMiddleware,
    authenticate,
    authorize,
    current_user,
    granted_scopes,
    login,
    login_required,
    logout,
)
from passport_py.errors import ConfigurationError
from passport_py.strategies.jwt import JwtStrategy

READ = {"Authorization": "Bearer read-token"}
CHAIN = ["bearer", "jar"]
JWT_KEY = "fastapi-jwt-tests-key-0123456789abcdef"


def client(app: Any) -> TestClient:
    return TestClient(app, follow_redirects=False)


def answer(response: ClientResponse) -> dict[str, Any]:
    """What both adapters must agree on: everything but the body's format."""
    headers = response.headers
    return {
        "status": response.status_code,
        "www-authenticate": headers.get_list("www-authenticate"),
        "vary": headers.get_list("vary"),
        "cache-control": headers.get_list("cache-control"),
        "set-cookie": headers.get_list("set-cookie"),
        "location": headers.get("location"),
    }


def starlette_twin(strategy: Any, **options: Any) -> Starlette:
    """The same protection through the Starlette adapter's decorator."""

    @starlette_adapter.authenticate(strategy, **options)
    async def endpoint(request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[Route("/p", endpoint, methods=["GET", "POST"])],
        middleware=[
            Middleware(SessionMiddleware, secret_key="x" * 32, session_cookie=SESSION_COOKIE),
            Middleware(PassportMiddleware, passport=make_passport()),
        ],
    )


def fastapi_twin(strategy: Any, **options: Any) -> FastAPI:
    app = new_app()

    @app.api_route("/p", methods=["GET", "POST"])
    async def endpoint(user: User = Depends(authenticate(strategy, **options))) -> str:
        return "ok"

    return app


FAILURES = [
    ("bearer", {}),
    ("bearer", {"Authorization": "Bearer wrong"}),
    ("bearer", {"Authorization": "Bearer a b"}),
    ("bearer", {"Authorization": "Basic eDp5"}),
    (CHAIN, {}),
    (CHAIN, {"Authorization": "Bearer wrong", "X-Jar": "nobody"}),
    ("apikey", {}),
    ("apikey", {"X-API-Key": "nope"}),
]


@pytest.mark.parametrize(("strategy", "headers"), FAILURES)
def test_a_failure_answers_what_the_starlette_adapter_answers(
    strategy: Any, headers: dict[str, str]
) -> None:
    expected = client(starlette_twin(strategy, session=False)).get("/p", headers=headers)
    got = client(fastapi_twin(strategy, session=False)).get("/p", headers=headers)
    assert expected.status_code >= 400
    assert answer(got) == answer(expected)


def test_a_failure_body_is_fastapis_detail_with_the_starlette_text() -> None:
    expected = client(starlette_twin(CHAIN, session=False)).get("/p")
    got = client(fastapi_twin(CHAIN, session=False)).get("/p")
    assert got.headers["content-type"] == "application/json"
    assert got.json() == {"detail": expected.text}


def test_a_chain_failure_sends_one_challenge_per_strategy_and_the_strategy_cookie() -> None:
    got = client(fastapi_twin(CHAIN, session=False)).get("/p")
    assert got.status_code == 401
    assert got.headers.get_list("www-authenticate") == ['Bearer realm="Users"', 'Jar realm="jars"']
    assert got.headers.get_list("set-cookie")[0].startswith("jar=failed;")


def test_a_failure_redirect_is_a_redirect() -> None:
    options = {"failure_redirect": "/login", "session": False}
    expected = client(starlette_twin("jar", **options)).get("/p")
    got = client(fastapi_twin("jar", **options)).get("/p")
    assert got.status_code == 302
    assert got.headers["location"] == "/login"
    assert answer(got) == answer(expected)


def test_an_app_exception_handler_receives_the_failure_with_its_result() -> None:
    app = fastapi_twin("bearer", session=False)

    @app.exception_handler(PassportHTTPException)
    async def teapot(request: Request, exc: PassportHTTPException) -> Response:
        assert exc.result is not None and not exc.result.ok
        return PlainTextResponse("no token, no tea", 418)

    got = client(app).get("/p")
    assert (got.status_code, got.text) == (418, "no token, no tea")


def test_a_success_keeps_vary_and_cache_control_on_a_returned_dict() -> None:
    app = new_app()

    @app.get("/d")
    async def endpoint(
        user: User = Depends(authenticate("bearer", session=False)),
    ) -> dict[str, str]:
        return {"user": user.username}

    got = client(app).get("/d", headers=READ)
    assert got.json() == {"user": "alice"}
    assert got.headers["vary"] == "Authorization"
    assert got.headers["cache-control"] == "no-store"


def test_a_success_keeps_the_strategy_cookie_on_a_pydantic_model() -> None:
    app = new_app()

    @app.get("/m")
    def endpoint(user: User = Depends(authenticate("jar", session=False))) -> Item:
        return Item(id=1, owner=user.username)

    got = client(app).get("/m", headers={"X-Jar": "bob"})
    assert got.json() == {"id": 1, "owner": "bob"}
    assert got.headers.get_list("set-cookie")[0].startswith("jar=opened;")
    assert got.headers["vary"] == "X-Jar"


def test_a_success_keeps_vary_and_the_cookie_on_a_returned_response_with_its_own_vary() -> None:
    app = new_app()

    @app.get("/r")
    async def endpoint(user: User = Depends(authenticate("jar", session=False))) -> Response:
        return PlainTextResponse(user.username, headers={"Vary": "Accept-Language"})

    got = client(app).get("/r", headers={"X-Jar": "alice"})
    assert got.text == "alice"
    assert got.headers["vary"] == "Accept-Language, X-Jar"
    assert got.headers.get_list("set-cookie")[0].startswith("jar=opened;")


def test_the_user_arrives_with_path_query_and_body_parameters() -> None:
    app = new_app()

    @app.post("/items/{item_id}")
    async def endpoint(
        item_id: int,
        q: str,
        item: Item = Body(),
        user: User = Depends(authenticate("bearer", session=False)),
    ) -> dict[str, Any]:
        return {"item_id": item_id, "q": q, "owner": item.owner, "user": user.username}

    got = client(app).post("/items/7?q=x", json={"id": 7, "owner": "carol"}, headers=READ)
    assert got.json() == {"item_id": 7, "q": "x", "owner": "carol", "user": "alice"}


def test_a_sync_endpoint_gets_the_user_too() -> None:
    app = new_app()

    @app.get("/s")
    def endpoint(user: User = Depends(authenticate("bearer", session=False))) -> str:
        return user.username

    assert client(app).get("/s", headers=READ).json() == "alice"


def test_the_user_is_set_on_the_request_for_other_dependencies() -> None:
    app = new_app()

    def audit(request: Request, user: User = Depends(authenticate("bearer", session=False))) -> str:
        return f"{user.username}/{request.user.username}/{request.auth.scopes}"

    @app.get("/a")
    async def endpoint(line: str = Depends(audit)) -> str:
        return line

    got = client(app).get("/a", headers=READ)
    assert got.json() == "alice/alice/['authenticated', 'items:read']"


def test_router_and_app_dependencies_protect_every_route() -> None:
    app = new_app(dependencies=[Depends(authenticate("jar", session=False))])
    router = APIRouter(dependencies=[Depends(authenticate("bearer", session=False))])

    @router.get("/both")
    async def both(user: User | None = Depends(current_user)) -> str:
        return user.username if user else "nobody"

    app.include_router(router)
    web = client(app)
    assert web.get("/both", headers={"X-Jar": "bob"}).status_code == 401  # no bearer token
    assert web.get("/both", headers=READ).status_code == 401  # no jar
    assert web.get("/both", headers={"X-Jar": "bob", **READ}).json() == "alice"


def test_include_router_dependencies_protect_the_included_routes() -> None:
    app = new_app()
    router = APIRouter()

    @router.get("/in")
    async def inside() -> str:
        return "in"

    app.include_router(
        router, prefix="/r", dependencies=[Depends(authenticate("jar", session=False))]
    )
    assert client(app).get("/r/in").status_code == 401
    assert client(app).get("/r/in", headers={"X-Jar": "bob"}).json() == "in"


def test_equal_calls_give_the_same_dependency_and_others_a_different_one() -> None:
    assert authenticate("jwt", session=False) is authenticate("jwt", session=False)
    assert authenticate(["a", "b"]) is authenticate(("a", "b"))
    assert authenticate("jwt") is not authenticate("jwt", session=False)
    assert authorize("jwt") is not authenticate("jwt")


def test_the_strategies_run_once_per_request_whoever_asks_and_with_what_scopes() -> None:
    store = UserStore.default()
    calls: list[str] = []
    passport = make_passport(store)
    verify = passport.strategy("bearer").verify  # type: ignore[attr-defined]

    def counting(token: str) -> Any:
        calls.append(token)
        return verify(token)

    passport.strategy("bearer").verify = counting  # type: ignore[attr-defined]
    app = new_app(passport)
    dependency = authenticate("bearer", session=False)

    def first(user: User = Depends(dependency)) -> str:
        return user.username

    @app.get("/twice")
    async def endpoint(
        a: str = Depends(first),
        b: User = Depends(dependency),
        c: User = Security(dependency, scopes=["items:read"]),
    ) -> str:
        return a + b.username + c.username

    assert client(app).get("/twice", headers=READ).json() == "alicealicealice"
    assert calls == ["read-token"]


@pytest.mark.parametrize("token", ["read-token", "all-token"])
def test_a_granted_scope_lets_the_request_through(token: str) -> None:
    app = new_app()

    @app.get("/read")
    async def endpoint(
        user: User = Security(authenticate("bearer", session=False), scopes=["items:read"]),
    ) -> str:
        return user.username

    assert client(app).get("/read", headers={"Authorization": f"Bearer {token}"}).json() == "alice"


@pytest.mark.parametrize("token", ["read-token", "plain-token"])
def test_a_missing_scope_is_a_403_insufficient_scope(token: str) -> None:
    app = new_app()

    @app.get("/write")
    async def endpoint(
        user: User = Security(
            authenticate("bearer", session=False), scopes=["items:read", "items:write"]
        ),
    ) -> str:
        return user.username

    got = client(app).get("/write", headers={"Authorization": f"Bearer {token}"})
    assert got.status_code == 403
    assert got.headers.get_list("www-authenticate") == [
        'Bearer error="insufficient_scope", scope="items:read items:write"'
    ]
    assert got.headers["vary"] == "Authorization"
    assert got.headers["cache-control"] == "no-store"
    assert got.json() == {"detail": "Forbidden"}


def test_scopes_on_a_router_dependency_apply_to_its_routes() -> None:
    app = new_app()
    router = APIRouter(
        dependencies=[Security(authenticate("bearer", session=False), scopes=["items:write"])]
    )

    @router.get("/w")
    async def write() -> str:
        return "written"

    app.include_router(router)
    assert client(app).get("/w", headers=READ).status_code == 403
    assert client(app).get("/w", headers={"Authorization": "Bearer all-token"}).json() == "written"


def test_granted_scopes_reads_a_space_separated_string_or_a_list() -> None:
    assert granted_scopes({"scope": "a b"}) == {"a", "b"}
    assert granted_scopes({"scope": ["a", "b"]}) == {"a", "b"}
    assert granted_scopes({}) == set()
    assert granted_scopes(None) == set()


def test_a_callback_option_is_refused_with_what_to_do_instead() -> None:
    with pytest.raises(ConfigurationError, match="exception_handler\\(PassportHTTPException\\)"):
        authenticate("jwt", callback=lambda request, result: None)


def test_a_form_login_through_the_dependency_logs_in_and_returns_a_dict() -> None:
    web = client(create_app())
    got = web.post("/login", data={"username": "alice", "password": PASSWORD})
    assert got.json() == {"logged_in": "alice"}
    assert web.get("/me").json() == {"username": "alice"}


def test_a_form_login_with_success_redirect_redirects() -> None:
    app = new_app()

    @app.post("/login")
    async def log_in(user: User = Depends(authenticate("local", success_redirect="/home"))) -> None:
        raise AssertionError("the redirect answers first")  # pragma: no cover

    got = client(app).post("/login", data={"username": "alice", "password": PASSWORD})
    assert (got.status_code, got.headers["location"]) == (302, "/home")
    assert SESSION_COOKIE in got.cookies


def test_authorize_returns_the_account_and_keeps_the_logged_in_user() -> None:
    app = create_app()

    @app.get("/link")
    async def link(
        request: Request,
        account: User = Depends(authorize("jar", session=False)),
        user: User = Depends(login_required),
    ) -> dict[str, str]:
        return {
            "account": account.username,
            "user": user.username,
            "state": request.state.account.username,
        }

    web = client(app)
    web.post("/login", data={"username": "alice", "password": PASSWORD})
    got = web.get("/link", headers={"X-Jar": "bob"})
    assert got.json() == {"account": "bob", "user": "alice", "state": "bob"}


def test_login_required_redirects_a_browser_with_a_safe_next_and_saves_the_return_to() -> None:
    app = create_app()

    @app.post("/login-and-return")
    async def log_in(
        user: User = Depends(authenticate("local", success_return_to_or_redirect="/")),
    ) -> None:
        raise AssertionError("the redirect answers first")  # pragma: no cover

    web = client(app)
    got = web.get("/me?tab=1", headers={"Accept": "text/html"})
    assert got.status_code == 302
    assert got.headers["location"] == "/login?next=%2Fme%3Ftab%3D1"
    assert got.headers["cache-control"] == "no-store"
    back = web.post("/login-and-return", data={"username": "alice", "password": PASSWORD})
    assert back.headers["location"] == "/me?tab=1"


def test_login_required_redirects_to_the_middlewares_login_url() -> None:
    app = FastAPI()
    app.add_middleware(PassportMiddleware, passport=make_passport(), login_url="/sign-in")
    app.add_middleware(SessionMiddleware, secret_key="x" * 32)

    @app.get("/me")
    async def me(user: User = Depends(login_required)) -> str:
        return "never"  # pragma: no cover

    got = client(app).get("/me", headers={"Accept": "text/html"})
    assert got.headers["location"] == "/sign-in?next=%2Fme"


def test_login_required_answers_an_api_client_401() -> None:
    got = client(create_app()).get("/me", headers={"Accept": "application/json"})
    assert got.status_code == 401
    assert got.json() == {"detail": "Unauthorized"}
    assert got.headers["cache-control"] == "no-store"


def test_login_required_answers_401_to_a_browser_sending_authorization() -> None:
    got = client(create_app()).get("/me", headers={"Accept": "text/html", **READ})
    assert got.status_code == 401


def test_current_user_is_none_then_the_logged_in_user() -> None:
    web = client(create_app())
    assert web.get("/maybe").json() == {"username": None}
    web.post("/login", data={"username": "bob", "password": "builder"})
    assert web.get("/maybe").json() == {"username": "bob"}


def test_login_and_logout_from_an_endpoint_use_the_session() -> None:
    app = create_app()

    @app.post("/as/{name}")
    async def as_user(name: str, request: Request) -> str:
        user = UserStore.default().by_name(name)
        await login(request, user)
        return name

    @app.post("/out")
    async def out(request: Request) -> str:
        await logout(request)
        return "bye"

    web = client(app)
    web.post("/as/bob")
    assert web.get("/maybe").json() == {"username": "bob"}
    web.post("/out")
    assert web.get("/maybe").json() == {"username": None}


def test_a_dependency_without_the_middleware_names_the_fix() -> None:
    app = FastAPI()

    @app.get("/x")
    async def endpoint(user: User = Depends(authenticate("bearer"))) -> str:
        return "never"  # pragma: no cover

    with pytest.raises(ConfigurationError, match="add Middleware\\(PassportMiddleware"):
        TestClient(app).get("/x")


def test_the_uploads_of_a_multipart_login_are_closed_after_the_response() -> None:
    app = new_app()
    uploads: list[Any] = []

    @app.post("/login")
    async def log_in(request: Request, user: User = Depends(authenticate("local"))) -> str:
        form = await request.form()  # the form the strategy parsed, reused
        uploads.append(form["avatar"])
        return user.username

    got = client(app).post(
        "/login",
        data={"username": "alice", "password": PASSWORD},
        files={"avatar": ("a.png", b"\x89PNG...", "image/png")},
    )
    assert got.json() == "alice"
    assert uploads[0].file.closed


def jwt_app() -> FastAPI:
    """The contract's example: a JWT whose `scope` claim must grant items:read."""
    store = UserStore.default()
    passport = make_passport(store)
    passport.use(
        JwtStrategy(
            lambda claims: Verified(store.by_name(claims["sub"]), claims),
            algorithms=["HS256"],
            key=JWT_KEY,
        )
    )
    app = new_app(passport)

    @app.get("/items")
    async def items(
        user: User = Security(authenticate("jwt", session=False), scopes=["items:read"]),
    ) -> str:
        return user.username

    return app


@pytest.mark.parametrize(
    ("scope", "status"),
    [("items:read items:write", 200), (["items:read"], 200), ("items:write", 403), (None, 403)],
)
def test_a_jwt_scope_claim_decides_the_scoped_route(scope: Any, status: int) -> None:
    claims = {"sub": "bob", **({"scope": scope} if scope is not None else {})}
    token = jwt.encode(claims, JWT_KEY, algorithm="HS256")
    got = client(jwt_app()).get("/items", headers={"Authorization": f"Bearer {token}"})
    assert got.status_code == status
    if status == 403:
        assert got.headers["www-authenticate"] == (
            'Bearer error="insufficient_scope", scope="items:read"'
        )


def test_assign_property_puts_the_user_on_request_state_and_logs_nobody_in() -> None:
    app = new_app()

    @app.get("/client")
    async def endpoint(
        request: Request,
        client_user: User = Depends(authenticate("jar", session=False, assign_property="client")),
        user: User | None = Depends(current_user),
    ) -> dict[str, Any]:
        return {"client": request.state.client.username, "user": user, "got": client_user.username}

    got = client(app).get("/client", headers={"X-Jar": "bob"})
    assert got.json() == {"client": "bob", "user": None, "got": "bob"}


def test_a_failure_flash_mapping_reaches_the_session_before_the_redirect() -> None:
    app = create_app()
    flash = {"type": "error", "message": "Try again"}

    @app.post("/login-flash")
    async def log_in(
        user: User = Depends(authenticate("local", failure_redirect="/login", failure_flash=flash)),
    ) -> None:
        raise AssertionError("a wrong password never gets here")  # pragma: no cover

    @app.get("/flashes")
    async def flashes(request: Request) -> list[list[str]]:
        return [list(pair) for pair in starlette_adapter.pop_flashes(request)]

    web = client(app)
    got = web.post("/login-flash", data={"username": "alice", "password": "wrong"})
    assert (got.status_code, got.headers["location"]) == (302, "/login")
    assert web.get("/flashes").json() == [["error", "Try again"]]


def test_current_user_sees_the_user_an_authenticate_dependency_set() -> None:
    app = new_app()

    @app.get("/who")
    async def who(
        user: User = Depends(authenticate("bearer", session=False)),
        same: User | None = Depends(current_user),
    ) -> bool:
        return same is user

    assert client(app).get("/who", headers=READ).json() is True
