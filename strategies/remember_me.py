"""`RememberMeStrategy`: a persistent login carried by a cookie after the session has ended.

The cookie holds `<series>:<validator>`. The series names one remembered login (one browser)
and never changes; the validator is a fresh random secret after every use. The app stores,
per series, only a SHA-256 hash of the validator (`RememberToken`), so a leaked table logs
nobody in. A validator that was already used and replaced means the cookie was copied: the
whole series is revoked, for the thief and the owner alike (Jaspan's improved persistent
login cookie, with the split selector/validator of Paragon's design).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from passport_py._async import call
from passport_py.cookies import Cookie
from passport_py.options import AuthenticateOptions
from passport_py.outcomes import Outcome
from passport_py.request import AuthRequest
from passport_py.strategy import Strategy

__all__ = ["RememberMeStrategy", "RememberToken"]

logger = logging.getLogger("passport_py.remember_me")

_COOKIE_VALUE = re.compile(r"([A-Za-z0-9_-]{24}):([A-Za-z0-9_-]{43})")


@dataclass(frozen=True, slots=True)
class RememberToken:
    """One remembered login as the app stores it: keep every field, keyed by `series`.

    `user` is the app's user (store its id and load the user back in `verify`);
    `validator_hash` the SHA-256 hex digest of the current validator; `previous_hash` and
    `rotated_at` (epoch seconds) the validator it replaced, still accepted for a few seconds
    so that requests a browser sends at once do not look like theft; `expires_at` (epoch
    seconds) the end of the series, fixed when it started.
    """

    user: Any
    series: str
    validator_hash: str
    expires_at: float
    previous_hash: str | None = None
    rotated_at: float | None = None


Verify = Callable[..., RememberToken | Awaitable[RememberToken | None] | None]
Issue = Callable[[RememberToken], Awaitable[None] | None]
Revoke = Callable[[str], Awaitable[None] | None]


def _digest(validator: str) -> str:
    return hashlib.sha256(validator.encode("ascii")).hexdigest()


def _seconds(value: int | float | timedelta) -> int:
    return int(value.total_seconds() if isinstance(value, timedelta) else value)


class RememberMeStrategy(Strategy):
    """Log a user back in from a remember-me cookie, rotating it on every use.

    `verify(series)` returns the `RememberToken` stored for that series (with its user), or
    None; `issue(token)` stores a token (insert or replace by `token.series`); `revoke(series)`
    deletes one. Each may be sync or async; with `pass_request=True`, `verify` gets the request
    first. Cookies are HttpOnly and SameSite=Lax, and Secure on https unless `secure=` says
    otherwise. Successful logins are not fresh.

    Install it with the adapters' `restore_with=("remember-me",)`, and issue the cookie with
    `authenticate("local", remember="remember_me")` or `login(..., remember=True)`.
    """

    name = "remember-me"
    vary = ("Cookie",)

    def __init__(
        self,
        verify: Verify,
        issue: Issue,
        *,
        revoke: Revoke,
        cookie_name: str = "remember_me",
        max_age: int | timedelta = timedelta(days=30),
        grace_period: int | timedelta = 30,
        path: str = "/",
        domain: str | None = None,
        secure: bool | None = None,
        pass_request: bool = False,
    ) -> None:
        for label, fn in (("verify", verify), ("issue", issue), ("revoke", revoke)):
            if not callable(fn):
                raise TypeError(f"RememberMeStrategy requires a {label} callable")
        self.verify = verify
        self.issue = issue
        self.revoke = revoke
        self.cookie_name = cookie_name
        self.max_age = _seconds(max_age)
        self.grace_period = _seconds(grace_period)
        self.path = path
        self.domain = domain
        self.secure = secure
        self.pass_request = pass_request

    def _cookie(self, request: AuthRequest, value: str, max_age: int) -> Cookie:
        secure = self.secure if self.secure is not None else request.url.startswith("https:")
        return Cookie(self.cookie_name, value, max_age, self.path, self.domain, secure, True, "lax")

    def _forget(self, request: AuthRequest) -> tuple[Cookie, ...]:
        return (self._cookie(request, "", 0),)

    def _series_of(self, request: AuthRequest) -> tuple[str, str] | None:
        value = request.cookies.get(self.cookie_name)
        match = _COOKIE_VALUE.fullmatch(value) if isinstance(value, str) else None
        return (match.group(1), match.group(2)) if match else None

    async def authenticate(self, request: AuthRequest, options: AuthenticateOptions) -> Outcome:
        """Pass without a cookie; log the user in (not fresh) and rotate on a good one; on a
        bad, expired or reused one, delete the cookie (and, for reuse, the series) and pass."""
        if self.cookie_name not in request.cookies:
            return self.pass_()
        parsed = self._series_of(request)
        if parsed is None:
            return self.pass_(cookies=self._forget(request))
        series, validator = parsed
        if self.pass_request:
            token = await call(self.verify, request, series)
        else:
            token = await call(self.verify, series)
        if token is None:
            return self.pass_(cookies=self._forget(request))
        now = time.time()
        if token.expires_at <= now:
            await call(self.revoke, series)
            return self.pass_(cookies=self._forget(request))
        presented = _digest(validator)
        if hmac.compare_digest(presented, token.validator_hash):
            return await self._rotate(request, token, now)
        if (
            token.previous_hash is not None
            and token.rotated_at is not None
            and now - token.rotated_at <= self.grace_period
            and hmac.compare_digest(presented, token.previous_hash)
        ):
            # A request sent together with the one that rotated the cookie: the browser
            # already holds (or is about to hold) the new one, so let it in unchanged.
            return self.success(token.user, fresh=False)
        logger.warning("remember-me cookie reused after rotation: series revoked")
        await call(self.revoke, series)
        return self.pass_(cookies=self._forget(request))

    async def _rotate(self, request: AuthRequest, token: RememberToken, now: float) -> Outcome:
        validator = secrets.token_urlsafe(32)
        await call(
            self.issue,
            replace(
                token,
                validator_hash=_digest(validator),
                previous_hash=token.validator_hash,
                rotated_at=now,
            ),
        )
        if request.session is not None:
            # The login this recall makes is saved after the app answers. If the store does
            # not answer, the response is a 503 without the new cookie: put the token back,
            # so the cookie the browser still holds lets it in when it tries again (later
            # than the grace period, it would otherwise look stolen).
            request.session.if_not_saved(functools.partial(call, self.issue, token))
        cookie = self._cookie(request, f"{token.series}:{validator}", int(token.expires_at - now))
        return self.success(token.user, cookies=(cookie,), fresh=False)

    async def remember(self, request: AuthRequest, user: Any) -> tuple[Cookie, ...]:
        """Start a remembered login for `user`: store a new series, return its cookie."""
        series, validator = secrets.token_urlsafe(18), secrets.token_urlsafe(32)
        expires_at = time.time() + self.max_age
        await call(self.issue, RememberToken(user, series, _digest(validator), expires_at))
        return (self._cookie(request, f"{series}:{validator}", self.max_age),)

    async def logout(self, request: AuthRequest) -> tuple[Cookie, ...]:
        """Revoke the request's series, if it carries one, and delete the cookie."""
        if self.cookie_name not in request.cookies:
            return ()
        parsed = self._series_of(request)
        if parsed is not None:
            await call(self.revoke, parsed[0])
        return self._forget(request)
