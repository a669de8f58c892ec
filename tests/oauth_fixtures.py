"""What the OAuth 2.0 strategy tests' fixtures serve: one bundled provider per module.

A module declares its own thin fixtures over these (`pytest_plugins` belongs to the root
conftest, and a fixture imported by name trips ruff's F811 where it is used)::

    @pytest.fixture(scope="module")
    def idp() -> Iterator[Any]:
        yield from serve_idp()

    @pytest.fixture(autouse=True)
    def honest_idp(idp: Any) -> None:
        make_honest(idp)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from oauth_helpers import CLIENT_ID, CLIENT_SECRET, callback_url_for, provider

from passport_py.strategies._oauth2_tokens import AuthMethod
from passport_py.testing.oidc_provider import ProviderClient

#: Strategy names whose callback URLs (`http://testserver/auth/<name>/callback`) every client
#: registered below accepts.
NAMES = ("oauth2", "a", "b", "x", "y", "form", "hooks")
#: A client secret with every character RFC 6749 2.3.1's form-encoding must protect.
ODD_SECRET = "a:b+c%d é"

#: client_id -> (secret, token endpoint auth method, redirect URIs) of the extra clients.
EXTRA_CLIENTS: dict[str, tuple[str | None, AuthMethod, tuple[str, ...]]] = {
    "post-client": ("post-secret", "client_secret_post", tuple(map(callback_url_for, NAMES))),
    "public-client": (None, "none", tuple(map(callback_url_for, NAMES))),
    "odd-client": (ODD_SECRET, "client_secret_basic", tuple(map(callback_url_for, NAMES))),
    "other-client": ("other-secret", "client_secret_basic", tuple(map(callback_url_for, NAMES))),
    # One redirect URI only: the provider then uses it when the request names none.
    "solo-client": ("solo-secret", "client_secret_basic", (callback_url_for("oauth2"),)),
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


def token_requests(server: Any) -> int:
    """How many token requests `server` (the bundled provider) received."""
    return sum(1 for method, path in server.requests if (method, path) == ("POST", "/token"))
