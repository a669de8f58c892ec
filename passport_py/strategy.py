"""The `Strategy` base class that every authentication strategy extends."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from passport_py.outcomes import Challenge, Cookies, Fail, Outcome, Pass, Redirect, Success

if TYPE_CHECKING:
    from passport_py.options import AuthenticateOptions
    from passport_py.request import AuthRequest

__all__ = ["PersistentLogin", "Strategy"]

UserT = TypeVar("UserT")
_PASS = Pass()


class Strategy:
    """Reads credentials from a request, verifies them and returns exactly one outcome.

    Subclasses set `name` and implement `authenticate(request, options)` as a plain or
    `async def` method. A strategy is shared by concurrent requests: keep per-request state in
    local variables, never on `self`. Raising an exception reports an error.
    """

    #: The name `passport.use()` registers it under (an instance may set its own).
    name: str | None = None
    #: Request headers the strategy reads credentials from (`("Authorization",)`). Responses
    #: to requests it authenticated name them in `Vary` and are not stored by caches. An
    #: instance whose headers depend on its configuration sets its own.
    vary: tuple[str, ...] = ()
    #: What a success proves, as RFC 8176 authentication method references (`("pwd",)` for a
    #: password, `("otp",)` for a one-time code): a session login records them (`"amr"`), and
    #: step-up requirements can ask for them. Strategies that prove nothing a person did
    #: (tokens, API keys) leave it empty.
    amr: tuple[str, ...] = ()
    #: True for a second factor (TOTP, recovery codes): it completes the session's pending
    #: login, or re-authenticates the logged-in user, and checks a code for
    #: `options.subject.user`, which the engine sets before calling it.
    second_factor: bool = False

    def authenticate(
        self, request: AuthRequest, options: AuthenticateOptions
    ) -> Outcome | Awaitable[Outcome]:
        """Authenticate `request`: return `self.success/fail/redirect/pass_(...)`."""
        raise NotImplementedError(f"{type(self).__name__}.authenticate must be overridden")

    @staticmethod
    def success(
        user: UserT, info: Any = None, *, cookies: Cookies = (), fresh: bool = True
    ) -> Success[UserT]:
        """Report that `user` is authenticated; `info` becomes the request's auth info.

        `fresh=False` for a login the user did not just prove; `cookies` go on the response.
        """
        return Success(user, info, cookies, fresh)

    @staticmethod
    def fail(
        challenge: Challenge | int = None,
        status: int | None = None,
        *,
        cookies: Cookies = (),
        www_authenticate: bool = False,
        account: str | None = None,
    ) -> Fail:
        """Report a failure; a str challenge is a `WWW-Authenticate` value, an int the status.

        The challenge is sent on a 401, or whatever the status with `www_authenticate=True`.
        `account` names the account the attempt tried (a username), for `LoginFailed` events.
        """
        if isinstance(challenge, bool):
            raise TypeError("fail() takes a challenge (str or mapping) or a status (int)")
        if isinstance(challenge, int):
            return Fail(None, challenge, cookies, account=account)
        return Fail(challenge, status, cookies, www_authenticate, account)

    @staticmethod
    def redirect(url: str, status: int = 302) -> Redirect:
        """Send the client to `url` (for example an identity provider)."""
        return Redirect(url, status)

    @staticmethod
    def pass_(*, cookies: Cookies = ()) -> Pass:
        """Make no decision: the request goes on unauthenticated (`cookies` on the response)."""
        return Pass(cookies) if cookies else _PASS

    def account(self, request: AuthRequest) -> str | Awaitable[str | None] | None:
        """The account this request's credentials are for (a username), or None.

        With a `LoginThrottle` set on the authenticator, an attempt naming an account is
        counted (and may be refused with a 429) before `authenticate` runs, and a success
        forgets the account's failures. Return the name only when `authenticate` would check
        a secret for it; the default, None, leaves the strategy unthrottled.
        """
        return None

    def logout(self, request: AuthRequest) -> Cookies | Awaitable[Cookies]:
        """Called on every logout: the cookies this strategy sets then (remember-me deletes its
        cookie and forgets its token). Most strategies keep nothing: `()`."""
        return ()

    def openapi_scheme(self) -> dict[str, Any] | None:
        """How API documentation describes this strategy: an OpenAPI Security Scheme Object
        such as `{"type": "http", "scheme": "bearer"}`, or None to leave it out (the default).

        Framework-neutral: the FastAPI adapter puts it in `components.securitySchemes` under
        the name the strategy is registered with, and in the `security` of each operation a
        dependency protects, so Swagger UI's Authorize button works.
        """
        return None


@runtime_checkable
class PersistentLogin(Protocol):
    """A strategy that can let a user back in after the session ends (remember-me)."""

    async def remember(self, request: AuthRequest, user: Any) -> Cookies:
        """Start a persistent login for `user`: the cookies that carry it."""
        ...
