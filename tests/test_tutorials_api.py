"""The API pages, custom-strategy.md and jwt.md, saved as the file a reader would write, served
by uvicorn in a child process and called over real HTTP (httpx): they have no pages for a
browser, so the client is an API client."""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Iterator

import httpx
import jwt
import pytest
from tutorials import page_source, served_by_uvicorn, write_app

JWT_SECRET = secrets.token_urlsafe(32)  # the page reads JWT_SECRET from the environment
JWT_CLAIMS = {
    "sub": "alice",
    "iss": "https://auth.example.com",
    "aud": "https://api.example.com",
    "scope": "read",
}


def invalid_token(description: str) -> str:
    return f'Bearer realm="Users", error="invalid_token", error_description="{description}"'


@pytest.fixture(scope="module")
def custom_strategy_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    source = page_source("docs/custom-strategy.md", "Writing a strategy", blocks=1)
    directory = write_app(tmp_path_factory.mktemp("custom-strategy"), source)
    with (
        served_by_uvicorn(directory, directory / "uvicorn.log") as server,
        httpx.Client(base_url=server.url) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def jwt_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    source = page_source("docs/jwt.md", "JwtStrategy", blocks=1)
    directory = write_app(tmp_path_factory.mktemp("jwt"), source)
    log = directory / "uvicorn.log"
    with (
        served_by_uvicorn(directory, log, env={"JWT_SECRET": JWT_SECRET}) as server,
        httpx.Client(base_url=server.url) as client,
    ):
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def alice_token() -> str:
    return jwt.encode({**JWT_CLAIMS, "exp": int(time.time()) + 300}, JWT_SECRET, "HS256")


def test_custom_strategy_serves_a_known_key_and_varies_on_its_header(
    custom_strategy_api: httpx.Client,
) -> None:
    response = custom_strategy_api.get("/api/whoami", headers={"X-API-Key": "k-live-3f9a"})
    assert response.status_code == 200
    assert response.json() == {
        "client": "billing-service",
        "scopes": ["authenticated", "read", "write"],
    }
    assert response.headers["vary"] == "X-API-Key"
    assert response.headers["cache-control"] == "no-store"
    assert "set-cookie" not in response.headers


def test_custom_strategy_challenges_a_request_without_a_key(
    custom_strategy_api: httpx.Client,
) -> None:
    response = custom_strategy_api.get("/api/whoami")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'ApiKey realm="api"'


def test_custom_strategy_refuses_a_wrong_key_without_a_challenge(
    custom_strategy_api: httpx.Client,
) -> None:
    response = custom_strategy_api.get("/api/whoami", headers={"X-API-Key": "k-guess"})
    assert response.status_code == 401
    assert "www-authenticate" not in response.headers


def test_jwt_page_challenges_a_request_without_a_token(jwt_api: httpx.Client) -> None:
    response = jwt_api.get("/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="Users"'
    assert jwt_api.get("/hello").json() == {"hello": "stranger"}


def test_jwt_page_serves_a_token_signed_with_the_configured_secret(jwt_api: httpx.Client) -> None:
    response = jwt_api.get("/me", headers=bearer(alice_token()))
    assert response.status_code == 200
    assert response.json() == {"user": "alice", "info": {"scope": "read"}}
    assert "Authorization" in response.headers["vary"]
    assert jwt_api.get("/hello", headers=bearer(alice_token())).json() == {"hello": "alice"}


def test_jwt_page_refuses_a_tampered_token(jwt_api: httpx.Client) -> None:
    header, payload, signature = alice_token().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["scope"] = "read write admin"  # the token's holder grants itself more
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    response = jwt_api.get("/me", headers=bearer(f"{header}.{forged}.{signature}"))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == invalid_token("The token's signature is invalid")


def test_jwt_page_refuses_a_token_signed_with_another_secret(jwt_api: httpx.Client) -> None:
    claims = {**JWT_CLAIMS, "exp": int(time.time()) + 300}
    token = jwt.encode(claims, secrets.token_urlsafe(32), "HS256")
    response = jwt_api.get("/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == invalid_token("The token's signature is invalid")


def test_jwt_page_refuses_an_expired_token(jwt_api: httpx.Client) -> None:
    token = jwt.encode({**JWT_CLAIMS, "exp": int(time.time()) - 10}, JWT_SECRET, "HS256")
    response = jwt_api.get("/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == invalid_token("The token has expired")
