"""The provider's signing keys (its JWKS), fetched once and cached, refetched on rotation.

A token names its key with `kid`. An unknown `kid` refetches the key set once, and at most
once per `cooldown` seconds (a provider that rotated its keys is followed at once; a stream of
made-up `kid`s costs the provider one request per cooldown). A token without `kid` uses the
set's only usable key, or is refused when there are several. Keys come from the provider's
`jwks_uri` only: never from the token's own `jwk`, `jku`, `x5u` or `x5c` headers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import jwt
from jwt.exceptions import PyJWTError

from passport_py.strategies._oauth2_errors import InternalOAuthError

__all__ = ["ProviderKeys", "UnknownKey"]

logger = logging.getLogger("passport_py.strategies.oidc")

#: Keys read from one set; more are ignored (real sets hold a handful).
MAX_KEYS = 100

FetchKeySet = Callable[[], Awaitable[Mapping[str, Any]]]


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
        self.max_age = max_age
        self.grace = grace
        self.cooldown = cooldown
        self._keys: list[tuple[Mapping[str, Any], jwt.PyJWK]] = []
        self._fetched_at: float | None = None
        self._refetched_at: float | None = None
        self._retry_at = 0.0

    async def key_for(self, kid: str | None, alg: str) -> Any:
        """The public key to verify an `alg` token naming `kid` (`UnknownKey` if none)."""
        refreshed = self._due()
        if refreshed:
            await self._refresh()
        found = self._select(kid, alg)
        if found is None and kid is not None and not refreshed and self._may_refetch():
            # The provider may have rotated its keys since they were fetched.
            self._refetched_at = time.monotonic()
            await self._load()
            found = self._select(kid, alg)
        if found is None:
            raise UnknownKey
        return found

    def _due(self) -> bool:
        """Whether the set must be fetched now: never fetched, or older than `max_age` (and
        not just failed to refresh, unless the grace period is over too)."""
        if self._fetched_at is None:
            return True
        age = time.monotonic() - self._fetched_at
        if age < self.max_age:
            return False
        return time.monotonic() >= self._retry_at or age >= self.max_age + self.grace

    def _may_refetch(self) -> bool:
        last = self._refetched_at
        return last is None or time.monotonic() - last >= self.cooldown

    async def _refresh(self) -> None:
        """A first fetch, or one after `max_age`; stale keys serve on through `grace`."""
        fetched_at = self._fetched_at
        try:
            await self._load()
        except InternalOAuthError as exc:
            if fetched_at is None or time.monotonic() - fetched_at >= self.max_age + self.grace:
                raise
            logger.warning("jwks_unavailable: keeping the cached keys: %s", exc.message)
            self._retry_at = time.monotonic() + self.cooldown

    async def _load(self) -> None:
        document = await self._fetch()
        members = document.get("keys")
        if not isinstance(members, list):
            raise InternalOAuthError("Failed to parse the provider's keys: no keys array")
        keys: list[tuple[Mapping[str, Any], jwt.PyJWK]] = []
        for member in members[:MAX_KEYS]:
            if not isinstance(member, dict) or member.get("kty") == "oct":
                # A symmetric key in a public key set would verify HMAC tokens anybody who
                # fetched the set can forge: never used.
                continue
            try:
                keys.append((member, jwt.PyJWK(member)))
            except (PyJWTError, ValueError, TypeError):
                continue  # an unusable key (unknown kty or curve, bad encoding) is skipped
        self._keys = keys
        self._fetched_at = time.monotonic()

    def _select(self, kid: str | None, alg: str) -> Any:
        usable = [key for data, key in self._keys if _verifies(data, key, alg)]
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
