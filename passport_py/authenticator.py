"""`Authenticator`: the strategy registry, the user (de)serialization chains, login and logout."""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from types import CoroutineType
from typing import Any, Generic, TypeVar, overload

from passport_py import second_factor
from passport_py._async import call, is_async_callable, maybe_await
from passport_py.cookies import Cookie
from passport_py.decisions import Decision, Proceed, Respond
from passport_py.engine import StrategySpec, run_authentication
from passport_py.errors import (
    ConfigurationError,
    PassToNext,
    SerializationError,
    SessionRequiredError,
    UnknownStrategyError,
)
from passport_py.events import Events, LoggedIn, LoggedOut, SessionEnded
from passport_py.options import DEFAULT_OPTIONS, AuthenticateOptions, Subject
from passport_py.request import AuthRequest
from passport_py.session_checks import DEFAULT_LIFETIME, Timeouts, auth_digest, auth_matches
from passport_py.session_manager import SessionManager
from passport_py.strategy import PersistentLogin, Strategy
from passport_py.throttle import LoginThrottle

__all__ = ["Authenticator"]

UserT = TypeVar("UserT")
F = TypeVar("F", bound=Callable[..., Any])
#: (function, pass_request, is_async) per registered layer.
_Chain = list[tuple[Callable[..., Any], bool, bool]]


class Authenticator(Generic[UserT]):
    """Holds the strategies and the serializer chains; runs authentication for adapters.

    `session_key` is where login data lives in the session (`session["passport"]["user"]`),
    `return_to_key` the session key `login_required` saves the requested URL under, and
    `messages_key` the list `success_message` / `failure_message` append to. `throttle`
    limits failed logins (see `passport_py.throttle`); off by default.
    `idle_timeout` and `absolute_timeout` end a login unused for that many seconds, or that
    old (None turns either off; see the "Session timeouts" page of the docs).
    `second_factor_url` is where browsers go when a login waits for a second factor
    (`second_factors`), and `pending_max_age` how many seconds such a login waits.
    """

    def __init__(
        self,
        *,
        session_key: str = "passport",
        return_to_key: str = "return_to",
        messages_key: str = "messages",
        throttle: LoginThrottle | None = None,
        idle_timeout: float | None = None,
        absolute_timeout: float | None = DEFAULT_LIFETIME,
        second_factor_url: str | None = None,
        pending_max_age: int = 300,
        reauth_url: str | None = None,
    ) -> None:
        if isinstance(pending_max_age, bool) or not isinstance(pending_max_age, int):
            raise ConfigurationError("pending_max_age= takes a whole number of seconds")
        if pending_max_age <= 0:
            raise ConfigurationError("pending_max_age= must be more than 0 seconds")
        self.session_key = session_key
        self.return_to_key = return_to_key
        self.messages_key = messages_key
        self.sessions = SessionManager(
            session_key,
            preserve=(return_to_key, messages_key),
            timeouts=Timeouts(idle_timeout, absolute_timeout),
        )
        self._session_auth: tuple[Callable[..., Any], bool] | None = None
        self._strategies: dict[str, Strategy] = {}
        self._serializers: _Chain = []
        self._deserializers: _Chain = []
        self._transformers: _Chain = []
        #: True once a deserializer asked for the request (`pass_request=True`).
        self.wants_request_on_restore = False
        #: The event handlers: `@passport.events.on(LoggedIn)` (see `passport_py.events`).
        self.events = Events()
        #: Failed-login limits (`passport_py.throttle.LoginThrottle`); None (default) is off.
        self.throttle = throttle
        #: The second-factor page browsers are sent to while a login is pending.
        self.second_factor_url = second_factor_url
        #: Seconds a pending login waits for its second factor.
        self.pending_max_age = pending_max_age
        self._second_factors: tuple[Callable[..., Any], bool, bool] | None = None
        #: Where `fresh_login_required` sends browsers to prove who they are again (None:
        #: the login page).
        self.reauth_url = reauth_url

    # -- strategies -------------------------------------------------------------------------

    def use(self, strategy: Strategy, name: str | None = None) -> Authenticator[UserT]:
        """Register `strategy` under `name` (default: its `name` attribute); returns self."""
        if not isinstance(strategy, Strategy):
            raise ConfigurationError(
                f"passport.use() takes a Strategy instance, got {strategy!r}; "
                "subclass passport_py.Strategy and pass an instance"
            )
        key = name or strategy.name
        if not key:
            raise ConfigurationError(
                f"Authentication strategies must have a name: set `name = '...'` on "
                f"{type(strategy).__name__} or call passport.use(strategy, name='...')"
            )
        self._strategies[key] = strategy
        return self

    def unuse(self, name: str) -> Authenticator[UserT]:
        """Remove the strategy registered under `name`; returns self."""
        self._strategies.pop(name, None)
        return self

    @property
    def strategies(self) -> Mapping[str, Strategy]:
        """The registered strategies by name (read-only view)."""
        return dict(self._strategies)

    def strategy(self, ref: str | Strategy) -> Strategy:
        """The strategy registered as `ref`, or `ref` itself when it is an instance."""
        if isinstance(ref, Strategy):
            return ref
        try:
            return self._strategies[ref]
        except KeyError:
            raise UnknownStrategyError(ref, list(self._strategies)) from None

    # -- chains -----------------------------------------------------------------------------

    @overload
    def serialize_user(self, fn: F, /) -> F: ...
    @overload
    def serialize_user(
        self, fn: None = None, /, *, pass_request: bool = False
    ) -> Callable[[F], F]: ...
    def serialize_user(self, fn: F | None = None, /, *, pass_request: bool = False) -> Any:
        """Register `fn(user) -> id` (sync or async); `pass_request=True` prepends the request.

        Return None (or raise `PassToNext`) to defer to the next serializer; `0` and `""` are
        valid ids.
        """
        return _register(self._serializers, fn, pass_request)

    @overload
    def deserialize_user(self, fn: F, /) -> F: ...
    @overload
    def deserialize_user(
        self, fn: None = None, /, *, pass_request: bool = False
    ) -> Callable[[F], F]: ...
    def deserialize_user(self, fn: F | None = None, /, *, pass_request: bool = False) -> Any:
        """Register `fn(id) -> user` (sync or async).

        Returning None or False means the user no longer exists: the session is logged out
        quietly. Raise `PassToNext` to defer to the next deserializer.
        """
        self.wants_request_on_restore = self.wants_request_on_restore or pass_request
        return _register(self._deserializers, fn, pass_request)

    @overload
    def transform_auth_info(self, fn: F, /) -> F: ...
    @overload
    def transform_auth_info(
        self, fn: None = None, /, *, pass_request: bool = False
    ) -> Callable[[F], F]: ...
    def transform_auth_info(self, fn: F | None = None, /, *, pass_request: bool = False) -> Any:
        """Register `fn(info) -> info` (sync or async); None or `PassToNext` defers to the next."""
        return _register(self._transformers, fn, pass_request)

    def session_auth_hash(self, fn: F, /) -> F:
        """Register `fn(user) -> str | bytes | None` (sync or async): a value that changes when
        the user's password does (their password hash, say).

        Each login records a digest of it; a restored login whose user's value no longer
        matches ends (`SessionEnded(by="password_changed")`), so changing the password ends
        the user's other sessions. Keep this session with `update_session_auth`. Returning
        None means the user has no such value.
        """
        if not callable(fn):
            raise ConfigurationError(f"expected a function to register, got {fn!r}")
        self._session_auth = (fn, is_async_callable(fn))
        return fn

    async def session_auth(self, user: UserT) -> str | None:
        """The digest of `user`'s session auth value a login records (None without one)."""
        if self._session_auth is None:
            return None
        fn, is_async = self._session_auth
        value = fn(user)
        if is_async or type(value) is CoroutineType:
            value = await value
        if value is None:
            return None
        if not isinstance(value, str | bytes):
            raise ConfigurationError(
                f"the @passport.session_auth_hash function returned {value!r}: return a str "
                "or bytes that changes with the user's password (their password hash), or None"
            )
        return auth_digest(value)

    @overload
    def second_factors(self, fn: F, /) -> F: ...
    @overload
    def second_factors(
        self, fn: None = None, /, *, pass_request: bool = False
    ) -> Callable[[F], F]: ...
    def second_factors(self, fn: F | None = None, /, *, pass_request: bool = False) -> Any:
        """Register `fn(user) -> Sequence[str]` (sync or async): the registered names of the
        second-factor strategies `user` has enrolled (`["totp", "recovery"]`).

        A fresh session login of a user with any leaves the login pending until one of them
        succeeds; an empty answer is an ordinary login. `pass_request=True` prepends the
        request.
        """

        def register(f: F) -> F:
            if not callable(f):
                raise ConfigurationError(f"expected a function to register, got {f!r}")
            self._second_factors = (f, pass_request, is_async_callable(f))
            return f

        return register if fn is None else register(fn)

    async def factors_of(self, user: UserT, request: AuthRequest | None = None) -> tuple[str, ...]:
        """The second factors `user` must prove after a first one (`second_factors`)."""
        if self._second_factors is None:
            return ()
        fn, wants_request, _ = self._second_factors
        names = await (call(fn, request, user) if wants_request else call(fn, user))
        if names is None:
            return ()
        if isinstance(names, str) or not all(isinstance(n, str) for n in names):
            raise ConfigurationError(
                f"the @passport.second_factors function returned {names!r}: return a list "
                "of registered strategy names, such as ['totp']"
            )
        for name in names:
            strategy = self._strategies.get(name)
            if strategy is None or not strategy.second_factor:
                # Failing open here would let a misspelt factor skip the second step.
                raise ConfigurationError(
                    f"the @passport.second_factors function named {name!r}, which is not a "
                    "registered second-factor strategy: passport.use(TotpStrategy(...)) "
                    "registers one (its class sets second_factor = True)"
                )
        return tuple(dict.fromkeys(names))

    @property
    def has_serializer(self) -> bool:
        """True once a `serialize_user` function is registered."""
        return bool(self._serializers)

    @property
    def has_deserializer(self) -> bool:
        """True once a `deserialize_user` function is registered."""
        return bool(self._deserializers)

    @property
    def deserializes_async(self) -> bool:
        """True when a registered deserializer is `async def` (plain ones may run in a thread)."""
        return any(is_async for _, _, is_async in self._deserializers)

    async def serialize(self, user: UserT, request: AuthRequest | None = None) -> Any:
        """The session id for `user`, from the first serializer that gives one."""
        if not self._serializers:
            raise SerializationError(
                "Failed to serialize user into session: no serializer is registered; decorate "
                "a function returning the user's id with @passport.serialize_user"
            )
        for fn, wants_request, _ in self._serializers:
            try:
                result = await (call(fn, request, user) if wants_request else call(fn, user))
            except PassToNext:
                continue
            if result is not None and result is not False:
                return result
        raise SerializationError(
            "Failed to serialize user into session: every serializer returned None or raised "
            "PassToNext for this user"
        )

    async def deserialize(
        self, serialized: Any, request: AuthRequest | None = None
    ) -> UserT | None:
        """The user for a session id; None when a deserializer says the user is gone."""
        if not self._deserializers:
            raise SerializationError(
                "Failed to deserialize user out of session: no deserializer is registered; "
                "decorate a function loading the user by id with @passport.deserialize_user"
            )
        # Runs on every logged-in request: call directly, await only what needs awaiting.
        for fn, wants_request, is_async in self._deserializers:
            try:
                result = fn(request, serialized) if wants_request else fn(serialized)
                if is_async or type(result) is CoroutineType:
                    result = await result
            except PassToNext:
                continue
            return None if result is None or result is False else result
        raise SerializationError(
            "Failed to deserialize user out of session: every deserializer raised PassToNext"
        )

    async def transform(self, info: Any, request: AuthRequest | None = None) -> Any:
        """`info` after the first transformer that returns something; unchanged otherwise."""
        for fn, wants_request, _ in self._transformers:
            try:
                result = await (call(fn, request, info) if wants_request else call(fn, info))
            except PassToNext:
                continue
            if result is not None:
                return result
        return info

    # -- requests ---------------------------------------------------------------------------

    async def authenticate(
        self,
        request: AuthRequest,
        strategies: StrategySpec,
        options: AuthenticateOptions = DEFAULT_OPTIONS,
        *,
        callback: bool = False,
    ) -> Decision:
        """Run the strategy chain on `request` and decide what happens (see `Decision`)."""
        return await run_authentication(self, request, strategies, options, callback=callback)

    async def authorize(
        self,
        request: AuthRequest,
        strategies: StrategySpec,
        options: AuthenticateOptions = DEFAULT_OPTIONS,
        *,
        callback: bool = False,
    ) -> Decision:
        """`authenticate` that puts the user on `account`, leaving the logged-in user alone."""
        options = options.replace(assign_property="account")
        return await run_authentication(self, request, strategies, options, callback=callback)

    async def login(
        self,
        request: AuthRequest,
        user: UserT,
        *,
        keep_session_info: bool = False,
        fresh: bool = True,
        remember: bool = False,
        strategy: str | None = None,
        amr: Sequence[str] = (),
    ) -> tuple[Cookie, ...]:
        """Write `user` into a regenerated session (the adapters' `login` calls this).

        `fresh=False` records a login restored without credentials (remember-me);
        `remember=True` also starts a remembered login, whose cookie is returned for the
        response (see `remember`). `strategy` names the strategy that authenticated the user,
        for the `LoggedIn` event, and `amr` what it proved (its `Strategy.amr`).
        """
        session = request.session
        if session is None:
            raise SessionRequiredError(request.session_required_hint())
        serialized = await self.serialize(user, request)
        self.sessions.login(
            session,
            serialized,
            keep_session_info=keep_session_info,
            flash_keys=request.flash_keys,
            fresh=fresh,
            client_ip=request.client_ip,
            user_agent=request.headers.get("user-agent"),
            auth=await self.session_auth(user),
            amr=amr,
        )
        if self.events.wants(LoggedIn):
            event = LoggedIn(serialized, strategy, fresh, request.client_ip, user, request)
            await self.events.emit(event)
        return await self.remember(request, user) if remember else ()

    async def pending_login(self, request: AuthRequest) -> tuple[UserT, tuple[str, ...]] | None:
        """`(user, factors)` of the login this session holds waiting for a second factor, for
        the app's second-factor page; None when there is none (an expired one is removed)."""
        found = await second_factor.load_pending(self, request)
        if found is None:
            return None
        user, entry = found
        factors = entry.get("factors")
        names = factors if isinstance(factors, list) else ()
        return user, tuple(f for f in names if isinstance(f, str))

    def cancel_pending(self, request: AuthRequest) -> None:
        """Forget the login this session holds waiting for a second factor (if any)."""
        second_factor.cancel_pending(self, request)

    async def complete_login(
        self,
        request: AuthRequest,
        subject: Subject,
        *,
        strategy: str | None = None,
        amr: Sequence[str] = (),
        remember: bool = False,
        keep_session_info: bool = False,
    ) -> tuple[Cookie, ...]:
        """A second factor proved `subject` (`options.subject`): log its pending login in, or
        record the logged-in user's re-authentication (step-up).

        The engine calls this when a `second_factor` strategy succeeds on a session route;
        call it yourself from a route `callback`. Returns the remember-me cookie, if issued.
        """
        return await second_factor.complete_login(
            self,
            request,
            subject,
            strategy=strategy,
            amr=amr,
            remember=remember,
            keep_session_info=keep_session_info,
        )

    async def logout(
        self, request: AuthRequest, *, keep_session_info: bool = False, session_ended: bool = True
    ) -> tuple[Cookie, ...]:
        """Remove the user from the session and regenerate it.

        Returns the cookies the registered strategies set on logout (remember-me deletes its
        own); the adapters put them on the response. Emits `LoggedOut` and, unless
        `session_ended=False` (logging out everywhere already reported it),
        `SessionEnded(by="logout")`.
        """
        session = request.session
        if session is None:
            raise SessionRequiredError(request.session_required_hint(), for_login=False)
        present, serialized = self.sessions.stored_user(session)
        self.sessions.logout(session, keep_session_info=keep_session_info)
        if present and self.events.wants(LoggedOut):
            await self.events.emit(LoggedOut(serialized, request.client_ip, request))
        if present and session_ended and self.events.wants(SessionEnded):
            ended = SessionEnded(serialized, "logout", 1, request.client_ip, request)
            await self.events.emit(ended)
        cookies: tuple[Cookie, ...] = ()
        for strategy in self._strategies.values():
            cookies += tuple(await maybe_await(strategy.logout(request)))
        return cookies

    async def remember(self, request: AuthRequest, user: UserT) -> tuple[Cookie, ...]:
        """The cookie that lets `user` back in after the session ends (`RememberMeStrategy`).

        The adapters' `login(..., remember=True)` and the `remember=` authenticate option call
        this; it needs exactly one registered strategy that can remember a login.
        """
        found = [s for s in self._strategies.values() if isinstance(s, PersistentLogin)]
        if len(found) != 1:
            raise ConfigurationError(
                "remembering a login needs one registered RememberMeStrategy "
                f"(found {len(found)}): passport.use(RememberMeStrategy(verify, issue))"
            )
        return tuple(await found[0].remember(request, user))

    async def recall(
        self, request: AuthRequest, strategies: StrategySpec
    ) -> tuple[UserT | None, tuple[Cookie, ...]]:
        """Run `strategies` (remember-me) on a request whose session holds no login.

        The adapters' `restore_with=` setting calls this. A success logs the user into the
        session (not fresh, as the strategy says) and returns them; a pass or a failure leaves
        the request anonymous, never answered with an error. Either way the strategies' cookies
        (a rotated token, a deleted one) are returned for the response.
        """
        decision = await run_authentication(self, request, strategies, _RECALL_OPTIONS)
        if type(decision) is Proceed:
            return (decision.user if decision.authenticated else None), decision.cookies
        if type(decision) is Respond:
            return None, decision.cookies
        return None, ()

    async def restore(self, request: AuthRequest) -> UserT | None:
        """The user the request's session holds, deserialized; None when nobody is logged in.

        A user the deserializer no longer knows is removed from the session quietly, and so
        is an ended login (see `restore_session`).
        """
        session = request.session
        present, serialized = self.sessions.stored_user(session)
        if not present or session is None:
            return None
        return await self.restore_session(session, serialized, lambda: request)

    async def restore_session(
        self,
        session: MutableMapping[str, Any],
        serialized: Any,
        make_request: Callable[[], AuthRequest | None],
    ) -> UserT | None:
        """The user of the login `session` holds (`serialized`, from `stored_user`), or None.

        Every adapter restores through this. A login past its idle timeout or lifetime ends
        before the user is loaded; one whose session auth digest no longer matches the
        user's ends after. An ended login is removed from the session (the request is then
        anonymous, never an error) and reported as `SessionEnded`; a user the deserializer
        no longer knows is removed quietly. `make_request` builds the request for
        deserializers that want it and for the event, only when needed.
        """
        reason = self.sessions.check(session)
        if reason is None:
            request = make_request() if self.wants_request_on_restore else None
            user = await self.deserialize(serialized, request)
            if user is None:
                self.sessions.forget_user(session)
                return None
            if self._session_auth is None:
                return user
            if auth_matches(session[self.session_key], await self.session_auth(user)):
                return user
            reason = "password_changed"
        self.sessions.forget_user(session)
        if self.events.wants(SessionEnded):
            request = make_request()
            client_ip = request.client_ip if request is not None else None
            await self.events.emit(SessionEnded(serialized, reason, 1, client_ip, request))
        return None

    async def update_session_auth(self, request: AuthRequest, user: UserT) -> None:
        """Keep this session logged in after `user` changed their password in it.

        Call it once the new password is saved: the session moves to a new id (as at login)
        and records the new session auth digest, while the user's other sessions end on
        their next request. Does nothing unless this session's login is `user`'s.
        """
        session = request.session
        if session is None:
            raise SessionRequiredError(request.session_required_hint(), for_login=False)
        present, serialized = self.sessions.stored_user(session)
        if present and serialized == await self.serialize(user, request):
            self.sessions.renew(session, await self.session_auth(user))


_RECALL_OPTIONS = AuthenticateOptions()


def _register(chain: _Chain, fn: Callable[..., Any] | None, pass_request: bool) -> Any:
    def register(f: F) -> F:
        if not callable(f):
            raise ConfigurationError(f"expected a function to register, got {f!r}")
        chain.append((f, pass_request, is_async_callable(f)))
        return f

    return register if fn is None else register(fn)
