"""Rows 12 and 13: the OpenID Connect callback, `OpenIDConnectStrategy` against Authlib's own
Starlette client, both against one bundled provider (`passport_py.testing.oidc_provider`,
auto-approving, in a thread on a loopback port) over real HTTP.

Each login is a whole dance: the app's login route answers a redirect to the provider (with
state, nonce and a PKCE challenge kept in the session), the provider is asked over HTTP and
redirects back with a fresh code, and the app's callback route exchanges the code at the token
endpoint, validates the ID token and logs alice in. Only the callback request is timed (the
ASGI call, in-process, from the moment the app is called to its last message), so each sample
includes the token request's round trip and the provider's work on it, the same for both.

Ours is `SessionMiddleware` + `PassportMiddleware` with `authenticate("dev", ...)` on the
callback; Authlib's is `SessionMiddleware` + Starlette's `AuthenticationMiddleware` (row 1's
stock stack), its callback `await oauth.dev.authorize_access_token(request)` then storing the
user found by the ID token's `(iss, sub)` in the session. Both log in the same user by the same
key, and both answer a redirect to `/me`, which is checked to say `hello alice` afterwards.

Row 13 counts the requests the provider receives while our callback runs, once discovery and
the JWKS are cached: one, the token request.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx2
from authlib.integrations.starlette_client import OAuth
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import Scope

from passport_py.adapters.starlette import PassportMiddleware, authenticate
from passport_py.strategies.oauth2 import Profile
from passport_py.strategies.oidc import OpenIDConnectStrategy
from passport_py.testing.oidc_provider import OIDCProvider, ProviderClient, ProviderUser

from . import apps
from .asgi import call_once, get_scope
from .timing import Answer, Variant

CLIENT_ID = "benchmark"
CLIENT_SECRET = "benchmark-client-secret-of-32-bytes"
OURS = ("/ours/login", "http://testserver/ours/callback")
AUTHLIB = ("/authlib/login", "http://testserver/authlib/callback")
ALICE = ProviderUser(sub="u-alice", username="alice", name="Alice", email="alice@example.test")


def _routes() -> list[Route]:
    return [Route("/me", apps.whoami)]


def ours_app(issuer: str) -> Starlette:
    """Our stack: `OpenIDConnectStrategy` behind `PassportMiddleware`."""
    by_key = {(issuer, ALICE.sub): apps.USERS[1]}

    def verify(tokens: Any, profile: Profile) -> apps.User | None:
        return by_key.get(profile.key)

    passport = apps.make_passport()
    passport.use(
        OpenIDConnectStrategy(
            verify,
            issuer=issuer,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            callback_url=OURS[1],
            name="dev",
        )
    )

    @authenticate("dev", success_redirect="/me")
    async def dance(request: Request) -> Response:  # pragma: no cover - always redirects
        return PlainTextResponse("unreachable", 500)

    return Starlette(
        routes=[
            *_routes(),
            Route(OURS[0], dance),
            Route(urlsplit(OURS[1]).path, dance),
        ],
        middleware=[
            Middleware(SessionMiddleware, secret_key=apps.SECRET),
            Middleware(PassportMiddleware, passport=passport),
        ],
    )


def authlib_app(issuer: str, ssl_context: ssl.SSLContext | None = None) -> Starlette:
    """Authlib's Starlette client, registered from the discovery document. With
    `ssl_context`, every HTTP client it makes gets that context instead of loading the CA
    bundle into a new one (the information row)."""
    by_key = {(issuer, ALICE.sub): apps.USERS[1]}
    client_kwargs: dict[str, Any] = {
        "scope": "openid profile email",
        "code_challenge_method": "S256",
    }
    if ssl_context is not None:
        client_kwargs["verify"] = ssl_context
    oauth = OAuth()
    oauth.register(
        "dev",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs=client_kwargs,
    )

    async def login(request: Request) -> Response:
        return await oauth.dev.authorize_redirect(request, AUTHLIB[1])  # type: ignore[no-any-return]

    async def callback(request: Request) -> Response:
        token = await oauth.dev.authorize_access_token(request)
        claims = token["userinfo"]
        user = by_key.get((claims["iss"], claims["sub"]))
        if user is None:
            return PlainTextResponse("Unauthorized", 401)
        request.session.clear()  # a new login gets fresh session data, as ours does
        request.session["passport"] = {"user": user.id}
        return RedirectResponse("/me", 302)

    return Starlette(
        routes=[*_routes(), Route(AUTHLIB[0], login), Route(urlsplit(AUTHLIB[1]).path, callback)],
        middleware=[
            Middleware(SessionMiddleware, secret_key=apps.SECRET),
            Middleware(AuthenticationMiddleware, backend=apps.SessionUserBackend()),
        ],
    )


def _session_cookie(headers: dict[bytes, bytes]) -> bytes:
    value = headers.get(b"set-cookie", b"")
    if not value.startswith(b"session="):
        raise RuntimeError(f"expected a session cookie, got {value!r}")
    return value.split(b";", 1)[0].removeprefix(b"session=")


def _scope(url: str, cookie: bytes | None) -> Scope:
    parts = urlsplit(url)
    scope = get_scope(parts.path, cookie)
    scope["query_string"] = parts.query.encode("ascii")
    return scope


@dataclass
class Dances:
    """The provider, a persistent event loop and a browser-like HTTP client for the dances.

    One loop serves every batch, as one server process serves every request: our transport
    keeps its keep-alive connections per loop. (Authlib's client opens a new HTTP client for
    each token request whatever the loop.)
    """

    provider: OIDCProvider
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    browser: httpx2.AsyncClient | None = None

    async def _browser(self) -> httpx2.AsyncClient:
        if self.browser is None:
            self.browser = httpx2.AsyncClient(follow_redirects=False)
        return self.browser

    async def dance(
        self,
        app: Starlette,
        login_path: str,
        before_callback: Callable[[], None] | None = None,
    ) -> tuple[float, Answer]:
        """One login: start it, let the provider approve, then time the callback request."""
        status, headers, _ = await call_once(app, get_scope(login_path))
        if status not in (302, 303):
            raise RuntimeError(f"{login_path}: expected a redirect, got {status}")
        cookie = _session_cookie(headers)
        browser = await self._browser()
        approved = await browser.get(headers[b"location"].decode())
        if approved.status_code != 302:
            raise RuntimeError(f"the provider answered {approved.status_code}: {approved.text}")
        scope = _scope(approved.headers["location"], cookie)
        if before_callback is not None:
            before_callback()
        start = time.perf_counter()
        answer = await call_once(app, scope)
        return time.perf_counter() - start, answer

    async def _batch(self, app: Starlette, login_path: str, n: int) -> float:
        total = 0.0
        for _ in range(n):
            seconds, (status, headers, _) = await self.dance(app, login_path)
            if status not in (302, 303) or headers.get(b"location") != b"/me":
                raise RuntimeError(f"{login_path}: the callback answered {status} {headers}")
            total += seconds
        return total

    async def _logged_in(self, app: Starlette, login_path: str) -> Answer:
        _, (status, headers, body) = await self.dance(app, login_path)
        if status not in (302, 303):
            return status, headers, body
        return await call_once(app, get_scope("/me", _session_cookie(headers)))

    def variant(self, name: str, app: Starlette, login_path: str) -> Variant:
        """A timing variant: `run_batch(n)` makes `n` logins and returns their callbacks'
        seconds; `call_once()` makes one and answers `GET /me` with the session it set."""
        return Variant(
            name,
            lambda n: self.loop.run_until_complete(self._batch(app, login_path, n)),
            lambda: self.loop.run_until_complete(self._logged_in(app, login_path)),
        )

    def callback_requests(self, app: Starlette, login_path: str) -> list[tuple[str, str]]:
        """`(method, path)` of each request the provider receives during one callback."""
        provider = self.provider
        _, (status, _, _) = self.loop.run_until_complete(
            self.dance(app, login_path, provider.clear_requests)
        )
        if status not in (302, 303):
            raise RuntimeError(f"{login_path}: the callback answered {status}")
        return provider.requests

    def profile(self, app: Starlette, login_path: str, n: int, title: str) -> None:
        """cProfile of `n` callback requests only (sorted by own time, 25 lines)."""
        profiler = cProfile.Profile()

        async def run() -> None:
            for _ in range(n):
                _, (_, _, _) = await self.dance(app, login_path, profiler.enable)
                profiler.disable()

        self.loop.run_until_complete(run())
        print(f"\n--- profile: {title}, {n} callbacks (this thread only) ---")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)

    def close(self) -> None:
        """Close the browser, the loop (and the clients bound to it) and the provider."""
        try:
            if self.browser is not None:
                self.loop.run_until_complete(self.browser.aclose())
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()
            self.provider.stop()


@dataclass
class OidcBenchmark:
    """Rows 12 and 13's variants, apps and provider."""

    dances: Dances
    apps: dict[str, tuple[Starlette, str]]
    variants: dict[str, Variant]

    def callback_requests(self, key: str) -> list[tuple[str, str]]:
        """Requests the provider gets during one callback of variant `key`."""
        app, login_path = self.apps[key]
        return self.dances.callback_requests(app, login_path)

    def profile(self, n: int) -> None:
        """cProfile both sides' callbacks."""
        for key, variant in self.variants.items():
            app, login_path = self.apps[key]
            self.dances.profile(app, login_path, n, variant.name)

    def close(self) -> None:
        self.dances.close()


def oidc_benchmark() -> OidcBenchmark:
    """Start the provider; build both apps, each checked to log alice in."""
    client = ProviderClient(CLIENT_ID, CLIENT_SECRET, [OURS[1], AUTHLIB[1]], "client_secret_basic")
    provider = OIDCProvider(clients=[client], users=[ALICE], auto_approve=True).start()
    dances = Dances(provider)
    try:
        built = {
            "oidc_ours": (ours_app(provider.issuer), OURS[0]),
            "oidc_authlib": (authlib_app(provider.issuer), AUTHLIB[0]),
            "oidc_authlib_ssl": (
                authlib_app(provider.issuer, ssl.create_default_context()),
                AUTHLIB[0],
            ),
        }
        names = {
            "oidc_ours": "OIDC callback: OpenIDConnectStrategy",
            "oidc_authlib": "OIDC callback: Authlib starlette_client",
            "oidc_authlib_ssl": "  the same, given one prebuilt SSL context",
        }
        variants = {key: dances.variant(names[key], *built[key]) for key in built}
        for variant in variants.values():
            status, _, body = variant.call_once()
            if status != 200 or body != b"hello alice":
                raise RuntimeError(f"{variant.name}: unexpected answer {status} {body!r}")
    except BaseException:
        dances.close()
        raise
    return OidcBenchmark(dances, built, variants)
