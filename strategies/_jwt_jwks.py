"""JWKS keys for `JwtStrategy`: one issuer's JWK Set, fetched through the transport seam, read
by PyJWT (`PyJWKSet`) and kept in a `FetchCache` (one fetch at a time, failures remembered,
refreshes for unknown `kid`s rate-limited)."""

from __future__ import annotations

import logging

import jwt
from jwt.exceptions import PyJWTError

from passport_py.strategies._fetch_cache import FetchCache
from passport_py.strategies._jwt_keys import STRICT_JSON, Reason, TokenRejected
from passport_py.transport import Transport, TransportError

logger = logging.getLogger("passport_py.strategies.jwt")

#: Signing keys by `kid`.
KeySet = dict[str, jwt.PyJWK]


class KeySetUnavailable(Exception):
    """The JWKS could not be fetched or read (logged as `jwks_unavailable`)."""


class JwksKeys:
    """The keys at `url`: fetched on first use, again after `lifespan` seconds, and refreshed
    for a `kid` the set lacks at most once per `cooldown` seconds. HTTP goes through
    `transport`, so a fetch never blocks an event loop."""

    def __init__(
        self,
        url: str,
        transport: Transport,
        *,
        lifespan: float,
        cooldown: float,
        timeout: float,
        max_bytes: int = 512 * 1024,
    ) -> None:
        self.url = url
        self.transport = transport
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._keys = FetchCache(self._fetch, max_age=lifespan, cooldown=cooldown)

    async def signing_key(self, kid: str) -> jwt.PyJWK:
        """The key for `kid`; `TokenRejected` when unknown after one refresh or unavailable."""
        try:
            keys, fetched = await self._keys.get()
            key = keys.get(kid)
            if key is None and not fetched:
                # The issuer may have rotated its keys since they were fetched.
                newer = await self._keys.refresh(keys)
                key = None if newer is None else newer.get(kid)
        except KeySetUnavailable:
            raise TokenRejected(Reason.KEYS_UNAVAILABLE) from None
        if key is None:
            raise TokenRejected(Reason.UNKNOWN_KEY)
        return key

    async def _fetch(self) -> KeySet:
        try:
            response = await self.transport.request(
                "GET",
                self.url,
                headers={"Accept": "application/json"},
                timeout=self.timeout,
                max_bytes=self.max_bytes,
            )
            if response.status != 200:
                raise ValueError(f"HTTP {response.status}")
            document = STRICT_JSON.decode(response.body.decode("utf-8"))
            if not isinstance(document, dict):
                raise ValueError("not a JSON object")
            key_set = jwt.PyJWKSet.from_dict(document)  # no usable key at all: PyJWKSetError
        except (TransportError, PyJWTError, ValueError, RecursionError) as exc:
            logger.warning("jwks_unavailable: %s: %s", self.url, _brief(exc))
            raise KeySetUnavailable from None
        keys: KeySet = {}
        for key in key_set.keys:
            # Signing keys with a kid, as PyJWKClient picks them; the first of a kid wins.
            if key.public_key_use in ("sig", None) and key.key_id:
                keys.setdefault(key.key_id, key)
        return keys


def _brief(exc: BaseException) -> str:
    """An exception as one short log-safe line (no line breaks, bounded)."""
    text = f"{type(exc).__name__}: {exc}"
    return "".join(c if c.isprintable() else "?" for c in text)[:200]
