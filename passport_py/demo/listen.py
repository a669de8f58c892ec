"""Where the demo listens: `DEMO_HOST` and `DEMO_PORT` checked and bound before anything
starts, so a mistake ends the demo with one line saying what to run instead (no traceback)."""

from __future__ import annotations

import errno
import socket

__all__ = ["demo_port", "free_port_after", "listen"]


def demo_port(value: str) -> int:
    """`DEMO_PORT` as a port number; anything else ends the demo with how to fix it."""
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise SystemExit(
            f"DEMO_PORT must be a port number from 1 to 65535, not {value!r}: "
            "run DEMO_PORT=8000 make demo"
        )
    return port


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to `host:port` (as uvicorn binds one); a busy port or a host this
    machine cannot listen on ends the demo with one line saying what to run instead."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise SystemExit(
                f"port {port} is in use: run DEMO_PORT={free_port_after(host, port)} make demo"
            ) from None
        if exc.errno == errno.EACCES:
            raise SystemExit(
                f"port {port} needs administrator rights: run DEMO_PORT=8000 make demo"
            ) from None
        raise SystemExit(
            f"cannot listen on DEMO_HOST={host} ({exc.strerror or exc}): "
            "run DEMO_HOST=127.0.0.1 make demo"
        ) from None
    return sock


def free_port_after(host: str, port: int) -> int:
    """The first port after `port` that is free on `host` (the next one when none of the
    following few is)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for candidate in range(port + 1, min(port + 50, 65536)):
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, candidate))
            except OSError:
                continue
            return candidate
    return port + 1 if port < 65535 else 8000
