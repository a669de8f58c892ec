"""Shared pieces of the OpenID Connect strategy tests: the strategy, and how a login ends.

Everything runs for real: the bundled provider (conftest's `idp`, oauth_fixtures.serve_idp) on
a loopback port, the strategy talking to it over HTTP, a Starlette app (oauth_helpers'
`client_for`) driven by its TestClient. Failures are read from the session's `messages` (the
routes use `failure_message=True`), so each test sees both the status and the message. The
counts of what the provider received are oauth_fixtures' `hits` and `token_requests`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from oauth_fixtures import token_requests
from oauth_helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    callback_url_for,
    oauth_transport,
    run_dance,
    session_of,
)
from starlette.testclient import TestClient

from passport_py.strategies.oidc import OpenIDConnectStrategy
from passport_py.testing.oidc_provider import OIDCProvider

__all__ = [
    "QuickRetry",
    "ShortLivedKeys",
    "accepted",
    "attempt",
    "login_user",
    "messages",
    "now",
    "oidc_strategy",
    "refused",
]


class QuickRetry(OpenIDConnectStrategy):
    """Remembers a failed discovery or key set fetch for one second (min(jwks_cooldown, 5))."""

    jwks_cooldown = 1.0


class ShortLivedKeys(OpenIDConnectStrategy):
    """Refetches the keys on the first login a fifth of a second after the last fetch."""

    jwks_max_age = 0.2


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
    cls: type[OpenIDConnectStrategy] = OpenIDConnectStrategy,
    **options: Any,
) -> OpenIDConnectStrategy:
    """An `OpenIDConnectStrategy` (or subclass `cls`) named `name` for `idp`, its callback
    registered there."""
    options.setdefault("client_id", CLIENT_ID)
    options.setdefault("client_secret", CLIENT_SECRET)
    options.setdefault("callback_url", callback_url_for(name))
    options.setdefault("transport", oauth_transport())
    return cls(verify, issuer=idp.issuer, name=name, **options)


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


def messages(client: TestClient) -> list[str]:
    """The failure messages kept in the session."""
    return list(session_of(client).get("messages", []))


def now() -> int:
    return int(time.time())
