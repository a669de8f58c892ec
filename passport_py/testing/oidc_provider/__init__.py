"""A small but real OpenID Connect provider, for tests and the demo (never for production).

Built on Authlib's authorization server: authorization code with PKCE (S256), refresh tokens
with rotation, discovery, a JWKS of RS256 keys, userinfo, `form_post` and RFC 9207's `iss`.
It serves over real HTTP on a loopback port from a background thread::

    from passport_py.testing.oidc_provider import OIDCProvider, ProviderClient

    client = ProviderClient("app", "s3cret", ["http://127.0.0.1:8000/auth/dev/callback"])
    with OIDCProvider(clients=[client]) as provider:
        print(provider.issuer)  # http://127.0.0.1:<port>; discovery at /.well-known/...

Everything is in memory. `provider.faults` makes it misbehave on purpose (wrong ID-token
claims or signatures, broken token answers, a missing `iss`, ...) for attack tests; `REMOVE`
in a fault's dict deletes a key. As a process::

    python -m passport_py.testing.oidc_provider --port 9000 --client-id app \\
        --client-secret s3cret --redirect-uri http://127.0.0.1:8000/cb [--ask]
"""

from __future__ import annotations

from passport_py.testing.oidc_provider._models import (
    REMOVE,
    Faults,
    ProviderClient,
    ProviderUser,
    Removed,
    Signing,
)
from passport_py.testing.oidc_provider._provider import DEFAULT_USERS, OIDCProvider

__all__ = [
    "DEFAULT_USERS",
    "REMOVE",
    "Faults",
    "OIDCProvider",
    "ProviderClient",
    "ProviderUser",
    "Removed",
    "Signing",
]
