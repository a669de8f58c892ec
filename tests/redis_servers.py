"""Temporary real Redis servers for the topology tests: a three-master Redis Cluster and a
primary watched by one Sentinel, each on free loopback ports, in a temporary directory.

`redis_cluster()` and `redis_sentinel()` are context managers: every process they start is
terminated (SIGKILL if it hangs) and its directory removed when they exit, whatever happened.
On Linux the servers also die with the test process (PR_SET_PDEATHSIG), so a killed test
run leaves no orphans. Without the binaries the tests skip with a one-line reason; with
CI=true they fail instead.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

SERVICE = "mymaster"
STARTUP_SECONDS = 15.0


def require_redis_binaries() -> tuple[str, str]:
    """The paths of `redis-server` and `redis-cli`; skip (fail with CI=true) without them."""
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if server and cli:
        return server, cli
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true but redis-server or redis-cli is not installed")
    pytest.skip("redis-server or redis-cli is not installed: Cluster and Sentinel not tested")


def free_port(*, cluster_bus: bool = False) -> int:
    """A loopback port nothing listens on; with `cluster_bus`, port + 10000 is free too (a
    cluster node also listens there, and older servers have no `cluster-port` option)."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port: int = probe.getsockname()[1]
        if not cluster_bus:
            return port
        if port + 10000 > 65535:
            continue
        with socket.socket() as bus:
            try:
                bus.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port


# Looked up here, not in the child: only the call itself runs between fork and exec.
_PRCTL = ctypes.CDLL(None).prctl if sys.platform == "linux" else None
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child, between fork and exec
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class Processes:
    """The servers started so far and their directory; `stop()` ends and removes them all."""

    directory: Path
    started: list[tuple[subprocess.Popen[bytes], Path]] = field(default_factory=list)

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = self.directory / f"{name}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                args,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.directory,
                preexec_fn=_die_with_parent,
            )
        self.started.append((process, log))
        return process

    def logs(self) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')}" for _, log in self.started
        )

    def stop(self) -> None:
        for process, _ in self.started:
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)  # a test may have paused it
                process.terminate()
        for process, _ in self.started:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:  # pragma: no cover - only when a server hangs
                process.kill()
                process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


@contextlib.contextmanager
def processes(name: str) -> Iterator[Processes]:
    """A `Processes` over a fresh temporary directory, always stopped and removed."""
    group = Processes(Path(tempfile.mkdtemp(prefix=f"passport-py-{name}-")))
    try:
        yield group
    finally:
        group.stop()


def wait_until(ready: Callable[[], object], what: str, group: Processes) -> None:
    """Call `ready()` until it is true (connection errors count as not yet)."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            if ready():
                return
        except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError, OSError):
            pass
        for process, _ in group.started:
            if process.poll() is not None:
                raise AssertionError(f"a Redis process exited early ({what}):\n{group.logs()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}:\n{group.logs()}")
        time.sleep(0.02)


def ping(port: int) -> bool:
    client = redis.Redis(port=port, socket_timeout=1, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    finally:
        client.close()


def start_server(group: Processes, server: str, name: str, port: int, *options: str) -> None:
    group.start(
        name, server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
        "no", "--dir", str(group.directory), *options,
    )  # fmt: skip


@dataclass(frozen=True)
class Cluster:
    """A running three-master cluster: `url` names one node (any node finds the others)."""

    ports: tuple[int, ...]
    group: Processes

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}"

    def process_of(self, port: int) -> subprocess.Popen[bytes]:
        return self.group.started[self.ports.index(port)][0]


@contextlib.contextmanager
def redis_cluster(masters: int = 3) -> Iterator[Cluster]:
    """Start `masters` cluster-enabled servers and join them (`redis-cli --cluster create`,
    no replicas); ready once every node reports `cluster_state:ok`."""
    server, cli = require_redis_binaries()
    with processes("cluster") as group:
        ports = tuple(free_port(cluster_bus=True) for _ in range(masters))
        for port in ports:
            start_server(
                group, server, f"node-{port}", port, "--cluster-enabled", "yes",
                "--cluster-config-file", f"nodes-{port}.conf", "--cluster-node-timeout", "5000",
            )  # fmt: skip
        for port in ports:
            wait_until(functools.partial(ping, port), f"cluster node {port}", group)
        nodes = [f"127.0.0.1:{port}" for port in ports]
        created = subprocess.run(
            [cli, "--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes"],
            capture_output=True,
            timeout=STARTUP_SECONDS,
            check=False,
        )
        if created.returncode != 0:
            output = (created.stdout + created.stderr).decode(errors="replace")
            raise AssertionError(f"redis-cli --cluster create failed:\n{output}")
        for port in ports:
            wait_until(functools.partial(cluster_ok, port), f"cluster_state:ok on {port}", group)
        yield Cluster(ports, group)


def cluster_ok(port: int) -> bool:
    client = redis.Redis(port=port, socket_timeout=1, socket_connect_timeout=1)
    try:
        return bool(client.cluster("INFO").get("cluster_state") == "ok")
    finally:
        client.close()


@dataclass(frozen=True)
class Sentinel:
    """A running primary watched by one Sentinel under the service name `SERVICE`."""

    primary_port: int
    sentinel_port: int
    group: Processes

    @property
    def url(self) -> str:
        return f"redis+sentinel://127.0.0.1:{self.sentinel_port}/{SERVICE}/0"

    def process_of(self, port: int) -> subprocess.Popen[bytes]:
        return self.group.started[(self.primary_port, self.sentinel_port).index(port)][0]


@contextlib.contextmanager
def redis_sentinel() -> Iterator[Sentinel]:
    """Start a primary and a Sentinel monitoring it (quorum 1); ready once the Sentinel names
    the primary."""
    server, _ = require_redis_binaries()
    with processes("sentinel") as group:
        primary, watcher = free_port(), free_port()
        start_server(group, server, "primary", primary)
        wait_until(lambda: ping(primary), "the primary", group)
        # Sentinel rewrites its configuration file: it must be a writable file of its own.
        config = group.directory / "sentinel.conf"
        config.write_text(
            f"port {watcher}\nbind 127.0.0.1\ndir {group.directory}\n"
            f"sentinel monitor {SERVICE} 127.0.0.1 {primary} 1\n"
        )
        group.start("sentinel", server, str(config), "--sentinel")

        def names_the_primary() -> bool:
            client = redis.Redis(port=watcher, socket_timeout=1, socket_connect_timeout=1)
            try:
                address = client.sentinel_get_master_addr_by_name(SERVICE)
            finally:
                client.close()
            return isinstance(address, tuple) and int(address[1]) == primary

        wait_until(names_the_primary, "the Sentinel to name the primary", group)
        yield Sentinel(primary, watcher, group)
