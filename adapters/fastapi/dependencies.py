"""The FastAPI dependencies: `authenticate`, `authorize`, `login_required`,
`fresh_login_required`, `current_user`.

Each runs what the Starlette decorator of the same name runs, but as a dependency: it returns
the user, and a failure raises `PassportHTTPException`, which FastAPI's default handler turns
into `{"detail": ...}` with the Starlette adapter's status and headers. Cookies and `Vary` go
through `PassportMiddleware`'s response extras, so they reach whatever response goes out.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AsyncExitStack
from typing import Any, NoReturn, overload

from fastapi import Request
from fastapi.exceptions import HTTPException
from fastapi.security import SecurityScopes
from starlette.datastructures import Headers

from passport_py.adapters.starlette._request import StarletteAuthRequest
from passport_py.adapters.starlette.middleware import passport_state
from passport_py.adapters.starlette.middleware import queue_response_extras as _queue
from passport_py.adapters.starlette.views import (
    anonymous_refusal,
    is_authenticated,
    record_success,
    stale_refusal,
)
from passport_py.authorization import format_challenge
from passport_py.decisions import (
    AuthResult,
    Proceed,
    Respond,
)
from passport_py.engine import StrategySpec
from passport_py.errors import ConfigurationError, reason_phrase
from passport_py.options import AuthenticateOptions
from passport_py.route_checks import RouteRequirement, declare, strategy_chain
from passport_py.step_up import StepUp
from passport_py.strategy import Strategy

__all__ = [
    "AuthDependency",
    "FreshLoginRequired",
    "PassportHTTPException",
    "authenticate",
    "authorize",
    "current_user",
    "fresh_login_required",
    "granted_scopes",
    "is_session_dependency",
    "login_required",
]

#: Where a request keeps what each dependency decided, so a second use runs nothing again.
_RESULTS_KEY = "passport.fastapi"


class PassportHTTPException(HTTPException):
    """An authentication failure (or redirect) as FastAPI's `HTTPException`.

    `headers` holds every header the Starlette adapter would send (several
    `WWW-Authenticate` values included); `result` is the authentication behind it when
    strategies ran and failed. Register `@app.exception_handler(PassportHTTPException)` to
    answer differently: that is where a Starlette `callback=` goes in a FastAPI app.
    """

    def __init__(
        self,
        status_code: int,
        detail: Any,
        headers: Sequence[tuple[str, str]] = (),
        result: AuthResult[Any] | None = None,
    ) -> None:
        # Headers, not a dict: it keeps repeated names, and FastAPI's handler copies `items()`.
        raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
        super().__init__(status_code, detail, Headers(raw=raw))
        self.result = result


def _raise(decision: Respond, request: Request) -> NoReturn:
    if decision.cookies:
        _queue(request.scope, decision.cookies)
    # The JSON response sets its own Content-Type.
    headers = [(n, v) for n, v in decision.headers if n.lower() != "content-type"]
    detail: Any = decision.body or reason_phrase(decision.status)
    if len(headers) < len(decision.headers) and _is_json(decision.headers):
        # A JSON body (a throttled login's) goes in as data, not as a JSON string in a string.
        detail = json.loads(detail)
    raise PassportHTTPException(decision.status, detail, headers, decision.result)


def _is_json(headers: Sequence[tuple[str, str]]) -> bool:
    kind = next((v for n, v in headers if n.lower() == "content-type"), "")
    return kind.split(";", 1)[0].strip().lower() == "application/json"


def granted_scopes(info: Any) -> frozenset[str]:
    """The scopes an auth info grants: its `scope` entry, a space-separated string (OAuth 2.0's
    form, as in a JWT's `scope` claim) or a list of strings; none when it has no such entry."""
    scope = info.get("scope") if isinstance(info, Mapping) else getattr(info, "scope", None)
    if isinstance(scope, str):
        return frozenset(scope.split())
    if isinstance(scope, Iterable):
        return frozenset(s for s in scope if isinstance(s, str))
    return frozenset()


def _insufficient_scope(required: Sequence[str], vary: Sequence[str]) -> PassportHTTPException:
    challenge = format_challenge(
        "Bearer", [("error", "insufficient_scope"), ("scope", " ".join(required))]
    )
    headers = [("Cache-Control", "no-store"), ("WWW-Authenticate", challenge)]
    if vary:
        headers.append(("Vary", ", ".join(vary)))
    return PassportHTTPException(403, reason_phrase(403), headers)


class AuthDependency:
    """What `authenticate(...)` and `authorize(...)` return: a FastAPI dependency.

    Called with the same strategies and options, `authenticate` returns the same object, so
    FastAPI's per-request dependency cache runs it once; with other scopes, the result this
    request already has is reused and only the scopes are checked.
    """

    def __init__(
        self, kind: str, strategy: StrategySpec, options: AuthenticateOptions, text: str
    ) -> None:
        self.kind = kind
        self.strategy = strategy
        self.options = options
        self._text = text
        chain = strategy_chain(strategy)
        #: The strategies, in order: the alternatives the OpenAPI document lists.
        self.chain: tuple[str | Strategy, ...] = chain
        # A login into the session needs the serializers; authorize logs nobody in.
        logs_in = options.session and kind == "authenticate"
        declare(self, RouteRequirement(kind, "", chain, logs_in))

    def __repr__(self) -> str:
        return self._text

    async def __call__(self, request: Request, security_scopes: SecurityScopes) -> Any:
        results = request.scope.get(_RESULTS_KEY)
        if results is None:
            results = request.scope[_RESULTS_KEY] = {}
        done = results.get(self)
        if done is None:
            done = results[self] = await self._run(request)
        user, info, vary = done
        required = security_scopes.scopes
        if required:
            granted = granted_scopes(info) if user is not None else frozenset()
            if not granted.issuperset(required):
                raise _insufficient_scope(required, vary)
        return user

    async def _run(self, request: Request) -> tuple[Any, Any, tuple[str, ...]]:
        state = passport_state(request)
        neutral = StarletteAuthRequest(request, state.max_body_size)
        passport = state.passport
        run = passport.authorize if self.kind == "authorize" else passport.authenticate
        decision = await run(neutral, self.strategy, self.options)
        _close_form_after(request)
        if isinstance(decision, Respond):
            _raise(decision, request)
        assert isinstance(decision, Proceed), "no callback, so never a Handoff"
        if decision.cookies or decision.vary:
            _queue(request.scope, decision.cookies, decision.vary)
        if not decision.authenticated:
            return None, None, decision.vary
        record_success(request, decision)
        return decision.user, decision.info, decision.vary


def _close_form_after(request: Request) -> None:
    """Close the uploads of a form the strategy parsed once the response has been sent.

    FastAPI closes only the forms its endpoints declare; its per-request exit stack (closed
    after the response) closes ours too.
    """
    stack = request.scope.get("fastapi_middleware_astack")
    if getattr(request, "_form", None) is not None and isinstance(stack, AsyncExitStack):
        stack.push_async_callback(request.close)


_interned: dict[Any, AuthDependency] = {}


def _dependency(kind: str, strategy: StrategySpec, options: dict[str, Any]) -> AuthDependency:
    if "callback" in options:
        raise ConfigurationError(
            f"{kind}(..., callback=...) is for the Starlette decorators: a FastAPI dependency "
            "raises PassportHTTPException when authentication fails; register "
            "@app.exception_handler(PassportHTTPException) to answer it your way"
        )
    chain = tuple(strategy) if isinstance(strategy, list | tuple) else strategy
    key: Any = (kind, chain, tuple(sorted(options.items())))
    try:
        found = _interned.get(key)
    except TypeError:  # an unhashable option (a flash mapping): no sharing, still correct
        key, found = None, None
    if found is not None:
        return found
    args = ", ".join([repr(chain), *(f"{k}={v!r}" for k, v in options.items())])
    made = AuthDependency(kind, chain, AuthenticateOptions.build(**options), f"{kind}({args})")
    if key is not None:
        _interned[key] = made
    return made


def authenticate(strategy: StrategySpec, **options: Any) -> AuthDependency:
    """A dependency that runs `strategy` (a name, a list of alternatives or an instance) and
    returns the user.

    Takes the options of the other adapters' `authenticate` (`session=`,
    `failure_redirect=`, `failure_flash=`, `assign_property=`, ...; not `callback=`). A
    failure raises `PassportHTTPException`. With `Security(authenticate(...),
    scopes=[...])`, a user whose auth info does not grant every scope gets a 403
    `insufficient_scope` (see `granted_scopes`). Returns None only when every strategy passed
    (an `anonymous` at the end of the chain) and no scope is required.
    """
    return _dependency("authenticate", strategy, options)


def authorize(strategy: StrategySpec, **options: Any) -> AuthDependency:
    """Like `authenticate`, but returns the account: it goes to `request.state.account` and the
    logged-in user, if any, is left as they are."""
    return _dependency("authorize", strategy, options)


async def login_required(request: Request) -> Any:
    """A dependency returning the logged-in user.

    Anonymous browsers (an `Accept` naming text/html, no `Authorization` header) are
    redirected to the login page with `?next=<this path>`, also saved in the session as the
    return-to URL; API clients get a 401. The login page is `PassportMiddleware`'s
    `login_url`.
    """
    return _logged_in_user(request)


def _logged_in_user(request: Request) -> Any:
    if is_authenticated(request):
        passport_state(request)  # a missing middleware is a configuration error
        return request.scope["user"]
    _raise(anonymous_refusal(request), request)


def _fresh_user(request: Request, step_up: StepUp) -> Any:
    user = _logged_in_user(request)
    refusal = stale_refusal(request, step_up)
    if refusal is not None:
        _raise(refusal, request)
    return user


class FreshLoginRequired:
    """What `fresh_login_required(max_age=..., factors=...)` returns: a dependency returning
    the logged-in user when their login passes `step_up` (see `fresh_login_required`)."""

    def __init__(self, step_up: StepUp) -> None:
        self.step_up = step_up
        declare(self, RouteRequirement("fresh_login_required", "", (), True))

    def __repr__(self) -> str:
        up = self.step_up
        return (
            f"fresh_login_required(max_age={up.max_age!r}, factors={list(up.factors)!r}, "
            f"reauth_url={up.reauth_url!r})"
        )

    async def __call__(self, request: Request) -> Any:
        return _fresh_user(request, self.step_up)


_fresh_interned: dict[StepUp, FreshLoginRequired] = {}
_ANY_FRESH_LOGIN = StepUp()


@overload
def fresh_login_required(request: Request) -> Any: ...
@overload
def fresh_login_required(
    *,
    max_age: int | None = None,
    factors: Sequence[str] | None = None,
    reauth_url: str | None = None,
) -> FreshLoginRequired: ...
def fresh_login_required(
    request: Request | None = None,
    *,
    max_age: int | None = None,
    factors: Sequence[str] | None = None,
    reauth_url: str | None = None,
) -> Any:
    """`login_required` for sensitive operations, as a dependency returning the user.

    `Depends(fresh_login_required)` refuses a remembered (not fresh) login;
    `Depends(fresh_login_required(max_age=300, factors=["otp"]))` also one proved more than
    `max_age` seconds ago, or without every method in `factors`. Anonymous requests are
    refused as by `login_required`; a stale login sends browsers to the re-authentication
    page (`reauth_url`, else the Authenticator's, else the login page) with a safe `next`,
    and raises a 401 whose detail is `{"error": "reauthentication_required", "max_age": N}`
    (plus `"factors"`) for API clients.
    """
    if request is not None:  # FastAPI calling the bare form
        return _fresh_user(request, _ANY_FRESH_LOGIN)
    step_up = StepUp.build(max_age, factors, reauth_url)
    found = _fresh_interned.get(step_up)
    if found is None:
        found = _fresh_interned[step_up] = FreshLoginRequired(step_up)
    return found


# FastAPI reads this signature: it passes the request in, and nothing else is a parameter.
fresh_login_required.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)]
)


def is_session_dependency(call: Any) -> bool:
    """True for our dependencies that read the login session (`login_required`,
    `fresh_login_required` in either form, `current_user`)."""
    return (
        call is login_required
        or call is current_user
        or call is fresh_login_required
        or isinstance(call, FreshLoginRequired)
    )


async def current_user(request: Request) -> Any:
    """A dependency returning the logged-in user (or the one an `authenticate` dependency that
    ran before set), or None."""
    passport_state(request)  # a missing middleware is a configuration error, not "nobody"
    return request.scope["user"] if is_authenticated(request) else None


declare(login_required, RouteRequirement("login_required", "", (), True))
declare(fresh_login_required, RouteRequirement("fresh_login_required", "", (), True))
