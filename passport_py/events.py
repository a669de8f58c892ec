"""Events: what happened to logins and sessions, for audit logs, alerts and framework signals.

The core emits them wherever the facts are (the engine, `Authenticator.login` / `logout`,
`destroy_user_sessions`), so every adapter sees the same events. Register handlers on the
authenticator's `events` registry; a handler may be a plain function or `async def`, and one
that raises is logged (logger `passport_py`) without changing the response. Events never
carry a password, token or session id.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypeVar, overload

from passport_py._async import is_async_callable

if TYPE_CHECKING:
    from passport_py.request import AuthRequest

__all__ = [
    "Event",
    "Events",
    "LoggedIn",
    "LoggedOut",
    "LoginFailed",
    "LoginPending",
    "PasskeyCounterRegressed",
    "PasswordRehashed",
    "RecoveryCodeUsed",
    "SessionEndReason",
    "SessionEnded",
    "Throttled",
]

logger = logging.getLogger("passport_py")


class Event:
    """Base of every event: register a handler for `Event` to receive them all."""

    __slots__ = ()

    #: A short stable name for logs (`"logged_in"`); each event class sets its own.
    kind: str = "event"


@dataclass(frozen=True, slots=True)
class LoggedIn(Event):
    """A user was logged into a session.

    `strategy` is the name of the strategy that authenticated them (None for an app's own
    `login(user)` call); `fresh=False` for a login restored without credentials (remember-me).
    """

    user_id: Any
    strategy: str | None
    fresh: bool
    client_ip: str | None
    user: Any = field(default=None, repr=False, compare=False)
    request: AuthRequest | None = field(default=None, repr=False, compare=False)
    kind = "logged_in"


@dataclass(frozen=True, slots=True)
class LoggedOut(Event):
    """The user whose serialized id is `user_id` logged out of this session."""

    user_id: Any
    client_ip: str | None
    request: AuthRequest | None = field(default=None, repr=False, compare=False)
    kind = "logged_out"


@dataclass(frozen=True, slots=True)
class LoginFailed(Event):
    """Every strategy of a route failed.

    `strategy` is the first one that failed, `account` the account name a strategy says was
    tried (the username of a local, Basic or Digest login; None when no strategy knows one,
    which includes a request that offered no credentials at all), `status` the answer's
    status and `reason` the failure's message when the strategy gave one.
    """

    strategy: str | None
    account: str | None
    client_ip: str | None
    status: int
    reason: str | None
    request: AuthRequest | None = field(default=None, repr=False, compare=False)
    kind = "login_failed"


@dataclass(frozen=True, slots=True)
class LoginPending(Event):
    """A first factor succeeded for a user with second factors: the session holds a pending
    login, and nobody is logged in until one of `factors` (strategy names) completes it.

    `strategy` is the first factor's name; the completing factor's success is a `LoggedIn`.
    """

    user_id: Any
    strategy: str | None
    factors: tuple[str, ...]
    client_ip: str | None
    request: AuthRequest | None = field(default=None, repr=False, compare=False)
    kind = "login_pending"


@dataclass(frozen=True, slots=True)
class Throttled(Event):
    """A login attempt was refused because too many failed before it (`retry_after` seconds).

    `scope` says which limit: `"account"` or `"ip"`.
    """

    account: str | None
    client_ip: str | None
    scope: Literal["account", "ip"]
    retry_after: int
    request: AuthRequest | None = field(default=None, repr=False, compare=False)
    kind = "throttled"


SessionEndReason: TypeAlias = Literal[
    "logout", "logout_everywhere", "ended_by_user", "idle_timeout", "lifetime", "password_changed"
]
"""Why sessions ended (`SessionEnded.by`)."""


@dataclass(frozen=True, slots=True)
class SessionEnded(Event):
    """`count` sessions of the user with serialized id `user_id` ended.

    `by` says why:

    - `"logout"`: this session's user logged out;
    - `"logout_everywhere"`: every session of the user was ended at once (one event with the
      number ended);
    - `"ended_by_user"`: the user ended one or more of their other sessions from their list of
      sessions;
    - `"idle_timeout"` / `"lifetime"`: the session was found unused for too long, or older than
      its absolute lifetime, when a request tried to restore it;
    - `"password_changed"`: the user's password (or whatever the app's session auth hash
      covers) changed since this session's login.
    """

    user_id: Any
    by: SessionEndReason
    count: int
    client_ip: str | None = None
    request: AuthRequest | None = field(default=None, repr=False, compare=False)
    kind = "session_ended"


@dataclass(frozen=True, slots=True)
class PasswordRehashed(Event):
    """A stored password hash was upgraded on login (`scheme` is the new hash's algorithm)."""

    account: str | None
    scheme: str
    client_ip: str | None = None
    request: AuthRequest | None = field(default=None, repr=False, compare=False)
    kind = "password_rehashed"


E = TypeVar("E", bound=Event)
Handler: TypeAlias = Callable[[E], Awaitable[None] | None]
"""A function taking the event; plain or `async def`, its return value is ignored."""


class Events:
    """The handlers registered per event class; `emit` runs those of an event's class and
    of its base classes, in registration order."""

    __slots__ = ("_handlers",)

    def __init__(self) -> None:
        self._handlers: dict[type[Event], list[tuple[Callable[[Any], Any], bool]]] = {}

    @overload
    def on(self, kind: type[E], /) -> Callable[[Handler[E]], Handler[E]]: ...
    @overload
    def on(self, kind: type[E], handler: Handler[E], /) -> Handler[E]: ...
    def on(self, kind: type[E], handler: Handler[E] | None = None, /) -> Any:
        """Register `handler` for `kind` (and its subclasses); usable as a decorator.

        Registering the same handler for the same class again does nothing.
        """
        if not (isinstance(kind, type) and issubclass(kind, Event)):
            raise TypeError(
                f"events.on() takes an event class such as LoggedIn (or Event for all), "
                f"got {kind!r}"
            )

        def register(fn: Handler[E]) -> Handler[E]:
            if not callable(fn):
                raise TypeError(f"an event handler must be callable, got {fn!r}")
            handlers = self._handlers.setdefault(kind, [])
            # `==`, not `is`: `seen.append` is a new bound method each time it is read.
            if all(registered != fn for registered, _ in handlers):
                handlers.append((fn, is_async_callable(fn)))
            return fn

        return register if handler is None else register(handler)

    def off(self, kind: type[Event], handler: Callable[..., Any]) -> None:
        """Remove `handler` from `kind`'s handlers (nothing happens if it is not there)."""
        handlers = self._handlers.get(kind)
        if handlers:
            handlers[:] = [h for h in handlers if h[0] != handler]
            if not handlers:
                del self._handlers[kind]

    def wants(self, kind: type[Event]) -> bool:
        """True when some handler would receive an event of class `kind`.

        The core checks this before building an event, so events cost nothing unheard.
        """
        if not self._handlers:
            return False
        return any(cls in self._handlers for cls in kind.__mro__)

    async def emit(self, event: Event) -> None:
        """Run the handlers for `event`; one that raises is logged and the others still run."""
        for cls in type(event).__mro__:
            for handler, is_async in self._handlers.get(cls, ()):
                try:
                    result = handler(event)
                    if is_async or isinstance(result, Awaitable):
                        await result
                except Exception:
                    # The request must not fail because an audit sink did: log and go on.
                    logger.exception(
                        "passport_py: the %s handler %s raised; the request went on without it",
                        event.kind,
                        getattr(handler, "__qualname__", repr(handler)),
                    )


@dataclass(frozen=True, slots=True)
class RecoveryCodeUsed(Event):
    """The user with serialized id `user_id` used one of their recovery codes as a second
    factor; `remaining` codes are left (tell them to generate new ones when few are)."""

    user_id: Any
    remaining: int
    client_ip: str | None = None
    request: AuthRequest | None = field(default=None, repr=False, compare=False)
    kind = "recovery_code_used"


@dataclass(frozen=True, slots=True)
class PasskeyCounterRegressed(Event):
    """A passkey answered with a signature counter (`received`) not above the one stored
    (`stored`) though non-zero: the authenticator may have been cloned. `user` is the account
    the passkey belongs to and `credential_id` its base64url id. The login was refused unless
    the strategy allows regressions."""

    credential_id: str
    stored: int
    received: int
    user: Any = field(default=None, repr=False, compare=False)
    client_ip: str | None = None
    request: AuthRequest | None = field(default=None, repr=False, compare=False)
    kind = "passkey_counter_regressed"
