"""The redis-py clients a `RedisStore(url)` makes: one Redis, a Redis Cluster, or the primary
a set of Sentinels names; and URLs shown without their passwords."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import redis
import redis.asyncio
import redis.asyncio.retry
import redis.asyncio.sentinel
import redis.connection
import redis.retry
import redis.sentinel
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

SENTINEL_FORM = (
    "redis+sentinel://[user:password@]host[:port][,host2[:port2]...]/service_name[/db] "
    "(rediss+sentinel:// for TLS)"
)
SENTINEL_PORT = 26379
_SENTINEL_HOST = re.compile(r"(?:\[(?P<ipv6>[^\]]+)\]|(?P<name>[^:\[\]]+))(?::(?P<port>\d{1,5}))?")
_SENTINEL_AUTH = ("sentinel_username", "sentinel_password")
_parse_url: Callable[[str], dict[str, Any]] = redis.connection.parse_url


def _split_authority(url: str) -> tuple[str, str, str, str]:
    """`scheme://`, the user part (without its `@`), the host list and the rest: by hand, as
    urlsplit cannot read a Sentinel URL's several hosts."""
    scheme, sep, rest = url.partition("://")
    end = min((i for i in map(rest.find, "/?#") if i >= 0), default=len(rest))
    userinfo, _, hosts = rest[:end].rpartition("@")
    return scheme + sep, userinfo, hosts, rest[end:]


def redacted(url: str) -> str:
    """The URL without its passwords (the user part's and any `...password=` option), for
    error messages and logs."""
    scheme, userinfo, hosts, tail = _split_authority(url)
    user, colon, _ = userinfo.partition(":")
    if colon:
        userinfo = f"{user}:***" if user else "***"
    tail = re.sub(r"(?i)(?<=[?&])([^=&#]*password=)[^&#]*", r"\1***", tail)
    return f"{scheme}{userinfo}{'@' if userinfo else ''}{hosts}{tail}"


@dataclass(frozen=True)
class SentinelURL:
    """A parsed Sentinel URL: `options` go to the primary's connections (the URL's user and
    password, db, TLS and other query options, read as redis-py reads a redis:// URL);
    `sentinel_options` to the Sentinels' (TLS, and the `sentinel_username` and
    `sentinel_password` query options)."""

    hosts: list[tuple[str, int]]
    service_name: str
    options: dict[str, Any]
    sentinel_options: dict[str, Any]


def parse_sentinel_url(url: str) -> SentinelURL | None:
    """`url` read as a Sentinel URL (`SENTINEL_FORM`; a Sentinel listens on 26379 unless a
    port is given), or None for another scheme. A malformed one is a ValueError."""
    scheme, userinfo, hostlist, tail = _split_authority(url)
    tls = {"redis+sentinel://": False, "rediss+sentinel://": True}.get(scheme.lower())
    if tls is None:
        return None

    def malformed(problem: str) -> ValueError:
        return ValueError(
            f"{problem} in the Sentinel URL {redacted(url)}: expected {SENTINEL_FORM}"
        )

    hosts = []
    for item in hostlist.split(","):
        host = _SENTINEL_HOST.fullmatch(item)
        port = int(host["port"] or SENTINEL_PORT) if host else 0
        if host is None or not 0 < port < 65536:
            raise malformed(f"the Sentinel address {item!r} does not parse")
        hosts.append((unquote(host["ipv6"] or host["name"]), port))
    parts = urlsplit(f"redis://localhost{tail}")
    path = parts.path.removesuffix("/").split("/")[1:]
    if not path or not path[0]:
        raise malformed("no service name")
    if len(path) > 2 or (len(path) == 2 and not path[1].isdigit()):
        raise malformed(f"{parts.path!r} is not /service_name or /service_name/db")
    query = parse_qsl(parts.query, keep_blank_values=True)
    watchers: dict[str, Any] = {
        name.removeprefix("sentinel_"): value for name, value in query if name in _SENTINEL_AUTH
    }
    # The rest means what it would in the URL of the primary alone.
    rest = urlencode([(name, value) for name, value in query if name not in _SENTINEL_AUTH])
    primary = f"{'rediss' if tls else 'redis'}://{userinfo}{'@' if userinfo else ''}localhost"
    options = _parse_url(f"{primary}/{path[1] if len(path) == 2 else 0}?{rest}")
    for connection_only in ("host", "port", "connection_class"):
        options.pop(connection_only, None)
    if tls:  # the Sentinels speak TLS too, with the same ssl_* options
        options["ssl"] = True
        watchers.update({k: v for k, v in options.items() if k.startswith("ssl")})
    return SentinelURL(hosts, unquote(path[0]), options, watchers)


def client_options(
    socket_timeout: float, connect_timeout: float, max_connections: int, *, asynchronous: bool
) -> dict[str, Any]:
    """The timeouts, retry and pool size of the clients a store makes."""
    # One retry, only on a dropped connection (a pooled connection Redis closed while it
    # restarted), with no backoff: a timeout is answered at once rather than waited out twice.
    # redis.asyncio needs its own Retry: the sync one returns the coroutine unawaited, so an
    # async client given it never retries at all. Cluster clients (redis-py 6+) read only the
    # count and retry every connection error and timeout: a stalled node costs two timeouts.
    retry = redis.asyncio.retry.Retry if asynchronous else redis.retry.Retry
    return {
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": connect_timeout,
        "retry": retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        # The store lets at most this many commands run at once (the rest wait their turn), so
        # a pool (each cluster node's, the Sentinels') never runs out: redis-py's would fail.
        "max_connections": max_connections,
    }


class Connector:
    """Makes the clients for one store URL, checked when the store is made: `connect` opens
    nothing yet (redis-py connects on the first command)."""

    def __init__(
        self,
        url: str,
        *,
        cluster: bool,
        socket_timeout: float,
        connect_timeout: float,
        max_connections: int,
    ) -> None:
        self.url = url
        self.cluster = cluster
        self.sentinel = parse_sentinel_url(url)
        if cluster and self.sentinel is not None:
            raise ValueError("cluster=True goes with a redis:// URL, not a Sentinel URL")
        if self.sentinel is None:
            try:
                options = _parse_url(url)
            except ValueError as exc:
                raise ValueError(f"{exc}, or {SENTINEL_FORM}; got {redacted(url)}") from None
            if cluster and (url.startswith("unix:") or options.get("db", 0) != 0):
                raise ValueError(
                    f"Redis Cluster needs a redis:// or rediss:// URL of db 0, got {redacted(url)}"
                )
        else:
            options = self.sentinel.options
        if "max_connections" in options:  # the URL's options would win over the store's
            raise ValueError(
                f"max_connections goes to RedisStore(max_connections=...), not in the URL "
                f"{redacted(url)}"
            )
        self.options = {
            side: client_options(
                socket_timeout, connect_timeout, max_connections, asynchronous=side
            )
            for side in (False, True)
        }

    def connect(self, *, asynchronous: bool) -> tuple[Any, list[Any]]:
        """A client for the URL, and the Sentinel clients to close with it."""
        options = self.options[asynchronous]
        if self.sentinel is not None:
            primary = {**options, **self.sentinel.options}  # the URL's options win, as in redis-py
            # The Sentinels get the same timeouts, retry and pool size: redis-py would copy only
            # the socket_ options, and its default retry would wait a timeout out four times.
            shared = ("retry", "max_connections")
            watchers = {k: v for k, v in primary.items() if k.startswith("socket_") or k in shared}
            watchers.update(self.sentinel.sentinel_options)
            kind = redis.asyncio.sentinel.Sentinel if asynchronous else redis.sentinel.Sentinel
            sentinels = kind(self.sentinel.hosts, sentinel_kwargs=watchers)
            # Reads go to the primary too: a logout must be seen by the very next request.
            client = sentinels.master_for(self.sentinel.service_name, **primary)
            return client, list(sentinels.sentinels)
        if self.cluster:
            cluster = redis.asyncio.RedisCluster if asynchronous else redis.RedisCluster
            return cluster.from_url(self.url, **options), []
        single = redis.asyncio.Redis if asynchronous else redis.Redis
        return single.from_url(self.url, **options), []


async def aclose(client: Any) -> None:
    """Close an async client this module made, every connection of it."""
    await client.aclose()
    if isinstance(client, redis.asyncio.RedisCluster):
        # redis-py 8.1's aclose() does nothing once a failure has marked the cluster client
        # for re-initialization, leaving its nodes' connections open: close them here.
        for nodes in ("nodes_cache", "startup_nodes"):
            await client.nodes_manager.aclose(nodes)
