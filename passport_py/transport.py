"""The transport seam: the outbound HTTP of built-in strategies (JWKS fetches, token exchange).

Strategies are written once as coroutines. Their outbound requests go
through a `Transport`, whose `request` coroutine either completes without suspending (in a sync
framework, driven by `run_sync` with no event loop) or awaits the blocking call in a worker
thread (in an async framework, so the event loop keeps serving other requests meanwhile).
`UrllibTransport`, the default, picks between the two by whether an asyncio event loop is
running in the calling thread. Tests and apps with an HTTP client of their own pass any object
with the same `request` coroutine.
"""

from __future__ import annotations

import asyncio
import http.client
import ssl
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit

from passport_py.errors import PassportError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "HttpResponse",
    "Transport",
    "TransportError",
    "UrllibTransport",
    "default_transport",
]

DEFAULT_MAX_BYTES = 1024 * 1024
"""Responses larger than this are refused (`TransportError`) unless a call allows more."""


class TransportError(PassportError):
    """The request got no HTTP response: refused URL, connection failure, timeout, or a body
    larger than allowed. The message names the URL and the reason, never a response body."""


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """An HTTP response: `status`, `headers` (lower-cased names, last value wins), `body`."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


class Transport(Protocol):
    """What strategies need from an HTTP client: one request, as a coroutine."""

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - bounds the blocking call, not an await
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> HttpResponse:
        """Send one request; any status is an `HttpResponse`, no response a `TransportError`."""
        ...


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect is answered as it is (a 3xx response): a key or token endpoint that moves
    # must be reconfigured, not followed to wherever it points.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class UrllibTransport:
    """HTTP through the standard library (`urllib`), blocking the thread it runs in.

    With an asyncio event loop running in the calling thread the request runs in a worker
    thread (`asyncio.to_thread`); without one (Flask, Django, `run_sync`) it runs inline and the
    coroutine completes without suspending. Redirects are not followed; only `http` and
    `https` URLs are fetched. Under trio, pass a transport of your own.
    """

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None) -> None:
        handlers: list[Any] = [_NoRedirects()]
        if ssl_context is not None:
            handlers.append(urllib.request.HTTPSHandler(context=ssl_context))
        self._opener = urllib.request.build_opener(*handlers)

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - bounds the blocking call, not an await
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> HttpResponse:
        """Send one request (see the class docstring for where it runs)."""
        args = (method, url, dict(headers or {}), body, timeout, max_bytes)
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no event loop in this thread: a sync framework
            return self._blocking_request(*args)
        return await asyncio.to_thread(self._blocking_request, *args)

    async def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - bounds the blocking call, not an await
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> HttpResponse:
        """`request("GET", url, ...)`."""
        return await self.request("GET", url, headers=headers, timeout=timeout, max_bytes=max_bytes)

    def _blocking_request(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        timeout: float,
        max_bytes: int,
    ) -> HttpResponse:
        if urlsplit(url).scheme.lower() not in ("http", "https"):
            raise TransportError(f"refused to fetch {url!r}: only http and https URLs")
        # The scheme was checked just above: no file:, ftp: or data: URL is ever opened.
        request = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310
        try:
            with self._opener.open(request, timeout=timeout) as response:
                return _read(url, response.status, response.headers, response, max_bytes)
        except HTTPError as error:  # a status urllib calls an error is still a response
            with error:
                if error.fp is None:
                    return HttpResponse(error.code, _names(error.headers))
                return _read(url, error.code, error.headers, error, max_bytes)
        except (URLError, TimeoutError, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise TransportError(f"no response from {url}: {reason}") from None


def _read(url: str, status: int, headers: Any, stream: Any, max_bytes: int) -> HttpResponse:
    # Reading one byte past the limit tells a body that is too large from one that fits.
    body = stream.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise TransportError(f"response from {url} is larger than {max_bytes} bytes")
    return HttpResponse(status, _names(headers), body)


def _names(headers: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in headers.items()} if headers else {}


_DEFAULT = UrllibTransport()


def default_transport() -> UrllibTransport:
    """The shared `UrllibTransport` built-in strategies use when given none."""
    return _DEFAULT
