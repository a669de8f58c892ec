"""A harness for OAuth 2.0 / OpenID Connect tests: a real Starlette app around a strategy, the
whole dance over real HTTP, a bundled provider to dance with, and a scripted HTTP server.

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
- `provider(...)` starts the bundled `passport_py.testing.oidc_provider` with one client and
  one user; `oauth2_strategy(provider, ...)` builds an `OAuth2Strategy` against it.
- `ScriptedServer` answers each path with a canned (or slow) response, for hostile endpoints.

No pytest in here: test modules define the fixtures they need with these functions.
"""

from __future__ import annotations

import importlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urljoin, urlsplit

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
    "ScriptedServer",
    "callback_url_for",
    "dance",
    "default_user",
    "follow_provider",
    "make_app",
    "make_client",
    "make_passport",
    "oauth2_strategy",
    "oauth_transport",
    "pending_callback",
    "provider",
    "query_names",
    "query_params",
    "run_dance",
    "session_of",
    "start_login",
    "submit_form_post",
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


# -- URLs and verify ------------------------------------------------------------------------


def query_params(url: str) -> dict[str, str]:
    """The query parameters of `url` (each name's last value)."""
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def query_names(url: str) -> list[str]:
    """The query parameter names of `url`, in order."""
    return [name for name, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True)]


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


# -- the bundled provider ---------------------------------------------------------------------


def default_user() -> Any:
    """The provider's user "alice"."""
    from passport_py.testing.oidc_provider import ProviderUser

    return ProviderUser(
        sub="248289761001",
        username="alice",
        name="Alice Example",
        email="alice@example.test",
        email_verified=True,
        picture="https://example.test/alice.png",
    )


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


# -- a scripted HTTP server -----------------------------------------------------------------


Answer = tuple[int, str, bytes, tuple[tuple[str, str], ...]]


class ScriptedServer:
    """A threaded HTTP server on a loopback port answering each path with a set answer.

    `answer(path, status, content_type, body, headers=...)` sets what `path` answers;
    `delays[path] = seconds` before answering;
    `requests` records `(method, path, headers, body)` of every request. Use as a context
    manager, or `start()` / `stop()`.
    """

    def __init__(self) -> None:
        self.answers: dict[str, Answer] = {}
        self.delays: dict[str, float] = {}
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                with server._lock:
                    server.requests.append((self.command, path, dict(self.headers), body))
                    answer = server.answers.get(path, (404, "text/plain", b"not found", ()))
                    delay = server.delays.get(path, 0.0)
                if delay:
                    time.sleep(delay)
                status, content_type, payload, headers = answer
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    for name, value in headers:
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            do_GET = _answer
            do_POST = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base(self) -> str:
        """`http://127.0.0.1:<port>`."""
        return f"http://127.0.0.1:{self._server.server_port}"

    def answer(
        self,
        path: str,
        status: int,
        content_type: str,
        body: bytes | str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer `path` with `status`, `content_type`, `body` (and `headers`) from now on."""
        payload = body.encode("utf-8") if isinstance(body, str) else body
        with self._lock:
            self.answers[path] = (status, content_type, payload, tuple((headers or {}).items()))

    def last_request(self, path: str) -> tuple[dict[str, str], dict[str, list[str]]]:
        """The headers (lower-cased names) and the form-decoded body of the last request
        to `path`."""
        with self._lock:
            found = [r for r in self.requests if r[1] == path]
        assert found, f"no request reached {path}"
        _, _, headers, body = found[-1]
        return {k.lower(): v for k, v in headers.items()}, parse_qs(
            body.decode("utf-8"), keep_blank_values=True
        )

    def answer_json(self, path: str, document: Any, status: int = 200) -> None:
        """Answer `path` with `document` as JSON."""
        self.answer(path, status, "application/json", json.dumps(document))

    def calls(self, path: str) -> int:
        """How many requests reached `path`."""
        with self._lock:
            return sum(1 for _, p, _, _ in self.requests if p == path)

    def reset(self) -> None:
        """Forget answers, delays and recorded requests."""
        with self._lock:
            self.answers.clear()
            self.delays.clear()
            self.requests.clear()

    def start(self) -> ScriptedServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
