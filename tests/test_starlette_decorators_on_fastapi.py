"""The Starlette adapter's `authenticate`, `authorize` and `login_required` on FastAPI path
operations, through real FastAPI apps and Starlette's TestClient.

FastAPI calls an endpoint with keyword arguments it builds from the endpoint's signature, and
serializes whatever it returns; the decorated endpoint keeps its parameters (path, query,
body, dependencies, the `Request`), its sync or async nature and its return value, and a
refusal is the same response the Starlette app gives.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException
from pydantic import BaseModel
from remember_store import remember_passport
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette_app import SECRET
from users import PASSWORD, User, UserStore, local_passport

from passport_py import Authenticator, AuthResult
from passport_py.adapters.starlette import (
    PassportMiddleware,
    authenticate,
    authorize,
    login_required,
)
from passport_py.errors import ConfigurationError
from passport_py.strategies.bearer import BearerStrategy

TOKENS = {"alice-token": "alice", "bob-token": "bob"}
BROWSER = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
CREDENTIALS = {"username": "alice", "password": PASSWORD}


class Item(BaseModel):
    name: str
    price: float


def bearer_for(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def make_passport(store: UserStore) -> Authenticator[User]:
    """The local strategy (form logins) and a bearer strategy over `TOKENS`."""
    passport = local_passport(store)
    passport.use(BearerStrategy(lambda token: store.by_name(TOKENS.get(token, ""))))
    return passport


def fastapi_app(passport: Authenticator[User] | None = None) -> FastAPI:
    """A FastAPI app behind Starlette's SessionMiddleware and PassportMiddleware."""
    app = FastAPI()
    # add_middleware puts each new middleware outermost: the session must wrap passport.
    app.add_middleware(PassportMiddleware, passport=passport or make_passport(UserStore.default()))
    app.add_middleware(SessionMiddleware, secret_key=SECRET)
    return app


def client_for(app: Starlette) -> TestClient:
    return TestClient(app, follow_redirects=False)


def user_name(request: Request) -> str | None:
    return getattr(request.user, "username", None)


# -- parameters pass through ---------------------------------------------------------------


def test_path_and_query_parameters_reach_an_async_endpoint() -> None:
    app = fastapi_app()

    @app.get("/items/{item_id}")
    @authenticate("bearer", session=False)
    async def read_item(item_id: int, q: str | None = None) -> dict[str, Any]:
        return {"item_id": item_id, "q": q}

    response = client_for(app).get("/items/42?q=red", headers=bearer_for("alice-token"))
    assert response.status_code == 200
    assert response.json() == {"item_id": 42, "q": "red"}


def test_fastapi_still_validates_the_parameters_of_a_decorated_endpoint() -> None:
    app = fastapi_app()

    @app.get("/items/{item_id}")
    @authenticate("bearer", session=False)
    async def read_item(item_id: int) -> dict[str, int]:  # pragma: no cover - never valid
        return {"item_id": item_id}

    response = client_for(app).get("/items/forty-two", headers=bearer_for("alice-token"))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "item_id"]


def test_fastapi_validates_the_parameters_before_the_decorator_authenticates() -> None:
    app = fastapi_app()

    @app.get("/items/{item_id}")
    @authenticate("bearer", session=False)
    async def read_item(item_id: int) -> dict[str, int]:  # pragma: no cover - never valid
        return {"item_id": item_id}

    client = client_for(app)
    assert client.get("/items/forty-two").status_code == 422
    assert client.get("/items/42").status_code == 401


def test_an_endpoint_with_its_own_request_parameter_gets_the_authenticated_user() -> None:
    app = fastapi_app()

    @app.get("/me/{section}")
    @authenticate("bearer", session=False)
    async def me(section: str, request: Request) -> dict[str, Any]:
        return {"section": section, "user": user_name(request)}

    response = client_for(app).get("/me/profile", headers=bearer_for("bob-token"))
    assert response.json() == {"section": "profile", "user": "bob"}


def test_a_pydantic_body_reaches_the_endpoint_and_a_returned_model_is_serialized() -> None:
    app = fastapi_app()

    @app.post("/items")
    @authenticate("bearer", session=False)
    async def create_item(item: Item) -> Item:
        return Item(name=item.name.upper(), price=item.price * 2)

    response = client_for(app).post(
        "/items", json={"name": "lamp", "price": 3.5}, headers=bearer_for("alice-token")
    )
    assert response.status_code == 200
    assert response.json() == {"name": "LAMP", "price": 7.0}


def test_openapi_shows_the_endpoints_parameters_and_model_but_not_the_hidden_request() -> None:
    app = fastapi_app()

    @app.post("/items/{item_id}")
    @authenticate("bearer", session=False)
    async def replace_item(item_id: int, item: Item, dry_run: bool = False) -> Item:
        return item  # pragma: no cover - only the schema is read

    operation = app.openapi()["paths"]["/items/{item_id}"]["post"]
    assert [p["name"] for p in operation["parameters"]] == ["item_id", "dry_run"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/Item"}
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/Item"}


def test_other_dependencies_are_solved_and_passed_to_the_endpoint() -> None:
    app = fastapi_app()

    def tenant(x_tenant: str = Header()) -> str:
        return x_tenant.lower()

    @app.get("/reports")
    @authenticate("bearer", session=False)
    async def reports(request: Request, tenant: str = Depends(tenant)) -> dict[str, Any]:
        return {"tenant": tenant, "user": user_name(request)}

    response = client_for(app).get(
        "/reports", headers={**bearer_for("alice-token"), "x-tenant": "ACME"}
    )
    assert response.json() == {"tenant": "acme", "user": "alice"}


def test_a_sync_endpoint_runs_in_the_threadpool_as_fastapi_would_run_it() -> None:
    app = fastapi_app()
    threads: dict[str, int] = {}

    async def on_the_loop() -> None:
        threads["loop"] = threading.get_ident()

    @app.get("/sync/{n}", dependencies=[Depends(on_the_loop)])
    @authenticate("bearer", session=False)
    def sync_endpoint(n: int, request: Request) -> dict[str, Any]:
        threads["endpoint"] = threading.get_ident()
        return {"n": n, "user": user_name(request)}

    response = client_for(app).get("/sync/7", headers=bearer_for("alice-token"))
    assert response.json() == {"n": 7, "user": "alice"}
    assert threads["endpoint"] != threads["loop"]


def test_a_returned_response_goes_out_as_the_endpoint_built_it() -> None:
    app = fastapi_app()

    @app.get("/plain")
    @authenticate("bearer", session=False)
    async def plain() -> Response:
        return PlainTextResponse("made by hand", status_code=202, headers={"x-made": "yes"})

    response = client_for(app).get("/plain", headers=bearer_for("alice-token"))
    assert (response.status_code, response.text) == (202, "made by hand")
    assert response.headers["x-made"] == "yes"


def test_a_success_keeps_vary_and_no_store_on_the_response_fastapi_builds_from_a_dict() -> None:
    app = fastapi_app()

    @app.get("/data")
    @authenticate("bearer", session=False)
    async def data() -> dict[str, bool]:
        return {"ok": True}

    response = client_for(app).get("/data", headers=bearer_for("alice-token"))
    assert response.json() == {"ok": True}
    assert response.headers["vary"] == "Authorization"
    assert response.headers["cache-control"] == "no-store"


def test_an_http_exception_after_a_success_still_carries_vary_and_no_store() -> None:
    app = fastapi_app()

    @app.get("/items/{item_id}")
    @authenticate("bearer", session=False)
    async def read_item(item_id: int) -> dict[str, int]:
        raise HTTPException(404, f"no item {item_id}")

    response = client_for(app).get("/items/5", headers=bearer_for("alice-token"))
    assert (response.status_code, response.json()) == (404, {"detail": "no item 5"})
    assert response.headers["vary"] == "Authorization"
    assert response.headers["cache-control"] == "no-store"


def test_a_callback_decides_the_answer_of_a_fastapi_endpoint() -> None:
    app = fastapi_app()

    def answer_with(request: Request, result: AuthResult[Any]) -> Response:
        who = getattr(result.user, "username", "nobody")
        return PlainTextResponse(f"{request.url.path} by {who}", status_code=203)

    @app.get("/probe/{n}")
    @authenticate("bearer", session=False, callback=answer_with)
    async def probe(n: int) -> dict[str, int]:  # pragma: no cover - the callback answers
        return {"n": n}

    client = client_for(app)
    seen = client.get("/probe/1", headers=bearer_for("bob-token"))
    assert (seen.status_code, seen.text) == (203, "/probe/1 by bob")
    assert client.get("/probe/1").text == "/probe/1 by nobody"


# -- refusals are the Starlette adapter's ---------------------------------------------------


def starlette_app_with(path: str, endpoint: Any) -> Starlette:
    passport = make_passport(UserStore.default())
    return Starlette(
        routes=[Route(path, endpoint)],
        middleware=[
            Middleware(SessionMiddleware, secret_key=SECRET),
            Middleware(PassportMiddleware, passport=passport),
        ],
    )


def answer(response: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """What a client can see of a refusal (the session cookie aside)."""
    headers = sorted(
        (k, v) for k, v in response.headers.multi_items() if k not in ("date", "server")
    )
    return response.status_code, headers, response.content


@pytest.mark.parametrize(
    "headers",
    [{}, bearer_for("wrong-token"), {"authorization": "Bearer"}],
    ids=["no-token", "unknown-token", "malformed"],
)
def test_an_authenticate_failure_is_the_same_answer_as_on_starlette(
    headers: dict[str, str],
) -> None:
    @authenticate("bearer", session=False)
    async def starlette_endpoint(request: Request) -> Response:  # pragma: no cover
        return PlainTextResponse("never")

    app = fastapi_app()

    @app.get("/api/{item_id}")
    @authenticate("bearer", session=False)
    async def fastapi_endpoint(item_id: int) -> dict[str, int]:  # pragma: no cover
        return {"item_id": item_id}

    expected = client_for(starlette_app_with("/api/{item_id}", starlette_endpoint)).get(
        "/api/1", headers=headers
    )
    got = client_for(app).get("/api/1", headers=headers)
    assert got.status_code in (400, 401)
    assert answer(got) == answer(expected)


@pytest.mark.parametrize("headers", [BROWSER, {"accept": "application/json"}, bearer_for("x")])
def test_login_required_refuses_exactly_as_on_starlette(headers: dict[str, str]) -> None:
    @login_required
    async def starlette_endpoint(request: Request) -> Response:  # pragma: no cover
        return PlainTextResponse("never")

    app = fastapi_app()

    @app.get("/orders/{order_id}")
    @login_required
    async def fastapi_endpoint(order_id: int) -> dict[str, int]:  # pragma: no cover
        return {"order_id": order_id}

    expected = client_for(starlette_app_with("/orders/{order_id}", starlette_endpoint))
    got = client_for(app)
    assert answer(got.get("/orders/9?tab=2", headers=headers)) == answer(
        expected.get("/orders/9?tab=2", headers=headers)
    )


def test_login_required_redirects_a_browser_with_next_and_answers_an_api_client_401() -> None:
    app = fastapi_app()

    @app.get("/orders/{order_id}")
    @login_required
    async def order(order_id: int) -> dict[str, int]:  # pragma: no cover - refused
        return {"order_id": order_id}

    client = client_for(app)
    browser = client.get("/orders/9", headers=BROWSER)
    assert (browser.status_code, browser.headers["location"]) == (302, "/login?next=%2Forders%2F9")
    assert client.get("/orders/9", headers={"accept": "application/json"}).status_code == 401


# -- form logins ----------------------------------------------------------------------------


def add_session_pages(app: FastAPI) -> None:
    """`GET /whoami` behind login_required, with a path-free sync endpoint."""

    @app.get("/whoami")
    @login_required
    def whoami(request: Request) -> dict[str, Any]:
        return {"user": user_name(request)}


def test_a_form_login_with_success_redirect_logs_in_and_later_requests_are_restored() -> None:
    app = fastapi_app()

    @app.post("/login")
    @authenticate("local", success_redirect="/welcome", failure_redirect="/login")
    async def log_in() -> None:  # pragma: no cover - always redirects
        return None

    add_session_pages(app)
    client = client_for(app)
    response = client.post("/login", data=CREDENTIALS)
    assert (response.status_code, response.headers["location"]) == (302, "/welcome")
    assert client.get("/whoami", headers=BROWSER).json() == {"user": "alice"}


def test_a_failed_form_login_redirects_to_the_failure_page() -> None:
    app = fastapi_app()

    @app.post("/login")
    @authenticate("local", success_redirect="/welcome", failure_redirect="/login")
    async def log_in() -> None:  # pragma: no cover - always redirects
        return None

    response = client_for(app).post("/login", data={"username": "alice", "password": "no"})
    assert (response.status_code, response.headers["location"]) == (302, "/login")


def test_a_form_login_whose_endpoint_returns_a_dict_logs_in_with_the_session_headers() -> None:
    app = fastapi_app()

    @app.post("/login")
    @authenticate("local")
    async def log_in(request: Request) -> dict[str, Any]:
        return {"user": user_name(request)}

    add_session_pages(app)
    client = client_for(app)
    response = client.post("/login", data=CREDENTIALS)
    assert (response.status_code, response.json()) == (200, {"user": "alice"})
    assert response.headers["cache-control"] == "no-store"
    assert "Cookie" in response.headers["vary"]
    assert "session" in response.cookies
    assert client.get("/whoami", headers=BROWSER).json() == {"user": "alice"}


def test_a_multipart_login_returning_a_dict_closes_the_uploaded_file() -> None:
    app = fastapi_app()
    uploads: list[UploadFile] = []

    @app.post("/login")
    @authenticate("local")
    async def log_in(request: Request) -> dict[str, Any]:
        upload = (await request.form())["avatar"]
        assert isinstance(upload, UploadFile)
        uploads.append(upload)
        return {"user": user_name(request), "closed": upload.file.closed}

    response = client_for(app).post(
        "/login", data=CREDENTIALS, files={"avatar": ("a.png", b"\x89PNG" * 100, "image/png")}
    )
    assert response.json() == {"user": "alice", "closed": False}
    assert uploads[0].file.closed


def test_a_remember_me_login_returning_a_dict_sets_the_remember_cookie() -> None:
    passport, tokens = remember_passport(UserStore.default())
    app = fastapi_app(passport)

    @app.post("/login")
    @authenticate("local", remember="remember_me")
    async def log_in(request: Request) -> dict[str, Any]:
        return {"user": user_name(request)}

    response = client_for(app).post("/login", data={**CREDENTIALS, "remember_me": "on"})
    assert response.json() == {"user": "alice"}
    assert "remember_me" in response.cookies
    assert [call for call, _ in tokens.calls] == ["issue"]


# -- authorize, routers, stacking ----------------------------------------------------------


def test_authorize_puts_the_account_on_request_state_and_keeps_the_session_user() -> None:
    app = fastapi_app()

    @app.post("/login")
    @authenticate("local")
    async def log_in() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/link/{provider}")
    @authorize("bearer")
    async def link(provider: str, request: Request) -> dict[str, Any]:
        return {
            "provider": provider,
            "user": user_name(request),
            "account": request.state.account.username,
        }

    client = client_for(app)
    client.post("/login", data=CREDENTIALS)
    response = client.post("/link/github", headers=bearer_for("bob-token"))
    assert response.json() == {"provider": "github", "user": "alice", "account": "bob"}


def test_decorated_endpoints_work_on_an_included_api_router() -> None:
    app = fastapi_app()
    router = APIRouter(prefix="/v1")

    @router.get("/items/{item_id}")
    @authenticate("bearer", session=False)
    def read_item(item_id: int, request: Request) -> dict[str, Any]:
        return {"item_id": item_id, "user": user_name(request)}

    app.include_router(router)
    client = client_for(app)
    assert client.get("/v1/items/3", headers=bearer_for("alice-token")).json() == {
        "item_id": 3,
        "user": "alice",
    }
    assert client.get("/v1/items/3").status_code == 401


def test_login_required_stacked_on_authorize_passes_the_request_through_both() -> None:
    app = fastapi_app()

    @app.post("/login")
    @authenticate("local")
    async def log_in() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/projects/{project}")
    @login_required
    @authorize("bearer")
    async def project(project: str) -> dict[str, str]:
        return {"project": project}

    client = client_for(app)
    assert client.get("/projects/x", headers=bearer_for("bob-token")).status_code == 401
    client.post("/login", data=CREDENTIALS)
    response = client.get("/projects/x", headers=bearer_for("bob-token"))
    assert response.json() == {"project": "x"}


def test_one_decorated_starlette_endpoint_serves_a_starlette_route_and_a_fastapi_route() -> None:
    @authenticate("bearer", session=False)
    async def whoami(request: Request) -> Response:
        return PlainTextResponse(f"hello {user_name(request)}")

    app = fastapi_app()
    app.get("/fastapi")(whoami)
    app.add_route("/starlette", whoami)
    client = client_for(app)
    for path in ("/fastapi", "/starlette"):
        assert client.get(path, headers=bearer_for("bob-token")).text == "hello bob"


# -- misconfiguration ----------------------------------------------------------------------


def test_an_unknown_strategy_on_a_fastapi_endpoint_fails_startup() -> None:
    app = fastapi_app()

    @app.get("/items/{item_id}")
    @authenticate("jwt-typo", session=False)
    async def read_item(item_id: int) -> dict[str, int]:  # pragma: no cover - never served
        return {"item_id": item_id}

    with pytest.raises(ConfigurationError, match="jwt-typo") as caught, TestClient(app):
        pass  # pragma: no cover - the startup raises
    assert "read_item" in str(caught.value)


def test_decorating_a_generator_endpoint_names_the_fastapi_dependencies() -> None:
    with pytest.raises(ConfigurationError, match=r"passport_py\.adapters\.fastapi"):

        @authenticate("bearer", session=False)
        async def stream() -> Any:  # pragma: no cover - refused
            yield b"chunk"


def test_calling_a_decorated_endpoint_without_a_request_says_where_the_decorator_goes() -> None:
    @login_required
    async def report(n: int) -> dict[str, int]:  # pragma: no cover - refused
        return {"n": n}

    with pytest.raises(ConfigurationError, match="directly on a Starlette endpoint"):
        asyncio.run(report(n=1))
