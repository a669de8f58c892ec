"""`Cookie`: a cookie the core asks an adapter to set or delete, with safe defaults."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

__all__ = ["Cookie"]

SameSite = Literal["lax", "strict", "none"]

# RFC 6265 §4.1.1: a cookie name is a token; a value is cookie-octets (no quotes, spaces,
# commas, semicolons or backslashes), which is all the values passport_py makes contain.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_COOKIE_OCTETS = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")


@dataclass(frozen=True, slots=True)
class Cookie:
    """A `Set-Cookie` the response should carry. Defaults: HttpOnly, SameSite=Lax, Path=/.

    `max_age=None` is a browser-session cookie; `secure` is decided by the strategy (True on
    https). Every adapter renders it with its framework's own `set_cookie`.
    """

    name: str
    value: str
    max_age: int | None = None
    path: str = "/"
    domain: str | None = None
    secure: bool = False
    httponly: bool = True
    samesite: SameSite = "lax"

    def deletion(self) -> Cookie:
        """This cookie emptied and expired, with the same attributes (so browsers drop it)."""
        return replace(self, value="", max_age=0)

    @property
    def deletes(self) -> bool:
        """True when this cookie tells the browser to drop it."""
        return self.max_age == 0

    def header_value(self) -> str:
        """The `Set-Cookie` header value (for adapters that write raw headers)."""
        if not _COOKIE_OCTETS.fullmatch(self.value) or not _TOKEN.fullmatch(self.name):
            raise ValueError(f"cookie {self.name!r} has a name or value a header cannot carry")
        parts = [f"{self.name}={self.value}"]
        if self.max_age is not None:
            if self.max_age == 0:
                parts.append("expires=Thu, 01 Jan 1970 00:00:00 GMT")
            parts.append(f"Max-Age={self.max_age}")
        parts.append(f"Path={self.path}")
        if self.domain:
            parts.append(f"Domain={self.domain}")
        if self.secure:
            parts.append("Secure")
        if self.httponly:
            parts.append("HttpOnly")
        parts.append(f"SameSite={self.samesite.capitalize()}")
        return "; ".join(parts)
