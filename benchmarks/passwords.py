"""Password hashing: Argon2id's cost at the defaults, and what a login request adds to it."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Scope

from passport_py import Authenticator
from passport_py.adapters.starlette import PassportMiddleware, authenticate
from passport_py.passwords import default_hasher, password_verify
from passport_py.strategies.local import LocalStrategy

from .apps import SECRET
from .asgi import get_scope
from .timing import Answer, Variant

PASSWORD = "correct horse battery staple"
STORED = {"alice": default_hasher.hash(PASSWORD)}
_BODY = json.dumps({"username": "alice", "password": PASSWORD}).encode()


@dataclass(frozen=True)
class HashTimes:
    """Milliseconds per Argon2id hash and per verify at the default parameters (medians)."""

    hash_ms: float
    verify_ms: float
    parameters: str


def hash_times(n: int) -> HashTimes:
    """Time `n` hashes and `n` verifies of one password with `default_hasher`."""
    hashes, verifies = [], []
    stored = STORED["alice"]
    for _ in range(n):
        start = time.perf_counter()
        default_hasher.hash(PASSWORD)
        hashes.append(time.perf_counter() - start)
        start = time.perf_counter()
        default_hasher.verify(PASSWORD, stored)
        verifies.append(time.perf_counter() - start)
    hashes.sort()
    verifies.sort()
    # "$argon2id$v=19$m=65536,t=3,p=4$...": the parameters the hash records.
    parameters = stored.split("$")[3]
    return HashTimes(hashes[n // 2] * 1e3, verifies[n // 2] * 1e3, parameters)


def _login_app() -> ASGIApp:
    async def lookup(name: str) -> tuple[str, str] | None:
        stored = STORED.get(name)
        return None if stored is None else (name, stored)

    passport: Authenticator[str] = Authenticator()
    passport.use(LocalStrategy(password_verify(lookup)))
    passport.serialize_user(lambda name: name)
    passport.deserialize_user(lambda name: name if name in STORED else None)

    @authenticate("local")
    async def log_in(request: Request) -> Response:
        return PlainTextResponse(f"hello {request.user}")

    return Starlette(
        routes=[Route("/login", log_in, methods=["POST"])],
        middleware=[
            Middleware(SessionMiddleware, secret_key=SECRET),
            Middleware(PassportMiddleware, passport=passport),
        ],
    )


def _login_scope() -> Scope:
    """`get_scope`'s request as a JSON `POST /login` (its body comes from `_receive`)."""
    scope = get_scope("/login")
    body_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(_BODY)).encode()),
    ]
    return {**scope, "method": "POST", "headers": [*scope["headers"], *body_headers]}


async def _receive() -> Message:
    return {"type": "http.request", "body": _BODY, "more_body": False}


async def _discard(message: Message) -> None:
    return None


def login_variant() -> Variant:
    """A JSON login request through `LocalStrategy(password_verify(...))`: session and all."""
    app, scope = _login_app(), _login_scope()

    async def batch(n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            await app(scope.copy(), _receive, _discard)
        return time.perf_counter() - start

    async def once() -> Answer:
        return await call_once_with_body(app, scope)

    return Variant(
        "Starlette JSON login, Argon2id verify",
        lambda n: asyncio.run(batch(n)),
        lambda: asyncio.run(once()),
    )


async def call_once_with_body(app: ASGIApp, scope: Scope) -> Answer:
    """One login request, answered as the comparison assumes (200, a session cookie set)."""
    status, headers, body = 0, {}, b""

    async def send(message: Message) -> None:
        nonlocal status, headers, body
        if message["type"] == "http.response.start":
            status, headers = message["status"], dict(message.get("headers") or [])
        elif message["type"] == "http.response.body":
            body += message.get("body", b"")

    await app(scope.copy(), _receive, send)
    if status != 200 or b"set-cookie" not in headers:
        raise RuntimeError(f"the login benchmark's app answered {status} {body!r}")
    return status, headers, body


def verify_variant() -> Variant:
    """The same verify alone: `default_hasher.verify_and_update` on the stored hash."""
    stored = STORED["alice"]

    def batch(n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            default_hasher.verify_and_update(PASSWORD, stored)
        return time.perf_counter() - start

    def once() -> Answer:
        ok, _ = default_hasher.verify_and_update(PASSWORD, stored)
        return (200 if ok else 401), {}, b""

    return Variant("Argon2id verify_and_update alone", batch, once)


def password_variants() -> dict[str, Variant]:
    """Row 17's pair, each checked to do what the comparison assumes."""
    variants = {"pw_login": login_variant(), "pw_verify": verify_variant()}
    status, _, _ = variants["pw_verify"].call_once()
    if status != 200:
        raise RuntimeError("the stored hash does not verify")
    return variants
