"""`EmailCodeStrategy`: a short one-time code sent by email, as a first or a second factor.

One strategy, two steps on the same route. A request without a code asks for one: the strategy
makes a random code, keeps only its keyed digest in the session, has the app's `send` mail it,
and passes (the view answers "check your email"). A request with a code checks it against the
session's pending code: right, and the user is authenticated and the code gone; wrong, and one
of its attempts is used up.

The digest is HMAC-SHA256 under a key derived from the app's `secret`, over the code, a random
nonce and what the code is bound to (the address, or the user of a second factor). A 6-digit
code has a million values: any unkeyed hash of it, however slow, is reversed offline in
moments by whoever can read the session, and cookie sessions (Starlette's, Flask's) are
readable by the client. Keyed by a secret the client never sees, the digest tells it nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any, TypeGuard

from passport_py._async import call
from passport_py.errors import BadRequest, ConfigurationError, SessionRequiredError
from passport_py.options import AuthenticateOptions, Subject
from passport_py.outcomes import Fail, Outcome
from passport_py.request import AuthRequest, is_cross_site
from passport_py.strategies._posted import posted_fields
from passport_py.strategy import Strategy
from passport_py.throttle import Limit, ThrottleStore, client_bucket, normalize_account
from passport_py.throttle.policy import wait_text

__all__ = ["EmailCodeStrategy"]

Lookup = Callable[[str], Any | Awaitable[Any]]
AddressOf = Callable[[Any], str | Awaitable[str | None] | None]
Send = Callable[[str, str, AuthRequest], Awaitable[None] | None]

#: RFC 5321's longest usable address.
_MAX_EMAIL = 254
#: Code requests one client address may make (with `address_store`) across every address.
_CLIENT_LIMIT = Limit(attempts=30, window=3600, base_delay=120, max_delay=3600)

WRONG_CODE = "Wrong code."
NO_CODE = "No code was requested in this session; ask for a new one."
EXPIRED = "The code has expired; ask for a new one."
USED_UP = "Too many wrong codes; ask for a new one."
NO_SUBJECT = "No login is waiting for a second factor"


class EmailCodeStrategy(Strategy):
    """Log in (or confirm a login) with a one-time code mailed to the user.

    `send(address, code, request)`, sync or async, is the app's mailer. As a first factor
    (the default) `lookup(email)` returns the user with that address or None; the address it
    gets is normalized (`normalize_account`: NFKC, case-folded, stripped), and the code goes to
    `address_of(user)` when given, else to that normalized address, never to the spelling
    typed (an account whose `address_of` is None gets no mail and the same answer). As a second
    factor (`second_factor=True`) the code is for `options.subject.user` and goes to
    `address_of(user)`.

    A request without `code_field` asks for a code: the answer, a pass to the view, is the same
    whether or not the address has an account (`send` is called only when it has). A new code
    replaces the previous one, at most once every `resend_after` seconds per session (and per
    address with `address_store`, a `ThrottleStore`); sooner is answered 429. A request with a
    code checks it: it must be the session's latest code for the same address or user, younger
    than `max_age` seconds; each wrong code uses one of `max_attempts`, and the last one
    discards it. A right code is used up. Malformed fields are answered 400, a form posted from
    another site 403 (unless `allow_cross_site=True`). `secret` (32 bytes or more) keys the
    digest the session keeps. `clock` gives Unix seconds (injectable for tests).
    """

    name = "email-code"
    # RFC 8176 registers no value for a code sent by email; "otp" would let an email code pass
    # where an authenticator app is required (`fresh_login_required(factors=["otp"])`).
    amr = ("email",)

    def __init__(
        self,
        send: Send,
        *,
        secret: str | bytes,
        lookup: Lookup | None = None,
        address_of: AddressOf | None = None,
        second_factor: bool = False,
        code_length: int = 6,
        max_age: float = 600,
        max_attempts: int = 5,
        resend_after: float = 60,
        email_field: str = "email",
        code_field: str = "code",
        address_store: ThrottleStore | None = None,
        allow_cross_site: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not callable(send):
            raise TypeError("EmailCodeStrategy requires a send(address, code, request) callable")
        if second_factor and not callable(address_of):
            raise ConfigurationError(
                "EmailCodeStrategy(second_factor=True) needs address_of=: a callable giving "
                "the email address of the user the code is for"
            )
        if not second_factor and not callable(lookup):
            raise ConfigurationError(
                "EmailCodeStrategy needs lookup=: a callable giving the user with an email "
                "address, or None (pass second_factor=True to use it as a second factor)"
            )
        raw = secret.encode("utf-8") if isinstance(secret, str) else secret
        if not isinstance(raw, bytes) or len(raw) < 32:
            raise ConfigurationError(
                "EmailCodeStrategy(secret=...) must be 32 bytes or more, kept out of the "
                "session (for example secrets.token_urlsafe(32), or the app's secret key)"
            )
        if isinstance(code_length, bool) or code_length not in range(6, 11):
            raise ConfigurationError("EmailCodeStrategy(code_length=...) takes 6 to 10 digits")
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise ConfigurationError("EmailCodeStrategy(max_attempts=...) must be 1 or more")
        if not max_age > 0 or not resend_after >= 0:
            raise ConfigurationError(
                "EmailCodeStrategy needs max_age= > 0 and resend_after= >= 0 (seconds)"
            )
        self.send = send
        self.lookup = lookup
        self.address_of = address_of
        # An instance attribute: one class serves as a first and as a second factor.
        self.second_factor = second_factor
        self.code_length = code_length
        self.max_age = max_age
        self.max_attempts = max_attempts
        self.resend_after = resend_after
        self.email_field = email_field
        self.code_field = code_field
        self.address_store = address_store
        self.allow_cross_site = allow_cross_site
        self.clock = clock
        # Derived, so an app secret shared with other uses never keys these digests directly.
        self._key = hmac.new(raw, b"passport_py email code", hashlib.sha256).digest()
        self._address_limit = (
            Limit(1, resend_after, resend_after, resend_after) if resend_after > 0 else None
        )

    async def authenticate(self, request: AuthRequest, options: AuthenticateOptions) -> Outcome:
        """Send a code (no code in the request) or check the code the request carries."""
        if not self.allow_cross_site and is_cross_site(request):
            return self.fail({"message": "Cross-site request refused"}, 403)
        session = request.session
        if session is None:
            raise SessionRequiredError(
                f"{request.session_required_hint()}; email codes wait there", for_login=False
            )
        email, code = await self._fields(request)
        key = "email_code:" + (options.strategy_name or self.name or "email-code")
        binding: str | None
        if self.second_factor:
            if options.subject is None:
                return self.fail({"message": NO_SUBJECT}, 401)
            binding = _subject_binding(options.subject)
        else:
            if email is None and code is None:
                raise BadRequest("Enter your email address")
            binding = _normalized_email(email) if email is not None else None
        if code is None:
            assert binding is not None  # first factor: email given; second: subject's
            return await self._issue(request, options.subject, session, key, binding)
        return await self._check(options.subject, session, key, binding, _clean_code(code, self))

    async def account(self, request: AuthRequest) -> str | None:
        """As a first factor, the address a submitted code is for (throttled like a login)."""
        if self.second_factor or request.session is None:
            return None
        email, code = await self._fields(request)
        if code is None:
            return None
        if email is not None:
            return _normalized_email(email)
        for name, pending in request.session.items():
            # The first-factor code of this session (a second factor's is bound to "user:...").
            if name.startswith("email_code:") and _well_formed(pending):
                bound: str = pending["for"]
                if not bound.startswith("user:"):
                    return bound
        return None

    async def _issue(
        self,
        request: AuthRequest,
        subject: Subject | None,
        session: MutableMapping[str, Any],
        key: str,
        binding: str,
    ) -> Outcome:
        now = self.clock()
        pending = session.get(key)
        sent = pending.get("sent") if isinstance(pending, Mapping) else None
        if isinstance(sent, int | float) and now - sent < self.resend_after:
            return _wait(math.ceil(self.resend_after - (now - sent)))
        if self.address_store is not None and self._address_limit is not None:
            refusal = await self.address_store.attempt(
                "email-code:" + binding,
                "email-code:" + client_bucket(request.client_ip),
                self._address_limit,
                _CLIENT_LIMIT,
            )
            if refusal is not None:
                return _wait(refusal.retry_after)
        # The same work whether or not the address has an account: look up, make and keep a
        # code; only the mail itself depends on the answer.
        user = subject.user if subject is not None else await call(_need(self.lookup), binding)
        address: str | None = None
        if user is not None:
            address = await call(self.address_of, user) if self.address_of else binding
            if not address and self.second_factor:
                return self.fail({"message": "This account has no email address for codes"}, 403)
        code = f"{secrets.randbelow(10**self.code_length):0{self.code_length}d}"
        nonce = secrets.token_hex(16)
        session[key] = {
            "for": binding,
            "nonce": nonce,
            "digest": self._digest(binding, nonce, code),
            "expires": now + self.max_age,
            "attempts": self.max_attempts,
            "sent": now,
        }
        if address:
            await call(self.send, address, code, request)
        return self.pass_()

    async def _check(
        self,
        subject: Subject | None,
        session: MutableMapping[str, Any],
        key: str,
        binding: str | None,
        code: str,
    ) -> Outcome:
        pending = session.get(key)
        if not _well_formed(pending):
            session.pop(key, None)
            return self.fail({"message": NO_CODE}, 401)
        bound: str = pending["for"]
        if binding is None:  # first factor, the code posted without its address
            binding = bound
        account = None if self.second_factor else binding
        if self.clock() >= pending["expires"]:
            del session[key]
            return self.fail({"message": EXPIRED}, 401, account=account)
        expected = self._digest(binding, pending["nonce"], code)
        if not hmac.compare_digest(expected, pending["digest"]):
            left = pending["attempts"] - 1
            if left <= 0:
                del session[key]
                return self.fail({"message": USED_UP}, 401, account=account)
            session[key] = {**pending, "attempts": left}
            return self.fail({"message": WRONG_CODE, "attempts_left": left}, 401, account=account)
        del session[key]  # single use, before anything else can fail
        user = subject.user if subject is not None else await call(_need(self.lookup), binding)
        if user is None:  # no account: no code was sent, or the account went meanwhile
            return self.fail({"message": WRONG_CODE}, 401, account=account)
        return self.success(user)

    def _digest(self, binding: str, nonce: str, code: str) -> str:
        mode = "second" if self.second_factor else "first"
        message = "\0".join((mode, binding, nonce, code)).encode("utf-8", "surrogatepass")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    async def _fields(self, request: AuthRequest) -> tuple[str | None, str | None]:
        """The posted email and code (None when absent or empty); `BadRequest` when malformed."""
        fields = (self.email_field, self.code_field)
        email, code = await posted_fields(request, fields, "the fields")
        return email or None, code or None


def _need(lookup: Lookup | None) -> Lookup:
    assert lookup is not None  # checked in __init__ for the first-factor mode
    return lookup


def _wait(seconds: int) -> Fail:
    message = f"A code was sent recently. Wait {wait_text(seconds)} before asking for another."
    return Fail({"message": message, "retry_after": seconds}, 429)


def _normalized_email(value: str) -> str:
    """`value` as one address (see `normalize_account`), or `BadRequest` if it is none."""
    email = normalize_account(value)
    local, at, domain = email.rpartition("@")
    if (
        len(email) > _MAX_EMAIL
        or not at
        or not local
        or "@" in local
        or "." not in domain.strip(".")
        or any(c.isspace() or not c.isprintable() for c in email)
    ):
        raise BadRequest("Enter a valid email address")
    return email


def _clean_code(value: str, strategy: EmailCodeStrategy) -> str:
    """The code as digits: spaces and hyphens people type are dropped; other shapes are 400."""
    code = value.replace(" ", "").replace("-", "")
    if len(code) != strategy.code_length or not (code.isascii() and code.isdigit()):
        raise BadRequest(f"Enter the {strategy.code_length}-digit code from the email")
    return code


def _subject_binding(subject: Subject) -> str:
    return "user:" + json.dumps(subject.serialized, sort_keys=True, default=repr)


def _well_formed(pending: Any) -> TypeGuard[Mapping[str, Any]]:
    return (
        isinstance(pending, Mapping)
        and isinstance(pending.get("for"), str)
        and isinstance(pending.get("nonce"), str)
        and isinstance(pending.get("digest"), str)
        and isinstance(pending.get("expires"), int | float)
        and isinstance(pending.get("attempts"), int)
    )
