"""`Httpx2Transport`: the transport seam (`passport_py.transport`) over httpx2, for OAuth/OIDC.

The OAuth 2.0 and OpenID Connect strategies talk to the provider on every login (token
exchange, discovery, JWKS, userinfo), so they want pooled keep-alive connections and, in an
async framework, requests that never block the event loop. Like `UrllibTransport`, one
`request` coroutine serves both kinds of framework:

- no event loop running in the calling thread (Flask, Django, `run_sync`): a shared
  `httpx2.Client`, and the coroutine completes without suspending;
- an asyncio event loop running: an `httpx2.AsyncClient` of that loop's own (httpx2 async
  connections belong to the loop that opened them), made on first use and closed when the
  loop shuts down.

    from passport_py.httpx2_transport import Httpx2Transport

    transport = Httpx2Transport(headers={"User-Agent": "my-app"})
    response = await transport.request("GET", "https://idp.example/.well-known/jwks.json")
"""

from __future__ import annotations

import asyncio
import atexit
import http.cookiejar
import logging
import re
import ssl
import threading
import time
import weakref
from collections.abc import AsyncGenerator, Mapping
from typing import Any

from passport_py._async import close_at_loop_shutdown
from passport_py._extras import install_hint
from passport_py._redaction import REDACTED, names_secret
from passport_py.transport import DEFAULT_MAX_BYTES, HttpResponse, TransportError

try:
    import httpx2
except ImportError:  # pragma: no cover - depends on the installed extras
    httpx2 = None  # type: ignore[assignment]

__all__ = ["Httpx2Transport", "default_oauth_transport"]

_MISSING = f"the OAuth 2.0 / OpenID Connect transport needs httpx2: {install_hint('oauth')}"

#: Sent with every request unless `headers` says otherwise.
_DEFAULT_HEADERS = {"User-Agent": "passport-py"}
#: The loggers where httpcore2 records each response's headers (at DEBUG).
_HEADER_LOGGERS = ("httpcore2.http11", "httpcore2.http2")
#: One `(b'Name', b'value')` pair of such a record.
_HEADER_PAIR = re.compile(r"\(b'([^']*)', (b'(?:[^'\\]|\\.)*'|b\"(?:[^\"\\]|\\.)*\")\)")


def _require_httpx2() -> None:
    if httpx2 is None:
        raise ImportError(_MISSING)


class Httpx2Transport:
    """HTTP through httpx2: a shared sync client without an event loop, one async client per
    running asyncio loop (see the module docstring).

    `verify` is an `ssl.SSLContext` or a bool (False turns certificate checks off: tests
    only). `headers` are sent with every request (a request's own headers win). `limits` sizes
    the connection pools (`httpx2.Limits`). `trust_env` reads proxies (`HTTPS_PROXY`,
    `NO_PROXY`) and `SSL_CERT_FILE` from the environment, as urllib does.

    Every status is an `HttpResponse`; no response (connection failure, timeout, a refused
    URL, a body over `max_bytes`) is a `TransportError`. Only `http` and `https` URLs are
    fetched, redirects are never followed, and cookies a server sets are never stored (one
    client serves every user), nor logged: httpcore2's DEBUG records of response headers have
    the values of those naming a secret redacted. Safe to share between threads and between
    coroutines. Under trio (no asyncio loop) it would block: pass a transport of your own
    there.
    """

    def __init__(
        self,
        *,
        verify: ssl.SSLContext | bool = True,
        headers: Mapping[str, str] | None = None,
        limits: httpx2.Limits | None = None,
        trust_env: bool = True,
    ) -> None:
        _require_httpx2()
        _redact_header_records()
        self._verify = verify
        self._ssl_context: ssl.SSLContext | None = None
        self._headers = {**_DEFAULT_HEADERS, **(headers or {})}
        self._limits = limits
        self._trust_env = trust_env
        # Guards the clients and the loop map: threaded servers share this transport.
        self._lock = threading.Lock()
        self._sync: httpx2.Client | None = None
        # loop -> (its client, the async generator that closes it when the loop shuts down)
        self._loop_clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[httpx2.AsyncClient, AsyncGenerator[None, None]]
        ] = weakref.WeakKeyDictionary()

    def _options(self) -> dict[str, Any]:
        # Called with the lock held. One SSL context for every client, made on first use:
        # loading the CA bundle takes 20 to 100 ms, and a context may be shared by threads.
        if self._ssl_context is None:
            self._ssl_context = httpx2.create_ssl_context(self._verify, trust_env=self._trust_env)
        options: dict[str, Any] = {
            "verify": self._ssl_context,
            "headers": self._headers,
            "trust_env": self._trust_env,
            "follow_redirects": False,
            "cookies": _NoCookies(),
        }
        if self._limits is not None:
            options["limits"] = self._limits
        return options

    def _sync_client(self) -> httpx2.Client:
        with self._lock:
            if self._sync is None:
                self._sync = httpx2.Client(**self._options())
            return self._sync

    def _async_client(self, loop: asyncio.AbstractEventLoop) -> httpx2.AsyncClient:
        with self._lock:
            entry = self._loop_clients.get(loop)
            if entry is None or entry[0].is_closed:
                client = httpx2.AsyncClient(**self._options())
                entry = self._loop_clients[loop] = (client, close_at_loop_shutdown(client.aclose))
            return entry[0]

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - also bounds the sync path, which never awaits
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> HttpResponse:
        """Send one request; any status is an `HttpResponse`, no response a `TransportError`.

        `timeout` (seconds) bounds connecting and every wait for data; the body read stops
        once the whole request has taken longer, and with an event loop the whole request
        is cancelled then. The body is decoded (gzip, deflate; br and zstd when their
        packages are installed) and refused as soon as it passes `max_bytes`: httpx2 inflates
        at most 1 MiB at a time, so a small body that would expand to gigabytes never does.
        """
        if not _fetchable(url):
            raise TransportError(f"refused to fetch {url!r}: only http and https URLs")
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop in this thread: a sync framework
            return self._sync_request(method, url, headers, body, timeout, max_bytes)
        return await self._async_request(loop, method, url, headers, body, timeout, max_bytes)

    def _sync_request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        body: bytes | None,
        timeout: float,
        max_bytes: int,
    ) -> HttpResponse:
        deadline = time.monotonic() + timeout
        try:
            stream = self._sync_client().stream(
                method, url, headers=headers, content=body, timeout=timeout
            )
            with stream as response:
                reader = _BodyReader(url, response, max_bytes)
                for chunk in response.iter_bytes():
                    reader.feed(chunk)
                    # A server dripping bytes never trips the per-read timeout.
                    if time.monotonic() > deadline:
                        raise TimeoutError
                return reader.response()
        except (httpx2.HTTPError, httpx2.InvalidURL, OSError) as exc:
            raise _no_response(url, exc, timeout) from None

    async def _async_request(
        self,
        loop: asyncio.AbstractEventLoop,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        body: bytes | None,
        seconds: float,
        max_bytes: int,
    ) -> HttpResponse:
        client = self._async_client(loop)
        try:
            async with asyncio.timeout(seconds):
                stream = client.stream(method, url, headers=headers, content=body, timeout=seconds)
                async with stream as response:
                    reader = _BodyReader(url, response, max_bytes)
                    async for chunk in response.aiter_bytes():
                        reader.feed(chunk)
                    return reader.response()
        except (httpx2.HTTPError, httpx2.InvalidURL, OSError) as exc:
            raise _no_response(url, exc, seconds) from None

    async def aclose(self) -> None:
        """Close the running event loop's client now (rather than at the loop's shutdown) and
        the shared sync client. The transport stays usable: later requests open new ones."""
        with self._lock:
            entry = self._loop_clients.pop(asyncio.get_running_loop(), None)
        if entry is not None:
            await entry[1].aclose()
        self.close()

    def close(self) -> None:
        """Close the shared sync client (a later sync request opens a new one). The clients of
        event loops close when their loop shuts down, or with `aclose` on that loop."""
        with self._lock:
            client, self._sync = self._sync, None
        if client is not None:
            client.close()


class _SecretHeaders(logging.Filter):
    """Redacts, in httpcore2's DEBUG record of a response's headers, the values of those
    naming a secret (`Set-Cookie`, `X-Access-Token`, ...): a provider's cookie or token must
    not reach the log of an app debugging its logins."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith("receive_response_headers"):
            record.msg = _HEADER_PAIR.sub(_hide_header, record.msg)
        return True


def _hide_header(match: re.Match[str]) -> str:
    name = match[1]
    return f"(b'{name}', b'{REDACTED}')" if names_secret(name) else match[0]


def _redact_header_records() -> None:
    """Install `_SecretHeaders` on httpcore2's loggers (once)."""
    for name in _HEADER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _SecretHeaders) for f in logger.filters):
            logger.addFilter(_SecretHeaders())


class _NoCookies(http.cookiejar.CookieJar):
    # One client serves every user of the app: a cookie a provider sets while answering one
    # user's token request must never ride along with the next user's request.
    def extract_cookies(self, response: Any, request: Any) -> None:
        return None

    def set_cookie(self, cookie: http.cookiejar.Cookie) -> None:
        return None


class _BodyReader:
    """Collects a response body, refusing it once it passes `max_bytes`."""

    def __init__(self, url: str, response: httpx2.Response, max_bytes: int) -> None:
        self._url = url
        self._status = response.status_code
        # Lower-cased names, last value wins (as `UrllibTransport` gives them).
        self._headers = {k.lower(): v for k, v in response.headers.multi_items()}
        self._max = max_bytes
        self._parts: list[bytes] = []
        self._size = 0

    def feed(self, data: bytes) -> None:
        """Add one decoded chunk; `TransportError` once the body passes `max_bytes`."""
        self._size += len(data)
        if self._size > self._max:
            raise TransportError(f"response from {self._url} is larger than {self._max} bytes")
        self._parts.append(data)

    def response(self) -> HttpResponse:
        """The complete response, once every chunk was fed."""
        return HttpResponse(self._status, self._headers, b"".join(self._parts))


def _fetchable(url: str) -> bool:
    scheme, sep, _ = url.partition(":")
    return bool(sep) and scheme.lower() in ("http", "https")


def _no_response(url: str, exc: BaseException, timeout: float) -> TransportError:
    if isinstance(exc, TimeoutError | httpx2.TimeoutException):
        reason = f"timed out after {timeout:g} s"
    else:
        reason = str(exc) or type(exc).__name__
    return TransportError(f"no response from {url}: {reason}")


_default: Httpx2Transport | None = None
_default_lock = threading.Lock()


def default_oauth_transport() -> Httpx2Transport:
    """The shared `Httpx2Transport` the OAuth 2.0 / OpenID Connect strategies use when given
    no transport (made on first use); `ImportError` naming the extra without httpx2."""
    global _default
    _require_httpx2()
    with _default_lock:
        if _default is None:
            _default = Httpx2Transport()
            # Its pooled sockets are closed cleanly at exit, not reclaimed with a warning.
            atexit.register(_default.close)
        return _default
