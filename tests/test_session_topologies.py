"""RedisStore on a Redis Cluster (`cluster=True`) and behind Sentinel (`redis+sentinel://`
URLs), against real servers this module starts (tests/redis_servers.py: a three-master
cluster, a primary watched by one Sentinel; skipped without redis-server, failed with CI=true).

A user's index and session keys live in different cluster slots, so the store's operations
run across nodes here: pipelines over several slots, a DEL of many keys, SREM.
Parsing URLs and hiding their passwords needs no server and comes last.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import signal
import subprocess
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import redis
import redis_servers
from redis_helpers import unavailable_error, unused_port
from session_server_app import build_app
from starlette.testclient import TestClient
from store_sides import AsyncSide
from users import PASSWORD

from passport_py.sessions import SessionStoreUnavailable, SyncSessionStore
from passport_py.sessions._redis_clients import SENTINEL_FORM, parse_sentinel_url
from passport_py.sessions.redis import RedisStore

SECRET = "session-topologies-tests-secret-3b8e6d2f"
ALICE = {"username": "alice", "password": PASSWORD}
BOB = {"username": "bob", "password": "builder"}
VALUE = '{"user":"alice","data":{"n":1}}'
OTHER = '{"user":"alice","data":{"n":2}}'
TTL = 60
TIMEOUT = 0.3  # the stall tests' socket and connect timeouts


@pytest.fixture(scope="module")
def cluster() -> Iterator[redis_servers.Cluster]:
    with redis_servers.redis_cluster() as running:
        yield running


@pytest.fixture(scope="module")
def sentinel() -> Iterator[redis_servers.Sentinel]:
    with redis_servers.redis_sentinel() as running:
        yield running


@dataclass(frozen=True)
class Topology:
    """Where a test's stores point (`url`, `cluster`), the data nodes' `ports` (to look at
    keys directly), every server's port (`all_ports`) and a way to reach each process."""

    url: str
    cluster: bool
    ports: tuple[int, ...]
    all_ports: tuple[int, ...]
    process_of: Callable[[int], subprocess.Popen[bytes]]

    def store(self, prefix: str, **timeouts: float) -> RedisStore:
        return RedisStore(self.url, cluster=self.cluster, prefix=prefix, **timeouts)

    def keys_by_node(self, prefix: str) -> dict[int, set[bytes]]:
        """Each data node's keys under `prefix`."""
        found: dict[int, set[bytes]] = {}
        for port in self.ports:
            client = redis.Redis(port=port)
            try:
                found[port] = set(client.scan_iter(match=f"{prefix}*", count=1000))
            finally:
                client.close()
        return found

    def keys(self, prefix: str) -> set[bytes]:
        return set().union(*self.keys_by_node(prefix).values())

    def node_holding(self, key: str) -> int:
        (port,) = [port for port, keys in self.keys_by_node(key).items() if key.encode() in keys]
        return port


@pytest.fixture(params=["cluster", "sentinel"])
def topology(request: pytest.FixtureRequest) -> Topology:
    if request.param == "cluster":
        nodes: redis_servers.Cluster = request.getfixturevalue("cluster")
        return Topology(nodes.url, True, nodes.ports, nodes.ports, nodes.process_of)
    watched: redis_servers.Sentinel = request.getfixturevalue("sentinel")
    ports = (watched.primary_port, watched.sentinel_port)
    return Topology(watched.url, False, ports[:1], ports, watched.process_of)


@pytest.fixture
def prefix() -> str:
    return f"topology-test:{uuid.uuid4().hex}:"


@pytest.fixture
def stores(topology: Topology, prefix: str) -> Iterator[tuple[RedisStore, RedisStore]]:
    """Two stores on the same URL and prefix: two instances (processes) of one app."""
    pair = (topology.store(prefix), topology.store(prefix))
    yield pair
    for store in pair:
        store.sync_close()


@pytest.fixture(params=["async", "sync"])
def side(
    request: pytest.FixtureRequest, topology: Topology, prefix: str
) -> Iterator[SyncSessionStore]:
    """A store's async side (through AsyncSide) and its sync side (Flask's), in turn."""
    store = topology.store(prefix)
    if request.param == "sync":
        yield store.sync
        store.sync_close()
        return
    with asyncio.Runner() as runner:
        yield AsyncSide(store, runner)
        runner.run(store.aclose())


# -- two app instances, one Redis Cluster / Sentinel ----------------------------------------


def test_a_login_through_one_app_instance_is_a_login_on_the_other(
    stores: tuple[RedisStore, RedisStore],
) -> None:
    one, two = stores
    with TestClient(build_app(one, SECRET)) as first, TestClient(build_app(two, SECRET)) as second:
        assert first.post("/login", data=ALICE).json() == {"user": "alice"}
        second.cookies.set("session", first.cookies["session"])
        assert second.get("/whoami").json() == {"user": "alice"}
        assert second.post("/logout").json() == {"user": None}
        assert first.get("/whoami").json() == {"user": None}  # the logout is seen at once


def test_logging_out_everywhere_on_one_app_instance_ends_the_sessions_on_both(
    topology: Topology, prefix: str, stores: tuple[RedisStore, RedisStore]
) -> None:
    one, two = stores
    with (
        TestClient(build_app(one, SECRET)) as first,
        TestClient(build_app(two, SECRET)) as second,
        TestClient(build_app(two, SECRET)) as bobs,
    ):
        first.post("/login", data=ALICE)
        second.post("/login", data=ALICE)
        bobs.post("/login", data=BOB)
        assert len(topology.keys(prefix)) == 5  # three sessions, two indexes
        assert second.post("/logout-everywhere").json() == {"ended": 2}
        assert first.get("/whoami").json() == {"user": None}
        assert second.get("/whoami").json() == {"user": None}
        assert bobs.get("/whoami").json() == {"user": "bob"}
        assert len(topology.keys(prefix)) == 2  # bob's session and his index


# -- the store contract, async and sync (Flask's) side ---------------------------------------


def test_a_session_is_created_read_replaced_touched_and_deleted(side: SyncSessionStore) -> None:
    assert side.set("s1", VALUE, TTL, user="alice", new=True)
    assert not side.set("s1", OTHER, TTL, user="alice", new=True)  # NX: the id is in use
    assert side.get("s1") == VALUE
    assert side.set("s1", OTHER, TTL, user="alice")
    assert side.get("s1") == OTHER
    assert side.touch("s1", TTL, user="alice")  # the session and its index: two slots
    side.delete("s1", user="alice")  # DEL and SREM: two slots
    assert side.get("s1") is None
    assert not side.set("s1", VALUE, TTL, user="alice")  # XX: an ended session stays ended
    assert not side.touch("s1", TTL, user="alice")


def test_destroy_user_ends_a_users_sessions_on_every_node_and_no_one_elses(
    side: SyncSessionStore, topology: Topology, prefix: str
) -> None:
    for number in range(20):
        assert side.set(f"alice-{number}", VALUE, TTL, user="alice", new=True)
    assert side.set("bob", VALUE, TTL, user="bob", new=True)
    side.delete("alice-0", user="alice")
    if topology.cluster:  # 19 keys over three masters: one DEL across slots and nodes
        assert sum(1 for keys in topology.keys_by_node(prefix).values() if keys) >= 2
    assert side.destroy_user("alice") == 19
    assert [side.get(f"alice-{number}") for number in range(20)] == [None] * 20
    assert side.get("bob") == VALUE
    assert len(topology.keys(prefix)) == 2  # bob's session and his index
    assert side.destroy_user("alice") == 0


# -- a dropped connection, a stalled server --------------------------------------------------


def test_a_dropped_connection_is_retried_and_the_request_served(
    topology: Topology, stores: tuple[RedisStore, RedisStore]
) -> None:
    one, _ = stores
    with TestClient(build_app(one, SECRET)) as browser:
        browser.post("/login", data=ALICE)
        assert one.sync.set("flask", VALUE, TTL, new=True)
        for port in topology.all_ports:  # as a restart would: every client connection closed
            server = redis.Redis(port=port)
            try:
                server.client_kill_filter(_type="normal", skipme=True)
            finally:
                server.close()
        assert browser.get("/whoami").json() == {"user": "alice"}
        assert one.sync.get("flask") == VALUE


@contextlib.contextmanager
def paused(process: subprocess.Popen[bytes]) -> Iterator[None]:
    """SIGSTOP a server (its connections stay open, it answers nothing), then SIGCONT."""
    process.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        process.send_signal(signal.SIGCONT)


def test_a_stalled_data_node_answers_503_within_two_timeouts_and_the_app_recovers(
    topology: Topology, prefix: str
) -> None:
    store = topology.store(prefix, socket_timeout=TIMEOUT, connect_timeout=TIMEOUT)
    try:
        with TestClient(build_app(store, SECRET)) as browser:
            browser.post("/login", data=ALICE)
            session_id = browser.cookies["session"].split(".")[0]
            assert store.sync.get(session_id) is not None
            node = topology.node_holding(prefix + hashlib.sha256(session_id.encode()).hexdigest())
            with paused(topology.process_of(node)):
                started = time.perf_counter()
                assert browser.get("/whoami").status_code == 503
                async_elapsed = time.perf_counter() - started
                started = time.perf_counter()
                with pytest.raises(SessionStoreUnavailable):
                    store.sync.get(session_id)
                sync_elapsed = time.perf_counter() - started
            # Two timeouts at most (a cluster client finds the nodes again and retries once),
            # where redis-py's defaults would wait four times, with backoff.
            assert async_elapsed < 3 * TIMEOUT + 0.5
            assert sync_elapsed < 3 * TIMEOUT + 0.5
            assert browser.get("/whoami").json() == {"user": "alice"}
            assert store.sync.get(session_id) is not None
    finally:
        store.sync_close()


def test_a_stalled_sentinel_answers_503_within_two_timeouts_and_the_app_recovers(
    sentinel: redis_servers.Sentinel, prefix: str
) -> None:
    store = RedisStore(sentinel.url, prefix=prefix, socket_timeout=TIMEOUT, connect_timeout=TIMEOUT)
    try:
        with TestClient(build_app(store, SECRET)) as browser:
            # The store has no connection yet: it must ask the Sentinel where the primary is.
            with paused(sentinel.process_of(sentinel.sentinel_port)):
                started = time.perf_counter()
                assert browser.post("/login", data=ALICE).status_code == 503
                elapsed = time.perf_counter() - started
            assert elapsed < 3 * TIMEOUT + 0.5
            assert browser.post("/login", data=ALICE).json() == {"user": "alice"}
    finally:
        store.sync_close()


# -- more commands at once than max_connections --------------------------------------------


def command_connections(topology: Topology, name: str) -> list[int]:
    """How many connections named `name` each data node has open for commands (a cluster
    client keeps one more to the node of its URL, for asking the cluster's layout)."""
    counts = []
    for port in topology.ports:
        server = redis.Redis(port=port)
        try:
            clients = server.client_list()
        finally:
            server.close()
        counts.append(sum(1 for c in clients if c["name"] == name and c["cmd"] != "cluster|slots"))
    return counts


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_more_commands_at_once_than_max_connections_wait_their_turn(
    topology: Topology, prefix: str, kind: str
) -> None:
    name = f"pool-test-{uuid.uuid4().hex[:8]}"
    store = RedisStore(
        f"{topology.url}?client_name={name}",
        cluster=topology.cluster,
        prefix=prefix,
        max_connections=3,
        socket_timeout=5.0,
        pool_timeout=10.0,
    )
    ids = [f"s{number}" for number in range(600)]  # about 200 a node on the cluster
    try:
        if kind == "sync":
            with ThreadPoolExecutor(32) as threads:
                found = list(threads.map(store.sync.get, ids))
            counts = command_connections(topology, name)
        else:

            async def read_all() -> list[str | None]:
                # Every read sends its command before any answer is read: 600 at once.
                return await asyncio.gather(*(store.get(each) for each in ids))

            with asyncio.Runner() as runner:
                found = runner.run(read_all())
                counts = command_connections(topology, name)
                runner.run(store.aclose())
    finally:
        store.sync_close()
    assert found == [None] * len(ids)
    assert all(1 <= count <= 3 for count in counts), counts


# -- URLs: parsing, refusing, never showing a password ---------------------------------------


def test_a_sentinel_url_names_sentinels_a_service_and_a_db() -> None:
    parsed = parse_sentinel_url(
        "redis+sentinel://app:s3cret@sentinel-1:26380,sentinel-2,[::1]:5000/mymaster/3"
    )
    assert parsed is not None
    assert parsed.hosts == [("sentinel-1", 26380), ("sentinel-2", 26379), ("::1", 5000)]
    assert parsed.service_name == "mymaster"
    assert parsed.options == {"username": "app", "password": "s3cret", "db": 3}
    assert parsed.sentinel_options == {}  # the URL's user and password are the primary's


def test_a_sentinel_url_without_a_db_uses_db_0() -> None:
    parsed = parse_sentinel_url("redis+sentinel://sentinel-1/mymaster")
    assert parsed is not None
    assert (parsed.hosts, parsed.service_name, parsed.options) == (
        [("sentinel-1", 26379)],
        "mymaster",
        {"db": 0},
    )


def test_sentinel_username_and_password_options_authenticate_to_the_sentinels() -> None:
    parsed = parse_sentinel_url(
        "redis+sentinel://:data-pw@s1/mymaster/0?sentinel_username=watch&sentinel_password=s-pw"
        "&client_name=web"
    )
    assert parsed is not None
    assert parsed.sentinel_options == {"username": "watch", "password": "s-pw"}
    assert parsed.options == {"password": "data-pw", "db": 0, "client_name": "web"}


def test_rediss_sentinel_speaks_tls_to_the_primary_and_the_sentinels() -> None:
    parsed = parse_sentinel_url("rediss+sentinel://s1/mymaster?ssl_cert_reqs=none")
    assert parsed is not None
    assert parsed.options == {"db": 0, "ssl": True, "ssl_cert_reqs": "none"}
    assert parsed.sentinel_options == {"ssl": True, "ssl_cert_reqs": "none"}


def test_other_schemes_are_not_sentinel_urls() -> None:
    assert parse_sentinel_url("redis://127.0.0.1:6379/0") is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("redis+sentinel://s1:26379", "no service name"),
        ("redis+sentinel://s1:26379/", "no service name"),
        ("redis+sentinel://s1:port/mymaster", "the Sentinel address 's1:port' does not parse"),
        ("redis+sentinel://s1:99999/mymaster", "the Sentinel address 's1:99999' does not parse"),
        ("redis+sentinel://s1,,s2/mymaster", "the Sentinel address '' does not parse"),
        ("redis+sentinel://s1/mymaster/zero", "'/mymaster/zero' is not /service_name"),
        ("redis+sentinel://s1/mymaster/0/extra", "'/mymaster/0/extra' is not /service_name"),
    ],
)
def test_a_malformed_sentinel_url_is_refused_when_the_store_is_made(url: str, problem: str) -> None:
    secret_url = url.replace("://", "://user:hunter2@")
    with pytest.raises(ValueError) as caught:
        RedisStore(secret_url)
    message = str(caught.value)
    assert problem in message
    assert f"expected {SENTINEL_FORM}" in message
    assert "user:***@" in message
    assert "hunter2" not in message


@pytest.mark.parametrize(
    ("url", "cluster", "expected"),
    [
        ("http://127.0.0.1:6379", False, "Redis URL must specify one of the following schemes"),
        ("unix:///run/redis.sock", True, "Redis Cluster needs a redis:// or rediss://"),
        ("redis://127.0.0.1:7000/1", True, "Redis Cluster needs a redis:// or rediss://"),
        ("redis+sentinel://s1/mymaster", True, "not a Sentinel URL"),
        ("redis://127.0.0.1:6379/0?max_connections=5", False, "not in the URL redis://"),
        ("redis://127.0.0.1:7000?max_connections=5", True, "not in the URL redis://"),
        ("redis+sentinel://s1/mymaster?max_connections=5", False, "not in the URL redis+"),
    ],
)
def test_a_url_that_cannot_work_is_refused_when_the_store_is_made(
    url: str, cluster: bool, expected: str
) -> None:
    with pytest.raises(ValueError, match=expected):
        RedisStore(url, cluster=cluster)


def test_cluster_true_with_a_client_given_is_refused() -> None:
    given = redis.Redis()
    try:
        with pytest.raises(ValueError, match=r"cluster=True is for RedisStore\(url\)"):
            RedisStore(client=given, cluster=True)
    finally:
        given.close()


@pytest.fixture
def closed_ports() -> tuple[int, int]:
    """Two loopback ports nothing listens on."""
    return unused_port(), unused_port()


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_unreachable_sentinels_are_unavailable_without_showing_any_password(
    closed_ports: tuple[int, int], kind: str
) -> None:
    first, second = closed_ports
    url = (
        f"redis+sentinel://app:data-pw@127.0.0.1:{first},127.0.0.1:{second}/mymaster/0"
        "?sentinel_password=sentinel-pw"
    )
    error = unavailable_error(RedisStore(url), kind)
    shown = (
        f"redis+sentinel://app:***@127.0.0.1:{first},127.0.0.1:{second}/mymaster/0"
        "?sentinel_password=***"
    )
    assert str(error).startswith(f"Redis at {shown} did not answer: No master found")
    everything = "".join(traceback.format_exception(error)) + repr(error)
    assert "data-pw" not in everything
    assert "sentinel-pw" not in everything


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_an_unreachable_cluster_is_unavailable(closed_ports: tuple[int, int], kind: str) -> None:
    error = unavailable_error(
        RedisStore(f"redis://127.0.0.1:{closed_ports[0]}", cluster=True), kind
    )
    assert str(error).startswith(f"Redis at redis://127.0.0.1:{closed_ports[0]} did not answer")
