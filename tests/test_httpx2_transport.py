"""`Httpx2Transport` (passport_py/httpx2_transport.py): real HTTP to servers on loopback ports.

`Origin` is a threaded HTTP/1.1 server (keep-alive) that records every request with the client
port of its connection, and every connection it saw closed, so connection reuse and closing
are visible from the server side. Sync-framework calls are driven by `run_sync` (no event
loop); async ones by `asyncio.run` or a Starlette app.
"""

from __future__ import annotations

import asyncio
import datetime
import gc
import gzip
import importlib.util
import ipaddress
import json
import socket
import ssl
import sys
import threading
import time
import tracemalloc
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

import passport_py.httpx2_transport
from passport_py._async import run_sync
from passport_py.httpx2_transport import Httpx2Transport, default_oauth_transport
from passport_py.transport import HttpResponse, TransportError

BOMB = gzip.compress(b"\0" * (8 * 1024 * 1024))  # ~8 KB on the wire, 8 MB decoded


class Origin:
    """A loopback HTTP/1.1 server with a few routes (see `Handler._answer`)."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.seen: list[tuple[str, str, int]] = []  # (method, path, client port)
        self.closed: set[int] = set()  # client ports whose connection ended
        self.changed = threading.Condition()
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, so reuse shows in the client port
            timeout = 5

            def finish(self) -> None:
                super().finish()
                with origin.changed:
                    origin.closed.add(self.client_address[1])
                    origin.changed.notify_all()

            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                self._answer()

            def _send(self, status: int, body: bytes = b"", **headers: str) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name.replace("_", "-"), value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _answer(self) -> None:
                sent = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with origin.changed:
                    origin.seen.append((self.command, self.path, self.client_address[1]))
                path = self.path.partition("?")[0]
                _, route, arg = (path + "/").split("/")[:3]
                if route == "echo":
                    echo = {
                        "method": self.command,
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": sent.decode("latin-1"),
                    }
                    self._send(200, json.dumps(echo).encode(), Content_Type="application/json")
                elif route == "status":
                    self._send(
                        int(arg), b"" if int(arg) in (204, 304) else f"status {arg}".encode()
                    )
                elif route == "redirect":
                    self._send(302, b"moved", Location="/echo?followed")
                elif route == "dup":
                    self.send_response(200)
                    self.send_header("X-Dup", "first")
                    self.send_header("X-DUP", "second")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif route == "bytes":
                    self._send(200, b"x" * int(arg))
                elif route == "gzip":
                    self._send(200, gzip.compress(b"x" * int(arg)), Content_Encoding="gzip")
                elif route == "bomb":
                    self._send(200, BOMB, Content_Encoding="gzip")
                elif route == "corrupt":
                    self._send(200, b"this is not gzip", Content_Encoding="gzip")
                elif route == "cookie":
                    self._send(200, b"ok", Set_Cookie="sid=secret-of-user-a; Path=/")
                elif route == "slow":
                    time.sleep(int(arg) / 1000)
                    self._send(200, b"slow")
                elif route == "drip":  # one byte every 20 ms, far slower than any timeout
                    self.close_connection = True
                    self.send_response(200)
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    try:
                        for _ in range(100):
                            self.wfile.write(b"x")
                            self.wfile.flush()
                            time.sleep(0.02)
                    except OSError:  # the client gave up
                        return
                else:
                    self._send(404, b"no such route")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            # The default backlog (5) drops the SYNs of 20 concurrent connects: 1 s retries.
            request_queue_size = 128

            def get_request(self) -> tuple[socket.socket, Any]:
                conn, address = super().get_request()
                # Headers and body go out in two writes: without this, Nagle's algorithm and
                # delayed ACKs hold the second one back for 40 ms.
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if tls is None:
                    return conn, address
                # The handshake happens at the handler's first read, in its own thread.
                return tls.wrap_socket(
                    conn, server_side=True, do_handshake_on_connect=False
                ), address

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client refusing the certificate is part of the TLS tests

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.base = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return self.base + path

    def ports(self, path: str) -> list[int]:
        """The client ports of the requests for `path` so far."""
        with self.changed:
            return [port for _, seen, port in self.seen if seen == path]

    def paths(self) -> list[str]:
        with self.changed:
            return [path for _, path, _ in self.seen]

    def wait_closed(self, port: int) -> bool:
        """True once the connection from `port` has ended (waits up to 2 s)."""
        with self.changed:
            return self.changed.wait_for(lambda: port in self.closed, timeout=2)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture(scope="module")
def origin() -> Iterator[Origin]:
    server = Origin()
    yield server
    server.close()


@pytest.fixture(scope="module")
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


@pytest.fixture
def transport() -> Iterator[Httpx2Transport]:
    made = Httpx2Transport()
    yield made
    made.close()


def get(transport: Httpx2Transport, url: str, **options: Any) -> HttpResponse:
    """One request from a sync framework: driven by `run_sync`, no event loop."""
    return run_sync(transport.request("GET", url, **options))


DRIVERS = ["run_sync", "asyncio.run"]


def fetch(transport: Httpx2Transport, url: str, driver: str, **options: Any) -> HttpResponse:
    """One GET as a sync framework (`run_sync`, no loop) or an async one (a running loop)."""
    sent = transport.request("GET", url, **options)
    return run_sync(sent) if driver == "run_sync" else asyncio.run(sent)


def echoed(response: HttpResponse) -> dict[str, Any]:
    assert response.status == 200
    return dict(json.loads(response.body))


def no_resource_warnings(caught: list[warnings.WarningMessage]) -> bool:
    return not [w for w in caught if issubclass(w.category, ResourceWarning)]


# -- requests and responses -------------------------------------------------------------------


def test_a_get_sends_its_headers_and_returns_status_headers_and_body(
    transport: Httpx2Transport, origin: Origin
) -> None:
    response = get(transport, origin.url("/echo?q=1"), headers={"Accept": "application/json"})
    assert response.headers["content-type"] == "application/json"
    echo = echoed(response)
    assert (echo["method"], echo["path"]) == ("GET", "/echo?q=1")
    assert echo["headers"]["accept"] == "application/json"


def test_a_post_sends_its_body(transport: Httpx2Transport, origin: Origin) -> None:
    form = b"grant_type=authorization_code&code=abc"
    sent = transport.request(
        "POST",
        origin.url("/echo"),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=form,
    )
    echo = echoed(run_sync(sent))
    assert (echo["method"], echo["body"]) == ("POST", form.decode())
    assert echo["headers"]["content-type"] == "application/x-www-form-urlencoded"


def test_the_user_agent_is_passport_py_and_default_headers_yield_to_the_requests_own(
    origin: Origin,
) -> None:
    transport = Httpx2Transport(headers={"X-App": "demo", "X-Both": "default"})
    try:
        echo = echoed(get(transport, origin.url("/echo"), headers={"X-Both": "request"}))
    finally:
        transport.close()
    assert echo["headers"]["user-agent"] == "passport-py"
    assert (echo["headers"]["x-app"], echo["headers"]["x-both"]) == ("demo", "request")


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize("status", [201, 204, 304, 400, 401, 404, 500, 503])
def test_every_status_is_a_response(
    transport: Httpx2Transport, origin: Origin, status: int, driver: str
) -> None:
    response = fetch(transport, origin.url(f"/status/{status}"), driver)
    assert response.status == status
    assert response.body == (b"" if status in (204, 304) else f"status {status}".encode())


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_redirect_is_returned_as_it_is_and_never_followed(
    transport: Httpx2Transport, origin: Origin, driver: str
) -> None:
    response = fetch(transport, origin.url("/redirect"), driver)
    assert (response.status, response.headers["location"]) == (302, "/echo?followed")
    assert "/echo?followed" not in origin.paths()


def test_header_names_are_lower_cased_and_the_last_value_wins(
    transport: Httpx2Transport, origin: Origin
) -> None:
    assert get(transport, origin.url("/dup")).headers["x-dup"] == "second"


def test_cookies_a_server_sets_are_never_sent_with_later_requests(
    transport: Httpx2Transport, origin: Origin
) -> None:
    assert "set-cookie" in get(transport, origin.url("/cookie")).headers
    assert "cookie" not in echoed(get(transport, origin.url("/echo")))["headers"]


# -- bodies -----------------------------------------------------------------------------------


def test_a_body_of_exactly_max_bytes_is_returned(
    transport: Httpx2Transport, origin: Origin
) -> None:
    assert get(transport, origin.url("/bytes/1000"), max_bytes=1000).body == b"x" * 1000


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_body_over_max_bytes_is_a_transport_error_naming_the_url_not_the_body(
    transport: Httpx2Transport, origin: Origin, driver: str
) -> None:
    url = origin.url("/bytes/1001")
    with pytest.raises(TransportError, match="larger than 1000 bytes") as refused:
        fetch(transport, url, driver, max_bytes=1000)
    assert url in str(refused.value)
    assert "xxx" not in str(refused.value)


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_gzip_body_is_decoded(transport: Httpx2Transport, origin: Origin, driver: str) -> None:
    assert fetch(transport, origin.url("/gzip/5000"), driver).body == b"x" * 5000


def test_max_bytes_bounds_the_decoded_body(transport: Httpx2Transport, origin: Origin) -> None:
    with pytest.raises(TransportError, match="larger than 4999 bytes"):
        get(transport, origin.url("/gzip/5000"), max_bytes=4999)


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_gzip_bomb_is_refused_without_being_expanded(
    transport: Httpx2Transport, origin: Origin, driver: str
) -> None:
    # A first fetch imports and sets up what every fetch uses (3 MB or so when this test runs
    # alone): only what the bomb itself costs is measured.
    fetch(transport, origin.url("/gzip/10"), driver)
    tracemalloc.start()
    try:
        with pytest.raises(TransportError, match="larger than 1048576 bytes"):
            fetch(transport, origin.url("/bomb"), driver)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024  # the 8 MB it decodes to never sits in memory


def test_a_body_that_is_not_the_gzip_it_claims_is_a_transport_error(
    transport: Httpx2Transport, origin: Origin
) -> None:
    url = origin.url("/corrupt")
    with pytest.raises(TransportError, match="no response from") as refused:
        get(transport, url)
    assert url in str(refused.value)
    assert "not gzip" not in str(refused.value)


# -- no response ------------------------------------------------------------------------------


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_server_that_never_answers_is_a_transport_error_within_the_timeout(
    transport: Httpx2Transport, silent_port: int, driver: str
) -> None:
    url = f"http://127.0.0.1:{silent_port}/token"
    start = time.monotonic()
    with pytest.raises(TransportError, match=r"timed out after 0\.2 s") as refused:
        fetch(transport, url, driver, timeout=0.2)
    assert time.monotonic() - start < 0.45
    assert url in str(refused.value)


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_body_dripped_slower_than_the_timeout_is_cut_at_the_timeout(
    transport: Httpx2Transport, origin: Origin, driver: str
) -> None:
    # Every byte comes well within the timeout: only a deadline on the whole request stops it.
    start = time.monotonic()
    with pytest.raises(TransportError, match=r"timed out after 0\.2 s"):
        fetch(transport, origin.url("/drip"), driver, timeout=0.2)
    assert time.monotonic() - start < 0.45


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_refused_connection_is_a_transport_error(transport: Httpx2Transport, driver: str) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unused.getsockname()[1]}/jwks"
    with pytest.raises(TransportError, match="no response from") as refused:
        fetch(transport, url, driver)
    assert url in str(refused.value)


@pytest.mark.parametrize(
    "scheme_and_rest",
    ["file:///etc/passwd", "ftp://{host}/echo", "gopher://{host}/echo", "//{host}/echo", "{host}"],
)
def test_a_url_that_is_not_http_or_https_is_refused_without_any_io(
    transport: Httpx2Transport, origin: Origin, scheme_and_rest: str
) -> None:
    url = scheme_and_rest.format(host=f"127.0.0.1:{origin.port}")
    before = len(origin.paths())

    async def first_step() -> None:
        # Even under a running loop the refusal comes at the coroutine's first step.
        with pytest.raises(TransportError, match="only http and https URLs"):
            transport.request("GET", url).send(None)

    asyncio.run(first_step())
    assert len(origin.paths()) == before


def test_an_http_url_without_a_host_is_a_transport_error(transport: Httpx2Transport) -> None:
    with pytest.raises(TransportError, match="no response from http:///jwks"):
        get(transport, "http:///jwks")


# -- sync frameworks: no event loop -----------------------------------------------------------


def test_without_a_loop_the_request_completes_without_suspending(
    transport: Httpx2Transport, origin: Origin
) -> None:
    with pytest.raises(StopIteration) as done:
        transport.request("GET", origin.url("/status/200")).send(None)
    response = done.value.value
    assert isinstance(response, HttpResponse)
    assert (response.status, response.body) == (200, b"status 200")


def test_sync_requests_reuse_one_kept_alive_connection(
    transport: Httpx2Transport, origin: Origin
) -> None:
    for _ in range(3):
        get(transport, origin.url("/echo?sync-reuse"))
    assert len(set(origin.ports("/echo?sync-reuse"))) == 1


def test_close_ends_the_sync_connections_and_the_transport_stays_usable(
    transport: Httpx2Transport, origin: Origin
) -> None:
    get(transport, origin.url("/echo?before-close"))
    transport.close()
    [port] = origin.ports("/echo?before-close")
    assert origin.wait_closed(port)
    assert get(transport, origin.url("/echo?after-close")).status == 200


def test_threads_share_the_sync_client_and_each_gets_its_own_answer(
    transport: Httpx2Transport, origin: Origin
) -> None:
    answers: dict[str, str] = {}

    def work(worker: int) -> None:
        for n in range(10):
            path = f"/echo?thread={worker}&n={n}"
            answers[path] = echoed(get(transport, origin.url(path)))["path"]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 80
    assert all(path == answer for path, answer in answers.items())


# -- async frameworks: a running event loop ---------------------------------------------------


def test_under_a_loop_other_tasks_run_while_a_response_is_awaited(
    transport: Httpx2Transport, origin: Origin
) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    async def main() -> HttpResponse:
        ticking = asyncio.create_task(ticker())
        try:
            return await transport.request("GET", origin.url("/slow/200"))
        finally:
            ticking.cancel()

    assert asyncio.run(main()).body == b"slow"
    assert ticks >= 10


def test_requests_on_one_loop_share_one_client_and_connection(
    transport: Httpx2Transport, origin: Origin
) -> None:
    async def twice() -> None:
        for _ in range(2):
            await transport.request("GET", origin.url("/echo?loop-reuse"))

    asyncio.run(twice())
    assert len(set(origin.ports("/echo?loop-reuse"))) == 1


def test_each_loop_gets_its_own_client_closed_when_the_loop_shuts_down(
    transport: Httpx2Transport, origin: Origin
) -> None:
    async def fetch() -> None:
        await transport.request("GET", origin.url("/echo?per-loop"))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio.run(fetch())
        asyncio.run(fetch())
        gc.collect()
    first, second = origin.ports("/echo?per-loop")
    assert first != second
    assert origin.wait_closed(first) and origin.wait_closed(second)
    assert no_resource_warnings(caught)


def test_aclose_closes_the_loops_client_now_and_the_transport_stays_usable(
    transport: Httpx2Transport, origin: Origin
) -> None:
    async def main() -> int:
        await transport.request("GET", origin.url("/echo?before-aclose"))
        await transport.aclose()
        [port] = origin.ports("/echo?before-aclose")
        assert await asyncio.to_thread(origin.wait_closed, port)
        return (await transport.request("GET", origin.url("/echo?after-aclose"))).status

    assert asyncio.run(main()) == 200


def test_concurrent_coroutines_each_get_their_own_answer(
    transport: Httpx2Transport, origin: Origin
) -> None:
    async def main() -> list[HttpResponse]:
        sent = [transport.request("GET", origin.url(f"/echo?task={n}")) for n in range(20)]
        return await asyncio.gather(*sent)

    answers = [echoed(response)["path"] for response in asyncio.run(main())]
    assert answers == [f"/echo?task={n}" for n in range(20)]


def test_threads_each_running_a_loop_get_clients_of_their_own(
    transport: Httpx2Transport, origin: Origin
) -> None:
    statuses: list[int] = []

    async def fetch(worker: int) -> None:
        for _ in range(3):
            response = await transport.request("GET", origin.url(f"/echo?loop-thread={worker}"))
            statuses.append(response.status)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        threads = [threading.Thread(target=asyncio.run, args=(fetch(i),)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        gc.collect()
    assert statuses == [200] * 12
    ports = [set(origin.ports(f"/echo?loop-thread={i}")) for i in range(4)]
    assert all(len(used) == 1 for used in ports)
    assert len(set.union(*ports)) == 4
    assert no_resource_warnings(caught)


def test_a_starlette_endpoint_fetches_through_the_transport(
    transport: Httpx2Transport, origin: Origin
) -> None:
    async def relay(request: Request) -> JSONResponse:
        response = await transport.request("GET", origin.url("/echo?from-starlette"))
        return JSONResponse({"status": response.status})

    app = Starlette(routes=[Route("/relay", relay)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with TestClient(app) as client:
            assert client.get("/relay").json() == {"status": 200}
            assert client.get("/relay").json() == {"status": 200}
        gc.collect()
    [port] = set(origin.ports("/echo?from-starlette"))
    assert origin.wait_closed(port)
    assert no_resource_warnings(caught)


# -- TLS --------------------------------------------------------------------------------------


def _certificate(directory: Path) -> tuple[Path, Path, bytes]:
    """A self-signed certificate for 127.0.0.1: (cert file, key file, cert PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "passport-py test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    (directory / "cert.pem").write_bytes(pem)
    (directory / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return directory / "cert.pem", directory / "key.pem", pem


@pytest.fixture(scope="module")
def tls_origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Origin, bytes]]:
    cert_file, key_file, pem = _certificate(tmp_path_factory.mktemp("tls"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server = Origin(tls=context)
    yield server, pem
    server.close()


def test_https_to_a_certificate_the_context_trusts_works(
    tls_origin: tuple[Origin, bytes],
) -> None:
    server, pem = tls_origin
    transport = Httpx2Transport(verify=ssl.create_default_context(cadata=pem.decode()))
    try:
        assert echoed(get(transport, server.url("/echo")))["path"] == "/echo"
    finally:
        transport.close()


def test_https_to_an_untrusted_certificate_is_a_transport_error(
    transport: Httpx2Transport, tls_origin: tuple[Origin, bytes]
) -> None:
    server, _ = tls_origin
    with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED"):
        get(transport, server.url("/echo?untrusted"))
    assert "/echo?untrusted" not in server.paths()


# -- the shared instance ----------------------------------------------------------------------


def test_default_oauth_transport_is_one_shared_httpx2_transport() -> None:
    assert isinstance(default_oauth_transport(), Httpx2Transport)
    assert default_oauth_transport() is default_oauth_transport()


def test_without_httpx2_the_error_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A private copy of the module, imported while httpx2 cannot be: the real one is untouched.
    path = passport_py.httpx2_transport.__file__
    spec = importlib.util.spec_from_file_location("_httpx2_transport_without_httpx2", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "httpx2", None)
    spec.loader.exec_module(module)
    hint = r'pip install "passport-py\[oauth\]"'
    with pytest.raises(ImportError, match=hint):
        module.default_oauth_transport()
    with pytest.raises(ImportError, match=hint):
        module.Httpx2Transport()
    assert httpx2.Client is not None  # the real httpx2 is still there for the other tests
