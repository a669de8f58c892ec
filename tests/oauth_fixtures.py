"""The bundled provider as the OAuth tests set it up: its clients, one provider per module,
an honest provider again before each test, and counts of what it received.

The fixtures over these are in tests/conftest.py's OAuth block (a fixture imported into a test
module by name trips ruff's F811 where a test takes it): `idp` serves `serve_idp()` to each
module that does not define its own, and a module resets it before every test with::

    pytestmark = pytest.mark.usefixtures("honest_idp")
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from oauth_helpers import CLIENT_ID, CLIENT_SECRET, callback_url_for, provider

from passport_py.strategies._oauth2_tokens import AuthMethod
from passport_py.testing.oidc_provider import ProviderClient

#: Strategy names whose callback URLs (`http://testserver/auth/<name>/callback`) every client
#: registered below accepts: the OAuth 2.0 tests' and the OpenID Connect tests'.
NAMES = (
    "oauth2",
    "a",
    "b",
    "x",
    "y",
    "form",
    "hooks",
    "oidc",
    "oidc-a",
    "oidc-b",
    "oidc-stepup",
    "oidc-link",
)
#: A client secret with every character RFC 6749 2.3.1's form-encoding must protect.
ODD_SECRET = "a:b+c%d é"
#: A client whose secret is long enough to key HS256 ID tokens.
HS_CLIENT_ID = "hs-client"
HS_SECRET = "hs-client-secret-that-is-long-enough-for-hs256"

#: client_id -> (secret, token endpoint auth method, redirect URIs) of the extra clients.
EXTRA_CLIENTS: dict[str, tuple[str | None, AuthMethod, tuple[str, ...]]] = {
    "post-client": ("post-secret", "client_secret_post", tuple(map(callback_url_for, NAMES))),
    "public-client": (None, "none", tuple(map(callback_url_for, NAMES))),
    "odd-client": (ODD_SECRET, "client_secret_basic", tuple(map(callback_url_for, NAMES))),
    "other-client": ("other-secret", "client_secret_basic", tuple(map(callback_url_for, NAMES))),
    # One redirect URI only: the provider then uses it when the request names none.
    "solo-client": ("solo-secret", "client_secret_basic", (callback_url_for("oauth2"),)),
    HS_CLIENT_ID: (HS_SECRET, "client_secret_basic", tuple(map(callback_url_for, NAMES))),
}


def serve_idp() -> Iterator[Any]:
    """The bundled provider on a loopback port, stopped when the generator ends: client
    `CLIENT_ID` (client_secret_basic) and the `EXTRA_CLIENTS`, all accepting every callback
    URL of `NAMES`; user alice."""
    server = provider(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uris=[callback_url_for(name) for name in NAMES],
    )
    for client_id, (secret, method, uris) in EXTRA_CLIENTS.items():
        server.add_client(
            ProviderClient(
                client_id=client_id,
                client_secret=secret,
                redirect_uris=list(uris),
                token_endpoint_auth_method=method,
            )
        )
    try:
        yield server
    finally:
        server.stop()


def make_honest(server: Any) -> None:
    """No faults and no recorded requests at `server` (the bundled provider)."""
    server.reset_faults()
    server.clear_requests()


def hits(server: Any, method: str, path: str) -> int:
    """How many `method path` requests `server` (the bundled provider) received."""
    return sum(1 for request in server.requests if request == (method, path))


def token_requests(server: Any) -> int:
    """How many token requests `server` (the bundled provider) received."""
    return hits(server, "POST", "/token")
