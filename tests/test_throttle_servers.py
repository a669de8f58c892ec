"""Login throttling on the real Redis through real servers: 100 concurrent wrong passwords
against uvicorn, two uvicorn processes sharing one counter, Redis cut off (503, fail closed),
and a scaled-down credential-stuffing run. The app is tests/throttle_server_app.py.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest
import redis
from app_servers import uvicorn_server
from redis_helpers import REDIS_URL, unique_prefix
from starlette.testclient import TestClient
from tcp_proxy import TcpProxy
from throttle_server_app import build_app
from users import PASSWORD, UserStore
from uvicorn_servers import Server, start_uvicorn

from passport_py.throttle import Limit

STARTUP_SECONDS = 20.0
ALICE = {"username": "alice", "password": PASSWORD}


@pytest.fixture(scope="module")
def prefix() -> Iterator[str]:
    yield from unique_prefix()


@pytest.fixture(scope="module")
def servers(prefix: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Server]]:
    """Processes A and B of the app, on one Redis prefix; each test uses its own usernames."""
    env = {**os.environ, "REDIS_URL": REDIS_URL, "THROTTLE_PREFIX": prefix}
    logs = tmp_path_factory.mktemp("throttle-servers")
    started: list[Server] = []
    try:
        for name in ("A", "B"):
            log = logs / f"{name}.log"
            app = "throttle_server_app:create_app"
            started.append(start_uvicorn(name, app, log, env, access_log=False))
        deadline = time.monotonic() + STARTUP_SECONDS
        for server in started:
            server.wait_ready(deadline)
        yield started
    finally:
        for server in started:
            server.stop()
            print(f"--- server {server.name} ---\n{server.output()}")


def verify_calls(server: Server, username: str) -> int:
    calls = httpx.get(f"{server.url}/verify-calls", params={"username": username}).json()
    assert isinstance(calls, int)
    return calls


def test_100_concurrent_wrong_passwords_reach_verify_exactly_5_times(
    servers: list[Server],
) -> None:
    server = servers[0]

    async def flood() -> list[int]:
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(timeout=10, limits=limits) as browser:
            body = {"username": "carol", "password": "guess"}
            answers = await asyncio.gather(
                *(browser.post(f"{server.url}/login", json=body) for _ in range(100))
            )
        return [a.status_code for a in answers]

    statuses = asyncio.run(flood())
    assert (statuses.count(401), statuses.count(429)) == (5, 95)
    assert verify_calls(server, "carol") == 5


def test_two_processes_share_one_counter(servers: list[Server]) -> None:
    a, b = servers
    wrong = {"username": "dave", "password": "guess"}
    for server in (a, b, a, b, a):
        assert httpx.post(f"{server.url}/login", json=wrong).status_code == 401
    for server in (a, b):
        refused = httpx.post(f"{server.url}/login", json=wrong)
        assert (refused.status_code, refused.headers["retry-after"]) == (429, "30")
    assert verify_calls(a, "dave") + verify_calls(b, "dave") == 5


def test_an_unreachable_redis_is_answered_503_and_logged(
    redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = UserStore.default()
    with TcpProxy("127.0.0.1", int(REDIS_URL.split(":")[2].split("/")[0])) as proxy:
        app = build_app(store, f"redis://127.0.0.1:{proxy.port}/0", redis_prefix)
        with uvicorn_server(app) as base, httpx.Client(timeout=10) as browser:
            assert browser.post(f"{base}/login", json=ALICE).status_code == 200
            proxy.set_mode("close")
            with caplog.at_level(logging.ERROR, logger="passport_py"):
                down = browser.post(f"{base}/login", json=ALICE)
            assert (down.status_code, down.headers["retry-after"]) == (503, "1")
            assert "login throttle store unavailable, answering 503" in caplog.text
            assert len(store.verify_calls) == 1  # nothing verified without a working limit
            proxy.set_mode("forward")
            assert browser.post(f"{base}/login", json=ALICE).status_code == 200


def test_credential_stuffing_is_slowed_and_a_real_user_still_logs_in(redis_prefix: str) -> None:
    """1,000 attempts over 100 usernames from 20 addresses, then alice from a clean one."""
    store = UserStore.default()
    ip = Limit(attempts=30, window=900, base_delay=60, max_delay=900)
    app = build_app(store, REDIS_URL, redis_prefix, ip=ip)
    statuses = []
    with ExitStack() as open_clients:
        attackers = [
            open_clients.enter_context(TestClient(app, client=(f"203.0.113.{n}", 40000)))
            for n in range(20)
        ]
        for n in range(1000):
            body = {"username": f"user{n % 100}", "password": f"leaked-{n}"}
            statuses.append(attackers[n % 20].post("/login", json=body).status_code)
    # Each address gets 30 guesses, each account 5: the limiter turns most attempts away.
    assert statuses.count(401) == len(store.verify_calls) <= 20 * 30
    assert statuses.count(429) >= 400
    with TestClient(app, client=("198.51.100.20", 40000)) as alice:
        assert alice.post("/login", json=ALICE).json() == {"user": "alice"}
    client = redis.Redis.from_url(REDIS_URL)
    try:
        ttls = [client.pttl(k) for k in client.scan_iter(match=f"{redis_prefix}*")]
    finally:
        client.close()
    assert len(ttls) == 100 + 20  # one bucket per account and per address; alice's was reset
    assert all(ttl > 0 for ttl in ttls)
