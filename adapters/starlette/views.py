"""The words every adapter gives, for Starlette: `authenticate`, `authorize`, `login`,
`logout`, `login_required`, `fresh_login_required`, `is_authenticated`, and `pop_flashes`
for templates."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, ParamSpec, Protocol, TypeAlias, TypeVar, overload

from starlette.authentication import UnauthenticatedUser
from starlette.background import BackgroundTasks
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from passport_py._async import maybe_await
from passport_py.adapters._web import (
    check_remember,
    login_redirect_url,
    reauth_refusal,
    return_to_target,
    wants_login_page,
)
from passport_py.adapters.starlette._endpoints import EndpointShape, endpoint_shape
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
from passport_py.step_up import StepUp

__all__ = [
    "authenticate",
    "authorize",
    "cancel_pending",
    "fresh_login_required",
    "is_authenticated",
    "login",
    "login_required",
    "logout",
    "logout_everywhere",
    "pending_login",
    "pop_flashes",
    "update_session_auth",
]

Callback: TypeAlias = Callable[[Request, AuthResult[Any]], Awaitable[Response] | Response]
P = ParamSpec("P")
R = TypeVar("R")


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
    await _logout(request, keep_session_info, session_ended=True)


async def _logout(request: Request, keep_session_info: bool, *, session_ended: bool) -> None:
    state = passport_state(request)
    request.scope["user"] = ANONYMOUS
    request.scope["auth"] = NO_CREDENTIALS
    cookies = await state.passport.logout(
        StarletteAuthRequest(request, state.max_body_size),
        keep_session_info=keep_session_info,
        session_ended=session_ended,
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
    ended = 0
    if present:
        neutral = StarletteAuthRequest(request, state.max_body_size)
        events = state.passport.events
        ended = await destroy_user_sessions(
            session.store, serialized, events=events, request=neutral
        )
    # This session was among those ended (and reported): the logout only clears the request.
    await _logout(request, keep_session_info, session_ended=False)
    return ended


async def update_session_auth(request: Request, user: Any) -> None:
    """Keep this request's login after `user` changed their password in it: the session
    moves to a new id and records the new session auth hash, so only the user's other
    sessions end (`@passport.session_auth_hash`)."""
    state = passport_state(request)
    neutral = StarletteAuthRequest(request, state.max_body_size)
    await state.passport.update_session_auth(neutral, user)
    request.scope[TOUCHED_KEY] = True


async def pending_login(request: Request) -> tuple[Any, tuple[str, ...]] | None:
    """`(user, factors)` of the login waiting for a second factor in this session (for the
    second-factor page: whom it is for, which factors to offer); None when there is none."""
    state = passport_state(request)
    found = await state.passport.pending_login(StarletteAuthRequest(request, state.max_body_size))
    # An expired pending login was just removed: the session must be saved without it.
    request.scope[TOUCHED_KEY] = True
    return found


def cancel_pending(request: Request) -> None:
    """Forget the login waiting for a second factor in this session ("use another account")."""
    state = passport_state(request)
    state.passport.cancel_pending(StarletteAuthRequest(request, state.max_body_size))
    request.scope[TOUCHED_KEY] = True


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


#: What `_apply` returns when the endpoint is to run (None could be a callback's answer).
_PROCEED: Any = object()


async def _apply(decision: Decision, request: Request, callback: Callback | None) -> Any:
    """The response that replaces the endpoint's, or `_PROCEED` to call the endpoint."""
    if isinstance(decision, Respond):
        return _respond(decision)
    if decision.cookies or decision.vary:
        # Through the middleware's send wrapper, so they reach whatever response goes out,
        # including the one FastAPI builds from a returned dict or model.
        queue_response_extras(request.scope, decision.cookies, decision.vary)
    if type(decision) is Handoff:
        assert callback is not None
        return await maybe_await(callback(request, decision.result))
    assert type(decision) is Proceed
    if decision.authenticated:
        record_success(request, decision)
    return _PROCEED


def record_success(request: Request, decision: Proceed) -> None:
    """Put an authenticated decision's user on the request: `request.state.<assign_property>`
    (and the auth info) for `authorize` / `assign_property`, else `request.user` and
    `request.auth`, marking the session written after a login."""
    if decision.assign_property:
        setattr(request.state, decision.assign_property, decision.user)
        request.scope[decision.assign_property] = decision.user
        request.state.auth_info = decision.info
        return
    if decision.logged_in:
        request.scope[TOUCHED_KEY] = True
    _set_user(request, decision.user, decision.info)


class EndpointDecorator(Protocol):
    """What `authenticate(...)`, `authorize(...)` and `login_required(login_url=...)` return.

    The decorated endpoint keeps its parameters (a Starlette `(request)` or any FastAPI path
    operation signature) and returns what it returned, or the `Response` that refused it.
    """

    @overload
    def __call__(
        self, endpoint: Callable[P, Coroutine[Any, Any, R]], /
    ) -> Callable[P, Coroutine[Any, Any, R | Response]]: ...
    @overload
    def __call__(
        self, endpoint: Callable[P, R], /
    ) -> Callable[P, Coroutine[Any, Any, R | Response]]: ...


def authenticate(
    strategy: StrategySpec,
    *,
    callback: Callback | None = None,
    **options: Any,
) -> EndpointDecorator:
    """Decorate an endpoint so `strategy` (a name, a list of names or an instance) runs first.

    Takes the authenticate options (`failure_redirect=`, `session=`, ...). With
    `callback=fn`, `fn(request, result)` decides the response and nothing is logged in.
    Works on Starlette endpoints and FastAPI path operations alike.
    """
    opts = AuthenticateOptions.build(**options)
    return _decorator(strategy, opts, callback, authorize=False)


def authorize(
    strategy: StrategySpec,
    *,
    callback: Callback | None = None,
    **options: Any,
) -> EndpointDecorator:
    """Like `authenticate`, but the result goes to `request.state.account` (and
    `request.scope["account"]`) and the login, if any, is left as it is."""
    opts = AuthenticateOptions.build(**options)
    return _decorator(strategy, opts, callback, authorize=True)


def _wraps(shape: EndpointShape, wrapper: Callable[..., Any]) -> Callable[..., Any]:
    wrapped = functools.wraps(shape.endpoint)(wrapper)
    if shape.signature is not None:
        # FastAPI reads this instead of the endpoint's: it then passes the request in.
        wrapped.__signature__ = shape.signature  # type: ignore[attr-defined]
    return wrapped


def _decorator(
    strategy: StrategySpec,
    options: AuthenticateOptions,
    callback: Callback | None,
    *,
    authorize: bool,
) -> EndpointDecorator:
    name = "authorize" if authorize else "authenticate"

    def decorate(endpoint: Callable[..., Any]) -> Callable[..., Coroutine[Any, Any, Any]]:
        shape = endpoint_shape(endpoint, name)

        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            request = shape.request(args, kwargs)
            state = passport_state(request)
            neutral = StarletteAuthRequest(request, state.max_body_size)
            run = state.passport.authorize if authorize else state.passport.authenticate
            try:
                decision = await run(neutral, strategy, options, callback=callback is not None)
                result = await _apply(decision, request, callback)
                if result is _PROCEED:
                    result = await shape.call(args, kwargs)
            except BaseException:
                await request.close()
                raise
            await _close_form_after(result, request)
            return result

        wrapped = _wraps(shape, wrapper)
        # A login into the session needs the serializers; authorize and a callback log no one
        # in themselves (login() called by a callback names the missing serializer itself).
        logs_in = options.session and callback is None and not authorize
        declare(wrapped, requirement(name, endpoint, strategy, session=logs_in))
        return wrapped

    return decorate


async def _close_form_after(result: Any, request: Request) -> None:
    """Close the uploads of a form the strategy parsed once the endpoint is done with them.

    Starlette's endpoints never close `request.form()`; without this a multipart login with a
    file part would leave its spooled temporary file open.
    """
    if getattr(request, "_form", None) is None:
        return
    if isinstance(result, Response):
        # A streaming response may still read an upload: close once it has been sent.
        tasks = BackgroundTasks([result.background] if result.background else [])
        tasks.add_task(request.close)
        result.background = tasks
    else:
        # A value FastAPI serializes next (a dict, a model): it cannot read an upload any more.
        await request.close()


def anonymous_refusal(request: Request, login_url: str | None = None) -> Respond:
    """What `login_required` answers a request nobody is logged in on: browsers are sent to
    the login page (`login_url`, else the middleware's) with `?next=<this path>`, also saved
    in the session as the return-to URL; API clients get a 401."""
    state = passport_state(request)
    headers = request.headers
    if wants_login_page(headers.get("accept"), "authorization" in headers):
        target = return_to_target(request.url.path, request.url.query)
        session = request.scope.get("session")
        if isinstance(session, dict):
            session[state.passport.return_to_key] = target
        return redirect_response(login_redirect_url(login_url or state.login_url, target))
    return status_response(401)


def stale_refusal(
    request: Request, step_up: StepUp, login_url: str | None = None
) -> Respond | None:
    """None when the logged-in user's login passes `step_up`; else what `fresh_login_required`
    answers: browsers go to the re-authentication page (`step_up.reauth_url`, else the
    Authenticator's `reauth_url`, else the login page) with a safe `next`, API clients get a
    401 JSON `reauthentication_required`."""
    state = passport_state(request)
    passport = state.passport
    found = request.scope.get("session")
    session = found if isinstance(found, dict) else None
    if step_up.stale(passport.sessions, session) is None:
        return None
    headers = request.headers
    neutral = StarletteAuthRequest(request, state.max_body_size)
    return reauth_refusal(
        step_up,
        browser=wants_login_page(headers.get("accept"), "authorization" in headers),
        target=return_to_target(request.url.path, request.url.query),
        page=step_up.reauth_page(passport.reauth_url) or login_url or state.login_url,
        session=session,
        return_to_key=passport.return_to_key,
        flash=neutral.flash,
    )


def _guard(
    fn: Callable[..., Any], name: str, login_url: str | None, step_up: StepUp | None
) -> Callable[..., Coroutine[Any, Any, Any]]:
    shape = endpoint_shape(fn, name)

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        request = shape.request(args, kwargs)
        if not is_authenticated(request):
            return _respond(anonymous_refusal(request, login_url))
        refusal = None if step_up is None else stale_refusal(request, step_up, login_url)
        if refusal is not None:
            return _respond(refusal)
        return await shape.call(args, kwargs)

    wrapped = _wraps(shape, wrapper)
    # It restores the user from the login session: the deserializer must exist.
    declare(wrapped, requirement(name, fn, session=True))
    return wrapped


@overload
def login_required(
    endpoint: Callable[P, Coroutine[Any, Any, R]], /
) -> Callable[P, Coroutine[Any, Any, R | Response]]: ...
@overload
def login_required(
    endpoint: Callable[P, R], /
) -> Callable[P, Coroutine[Any, Any, R | Response]]: ...
@overload
def login_required(*, login_url: str | None = None) -> EndpointDecorator: ...
def login_required(
    endpoint: Callable[..., Any] | None = None, /, *, login_url: str | None = None
) -> Any:
    """Let only logged-in users through.

    Browsers are redirected to the login page with `?next=<this path>` (also saved in the
    session as the return-to URL); API clients (an `Authorization` header, or an `Accept`
    without text/html) get a 401. Works on Starlette endpoints and FastAPI path operations.
    """

    def decorate(fn: Callable[..., Any]) -> Callable[..., Coroutine[Any, Any, Any]]:
        return _guard(fn, "login_required", login_url, None)

    return decorate if endpoint is None else decorate(endpoint)


@overload
def fresh_login_required(
    endpoint: Callable[P, Coroutine[Any, Any, R]], /
) -> Callable[P, Coroutine[Any, Any, R | Response]]: ...
@overload
def fresh_login_required(
    endpoint: Callable[P, R], /
) -> Callable[P, Coroutine[Any, Any, R | Response]]: ...
@overload
def fresh_login_required(
    *,
    max_age: int | None = None,
    factors: Sequence[str] | None = None,
    reauth_url: str | None = None,
    login_url: str | None = None,
) -> EndpointDecorator: ...
def fresh_login_required(
    endpoint: Callable[..., Any] | None = None,
    /,
    *,
    max_age: int | None = None,
    factors: Sequence[str] | None = None,
    reauth_url: str | None = None,
    login_url: str | None = None,
) -> Any:
    """`login_required` for sensitive pages: the login must also be fresh (not remembered),
    proved at most `max_age` seconds ago (None: any time), with every method in `factors`
    (e.g. `["otp"]`) among those proved.

    Anonymous users are refused as by `login_required`. A stale login sends browsers to
    `reauth_url` (else the Authenticator's `reauth_url`, else the login page) with a safe
    `next` and a flash, and gives API clients a 401 JSON `{"error":
    "reauthentication_required", "max_age": N}` (plus `"factors"` when some are required).
    """
    step_up = StepUp.build(max_age, factors, reauth_url)

    def decorate(fn: Callable[..., Any]) -> Callable[..., Coroutine[Any, Any, Any]]:
        return _guard(fn, "fresh_login_required", login_url, step_up)

    return decorate if endpoint is None else decorate(endpoint)
