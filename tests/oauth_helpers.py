"""A harness for OAuth 2.0 / OpenID Connect tests: a real Starlette app around a strategy, the
whole dance over real HTTP, and a bundled provider to dance with.

- `make_passport(*strategies)` builds an `Authenticator` whose users are JSON dicts.
- `make_app(passport, ...)` builds a Starlette app (Starlette's `SessionMiddleware` and
  `PassportMiddleware`) with, for each strategy name `<name>`: `GET /auth/<name>` (starts the
  login) and `GET|POST /auth/<name>/callback` (finishes it), plus `GET /me` (the logged-in user
  as JSON) and `GET /session` (the session as JSON). `make_client(app)` gives a `TestClient`
  that never follows redirects.
- `dance(client, start_path, provider=...)` runs a login: the app's redirect (TestClient), the
  provider's authorization endpoint over real HTTP (httpx, one hop at a time, since only the
  TestClient can reach the app), then the callback (TestClient); it returns the callback's
  response. `run_dance` returns every step (`Dance`).
- `app_client(*strategies)` is `make_client(make_app(make_passport(*strategies)))`;
  `client_for(*strategies)` the same with failure messages kept in the session.
  `login_with(provider, strategy)` runs a whole login through such an app (JSON on success),
  `user_of(response)` reads the user it logged in, `authorization_redirect(strategy)` gives
  the authorization URL a start route redirects to.
- `provider(...)` starts the bundled `passport_py.testing.oidc_provider` with one client and
  one user; `oauth2_strategy(provider, ...)` builds an `OAuth2Strategy` against it, and
  `preset_options(callback_url, ...)` the options of a provider preset (GitHub, Google, ...).

No pytest in here: the fixtures are in tests/conftest.py (the OAuth block) and the modules.
A scripted HTTP server for hostile endpoints is tests/loopback.py's `ScriptedServer`.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit

import httpx
import httpx2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.testclient import TestClient

from passport_py import Authenticator
from passport_py.adapters.starlette import PassportMiddleware, authenticate, is_authenticated
from passport_py.strategies._oauth2_tokens import AuthMethod
from passport_py.strategies.oauth2 import OAuth2Strategy
from passport_py.transport import Transport, UrllibTransport

__all__ = [
    "APP_BASE",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "SECRET",
    "Dance",
    "Recorder",
    "app_client",
    "authorization_redirect",
    "callback_url_for",
    "client_for",
    "dance",
    "default_user",
    "follow_provider",
    "login_with",
    "make_app",
    "make_client",
    "make_passport",
    "oauth2_strategy",
    "oauth_transport",
    "pending_callback",
    "preset_options",
    "provider",
    "query_names",
    "query_params",
    "run_dance",
    "session_of",
    "start_login",
    "submit_form_post",
    "user_of",
    "with_params",
]

#: Signs Starlette's session cookie in these apps.
SECRET = "oauth-tests-only-secret-6c1f0a9e2b7d4e58"
#: Where the TestClient's app lives (TestClient's default base URL).
APP_BASE = "http://testserver"
CLIENT_ID = "passport-py-tests"
CLIENT_SECRET = "tests-only-client-secret"

UserDict = dict[str, Any]


def oauth_transport() -> Transport | None:
    """The transport for strategies under test: None (the strategy's default, httpx2) once
    `passport_py.httpx2_transport.default_oauth_transport` exists, else `UrllibTransport()`."""
    try:
        module = importlib.import_module("passport_py.httpx2_transport")
    except ImportError:
        return UrllibTransport()
    return None if hasattr(module, "default_oauth_transport") else UrllibTransport()


def callback_url_for(name: str, base: str = APP_BASE) -> str:
    """The absolute callback URL of strategy `name` in a `make_app` app served at `base`."""
    return f"{base}/auth/{name}/callback"


# -- the app ------------------------------------------------------------------------------


def make_passport(*strategies: Any) -> Authenticator[UserDict]:
    """An `Authenticator` with `strategies` registered; users are JSON dicts kept whole in
    the session (so `/me` shows exactly what verify returned)."""
    passport: Authenticator[UserDict] = Authenticator()
    for strategy in strategies:
        passport.use(strategy)

    passport.serialize_user(_same)
    passport.deserialize_user(_same)
    return passport


def _same(user: UserDict) -> UserDict:
    return user


def _json(value: Any) -> Any:
    """`value` as JSON data (objects that JSON cannot hold become their repr)."""
    return json.loads(json.dumps(value, default=repr))


def _auth_routes(
    name: str,
    *,
    success_redirect: str | None,
    failure_redirect: str | None,
    start_options: Mapping[str, Any],
    callback_options: Mapping[str, Any],
) -> list[BaseRoute]:
    async def outcome(request: Request) -> Response:
        # Reached only when the strategy did not answer (no redirect configured): show the
        # user and the auth info so tests can read them.
        auth = request.scope.get("auth")
        return JSONResponse(
            {
                "user": _json(request.scope.get("user")) if is_authenticated(request) else None,
                "info": _json(getattr(auth, "info", None)),
            }
        )

    start_opts = {"success_redirect": success_redirect, **start_options}
    callback_opts = {
        "success_redirect": success_redirect,
        "failure_redirect": failure_redirect,
        **callback_options,
    }
    start = authenticate(name, **{k: v for k, v in start_opts.items() if v is not None})
    finish = authenticate(name, **{k: v for k, v in callback_opts.items() if v is not None})
    return [
        Route(f"/auth/{name}", start(outcome), methods=["GET"]),
        Route(f"/auth/{name}/callback", finish(outcome), methods=["GET", "POST"]),
    ]


async def _me(request: Request) -> Response:
    user = request.scope.get("user") if is_authenticated(request) else None
    return JSONResponse({"user": _json(user)})


async def _session(request: Request) -> Response:
    session = request.scope.get("session")
    return JSONResponse(_json(dict(session)) if session is not None else None)


async def _home(request: Request) -> Response:
    return JSONResponse({"page": "home"})


def make_app(
    passport: Authenticator[Any],
    names: Iterable[str] | None = None,
    *,
    success_redirect: str | None = "/",
    failure_redirect: str | None = None,
    start_options: Mapping[str, Any] | None = None,
    callback_options: Mapping[str, Any] | None = None,
    sessions: bool = True,
    routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """A Starlette app serving `/auth/<name>` and `/auth/<name>/callback` for each of `names`
    (default: every strategy `passport` has), `/me`, `/session` and `/`.

    Both routes are `authenticate(name, success_redirect=..., failure_redirect=...)`;
    `start_options` / `callback_options` add options to one of them (`state={...}` on the
    start route, say). With `success_redirect=None` a successful callback answers JSON
    `{"user": ..., "info": ...}`. `sessions=False` leaves out the session middleware.
    """
    chosen = list(passport.strategies) if names is None else list(names)
    all_routes: list[BaseRoute] = [*routes]
    for name in chosen:
        all_routes.extend(
            _auth_routes(
                name,
                success_redirect=success_redirect,
                failure_redirect=failure_redirect,
                start_options=start_options or {},
                callback_options=callback_options or {},
            )
        )
    all_routes += [Route("/me", _me), Route("/session", _session), Route("/", _home)]
    middleware = []
    if sessions:
        middleware.append(Middleware(SessionMiddleware, secret_key=SECRET))
    middleware.append(Middleware(PassportMiddleware, passport=passport, login_url="/login"))
    return Starlette(routes=all_routes, middleware=middleware)


def make_client(app: Starlette, **kwargs: Any) -> TestClient:
    """A `TestClient` for `app` that does not follow redirects."""
    return TestClient(app, follow_redirects=False, **kwargs)


def app_client(*strategies: Any, **app_options: Any) -> TestClient:
    """A `make_client` for a `make_app` app (`app_options`) serving `strategies`."""
    return make_client(make_app(make_passport(*strategies), **app_options))


def client_for(*strategies: Any, **app_options: Any) -> TestClient:
    """`app_client`, failures keeping their message in the session (`failure_message=True`
    on the callback routes unless `callback_options` says otherwise)."""
    app_options.setdefault("callback_options", {"failure_message": True})
    return app_client(*strategies, **app_options)


# -- URLs and verify ------------------------------------------------------------------------


def query_params(url: str) -> dict[str, str]:
    """The query parameters of `url` (each name's last value)."""
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def query_names(url: str) -> list[str]:
    """The query parameter names of `url`, in order."""
    return [name for name, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True)]


def with_params(url: str, **changes: str | None) -> str:
    """`url` with query parameters replaced or added (None removes one), every name and
    value percent-encoded: an authorization response as an attacker would edit it."""
    params = {**query_params(url), **changes}
    kept = [(k, v) for k, v in params.items() if v is not None]
    return url.split("?", 1)[0] + "?" + urlencode(kept, quote_via=quote, safe="")


class Recorder:
    """A verify callable that records its arguments and returns `user` (or `result(*args)`)."""

    def __init__(self, user: Any = None, result: Callable[..., Any] | None = None) -> None:
        self.user = {"login": "ok"} if user is None else user
        self.result = result
        self.calls: list[tuple[Any, ...]] = []

    def __call__(self, *args: Any) -> Any:
        self.calls.append(args)
        return self.result(*args) if self.result is not None else self.user

    @property
    def tokens(self) -> Any:
        """The tokens of the last call (the argument before the profile)."""
        assert self.calls, "verify was not called"
        return self.calls[-1][-2]

    @property
    def profile(self) -> Any:
        """The profile of the last call."""
        assert self.calls, "verify was not called"
        return self.calls[-1][-1]


# -- the dance ------------------------------------------------------------------------------


@dataclass
class Dance:
    """Every step of one login: the app's redirect, the provider's hops, the callback."""

    start: httpx2.Response
    authorization_url: str
    callback_url: str
    callback_method: str
    callback_form: dict[str, str]
    response: httpx2.Response
    hops: list[httpx.Response] = field(default_factory=list)


class _FormReader(HTMLParser):
    """The first form of a `response_mode=form_post` page: its action and hidden fields."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self._done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = values.get("action", "")
        elif tag == "input" and self.action is not None and not self._done and "name" in values:
            self.fields[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._done = True


def _on_provider(url: str, provider_base: str | None) -> bool:
    if provider_base is not None:
        return url.startswith(provider_base.rstrip("/") + "/")
    return (urlsplit(url).hostname or "") in ("127.0.0.1", "localhost", "::1")


def follow_provider(
    url: str,
    *,
    provider_base: str | None = None,
    max_hops: int = 10,
    cookies: httpx.Cookies | None = None,
) -> tuple[str, str, dict[str, str], list[httpx.Response]]:
    """Follow `url` at the provider over real HTTP, one hop at a time, until it points back
    to the app; returns `(callback_url, method, form_fields, hops)`. A `form_post` page
    becomes a POST of its hidden fields to its action."""
    hops: list[httpx.Response] = []
    jar = cookies if cookies is not None else httpx.Cookies()
    with httpx.Client(follow_redirects=False, timeout=10.0, cookies=jar) as http:
        for _ in range(max_hops):
            response = http.get(url)
            hops.append(response)
            if response.is_redirect:
                url = urljoin(url, response.headers["location"])
                if not _on_provider(url, provider_base):
                    return url, "GET", {}, hops
                continue
            if response.status_code == 200 and "<form" in response.text.lower():
                form = _FormReader()
                form.feed(response.text)
                if form.action is not None:
                    action = urljoin(url, form.action)
                    if not _on_provider(action, provider_base):
                        return action, "POST", form.fields, hops
            raise AssertionError(
                f"the provider answered {response.status_code} at {url}: {response.text[:500]}"
            )
    raise AssertionError(f"more than {max_hops} hops at the provider")


def submit_form_post(client: TestClient, url: str, fields: Mapping[str, str]) -> httpx2.Response:
    """POST a `form_post` authorization response to the app, as the browser's form would."""
    return client.post(url, data=dict(fields))


def run_dance(
    client: TestClient,
    start_path: str,
    provider: Any = None,
    *,
    start_headers: Mapping[str, str] | None = None,
) -> Dance:
    """Start a login at `start_path`, authorize at the provider, deliver the callback.

    `provider` (an object with `.issuer`, or a base URL string, or None for "any loopback
    host") says which URLs belong to the provider.
    """
    base = provider if isinstance(provider, str) or provider is None else provider.issuer
    start = client.get(start_path, headers=dict(start_headers or {}))
    assert start.status_code in (302, 303), (start.status_code, start.text)
    authorization_url = start.headers["location"]
    callback_url, method, form, hops = follow_provider(authorization_url, provider_base=base)
    if method == "POST":
        response = submit_form_post(client, callback_url, form)
    else:
        response = client.get(callback_url)
    return Dance(start, authorization_url, callback_url, method, form, response, hops)


def start_login(client: TestClient, path: str = "/auth/oauth2", **kwargs: Any) -> str:
    """GET the start route `path`; the authorization URL it redirects to (asserts a 302)."""
    response = client.get(path, **kwargs)
    assert response.status_code == 302, (response.status_code, response.text)
    return str(response.headers["location"])


def session_of(client: TestClient) -> dict[str, Any]:
    """The client's session as the app's `/session` route shows it."""
    data = client.get("/session").json()
    assert isinstance(data, dict)
    return data


def pending_callback(client: TestClient, start_path: str, provider: Any = None) -> str:
    """Start a login and authorize it at the provider, but do not deliver the callback:
    the callback URL (with a live `code` and `state`), as an attacker would hold it."""
    base = provider if isinstance(provider, str) or provider is None else provider.issuer
    start = client.get(start_path)
    assert start.status_code in (302, 303), (start.status_code, start.text)
    url, method, _, _ = follow_provider(start.headers["location"], provider_base=base)
    assert method == "GET", "pending_callback supports query callbacks only"
    return url


def dance(
    client: TestClient,
    start_path: str,
    provider: Any = None,
    *,
    start_headers: Mapping[str, str] | None = None,
) -> httpx2.Response:
    """`run_dance(...)`'s callback response."""
    return run_dance(client, start_path, provider, start_headers=start_headers).response


def login_with(provider: Any, strategy: Any, **start_options: Any) -> httpx2.Response:
    """A whole login at `/auth/<strategy.name>` through an app serving `strategy` whose
    successful callback answers JSON (`success_redirect=None`): the callback's response.
    `provider` is what `run_dance` takes; `start_options` go to the start route."""
    client = app_client(strategy, success_redirect=None, start_options=start_options)
    return dance(client, f"/auth/{strategy.name}", provider)


def user_of(response: httpx2.Response) -> dict[str, Any]:
    """The user a `login_with` callback logged in (asserts its 200)."""
    assert response.status_code == 200, response.text
    user: dict[str, Any] = response.json()["user"]
    return user


def authorization_redirect(strategy: Any, **start_options: Any) -> str:
    """The authorization URL the start route of an app serving `strategy` redirects to."""
    client = app_client(strategy, start_options=start_options)
    return start_login(client, f"/auth/{strategy.name}")


# -- the bundled provider ---------------------------------------------------------------------


def default_user() -> Any:
    """The provider's user "alice" (the bundled provider's own alice, with a numeric sub)."""
    from passport_py.testing.oidc_provider import DEFAULT_USERS

    return dataclasses.replace(DEFAULT_USERS[0], sub="248289761001")


def provider(
    *,
    client_id: str = CLIENT_ID,
    client_secret: str | None = CLIENT_SECRET,
    redirect_uris: Sequence[str] = (),
    token_endpoint_auth_method: AuthMethod = "client_secret_basic",
    users: Sequence[Any] | None = None,
    **kwargs: Any,
) -> Any:
    """A started `OIDCProvider` on a loopback port with one client and (by default) alice;
    stop it with `.stop()` (or use it as a context manager)."""
    from passport_py.testing.oidc_provider import OIDCProvider, ProviderClient

    client = ProviderClient(
        client_id=client_id,
        client_secret=client_secret,
        redirect_uris=list(redirect_uris),
        token_endpoint_auth_method=token_endpoint_auth_method,
    )
    server = OIDCProvider(
        clients=[client],
        users=list(users) if users is not None else [default_user()],
        auto_approve=True,
        host="127.0.0.1",
        port=0,
        **kwargs,
    )
    return server.start()


def preset_options(callback_url: str, **options: Any) -> dict[str, Any]:
    """The options of a provider preset under test: the harness's client (`CLIENT_ID`,
    `CLIENT_SECRET`), transport and `callback_url`, then `options` over them."""
    return {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "callback_url": callback_url,
        "transport": oauth_transport(),
        **options,
    }


def oauth2_strategy(
    issuer: Any,
    verify: Callable[..., Any] | None = None,
    *,
    client_id: str = CLIENT_ID,
    client_secret: str | None = CLIENT_SECRET,
    **options: Any,
) -> OAuth2Strategy:
    """An `OAuth2Strategy` against `issuer` (a provider or its base URL) with the harness's
    transport. `verify` defaults to one that logs in `{"login": "ok", "profile": profile}`."""
    base = issuer if isinstance(issuer, str) else issuer.issuer
    options.setdefault("transport", oauth_transport())
    if verify is None:

        def verify(tokens: Any, profile: Any) -> UserDict:
            return {"login": "ok", "profile": profile}

    return OAuth2Strategy(
        verify,
        authorization_url=f"{base}/authorize",
        token_url=f"{base}/token",
        client_id=client_id,
        client_secret=client_secret,
        **options,
    )
