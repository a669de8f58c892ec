"""`SessionCookie`: the session cookie's settings, and its value: the id, signed."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Literal

from itsdangerous import BadSignature, Signer

from passport_py.cookies import Cookie
from passport_py.errors import ConfigurationError

__all__ = ["SessionCookie"]

SameSite = Literal["lax", "strict", "none"]

_SALT = "passport_py.sessions.id"
_MIN_SECRET_BYTES = 32
# A signed id is 87 characters; anything much longer is not ours and not worth verifying.
_MAX_VALUE_LENGTH = 256
# Cookie values known to verify with the signing key (value -> id); cleared when full.
_VERIFIED_CACHE_SIZE = 4096


def _secret_keys(secret_key: str | bytes | Sequence[str | bytes]) -> list[bytes]:
    keys = [secret_key] if isinstance(secret_key, str | bytes) else list(secret_key)
    if not keys:
        raise ConfigurationError("secret_key= needs at least one key")
    encoded = [k.encode("utf-8") if isinstance(k, str) else k for k in keys]
    for key in encoded:
        if len(key) < _MIN_SECRET_BYTES:
            raise ConfigurationError(
                "the session secret_key must be at least 32 bytes of random data, the same in "
                "every process of the app (e.g. secrets.token_urlsafe(32) kept in your "
                "settings); pass a list to rotate keys: the first signs, all verify"
            )
    return encoded


class SessionCookie:
    """Signs and reads the session cookie, and builds its `Set-Cookie`.

    `secret_key` may be a list for rotation: the first key signs, every key verifies, and a
    cookie signed with an older key is signed again with the first. A `__Host-` name forces
    Secure, Path=/ and no Domain (browsers refuse it otherwise); `__Secure-` and
    `same_site="none"` force Secure. The cookie of a session nobody has logged into lasts at
    most `anonymous_max_age` seconds (None: as long as `max_age`).
    """

    def __init__(
        self,
        secret_key: str | bytes | Sequence[str | bytes],
        *,
        name: str = "session",
        max_age: int | None = 14 * 24 * 60 * 60,
        same_site: SameSite = "lax",
        https_only: bool | None = None,
        path: str = "/",
        domain: str | None = None,
        anonymous_max_age: int | None = 600,
    ) -> None:
        keys = _secret_keys(secret_key)
        if same_site not in ("lax", "strict", "none"):
            raise ConfigurationError("same_site must be 'lax', 'strict' or 'none'")
        for option, value in (("max_age", max_age), ("anonymous_max_age", anonymous_max_age)):
            if value is not None and value < 1:
                raise ConfigurationError(f"{option} must be a positive number of seconds, or None")
        if name.startswith("__Host-"):
            if path != "/" or domain is not None or https_only is False:
                raise ConfigurationError(
                    f"a {name!r} cookie needs path='/', no domain and https: browsers "
                    "refuse __Host- cookies otherwise"
                )
            https_only = True
        elif name.startswith("__Secure-"):
            if https_only is False:
                raise ConfigurationError(f"a {name!r} cookie needs https_only=True or None")
            https_only = True
        if same_site == "none":
            if https_only is False:
                raise ConfigurationError("same_site='none' needs https: browsers require Secure")
            https_only = True  # browsers drop a SameSite=None cookie that is not Secure
        self.name = name
        self.max_age = max_age
        self.anonymous_max_age = anonymous_max_age
        self._anonymous_cookie_age = (
            max_age
            if max_age is None or anonymous_max_age is None
            else min(max_age, anonymous_max_age)
        )
        self.same_site: SameSite = same_site
        self.https_only = https_only
        self.path = path
        self.domain = domain
        self._signer = Signer(keys[0], salt=_SALT, digest_method=hashlib.sha256)
        self._verified: dict[str, str] = {}
        # itsdangerous signs with the last key of a list: oldest first, so the first of ours
        # is the one it signs with.
        self._all = (
            Signer(keys[::-1], salt=_SALT, digest_method=hashlib.sha256) if len(keys) > 1 else None
        )

    def sign(self, session_id: str) -> str:
        """The cookie value for `session_id`."""
        return self._signer.sign(session_id).decode("ascii")

    def read(self, values: Iterable[str]) -> tuple[str | None, bool]:
        """`(id, signed with an older key)` from the first of `values` that verifies, or
        `(None, False)`."""
        for value in values:
            found = self._verify(value)
            if found is not None:
                return found
        return None, False

    def verified(self, values: Iterable[str]) -> list[tuple[str, bool]]:
        """`(id, signed with an older key)` of every one of `values` that verifies, in order,
        each id once. Several values are a browser sending cookies of several paths or
        domains (most specific first, then oldest first), one of which may have been planted
        by a sibling subdomain: the session middleware uses the first the store holds."""
        found: list[tuple[str, bool]] = []
        for value in values:
            checked = self._verify(value)
            if checked is not None and (not found or all(checked[0] != f[0] for f in found)):
                found.append(checked)
        return found

    def _verify(self, value: str) -> tuple[str, bool] | None:
        verified = self._verified
        known = verified.get(value)
        if known is not None:
            return known, False
        if len(value) > _MAX_VALUE_LENGTH or not value.isascii():
            return None
        try:
            session_id = self._signer.unsign(value).decode("ascii")
        except BadSignature:
            pass
        else:
            # Verifying costs a key derivation and an HMAC on every request; a value that
            # verified once verifies again, so remember a bounded number of them.
            if len(verified) >= _VERIFIED_CACHE_SIZE:
                verified.clear()
            verified[value] = session_id
            return session_id, False
        if self._all is not None:
            try:
                return self._all.unsign(value).decode("ascii"), True
            except BadSignature:
                pass
        return None

    def cookie(self, session_id: str, https: bool, *, anonymous: bool = False) -> Cookie:
        """The `Set-Cookie` that stores `session_id` in the browser (for at most
        `anonymous_max_age` seconds when nobody is logged into the session)."""
        max_age = self._anonymous_cookie_age if anonymous else self.max_age
        return self._cookie(self.sign(session_id), max_age, https)

    def deletion(self, https: bool) -> Cookie:
        """The `Set-Cookie` that removes the cookie, with the attributes it was set with."""
        return self._cookie("", 0, https)

    def after_save(
        self, action: str | None, session_id: str | None, https: bool, *, anonymous: bool = False
    ) -> Cookie | None:
        """The `Set-Cookie` a save's outcome calls for: the id's cookie for "set", the
        deletion for "delete" (or a "set" left without an id), none for None."""
        if action is None:
            return None
        if action == "set" and session_id is not None:
            return self.cookie(session_id, https, anonymous=anonymous)
        return self.deletion(https)

    def _cookie(self, value: str, max_age: int | None, https: bool) -> Cookie:
        return Cookie(
            self.name,
            value,
            max_age=max_age,
            path=self.path,
            domain=self.domain,
            secure=https if self.https_only is None else self.https_only,
            samesite=self.same_site,
        )
