"""Threaded HTTP servers on unused loopback ports: a base for test servers, and a scripted one.

    class Handler(QuietHandler):
        def do_GET(self) -> None: ...

    with LoopbackServer(Handler) as server:
        httpx.get(server.base + "/path")

`LoopbackServer` owns the socket and the serving thread (start, stop, the context manager,
`base`); a subclass decides what the handler answers: `ScriptedServer` below answers each path
with a canned (or slow) response, for hostile endpoints; tests/provider_emulators.py's
`ProviderEmulator` plays GitHub and Discord. No pytest in here.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs

__all__ = ["LoopbackServer", "QuietHandler", "ScriptedServer"]


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing (no line per request in the test output)."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


class LoopbackServer:
    """`handler` served on `http://127.0.0.1:<unused port>` from a daemon thread.

    The port is bound at construction (so `base` is known before `start()`); `stop()` shuts
    the server down, closes the port and joins the thread. Use it as a context manager, or
    `start()` / `stop()`.
    """

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base(self) -> str:
        """`http://127.0.0.1:<port>`."""
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> Self:
        """Serve in a background thread; returns the server."""
        # A short poll interval: shutdown() waits for the next poll.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the port and join the thread."""
        if self._thread is not None:
            self._server.shutdown()  # would wait forever for a loop that never started
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- a scripted HTTP server -----------------------------------------------------------------


Answer = tuple[int, str, bytes, tuple[tuple[str, str], ...]]


class ScriptedServer(LoopbackServer):
    """A threaded HTTP server on a loopback port answering each path with a set answer.

    `answer(path, status, content_type, body, headers=...)` sets what `path` answers;
    `delays[path] = seconds` before answering;
    `requests` records `(method, path, headers, body)` of every request. Use as a context
    manager, or `start()` / `stop()`.
    """

    def __init__(self) -> None:
        self.answers: dict[str, Answer] = {}
        self.delays: dict[str, float] = {}
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(QuietHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                with server._lock:
                    server.requests.append((self.command, path, dict(self.headers), body))
                    answer = server.answers.get(path, (404, "text/plain", b"not found", ()))
                    delay = server.delays.get(path, 0.0)
                if delay:
                    time.sleep(delay)
                status, content_type, payload, headers = answer
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    for name, value in headers:
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            do_GET = _answer
            do_POST = _answer

        super().__init__(Handler)

    def answer(
        self,
        path: str,
        status: int,
        content_type: str,
        body: bytes | str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer `path` with `status`, `content_type`, `body` (and `headers`) from now on."""
        payload = body.encode("utf-8") if isinstance(body, str) else body
        with self._lock:
            self.answers[path] = (status, content_type, payload, tuple((headers or {}).items()))

    def last_request(self, path: str) -> tuple[dict[str, str], dict[str, list[str]]]:
        """The headers (lower-cased names) and the form-decoded body of the last request
        to `path`."""
        with self._lock:
            found = [r for r in self.requests if r[1] == path]
        assert found, f"no request reached {path}"
        _, _, headers, body = found[-1]
        return {k.lower(): v for k, v in headers.items()}, parse_qs(
            body.decode("utf-8"), keep_blank_values=True
        )

    def answer_json(self, path: str, document: Any, status: int = 200) -> None:
        """Answer `path` with `document` as JSON."""
        self.answer(path, status, "application/json", json.dumps(document))

    def calls(self, path: str) -> int:
        """How many requests reached `path`."""
        with self._lock:
            return sum(1 for _, p, _, _ in self.requests if p == path)

    def reset(self) -> None:
        """Forget answers, delays and recorded requests."""
        with self._lock:
            self.answers.clear()
            self.delays.clear()
            self.requests.clear()
