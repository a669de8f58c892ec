"""JwtStrategy at engine level against plain `jwt.decode` of the same token, same checks.

Ours is `run_sync(passport.authenticate(request, "jwt", options))`: the path Flask and Django
take, with no event loop; the request (a `TestRequest` carrying `Authorization: Bearer ...`,
no session) is built once, as its construction is not what is measured. The strategy checks
the signature, `exp`, `iat`, the exact issuer and the audience, and calls a verify that looks
the user up by `sub`. The baseline is `jwt.decode(token, key, algorithms=[...],
audience=..., issuer=...)` with the same key object: what an app calls when it does it by
hand.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from passport_py import AuthenticateOptions, Authenticator, Proceed, run_sync
from passport_py.strategies.jwt import JwtStrategy
from passport_py.testing import TestRequest

from .apps import USERS, User
from .timing import Answer, Variant

ISSUER = "https://idp.example"
AUDIENCE = "https://api.example"
SECRET = b"benchmark-secret-of-32-bytes-ok!"
_BY_NAME = {user.username: user for user in USERS.values()}


def _token(key: Any, algorithm: str) -> str:
    now = int(time.time())
    claims = {"sub": "alice", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 86400}
    return jwt.encode(claims, key, algorithm)


def _verify(claims: dict[str, Any]) -> User | None:
    return _BY_NAME.get(claims["sub"])


def _ours(label: str, algorithm: str, key: Any, token: str) -> Variant:
    passport: Authenticator[User] = Authenticator()
    strategy = JwtStrategy(
        _verify, algorithms=[algorithm], key=key, issuer=ISSUER, audience=AUDIENCE
    )
    passport.use(strategy)
    options = AuthenticateOptions.build(session=False)
    request = TestRequest(method="GET", headers={"Authorization": f"Bearer {token}"}, session=None)
    authenticate = passport.authenticate

    def call_once() -> Answer:
        decision = run_sync(authenticate(request, "jwt", options))
        ok = isinstance(decision, Proceed) and decision.authenticated
        return (200, {}, b"hello " + decision.user.username.encode()) if ok else (401, {}, b"")

    def run_batch(n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            run_sync(authenticate(request, "jwt", options))
        return time.perf_counter() - start

    return Variant(label, run_batch, call_once)


def _plain(label: str, algorithm: str, key: Any, token: str) -> Variant:
    decode: Callable[..., dict[str, Any]] = jwt.decode
    algorithms = [algorithm]

    def call_once() -> Answer:
        claims = decode(token, key, algorithms=algorithms, audience=AUDIENCE, issuer=ISSUER)
        user = _verify(claims)
        return (200, {}, b"hello " + user.username.encode()) if user else (401, {}, b"")

    def run_batch(n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            _verify(decode(token, key, algorithms=algorithms, audience=AUDIENCE, issuer=ISSUER))
        return time.perf_counter() - start

    return Variant(label, run_batch, call_once)


def jwt_variants() -> dict[str, Variant]:
    """HS256 and RS256, ours and plain, each checked to authenticate alice."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = private.public_key()
    hs_token, rs_token = _token(SECRET, "HS256"), _token(private, "RS256")
    variants = {
        "jwt_hs_ours": _ours(
            "JwtStrategy HS256: run_sync(authenticate)", "HS256", SECRET, hs_token
        ),
        "jwt_hs_plain": _plain("jwt.decode HS256 (iss, aud)", "HS256", SECRET, hs_token),
        "jwt_rs_ours": _ours(
            "JwtStrategy RS256: run_sync(authenticate)", "RS256", public, rs_token
        ),
        "jwt_rs_plain": _plain("jwt.decode RS256 (iss, aud)", "RS256", public, rs_token),
    }
    for variant in variants.values():
        status, _, body = variant.call_once()
        if status != 200 or body != b"hello alice":
            raise RuntimeError(f"{variant.name}: unexpected answer {status} {body!r}")
    return variants
