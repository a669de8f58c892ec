"""`Cookie`: a cookie the core asks an adapter to set or delete, with safe defaults."""

from __future__ import annotations

from dataclasses import dataclass, replace
from http.cookies import SimpleCookie
from typing import Literal

__all__ = ["Cookie"]

SameSite = Literal["lax", "strict", "none"]


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
        jar: SimpleCookie = SimpleCookie()
        jar[self.name] = self.value
        morsel = jar[self.name]
        if self.max_age is not None:
            morsel["max-age"] = self.max_age
            if self.max_age == 0:
                morsel["expires"] = "Thu, 01 Jan 1970 00:00:00 GMT"
        morsel["path"] = self.path
        if self.domain:
            morsel["domain"] = self.domain
        if self.secure:
            morsel["secure"] = True
        if self.httponly:
            morsel["httponly"] = True
        morsel["samesite"] = self.samesite.capitalize()
        return morsel.OutputString()
