"""`login`, `logout`, `alogin`, `alogout`, `is_authenticated` and `pop_flashes` for Django.

`login` and `logout` send Django's `user_logged_in` / `user_logged_out` signals for users that
are instances of the configured user model (`AUTH_USER_MODEL`) only: `django.contrib.auth`
connects `update_last_login` to `user_logged_in`, and it saves the user as a model.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_out, user_login_failed
from django.http import HttpRequest

from passport_py._async import run_sync
from passport_py.adapters._web import check_remember
from passport_py.adapters.django._request import DjangoAuthRequest
from passport_py.adapters.django._signals import (
    alogged_in,
    failed_account,
    is_model_user,
    logged_in,
)
from passport_py.adapters.django._state import RequestState, passport_state
from passport_py.authenticator import Authenticator
from passport_py.engine import StrategySpec
from passport_py.request import pop_session_flashes
from passport_py.strategy import Strategy

__all__ = [
    "alogin",
    "alogout",
    "aupdate_session_auth",
    "is_authenticated",
    "login",
    "logout",
    "pop_flashes",
    "update_session_auth",
]

#: The `sender` of `user_login_failed` (Django's own `authenticate()` sends its module name).
FAILED_SENDER = "passport_py.adapters.django"


def is_authenticated(request: HttpRequest) -> bool:
    """True when a user is logged in on this request (or set by an authenticate decorator).

    In an async view, `await request.auser()` first, or this may block the event loop.
    """
    return is_user(passport_state(request).get_user())


def login(
    request: HttpRequest,
    user: Any,
    *,
    session: bool = True,
    keep_session_info: bool = False,
    info: Any = None,
    fresh: bool = True,
    remember: bool = False,
) -> None:
    """Log `user` in: regenerate the session (new key, old entry deleted), store the user,
    rotate the CSRF token and send `user_logged_in`. `session=False` only sets `request.user`.

    `fresh=False` marks a login restored without credentials (remember-me). `remember=True`
    also sets the remember-me cookie (needs a registered `RememberMeStrategy`).
    """
    state = passport_state(request)
    check_remember(session, remember)
    if session:
        passport = state.config.passport
        neutral = DjangoAuthRequest(request, state.config)
        cookies = run_sync(
            passport.login(
                neutral, user, keep_session_info=keep_session_info, fresh=fresh, remember=remember
            )
        )
        if cookies:
            state.add_cookies(cookies)
    set_user(state, user, info)
    if session:
        logged_in(state, user)


async def alogin(
    request: HttpRequest,
    user: Any,
    *,
    session: bool = True,
    keep_session_info: bool = False,
    info: Any = None,
    fresh: bool = True,
    remember: bool = False,
) -> None:
    """`login` for async views: the session store is used without blocking the event loop."""
    state = passport_state(request)
    check_remember(session, remember)
    if session:
        passport = state.config.passport
        neutral = DjangoAuthRequest(request, state.config, deferred=True)
        await preload_session(request)
        try:
            cookies = await passport.login(
                neutral, user, keep_session_info=keep_session_info, fresh=fresh, remember=remember
            )
            if cookies:
                state.add_cookies(cookies)
        finally:
            await settle(neutral)
    set_user(state, user, info)
    if session:
        await alogged_in(state, user)


def logout(request: HttpRequest, *, keep_session_info: bool = False) -> None:
    """Log the user out: send `user_logged_out`, then flush the session (new key, data
    cleared unless `keep_session_info=True`); `request.user` becomes `AnonymousUser`.

    Strategies that keep a login outside the session (remember-me) forget it: their cookies
    are deleted on the response. A remembered login is not restored just to be logged out.
    """
    state = passport_state(request)
    user = state.session_user()
    if is_model_user(user):
        user_logged_out.send(sender=type(user), request=request, user=user)
    cookies = run_sync(
        state.config.passport.logout(
            DjangoAuthRequest(request, state.config), keep_session_info=keep_session_info
        )
    )
    state.add_cookies(cookies)
    state.touched = True
    state.set_user(state.config.anonymous())


async def alogout(request: HttpRequest, *, keep_session_info: bool = False) -> None:
    """`logout` for async views."""
    state = passport_state(request)
    user = await state.asession_user()
    if is_model_user(user):
        await user_logged_out.asend(sender=type(user), request=request, user=user)
    neutral = DjangoAuthRequest(request, state.config, deferred=True)
    await preload_session(request)
    try:
        cookies = await state.config.passport.logout(neutral, keep_session_info=keep_session_info)
    finally:
        await settle(neutral)
    state.add_cookies(cookies)
    state.touched = True
    state.set_user(state.config.anonymous())


def update_session_auth(request: HttpRequest, user: Any) -> None:
    """Keep this request's login after `user` changed their password in it, like Django's
    `update_session_auth_hash`: the session moves to a new key and records the new session
    auth hash, so only the user's other sessions end (`@passport.session_auth_hash`)."""
    state = passport_state(request)
    run_sync(
        state.config.passport.update_session_auth(DjangoAuthRequest(request, state.config), user)
    )
    state.touched = True


async def aupdate_session_auth(request: HttpRequest, user: Any) -> None:
    """`update_session_auth` for async views."""
    state = passport_state(request)
    neutral = DjangoAuthRequest(request, state.config, deferred=True)
    await preload_session(request)
    try:
        await state.config.passport.update_session_auth(neutral, user)
    finally:
        await settle(neutral)
    state.touched = True


def pop_flashes(request: HttpRequest) -> list[tuple[str, str]]:
    """Take the pending flashes `[(category, message), ...]` out of the session.

    Only for projects without `django.contrib.messages`; with it, flashes are Django messages.
    """
    return pop_session_flashes(getattr(request, "session", None))


# -- shared with the decorators -----------------------------------------------------------


def set_user(state: RequestState, user: Any, info: Any) -> None:
    """`request.user = user`, `request.auth_info = info`."""
    state.set_user(user)
    state.request.auth_info = info


def failed_credentials(
    passport: Authenticator[Any], strategies: StrategySpec, neutral: DjangoAuthRequest
) -> dict[str, Any]:
    """The `credentials` of `user_login_failed`: the names of the strategies tried and the
    username: the account the core's `LoginFailed` named (local, Basic, Digest), else the
    username field a strategy reads, as posted. Never a password."""
    chain = [strategies] if isinstance(strategies, str | Strategy) else list(strategies)
    registered = passport.strategies
    fields = neutral.parsed_fields()
    names: list[str] = []
    credentials: dict[str, Any] = {"strategies": names}
    account = failed_account(neutral.native)
    if account is not None:
        credentials["username"] = account
    for layer in chain:
        strategy = registered.get(layer) if isinstance(layer, str) else layer
        names.append(layer if isinstance(layer, str) else layer.name or type(layer).__name__)
        field = getattr(strategy, "username_field", None)
        if isinstance(field, str) and hasattr(fields, "get"):
            username = fields.get(field)
            if isinstance(username, str):
                credentials.setdefault("username", username)
    return credentials


def login_failed(state: RequestState, strategies: StrategySpec, neutral: DjangoAuthRequest) -> None:
    """Send `user_login_failed`, as Django's `authenticate()` does when no backend accepts."""
    credentials = failed_credentials(state.config.passport, strategies, neutral)
    user_login_failed.send(sender=FAILED_SENDER, credentials=credentials, request=state.request)


async def alogin_failed(
    state: RequestState, strategies: StrategySpec, neutral: DjangoAuthRequest
) -> None:
    credentials = failed_credentials(state.config.passport, strategies, neutral)
    await user_login_failed.asend(
        sender=FAILED_SENDER, credentials=credentials, request=state.request
    )


async def preload_session(request: HttpRequest) -> None:
    """Load the session without blocking the loop (the core then reads it synchronously)."""
    await request.session.aitems()


async def settle(neutral: DjangoAuthRequest) -> None:
    session = neutral.session
    if session is not None:
        await session.asettle()


def is_user(user: Any) -> bool:
    """True for a logged-in user: not None and not Django's `AnonymousUser`."""
    return user is not None and getattr(user, "is_anonymous", False) is not True
