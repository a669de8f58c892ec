"""A loopback TCP proxy for fault tests: the app talks to a real server (Redis) through it,
and the test makes that server stop answering or drop every connection, then brings it back,
without touching the server itself.

    with TcpProxy("127.0.0.1", 6379) as proxy:
        url = f"redis://127.0.0.1:{proxy.port}/0"
        ...
        proxy.set_mode("stall")    # requests go unanswered: clients time out
        proxy.set_mode("hold")     # requests wait (a slow moment), answered on "forward"
        proxy.set_mode("close")    # connections are reset, new ones too
        proxy.set_mode("forward")  # the server is back

One background thread moves the bytes (a selector loop over non-blocking sockets); `set_mode`
and `arm` return once that thread has applied them, so a test can switch between two
requests, or between two steps of one request, deterministically. Leaving the `with` block
closes every socket and joins the thread.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Literal

__all__ = ["Mode", "TcpProxy"]

Mode = Literal["forward", "stall", "hold", "close"]
"""`forward`: bytes flow both ways. `stall`: connections are accepted and kept, but every byte
either side sends is dropped (a black hole: the server never sees the request, the client
never gets an answer). `hold`: the same, except that the bytes are kept and delivered when the
mode is back to `forward` (a server slow for a moment: every request is answered late).
`close`: open connections are reset and new ones are reset as soon as they are accepted."""

_CHUNK = 65536
# SO_LINGER on with a zero timeout: close() sends RST rather than FIN (a reset connection).
_RESET = struct.pack("ii", 1, 0)
# How long a caller waits for the proxy thread to apply a command before giving up.
_COMMAND_TIMEOUT = 5.0


class _Link:
    """One client connection and the proxy's connection to the server for it."""

    __slots__ = ("client", "closed", "pending", "server", "tainted")

    def __init__(self, client: socket.socket, server: socket.socket) -> None:
        self.client = client
        self.server = server
        # Bytes received but not yet written, by the socket they are for.
        self.pending: dict[socket.socket, bytearray] = {client: bytearray(), server: bytearray()}
        # Bytes were dropped during a stall: the two sides no longer agree on the stream.
        self.tainted = False
        self.closed = False

    def peer(self, sock: socket.socket) -> socket.socket:
        return self.server if sock is self.client else self.client


class TcpProxy:
    """Forwards connections to `upstream_host:upstream_port` from a loopback port of its own
    (`port`), with a switchable fault mode (see `Mode`). Use it as a context manager."""

    def __init__(self, upstream_host: str, upstream_port: int, *, host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.host = host
        self.accepted = 0
        """How many client connections the proxy has accepted (reset ones included)."""
        self._mode: Mode = "forward"
        self._trigger: tuple[bytes, Mode] | None = None
        self._links: set[_Link] = set()
        self._commands: list[tuple[Callable[[], None], threading.Event]] = []
        self._lock = threading.Lock()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._listener: socket.socket | None = None
        self._selector: selectors.BaseSelector | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None

    # -- the test's side --------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The loopback port clients connect to (once started)."""
        if self._listener is None:
            raise RuntimeError("the proxy is not running: use it as a context manager")
        return int(self._listener.getsockname()[1])

    @property
    def mode(self) -> Mode:
        return self._mode

    def start(self) -> None:
        """Listen on a free loopback port and start moving bytes."""
        if self._thread is not None:
            raise RuntimeError("the proxy is already running")
        listener = socket.create_server((self.host, 0), backlog=64)
        listener.setblocking(False)
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(listener, selectors.EVENT_READ)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._listener = listener
        self._thread = threading.Thread(target=self._run, name="tcp-proxy", daemon=True)
        self._thread.start()

    def set_mode(self, mode: Mode) -> None:
        """Switch to `mode`; returns once the proxy thread has applied it (in `close`, every
        open connection has been reset by then)."""
        self._command(lambda: self._apply(mode))

    def arm(self, trigger: bytes, mode: Mode) -> None:
        """Switch to `mode` the next time a client sends bytes containing `trigger`, before
        forwarding them: e.g. `arm(b"$3\\r\\nSET\\r\\n", "close")` cuts the connection on the
        next Redis SET, after the commands before it were answered. One shot."""
        self._command(lambda: setattr(self, "_trigger", (trigger, mode)))

    def stop(self) -> None:
        """Close every connection and the listening socket, and join the thread."""
        thread = self._thread
        if thread is None:
            return
        if thread.is_alive():
            self._command(lambda: setattr(self, "_stopping", True))
            thread.join(_COMMAND_TIMEOUT)
        self._thread = None
        for sock in (self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()
        self._wake_r = self._wake_w = None
        if thread.is_alive():
            raise RuntimeError("the proxy thread did not stop")

    def __enter__(self) -> TcpProxy:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _command(self, action: Callable[[], None]) -> None:
        """Run `action` on the proxy thread and wait for it: only that thread touches sockets."""
        if self._thread is None or self._wake_w is None:
            raise RuntimeError("the proxy is not running: use it as a context manager")
        done = threading.Event()
        with self._lock:
            self._commands.append((action, done))
        self._wake_w.send(b"\0")
        if not done.wait(_COMMAND_TIMEOUT):
            raise RuntimeError("the proxy thread did not answer (did it crash?)")

    # -- the proxy thread -------------------------------------------------------------------

    def _run(self) -> None:
        selector = self._selector
        assert selector is not None
        try:
            while not self._stopping:
                for key, events in selector.select():
                    if key.fileobj is self._wake_r:
                        self._run_commands()
                    elif key.fileobj is self._listener:
                        self._accept()
                    else:
                        link: _Link = key.data
                        sock = key.fileobj
                        assert isinstance(sock, socket.socket)
                        # An earlier event of this batch may have closed the link.
                        if not link.closed and events & selectors.EVENT_WRITE:
                            self._flush(link, sock)
                        if not link.closed and events & selectors.EVENT_READ:
                            self._receive(link, sock)
        finally:
            for link in list(self._links):
                self._drop(link)
            if self._listener is not None:
                self._listener.close()
            selector.close()

    def _run_commands(self) -> None:
        assert self._wake_r is not None
        with contextlib.suppress(BlockingIOError):
            self._wake_r.recv(_CHUNK)
        with self._lock:
            commands, self._commands = self._commands, []
        for action, done in commands:
            action()
            done.set()

    def _apply(self, mode: Mode) -> None:
        previous, self._mode = self._mode, mode
        if mode == "close":
            for link in list(self._links):
                self._drop(link, reset=True)
        elif mode == "forward" and previous == "stall":
            # Bytes were dropped on these: the client and the server are out of step, as
            # after a network fault; the server side of such a connection is closed.
            for link in [link for link in self._links if link.tainted]:
                self._drop(link)
        elif mode == "forward" and previous == "hold":
            for link in list(self._links):  # what was held goes out now, in order
                for dest in (link.client, link.server):
                    if not link.closed:
                        self._flush(link, dest)

    def _accept(self) -> None:
        assert self._listener is not None and self._selector is not None
        try:
            client, _ = self._listener.accept()
        except BlockingIOError:
            return
        self.accepted += 1
        if self._mode == "close":
            _reset(client)
            return
        try:
            server = socket.create_connection(self.upstream, timeout=1.0)
        except OSError:
            _reset(client)  # the server itself is down: pass that on
            return
        link = _Link(client, server)
        for sock in (client, server):
            sock.setblocking(False)
            # Replies go out as soon as they arrive, as the real server's would.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._selector.register(sock, selectors.EVENT_READ, link)
        self._links.add(link)

    def _receive(self, link: _Link, sock: socket.socket) -> None:
        try:
            data = sock.recv(_CHUNK)
        except BlockingIOError:
            return
        except OSError:
            self._drop(link)
            return
        if not data:
            # Either side hung up: a Redis conversation has no half-closed state.
            self._drop(link)
            return
        if sock is link.client and self._trigger is not None and self._trigger[0] in data:
            mode = self._trigger[1]
            self._trigger = None
            self._apply(mode)
            if link.closed:
                return
        if self._mode == "stall":
            link.tainted = True  # dropped on the floor
            return
        dest = link.peer(sock)
        link.pending[dest] += data
        self._flush(link, dest)

    def _flush(self, link: _Link, dest: socket.socket) -> None:
        pending = link.pending[dest]
        holding = self._mode == "hold"
        if pending and not holding:
            try:
                sent = dest.send(pending)
            except BlockingIOError:
                sent = 0
            except OSError:
                self._drop(link)
                return
            del pending[:sent]
        assert self._selector is not None
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if pending and not holding else 0)
        if self._selector.get_key(dest).events != events:
            self._selector.modify(dest, events, link)

    def _drop(self, link: _Link, *, reset: bool = False) -> None:
        """Close both sides of `link`; with `reset`, the client gets a RST, not a FIN."""
        if link.closed:
            return
        link.closed = True
        self._links.discard(link)
        assert self._selector is not None
        for sock in (link.client, link.server):
            self._selector.unregister(sock)
        if reset:
            _reset(link.client)
        else:
            link.client.close()
        link.server.close()


def _reset(sock: socket.socket) -> None:
    """Close `sock` with a RST: the peer's next read or write fails with ECONNRESET."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
    finally:
        sock.close()
