"""The demo's JSON API, the FastAPI app mounted at `/api`, through Starlette's TestClient on
the whole demo: the token from the account page as a bearer token and as an API key, a path
parameter, scopes (403 `insufficient_scope`), the OpenAPI schema's security schemes, and a
Swagger UI page whose files the demo serves itself.

The same page driven in Chromium is tests/test_demo_swagger.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient
from test_demo import HTML, NAME, PASSWORD, SECRET

from passport_py.demo.app import API_SCOPES, DEMO_USERS, build_app
from passport_py.sessions import MemoryStore

ALICE, BOB = "alice", "bob"


@pytest.fixture
def demo() -> Iterator[TestClient]:
    """A demo of its own (items removed by one test stay removed there only)."""
    with TestClient(build_app(SECRET, store=MemoryStore()), follow_redirects=False) as client:
        yield client


def token_of(demo: TestClient, name: str) -> str:
    """Log `name` in through the login form and read the token off the account page."""
    demo.cookies.clear()
    login = demo.post("/login", data={"username": name, "password": DEMO_USERS[name]})
    assert login.headers["location"] == "/"
    page = demo.get("/", headers=HTML).text
    demo.cookies.clear()  # the API is called without the session, as a script would
    token: str = page.split("Your API token: <code>", 1)[1].split("</code>", 1)[0]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def api_key(token: str) -> dict[str, str]:
    return {"x-api-key": token}


def test_the_token_sent_as_an_api_key_names_the_same_user_as_the_bearer_token(
    demo: TestClient,
) -> None:
    token = token_of(demo, NAME)
    by_bearer = demo.get("/api/me", headers=bearer(token))
    by_key = demo.get("/api/me", headers=api_key(token))
    assert by_bearer.status_code == by_key.status_code == 200
    assert by_bearer.json() == by_key.json() == {"id": 1, "username": NAME}
    assert "x-api-key" in by_key.headers["vary"].lower()


def test_a_wrong_api_key_is_a_401_in_fastapis_shape(demo: TestClient) -> None:
    answer = demo.get("/api/me", headers=api_key("not-a-key"))
    assert answer.status_code == 401
    assert answer.json() == {"detail": "Unauthorized"}
    assert answer.headers["www-authenticate"] == 'Bearer realm="demo"'


def test_an_item_is_read_by_its_path_parameter(demo: TestClient) -> None:
    answer = demo.get("/api/items/2", headers=bearer(token_of(demo, BOB)))
    assert answer.status_code == 200
    assert answer.json() == {"id": 2, "name": "Map"}


def test_an_item_that_does_not_exist_is_a_404_naming_it(demo: TestClient) -> None:
    answer = demo.get("/api/items/99", headers=api_key(token_of(demo, BOB)))
    assert answer.status_code == 404
    assert answer.json() == {"detail": "There is no item 99."}


def test_reading_an_item_without_a_token_is_a_401_challenge(demo: TestClient) -> None:
    answer = demo.get("/api/items/1")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == 'Bearer realm="demo"'
    assert answer.headers["cache-control"] == "no-store"


def test_a_token_without_the_write_scope_cannot_remove_an_item(demo: TestClient) -> None:
    assert API_SCOPES[BOB] == "items:read"
    answer = demo.delete("/api/items/1", headers=bearer(token_of(demo, BOB)))
    assert answer.status_code == 403
    challenge = answer.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="items:write"' in challenge
    assert demo.get("/api/items/1", headers=bearer(token_of(demo, BOB))).status_code == 200


def test_a_token_with_the_write_scope_removes_an_item(demo: TestClient) -> None:
    token = token_of(demo, ALICE)
    removed = demo.delete("/api/items/1", headers=api_key(token))
    assert removed.status_code == 204
    assert demo.get("/api/items/1", headers=bearer(token)).status_code == 404


def test_the_schema_offers_the_bearer_token_and_the_api_key(demo: TestClient) -> None:
    schema = demo.get("/api/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearer"]["type"] == "http" and schemes["bearer"]["scheme"] == "bearer"
    assert {k: schemes["apikey"][k] for k in ("type", "in", "name")} == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
    }
    paths = schema["paths"]
    assert paths["/me"]["get"]["security"] == [{"bearer": []}, {"apikey": []}]
    assert paths["/items/{item_id}"]["get"]["security"] == [
        {"bearer": ["items:read"]},
        {"apikey": ["items:read"]},
    ]
    assert paths["/items/{item_id}"]["delete"]["security"] == [
        {"bearer": ["items:write"]},
        {"apikey": ["items:write"]},
    ]
    # Mounted at /api: Swagger UI's "Try it out" must call /api/me, not /me.
    assert schema["servers"] == [{"url": "/api"}]


def test_the_docs_page_loads_every_file_from_the_demo(demo: TestClient) -> None:
    page = demo.get("/api/docs", headers=HTML)
    assert page.status_code == 200
    loaded = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sorted(loaded) == [
        "/api/docs-assets/favicon.png",
        "/api/docs-assets/swagger-ui-bundle.js",
        "/api/docs-assets/swagger-ui.css",
    ]
    assert "http://" not in page.text and "https://" not in page.text
    assert "url: '/api/openapi.json'" in page.text
    for address in loaded:
        asset = demo.get(address)
        assert asset.status_code == 200, address
        assert len(asset.content) > 1000, address
    script = demo.get("/api/docs-assets/swagger-ui-bundle.js")
    assert "javascript" in script.headers["content-type"]


def test_the_account_page_shows_the_scopes_and_links_the_api_docs(demo: TestClient) -> None:
    demo.post("/login", data={"username": NAME, "password": PASSWORD})
    page = demo.get("/", headers=HTML).text
    scopes = ", ".join(f"<code>{scope}</code>" for scope in API_SCOPES[NAME].split())
    assert f"Its scopes: {scopes}." in page
    assert '<a href="/api/docs">the API docs</a>' in page
    assert '<li><a href="/api/docs">API docs</a></li>' in page
