"""`LocalStrategy`: a username and password posted in a form or JSON body."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from passport_py._async import call
from passport_py.options import AuthenticateOptions
from passport_py.outcomes import Fail, Outcome, outcome_from_verify
from passport_py.request import AuthRequest, is_cross_site
from passport_py.strategies._posted import posted_fields, single
from passport_py.strategy import Strategy

__all__ = ["LocalStrategy"]

Verify = Callable[..., Any | Awaitable[Any]]


class LocalStrategy(Strategy):
    """Authenticate with a username and password read from the request body.

    `verify(username, password)` (or `verify(request, username, password)` with
    `pass_request=True`), sync or async, returns the user, None/False, `Verified` or
    `Rejected`. Missing or empty fields fail with 400 and `bad_request_message`; wrong
    credentials fail with 401 and no challenge. Credentials in the query string are read only
    with `allow_query=True`, since URLs end up in logs. A login posted by a browser from another
    site (login CSRF) fails with 403 unless `allow_cross_site=True`.

    API docs leave it out (`openapi_scheme()` is None): it is the login form that starts a
    session, not a credential sent with each API call; the session cookie is what protected
    operations take.
    """

    name = "local"
    amr = ("pwd",)

    def __init__(
        self,
        verify: Verify,
        *,
        username_field: str = "username",
        password_field: str = "password",
        pass_request: bool = False,
        bad_request_message: str = "Missing credentials",
        allow_query: bool = False,
        max_username_length: int = 256,
        max_password_bytes: int = 4096,
        allow_cross_site: bool = False,
    ) -> None:
        if not callable(verify):
            raise TypeError("LocalStrategy requires a verify callable")
        self.verify = verify
        self.username_field = username_field
        self.password_field = password_field
        self.pass_request = pass_request
        self.bad_request_message = bad_request_message
        self.allow_query = allow_query
        self.max_username_length = max_username_length
        self.max_password_bytes = max_password_bytes
        self.allow_cross_site = allow_cross_site

    async def authenticate(self, request: AuthRequest, options: AuthenticateOptions) -> Outcome:
        """Read the credentials, check their shape, and ask `verify`."""
        checked = await self._checked(request)
        if checked is None:
            message = options.get("bad_request_message", self.bad_request_message)
            return self.fail({"message": message}, 400)
        if isinstance(checked, Fail):
            return checked
        username, password = checked
        if self.pass_request:
            result = await call(self.verify, request, username, password)
        else:
            result = await call(self.verify, username, password)
        outcome = outcome_from_verify(result)
        # Name the account tried, for LoginFailed events.
        return replace(outcome, account=username) if type(outcome) is Fail else outcome

    async def account(self, request: AuthRequest) -> str | None:
        """The posted username, when `authenticate` would ask `verify` about it."""
        checked = await self._checked(request)
        return checked[0] if isinstance(checked, tuple) else None

    async def _checked(self, request: AuthRequest) -> tuple[str, str] | Fail | None:
        """The credentials verify would get; a `Fail` for a refused request, None when a field
        is missing or empty. The body is parsed once: the request caches it."""
        if not self.allow_cross_site and is_cross_site(request):
            return self.fail({"message": "Cross-site login refused"}, 403)
        username, password = await self._credentials(request)
        if not username or not password:
            return None
        if (
            len(username) > self.max_username_length
            or len(password.encode("utf-8")) > self.max_password_bytes
        ):
            # Checked before verify so an enormous password never reaches the hasher.
            return self.fail({"message": "Credentials too long"}, 400)
        return username, password

    async def _credentials(self, request: AuthRequest) -> tuple[str | None, str | None]:
        fields = (self.username_field, self.password_field)
        found = await posted_fields(request, fields, "the credentials")
        if self.allow_query and (not found[0] or not found[1]):
            found = tuple(v or single(request.query, f) for v, f in zip(found, fields, strict=True))
        return found[0], found[1]
