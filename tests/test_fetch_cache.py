"""Key sets and discovery documents are fetched one at a time, and a failed fetch is
remembered (strategies/_fetch_cache.py), seen through real apps by servers that count what
they receive.

`JwtStrategy`'s key set is tests/jwt_helpers.py's `JwksServer`; `OpenIDConnectStrategy`'s
discovery document and key set are the bundled provider's, slowed down with its `delays`
fault. Bursts come from Starlette (many requests on one event loop, or on four loops in four
threads), from Flask and Django on Werkzeug's threaded server (one thread per request, the
transport's sync path, no event loop), and from Starlette under trio.

A slow endpoint answers after SLOW seconds, so every request of a burst needs the fetch while
it is in flight; a hanging one answers after HANG seconds, long after the strategy's TIMEOUT.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import trio
from app_servers import werkzeug_server
from behaviour.tokens import token_app
from flask import Flask
from jwt_helpers import (
    AUDIENCE,
    ISSUER,
    OTHER_RSA_KEY,
    RSA_KEY,
    JwksServer,
    claims,
    forge,
    jwk,
    rs256,
    serve_jwks,
)
from oauth_fixtures import hits
from oauth_helpers import make_app, make_client, make_passport, pending_callback
from oidc_helpers import QuickRetry, ShortLivedKeys, oidc_strategy
from users import UserStore

from passport_py import Authenticator
from passport_py.adapters.flask import FlaskPassport, authenticate
from passport_py.strategies.jwt import JwtStrategy, Reason
from passport_py.strategies.oidc import OpenIDConnectStrategy
from passport_py.testing.oidc_provider import OIDCProvider
from passport_py.transport import HttpResponse, TransportError

pytestmark = pytest.mark.usefixtures("honest_idp")

SLOW = 0.3
TIMEOUT = 0.5
HANG = 5.0
#: How long the failure-memory tests have a failure remembered (their cooldown).
RETRY = QuickRetry.jwks_cooldown

STORE = UserStore.default()
DISCOVERY = "/.well-known/openid-configuration"

#: Where a burst runs: (framework, event loops or None for threads, requests).
WHERE = {
    "starlette": ("starlette", 1, 200),
    "starlette-4-loops": ("starlette", 4, 200),
    "flask-threads": ("flask", None, 50),
    "django-threads": ("django", None, 50),
}


# -- bursts -------------------------------------------------------------------------------------


async def _gather(app: Any, path: str, headers: Sequence[Mapping[str, str]]) -> list[Any]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return list(await asyncio.gather(*(client.get(path, headers=h) for h in headers)))


def async_burst(
    app: Any, path: str, headers: Sequence[Mapping[str, str]], loops: int = 1
) -> list[httpx.Response]:
    """GET `path` of an ASGI app once per item of `headers`, all at once, on `loops` event
    loops (each running in a thread of its own)."""
    shares = [headers[i::loops] for i in range(loops)]
    with ThreadPoolExecutor(loops) as pool:
        done = pool.map(lambda share: asyncio.run(_gather(app, path, share)), shares)
        return [response for responses in done for response in responses]


def threaded_burst(
    app: Any, path: str, headers: Sequence[Mapping[str, str]]
) -> list[httpx.Response]:
    """GET `path` of a WSGI app on Werkzeug's threaded server once per item of `headers`,
    each from a client thread (and connection) of its own."""
    limits = httpx.Limits(max_connections=len(headers))
    with (
        werkzeug_server(app) as base,
        httpx.Client(base_url=base, timeout=30, limits=limits) as client,
        ThreadPoolExecutor(len(headers)) as pool,
    ):
        return list(pool.map(lambda sent: client.get(path, headers=sent), headers))


def burst(where: str, app: Any, path: str, headers: Sequence[Mapping[str, str]]) -> list[Any]:
    """`headers` GETs of `path` at once, as `where` (a key of `WHERE`) serves them."""
    loops = WHERE[where][1]
    if loops is None:
        return threaded_burst(app, path, headers)
    return async_burst(app, path, headers, loops)


# -- JwtStrategy --------------------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[JwksServer]:
    yield from serve_jwks()


def verify(token_claims: dict[str, Any]) -> Any:
    return STORE.by_name(token_claims["sub"])


def jwt_passport(server: JwksServer, **options: Any) -> Authenticator[Any]:
    strategy = JwtStrategy(
        verify,
        algorithms=["RS256"],
        jwks_url=server.url(),
        issuer=ISSUER,
        audience=AUDIENCE,
        **options,
    )
    return Authenticator().use(strategy)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_burst(where: str, passport: Authenticator[Any], tokens: Sequence[str]) -> list[Any]:
    """Each token sent at once to `/tokens/jwt` of the token app of `where`'s framework."""
    app = token_app(WHERE[where][0], passport)
    return burst(where, app, "/tokens/jwt", [bearer(token) for token in tokens])


def refused_as(response: Any) -> str:
    """The `error_description` of a 401 `invalid_token` answer."""
    assert response.status_code == 401, response.text
    challenge = response.headers["www-authenticate"]
    prefix = 'Bearer realm="Users", error="invalid_token", error_description="'
    assert challenge.startswith(prefix), challenge
    return str(challenge[len(prefix) : -1])


def slow_keys(server: JwksServer, *keys: dict[str, Any], delay: float = SLOW) -> None:
    server.serve("/jwks", {"keys": list(keys)}, delay=delay)


def unknown_kids(count: int) -> list[str]:
    """Tokens naming `count` different kids the key set does not hold (their signatures do not
    matter: the kid is looked up first)."""
    return [
        forge({"alg": "RS256", "kid": f"unknown-{n}"}, claims(), signature=b"s" * 256)
        for n in range(count)
    ]


@pytest.mark.parametrize("where", WHERE)
def test_jwt_a_cold_start_burst_fetches_the_key_set_once(server: JwksServer, where: str) -> None:
    slow_keys(server, jwk(RSA_KEY, "k1", "RS256"))
    count = WHERE[where][2]
    responses = token_burst(where, jwt_passport(server), [rs256(kid="k1")] * count)
    assert [r.status_code for r in responses] == [200] * count
    assert {r.json()["user"] for r in responses} == {"alice"}
    assert server.hits["/jwks"] == 1


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
@pytest.mark.parametrize("where", WHERE)
def test_jwt_a_burst_of_unknown_kids_costs_one_refresh(
    server: JwksServer, where: str, warm: bool
) -> None:
    """After the first fetch the kids are still unknown: one refresh, then the cooldown. (From
    a cold start, requests that waited for the first fetch do not refresh: it is brand new.)"""
    passport = jwt_passport(server)
    if warm:
        assert token_burst(where, passport, [rs256(kid="k1")])[0].status_code == 200
    slow_keys(server, jwk(RSA_KEY, "k1", "RS256"))
    responses = token_burst(where, passport, unknown_kids(WHERE[where][2]))
    assert {refused_as(response) for response in responses} == {Reason.UNKNOWN_KEY}
    assert server.hits["/jwks"] in ((2,) if warm else (1, 2))


@pytest.mark.parametrize("where", WHERE)
def test_jwt_a_burst_signed_with_a_new_key_waits_for_one_refresh(
    server: JwksServer, where: str
) -> None:
    """The requests that arrive while the refresh is in flight wait for it: none is refused
    for the cooldown the refresh started."""
    passport = jwt_passport(server)
    assert token_burst(where, passport, [rs256(kid="k1")])[0].status_code == 200
    slow_keys(server, jwk(RSA_KEY, "k1", "RS256"), jwk(OTHER_RSA_KEY, "k2", "RS256"))
    count = WHERE[where][2]
    responses = token_burst(where, passport, [rs256(key=OTHER_RSA_KEY, kid="k2")] * count)
    assert [r.status_code for r in responses] == [200] * count
    assert server.hits["/jwks"] == 2


@pytest.mark.parametrize("where", WHERE)
def test_jwt_a_hanging_key_set_costs_one_timeout(server: JwksServer, where: str) -> None:
    slow_keys(server, jwk(RSA_KEY, "k1", "RS256"), delay=HANG)
    passport = jwt_passport(server, jwks_timeout=TIMEOUT)
    started = time.monotonic()
    responses = token_burst(where, passport, [rs256(kid="k1")] * WHERE[where][2])
    elapsed = time.monotonic() - started
    assert {refused_as(response) for response in responses} == {Reason.KEYS_UNAVAILABLE}
    assert server.hits["/jwks"] == 1
    assert elapsed < HANG  # about one TIMEOUT, not one per request
    # The failure is remembered: the next request is refused without a fetch.
    [response] = token_burst(where, passport, [rs256(kid="k1")])
    assert refused_as(response) == Reason.KEYS_UNAVAILABLE
    assert server.hits["/jwks"] == 1


def test_jwt_a_failed_fetch_is_remembered_then_tried_again(server: JwksServer) -> None:
    keys = server.routes["/jwks"]
    server.serve("/jwks", b"down", status=503, content_type="text/plain", delay=SLOW)
    passport = jwt_passport(server, jwks_cooldown=RETRY)
    responses = token_burst("starlette", passport, [rs256(kid="k1")] * 50)
    assert {refused_as(response) for response in responses} == {Reason.KEYS_UNAVAILABLE}
    [again] = token_burst("starlette", passport, [rs256(kid="k1")])
    assert refused_as(again) == Reason.KEYS_UNAVAILABLE
    assert server.hits["/jwks"] == 1
    server.routes["/jwks"] = keys
    time.sleep(RETRY + 0.1)
    [response] = token_burst("starlette", passport, [rs256(kid="k1")])
    assert response.status_code == 200
    assert server.hits["/jwks"] == 2


def test_jwt_requests_waiting_for_a_cancelled_fetch_fetch_again(server: JwksServer) -> None:
    """A client that goes away cancels its request, and with it the fetch it led; the requests
    that waited for that fetch are not cancelled with it: one of them fetches again."""
    slow_keys(server, jwk(RSA_KEY, "k1", "RS256"))
    app = token_app("starlette", jwt_passport(server))
    headers = bearer(rs256(kid="k1"))

    async def main() -> tuple[list[httpx.Response], asyncio.Task[httpx.Response]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            leader = asyncio.create_task(client.get("/tokens/jwt", headers=headers))
            await asyncio.sleep(SLOW / 3)  # its fetch is in flight
            waiting = [
                asyncio.create_task(client.get("/tokens/jwt", headers=headers)) for _ in range(10)
            ]
            await asyncio.sleep(SLOW / 3)
            leader.cancel()
            return list(await asyncio.gather(*waiting)), leader

    responses, leader = asyncio.run(main())
    assert leader.cancelled()
    assert [r.status_code for r in responses] == [200] * 10
    assert server.hits["/jwks"] == 2


class _HttpxTransport:
    """The transport seam over httpx's async client, which runs under trio as well."""

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - the transport's signature
        max_bytes: int = 1 << 20,
    ) -> HttpResponse:
        try:
            async with httpx.AsyncClient() as client:
                response = await client.request(
                    method, url, headers=headers, content=body, timeout=timeout
                )
        except httpx.HTTPError as exc:
            raise TransportError(f"no response from {url}: {exc}") from None
        return HttpResponse(response.status_code, dict(response.headers), response.content)


def test_jwt_under_trio_concurrent_requests_do_not_block_the_loop(server: JwksServer) -> None:
    """Under trio, requests of one thread cannot wait for each other's fetch (that takes an
    asyncio loop or another thread): each fetches for itself, and none blocks the loop."""
    slow_keys(server, jwk(RSA_KEY, "k1", "RS256"))
    app = token_app("starlette", jwt_passport(server, transport=_HttpxTransport()))
    statuses: list[int] = []

    async def get(client: httpx.AsyncClient) -> None:
        response = await client.get("/tokens/jwt", headers=bearer(rs256(kid="k1")))
        statuses.append(response.status_code)

    async def main() -> None:
        transport = httpx.ASGITransport(app=app)
        with trio.fail_after(10):
            async with (
                httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
                trio.open_nursery() as nursery,
            ):
                for _ in range(5):
                    nursery.start_soon(get, client)

    # In a thread of its own, so a blocked loop fails the join below instead of hanging.
    runner = threading.Thread(target=trio.run, args=(main,), daemon=True)
    runner.start()
    runner.join(timeout=20)
    assert not runner.is_alive(), "the trio loop was blocked"
    assert statuses == [200] * 5
    assert 1 <= server.hits["/jwks"] <= 5


# -- OpenIDConnectStrategy ----------------------------------------------------------------------


OIDC_WHERE = ("starlette", "starlette-4-loops", "flask-threads")


def flask_start_app(strategy: OpenIDConnectStrategy) -> Flask:
    """A Flask app whose `/auth/oidc` starts a login with `strategy`."""
    app = Flask(__name__)
    app.secret_key = "fetch-cache-tests-flask-secret"
    FlaskPassport(app, make_passport(strategy))

    @app.route("/auth/oidc")
    @authenticate("oidc")
    def start() -> Any:  # pragma: no cover - the strategy redirects
        return {}

    return app


def start_burst(where: str, strategy: OpenIDConnectStrategy, count: int = 30) -> list[Any]:
    """`count` logins started at once at `/auth/oidc`."""
    framework = WHERE[where][0]
    app = flask_start_app(strategy) if framework == "flask" else make_app(make_passport(strategy))
    return burst(where, app, "/auth/oidc", [{}] * count)


def callback_burst(strategy: OpenIDConnectStrategy, idp: OIDCProvider, count: int) -> list[Any]:
    """`count` logins authorized one after the other, then their callbacks delivered at once,
    each from a browser (a TestClient, its own event loop) of its own."""
    app = make_app(make_passport(strategy))
    browsers = [make_client(app) for _ in range(count)]
    pending = [(browser, pending_callback(browser, "/auth/oidc", idp)) for browser in browsers]
    idp.clear_requests()
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda p: p[0].get(p[1]), pending))


@pytest.mark.parametrize("where", OIDC_WHERE)
def test_oidc_a_burst_of_logins_fetches_the_discovery_document_once(
    idp: OIDCProvider, where: str
) -> None:
    idp.faults.delays[DISCOVERY] = SLOW
    responses = start_burst(where, oidc_strategy(idp))
    assert [r.status_code for r in responses] == [302] * len(responses)
    assert hits(idp, "GET", DISCOVERY) == 1


@pytest.mark.parametrize("where", OIDC_WHERE)
def test_oidc_a_hanging_discovery_document_costs_one_timeout(idp: OIDCProvider, where: str) -> None:
    idp.faults.delays[DISCOVERY] = HANG
    strategy = oidc_strategy(idp, timeout=TIMEOUT)
    started = time.monotonic()
    responses = start_burst(where, strategy)
    assert [r.status_code for r in responses] == [502] * len(responses)
    assert time.monotonic() - started < HANG
    assert hits(idp, "GET", DISCOVERY) == 1
    assert [r.status_code for r in start_burst(where, strategy, 1)] == [502]
    assert hits(idp, "GET", DISCOVERY) == 1  # remembered: no fetch


def test_oidc_a_failed_discovery_is_remembered_then_tried_again(idp: OIDCProvider) -> None:
    idp.faults.responses[DISCOVERY] = (503, "text/plain", b"down")
    strategy = oidc_strategy(idp, cls=QuickRetry)
    client = make_client(make_app(make_passport(strategy)))
    assert client.get("/auth/oidc").status_code == 502
    idp.reset_faults()
    assert client.get("/auth/oidc").status_code == 502
    assert hits(idp, "GET", DISCOVERY) == 1
    time.sleep(RETRY + 0.1)
    assert client.get("/auth/oidc").status_code == 302
    assert hits(idp, "GET", DISCOVERY) == 2


def test_oidc_a_burst_of_callbacks_fetches_the_key_set_once(idp: OIDCProvider) -> None:
    idp.faults.delays["/jwks"] = SLOW
    responses = callback_burst(oidc_strategy(idp), idp, 12)
    assert [(r.status_code, r.headers["location"]) for r in responses] == [(302, "/")] * 12
    assert hits(idp, "GET", "/jwks") == 1


def test_oidc_a_hanging_key_set_costs_one_timeout(idp: OIDCProvider) -> None:
    idp.faults.delays["/jwks"] = HANG
    strategy = oidc_strategy(idp, timeout=TIMEOUT)
    started = time.monotonic()
    responses = callback_burst(strategy, idp, 12)
    assert [r.status_code for r in responses] == [502] * 12
    assert hits(idp, "GET", "/jwks") == 1
    assert time.monotonic() - started < HANG  # the twelve logins' setup included
    [again] = callback_burst(strategy, idp, 1)
    assert again.status_code == 502
    assert hits(idp, "GET", "/jwks") == 0  # remembered: no fetch


def test_oidc_a_failed_key_set_fetch_is_remembered_then_tried_again(idp: OIDCProvider) -> None:
    idp.faults.responses["/jwks"] = (503, "text/plain", b"down")
    strategy = oidc_strategy(idp, cls=QuickRetry)
    assert [r.status_code for r in callback_burst(strategy, idp, 1)] == [502]
    idp.reset_faults()
    assert [r.status_code for r in callback_burst(strategy, idp, 1)] == [502]
    assert hits(idp, "GET", "/jwks") == 0
    time.sleep(RETRY + 0.1)
    assert [r.status_code for r in callback_burst(strategy, idp, 1)] == [302]
    assert hits(idp, "GET", "/jwks") == 1


def test_oidc_old_keys_serve_while_they_are_refetched(idp: OIDCProvider) -> None:
    """Past `jwks_max_age` one login refetches the keys; the others go on with the old keys
    meanwhile (and so does that one, once its fetch timed out)."""
    strategy = oidc_strategy(idp, cls=ShortLivedKeys, timeout=TIMEOUT)
    assert [r.status_code for r in callback_burst(strategy, idp, 1)] == [302]
    time.sleep(ShortLivedKeys.jwks_max_age + 0.05)
    idp.faults.delays["/jwks"] = HANG
    responses = callback_burst(strategy, idp, 12)
    assert [(r.status_code, r.headers["location"]) for r in responses] == [(302, "/")] * 12
    assert hits(idp, "GET", "/jwks") == 1
