"""What `PassportMiddleware` keeps per app (its configuration) and per request (the user)."""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.utils.module_loading import import_string

from passport_py._async import run_sync
from passport_py.adapters.django._request import SESSION_HINT, DjangoAuthRequest
from passport_py.authenticator import Authenticator

__all__ = ["PassportConfig", "RequestState", "load_config", "load_passport", "passport_state"]

STATE_ATTR = "_passport_state"
_UNSET: Any = object()
_NOT_INSTALLED = (
    "PassportMiddleware is not installed: add 'passport_py.adapters.django.PassportMiddleware' "
    "to MIDDLEWARE, after 'django.contrib.sessions.middleware.SessionMiddleware'"
)


class PassportConfig:
    """The settings `PassportMiddleware` read once when Django loaded it."""

    __slots__ = ("anonymous", "cache_headers", "max_body_size", "passport", "use_messages")

    def __init__(
        self,
        passport: Authenticator[Any],
        *,
        max_body_size: int = 1024 * 1024,
        cache_headers: bool = True,
        use_messages: bool = True,
    ) -> None:
        from django.contrib.auth.models import AnonymousUser  # needs the app registry

        self.passport = passport
        self.max_body_size = max_body_size
        self.cache_headers = cache_headers
        self.use_messages = use_messages
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
    )


class RequestState:
    """One request's user, restored from the session at most once, and whether the request
    logged in or out (its response then must not be cached)."""

    __slots__ = ("config", "request", "touched", "user")

    def __init__(self, config: PassportConfig, request: HttpRequest) -> None:
        self.config = config
        self.request = request
        self.user: Any = _UNSET
        self.touched = False

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
            config = self.config
            session = self.request.session
            await session.aget(config.passport.session_key)  # loads the session without blocking
            present, serialized = config.passport.sessions.stored_user(session)
            if not present:
                self.user = config.anonymous()
            elif config.passport.deserializes_async:
                self.user = await self._adeserialize(serialized)
            else:
                restored = await sync_to_async(self._restore, thread_sensitive=True)()
                if self.user is _UNSET:
                    self.user = restored
        return self.user

    def set_user(self, user: Any) -> None:
        """Make `user` this request's user (`request.user` and `await request.auser()`)."""
        self.user = user
        self.request.user = user

    def _restore(self) -> Any:
        config = self.config
        passport = config.passport
        session = self.request.session
        present, serialized = passport.sessions.stored_user(session)
        if not present:
            return config.anonymous()
        wants = passport.wants_request_on_restore
        request = DjangoAuthRequest(self.request, config) if wants else None
        user = run_sync(passport.deserialize(serialized, request))
        if user is None:
            passport.sessions.forget_user(session)  # the user was deleted
            return config.anonymous()
        return user

    async def _adeserialize(self, serialized: Any) -> Any:
        config = self.config
        passport = config.passport
        request = (
            DjangoAuthRequest(self.request, config, deferred=True)
            if passport.wants_request_on_restore
            else None
        )
        user = await passport.deserialize(serialized, request)
        if user is None:
            passport.sessions.forget_user(self.request.session)
            return config.anonymous()
        return user


def passport_state(request: HttpRequest) -> RequestState:
    """The request's passport state, or `ImproperlyConfigured` saying how to install it."""
    state = getattr(request, STATE_ATTR, None)
    if state is None:
        if not hasattr(request, "session"):
            raise ImproperlyConfigured(SESSION_HINT)
        raise ImproperlyConfigured(_NOT_INSTALLED)
    return state  # type: ignore[no-any-return]
