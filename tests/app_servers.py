"""Real servers for an app on an unused loopback port, each a context manager giving the base URL.

    with werkzeug_server(flask_app) as base:
        httpx.get(base + "/path")

- `uvicorn_server(asgi_app)`: uvicorn, in a thread of this process.
- `werkzeug_server(wsgi_app)`: Werkzeug's threaded development server.
- `waitress_server(wsgi_app)`: waitress, a production WSGI server.
- `runserver_server(wsgi_app)`: the server of Django's runserver (wsgiref underneath), which
  passes no raw request-target (`REQUEST_URI`) on to the app.

Each binds port 0 (no port race), serves from a daemon thread and is stopped, its port closed
and its thread joined on exit. No pytest in here.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import uvicorn
import waitress
from django.core.servers import basehttp
from werkzeug import serving

__all__ = ["runserver_server", "uvicorn_server", "waitress_server", "werkzeug_server"]

#: Seconds a server may take to start or stop (generous: the machine is shared).
PATIENCE = 30.0


@contextmanager
def _in_thread(
    run: Callable[[], Any], stop: Callable[[], Any], close: Callable[[], Any], port: int
) -> Iterator[str]:
    """`run()` in a daemon thread, yielding the base URL; then `stop()`, join, `close()`."""
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        try:
            stop()
            thread.join(timeout=PATIENCE)
        finally:
            close()


@contextmanager
def uvicorn_server(app: Any) -> Iterator[str]:
    """`app` (ASGI) served by uvicorn from a thread; no lifespan, warnings only in the log."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))

    def stop() -> None:
        server.should_exit = True

    with _in_thread(
        partial(server.run, sockets=[sock]), stop, sock.close, sock.getsockname()[1]
    ) as base:
        deadline = time.monotonic() + PATIENCE
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        yield base


@contextmanager
def werkzeug_server(app: Any) -> Iterator[str]:
    """`app` (WSGI) served by Werkzeug's threaded server, with no access log line per request
    (errors are still logged)."""

    class QuietHandler(serving.WSGIRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            pass

    server = serving.make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    run = partial(server.serve_forever, poll_interval=0.05)
    with _in_thread(run, server.shutdown, server.server_close, server.server_port) as base:
        yield base


@contextmanager
def waitress_server(app: Any) -> Iterator[str]:
    """`app` (WSGI) served by waitress with four worker threads."""
    server: Any = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    close = server.task_dispatcher.shutdown
    with _in_thread(server.run, server.close, close, server.effective_port) as base:
        yield base


@contextmanager
def runserver_server(app: Any) -> Iterator[str]:
    """`app` (WSGI) served by `django.core.servers.basehttp`'s threaded server, as
    `manage.py runserver` and Django's LiveServerTestCase serve it, with no log line per
    request."""

    class QuietHandler(basehttp.WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = basehttp.ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    server.set_app(app)
    run = partial(server.serve_forever, poll_interval=0.05)
    with _in_thread(run, server.shutdown, server.server_close, server.server_port) as base:
        yield base
