"""The two WebAuthn ceremonies on py_webauthn: options out, challenge into the session, the
browser's answer checked against it. Every failure is a `PasskeyError` (400 or 401)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_registration_response,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from passport_py.errors import BadRequest, ConfigurationError
from passport_py.request import parse_json_body
from passport_py.strategies._webauthn_types import (
    Passkey,
    PasskeyError,
    RelyingParty,
    b64url,
    from_b64url,
)

__all__ = [
    "AUTHENTICATION",
    "REGISTRATION",
    "begin_authentication",
    "begin_registration",
    "credential_fields",
    "finish_registration",
    "new_user_handle",
    "pop_challenge",
    "verification_error",
]

Clock = Callable[[], float]
Requirement = Literal["required", "preferred", "discouraged"]
REGISTRATION = "passkey_registration"
AUTHENTICATION = "passkey_authentication"
_REQUIREMENTS = ("required", "preferred", "discouraged")
_TRANSPORTS = {t.value for t in AuthenticatorTransport}
_MAX_BODY_FIELD = 64 * 1024


def new_user_handle() -> bytes:
    """A new WebAuthn user handle: 32 random bytes. Store one per user, and never change it."""
    return secrets.token_bytes(32)


def _requirement(value: str, what: str) -> str:
    if value not in _REQUIREMENTS:
        raise ConfigurationError(f"{what} must be one of {', '.join(_REQUIREMENTS)}; got {value!r}")
    return value


def _timeout(timeout_ms: int) -> int:
    if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int) or timeout_ms < 10_000:
        raise ConfigurationError("timeout_ms must be an int of 10000 (10 seconds) or more")
    return timeout_ms


def _descriptors(passkeys: Sequence[Passkey]) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(
            id=p.credential_id,
            transports=[AuthenticatorTransport(t) for t in p.transports if t in _TRANSPORTS],
        )
        for p in passkeys
    ]


def begin_registration(
    session: MutableMapping[str, Any],
    rp: RelyingParty,
    *,
    user_handle: bytes,
    user_name: str,
    display_name: str | None = None,
    exclude: Sequence[Passkey] = (),
    resident_key: Requirement = "required",
    user_verification: Requirement = "preferred",
    timeout_ms: int = 300_000,
    clock: Clock = time.time,
) -> str:
    """The JSON options for `navigator.credentials.create` for the logged-in user; the challenge
    (single use, expiring with `timeout_ms`) and `user_handle` are kept in `session`."""
    if not isinstance(user_handle, bytes) or not 1 <= len(user_handle) <= 64:
        raise ConfigurationError("user_handle must be 1 to 64 bytes: use new_user_handle()")
    if not isinstance(user_name, str) or not user_name:
        raise ConfigurationError("user_name must be a non-empty string (the account's name)")
    challenge = secrets.token_bytes(32)
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_name=user_name,
        user_id=user_handle,
        user_display_name=display_name or user_name,
        challenge=challenge,
        timeout=_timeout(timeout_ms),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement(_requirement(resident_key, "resident_key")),
            user_verification=UserVerificationRequirement(
                _requirement(user_verification, "user_verification")
            ),
        ),
        exclude_credentials=_descriptors(exclude),
    )
    session[REGISTRATION] = {
        "challenge": b64url(challenge),
        "expires": clock() + timeout_ms / 1000,
        "user": b64url(user_handle),
    }
    return options_to_json(options)


def begin_authentication(
    session: MutableMapping[str, Any],
    rp: RelyingParty,
    *,
    passkeys: Sequence[Passkey] = (),
    user_verification: Requirement = "preferred",
    timeout_ms: int = 300_000,
    clock: Clock = time.time,
) -> str:
    """The JSON options for `navigator.credentials.get`; the challenge goes into `session`.

    With no `passkeys` the browser offers any passkey of this site (discoverable credentials:
    no username typed, and conditional UI); with the user's passkeys only those.
    """
    challenge = secrets.token_bytes(32)
    options = generate_authentication_options(
        rp_id=rp.id,
        challenge=challenge,
        timeout=_timeout(timeout_ms),
        allow_credentials=_descriptors(passkeys),
        user_verification=UserVerificationRequirement(
            _requirement(user_verification, "user_verification")
        ),
    )
    session[AUTHENTICATION] = {
        "challenge": b64url(challenge),
        "expires": clock() + timeout_ms / 1000,
    }
    return options_to_json(options)


def pop_challenge(
    session: MutableMapping[str, Any], key: str, clock: Clock
) -> tuple[bytes, Mapping[str, Any]]:
    """Take the session's challenge for ceremony `key` out (single use); 401 if none or expired."""
    what, status = ("registration", 400) if key == REGISTRATION else ("login", 401)
    stored = session.pop(key, None)
    if (
        not isinstance(stored, Mapping)
        or not isinstance(stored.get("challenge"), str)
        or not isinstance(stored.get("expires"), int | float)
    ):
        raise PasskeyError(
            f"No passkey {what} was started in this session, or it was already used: start again",
            status,
        )
    if clock() >= stored["expires"]:
        raise PasskeyError(f"The passkey {what} took too long and expired: start again", status)
    return from_b64url(stored["challenge"], "challenge"), stored


def credential_fields(response: str | bytes | Mapping[str, Any], *parts: str) -> dict[str, Any]:
    """The browser's credential as a JSON object, its ids and `response.<parts>` checked to be
    base64url strings; `PasskeyError` (400) otherwise."""
    if isinstance(response, str | bytes):
        try:
            data = parse_json_body(response.encode() if isinstance(response, str) else response)
        except BadRequest as exc:
            raise PasskeyError(exc.message, 400) from None
    else:
        data = response
    if not isinstance(data, Mapping):
        raise PasskeyError("The passkey response must be a JSON object", 400)
    if data.get("type") != "public-key":
        raise PasskeyError('The passkey response must have "type": "public-key"', 400)
    raw_id = from_b64url(data.get("rawId"), "rawId")
    if data.get("id") != data.get("rawId") or not raw_id:
        raise PasskeyError(
            "The passkey response's id and rawId must be the same credential id", 400
        )
    inner = data.get("response")
    if not isinstance(inner, Mapping):
        raise PasskeyError('The passkey response must have a "response" object', 400)
    for part in parts:
        value = inner.get(part)
        if part == "userHandle" and value is None:
            continue
        if isinstance(value, str) and len(value) > _MAX_BODY_FIELD:
            raise PasskeyError(f"response.{part} is too long", 400)
        from_b64url(value, f"response.{part}")
    return dict(data)


def verification_error(exc: Exception, status: int = 401) -> PasskeyError:
    """A clear `PasskeyError` for what py_webauthn refused."""
    text = str(exc)
    lowered = text.lower()
    if "challenge" in lowered:
        message = "The passkey response does not answer this session's challenge: start again"
    elif "origin" in lowered:
        message = f"The passkey response was made on another origin ({text})"
    elif "rp id" in lowered:
        message = "The passkey response was made for another site (RP ID mismatch)"
    elif "user verification" in lowered or "not verified" in lowered:
        message = "The passkey did not verify the user (PIN or biometrics), which is required"
    elif "not present" in lowered:
        message = "The passkey did not confirm the user was present"
    elif "signature" in lowered:
        message = "The passkey signature is not valid"
    elif "malformed" in lowered or "cbor" in lowered or "structure" in lowered:
        return PasskeyError(f"The passkey response is malformed: {text.split('. See')[0]}", 400)
    else:
        message = f"The passkey response was refused: {text.split('. See')[0]}"
    return PasskeyError(message, status)


def finish_registration(
    session: MutableMapping[str, Any],
    rp: RelyingParty,
    response: str | bytes | Mapping[str, Any],
    *,
    name: str = "Passkey",
    require_user_verification: bool = False,
    clock: Clock = time.time,
) -> Passkey:
    """Check the browser's answer to `begin_registration` and return the `Passkey` to store.

    The session's challenge is used up whatever the outcome; `PasskeyError` (400 for a malformed
    answer, 401 for one that does not verify) says what was wrong.
    """
    challenge, stored = pop_challenge(session, REGISTRATION, clock)
    user_handle = from_b64url(stored.get("user"), "the session's user handle")
    data = credential_fields(response, "clientDataJSON", "attestationObject")
    try:
        verified = verify_registration_response(
            credential=data,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=list(rp.origins),
            require_user_verification=require_user_verification,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError, IndexError) as exc:
        raise verification_error(exc, 400) from None
    transports = data["response"].get("transports")
    return Passkey(
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        user_handle=user_handle,
        transports=tuple(t for t in transports if t in _TRANSPORTS)
        if isinstance(transports, list)
        else (),
        aaguid=verified.aaguid,
        backup_eligible=verified.credential_device_type.value == "multi_device",
        backed_up=verified.credential_backed_up,
        name=(name or "Passkey").strip()[:100] or "Passkey",
        created=datetime.fromtimestamp(clock(), UTC),
    )
