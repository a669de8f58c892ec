"""The authenticate engine: runs a strategy chain and applies the success and failure policy.

This is Passport 0.7's `middleware/authenticate.js` without the HTTP: it returns a `Decision`
that an adapter renders. Differences from Passport are deliberate and listed on the docs'
"Differences from Passport.js" page.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from passport_py._async import maybe_await
from passport_py.cookies import Cookie
from passport_py.decisions import (
    NO_STORE,
    AuthResult,
    Decision,
    Handoff,
    Proceed,
    Respond,
    redirect_response,
    status_response,
)
from passport_py.errors import (
    AuthenticationError,
    BadRequest,
    SessionRequiredError,
    StrategyError,
)
from passport_py.events import LoginFailed, Throttled
from passport_py.options import AuthenticateOptions, FlashOption
from passport_py.outcomes import Fail, Pass, Redirect, Success
from passport_py.redirects import is_safe_redirect
from passport_py.second_factor import (
    callback_result,
    complete_login,
    left_pending,
    second_factor_account,
    with_subject,
)
from passport_py.strategy import Strategy
from passport_py.throttle import (
    LoginThrottle,
    Refusal,
    ThrottleStoreUnavailable,
    normalize_account,
)
from passport_py.wants import wants_json, wants_remember

if TYPE_CHECKING:
    from passport_py.authenticator import Authenticator
    from passport_py.request import AuthRequest

__all__ = ["StrategySpec", "run_authentication"]

logger = logging.getLogger("passport_py")

StrategySpec = str | Strategy | Sequence[str | Strategy]
"""The strategies of a route: a registered name, a `Strategy` instance, or a list of
either, tried in order until one succeeds.
"""

_PROCEED = Proceed()


async def run_authentication(
    passport: Authenticator[Any],
    request: AuthRequest,
    strategies: StrategySpec,
    options: AuthenticateOptions,
    *,
    callback: bool = False,
) -> Decision:
    """Try each strategy in order; the first success, redirect, pass or error ends the chain."""
    chain = [strategies] if isinstance(strategies, str | Strategy) else list(strategies)
    failures: list[Fail] = []
    first_failed: str | None = None
    vary: tuple[str, ...] = ()
    throttle = passport.throttle
    for layer in chain:
        strategy = passport.strategy(layer)
        if strategy.vary:
            vary = _union(vary, strategy.vary)
        # The name it runs under, not its class's: one class serves several registrations.
        name = layer if isinstance(layer, str) else strategy.name
        named = options.for_strategy(name)
        account: str | None = None
        try:
            if strategy.second_factor:
                # Per request, never cached on the route's options: whose code is checked.
                prepared = await with_subject(passport, request, named, name)
                if isinstance(prepared, Fail):
                    failures.append(prepared)
                    first_failed = first_failed or name
                    continue
                named = prepared
            if throttle is not None:
                account = await _account_of(strategy, request, named)
                if account is not None:
                    # Counted before verify: concurrent guesses cannot all pass the check.
                    refusal = await throttle.attempt(account, request.client_ip)
                    if refusal is not None:
                        return await _throttled(
                            passport, throttle, request, account, refusal, options, vary, callback
                        )
            outcome = await maybe_await(strategy.authenticate(request, named))
        except BadRequest as exc:
            outcome = Fail({"message": exc.message}, exc.status)
        except Exception as exc:
            if isinstance(exc, ThrottleStoreUnavailable) and not callback:
                # Fail closed, as the session store does: no verify without a working limit.
                logger.error("login throttle store unavailable, answering 503: %s", exc)
                return _with_extras(_UNAVAILABLE, vary, ())
            if callback:
                return Handoff(AuthResult(error=exc), _cookies_of(failures, None), vary)
            if isinstance(exc, StrategyError):
                # An upstream failure is answered, not crashed on: the client learns the
                # status, the log the details (which may quote the upstream's answer).
                logger.warning("%s: %s", type(exc).__name__, exc.message)
                return _with_extras(status_response(exc.status), vary, ())
            raise
        if type(outcome) is Fail:
            if not failures:
                first_failed = name
            failures.append(outcome)
        elif type(outcome) is Success:
            if account is not None and throttle is not None:
                await _forget_failures(throttle, account, request)
            if named.subject is not None:
                # A second factor logs in (or re-authenticates) whom it checked, nobody else.
                outcome = replace(outcome, user=named.subject.user)
            if callback:
                result = await callback_result(passport, request, outcome, named, name, strategy)
                return Handoff(result, _cookies_of(failures, outcome), vary)
            return await _succeeded(
                passport,
                request,
                outcome,
                named,
                _cookies_of(failures, outcome),
                vary,
                name,
                strategy,
            )
        elif type(outcome) is Redirect:
            return redirect_response(outcome.url, outcome.status)
        elif type(outcome) is Pass:
            cookies = _cookies_of(failures, outcome)
            return Proceed(cookies=cookies, vary=vary) if cookies or vary else _PROCEED
        else:
            raise TypeError(
                f"strategy {type(strategy).__name__}.authenticate returned {outcome!r}; "
                "return self.success(...), self.fail(...), self.redirect(...) or self.pass_()"
            )
    if passport.events.wants(LoginFailed):
        await passport.events.emit(_login_failed(request, failures, first_failed))
    return _all_failed(passport, request, failures, options, vary, callback=callback)


_UNAVAILABLE = replace(
    status_response(503), headers=(*status_response(503).headers, ("Retry-After", "1"))
)


async def _account_of(
    strategy: Strategy, request: AuthRequest, options: AuthenticateOptions
) -> str | None:
    """The account the request is for: a second factor's subject, or the one the strategy
    names; None when the request is malformed (its `authenticate` then answers the 400)."""
    if options.subject is not None:
        return second_factor_account(options.subject.serialized)
    try:
        account = await maybe_await(strategy.account(request))
    except BadRequest:
        return None
    return account or None


async def _forget_failures(throttle: LoginThrottle, account: str, request: AuthRequest) -> None:
    try:
        await throttle.succeeded(account, request.client_ip)
    except ThrottleStoreUnavailable as exc:
        # The user proved the password; the counter just stays until its window ends.
        logger.warning("login throttle store unavailable, failures not reset: %s", exc)


async def _throttled(
    passport: Authenticator[Any],
    throttle: LoginThrottle,
    request: AuthRequest,
    account: str,
    refusal: Refusal,
    options: AuthenticateOptions,
    vary: tuple[str, ...],
    callback: bool,
) -> Decision:
    """The answer to an attempt refused by the throttle (verify was not called): 429 with
    `Retry-After`, or the failure redirect with the wait in its flash, or the callback."""
    if passport.events.wants(Throttled):
        event = Throttled(
            normalize_account(account),
            request.client_ip,
            refusal.scope,
            refusal.retry_after,
            request,
        )
        await passport.events.emit(event)
    message = throttle.message(refusal)
    challenge = {"message": message, "retry_after": refusal.retry_after}
    result: AuthResult[Any] = AuthResult(challenges=[challenge], statuses=[429])
    if callback:
        return Handoff(result, (), vary)
    source = {"message": message, "type": "error"}
    flash = bool(options.failure_flash)
    _flash_and_message(passport, request, flash, bool(options.failure_message), source, "error")
    if options.failure_redirect:
        response = replace(redirect_response(options.failure_redirect), result=result)
        return _with_extras(response, vary, ())
    retry = ("Retry-After", str(refusal.retry_after))
    if wants_json(request):
        body = json.dumps({"error": "too_many_attempts", "message": message})
        headers = (("Content-Type", "application/json"), NO_STORE, retry)
    else:
        body, headers = message, (("Content-Type", "text/plain; charset=utf-8"), NO_STORE, retry)
    return _with_extras(Respond(429, headers, body, result=result), vary, ())


def _login_failed(request: AuthRequest, failures: list[Fail], strategy: str | None) -> LoginFailed:
    """The event for a chain whose strategies all failed (the first failure speaks for it)."""
    account = next((f.account for f in failures if f.account), None)
    status = next((f.status for f in failures if f.status), None) or 401
    reason = _message_of(failures[0].challenge) if failures else None
    return LoginFailed(strategy, account, request.client_ip, status, reason, request)


def _union(names: tuple[str, ...], more: tuple[str, ...]) -> tuple[str, ...]:
    return names + tuple(n for n in more if n not in names)


def _cookies_of(failures: list[Fail], last: Success[Any] | Pass | None) -> tuple[Cookie, ...]:
    mine = last.cookies if last is not None else ()
    if not failures:
        return mine
    return tuple(c for f in failures for c in f.cookies) + mine


def _with_extras(response: Respond, vary: tuple[str, ...], cookies: tuple[Cookie, ...]) -> Respond:
    """`response` naming the request headers the strategies read, and carrying their cookies."""
    if not vary and not cookies:
        return response
    headers = response.headers + ((("Vary", ", ".join(vary)),) if vary else ())
    return replace(response, headers=headers, cookies=response.cookies + cookies)


async def _succeeded(
    passport: Authenticator[Any],
    request: AuthRequest,
    outcome: Success[Any],
    options: AuthenticateOptions,
    cookies: tuple[Cookie, ...],
    vary: tuple[str, ...],
    name: str | None,
    strategy: Strategy,
) -> Decision:
    user = outcome.user
    info = {} if outcome.info is None else outcome.info
    if options.assign_property:
        _flash_and_message(
            passport, request, options.success_flash, options.success_message, info, "success"
        )
        auth_info = await passport.transform(info, request) if options.auth_info else None
        return Proceed(
            user, auth_info, True, False, options.assign_property, cookies, vary, outcome.fresh
        )

    if options.session:
        remember = bool(options.remember) and await wants_remember(request, options.remember)
        pending = await left_pending(
            passport, request, outcome, options, name, strategy, remember=remember
        )
        if pending is not None:
            return _with_extras(pending, vary, cookies)
        if options.subject is not None:
            cookies += await complete_login(
                passport,
                request,
                options.subject,
                strategy=name,
                amr=strategy.amr,
                remember=remember,
                keep_session_info=options.keep_session_info,
            )
        else:
            cookies += await passport.login(
                request,
                user,
                keep_session_info=options.keep_session_info,
                fresh=outcome.fresh,
                remember=remember,
                strategy=name,
                amr=strategy.amr,
            )
    # Flash after the login: Passport flashes first and loses it to the regeneration.
    _flash_and_message(
        passport, request, options.success_flash, options.success_message, info, "success"
    )
    auth_info = await passport.transform(info, request) if options.auth_info else None

    target = None
    if options.success_return_to_or_redirect:
        target = _return_to(passport, request) or options.success_return_to_or_redirect
    elif options.success_redirect:
        target = options.success_redirect
    if target is not None:
        response = replace(redirect_response(target), result=AuthResult(user=user, info=auth_info))
        return _with_extras(response, vary, cookies)
    return Proceed(user, auth_info, True, options.session, None, cookies, vary, outcome.fresh)


def _return_to(passport: Authenticator[Any], request: AuthRequest) -> str | None:
    """The return-to URL saved in the session (popped), else a `next` query parameter; safe only."""
    session = request.session
    saved = session.pop(passport.return_to_key, None) if session is not None else None
    if is_safe_redirect(saved):
        return str(saved)
    wanted = request.query.get("next")
    return wanted if is_safe_redirect(wanted) else None


def _all_failed(
    passport: Authenticator[Any],
    request: AuthRequest,
    failures: list[Fail],
    options: AuthenticateOptions,
    vary: tuple[str, ...],
    *,
    callback: bool,
) -> Decision:
    failed: AuthResult[Any] = AuthResult(
        challenges=[f.challenge for f in failures], statuses=[f.status for f in failures]
    )
    if callback:
        return Handoff(failed, tuple(c for f in failures for c in f.cookies), vary)
    first = failures[0].challenge if failures else None
    _flash_and_message(
        passport, request, options.failure_flash, options.failure_message, first, "error"
    )
    cookies = tuple(c for f in failures for c in f.cookies)
    if options.failure_redirect:
        response = replace(redirect_response(options.failure_redirect), result=failed)
        return _with_extras(response, vary, cookies)
    status = next((f.status for f in failures if f.status), None) or 401
    # On a 401 every string challenge is a WWW-Authenticate value (Passport); on another
    # status only those of the failures that chose it and asked for the header (RFC 6750's
    # 400 invalid_request and 403 insufficient_scope).
    challenges = [
        f.challenge
        for f in failures
        if isinstance(f.challenge, str)
        and (status == 401 or (f.www_authenticate and f.status == status))
    ]
    if options.fail_with_error:
        raise AuthenticationError(status, challenges)
    return _with_extras(replace(status_response(status, challenges), result=failed), vary, cookies)


def _message_of(source: Any) -> str | None:
    if isinstance(source, str):
        return source
    if isinstance(source, Mapping):
        message = source.get("message")
        return message if isinstance(message, str) else None
    return None


def _flash_and_message(
    passport: Authenticator[Any],
    request: AuthRequest,
    flash: FlashOption,
    message: bool | str | None,
    source: Any,
    default_type: str,
) -> None:
    """Apply `*_flash` and `*_message` with Passport's precedence (reference 1.12)."""
    if flash:
        kind: str = default_type
        text: str | None
        if isinstance(flash, str):
            text = flash
        else:
            own_type = source.get("type") if isinstance(source, Mapping) else None
            spec = flash if isinstance(flash, Mapping) else {}
            if flash is True:
                kind = own_type if isinstance(own_type, str) and own_type else default_type
            else:
                kind = str(spec.get("type") or default_type)
            text = spec.get("message") or _message_of(source)
        if isinstance(text, str):
            request.flash(kind, text)
    if message:
        text = message if isinstance(message, str) else _message_of(source)
        if text is None:
            return
        session = request.session
        if session is None:
            raise SessionRequiredError(request.session_required_hint(), for_login=False)
        messages = session.get(passport.messages_key)
        session[passport.messages_key] = [*(messages if isinstance(messages, list) else ()), text]
