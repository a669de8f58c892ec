"""Shared pieces of the OpenID Connect strategy tests: providers, strategies, apps, counts.

Everything runs for real: the bundled provider (`passport_py.testing.oidc_provider`) on a
loopback port, the strategy talking to it over HTTP, a Starlette app (oauth_helpers.make_app)
driven by its TestClient. Failures are read from the session's `messages` (the routes use
`failure_message=True`), so each test sees both the status and the message.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from oauth_helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    callback_url_for,
    make_app,
    make_client,
    make_passport,
    oauth_transport,
    provider,
    run_dance,
)
from starlette.testclient import TestClient

from passport_py.strategies.oidc import OpenIDConnectStrategy
from passport_py.testing.oidc_provider import OIDCProvider, ProviderClient

__all__ = [
    "HS_CLIENT_ID",
    "HS_SECRET",
    "NAMES",
    "accepted",
    "attempt",
    "client_for",
    "hits",
    "login_user",
    "messages",
    "now",
    "oidc_strategy",
    "refused",
    "serve_provider",
    "session",
    "token_requests",
]

#: Strategy names whose callback URLs every client of `serve_provider` accepts.
NAMES = ("oidc", "oidc-a", "oidc-b")
#: A client whose secret is long enough to key HS256 ID tokens.
HS_CLIENT_ID = "hs-client"
HS_SECRET = "hs-client-secret-that-is-long-enough-for-hs256"


def serve_provider() -> Iterator[OIDCProvider]:
    """A started provider (client `CLIENT_ID` and `HS_CLIENT_ID`, user alice); stopped after."""
    server = provider(redirect_uris=[callback_url_for(name) for name in NAMES])
    server.add_client(
        ProviderClient(HS_CLIENT_ID, HS_SECRET, [callback_url_for(name) for name in NAMES])
    )
    try:
        yield server
    finally:
        server.stop()


def login_user(tokens: Any, profile: Any) -> dict[str, Any]:
    """The default verify: the user is the profile's key and a few fields (JSON data)."""
    return {
        "key": list(profile.key),
        "username": profile.username,
        "email": profile.email,
        "verified_email": profile.verified_email,
    }


def oidc_strategy(
    idp: OIDCProvider,
    verify: Callable[..., Any] = login_user,
    *,
    name: str = "oidc",
    **options: Any,
) -> OpenIDConnectStrategy:
    """An `OpenIDConnectStrategy` named `name` for `idp`, its callback registered there."""
    options.setdefault("client_id", CLIENT_ID)
    options.setdefault("client_secret", CLIENT_SECRET)
    options.setdefault("callback_url", callback_url_for(name))
    options.setdefault("transport", oauth_transport())
    return OpenIDConnectStrategy(verify, issuer=idp.issuer, name=name, **options)


def client_for(*strategies: OpenIDConnectStrategy, **app_options: Any) -> TestClient:
    """A TestClient for an app serving `strategies`; failures keep their message."""
    app_options.setdefault("callback_options", {"failure_message": True})
    return make_client(make_app(make_passport(*strategies), **app_options))


def attempt(client: TestClient, idp: OIDCProvider, name: str = "oidc") -> httpx.Response:
    """One whole login at `/auth/<name>` through `idp`: the callback's response."""
    return run_dance(client, f"/auth/{name}", idp).response


def refused(client: TestClient, idp: OIDCProvider, message: str, name: str = "oidc") -> None:
    """A whole login ends in a 403 with `message` after one token request; nobody is in."""
    response = attempt(client, idp, name)
    assert response.status_code == 403, response.text
    assert messages(client) == [message]
    assert client.get("/me").json() == {"user": None}
    assert token_requests(idp) == 1


def accepted(client: TestClient, idp: OIDCProvider, name: str = "oidc") -> None:
    """A whole login ends logged in."""
    response = attempt(client, idp, name)
    assert response.status_code == 302, response.text
    assert client.get("/me").json()["user"] is not None


def session(client: TestClient) -> dict[str, Any]:
    """The app's session as the app sees it."""
    data = client.get("/session").json()
    assert isinstance(data, dict)
    return data


def messages(client: TestClient) -> list[str]:
    """The failure messages kept in the session."""
    return list(session(client).get("messages", []))


def hits(idp: OIDCProvider, method: str, path: str) -> int:
    """How many `method path` requests `idp` received."""
    return sum(1 for request in idp.requests if request == (method, path))


def token_requests(idp: OIDCProvider) -> int:
    """How many token requests `idp` received."""
    return hits(idp, "POST", "/token")


def now() -> int:
    return int(time.time())
