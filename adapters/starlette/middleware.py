"""`PassportMiddleware`: restores the logged-in user from the session once per request."""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Sequence
from typing import Any

from starlette.authentication import AuthCredentials, UnauthenticatedUser
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from passport_py.adapters.starlette._checks import (
    ON_CHECKED,
    misorder_problem,
    route_requirements,
)
from passport_py.adapters.starlette._request import StarletteAuthRequest
from passport_py.authenticator import Authenticator
from passport_py.cookies import Cookie
from passport_py.engine import StrategySpec
from passport_py.errors import ConfigurationError, SessionRequiredError
from passport_py.route_checks import RouteRequirement, requirement_problems, strategy_chain
from passport_py.strategy import Strategy

__all__ = ["PassportCredentials", "PassportMiddleware"]

STATE_KEY = "passport"
TOUCHED_KEY = "passport.session_used"
PENDING_KEY = "passport.pending"


class _SharedAnonymous(UnauthenticatedUser):
    """Starlette's `UnauthenticatedUser`, one instance for every anonymous request, so it is
    read-only: an attribute one request set would otherwise show up in every other."""

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            "request.user is the shared anonymous user and cannot be changed; "
            "keep per-request data in request.state"
        )


ANONYMOUS = _SharedAnonymous()


class PassportCredentials(AuthCredentials):
    """`request.auth`: Starlette's credentials plus the strategy's auth `info`."""

    def __init__(self, scopes: Sequence[str] | None = None, info: Any = None) -> None:
        super().__init__(scopes)
        self.info = info


def _shared_credentials(*scopes: str) -> PassportCredentials:
    # Shared by many requests, so its scopes must not be appendable.
    credentials = PassportCredentials()
    credentials.scopes = scopes  # type: ignore[assignment]
    return credentials


NO_CREDENTIALS = _shared_credentials()
_SESSION_CREDENTIALS = _shared_credentials("authenticated")


class PassportState:
    """The middleware's configuration, reachable from every request as `scope["passport"]`."""

    __slots__ = ("login_url", "max_body_size", "passport")

    def __init__(self, passport: Authenticator[Any], login_url: str, max_body_size: int) -> None:
        self.passport = passport
        self.login_url = login_url
        self.max_body_size = max_body_size


def passport_state(conn: HTTPConnection) -> PassportState:
    """The installed middleware's configuration, or an error saying how to install it."""
    state = conn.scope.get(STATE_KEY)
    if not isinstance(state, PassportState):
        raise ConfigurationError(
            "PassportMiddleware is not installed: add "
            "Middleware(PassportMiddleware, passport=passport) after the session middleware"
        )
    return state


class PassportMiddleware:
    """Restores the logged-in user from the session once per request (pure ASGI).

    Sets `scope["user"]` and `scope["auth"]`. Before it serves, it checks its place in the
    stack (inside the session middleware) and the strategy names and serializers the routes'
    decorators need: a problem fails the app's startup (lifespan) with a `ConfigurationError`
    saying how to fix it, or, run without lifespan, every request until fixed.

    With `cache_headers=True` (the default), a response to a request whose session held a
    user, or that logged in or out, gets `Cache-Control: no-store` unless the app set its own,
    and `Vary: Cookie` (Starlette's session middleware adds it only when the session was
    written, unless told it was read).
    """

    def __init__(
        self,
        app: ASGIApp,
        passport: Authenticator[Any],
        login_url: str = "/login",
        *,
        cache_headers: bool = True,
        max_body_size: int = 1024 * 1024,
        restore_with: StrategySpec = (),
    ) -> None:
        self.app = app
        #: True once the checks passed; until then each lifespan startup or request runs them.
        self._checked = False
        if not isinstance(passport, Authenticator):
            # Not raised here: Starlette builds its middleware at the first ASGI call, and
            # an error then would stop uvicorn's lifespan instead of failing its startup.
            self._bad_argument: ConfigurationError | None = ConfigurationError(
                f"PassportMiddleware needs passport=<your Authenticator instance>, got {passport!r}"
            )
            return
        self._bad_argument = None
        self.passport = passport
        self.cache_headers = cache_headers
        self.state = PassportState(passport, login_url, max_body_size)
        self._sessions = passport.sessions
        # Empty means no recall at all: the per-request path then costs one falsy check.
        self.restore_with: StrategySpec = (
            restore_with if isinstance(restore_with, str | Strategy) else tuple(restore_with)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            if kind == "lifespan" and not self._checked:
                send = self._checking_startup(scope, send)
            await self.app(scope, receive, send)
            return
        if not self._checked:
            self._check(scope.get("app"))
        scope[STATE_KEY] = self.state
        scope["user"] = ANONYMOUS
        scope["auth"] = NO_CREDENTIALS
        session = scope.get("session")
        if session:
            present, serialized = self._sessions.stored_user(session)
            if present:
                scope[TOUCHED_KEY] = True
                max_body_size = self.state.max_body_size
                # The core checks the login's timeouts and auth hash, then loads the user.
                user = await self.passport.restore_session(
                    session,
                    serialized,
                    lambda: StarletteAuthRequest(Request(scope, receive), max_body_size),
                )
                if user is not None:
                    scope["user"] = user
                    scope["auth"] = _SESSION_CREDENTIALS
        if kind == "http":
            if self.restore_with and scope["user"] is ANONYMOUS:
                await self._recall(scope, receive)
            # The wrapper puts the cookies and Vary of login, logout, recall and authenticate
            # on the response; without cache headers it does only that.
            send = _private_send(scope, send) if self.cache_headers else _pending_send(scope, send)
        await self.app(scope, receive, send)

    def _check(self, app: Any = None) -> None:
        """Raise `ConfigurationError` listing every problem found (see the class docstring);
        `app` is the Starlette app, where the routes are not at the end of the inner chain."""
        if self._bad_argument is not None:
            raise self._bad_argument
        misordered = misorder_problem(self.app)
        needs = route_requirements(self.app, app)
        if self.restore_with:
            chain = strategy_chain(self.restore_with)
            needs.append(RouteRequirement("restore_with", "PassportMiddleware", chain))
        problems = [misordered] if misordered else []
        problems += requirement_problems(self.passport, needs)
        if problems:
            raise ConfigurationError("; ".join(problems))
        for hook in ON_CHECKED:
            hook(app, self.passport)
        self._checked = True

    def _checking_startup(self, scope: Scope, send: Send) -> Send:
        """`send` for the lifespan: runs the checks once the app's own startup is done (its
        lifespan may register strategies), and turns a problem into `startup.failed`."""
        failed = False

        async def send_wrapper(message: Message) -> None:
            nonlocal failed
            if message["type"] == "lifespan.startup.complete":
                try:
                    self._check(scope.get("app"))
                except ConfigurationError as error:
                    failed = True
                    # The server stops with this message (uvicorn exits, TestClient raises).
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    raise
            elif failed and message["type"] == "lifespan.startup.failed":
                return  # the router reporting our error again, with a traceback
            await send(message)

        return send_wrapper

    async def _recall(self, scope: Scope, receive: Receive) -> None:
        """Run `restore_with` (remember-me) for a request whose session holds no login.

        Only on http: a websocket handshake cannot carry a rotated cookie back, and a rotation
        the browser never receives would look like a stolen cookie on its next visit.
        """
        if scope.get("session") is None:
            raise SessionRequiredError(
                "restore_with= logs users into the session: add SessionMiddleware before "
                "PassportMiddleware",
                for_login=False,
            )
        request = StarletteAuthRequest(Request(scope, receive), self.state.max_body_size)
        user, cookies = await self.passport.recall(request, self.restore_with)
        if cookies:
            queue_response_extras(scope, cookies)
        if user is not None:
            scope["user"] = user
            scope["auth"] = _SESSION_CREDENTIALS
        if user is not None or cookies:
            # The answer now depends on the cookie it came with: never stored by a cache.
            scope[TOUCHED_KEY] = True


class _Pending:
    """Cookies and `Vary` names waiting for the response (login, logout, recall, Proceed)."""

    __slots__ = ("cookies", "vary")

    def __init__(self) -> None:
        self.cookies: list[Cookie] = []
        self.vary: list[str] = []


def queue_response_extras(
    scope: Scope, cookies: Iterable[Cookie] = (), vary: Iterable[str] = ()
) -> None:
    """Have the middleware's send wrapper put `cookies` and `vary` on this request's response.

    Whatever response goes out gets them, including one an exception handler builds, so a
    rotated remember-me cookie is never lost to an error page.
    """
    pending = scope.get(PENDING_KEY)
    if pending is None:
        pending = scope[PENDING_KEY] = _Pending()
    pending.cookies.extend(cookies)
    known = {name.lower() for name in pending.vary}
    for name in vary:
        if name.lower() not in known:
            known.add(name.lower())
            pending.vary.append(name)


def _private_send(scope: Scope, send: Send) -> Send:
    # A plain function handing back `send`'s awaitable: no extra coroutine per message.
    def send_wrapper(message: Message) -> Awaitable[None]:
        if message["type"] == "http.response.start":
            if PENDING_KEY in scope:
                message = _with_pending(scope, message)
            if scope.get(TOUCHED_KEY):
                # Inline: this runs on every logged-in request.
                raw = message.get("headers") or ()
                has_cache_control = has_vary = False
                for name, _ in raw:  # ASGI header names are lower-case bytes
                    if name == b"cache-control":
                        has_cache_control = True
                    elif name == b"vary":
                        has_vary = True
                headers = list(raw)
                if not has_cache_control:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
                session = scope.get("session")
                if not has_vary and getattr(session, "accessed", None) is False:
                    # Starlette's session, unread by the app: add the `Vary: Cookie` its
                    # middleware would add if marked accessed (its MutableHeaders path costs µs).
                    headers.append((b"vary", b"Cookie"))
                else:
                    mark_accessed = getattr(session, "mark_accessed", None)
                    if callable(mark_accessed):
                        mark_accessed()  # Starlette's SessionMiddleware then adds `Vary: Cookie`
                    else:
                        mutable = MutableHeaders(scope=message)
                        if "cookie" not in mutable.get("vary", "").lower():
                            mutable.add_vary_header("Cookie")
        return send(message)

    return send_wrapper


def _pending_send(scope: Scope, send: Send) -> Send:
    # `cache_headers=False`: only the pending cookies and Vary, never the session's headers.
    def send_wrapper(message: Message) -> Awaitable[None]:
        if message["type"] == "http.response.start" and PENDING_KEY in scope:
            message = _with_pending(scope, message)
        return send(message)

    return send_wrapper


def _with_pending(scope: Scope, message: Message) -> Message:
    """The response start with the pending cookies and `Vary` names (and `Cache-Control:
    no-store` with those names, unless the app set its own)."""
    # Popped, so a second PassportMiddleware around a mounted app adds nothing twice.
    pending: _Pending = scope.pop(PENDING_KEY)
    headers = list(message.get("headers") or ())
    if pending.vary:
        has_cache_control = False
        vary_at: int | None = None
        varies: set[str] = set()
        for index, (name, value) in enumerate(headers):
            if name == b"cache-control":
                has_cache_control = True
            elif name == b"vary":
                vary_at = index if vary_at is None else vary_at
                varies.update(v.strip().lower() for v in value.decode("latin-1").split(","))
        added = [n for n in pending.vary if n.lower() not in varies]
        if added and "*" not in varies:
            extra = ", ".join(added).encode("latin-1")
            if vary_at is None:
                headers.append((b"vary", extra))
            else:  # merged into the first: Starlette's add_vary_header reads only that one
                headers[vary_at] = (b"vary", headers[vary_at][1] + b", " + extra)
        if not has_cache_control:
            headers.append((b"cache-control", b"no-store"))
    headers.extend(
        (b"set-cookie", cookie.header_value().encode("latin-1")) for cookie in pending.cookies
    )
    return {**message, "headers": headers}
