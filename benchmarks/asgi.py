"""Calling ASGI apps in-process and timing them in interleaved rounds."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Scope

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


async def call_once(app: ASGIApp, scope: Scope) -> tuple[int, dict[bytes, bytes], bytes]:
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


@dataclass
class Variant:
    """One app + request to time; `samples` holds µs per request, one per round."""

    name: str
    app: ASGIApp
    scope: Scope
    samples: list[float] = field(default_factory=list)

    @property
    def best(self) -> float:
        return min(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


async def measure(variants: Sequence[Variant], rounds: int, per_round: int) -> None:
    """Time each variant `rounds` times, interleaved (the order rotates every round).

    GC runs between batches, not inside them (as `timeit` does), so one variant does not
    pay for another's garbage.
    """
    for variant in variants:  # warm-up: build middleware stacks, fill caches
        await run_batch(variant.app, variant.scope, max(per_round // 10, 10))
    order = list(variants)
    for round_no in range(rounds):
        shift = round_no % len(order)
        for variant in order[shift:] + order[:shift]:
            gc.collect()
            gc.disable()
            try:
                seconds = await run_batch(variant.app, variant.scope, per_round)
            finally:
                gc.enable()
            variant.samples.append(seconds / per_round * 1e6)


def count_calls(owner: type, method: str, fn: Callable[[], Any]) -> int:
    """How many times `owner.method` runs while `fn()` runs (it is patched meanwhile)."""
    original = getattr(owner, method)
    calls = 0

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return original(*args, **kwargs)

    setattr(owner, method, counting)
    try:
        fn()
    finally:
        setattr(owner, method, original)
    return calls
