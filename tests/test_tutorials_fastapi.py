"""The FastAPI pages, fastapi.md and fastapi-scopes.md, saved as the file a reader would write
and served by uvicorn in a child process: the quickstart's pages toured in headless Chromium,
its JSON API and the scopes page's API called over real HTTP (httpx)."""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from test_tutorials_quickstarts import QUICKSTART_TOUR as STARLETTE_QUICKSTART_TOUR
from tutorials import page_source, served_by_uvicorn, take_the_tour, write_app
from uvicorn_servers import Server

# The pages read their secrets from the environment; each run gets its own.
JWT_SECRET = secrets.token_urlsafe(32)
SESSION_SECRET = secrets.token_urlsafe(32)
SECRETS = {"JWT_SECRET": JWT_SECRET, "SESSION_SECRET": SESSION_SECRET}

# The FastAPI quickstart's pages are the Starlette quickstart's: the same tour.
QUICKSTART_TOUR = STARLETTE_QUICKSTART_TOUR
QUICKSTART_BLOCKS = 7  # steps 1 to 7 make app.py; step 9's code belongs in the reader's tests
NIGHTLY_KEY = {"X-API-Key": "k_live_nightly_7Hq2Lw9Zp4Xc"}


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    source = page_source(
        "docs/fastapi.md", "1. Users and their passwords", blocks=QUICKSTART_BLOCKS
    )
    directory = write_app(tmp_path_factory.mktemp("fastapi-quickstart"), source)
    with served_by_uvicorn(directory, directory / "uvicorn.log", env=SECRETS) as server:
        yield server


@pytest.fixture
def api(quickstart: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=quickstart.url) as client:
        yield client


@pytest.fixture(scope="module")
def scopes_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    source = page_source("docs/fastapi-scopes.md", "The API", blocks=1)
    directory = write_app(tmp_path_factory.mktemp("fastapi-scopes"), source)
    with (
        served_by_uvicorn(directory, directory / "uvicorn.log", env=SECRETS) as server,
        httpx.Client(base_url=server.url) as client,
    ):
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_for(api: httpx.Client, username: str, password: str) -> str:
    response = api.post("/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    token: str = body["access_token"]
    return token


def with_claims(token: str, **changes: Any) -> str:
    """The token with its payload changed and its signature kept: what a forger can do."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = json.dumps({**claims, **changes}).encode()
    return f"{header}.{base64.urlsafe_b64encode(forged).rstrip(b'=').decode()}.{signature}"


def reports_token(scope: str) -> dict[str, str]:
    claims = {
        "sub": "alice",
        "iss": "https://auth.example.com",
        "aud": "https://reports.example.com",
        "exp": int(time.time()) + 300,
        "scope": scope,
    }
    return bearer(jwt.encode(claims, JWT_SECRET, "HS256"))


# -- the quickstart in Chromium ---------------------------------------------------------------


def test_quickstart_login_flow_under_uvicorn_in_chromium(quickstart: Server, driver: Any) -> None:
    take_the_tour(driver, quickstart.url, QUICKSTART_TOUR)


# -- the quickstart's API over HTTP -----------------------------------------------------------


def test_quickstart_api_challenges_a_request_without_a_token(api: httpx.Client) -> None:
    response = api.get("/api/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="Users"'
    assert response.json() == {"detail": "Unauthorized"}


def test_quickstart_token_endpoint_refuses_a_wrong_password(api: httpx.Client) -> None:
    response = api.post("/token", data={"username": "alice", "password": "not-wonderland"})
    assert response.status_code == 401
    assert "set-cookie" not in response.headers


def test_quickstart_api_serves_a_token_from_the_token_endpoint(api: httpx.Client) -> None:
    response = api.get("/api/me", headers=bearer(token_for(api, "alice", "wonderland")))
    assert response.status_code == 200
    assert response.json() == {"name": "alice"}
    assert "Authorization" in response.headers["vary"]
    assert response.headers["cache-control"] == "no-store"


def test_quickstart_api_refuses_a_tampered_token(api: httpx.Client) -> None:
    token = with_claims(token_for(api, "bob", "builder"), scope="items:read items:write")
    response = api.post("/api/items", json={"name": "a forged mug"}, headers=bearer(token))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        'Bearer realm="Users", error="invalid_token", '
        'error_description="The token\'s signature is invalid"'
    )


def test_quickstart_api_refuses_a_token_without_the_routes_scope(api: httpx.Client) -> None:
    bob = bearer(token_for(api, "bob", "builder"))
    assert api.get("/api/items", headers=bob).status_code == 200  # items:read he has
    response = api.post("/api/items", json={"name": "a mug"}, headers=bob)
    assert response.status_code == 403
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="items:write"' in challenge
    assert response.json() == {"detail": "Forbidden"}
    assert "a mug" not in api.get("/api/items", headers=bob).json()


def test_quickstart_api_runs_the_endpoint_for_a_token_with_the_scope(api: httpx.Client) -> None:
    alice = bearer(token_for(api, "alice", "wonderland"))
    response = api.post("/api/items", json={"name": "a kettle"}, headers=alice)
    assert response.status_code == 201
    assert "a kettle" in response.json()


def test_quickstart_api_validates_the_body_after_the_token(api: httpx.Client) -> None:
    alice = bearer(token_for(api, "alice", "wonderland"))
    assert api.post("/api/items", json={"title": "no name"}, headers=alice).status_code == 422


def test_quickstart_account_page_answers_an_api_client_401(api: httpx.Client) -> None:
    response = api.get("/account", headers={"accept": "application/json"})
    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}


def test_quickstart_openapi_lists_the_jwt_scheme_with_each_routes_scopes(
    api: httpx.Client,
) -> None:
    document = api.get("/openapi.json").json()
    scheme = document["components"]["securitySchemes"]["jwt"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    paths = document["paths"]
    assert paths["/api/me"]["get"]["security"] == [{"jwt": []}]
    assert paths["/api/items"]["get"]["security"] == [{"jwt": ["items:read"]}]
    assert paths["/api/items"]["post"]["security"] == [{"jwt": ["items:write"]}]
    assert "security" not in paths["/token"]["post"]  # a password form is no security scheme


# -- the scopes page over HTTP ----------------------------------------------------------------


def test_scopes_page_challenges_a_request_without_credentials(scopes_api: httpx.Client) -> None:
    response = scopes_api.get("/reports")
    assert response.status_code == 401
    assert 'Bearer realm="Users"' in response.headers["www-authenticate"]


def test_scopes_page_serves_an_api_key_with_the_scope(scopes_api: httpx.Client) -> None:
    response = scopes_api.get("/reports", headers=NIGHTLY_KEY)
    assert response.status_code == 200
    assert response.json()["client"] == "nightly-report"


def test_scopes_page_serves_a_token_with_the_scope(scopes_api: httpx.Client) -> None:
    response = scopes_api.get("/reports", headers=reports_token("profile reports:read"))
    assert response.status_code == 200
    assert response.json()["client"] == "alice"


def test_scopes_page_refuses_a_token_without_the_scope(scopes_api: httpx.Client) -> None:
    response = scopes_api.get("/reports", headers=reports_token("profile"))
    assert response.status_code == 403
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="reports:read"' in challenge


def test_scopes_page_router_scope_guards_every_admin_route(scopes_api: httpx.Client) -> None:
    assert scopes_api.get("/admin/users", headers=reports_token("reports:read")).status_code == 403
    response = scopes_api.get("/admin/users", headers=reports_token("admin"))
    assert response.status_code == 200
    assert "alice" in response.json()


def test_scopes_page_admin_routes_take_no_api_key(scopes_api: httpx.Client) -> None:
    assert scopes_api.get("/admin/users", headers=NIGHTLY_KEY).status_code == 401


def test_scopes_page_route_scope_adds_to_the_router_scope(scopes_api: httpx.Client) -> None:
    only_admin = scopes_api.delete("/admin/users/carol", headers=reports_token("admin"))
    assert only_admin.status_code == 403
    assert 'scope="users:delete"' in only_admin.headers["www-authenticate"]
    only_delete = scopes_api.delete("/admin/users/carol", headers=reports_token("users:delete"))
    assert only_delete.status_code == 403
    both = scopes_api.delete("/admin/users/carol", headers=reports_token("admin users:delete"))
    assert both.json() == {"deleted": "carol", "by": "alice"}
