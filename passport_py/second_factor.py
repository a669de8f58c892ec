"""Pending logins: a first factor that leaves the login waiting for a second one, and the
second factor (`Strategy.second_factor`) that completes it or re-authenticates a logged-in user.

The engine calls in here; the session entry is written by `SessionManager` only. A pending
login lives in the session as `session["passport"]["pending"]`:
`{"user", "first", "amr", "at", "expires", "remember", "factors"}`, with no `"user"` beside it,
so the request stays anonymous until a second factor completes it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from passport_py.decisions import NO_STORE, AuthResult, Respond, redirect_response
from passport_py.errors import ConfigurationError, SessionRequiredError
from passport_py.events import LoggedIn, LoginPending
from passport_py.options import AuthenticateOptions, Subject
from passport_py.outcomes import Fail, Success
from passport_py.redirects import is_safe_redirect
from passport_py.sessions.stores import user_key
from passport_py.strategy import Strategy
from passport_py.wants import wants_json, wants_remember

if TYPE_CHECKING:
    from passport_py.authenticator import Authenticator
    from passport_py.cookies import Cookie
    from passport_py.request import AuthRequest

__all__ = [
    "NO_PENDING_LOGIN",
    "callback_result",
    "cancel_pending",
    "complete_login",
    "left_pending",
    "load_pending",
    "load_subject",
    "second_factor_account",
    "start_pending",
    "with_subject",
]

NO_PENDING_LOGIN = "No login is waiting for a second factor"
"""The failure message of a second factor run on a session with nothing to complete."""
_NOT_ENROLLED = "This second factor is not enabled for this account"


def second_factor_account(serialized: Any) -> str:
    """The throttle's account key for code guesses against one user's second factors."""
    return "second-factor:" + user_key(serialized)


async def load_pending(
    passport: Authenticator[Any], request: AuthRequest
) -> tuple[Any, dict[str, Any]] | None:
    """`(user, entry)` of the session's pending login; None when there is none. An expired
    one, or one whose user the deserializer no longer knows, is removed."""
    session = request.session
    entry = passport.sessions.pending(session)
    if entry is None or session is None:
        return None
    expires = entry.get("expires")
    if type(expires) is not int or passport.sessions.clock() >= expires:
        passport.sessions.drop_pending(session)
        return None
    user = await passport.deserialize(entry["user"], request)
    if user is None:
        passport.sessions.drop_pending(session)
        return None
    return user, entry


async def load_subject(passport: Authenticator[Any], request: AuthRequest) -> Subject | None:
    """Who a second factor checks a code for: the logged-in user (step-up), else the
    session's pending login; None when the session holds neither."""
    session = request.session
    present, serialized = passport.sessions.stored_user(session)
    if present and session is not None:
        user = await passport.restore(request)
        if user is None:
            return None
        return Subject(user, serialized, False, _methods(session[passport.session_key]))
    found = await load_pending(passport, request)
    if found is None:
        return None
    user, entry = found
    return Subject(user, entry["user"], True, _methods(entry))


def _methods(entry: Any) -> tuple[str, ...]:
    amr = entry.get("amr") if isinstance(entry, dict) else None
    return tuple(m for m in amr if isinstance(m, str)) if isinstance(amr, list) else ()


async def with_subject(
    passport: Authenticator[Any],
    request: AuthRequest,
    options: AuthenticateOptions,
    name: str | None,
) -> AuthenticateOptions | Fail:
    """`options` for the second factor `name`, with the subject it checks a code for; a
    401 failure (the strategy is not called) when there is no one to check, or when the
    pending login does not offer this factor."""
    subject = await load_subject(passport, request)
    if subject is None:
        return Fail({"message": NO_PENDING_LOGIN}, 401)
    if subject.pending:
        entry = passport.sessions.pending(request.session) or {}
        if name not in (entry.get("factors") or ()):
            return Fail({"message": _NOT_ENROLLED}, 401)
    return options.replace(subject=subject)


async def factors_to_prove(
    passport: Authenticator[Any],
    request: AuthRequest,
    outcome: Success[Any],
    options: AuthenticateOptions,
    strategy: Strategy,
) -> tuple[str, ...]:
    """The second factors a session login of this success must wait for: none for a second
    factor itself, a login that is not fresh (remember-me), or one into no session."""
    if strategy.second_factor or not outcome.fresh or options.assign_property:
        return ()
    if not options.session:
        return ()
    return await passport.factors_of(outcome.user, request)


async def left_pending(
    passport: Authenticator[Any],
    request: AuthRequest,
    outcome: Success[Any],
    options: AuthenticateOptions,
    name: str | None,
    strategy: Strategy,
    *,
    remember: bool,
) -> Respond | None:
    """None when this success logs the user in; else the answer to a login now pending (the
    session holds it, `LoginPending` was emitted)."""
    factors = await factors_to_prove(passport, request, outcome, options, strategy)
    if not factors:
        return None
    info = {} if outcome.info is None else outcome.info
    result = AuthResult(user=outcome.user, info=info, pending=factors)
    # Built first: a redirecting route without a second-factor page raises, nothing written.
    response = pending_response(passport, request, options, result, wants_json=wants_json(request))
    await start_pending(passport, request, outcome.user, options, name, strategy, factors, remember)
    return response


async def callback_result(
    passport: Authenticator[Any],
    request: AuthRequest,
    outcome: Success[Any],
    options: AuthenticateOptions,
    name: str | None,
    strategy: Strategy,
) -> AuthResult[Any]:
    """What a route's callback receives. A first factor that leaves the login pending starts
    it even here (`result.pending` set, `result.ok` False): a callback that logs in only `ok`
    results cannot skip the second factor."""
    result: AuthResult[Any] = AuthResult(user=outcome.user, info=outcome.info)
    factors = await factors_to_prove(passport, request, outcome, options, strategy)
    if not factors:
        return result
    remember = bool(options.remember) and await wants_remember(request, options.remember)
    await start_pending(passport, request, outcome.user, options, name, strategy, factors, remember)
    return dataclasses.replace(result, pending=factors)


async def start_pending(
    passport: Authenticator[Any],
    request: AuthRequest,
    user: Any,
    options: AuthenticateOptions,
    name: str | None,
    strategy: Strategy,
    factors: tuple[str, ...],
    remember: bool,
) -> None:
    """Regenerate the session and record `user`'s login by the first factor `strategy`
    (registered as `name`) as pending on `factors`; emit `LoginPending`."""
    session = request.session
    if session is None:
        raise SessionRequiredError(request.session_required_hint())
    serialized = await passport.serialize(user, request)
    wanted = request.query.get("next")
    if passport.return_to_key not in session and is_safe_redirect(wanted):
        # The second-factor request has no `next`: keep it where the login will look.
        session[passport.return_to_key] = wanted
    now = int(passport.sessions.clock())
    entry = {
        "user": serialized,
        "first": name,
        "amr": list(strategy.amr),
        "at": now,
        "expires": now + passport.pending_max_age,
        "remember": remember,
        "factors": list(factors),
    }
    passport.sessions.start_pending(
        session, entry, keep_session_info=options.keep_session_info, flash_keys=request.flash_keys
    )
    if passport.events.wants(LoginPending):
        event = LoginPending(serialized, name, factors, request.client_ip, request)
        await passport.events.emit(event)


def pending_response(
    passport: Authenticator[Any],
    request: AuthRequest,
    options: AuthenticateOptions,
    result: AuthResult[Any],
    *,
    wants_json: bool,
) -> Respond:
    """The answer to a login left pending: browsers go to the second-factor page, API
    clients get 401 `{"error": "second_factor_required", "factors": [...]}`.

    A browser is a client that did not ask for JSON, on a route with redirects or with an
    `Accept` naming text/html. Raises `ConfigurationError` for a redirecting route when no
    second-factor page is configured (checked before anything is written).
    """
    target = options.second_factor_redirect or passport.second_factor_url
    redirects = bool(
        options.failure_redirect
        or options.success_redirect
        or options.success_return_to_or_redirect
    )
    if not wants_json and (redirects or "text/html" in str(request.headers.get("accept") or "")):
        if target:
            return replace_result(redirect_response(target), result)
        if redirects:
            raise ConfigurationError(
                "a login is waiting for a second factor but there is no page to send the "
                "browser to: set Authenticator(second_factor_url='/login/second-factor') or "
                "the route option second_factor_redirect="
            )
    body = json.dumps({"error": "second_factor_required", "factors": list(result.pending or ())})
    return Respond(401, (("Content-Type", "application/json"), NO_STORE), body, result=result)


def replace_result(response: Respond, result: AuthResult[Any]) -> Respond:
    """`response` carrying `result` (what adapters read to signal logins)."""
    return Respond(response.status, response.headers, response.body, response.cookies, result)


async def complete_login(
    passport: Authenticator[Any],
    request: AuthRequest,
    subject: Subject,
    *,
    strategy: str | None,
    amr: Sequence[str],
    remember: bool = False,
    keep_session_info: bool = False,
) -> tuple[Cookie, ...]:
    """A second factor succeeded for `subject`: log the pending login in (the session
    regenerated again, `amr` added to the first factor's, the remember-me cookie issued if
    the login asked for it), or, for a logged-in user, record the re-authentication."""
    session = request.session
    if session is None:
        raise SessionRequiredError(request.session_required_hint())
    if subject.pending:
        entry = passport.sessions.pending(session) or {}
        methods = [*subject.amr, *(m for m in amr if m not in subject.amr)]
        return await passport.login(
            request,
            subject.user,
            keep_session_info=keep_session_info,
            remember=remember or entry.get("remember") is True,
            strategy=strategy,
            amr=methods,
        )
    passport.sessions.reauthenticate(session, amr)
    if passport.events.wants(LoggedIn):
        event = LoggedIn(
            subject.serialized, strategy, True, request.client_ip, subject.user, request
        )
        await passport.events.emit(event)
    return await passport.remember(request, subject.user) if remember else ()


def cancel_pending(passport: Authenticator[Any], request: AuthRequest) -> None:
    """Forget the session's pending login, if it has one."""
    if request.session is not None:
        passport.sessions.drop_pending(request.session)
