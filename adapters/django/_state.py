"""What `PassportMiddleware` keeps per app (its configuration) and per request (the user)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from asgiref.sync import sync_to_async
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.utils.module_loading import import_string

from passport_py._async import run_sync
from passport_py.adapters.django._request import SESSION_HINT, DjangoAuthRequest
from passport_py.adapters.django._signals import alogged_in, connect_core_events, logged_in
from passport_py.authenticator import Authenticator
from passport_py.cookies import Cookie

__all__ = ["PassportConfig", "RequestState", "load_config", "load_passport", "passport_state"]

STATE_ATTR = "_passport_state"
_UNSET: Any = object()
_NOT_INSTALLED = (
    "PassportMiddleware is not installed: add 'passport_py.adapters.django.PassportMiddleware' "
    "to MIDDLEWARE, after 'django.contrib.sessions.middleware.SessionMiddleware'"
)


class PassportConfig:
    """The settings `PassportMiddleware` read once when Django loaded it."""

    __slots__ = (
        "anonymous",
        "anonymous_session_age",
        "cache_headers",
        "max_body_size",
        "passport",
        "restore_with",
        "use_messages",
    )

    def __init__(
        self,
        passport: Authenticator[Any],
        *,
        max_body_size: int = 1024 * 1024,
        cache_headers: bool = True,
        use_messages: bool = True,
        restore_with: tuple[str, ...] = (),
        anonymous_session_age: int | None = 600,
    ) -> None:
        from django.contrib.auth.models import AnonymousUser  # needs the app registry

        self.passport = passport
        self.max_body_size = max_body_size
        self.cache_headers = cache_headers
        self.use_messages = use_messages
        #: Strategies that log in a request whose session holds no login (remember-me).
        self.restore_with = restore_with
        #: Seconds a session created for nobody (a return-to, a pending OAuth request) lasts.
        self.anonymous_session_age = anonymous_session_age
        # A new AnonymousUser per request, as Django makes: an app that sets an attribute on
        # request.user must not change it for every other anonymous request.
        self.anonymous = AnonymousUser


def load_passport() -> Authenticator[Any]:
    """The Authenticator `settings.PASSPORT_AUTHENTICATOR` names, or `ImproperlyConfigured`."""
    path = getattr(settings, "PASSPORT_AUTHENTICATOR", None)
    if not path or not isinstance(path, str):
        raise ImproperlyConfigured(
            "PassportMiddleware needs settings.PASSPORT_AUTHENTICATOR: the dotted path of your "
            "Authenticator instance, e.g. PASSPORT_AUTHENTICATOR = 'myproject.auth.passport'"
        )
    try:
        passport = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"settings.PASSPORT_AUTHENTICATOR = {path!r} could not be imported ({exc}); "
            "point it at the module attribute holding your Authenticator"
        ) from exc
    if not isinstance(passport, Authenticator):
        raise ImproperlyConfigured(
            f"settings.PASSPORT_AUTHENTICATOR = {path!r} is {passport!r}, not an Authenticator; "
            "point it at your passport_py.Authenticator instance"
        )
    return passport


def load_config() -> PassportConfig:
    """Read the `PASSPORT_*` settings; `ImproperlyConfigured` says how to fix what is wrong."""
    passport = load_passport()
    connect_core_events(passport)
    missing = [
        app
        for app in ("django.contrib.auth", "django.contrib.contenttypes")
        if not apps.is_installed(app)
    ]
    if missing:
        raise ImproperlyConfigured(
            f"PassportMiddleware needs {' and '.join(repr(a) for a in missing)} in "
            "INSTALLED_APPS: request.user is Django's AnonymousUser when nobody is logged in"
        )
    if "django.contrib.auth.middleware.AuthenticationMiddleware" in settings.MIDDLEWARE:
        raise ImproperlyConfigured(
            "remove 'django.contrib.auth.middleware.AuthenticationMiddleware' from MIDDLEWARE: "
            "PassportMiddleware takes its place (both would set request.user)"
        )
    max_body_size = getattr(settings, "PASSPORT_MAX_BODY_SIZE", 1024 * 1024)
    if not isinstance(max_body_size, int) or max_body_size < 0:
        raise ImproperlyConfigured("settings.PASSPORT_MAX_BODY_SIZE must be a number of bytes")
    return PassportConfig(
        passport,
        max_body_size=max_body_size,
        cache_headers=bool(getattr(settings, "PASSPORT_CACHE_HEADERS", True)),
        use_messages=apps.is_installed("django.contrib.messages"),
        restore_with=_restore_with(passport),
        anonymous_session_age=_anonymous_session_age(),
    )


_COOKIE_SESSIONS = "django.contrib.sessions.backends.signed_cookies"


def _anonymous_session_age() -> int | None:
    """`settings.PASSPORT_ANONYMOUS_SESSION_AGE`: 600 seconds unless set; None (and always
    with signed-cookie sessions, which store nothing) leaves Django's expiry alone."""
    age = getattr(settings, "PASSPORT_ANONYMOUS_SESSION_AGE", 600)
    if age is not None and (type(age) is not int or age < 1):
        raise ImproperlyConfigured(
            "settings.PASSPORT_ANONYMOUS_SESSION_AGE must be a positive number of seconds, "
            "or None to keep Django's SESSION_COOKIE_AGE for sessions nobody logged into"
        )
    return None if settings.SESSION_ENGINE == _COOKIE_SESSIONS else age


def _restore_with(passport: Authenticator[Any]) -> tuple[str, ...]:
    """`settings.PASSPORT_RESTORE_WITH`: names of registered strategies (default none)."""
    names = getattr(settings, "PASSPORT_RESTORE_WITH", ())
    if isinstance(names, str) or not isinstance(names, list | tuple):
        raise ImproperlyConfigured(
            "settings.PASSPORT_RESTORE_WITH must be a list of strategy names, "
            "e.g. PASSPORT_RESTORE_WITH = ['remember-me']"
        )
    registered = passport.strategies
    for name in names:
        if not isinstance(name, str) or name not in registered:
            known = ", ".join(repr(n) for n in sorted(registered)) or "none"
            raise ImproperlyConfigured(
                f"settings.PASSPORT_RESTORE_WITH names {name!r}, which is not a registered "
                f"strategy (registered: {known}); register it with passport.use(...)"
            )
    return tuple(names)


class RequestState:
    """One request's user, restored from the session at most once; whether the request logged
    in or out (its response then must not be cached); the cookies and `Vary` names the
    middleware puts on the response."""

    __slots__ = ("config", "cookies", "request", "touched", "user", "vary")

    def __init__(self, config: PassportConfig, request: HttpRequest) -> None:
        self.config = config
        self.request = request
        self.user: Any = _UNSET
        self.touched = False
        self.cookies: tuple[Cookie, ...] = ()
        self.vary: tuple[str, ...] = ()

    def add_cookies(self, cookies: Iterable[Cookie]) -> None:
        """Cookies for the response; a later one replaces an earlier one of the same name."""
        self.cookies += tuple(cookies)

    def add_vary(self, names: tuple[str, ...]) -> None:
        """Request headers the response depends on (`Authorization`): `Vary` and no-store."""
        self.vary += tuple(n for n in names if n not in self.vary)

    def get_user(self) -> Any:
        """The user (Django's AnonymousUser when nobody is logged in), restored once."""
        user = self.user
        if user is _UNSET:
            user = self.user = self._restore()
        return user

    async def aget_user(self) -> Any:
        """`get_user` for async code: session and user are loaded without blocking the loop.

        A deserializer written as a plain `def` (one using the ORM, say) runs in a worker thread,
        as Django runs sync code from async views; an `async def` one is awaited here.
        """
        if self.user is _UNSET:
            user = await self._aload()
            if self.user is _UNSET:
                if user is None:
                    user = await self._arecall() if self.config.restore_with else None
                self.user = self.config.anonymous() if user is None else user
        return self.user

    def session_user(self) -> Any:
        """The user the session holds, never recalled (logout has no one to restore)."""
        if self.user is _UNSET:
            user = self._load()
            return self.config.anonymous() if user is None else user
        return self.user

    async def asession_user(self) -> Any:
        """`session_user` for async code."""
        if self.user is _UNSET:
            user = await self._aload()
            return self.config.anonymous() if user is None else user
        return self.user

    def set_user(self, user: Any) -> None:
        """Make `user` this request's user (`request.user` and `await request.auser()`)."""
        self.user = user
        self.request.user = user

    def _restore(self) -> Any:
        user = self._load()
        if user is None:
            user = self._recall() if self.config.restore_with else None
            return self.config.anonymous() if user is None else user
        return user

    def _load(self) -> Any:
        """The user the session holds; None when it holds none, its login ended (timeouts,
        a changed password) or its user was deleted (the core then forgets the login)."""
        passport = self.config.passport
        session = self.request.session
        present, serialized = passport.sessions.stored_user(session)
        if not present:
            return None
        return run_sync(
            passport.restore_session(
                session, serialized, lambda: DjangoAuthRequest(self.request, self.config)
            )
        )

    async def _aload(self) -> Any:
        config = self.config
        passport = config.passport
        session = self.request.session
        await session.aget(passport.session_key)  # loads the session without blocking
        present, serialized = passport.sessions.stored_user(session)
        if not present:
            return None
        if not passport.deserializes_async:
            return await sync_to_async(self._load, thread_sensitive=True)()
        return await passport.restore_session(
            session, serialized, lambda: DjangoAuthRequest(self.request, config, deferred=True)
        )

    # A recalled login is a login: new session key, rotated CSRF token and `user_logged_in`
    # (so `last_login` moves), as Django apps expect of every session that starts logged in.
    # `self.user` is set first: a signal receiver reading `request.user` gets the user, and
    # a recall that raises is not tried again within the request.

    def _recall(self) -> Any:
        self.user = self.config.anonymous()
        neutral = DjangoAuthRequest(self.request, self.config)
        user, cookies = run_sync(self.config.passport.recall(neutral, self.config.restore_with))
        self._recalled(user, cookies)
        if user is not None:
            logged_in(self, user)
        return user

    async def _arecall(self) -> Any:
        self.user = self.config.anonymous()
        neutral = DjangoAuthRequest(self.request, self.config, deferred=True)
        try:
            user, cookies = await self.config.passport.recall(neutral, self.config.restore_with)
        finally:
            session = neutral.session
            if session is not None:
                await session.asettle()
        self._recalled(user, cookies)
        if user is not None:
            await alogged_in(self, user)
        return user

    def _recalled(self, user: Any, cookies: tuple[Cookie, ...]) -> None:
        self.add_cookies(cookies)
        if user is not None:
            self.user = user
        elif cookies:
            self.touched = True  # a refused cookie is deleted: the answer depends on it


def passport_state(request: HttpRequest) -> RequestState:
    """The request's passport state, or `ImproperlyConfigured` saying how to install it."""
    state = getattr(request, STATE_ATTR, None)
    if state is None:
        if not hasattr(request, "session"):
            raise ImproperlyConfigured(SESSION_HINT)
        raise ImproperlyConfigured(_NOT_INSTALLED)
    return state  # type: ignore[no-any-return]
