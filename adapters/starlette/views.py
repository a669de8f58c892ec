"""The words every adapter gives, for Starlette: `authenticate`, `authorize`, `login`,
`logout`, `login_required`, `is_authenticated`, and `pop_flashes` for templates."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias, TypeVar, overload

from starlette.authentication import UnauthenticatedUser
from starlette.background import BackgroundTasks
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from passport_py._async import is_async_callable, maybe_await
from passport_py.adapters._web import (
    check_remember,
    login_redirect_url,
    return_to_target,
    wants_login_page,
)
from passport_py.adapters.starlette._request import StarletteAuthRequest
from passport_py.adapters.starlette.middleware import (
    ANONYMOUS,
    NO_CREDENTIALS,
    TOUCHED_KEY,
    PassportCredentials,
    passport_state,
    queue_response_extras,
)
from passport_py.decisions import (
    AuthResult,
    Decision,
    Handoff,
    Proceed,
    Respond,
    redirect_response,
    status_response,
)
from passport_py.engine import StrategySpec
from passport_py.errors import ConfigurationError
from passport_py.options import AuthenticateOptions
from passport_py.request import pop_session_flashes
from passport_py.route_checks import declare, requirement
from passport_py.sessions import ServerSession, destroy_user_sessions

__all__ = [
    "authenticate",
    "authorize",
    "is_authenticated",
    "login",
    "login_required",
    "logout",
    "logout_everywhere",
    "pop_flashes",
]

Endpoint: TypeAlias = Callable[[Request], Awaitable[Response] | Response]
Callback: TypeAlias = Callable[[Request, AuthResult[Any]], Awaitable[Response] | Response]
E = TypeVar("E", bound=Endpoint)


def is_authenticated(conn: HTTPConnection) -> bool:
    """True when a user is logged in on this request (or set by an authenticate decorator)."""
    user = conn.scope.get("user")
    return user is not None and not isinstance(user, UnauthenticatedUser)


async def login(
    request: Request,
    user: Any,
    *,
    session: bool = True,
    keep_session_info: bool = False,
    info: Any = None,
    fresh: bool = True,
    remember: bool = False,
) -> None:
    """Log `user` in: regenerate the session and store the user (unless `session=False`).

    `fresh=False` marks a login restored without credentials (remember-me). `remember=True`
    also sets the remember-me cookie (needs a registered `RememberMeStrategy`); the response
    this request ends with carries it.
    """
    state = passport_state(request)
    check_remember(session, remember)
    if session:
        neutral = StarletteAuthRequest(request, state.max_body_size)
        cookies = await state.passport.login(
            neutral, user, keep_session_info=keep_session_info, fresh=fresh, remember=remember
        )
        request.scope[TOUCHED_KEY] = True
        if cookies:
            queue_response_extras(request.scope, cookies)
    _set_user(request, user, info)


async def logout(request: Request, *, keep_session_info: bool = False) -> None:
    """Log the user out: remove them from the session and regenerate it.

    Cookies the strategies drop on logout (remember-me's) go on the response this request
    ends with.
    """
    state = passport_state(request)
    request.scope["user"] = ANONYMOUS
    request.scope["auth"] = NO_CREDENTIALS
    cookies = await state.passport.logout(
        StarletteAuthRequest(request, state.max_body_size), keep_session_info=keep_session_info
    )
    request.scope[TOUCHED_KEY] = True
    if cookies:
        queue_response_extras(request.scope, cookies)


async def logout_everywhere(request: Request, *, keep_session_info: bool = False) -> int:
    """Log the current user out of every session they have (every browser and device), this
    one included; returns how many sessions ended. Needs `passport_py.sessions`'
    `SessionMiddleware`: only a server-side store knows a user's other sessions.
    """
    state = passport_state(request)
    session = request.scope.get("session")
    if not isinstance(session, ServerSession) or session.store is None:
        raise ConfigurationError(
            "logout_everywhere needs server-side sessions: use "
            "passport_py.sessions.SessionMiddleware instead of Starlette's SessionMiddleware"
        )
    present, serialized = state.passport.sessions.stored_user(session)
    ended = await destroy_user_sessions(session.store, serialized) if present else 0
    await logout(request, keep_session_info=keep_session_info)
    return ended


def pop_flashes(request: Request) -> list[tuple[str, str]]:
    """Take the pending flash messages `[(category, message), ...]` out of the session."""
    session = request.scope.get("session")
    return pop_session_flashes(session if isinstance(session, dict) else None)


def _set_user(request: Request, user: Any, info: Any) -> None:
    scopes = ["authenticated"]
    if isinstance(info, dict) and isinstance(info.get("scope"), str):
        scopes.extend(info["scope"].split())
    request.scope["user"] = user
    request.scope["auth"] = PassportCredentials(scopes, info)


# -- decorators ---------------------------------------------------------------------------


def _respond(decision: Respond) -> Response:
    response = Response(decision.body, decision.status)
    for name, value in decision.headers:
        response.headers.append(name, value)
    for cookie in decision.cookies:
        response.raw_headers.append((b"set-cookie", cookie.header_value().encode("latin-1")))
    return response


async def _call_endpoint(endpoint: Endpoint, request: Request) -> Response:
    if is_async_callable(endpoint):
        return await endpoint(request)  # type: ignore[no-any-return, misc]
    return await run_in_threadpool(endpoint, request)  # type: ignore[arg-type]


async def _apply(
    decision: Decision, request: Request, endpoint: Endpoint, callback: Callback | None
) -> Response:
    if isinstance(decision, Respond):
        return _respond(decision)
    if decision.cookies or decision.vary:
        # Through the middleware's send wrapper, so they reach whatever response goes out.
        queue_response_extras(request.scope, decision.cookies, decision.vary)
    if type(decision) is Handoff:
        assert callback is not None
        return await maybe_await(callback(request, decision.result))
    assert type(decision) is Proceed
    if decision.authenticated:
        if decision.assign_property:
            setattr(request.state, decision.assign_property, decision.user)
            request.scope[decision.assign_property] = decision.user
            request.state.auth_info = decision.info
        else:
            if decision.logged_in:
                request.scope[TOUCHED_KEY] = True
            _set_user(request, decision.user, decision.info)
    return await _call_endpoint(endpoint, request)


def authenticate(
    strategy: StrategySpec,
    *,
    callback: Callback | None = None,
    **options: Any,
) -> Callable[[Endpoint], Callable[[Request], Awaitable[Response]]]:
    """Decorate an endpoint so `strategy` (a name, a list of names or an instance) runs first.

    Takes the authenticate options (`failure_redirect=`, `session=`, ...). With
    `callback=fn`, `fn(request, result)` decides the response and nothing is logged in.
    """
    opts = AuthenticateOptions.build(**options)
    return _decorator(strategy, opts, callback, authorize=False)


def authorize(
    strategy: StrategySpec,
    *,
    callback: Callback | None = None,
    **options: Any,
) -> Callable[[Endpoint], Callable[[Request], Awaitable[Response]]]:
    """Like `authenticate`, but the result goes to `request.state.account` (and
    `request.scope["account"]`) and the login, if any, is left as it is."""
    opts = AuthenticateOptions.build(**options)
    return _decorator(strategy, opts, callback, authorize=True)


def _decorator(
    strategy: StrategySpec,
    options: AuthenticateOptions,
    callback: Callback | None,
    *,
    authorize: bool,
) -> Callable[[Endpoint], Callable[[Request], Awaitable[Response]]]:
    def decorate(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(endpoint)
        async def wrapper(request: Request) -> Response:
            state = passport_state(request)
            neutral = StarletteAuthRequest(request, state.max_body_size)
            run = state.passport.authorize if authorize else state.passport.authenticate
            try:
                decision = await run(neutral, strategy, options, callback=callback is not None)
                response = await _apply(decision, request, endpoint, callback)
            except BaseException:
                await request.close()
                raise
            _close_form_after(response, request)
            return response

        # A login into the session needs the serializers; authorize and a callback log no one
        # in themselves (login() called by a callback names the missing serializer itself).
        logs_in = options.session and callback is None and not authorize
        name = "authorize" if authorize else "authenticate"
        declare(wrapper, requirement(name, endpoint, strategy, session=logs_in))
        return wrapper

    return decorate


def _close_form_after(response: Response, request: Request) -> None:
    """Close the uploads of a form the strategy parsed once the response has been sent.

    Starlette's endpoints never close `request.form()`; without this a multipart login with a
    file part would leave its spooled temporary file open.
    """
    if getattr(request, "_form", None) is None:
        return
    tasks = BackgroundTasks([response.background] if response.background else [])
    tasks.add_task(request.close)
    response.background = tasks


@overload
def login_required(endpoint: E, /) -> E: ...
@overload
def login_required(*, login_url: str | None = None) -> Callable[[E], E]: ...
def login_required(endpoint: E | None = None, /, *, login_url: str | None = None) -> Any:
    """Let only logged-in users through.

    Browsers are redirected to the login page with `?next=<this path>` (also saved in the
    session as the return-to URL); API clients (an `Authorization` header, or an `Accept`
    without text/html) get a 401.
    """

    def decorate(fn: E) -> E:
        @functools.wraps(fn)
        async def wrapper(request: Request) -> Response:
            if is_authenticated(request):
                return await _call_endpoint(fn, request)
            state = passport_state(request)
            headers = request.headers
            if wants_login_page(headers.get("accept"), "authorization" in headers):
                target = return_to_target(request.url.path, request.url.query)
                session = request.scope.get("session")
                if isinstance(session, dict):
                    session[state.passport.return_to_key] = target
                url = login_redirect_url(login_url or state.login_url, target)
                return _respond(redirect_response(url))
            return _respond(status_response(401))

        declare(wrapper, requirement("login_required", fn, session=True))
        return wrapper  # type: ignore[return-value]

    return decorate if endpoint is None else decorate(endpoint)
