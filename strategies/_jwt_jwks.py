"""JWKS keys for `JwtStrategy`: PyJWT's `PyJWKClient`, fetching through the transport seam."""

from __future__ import annotations

import logging
import time
from typing import Any

import jwt
from jwt.exceptions import PyJWKClientError, PyJWTError

from passport_py.strategies._jwt_keys import STRICT_JSON, Reason, TokenRejected
from passport_py.transport import Transport, TransportError

logger = logging.getLogger("passport_py.strategies.jwt")


class _FetchNeeded(Exception):
    """PyJWKClient wants the network: the caller fetches through the transport."""


class KeySetUnavailable(Exception):
    """The JWKS could not be fetched or read (logged as `jwks_unavailable`)."""


class JwksKeys(jwt.PyJWKClient):
    """PyJWT's `PyJWKClient` (cache, lifespan, one refresh on an unknown `kid` with a cooldown)
    whose HTTP fetch goes through a `Transport`, so it never blocks an event loop.

    `fetch_data`, where PyJWKClient would do blocking I/O, only signals that a fetch is due;
    `signing_key` then fetches through the transport, fills the cache and asks again.
    """

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
        super().__init__(
            url, cache_jwk_set=True, lifespan=lifespan, cooldown_duration=cooldown, timeout=timeout
        )
        self.transport = transport
        self.max_bytes = max_bytes
        # After a failed fetch, requests do not retry for this long: an outage must not turn
        # every request into an outbound call that waits for its timeout.
        self.retry_after = min(cooldown, 5.0)
        self._failed_at: float | None = None

    def fetch_data(self) -> Any:
        raise _FetchNeeded

    async def signing_key(self, kid: str) -> jwt.PyJWK:
        """The key for `kid`; `TokenRejected` when unknown after one refresh or unavailable."""
        try:
            return self._cached_key(kid)
        except _FetchNeeded:
            pass
        try:
            await self._refresh()
        except KeySetUnavailable:
            raise TokenRejected(Reason.KEYS_UNAVAILABLE) from None
        try:
            return self._cached_key(kid)
        except _FetchNeeded:  # still unknown right after a refresh (no cooldown configured)
            raise TokenRejected(Reason.UNKNOWN_KEY) from None

    def _cached_key(self, kid: str) -> jwt.PyJWK:
        try:
            return self.get_signing_key(kid)
        except PyJWKClientError:  # unknown kid, or no signing key in the set
            raise TokenRejected(Reason.UNKNOWN_KEY) from None

    async def _refresh(self) -> None:
        if self._failed_at is not None and time.monotonic() - self._failed_at < self.retry_after:
            raise KeySetUnavailable
        try:
            response = await self.transport.request(
                "GET",
                self.uri,
                headers={"Accept": "application/json", **self.headers},
                timeout=self.timeout,
                max_bytes=self.max_bytes,
            )
            if response.status != 200:
                raise ValueError(f"HTTP {response.status}")
            document = STRICT_JSON.decode(response.body.decode("utf-8"))
            key_set = jwt.PyJWKSet.from_dict(self._as_jwk_set_payload(document))
        except (TransportError, PyJWTError, ValueError, RecursionError) as exc:
            self._failed_at = time.monotonic()
            logger.warning("jwks_unavailable: %s: %s", self.uri, _brief(exc))
            raise KeySetUnavailable from None
        self._failed_at = None
        if self.jwk_set_cache is not None:
            self.jwk_set_cache.put(key_set)
        # PyJWKClient's cooldown clock (its own fetch_data sets it the same way).
        self._last_successful_fetch = time.monotonic()


def _brief(exc: BaseException) -> str:
    """An exception as one short log-safe line (no line breaks, bounded)."""
    text = f"{type(exc).__name__}: {exc}"
    return "".join(c if c.isprintable() else "?" for c in text)[:200]
