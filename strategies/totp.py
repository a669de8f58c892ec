"""`TotpStrategy`: a second factor checking time-based one-time codes (RFC 6238), and the
helpers of an enrollment page: a new secret, its `otpauth://` URI, a QR code as inline SVG,
and confirming the enrollment with a first code.

Codes are computed by pyotp (HMAC-SHA1, the algorithm every authenticator app supports) and
compared in constant time over the accepted time steps. Each code is accepted once: the app
stores the time step of the last accepted code, and a code whose step is not later is
refused. Needs the `totp` extra (pyotp, segno).
"""

from __future__ import annotations

import base64
import hmac
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias
from urllib.parse import quote, urlencode

from passport_py._extras import install_hint

try:
    import pyotp
    import segno
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        f"passport_py.strategies.totp needs pyotp and segno: {install_hint('totp')}"
    ) from exc

from passport_py._async import call
from passport_py.errors import ConfigurationError
from passport_py.options import AuthenticateOptions
from passport_py.outcomes import Outcome
from passport_py.request import AuthRequest
from passport_py.strategies._posted_code import NO_SUBJECT, posted_code
from passport_py.strategy import Strategy

__all__ = [
    "Clock",
    "SaveStep",
    "TotpLookup",
    "TotpStrategy",
    "confirm_enrollment",
    "new_totp_secret",
    "totp_qr_svg",
    "totp_uri",
]

logger = logging.getLogger("passport_py.strategies.totp")

TotpLookup: TypeAlias = Callable[
    [Any], "tuple[str, int | None] | Awaitable[tuple[str, int | None] | None] | None"
]
"""`lookup(user)` -> `(secret, last_used_step)` (the step None before the first use), or None
when the user has no authenticator app enrolled; sync or async."""
SaveStep: TypeAlias = Callable[[Any, int], "bool | Awaitable[bool | None] | None"]
"""`save_step(user, step)`: record the accepted time step, only if it is later than the one
stored (compare-and-set); return False when another request stored this step or a later one
first. Sync or async."""
Clock: TypeAlias = Callable[[], float]
"""Returns the current Unix time in seconds (`time.time`)."""

_MAX_WINDOW = 2


def new_totp_secret() -> str:
    """A new random TOTP secret: 160 bits (RFC 4226's recommended length) in base32, 32 chars."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii")


def totp_uri(secret: str, account: str, issuer: str, *, digits: int = 6, period: int = 30) -> str:
    """The `otpauth://totp/Issuer:account?secret=...&issuer=Issuer` URI authenticator apps
    read from a QR code (the Key URI format Google Authenticator defined).

    `account` is what the app shows under the issuer (the user's email or name); both are
    percent-encoded, so any character is safe. `issuer` may not contain a colon: apps split
    the label on it.
    """
    _check_params(digits=digits, period=period)
    if not issuer or ":" in issuer:
        raise ConfigurationError("totp_uri(): the issuer must be a non-empty name without ':'")
    if not account:
        raise ValueError("totp_uri(): the account name must not be empty")
    _totp(secret, digits, period)  # refuses a malformed secret here, not in the user's app
    label = f"{quote(issuer, safe='')}:{quote(account, safe='')}"
    params: dict[str, str | int] = {"secret": secret, "issuer": issuer}
    # Left out at their defaults: some apps refuse parameters they do not expect.
    if digits != 6:
        params["digits"] = digits
    if period != 30:
        params["period"] = period
    return f"otpauth://totp/{label}?{urlencode(params, quote_via=quote)}"


def totp_qr_svg(uri: str, *, scale: int = 4, title: str | None = None) -> str:
    """The QR code of `uri` as an inline `<svg>` element to put in the enrollment page.

    Self-contained (no script, no external reference) and free of the URI's text; `title`,
    when given, becomes an escaped `<title>` for screen readers. The page showing it holds the
    secret: serve it with `Cache-Control: no-store`.
    """
    qr = segno.make(uri, error="m", micro=False)
    svg: str = qr.svg_inline(scale=scale, title=title)
    return svg


def confirm_enrollment(
    secret: str,
    code: str,
    *,
    digits: int = 6,
    period: int = 30,
    valid_window: int = 1,
    clock: Clock = time.time,
) -> int | None:
    """The time step of `code` when it is the right code for `secret` now, else None.

    Ask for a code before storing a new secret: it proves the user's app holds the secret.
    Store the step returned as the secret's last used step, so the same code cannot then be
    used to log in.
    """
    _check_params(digits=digits, period=period, valid_window=valid_window)
    if not _well_formed(code, digits):
        return None
    return _matching_step(_totp(secret, digits, period), code, clock, period, valid_window)


class TotpStrategy(Strategy):
    """Second factor: a code from the user's authenticator app (RFC 6238, SHA-1, 30 s steps).

    `lookup(user)` returns `(secret, last_used_step)` or None when the user has no app
    enrolled; `save_step(user, step)` records the step of an accepted code and must do it
    atomically, only when the step is later than the stored one (compare-and-set), returning
    False when another request won the race: a code is then accepted exactly once, even when
    submitted twice at the same moment. Both may be sync or async.

    The code is read from the form or JSON field `field` (a string of exactly `digits`
    digits; anything else is a 400). Codes of the current step and `valid_window` steps either
    side are accepted (clock drift, typing time), unless their step is not later than the last
    used one. The server's `clock` is the only time used.
    """

    name = "totp"
    amr = ("otp",)
    second_factor = True

    def __init__(
        self,
        lookup: TotpLookup,
        save_step: SaveStep,
        *,
        field: str = "code",
        valid_window: int = 1,
        digits: int = 6,
        period: int = 30,
        clock: Clock = time.time,
    ) -> None:
        if not callable(lookup) or not callable(save_step):
            raise TypeError("TotpStrategy requires lookup(user) and save_step(user, step)")
        _check_params(digits=digits, period=period, valid_window=valid_window)
        self.lookup = lookup
        self.save_step = save_step
        self.field = field
        self.valid_window = valid_window
        self.digits = digits
        self.period = period
        self.clock = clock
        self._malformed = f"Enter the {digits}-digit code"

    async def authenticate(self, request: AuthRequest, options: AuthenticateOptions) -> Outcome:
        """Check the posted code for `options.subject.user` and record its time step."""
        subject = options.subject
        if subject is None:
            return NO_SUBJECT
        code = await posted_code(request, self.field, self._malformed)
        if not isinstance(code, str):
            return code
        if not _well_formed(code, self.digits):
            return self.fail({"message": self._malformed}, 400)
        account = str(subject.serialized)
        found = await call(self.lookup, subject.user)
        if found is None:
            return self.fail(
                {"message": "No authenticator app is set up for this account"}, 401, account=account
            )
        secret, last_step = found
        try:
            totp = _totp(secret, self.digits, self.period)
        except (ValueError, TypeError) as exc:
            logger.warning("TOTP refused for user %r: stored secret unusable: %s", account, exc)
            return self.fail({"message": "Invalid or already used code"}, 401, account=account)
        step = _matching_step(totp, code, self.clock, self.period, self.valid_window, last_step)
        # A code already used, and one whose step a concurrent request stored first, fail
        # like a wrong code.
        if step is None or await call(self.save_step, subject.user, step) is False:
            return self.fail({"message": "Invalid or already used code"}, 401, account=account)
        return self.success(subject.user)


def _check_params(*, digits: int, period: int, valid_window: int = 1) -> None:
    if not (6 <= digits <= 8 and 1 <= period <= 120 and 0 <= valid_window <= _MAX_WINDOW):
        raise ConfigurationError(
            "TOTP parameters out of range: digits 6..8, period 1..120 seconds, valid_window "
            f"0..{_MAX_WINDOW} steps (codes older than that are refused, ASVS V6.5.5)"
        )


def _well_formed(code: str, digits: int) -> bool:
    # ASCII digits only: str.isdigit() would accept "٣" or "³".
    return len(code) == digits and re.fullmatch(r"[0-9]+", code, re.ASCII) is not None


def _totp(secret: str, digits: int, period: int) -> pyotp.TOTP:
    if not isinstance(secret, str):
        raise TypeError(f"a TOTP secret is a base32 str, not {type(secret).__name__}")
    totp = pyotp.TOTP(secret, digits=digits, interval=period)
    totp.byte_secret()  # raises for a secret that is not base32
    return totp


def _matching_step(
    totp: pyotp.TOTP,
    code: str,
    clock: Clock,
    period: int,
    window: int,
    last_step: int | None = None,
) -> int | None:
    """The latest step within `window` of now, and after `last_step`, whose code is `code`."""
    now = int(clock()) // period
    matched: int | None = None
    given = code.encode("ascii")
    # Every candidate is compared, without stopping early, so timing says nothing about which.
    for step in range(max(now - window, 0), now + window + 1):
        expected = totp.generate_otp(step).encode("ascii")
        if hmac.compare_digest(given, expected) and (last_step is None or step > last_step):
            matched = step
    return matched
