"""The words every adapter gives, for Flask: `authenticate`, `authorize`, `login`, `logout`,
`login_required`, `fresh_login_required` and `is_authenticated`, plus `logout_everywhere`.

Every decorator works on plain views, where the core's coroutines are driven by `run_sync`
without an event loop, and on `async def` views, where they are awaited on the running loop.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias, TypeVar, cast, overload

import flask
from flask import Request, Response

from passport_py._async import is_async_callable, maybe_await, run_sync
from passport_py.adapters._web import (
    check_remember,
    login_redirect_url,
    reauth_refusal,
    return_to_target,
    wants_login_page,
)
from passport_py.adapters.flask._request import FlaskAuthRequest, native_session
from passport_py.adapters.flask._startup import remember_wrapped
from passport_py.adapters.flask.extension import (
    ANONYMOUS,
    FRESH_KEY,
    AnonymousUser,
    FlaskPassport,
    aget_user,
    defer_cookies,
    get_user,
    mark_session_used,
    passport_extension,
    set_cookie,
    set_user,
)
from passport_py.adapters.flask.sessions import ServerSideSessionInterface
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
from passport_py.route_checks import declare, requirement
from passport_py.sessions import destroy_user_sessions_sync
from passport_py.step_up import StaleReason, StepUp

__all__ = [
    "alogin",
    "alogout",
    "alogout_everywhere",
    "aupdate_session_auth",
    "authenticate",
    "authorize",
    "fresh_login_required",
    "is_authenticated",
    "login",
    "login_required",
    "logout",
    "logout_everywhere",
    "update_session_auth",
]

F = TypeVar("F", bound=Callable[..., Any])
#: `callback(result)` returns the response (anything a Flask view may return).
Callback: TypeAlias = Callable[[AuthResult[Any]], Any]
#: Methods `login_required` lets through, as Flask-Login does (CORS preflights carry no cookie).
EXEMPT_METHODS = frozenset({"OPTIONS"})


def _request() -> Request:
    return flask.request._get_current_object()  # type: ignore[attr-defined, no-any-return]


def is_authenticated() -> bool:
    """True when a user is logged in on this request (or set by an authenticate decorator)."""
    return not isinstance(get_user(), AnonymousUser)


async def alogin(
    user: Any,
    *,
    session: bool = True,
    keep_session_info: bool = False,
    fresh: bool = True,
    remember: bool = False,
) -> None:
    """`login` for async views whose serializer (or remember-me store) awaits real I/O."""
    check_remember(session, remember)
    request = _request()
    ext = passport_extension()
    if session:
        neutral = FlaskAuthRequest(request, ext.max_body_size)
        cookies = await ext.passport.login(
            neutral, user, keep_session_info=keep_session_info, fresh=fresh, remember=remember
        )
        mark_session_used(request)
        if cookies:
            defer_cookies(request, cookies)
    set_user(request, user, fresh=fresh)


def login(
    user: Any,
    *,
    session: bool = True,
    keep_session_info: bool = False,
    fresh: bool = True,
    remember: bool = False,
) -> None:
    """Log `user` in: regenerate the session and store the user (unless `session=False`);
    `current_user` is `user` for the rest of the request.

    `keep_session_info=True` keeps the whole session; by default only the return-to URL and
    pending flashes survive. `fresh=False` marks a login restored without credentials
    (remember-me), which `fresh_login_required` refuses. `remember=True` also sets the
    remember-me cookie (it needs a registered `RememberMeStrategy`).
    """
    run_sync(
        alogin(
            user,
            session=session,
            keep_session_info=keep_session_info,
            fresh=fresh,
            remember=remember,
        )
    )


async def alogout(*, keep_session_info: bool = False) -> None:
    """`logout` for async views whose strategies forget their tokens with real async I/O."""
    await _alogout(keep_session_info, session_ended=True)


async def _alogout(keep_session_info: bool, *, session_ended: bool) -> None:
    request = _request()
    ext = passport_extension()
    set_user(request, ANONYMOUS)
    vars(request).pop(FRESH_KEY, None)
    neutral = FlaskAuthRequest(request, ext.max_body_size)
    cookies = await ext.passport.logout(
        neutral, keep_session_info=keep_session_info, session_ended=session_ended
    )
    mark_session_used(request)
    if cookies:
        defer_cookies(request, cookies)


def logout(*, keep_session_info: bool = False) -> None:
    """Log the user out: remove them from the session and regenerate it. Cookies the
    strategies clear on logout (remember-me) are deleted on the response."""
    run_sync(alogout(keep_session_info=keep_session_info))


def _end_every_session() -> int:
    """End every stored session of the user this request's session holds; how many ended."""
    app = flask.current_app._get_current_object()  # type: ignore[attr-defined]
    interface = app.session_interface
    if not isinstance(interface, ServerSideSessionInterface):
        raise ConfigurationError(
            "logout_everywhere needs server-side sessions: set app.session_interface = "
            "passport_py.adapters.flask.ServerSideSessionInterface(store), with a "
            "passport_py.sessions store (RedisStore in production)"
        )
    passport = passport_extension(app).passport
    present, serialized = passport.sessions.stored_user(native_session(app))
    if not present:
        return 0
    neutral = FlaskAuthRequest(_request(), passport_extension(app).max_body_size)
    return destroy_user_sessions_sync(
        interface.store, serialized, events=passport.events, request=neutral
    )


def logout_everywhere(*, keep_session_info: bool = False) -> int:
    """Log the current user out of every session they have (every browser and device), this
    one included, then log this request out; returns how many sessions ended. Needs
    `ServerSideSessionInterface`: only a server-side store knows a user's other sessions."""
    ended = _end_every_session()
    # This session was among those ended (and reported): the logout only clears the request.
    run_sync(_alogout(keep_session_info, session_ended=False))
    return ended


async def alogout_everywhere(*, keep_session_info: bool = False) -> int:
    """`logout_everywhere` for async views whose strategies forget tokens with async I/O."""
    ended = _end_every_session()
    await _alogout(keep_session_info, session_ended=False)
    return ended


async def aupdate_session_auth(user: Any) -> None:
    """`update_session_auth` for async views whose session auth hash function awaits I/O."""
    request = _request()
    ext = passport_extension()
    await ext.passport.update_session_auth(FlaskAuthRequest(request, ext.max_body_size), user)
    mark_session_used(request)


def update_session_auth(user: Any) -> None:
    """Keep this request's login after `user` changed their password in it: the session
    moves to a new id and records the new session auth hash, so only the user's other
    sessions end (`@passport.session_auth_hash`)."""
    run_sync(aupdate_session_auth(user))


# -- authenticate and authorize -------------------------------------------------------------


def _respond(decision: Respond) -> Response:
    # A header list keeps one `WWW-Authenticate` per challenge.
    response = flask.current_app.response_class(
        decision.body, decision.status, list(decision.headers)
    )
    for cookie in decision.cookies:
        set_cookie(response, cookie)
    return response


def _proceed(decision: Proceed, request: Request) -> None:
    if decision.cookies or decision.vary:
        # Whatever response the view ends with (its own, or an `abort`) carries them.
        defer_cookies(request, decision.cookies, decision.vary)
    if not decision.authenticated:
        return  # a strategy passed: the view runs with whoever is already logged in
    if decision.assign_property:
        setattr(flask.g, decision.assign_property, decision.user)
    elif decision.logged_in:
        mark_session_used(request)
        set_user(request, decision.user)
        # The session recorded whether the strategy called this login fresh: it decides.
        vars(request).pop(FRESH_KEY, None)
    else:
        set_user(request, decision.user, fresh=decision.fresh)
    flask.g.auth_info = decision.info


def _hand_off(decision: Handoff, request: Request) -> None:
    if decision.cookies or decision.vary:
        # The callback's response carries them, as the view's does after a Proceed.
        defer_cookies(request, decision.cookies, decision.vary)


def authenticate(
    strategy: StrategySpec, *, callback: Callback | None = None, **options: Any
) -> Callable[[F], F]:
    """Decorate a view so `strategy` (a name, a list of names or an instance) runs first.

    Takes the authenticate options (`failure_redirect=`, `session=`, ...). On success
    the user is `current_user` for the rest of the request and the auth info is `g.auth_info`.
    With `callback=fn`, `fn(result)` (an `AuthResult`) returns the response and nothing is
    logged in; `fn` may be `async def`.
    """
    opts = AuthenticateOptions.build(**options)
    return _decorator(strategy, opts, callback, authorize=False)


def authorize(
    strategy: StrategySpec, *, callback: Callback | None = None, **options: Any
) -> Callable[[F], F]:
    """Like `authenticate`, but the user goes to `g.account` (auth info to `g.auth_info`) and
    the logged-in user is left alone: for linking a third-party account."""
    opts = AuthenticateOptions.build(**options)
    return _decorator(strategy, opts, callback, authorize=True)


def _start(authorize: bool) -> tuple[Request, FlaskAuthRequest, Any]:
    request = _request()
    ext = passport_extension()
    run = ext.passport.authorize if authorize else ext.passport.authenticate
    return request, FlaskAuthRequest(request, ext.max_body_size), run


def _decorator(
    strategy: StrategySpec,
    options: AuthenticateOptions,
    callback: Callback | None,
    *,
    authorize: bool,
) -> Callable[[F], F]:
    handoff = callback is not None
    name = "authorize" if authorize else "authenticate"
    # Only a plain authenticate logs the user into the session (needs the serializer).
    session = options.session and not (handoff or authorize or options.assign_property)

    def decorate(view: F) -> F:
        remember_wrapped(view, name)
        needs = requirement(name, view, strategy, session=session)
        if is_async_callable(view):

            @functools.wraps(view)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                request, neutral, run = _start(authorize)
                decision: Decision = await run(neutral, strategy, options, callback=handoff)
                if type(decision) is Proceed:
                    _proceed(decision, request)
                    return await view(*args, **kwargs)
                if type(decision) is Handoff:
                    assert callback is not None
                    _hand_off(decision, request)
                    return await maybe_await(callback(decision.result))
                assert type(decision) is Respond
                return _respond(decision)

            declare(async_wrapper, needs)
            return cast(F, async_wrapper)

        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            request, neutral, run = _start(authorize)
            decision: Decision = run_sync(run(neutral, strategy, options, callback=handoff))
            if type(decision) is Proceed:
                _proceed(decision, request)
                return view(*args, **kwargs)
            if type(decision) is Handoff:
                assert callback is not None
                _hand_off(decision, request)
                # Flask's own way to call a callback that may be `async def` from a sync view.
                return flask.current_app.ensure_sync(callback)(decision.result)
            assert type(decision) is Respond
            return _respond(decision)

        declare(wrapper, needs)
        return cast(F, wrapper)

    return decorate


# -- login_required and fresh_login_required ----------------------------------------------


def _here() -> tuple[bool, str]:
    """Whether this request is a browser's (else an API client's), and its return-to path."""
    request = _request()
    headers = request.headers
    browser = wants_login_page(headers.get("Accept"), "Authorization" in headers)
    path = request.script_root + request.path
    return browser, return_to_target(path, request.query_string.decode("latin-1"))


def _refuse(ext: FlaskPassport[Any], login_url: str | None) -> Response:
    """Browsers: 302 to the login page with a safe `next` (also saved as the return-to URL).
    API clients (an `Authorization` header, or no text/html in `Accept`): 401."""
    browser, target = _here()
    if not browser:
        return _respond(status_response(401))
    session = native_session(flask.current_app)
    if session is not None:
        session[ext.passport.return_to_key] = target
    return _respond(redirect_response(login_redirect_url(ext.login_page(login_url), target)))


def _stale(ext: FlaskPassport[Any], step_up: StepUp) -> StaleReason | None:
    """Why the logged-in user's login falls short of `step_up` (None: it passes)."""
    fresh = vars(_request()).get(FRESH_KEY)
    if fresh is False:  # logged in this request with fresh=False, or by a remember-me strategy
        return "not_fresh"
    sessions = ext.passport.sessions
    session = native_session(flask.current_app)
    reason = step_up.stale(sessions, session)
    if fresh is True and reason == "not_fresh":
        # A strategy checked credentials on this very request (without writing the session):
        # they were proved just now.
        now = sessions.clock()
        return step_up.check({"auth_at": now}, now)
    return reason


def _refuse_stale(ext: FlaskPassport[Any], step_up: StepUp, login_url: str | None) -> Response:
    browser, target = _here()
    passport = ext.passport
    neutral = FlaskAuthRequest(_request(), ext.max_body_size)
    session = native_session(flask.current_app)
    decision = reauth_refusal(
        step_up,
        browser=browser,
        target=target,
        page=ext.login_page(step_up.reauth_page(passport.reauth_url) or login_url),
        session=session,
        return_to_key=passport.return_to_key,
        flash=neutral.flash,
    )
    return _respond(decision)


def _guard(fn: F, name: str, login_url: str | None, step_up: StepUp | None) -> F:
    remember_wrapped(fn, name)
    # It restores the user from the login session: the deserializer must exist.
    needs = requirement(name, fn, session=True)

    def answer(user: Any) -> Response | None:
        """The refusal for `user`, or None to run the view."""
        ext = passport_extension()
        if isinstance(user, AnonymousUser):
            return _refuse(ext, login_url)
        if step_up is not None and _stale(ext, step_up) is not None:
            return _refuse_stale(ext, step_up, login_url)
        return None

    if is_async_callable(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            if flask.request.method in EXEMPT_METHODS:
                return await fn(*args, **kwargs)
            refusal = answer(await aget_user())
            return await fn(*args, **kwargs) if refusal is None else refusal

        declare(async_wrapper, needs)
        return cast(F, async_wrapper)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if flask.request.method in EXEMPT_METHODS:
            return fn(*args, **kwargs)
        refusal = answer(get_user())
        return fn(*args, **kwargs) if refusal is None else refusal

    declare(wrapper, needs)
    return cast(F, wrapper)


@overload
def login_required(view: F, /) -> F: ...
@overload
def login_required(*, login_url: str | None = None) -> Callable[[F], F]: ...
def login_required(view: F | None = None, /, *, login_url: str | None = None) -> Any:
    """Let only logged-in users through (and `OPTIONS` requests, as Flask-Login does).

    Browsers are redirected to the login page with `?next=<this path>` (also saved in the
    session as the return-to URL); API clients (an `Authorization` header, or an `Accept`
    without text/html) get a 401. `login_url` overrides the extension's login page.
    """

    def decorate(fn: F) -> F:
        return _guard(fn, "login_required", login_url, None)

    return decorate if view is None else decorate(view)


@overload
def fresh_login_required(view: F, /) -> F: ...
@overload
def fresh_login_required(
    *,
    max_age: int | None = None,
    factors: Sequence[str] | None = None,
    reauth_url: str | None = None,
    login_url: str | None = None,
) -> Callable[[F], F]: ...
def fresh_login_required(
    view: F | None = None,
    /,
    *,
    max_age: int | None = None,
    factors: Sequence[str] | None = None,
    reauth_url: str | None = None,
    login_url: str | None = None,
) -> Any:
    """`login_required` that also refuses a login that is not fresh: one restored without
    credentials (`login(user, fresh=False)`, remember-me), and, with `max_age`, one proved
    more than `max_age` seconds ago, or, with `factors` (e.g. `["otp"]`), one without each
    of those methods among those proved.

    Such users are sent to re-authenticate (browsers: `reauth_url`, else the Authenticator's
    `reauth_url`, else the login page, with a safe `next` and a flash) or get a 401 JSON
    `{"error": "reauthentication_required", "max_age": N}` (API clients).
    """
    step_up = StepUp.build(max_age, factors, reauth_url)

    def decorate(fn: F) -> F:
        return _guard(fn, "fresh_login_required", login_url, step_up)

    return decorate if view is None else decorate(view)
