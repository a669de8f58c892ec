"""Passkeys (WebAuthn) on py_webauthn: the registration and authentication ceremonies, and
`WebAuthnStrategy`, which logs a user in with a passkey, passwordless or as a second factor.

A ceremony has two steps. The server's `begin_*` gives the options JSON the browser script
(`passkeys_script()`, served by each adapter) hands to `navigator.credentials`, and keeps the
challenge in the session: random, single use, expiring with the timeout. The browser's answer
comes back as JSON: `finish_registration` checks a new passkey and returns what to store;
`WebAuthnStrategy` checks a login against the stored passkey.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from passport_py._extras import install_hint

try:
    from webauthn import verify_authentication_response
    from webauthn.helpers.exceptions import WebAuthnException
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        f"passport_py.strategies.webauthn needs py_webauthn: {install_hint('passkeys')}"
    ) from exc

from passport_py._async import call
from passport_py.errors import SessionRequiredError
from passport_py.events import Events, PasskeyCounterRegressed
from passport_py.options import AuthenticateOptions
from passport_py.outcomes import Outcome
from passport_py.request import AuthRequest, is_cross_site, media_type
from passport_py.strategies._webauthn_ceremonies import (
    AUTHENTICATION,
    Requirement,
    begin_authentication,
    begin_registration,
    credential_fields,
    finish_registration,
    new_user_handle,
    pop_challenge,
    verification_error,
)
from passport_py.strategies._webauthn_script import passkeys_script
from passport_py.strategies._webauthn_types import (
    Passkey,
    PasskeyError,
    RelyingParty,
    from_b64url,
)
from passport_py.strategy import Strategy

__all__ = [
    "Passkey",
    "PasskeyError",
    "RelyingParty",
    "WebAuthnStrategy",
    "begin_authentication",
    "begin_registration",
    "finish_registration",
    "new_user_handle",
    "passkeys_script",
]

Lookup = Callable[[bytes], Any]
SaveSignCount = Callable[[Passkey, int], Awaitable[None] | None]

NO_SUBJECT = "No login is waiting for a second factor"
UNKNOWN = "This passkey is not registered here"
OTHER_USER = "This passkey belongs to another account"
HANDLE_MISMATCH = "The passkey's user handle does not match its account"
REGRESSED = "The passkey's signature counter went backwards: it may have been cloned"


class WebAuthnStrategy(Strategy):
    """Log in with a passkey: the JSON body is the browser's answer to `begin_authentication`.

    `lookup(credential_id)` returns `(user, passkey)` for a registered credential id, or None;
    `save_sign_count(passkey, new_count)` stores the counter after a login; both may be sync or
    async. The session's challenge is used up by the attempt. The answer must come from one of
    `rp.origins` for `rp.id`, be signed by the stored key, carry the passkey's user handle when
    it carries one, and verify the user (PIN, biometrics) when `user_verification="required"`.

    Counters: 0 stays 0 for synced passkeys and is fine; a larger one is saved; a non-zero one
    not above the stored one emits `PasskeyCounterRegressed` (with `events=passport.events`)
    and fails with 401, unless `allow_counter_regression=True`. As a second factor
    (`second_factor=True`) the passkey must belong to `options.subject.user`, compared with
    `same_user(passkey_user, subject_user)` (default `==`). `clock` gives Unix seconds.
    """

    name = "webauthn"
    # RFC 8176 "hwk": proof of possession of a hardware-secured key. A passkey that verified
    # its user (PIN or biometrics) is two factors in one: "mfa", when every login must do so.
    amr: tuple[str, ...] = ("hwk",)

    def __init__(
        self,
        rp: RelyingParty,
        lookup: Lookup,
        save_sign_count: SaveSignCount,
        *,
        user_verification: Requirement = "preferred",
        second_factor: bool = False,
        events: Events | None = None,
        allow_counter_regression: bool = False,
        allow_cross_site: bool = False,
        same_user: Callable[[Any, Any], bool] = operator.eq,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not isinstance(rp, RelyingParty):
            raise TypeError("WebAuthnStrategy needs a RelyingParty(id, name, origins) first")
        if not callable(lookup) or not callable(save_sign_count):
            raise TypeError(
                "WebAuthnStrategy requires lookup(credential_id) and "
                "save_sign_count(passkey, new_count) callables"
            )
        if user_verification not in ("required", "preferred", "discouraged"):
            raise TypeError("user_verification must be 'required', 'preferred' or 'discouraged'")
        self.rp = rp
        self.lookup = lookup
        self.save_sign_count = save_sign_count
        self.user_verification = user_verification
        # An instance attribute: one class serves as a first and as a second factor.
        self.second_factor = second_factor
        self.events = events
        self.allow_counter_regression = allow_counter_regression
        self.allow_cross_site = allow_cross_site
        self.same_user = same_user
        self.clock = clock
        if user_verification == "required":
            self.amr = ("hwk", "mfa")

    async def authenticate(self, request: AuthRequest, options: AuthenticateOptions) -> Outcome:
        """Verify the posted assertion against the session's challenge and the stored passkey."""
        if not self.allow_cross_site and is_cross_site(request):
            return self.fail({"message": "Cross-site request refused"}, 403)
        session = request.session
        if session is None:
            raise SessionRequiredError(
                f"{request.session_required_hint()}; passkey challenges wait there",
                for_login=False,
            )
        subject = options.subject
        if self.second_factor and subject is None:
            return self.fail({"message": NO_SUBJECT}, 401)
        try:
            challenge, _ = pop_challenge(session, AUTHENTICATION, self.clock)
            data = await self._body(request)
            found = await call(self.lookup, from_b64url(data["rawId"], "rawId"))
            if found is None:
                raise PasskeyError(UNKNOWN)
            user, passkey = found
            verified = self._verify(data, challenge, passkey)
            handle = data["response"].get("userHandle")
            if handle is not None and from_b64url(handle, "userHandle") != passkey.user_handle:
                raise PasskeyError(HANDLE_MISMATCH)
            if (
                subject is not None
                and self.second_factor
                and not self.same_user(user, subject.user)
            ):
                raise PasskeyError(OTHER_USER)
        except PasskeyError as exc:
            if exc.status == 400:
                raise
            return self.fail({"message": exc.message}, exc.status)
        received = verified.new_sign_count
        if received or passkey.sign_count:
            if received <= passkey.sign_count:
                if self.events is not None and self.events.wants(PasskeyCounterRegressed):
                    event = PasskeyCounterRegressed(
                        passkey.credential_id_b64,
                        passkey.sign_count,
                        received,
                        user,
                        request.client_ip,
                        request,
                    )
                    await self.events.emit(event)
                if not self.allow_counter_regression:
                    return self.fail({"message": REGRESSED}, 401)
            else:
                await call(self.save_sign_count, passkey, received)
        return self.success(user)

    async def _body(self, request: AuthRequest) -> dict[str, Any]:
        kind = media_type(request)
        if kind != "application/json":
            raise PasskeyError("Send the passkey response as application/json", 415)
        body = await request.json()
        if not isinstance(body, Mapping):
            raise PasskeyError("The passkey response must be a JSON object", 400)
        return credential_fields(
            body, "clientDataJSON", "authenticatorData", "signature", "userHandle"
        )

    def _verify(self, data: dict[str, Any], challenge: bytes, passkey: Passkey) -> Any:
        try:
            return verify_authentication_response(
                credential=data,
                expected_challenge=challenge,
                expected_rp_id=self.rp.id,
                expected_origin=list(self.rp.origins),
                credential_public_key=passkey.public_key,
                # 0: py_webauthn would refuse a counter that did not grow before we can report
                # it; this strategy applies its own counter policy once the signature is good.
                credential_current_sign_count=0,
                require_user_verification=self.user_verification == "required",
            )
        except (WebAuthnException, ValueError, TypeError, KeyError, IndexError) as exc:
            raise verification_error(exc) from None
