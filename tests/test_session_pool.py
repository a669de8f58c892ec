"""RedisStore's connections under load: a burst of requests waits for a free connection rather
than failing, and a 503 says whether Redis did not answer or the pool stayed busy.

Each test runs on both sides of a real app over `RedisStore(url)` on the real Redis: the ASGI
app of tests/session_server_app.py under one uvicorn worker (a process of its own), and the
Flask app of tests/test_flask_server_sessions.py under Werkzeug's threaded server (a thread
per request). Bursts are hundreds of connections opened first and then sent their requests
at once. Some tests reach Redis through tests/tcp_proxy.py, which counts the connections and
can hold every byte for a moment (a slow Redis) or drop them (a Redis that does not answer).
Timeouts are generous wherever a test expects success: only the pool is under test.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from app_servers import werkzeug_server
from redis_helpers import REDIS_URL
from tcp_proxy import TcpProxy
from test_flask_server_sessions import make_app
from test_session_faults import UNAVAILABLE, proxied_url, shown_url
from test_session_processes import STARTUP_SECONDS
from users import PASSWORD
from uvicorn_servers import start_uvicorn

from passport_py.sessions.redis import RedisStore

SECRET = "session-pool-tests-secret-5c2a9e7d1b"
ALICE = {"username": "alice", "password": PASSWORD}
BOB = {"username": "bob", "password": "builder"}
SIDES = ["uvicorn", "flask"]
BURST = 400
# How long a held (slow) Redis keeps every request waiting: well under the socket timeout of
# the tests that expect success.
HOLD = 0.3
SLOW_OK = {"socket_timeout": 5.0, "pool_timeout": 10.0}
# Opens at most this many connections at a time: Werkzeug's listen backlog is 128.
OPENING = 64


@dataclass
class Site:
    """A running app: its address, the path answering `{"user": ...}`, and its ERROR lines."""

    base: str
    whoami: str
    error_lines: Callable[[], list[str]]

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1])


@contextmanager
def uvicorn_site(url: str, prefix: str, options: dict[str, Any], log: Path) -> Iterator[Site]:
    env = {
        **os.environ,
        "REDIS_URL": url,
        "SESSION_PREFIX": prefix,
        "SESSION_SECRET": SECRET,
        "SESSION_STORE_OPTIONS": json.dumps(options),
        "PYTHONUNBUFFERED": "1",
    }
    server = start_uvicorn("pool", "session_server_app:create_app", log, env)
    try:
        server.wait_ready(time.monotonic() + STARTUP_SECONDS)

        def error_lines() -> list[str]:
            return [line for line in server.output().splitlines() if line.startswith("ERROR")]

        yield Site(server.url, "/whoami", error_lines)
    finally:
        server.stop()
        print(f"--- uvicorn ---\n{server.output()}")


class Lines(logging.Handler):
    """Keeps every record of ERROR or above as `<LEVEL> <logger> <message>`."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.name} {record.getMessage()}")


@contextmanager
def flask_site(url: str, prefix: str, options: dict[str, Any]) -> Iterator[Site]:
    store = RedisStore(url, prefix=prefix, **options)
    app = make_app(store, SECRET)
    app.testing = False  # a failing request is answered and logged, as in production
    handler = Lines()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with werkzeug_server(app) as base:
            yield Site(base, "/", lambda: list(handler.lines))
    finally:
        root.removeHandler(handler)
        store.sync_close()


@pytest.fixture(params=SIDES)
def side(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def site_for(side: str, redis_prefix: str, tmp_path: Path) -> Iterator[Callable[..., Site]]:
    """`site_for(url, **options)`: the side's app on `RedisStore(url, **options)`, under this
    test's prefix; stopped at the end of the test."""
    with contextlib.ExitStack() as stack:

        def site_for(url: str = REDIS_URL, **options: Any) -> Site:
            if side == "uvicorn":
                return stack.enter_context(
                    uvicorn_site(url, redis_prefix, options, tmp_path / "uvicorn.log")
                )
            return stack.enter_context(flask_site(url, redis_prefix, options))

        yield site_for


def log_in(site: Site, form: dict[str, str]) -> str:
    """Log `form`'s user in; their session cookie."""
    response = httpx.post(f"{site.base}/login", data=form, timeout=10)
    assert response.status_code == 200, response.text
    return response.cookies["session"]


def burst(
    site: Site, cookies: list[str], *, between: Callable[[], None] = lambda: None
) -> list[tuple[int, Any]]:
    """One request of `site.whoami` per cookie, all at once: every connection is opened
    first, then every request sent; `between` runs once they are sent. Each answer as
    `(status, user named)`, in order."""

    async def run() -> list[tuple[int, Any]]:
        opening = asyncio.Semaphore(OPENING)

        async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
            async with opening:
                return await asyncio.open_connection("127.0.0.1", site.port)

        streams = await asyncio.gather(*(connect() for _ in cookies))
        for (_, writer), cookie in zip(streams, cookies, strict=True):
            writer.write(
                f"GET {site.whoami} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: session={cookie}\r\n"
                "Connection: close\r\n\r\n".encode()
            )
        await asyncio.gather(*(writer.drain() for _, writer in streams))
        await asyncio.to_thread(between)
        answers = await asyncio.gather(*(asyncio.wait_for(r.read(), 30) for r, _ in streams))
        for _, writer in streams:
            writer.close()
        return [parse(answer) for answer in answers]

    return asyncio.run(run())


def parse(answer: bytes) -> tuple[int, Any]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)["user"] if status == 200 else None


def release(proxy: TcpProxy, *, after: float) -> None:
    """Let what the proxy holds go, `after` seconds from now."""
    time.sleep(after)
    proxy.set_mode("forward")


# -- a healthy Redis never answers 503 -----------------------------------------------------


def test_hundreds_of_concurrent_requests_of_logged_in_users_all_succeed(
    site_for: Callable[..., Site],
) -> None:
    site = site_for(**SLOW_OK)
    alice, bob = log_in(site, ALICE), log_in(site, BOB)
    # One client (bob) opens hundreds of connections; alice's requests are among them.
    cookies = [alice if n % 10 == 0 else bob for n in range(BURST)]
    answers = burst(site, cookies)
    assert Counter(answers) == {(200, "alice"): BURST // 10, (200, "bob"): BURST - BURST // 10}
    assert site.error_lines() == []


def test_a_redis_slow_for_a_moment_under_load_answers_every_request(
    site_for: Callable[..., Site], proxy: TcpProxy
) -> None:
    site = site_for(proxied_url(proxy), **SLOW_OK)
    alice = log_in(site, ALICE)
    # Every request takes a connection and waits on Redis: more than a pool holds.
    proxy.set_mode("hold")
    answers = burst(site, [alice] * BURST, between=lambda: release(proxy, after=HOLD))
    assert Counter(answers) == {(200, "alice"): BURST}
    assert site.error_lines() == []


def test_a_small_pool_queues_the_requests_and_answers_them_all(
    site_for: Callable[..., Site], proxy: TcpProxy
) -> None:
    site = site_for(proxied_url(proxy), max_connections=4, **SLOW_OK)
    alice = log_in(site, ALICE)
    answers = burst(site, [alice] * 200)
    assert Counter(answers) == {(200, "alice"): 200}
    assert site.error_lines() == []
    assert 1 <= proxy.accepted <= 4  # the app never had more connections to Redis


# -- a 503 says why -------------------------------------------------------------------------


def test_a_pool_busy_past_pool_timeout_answers_503_and_the_log_says_so(
    site_for: Callable[..., Site], proxy: TcpProxy
) -> None:
    site = site_for(proxied_url(proxy), max_connections=1, socket_timeout=5.0, pool_timeout=0.2)
    alice = log_in(site, ALICE)
    proxy.set_mode("hold")
    # One request takes the only connection and waits on Redis, which answers it in time; the
    # other waits for that connection longer than pool_timeout.
    answers = burst(site, [alice, alice], between=lambda: release(proxy, after=1.0))
    assert Counter(answers) == {(200, "alice"): 1, (503, None): 1}
    assert site.error_lines() == [
        f"ERROR passport_py.sessions {UNAVAILABLE}Redis at {shown_url(proxy)}: no free "
        "connection in the pool within 0.2 s (the pool of 1 connection was busy: raise "
        "max_connections if Redis answers in time)"
    ]


def test_a_redis_that_does_not_answer_gets_503s_and_the_log_says_so(
    site_for: Callable[..., Site], proxy: TcpProxy
) -> None:
    site = site_for(proxied_url(proxy), socket_timeout=0.2, connect_timeout=0.2)
    alice = log_in(site, ALICE)
    proxy.set_mode("stall")
    answers = burst(site, [alice] * 20)
    assert Counter(answers) == {(503, None): 20}
    lines = site.error_lines()
    assert len(lines) == 20  # one per request
    expected = (
        f"ERROR passport_py.sessions {UNAVAILABLE}Redis at {shown_url(proxy)} did not answer: "
    )
    assert all(line.startswith(expected) for line in lines), lines
    assert not any(alice.split(".")[0] in line for line in lines)  # nor the session id
