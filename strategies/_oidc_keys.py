"""The provider's signing keys (its JWKS), fetched once and cached, refetched on rotation.

A token names its key with `kid`. An unknown `kid` refetches the key set once, and at most
once per `cooldown` seconds (a provider that rotated its keys is followed at once; a stream of
made-up `kid`s costs the provider one request per cooldown). A token without `kid` uses the
set's only usable key, or is refused when there are several. Keys come from the provider's
`jwks_uri` only: never from the token's own `jwk`, `jku`, `x5u` or `x5c` headers. The set is
kept in a `FetchCache`, as `JwtStrategy` keeps its own: one fetch at a time, a failed fetch
remembered.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import jwt
from jwt.exceptions import PyJWTError

from passport_py.strategies._fetch_cache import FetchCache
from passport_py.strategies._oauth2_errors import InternalOAuthError

__all__ = ["ProviderKeys", "UnknownKey"]

logger = logging.getLogger("passport_py.strategies.oidc")

#: Keys read from one set; more are ignored (real sets hold a handful).
MAX_KEYS = 100

FetchKeySet = Callable[[], Awaitable[Mapping[str, Any]]]
Keys = list[tuple[Mapping[str, Any], jwt.PyJWK]]


class UnknownKey(Exception):
    """No key of the provider's verifies this token (unknown `kid`, or no `kid` and no
    single usable key)."""


class ProviderKeys:
    """One provider's signing keys. `fetch` returns the JWKS document (and raises
    `InternalOAuthError` when it cannot).

    `max_age`: after this many seconds the next token refetches the set; when that fails the
    old keys keep verifying for `grace` seconds more, then tokens are refused with a 502 (never
    accepted unverified).
    """

    def __init__(
        self,
        fetch: FetchKeySet,
        *,
        max_age: float = 3600.0,
        grace: float = 3600.0,
        cooldown: float = 30.0,
    ) -> None:
        self._fetch = fetch
        self._keys = FetchCache(self._load, max_age=max_age, grace=grace, cooldown=cooldown)

    async def key_for(self, kid: str | None, alg: str) -> Any:
        """The public key to verify an `alg` token naming `kid` (`UnknownKey` if none)."""
        keys, fetched = await self._keys.get()
        found = _select(keys, kid, alg)
        if found is None and kid is not None and not fetched:
            # The provider may have rotated its keys since they were fetched.
            newer = await self._keys.refresh(keys)
            found = None if newer is None else _select(newer, kid, alg)
        if found is None:
            raise UnknownKey
        return found

    async def _load(self) -> Keys:
        try:
            document = await self._fetch()
            members = document.get("keys")
            if not isinstance(members, list):
                raise InternalOAuthError("Failed to parse the provider's keys: no keys array")
        except InternalOAuthError as exc:
            logger.warning("jwks_unavailable: %s", exc.message)
            raise
        keys: Keys = []
        for member in members[:MAX_KEYS]:
            if not isinstance(member, dict) or member.get("kty") == "oct":
                # A symmetric key in a public key set would verify HMAC tokens anybody who
                # fetched the set can forge: never used.
                continue
            try:
                keys.append((member, jwt.PyJWK(member)))
            except (PyJWTError, ValueError, TypeError):
                continue  # an unusable key (unknown kty or curve, bad encoding) is skipped
        return keys


def _select(keys: Keys, kid: str | None, alg: str) -> Any:
    usable = [key for data, key in keys if _verifies(data, key, alg)]
    if kid is not None:
        usable = [key for key in usable if key.key_id == kid]
    # No kid: only an unambiguous key is used (OpenID Connect Core 10.1).
    return usable[0].key if len(usable) == 1 else None


def _verifies(data: Mapping[str, Any], key: jwt.PyJWK, alg: str) -> bool:
    """Whether the JWK may verify an `alg` signature (its use, operations, type and alg)."""
    if data.get("use", "sig") != "sig":
        return False
    operations = data.get("key_ops")
    if operations is not None and (not isinstance(operations, list) or "verify" not in operations):
        return False
    if "alg" in data:
        return bool(data["alg"] == alg)
    if key.key_type == "RSA":
        return alg.startswith(("RS", "PS"))
    # EC and OKP keys: the curve decides the algorithm (P-256 is ES256, Ed25519 is EdDSA).
    return bool(key.algorithm_name == alg)
