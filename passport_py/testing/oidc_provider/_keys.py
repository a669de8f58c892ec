"""The provider's RS256 signing keys, its JWKS, and ID tokens signed honestly or not."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Mapping
from typing import Any

from joserfc import jwt
from joserfc.jwk import KeySet, KeySetSerialization, RSAKey

from passport_py.testing.oidc_provider._models import Signing, merge

__all__ = ["KeyRing"]

SIGNINGS: tuple[Signing, ...] = ("provider", "none", "hs256", "foreign-key", "unknown-key")


def _new_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


@functools.cache
def _stranger() -> RSAKey:
    """One key no provider publishes (generated once: RSA key generation is slow)."""
    return _new_key(f"unknown-{secrets.token_hex(4)}")


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _compact(header: Mapping[str, Any], claims: Mapping[str, Any], secret: bytes | None) -> str:
    # joserfc refuses short HMAC keys and `alg: none` by design; these tokens are attacks.
    encoded = [_b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)]
    signing_input = b".".join(encoded)
    signature = b"" if secret is None else hmac.new(secret, signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + _b64(signature)).decode("ascii")


class KeyRing:
    """The signing key in use and every key still published in the JWKS."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys = [_new_key(self._kid())]

    @staticmethod
    def _kid() -> str:
        return f"k-{secrets.token_hex(6)}"

    @property
    def current(self) -> RSAKey:
        """The key that signs from now on."""
        with self._lock:
            return self._keys[-1]

    def rotate(self) -> str:
        """Sign with a new key (new kid) from now on; the old ones stay published."""
        key = _new_key(self._kid())
        with self._lock:
            self._keys.append(key)
        return str(key.kid)

    def jwks(self) -> KeySetSerialization:
        """The public JWK Set."""
        with self._lock:
            return KeySet(list(self._keys)).as_dict(private=False)

    def sign(
        self,
        claims: Mapping[str, Any],
        *,
        signing: Signing,
        header: Mapping[str, Any] | None,
        hmac_secret: str | None,
    ) -> str:
        """A compact JWS of `claims`, signed as `signing` says, `header` merged over. Callers
        pass every option (the defaults are `OIDCProvider.issue_id_token`'s)."""
        if signing not in SIGNINGS:
            raise ValueError(f"signing must be one of {', '.join(SIGNINGS)}, not {signing!r}")
        key = self.current
        kid = str(key.kid)
        base: dict[str, Any] = {"typ": "JWT", "alg": "RS256", "kid": kid}
        if signing == "none":
            base = {"typ": "JWT", "alg": "none"}
        elif signing == "hs256":
            base["alg"] = "HS256"
        elif signing == "foreign-key":
            key = _stranger()  # same kid as the provider's key: the signature cannot verify
        elif signing == "unknown-key":
            key = _stranger()
            base["kid"] = str(key.kid)
        final = merge(base, header or {})
        if signing == "none":
            return _compact(final, claims, None)
        if signing == "hs256":
            if not hmac_secret:
                raise ValueError("hs256 signing needs the client's secret (hmac_secret)")
            return _compact(final, claims, hmac_secret.encode())
        alg = str(final.get("alg", "RS256"))
        return jwt.encode(final, dict(claims), key, algorithms=[alg], default_type=None)
