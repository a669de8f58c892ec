"""What the passkey ceremonies work with: the relying party, the stored passkey, the error, and
strict base64url."""

from __future__ import annotations

import base64
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from passport_py.errors import BadRequest, ConfigurationError

__all__ = ["Passkey", "PasskeyError", "RelyingParty", "b64url", "from_b64url"]

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


class PasskeyError(BadRequest):
    """A passkey ceremony failed: `status` is 400 (malformed) or 401 (not verified), and the
    message says what was wrong."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message, status)


def b64url(data: bytes) -> str:
    """`data` as unpadded base64url, as WebAuthn's JSON writes binary values."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64url(value: object, what: str) -> bytes:
    """The bytes of the unpadded base64url text `value`; `PasskeyError` (400) otherwise."""
    if not isinstance(value, str):
        raise PasskeyError(f"{what} must be a base64url string", 400)
    if not _B64URL.fullmatch(value) or len(value) % 4 == 1:
        raise PasskeyError(f"{what} is not valid base64url", 400)
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _is_domain(value: str) -> bool:
    labels = value.split(".")
    return len(value) <= 253 and all(_LABEL.fullmatch(label) for label in labels)


@dataclass(frozen=True)
class RelyingParty:
    """Your site as WebAuthn knows it: `id` is its domain ("example.com", or "localhost" in
    development; never an IP address), `name` what authenticators show, and `origins` every
    `scheme://host[:port]` the pages that run the ceremonies are served from."""

    id: str
    name: str
    origins: Sequence[str]

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or self.id != self.id.lower() or not _is_domain(self.id):
            raise ConfigurationError(
                f"RelyingParty(id={self.id!r}) must be a lower-case domain such as "
                "'example.com' (or 'localhost' in development)"
            )
        try:
            ipaddress.ip_address(self.id)
        except ValueError:
            pass
        else:
            raise ConfigurationError(
                f"RelyingParty(id={self.id!r}): browsers refuse IP addresses as WebAuthn RP "
                "ids; use a domain name (or 'localhost' in development)"
            )
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigurationError("RelyingParty(name=...) must be a non-empty name")
        if isinstance(self.origins, str) or not self.origins:
            raise ConfigurationError(
                "RelyingParty(origins=...) takes a list of origins such as ['https://example.com']"
            )
        for origin in self.origins:
            _check_origin(origin, self.id)
        object.__setattr__(self, "origins", tuple(self.origins))


def _check_origin(origin: object, rp_id: str) -> None:
    parts = urlsplit(origin) if isinstance(origin, str) else None
    host = parts.hostname if parts is not None else None
    if (
        parts is None
        or parts.scheme not in ("https", "http")
        or not host
        or parts.path
        or parts.query
        or parts.fragment
        or parts.username is not None
        or f"{parts.scheme}://{parts.netloc}" != origin
    ):
        raise ConfigurationError(
            f"RelyingParty origin {origin!r} must be a full origin, scheme://host[:port], "
            "with no path (for example 'https://example.com')"
        )
    if host != rp_id and not host.endswith("." + rp_id):
        raise ConfigurationError(
            f"RelyingParty origin {origin!r} is not on the RP id {rp_id!r}: its host must be "
            "the RP id or a subdomain of it"
        )


@dataclass(frozen=True)
class Passkey:
    """A registered passkey, as the app stores it (one row per credential).

    `credential_id` and `public_key` identify and verify it; `sign_count` is the authenticator's
    counter (0 for most synced passkeys); `user_handle` the user's WebAuthn id; `transports`,
    `aaguid` (the authenticator model) and the backup flags describe it; `name` is the label
    the user sees and may edit; `created` when it was registered.
    """

    credential_id: bytes
    public_key: bytes
    sign_count: int
    user_handle: bytes
    transports: tuple[str, ...] = ()
    aaguid: str = "00000000-0000-0000-0000-000000000000"
    backup_eligible: bool = False
    backed_up: bool = False
    name: str = "Passkey"
    created: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def credential_id_b64(self) -> str:
        """The credential id as unpadded base64url, for URLs and forms."""
        return b64url(self.credential_id)
