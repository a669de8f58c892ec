"""Calling ASGI apps in-process and timing them in interleaved rounds."""

from __future__ import annotations

import asyncio
import time

from starlette.types import ASGIApp, Message, Scope

from .timing import Answer, Variant

_REQUEST: Message = {"type": "http.request", "body": b"", "more_body": False}


def get_scope(path: str, cookie: bytes | None = None) -> Scope:
    """A prebuilt HTTP GET scope, as a server would pass it (copied per request)."""
    headers = [
        (b"host", b"testserver"),
        (b"user-agent", b"benchmark"),
        (b"accept", b"text/html,application/xhtml+xml"),
    ]
    if cookie is not None:
        headers.append((b"cookie", b"session=" + cookie))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }


async def _receive() -> Message:
    return _REQUEST


async def _discard(message: Message) -> None:
    return None


async def call_once(app: ASGIApp, scope: Scope) -> Answer:
    """One request; returns (status, headers, body) so the variants can be checked."""
    status = 0
    headers: dict[bytes, bytes] = {}
    body = b""

    async def send(message: Message) -> None:
        nonlocal status, headers, body
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = dict(message.get("headers") or [])
        elif message["type"] == "http.response.body":
            body += message.get("body", b"")

    await app(dict(scope), _receive, send)
    return status, headers, body


async def run_batch(app: ASGIApp, scope: Scope, n: int) -> float:
    """Seconds for `n` requests (a fresh shallow copy of `scope` each, as a server makes)."""
    copy = scope.copy
    receive, send = _receive, _discard
    start = time.perf_counter()
    for _ in range(n):
        await app(copy(), receive, send)
    return time.perf_counter() - start


def asgi_variant(name: str, app: ASGIApp, scope: Scope) -> Variant:
    """A timing variant making in-process ASGI requests (one event loop per batch)."""

    def batch(n: int) -> float:
        return asyncio.run(run_batch(app, scope, n))

    return Variant(name, batch, lambda: asyncio.run(call_once(app, scope)))
