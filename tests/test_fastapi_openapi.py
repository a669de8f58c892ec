"""The OpenAPI document FastAPI serves at /openapi.json for routes our dependencies protect.

Each dependency puts its strategies' `openapi_scheme()` in `components.securitySchemes` (under
the registered name) and one security requirement per alternative strategy, with the route's
scopes, in the operation; a strategy that describes no scheme is left out; `login_required`
and `current_user` describe the session cookie.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Security
from fastapi.security import HTTPBearer
from fastapi_apps import (
    APIKEY_SCHEME,
    BEARER_SCHEME,
    SESSION_COOKIE,
    create_app,
    make_passport,
    new_app,
)
from openapi_spec_validator import validate
from starlette.middleware.sessions import SessionMiddleware
from starlette.testclient import TestClient

from passport_py.adapters.fastapi import (
    PassportMiddleware,
    authenticate,
    authorize,
    current_user,
    login_required,
)
from passport_py.sessions import MemoryStore
from passport_py.sessions import SessionMiddleware as ServerSessionMiddleware
from passport_py.strategies.http import BasicStrategy
from passport_py.strategies.jwt import JwtStrategy

LEGACY = HTTPBearer(scheme_name="legacy", auto_error=False)
SESSION_SCHEME = {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE}


def document(app: FastAPI) -> dict[str, Any]:
    """/openapi.json as a client gets it, from an app run without its lifespan."""
    response = TestClient(app).get("/openapi.json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def operation(doc: dict[str, Any], path: str, method: str = "get") -> dict[str, Any]:
    return doc["paths"][path][method]  # type: ignore[no-any-return]


def schemes(doc: dict[str, Any]) -> dict[str, Any]:
    return doc.get("components", {}).get("securitySchemes", {})  # type: ignore[no-any-return]


def test_one_strategy_is_one_scheme_and_one_requirement() -> None:
    app = new_app()

    @app.get("/items")
    async def items(user: Any = Depends(authenticate("bearer", session=False))) -> list[str]:
        return []

    doc = document(app)
    assert operation(doc, "/items")["security"] == [{"bearer": []}]
    assert schemes(doc) == {"bearer": BEARER_SCHEME}


def test_a_chain_of_alternatives_is_one_requirement_per_strategy() -> None:
    app = new_app()

    @app.get("/items")
    async def items(user: Any = Depends(authenticate(["bearer", "apikey"]))) -> list[str]:
        return []

    doc = document(app)
    assert operation(doc, "/items")["security"] == [{"bearer": []}, {"apikey": []}]
    assert schemes(doc) == {"bearer": BEARER_SCHEME, "apikey": APIKEY_SCHEME}


def test_the_routes_scopes_go_in_each_requirement() -> None:
    app = new_app()
    reader = authenticate(["bearer", "apikey"], session=False)

    @app.get("/items")
    async def items(user: Any = Security(reader, scopes=["items:read"])) -> list[str]:
        return []

    @app.post("/items")
    async def add(user: Any = Security(reader, scopes=["items:read", "items:write"])) -> None:
        return None

    doc = document(app)
    assert operation(doc, "/items")["security"] == [
        {"bearer": ["items:read"]},
        {"apikey": ["items:read"]},
    ]
    assert operation(doc, "/items", "post")["security"] == [
        {"bearer": ["items:read", "items:write"]},
        {"apikey": ["items:read", "items:write"]},
    ]


def test_router_level_dependencies_describe_every_route_of_the_router() -> None:
    app = new_app()
    router = APIRouter(
        prefix="/admin",
        dependencies=[Security(authenticate("bearer", session=False), scopes=["admin"])],
    )

    @router.get("/users")
    async def users() -> list[str]:
        return []

    @router.get("/groups/{group_id}")
    async def group(group_id: int) -> dict[str, int]:
        return {"id": group_id}

    app.include_router(router)
    doc = document(app)
    assert operation(doc, "/admin/users")["security"] == [{"bearer": ["admin"]}]
    assert operation(doc, "/admin/groups/{group_id}")["security"] == [{"bearer": ["admin"]}]


def test_include_router_dependencies_describe_the_included_routes() -> None:
    app = new_app()
    router = APIRouter()

    @router.get("/reports")
    async def reports() -> list[str]:
        return []

    app.include_router(
        router, prefix="/v1", dependencies=[Depends(authenticate("apikey", session=False))]
    )
    assert operation(document(app), "/v1/reports")["security"] == [{"apikey": []}]


def test_a_strategy_without_a_scheme_is_left_out() -> None:
    app = new_app()

    @app.get("/jar")
    async def jar(user: Any = Depends(authenticate("jar", session=False))) -> None:
        return None

    @app.get("/either")
    async def either(user: Any = Depends(authenticate(["jar", "bearer"]))) -> None:
        return None

    doc = document(app)
    assert "security" not in operation(doc, "/jar")
    assert operation(doc, "/either")["security"] == [{"bearer": []}]
    assert "jar" not in schemes(doc)


def test_unprotected_routes_get_no_security() -> None:
    app = new_app()

    @app.get("/open")
    async def open_route() -> None:
        return None

    @app.get("/closed")
    async def closed(user: Any = Depends(authenticate("bearer"))) -> None:
        return None

    assert "security" not in operation(document(app), "/open")


def test_login_required_describes_the_session_cookie_by_its_name() -> None:
    app = new_app()

    @app.get("/me")
    async def me(user: Any = Depends(login_required)) -> None:
        return None

    doc = document(app)
    assert operation(doc, "/me")["security"] == [{"session": []}]
    assert schemes(doc) == {"session": SESSION_SCHEME}


def test_current_user_describes_the_session_cookie_as_optional() -> None:
    app = new_app()

    @app.get("/maybe")
    async def maybe(user: Any = Depends(current_user)) -> None:
        return None

    assert operation(document(app), "/maybe")["security"] == [{"session": []}, {}]


def test_the_session_cookie_name_comes_from_passports_own_session_middleware() -> None:
    app = FastAPI()
    app.add_middleware(PassportMiddleware, passport=make_passport())
    app.add_middleware(
        ServerSessionMiddleware, secret_key="y" * 32, store=MemoryStore(), cookie_name="ssid"
    )

    @app.get("/me")
    async def me(user: Any = Depends(login_required)) -> None:
        return None

    assert schemes(document(app))["session"]["name"] == "ssid"


def test_two_dependencies_on_one_route_are_both_required() -> None:
    app = new_app()

    @app.get("/link")
    async def link(
        account: Any = Depends(authorize(["bearer", "apikey"], session=False)),
        user: Any = Depends(login_required),
    ) -> None:
        return None

    assert operation(document(app), "/link")["security"] == [
        {"bearer": [], "session": []},
        {"apikey": [], "session": []},
    ]


def test_fastapis_own_security_dependencies_stay_next_to_ours() -> None:
    app = new_app()

    @app.get("/mixed")
    async def mixed(
        token: Any = Depends(LEGACY),
        user: Any = Depends(authenticate("apikey", session=False)),
    ) -> None:
        return None

    doc = document(app)
    assert operation(doc, "/mixed")["security"] == [{"legacy": []}, {"apikey": []}]
    assert set(schemes(doc)) == {"legacy", "apikey"}


def test_routes_left_out_of_the_schema_stay_out() -> None:
    app = new_app()

    @app.get("/hidden", include_in_schema=False)
    async def hidden(user: Any = Depends(authenticate("bearer"))) -> None:
        return None

    doc = document(app)
    assert "/hidden" not in doc["paths"]
    assert schemes(doc) == {}


def test_the_document_is_the_same_with_the_lifespan_and_asked_twice() -> None:
    def build() -> FastAPI:
        app = new_app()

        @app.get("/items")
        async def items(user: Any = Security(authenticate("bearer"), scopes=["r"])) -> None:
            return None

        return app

    without = document(build())
    with TestClient(build()) as web:
        first = web.get("/openapi.json").json()
        second = web.get("/openapi.json").json()
    assert first == second == without
    assert operation(first, "/items")["security"] == [{"bearer": ["r"]}]


def test_the_document_includes_routes_added_after_the_first_request() -> None:
    app = new_app()
    web = TestClient(app)
    assert web.get("/openapi.json").status_code == 200

    @app.get("/late")
    async def late(user: Any = Depends(authenticate("apikey", session=False))) -> None:
        return None

    assert operation(web.get("/openapi.json").json(), "/late")["security"] == [{"apikey": []}]


def test_the_password_flow_is_never_advertised() -> None:
    app = new_app()

    @app.post("/login")
    async def log_in(user: Any = Depends(authenticate("local"))) -> None:
        return None

    doc = document(app)
    assert "security" not in operation(doc, "/login", "post")
    assert "password" not in str(schemes(doc))


def test_a_starlette_session_middleware_added_with_a_custom_cookie_is_named() -> None:
    app = FastAPI()
    app.add_middleware(PassportMiddleware, passport=make_passport())
    app.add_middleware(SessionMiddleware, secret_key="x" * 32, session_cookie="web")

    @app.get("/maybe")
    async def maybe(user: Any = Depends(current_user)) -> None:
        return None

    assert schemes(document(app))["session"] == {"type": "apiKey", "in": "cookie", "name": "web"}


def test_built_in_strategies_describe_themselves_in_a_valid_document() -> None:
    passport = make_passport()
    passport.use(JwtStrategy(lambda claims: None, algorithms=["HS256"], key="k" * 32))
    passport.use(BasicStrategy(lambda username, password: None))
    app = new_app(passport)

    @app.get("/items")
    async def items(
        user: Any = Security(authenticate(["jwt", "basic"], session=False), scopes=["items:read"]),
    ) -> None:
        return None

    doc = document(app)
    validate(doc)
    assert operation(doc, "/items")["security"] == [
        {"jwt": ["items:read"]},
        {"basic": ["items:read"]},
    ]
    jwt_scheme = schemes(doc)["jwt"]
    assert (jwt_scheme["type"], jwt_scheme["scheme"], jwt_scheme["bearerFormat"]) == (
        "http",
        "bearer",
        "JWT",
    )
    assert schemes(doc)["basic"]["scheme"] == "basic"


def test_the_uvicorn_apps_document_is_valid_openapi() -> None:
    validate(document(create_app()))
