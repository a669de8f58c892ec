"""The FastAPI adapter in a real uvicorn process (`fastapi_apps:create_app`): a form login
through a dependency, the session it starts, scoped items behind a router, and the OpenAPI
document the started app serves.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi_apps import API_KEYS, BEARER_SCHEME, SESSION_COOKIE
from users import PASSWORD
from uvicorn_servers import Server, start_uvicorn

STARTUP_SECONDS = 20.0
BOB_KEY = next(iter(API_KEYS))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("fastapi") / "server.log"
    started = start_uvicorn("fastapi", "fastapi_apps:create_app", log, {})
    try:
        started.wait_ready(time.monotonic() + STARTUP_SECONDS)
        yield started
    finally:
        started.stop()
        print(f"--- server ---\n{started.output()}")


def test_a_form_login_through_the_dependency_starts_a_session(server: Server) -> None:
    with httpx.Client(base_url=server.url) as browser:
        login = browser.post("/login", data={"username": "alice", "password": PASSWORD})
        assert login.json() == {"logged_in": "alice"}
        assert SESSION_COOKIE in login.cookies
        me = browser.get("/me")
    assert me.json() == {"username": "alice"}
    assert me.headers["cache-control"] == "no-store"


def test_a_browser_without_a_session_is_sent_to_the_login_page(server: Server) -> None:
    got = httpx.get(f"{server.url}/me", headers={"Accept": "text/html"})
    assert got.status_code == 302
    assert got.headers["location"] == "/login?next=%2Fme"


def test_a_token_with_the_scope_reads_an_item(server: Server) -> None:
    got = httpx.get(f"{server.url}/items/5", headers={"Authorization": "Bearer read-token"})
    assert got.json() == {"id": 5, "owner": "alice"}
    assert got.headers["vary"] == "Authorization"  # the first strategy answered


def test_an_api_key_without_the_scope_is_a_403(server: Server) -> None:
    got = httpx.get(f"{server.url}/items/5", headers={"X-API-Key": BOB_KEY})
    assert got.status_code == 403
    assert got.headers["www-authenticate"] == (
        'Bearer error="insufficient_scope", scope="items:read"'
    )


def test_no_credentials_is_a_401_with_the_bearer_challenge(server: Server) -> None:
    got = httpx.get(f"{server.url}/items/5")
    assert got.status_code == 401
    assert got.headers.get_list("www-authenticate") == ['Bearer realm="Users"']
    assert got.json() == {"detail": "Unauthorized"}


def test_the_started_app_documents_its_security(server: Server) -> None:
    doc = httpx.get(f"{server.url}/openapi.json").json()
    assert doc["paths"]["/items/{item_id}"]["get"]["security"] == [
        {"bearer": ["items:read"]},
        {"apikey": ["items:read"]},
    ]
    assert doc["paths"]["/me"]["get"]["security"] == [{"session": []}]
    assert doc["components"]["securitySchemes"]["bearer"] == BEARER_SCHEME
    assert doc["components"]["securitySchemes"]["session"]["name"] == SESSION_COOKIE
