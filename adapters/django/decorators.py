"""The `authenticate`, `authorize`, `login_required` and `fresh_login_required` view
decorators for Django.

Each works on function views, on class-based views through `method_decorator`, and on
`async def` views. A sync view drives the core with `run_sync` (no event loop per request);
an async view awaits it on the running loop, so the callables it reaches (verify,
serializers) must not block there: write them as `async def` with Django's async ORM API.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeAlias, TypeVar, cast, overload

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import resolve_url

from passport_py._async import is_async_callable, maybe_await, run_sync
from passport_py.adapters._web import (
    login_redirect_url,
    reauth_refusal,
    return_to_target,
    wants_login_page,
)
from passport_py.adapters.django._request import DjangoAuthRequest
from passport_py.adapters.django._signals import alogged_in, logged_in
from passport_py.adapters.django._state import RequestState, passport_state
from passport_py.adapters.django.views import (
    alogin_failed,
    is_user,
    login_failed,
    preload_session,
    set_user,
    settle,
)
from passport_py.authenticator import Authenticator
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
from passport_py.errors import AuthenticationError
from passport_py.options import AuthenticateOptions
from passport_py.route_checks import RouteRequirement, declare, requirement
from passport_py.step_up import StepUp

__all__ = [
    "Route",
    "authenticate",
    "authorize",
    "deny",
    "deny_stale",
    "fresh_login_required",
    "login_required",
    "respond",
]

V = TypeVar("V", bound=Callable[..., Any])
_NOBODY: Any = object()
#: `callback(request, result)` returns the response (an `async def` one in async views).
Callback: TypeAlias = Callable[[HttpRequest, AuthResult[Any]], Any]


def respond(decision: Respond) -> HttpResponse:
    """The engine's answer as a Django response.

    A Django response holds one value per header name, so several `WWW-Authenticate`
    challenges are joined into one comma-separated header (which HTTP defines as equivalent).
    """
    response = HttpResponse(decision.body, status=decision.status)
    seen: dict[str, str] = {}
    for name, value in decision.headers:
        key = name.lower()
        seen[key] = f"{seen[key]}, {value}" if key in seen else value
        response[name] = seen[key]
    return response


class Route:
    """One decorated view's authentication: the strategies, options and callback."""

    __slots__ = ("authorize", "callback", "options", "strategy")

    def __init__(
        self,
        strategy: StrategySpec,
        options: AuthenticateOptions,
        callback: Callback | None,
        *,
        authorize: bool,
    ) -> None:
        self.strategy = strategy
        self.options = options
        self.callback = callback
        self.authorize = authorize

    def requirement(self, view: Any, name: str | None = None) -> RouteRequirement:
        """What this route needs from the passport (checked by `manage.py check`)."""
        name = name or ("authorize" if self.authorize else "authenticate")
        options = self.options
        # Only a plain authenticate logs the user into the session (needs the serializer).
        session = options.session and not (
            self.callback is not None or self.authorize or options.assign_property
        )
        return requirement(name, view, self.strategy, session=bool(session))

    def decorate(self, view: V) -> V:
        """Wrap `view` (sync or async) so this route's authentication runs before it."""
        needs = self.requirement(view)
        if is_async_callable(view):

            @functools.wraps(view)
            async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                return await self.arun(request, view, args, kwargs)

            declare(async_wrapper, needs)
            return cast(V, async_wrapper)

        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            return self.run(request, view, args, kwargs)

        declare(wrapper, needs)
        return cast(V, wrapper)

    def _authenticate(
        self, neutral: DjangoAuthRequest, passport: Authenticator[Any]
    ) -> Coroutine[Any, Any, Decision]:
        run = passport.authorize if self.authorize else passport.authenticate
        return run(neutral, self.strategy, self.options, callback=self.callback is not None)

    def run(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponseBase:
        """Authenticate, then answer or call `view` (sync)."""
        state = passport_state(request)
        neutral = DjangoAuthRequest(request, state.config)
        try:
            decision: Decision = run_sync(self._authenticate(neutral, state.config.passport))
        except AuthenticationError:
            login_failed(state, self.strategy, neutral)
            raise
        failed, logged_in_user = self._apply(state, decision)
        if failed:
            login_failed(state, self.strategy, neutral)
        elif logged_in_user is not _NOBODY:
            logged_in(state, logged_in_user)
        if type(decision) is Respond:
            return respond(decision)
        if type(decision) is Handoff:
            assert self.callback is not None
            response = self.callback(request, decision.result)
            if is_async_callable(self.callback):
                response = run_sync(response)
            return cast(HttpResponseBase, response)
        return cast(HttpResponseBase, view(request, *args, **kwargs))

    async def arun(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponseBase:
        """Authenticate, then answer or await `view` (async)."""
        state = passport_state(request)
        neutral = DjangoAuthRequest(request, state.config, deferred=True)
        await preload_session(request)
        try:
            decision: Decision = await self._authenticate(neutral, state.config.passport)
        except AuthenticationError:
            await alogin_failed(state, self.strategy, neutral)
            raise
        finally:
            await settle(neutral)
        failed, logged_in_user = self._apply(state, decision)
        if failed:
            await alogin_failed(state, self.strategy, neutral)
        elif logged_in_user is not _NOBODY:
            await alogged_in(state, logged_in_user)
        if type(decision) is Respond:
            return respond(decision)
        if type(decision) is Handoff:
            assert self.callback is not None
            return cast(
                HttpResponseBase, await maybe_await(self.callback(request, decision.result))
            )
        return cast(HttpResponseBase, await view(request, *args, **kwargs))

    def _apply(self, state: RequestState, decision: Decision) -> tuple[bool, Any]:
        """Put an authenticated user on the request, and the decision's cookies and `Vary`
        names on the state for the middleware to put on the response; `(failed, user logged
        in or _NOBODY)`, so the caller sends Django's signals (sync or async)."""
        if isinstance(decision, Respond):
            if decision.cookies:
                state.add_cookies(decision.cookies)
            result = decision.result
            if result is None or result.pending:
                return False, _NOBODY  # a pending login logged nobody in, nor failed
            if not result.ok:
                return True, _NOBODY
            if not self.options.session:
                return False, _NOBODY
            set_user(state, result.user, result.info)  # logged in before a success redirect
            return False, result.user
        if decision.cookies:
            state.add_cookies(decision.cookies)
        if decision.vary:
            state.add_vary(decision.vary)
        if type(decision) is Handoff:
            return _all_failed(decision.result), _NOBODY
        assert type(decision) is Proceed
        if not decision.authenticated:
            return False, _NOBODY
        if decision.assign_property:
            setattr(state.request, decision.assign_property, decision.user)
            state.request.auth_info = decision.info
            return False, _NOBODY
        set_user(state, decision.user, decision.info)
        return False, decision.user if decision.logged_in else _NOBODY


def _all_failed(result: AuthResult[Any]) -> bool:
    return result.user is None and result.error is None


def authenticate(
    strategy: StrategySpec, *, callback: Callback | None = None, **options: Any
) -> Callable[[V], V]:
    """Decorate a view so `strategy` (a name, a list of names or an instance) runs first.

    Takes the authenticate options (`failure_redirect=`, `session=`, ...). On success
    `request.user` is the user and `request.auth_info` the strategy's info. With
    `callback=fn`, `fn(request, result)` returns the response and nothing is logged in.
    """
    return Route(strategy, AuthenticateOptions.build(**options), callback, authorize=False).decorate


def authorize(
    strategy: StrategySpec, *, callback: Callback | None = None, **options: Any
) -> Callable[[V], V]:
    """Like `authenticate`, but the user goes to `request.account` and nobody is logged in
    (linking a third-party account to the logged-in user)."""
    return Route(strategy, AuthenticateOptions.build(**options), callback, authorize=True).decorate


def _here(request: HttpRequest) -> tuple[bool, str]:
    """Whether `request` is a browser's (else an API client's), and its return-to path."""
    headers = request.headers
    browser = wants_login_page(headers.get("accept"), "authorization" in headers)
    return browser, return_to_target(request.path, request.META.get("QUERY_STRING", ""))


def deny(request: HttpRequest, login_url: str | None = None) -> HttpResponse:
    """What `login_required` answers someone not logged in.

    Browsers get a redirect to the login page with `?next=<this path>` (also saved in the
    session as the return-to URL); API clients (an `Authorization` header, or an `Accept`
    without text/html) get a 401.
    """
    browser, target = _here(request)
    if not browser:
        return respond(status_response(401))
    state = passport_state(request)
    request.session[state.config.passport.return_to_key] = target
    url = str(resolve_url(login_url or settings.LOGIN_URL))
    return respond(redirect_response(login_redirect_url(url, target)))


def deny_stale(
    request: HttpRequest, step_up: StepUp, login_url: str | None = None
) -> HttpResponse | None:
    """None when the logged-in user's login passes `step_up`; else what
    `fresh_login_required` answers: browsers go to the re-authentication page
    (`step_up.reauth_url`, else the Authenticator's `reauth_url`, else `login_url`, else
    `settings.LOGIN_URL`; a path or a URL name) with a safe `next` and a message, API clients
    get a 401 JSON `reauthentication_required`."""
    state = passport_state(request)
    passport = state.config.passport
    if step_up.stale(passport.sessions, request.session) is None:
        return None
    browser, target = _here(request)
    page = step_up.reauth_page(passport.reauth_url) or login_url or settings.LOGIN_URL
    decision = reauth_refusal(
        step_up,
        browser=browser,
        target=target,
        page=str(resolve_url(page)),
        session=request.session,
        return_to_key=passport.return_to_key,
        flash=DjangoAuthRequest(request, state.config).flash,
    )
    return respond(decision)


def _guard(fn: V, name: str, login_url: str | None, step_up: StepUp | None) -> V:
    # It restores the user from the login session: the deserializer must exist.
    needs = requirement(name, fn, session=True)
    if is_async_callable(fn):

        @functools.wraps(fn)
        async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            state = passport_state(request)
            if not is_user(await state.aget_user()):
                await preload_session(request)
                return deny(request, login_url)
            if step_up is not None:
                await preload_session(request)
                refusal = deny_stale(request, step_up, login_url)
                if refusal is not None:
                    return refusal
            return await fn(request, *args, **kwargs)

        declare(async_wrapper, needs)
        return cast(V, async_wrapper)

    @functools.wraps(fn)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not is_user(passport_state(request).get_user()):
            return deny(request, login_url)
        refusal = None if step_up is None else deny_stale(request, step_up, login_url)
        return fn(request, *args, **kwargs) if refusal is None else refusal

    declare(wrapper, needs)
    return cast(V, wrapper)


@overload
def login_required(view: V, /) -> V: ...
@overload
def login_required(*, login_url: str | None = None) -> Callable[[V], V]: ...
def login_required(view: V | None = None, /, *, login_url: str | None = None) -> Any:
    """Let only logged-in users through; see `deny` for everyone else.

    `login_url` defaults to `settings.LOGIN_URL` (a path or a URL name).
    """

    def decorate(fn: V) -> V:
        return _guard(fn, "login_required", login_url, None)

    return decorate if view is None else decorate(view)


@overload
def fresh_login_required(view: V, /) -> V: ...
@overload
def fresh_login_required(
    *,
    max_age: int | None = None,
    factors: Sequence[str] | None = None,
    reauth_url: str | None = None,
    login_url: str | None = None,
) -> Callable[[V], V]: ...
def fresh_login_required(
    view: V | None = None,
    /,
    *,
    max_age: int | None = None,
    factors: Sequence[str] | None = None,
    reauth_url: str | None = None,
    login_url: str | None = None,
) -> Any:
    """`login_required` for sensitive views: the login must also be fresh (not remembered),
    proved at most `max_age` seconds ago (None: any time), with every method in `factors`
    (e.g. `["otp"]`) among those proved; see `deny_stale` for a login that falls short.
    """
    step_up = StepUp.build(max_age, factors, reauth_url)

    def decorate(fn: V) -> V:
        return _guard(fn, "fresh_login_required", login_url, step_up)

    return decorate if view is None else decorate(view)
