"""`OIDCProvider`: the provider's lifecycle on a loopback port, and what tests ask of it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Self

from joserfc.jwk import KeySetSerialization
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from passport_py.testing.oidc_provider._app import create_app
from passport_py.testing.oidc_provider._keys import KeyRing
from passport_py.testing.oidc_provider._models import (
    Faults,
    ProviderClient,
    ProviderUser,
    Signing,
    Store,
)
from passport_py.testing.oidc_provider._server import SCOPES, Context

__all__ = ["DEFAULT_USERS", "OIDCProvider"]

DEFAULT_USERS = (
    ProviderUser(
        sub="u-alice",
        username="alice",
        name="Alice Example",
        email="alice@example.test",
        email_verified=True,
        picture="https://example.test/alice.png",
    ),
    ProviderUser(
        sub="u-bob",
        username="bob",
        name="Bob Example",
        email="bob@example.test",
        email_verified=False,
    ),
)
"""The provider's users unless given others: alice (e-mail verified) and bob (not verified)."""

_StartResponse = Callable[..., Any]


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request (errors are still logged)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class OIDCProvider:
    """A small OpenID provider for tests and the demo, served on a loopback port.

    `users=None` gives alice and bob (`DEFAULT_USERS`). `auto_approve=True` answers
    /authorize at once for the user named by `login_hint` (username or email), else the
    first user; `False` shows a page to pick a user and Approve or Deny. `port=0` takes an
    unused port. `scopes` are the scopes the provider accepts (others are `invalid_scope`).
    Codes live `code_lifetime` seconds, access tokens `access_token_lifetime`; these and
    `auto_approve` can be changed while it runs.
    """

    def __init__(
        self,
        clients: Iterable[ProviderClient] = (),
        users: Iterable[ProviderUser] | None = None,
        *,
        auto_approve: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        scopes: Iterable[str] = SCOPES,
        code_lifetime: float = 60.0,
        access_token_lifetime: int = 3600,
    ) -> None:
        store = Store()
        for client in clients:
            store.add_client(client)
        for user in DEFAULT_USERS if users is None else users:
            store.add_user(user)
        self._ctx = Context(store=store, keys=KeyRing(), faults=Faults(), scopes=tuple(scopes))
        self._ctx.auto_approve = auto_approve
        self._ctx.code_lifetime = code_lifetime
        self._ctx.access_token_lifetime = access_token_lifetime
        self._host = host
        self._port = port
        self._lock = threading.Lock()
        self._requests: list[tuple[str, str]] = []
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        """Serve in a background thread; returns the provider."""
        if self._server is not None:
            raise RuntimeError("this OIDCProvider is already started")
        app = create_app(self._ctx)
        inner = app.wsgi_app

        def recording(environ: dict[str, Any], start_response: _StartResponse) -> Iterable[bytes]:
            with self._lock:
                self._requests.append((environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")))
            return inner(environ, start_response)

        app.wsgi_app = recording  # type: ignore[method-assign]
        server = make_server(
            self._host, self._port, app, threaded=True, request_handler=_QuietHandler
        )
        host = f"[{self._host}]" if ":" in self._host else self._host
        self._ctx.issuer = f"http://{host}:{server.server_port}"
        self._ctx.stopping.clear()
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"oidc-provider-{server.server_port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the port (a no-op when not started)."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._ctx.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join()
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self if self._server is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- where it is -------------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        """`http://<host>:<port>`, no trailing slash."""
        if not self._ctx.issuer:
            raise RuntimeError("the provider has no issuer URL until it is started: call start()")
        return self._ctx.issuer

    @property
    def port(self) -> int:
        """The port it serves on."""
        return int(self.issuer.rsplit(":", 1)[1])

    def url(self, path: str = "/") -> str:
        """`path` on the provider: `provider.url("/token")`."""
        return self.issuer + "/" + path.lstrip("/")

    # -- what it knows -----------------------------------------------------------------------

    @property
    def auto_approve(self) -> bool:
        """Whether /authorize answers at once; settable while running."""
        return self._ctx.auto_approve

    @auto_approve.setter
    def auto_approve(self, value: bool) -> None:
        self._ctx.auto_approve = value

    @property
    def code_lifetime(self) -> float:
        """Seconds an authorization code stays usable (60); settable while running."""
        return self._ctx.code_lifetime

    @code_lifetime.setter
    def code_lifetime(self, value: float) -> None:
        self._ctx.code_lifetime = value

    @property
    def access_token_lifetime(self) -> int:
        """Seconds an access token lives (3600, its `expires_in`); settable while running."""
        return self._ctx.access_token_lifetime

    @access_token_lifetime.setter
    def access_token_lifetime(self, value: int) -> None:
        self._ctx.access_token_lifetime = value

    @property
    def clients(self) -> dict[str, ProviderClient]:
        """The registered clients by id (a copy)."""
        with self._ctx.store.lock:
            return {cid: c.registered for cid, c in self._ctx.store.clients.items()}

    @property
    def users(self) -> list[ProviderUser]:
        """The users who can log in (a copy)."""
        with self._ctx.store.lock:
            return list(self._ctx.store.users)

    def add_client(self, client: ProviderClient | None = None, /, **fields: Any) -> ProviderClient:
        """Register a client (a `ProviderClient`, or its fields); replaces one with its id."""
        client = client or ProviderClient(**fields)
        self._ctx.store.add_client(client)
        return client

    def add_user(self, user: ProviderUser | None = None, /, **fields: Any) -> ProviderUser:
        """Add a user (a `ProviderUser`, or its fields); replaces one with its sub."""
        user = user or ProviderUser(**fields)
        self._ctx.store.add_user(user)
        return user

    # -- what it received --------------------------------------------------------------------

    @property
    def requests(self) -> list[tuple[str, str]]:
        """`(method, path)` of every HTTP request received so far (a copy)."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        """Forget the requests received so far."""
        with self._lock:
            self._requests.clear()

    # -- faults and keys ---------------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        """What the provider does wrong on purpose; set attributes before a request."""
        return self._ctx.faults

    def reset_faults(self) -> None:
        """An honest provider again."""
        self._ctx.faults.reset()

    def rotate_keys(self) -> str:
        """Sign with a new key from now on (returns its kid); the JWKS keeps the old ones."""
        return self._ctx.keys.rotate()

    def jwks(self) -> KeySetSerialization:
        """The public JWK Set /jwks serves."""
        return self._ctx.keys.jwks()

    def issue_id_token(
        self,
        claims: Mapping[str, Any],
        *,
        signing: Signing = "provider",
        header: Mapping[str, Any] | None = None,
        hmac_secret: str | None = None,
    ) -> str:
        """Sign exactly `claims` (nothing is added) as the provider, or as `signing` fakes.

        `hs256` uses `hmac_secret`, by default the secret of the client named by the
        claims' `azp` or `aud`.
        """
        if signing == "hs256" and hmac_secret is None:
            hmac_secret = self._client_secret(claims)
        return self._ctx.keys.sign(claims, signing=signing, header=header, hmac_secret=hmac_secret)

    def _client_secret(self, claims: Mapping[str, Any]) -> str | None:
        audience = claims.get("aud")
        candidates = [claims.get("azp"), *(audience if isinstance(audience, list) else [audience])]
        for client_id in candidates:
            client = self._ctx.store.clients.get(str(client_id))
            if client is not None and client.registered.client_secret:
                return client.registered.client_secret
        return None

    def __repr__(self) -> str:
        where = self._ctx.issuer or "not started"
        return f"OIDCProvider({where})"
