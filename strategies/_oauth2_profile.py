"""The normalised user profile that OAuth 2.0 and OpenID Connect strategies hand to verify."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Profile", "ProfileEmail"]


@dataclass(frozen=True, slots=True)
class ProfileEmail:
    """An address the provider knows for the user. `verified` is True only when the provider
    said so with a JSON boolean (the string "true" is not a yes); None when it did not say."""

    value: str
    verified: bool | None = None
    primary: bool = False


@dataclass(frozen=True, slots=True)
class Profile:
    """A user as a provider describes them, in one shape for every provider.

    `id` is the provider's stable identifier for the user (OpenID Connect's `sub`); together
    with `issuer` (OpenID Connect) or `provider` it is the key to find the local account by
    (`profile.key`). Never key accounts by email: addresses are reassigned and not always
    verified. `raw` is the provider's own document (OpenID Connect: the ID token's claims,
    with the userinfo response's merged in when it was fetched).
    """

    provider: str
    id: str
    issuer: str | None = None
    username: str | None = None
    display_name: str | None = None
    emails: tuple[ProfileEmail, ...] = ()
    photos: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def key(self) -> tuple[str, str]:
        """`(issuer or provider, id)`: the identity to link a local account to."""
        return (self.issuer or self.provider, self.id)

    @property
    def email(self) -> str | None:
        """The primary address if one is marked, else the first; None without any."""
        for email in self.emails:
            if email.primary:
                return email.value
        return self.emails[0].value if self.emails else None

    @property
    def verified_email(self) -> str | None:
        """The first address the provider verified (`verified is True`), else None."""
        ranked = sorted(self.emails, key=lambda e: not e.primary)
        return next((e.value for e in ranked if e.verified is True), None)
