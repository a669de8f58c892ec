"""Calling WSGI apps (Flask, Django) in-process, as a server would, for timing."""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable, Iterable
from http.cookies import SimpleCookie
from typing import Any, TypeAlias

from .timing import Answer, Variant

WSGIApp: TypeAlias = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
USER_AGENT = "benchmark"


def get_environ(path: str, cookie: str | None = None, method: str = "GET") -> dict[str, Any]:
    """A prebuilt WSGI environ for `path` (copied per request), `cookie` as the Cookie header."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "testserver",
        "HTTP_USER_AGENT": USER_AGENT,
        "HTTP_ACCEPT": "text/html,application/xhtml+xml",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if cookie is not None:
        environ["HTTP_COOKIE"] = cookie
    return environ


def _ignore(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
    return None


def call_once(app: WSGIApp, environ: dict[str, Any]) -> Answer:
    """One request; returns (status, headers, body)."""
    answer: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        answer[:] = [int(status.split()[0]), headers]

    result = app(dict(environ), start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    status, raw = answer
    headers: dict[bytes, bytes] = {}
    for name, value in raw:  # repeated headers (Set-Cookie) are joined, as for ASGI checks
        key = name.lower().encode()
        headers[key] = headers[key] + b", " + value.encode() if key in headers else value.encode()
    return status, headers, body


def session_cookie_from(answer: Answer, name: str) -> str:
    """`name=value` for the cookie `name` the response set (for the next request's header)."""
    cookie = SimpleCookie()
    cookie.load(answer[1].get(b"set-cookie", b"").decode())
    if name not in cookie:
        raise RuntimeError(f"the login response set no {name!r} cookie: {answer}")
    return f"{name}={cookie[name].value}"


def run_batch(app: WSGIApp, environ: dict[str, Any], n: int) -> float:
    """Seconds for `n` requests, each with a fresh copy of `environ`, body read and closed."""
    copy = environ.copy
    start = time.perf_counter()
    for _ in range(n):
        result = app(copy(), _ignore)
        for _chunk in result:
            pass
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return time.perf_counter() - start


def wsgi_variant(name: str, app: WSGIApp, environ: dict[str, Any]) -> Variant:
    """A timing variant making in-process WSGI requests."""
    return Variant(name, lambda n: run_batch(app, environ, n), lambda: call_once(app, environ))
