"""Django system checks (`manage.py check`, and `runserver` before it serves): the settings
`PassportMiddleware` needs, and the strategies and serializers the URLconf's views need.

| id | what it catches |
| --- | --- |
| passport_py.E001 | `PASSPORT_AUTHENTICATOR` missing or not a dotted path |
| passport_py.E002 | `PASSPORT_AUTHENTICATOR` not importable, or not an `Authenticator` |
| passport_py.E003 | the app installed but `PassportMiddleware` not in `MIDDLEWARE` |
| passport_py.E004 | Django's `AuthenticationMiddleware` and `PassportMiddleware` both |
| passport_py.E005 | `PassportMiddleware` before (or without) `SessionMiddleware` |
| passport_py.W006 | signed-cookie sessions: a logged-out cookie stays valid |
| passport_py.E007 | a `SESSION_ENGINE` whose sessions cannot be flushed (regenerated) |
| passport_py.E008 | a view (or `PASSPORT_RESTORE_WITH`) naming a strategy nobody registered |
| passport_py.E009 | a login-session view without a serializer or deserializer |

They run where `PassportMiddleware` is in `MIDDLEWARE` or "passport_py.adapters.django" in
`INSTALLED_APPS`; registered by that app's `ready()` and by importing this adapter.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from importlib import import_module
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.module_loading import import_string

from passport_py.adapters.django.decorators import Route
from passport_py.adapters.django.mixins import AuthenticateMixin, LoginRequiredMixin
from passport_py.authenticator import Authenticator
from passport_py.errors import ConfigurationError
from passport_py.route_checks import RouteRequirement, check_requirements, declared

__all__ = ["check_routes", "check_settings", "register"]

TAG = "passport_py"
APP = "passport_py.adapters.django"
OURS = frozenset({f"{APP}.PassportMiddleware", f"{APP}.middleware.PassportMiddleware"})
SESSIONS = "django.contrib.sessions.middleware.SessionMiddleware"
DJANGO_AUTH = "django.contrib.auth.middleware.AuthenticationMiddleware"
SIGNED_COOKIES = "django.contrib.sessions.backends.signed_cookies"
#: What a Django-style check id and hint look like for the middleware setting.
ADD_OURS = f"add '{APP}.PassportMiddleware' to MIDDLEWARE, after '{SESSIONS}'"


def _error(number: int, msg: str, hint: str, obj: Any = None) -> checks.CheckMessage:
    return checks.Error(msg, hint=hint, obj=obj, id=f"{TAG}.E{number:03d}")


def _is_ours(path: object) -> bool:
    if path in OURS:
        return True
    if not isinstance(path, str) or not path.startswith(APP):
        return False
    try:  # a subclass of ours kept in the adapter's package
        from passport_py.adapters.django.middleware import PassportMiddleware

        found = import_string(path)
    except ImportError:
        return False
    return isinstance(found, type) and issubclass(found, PassportMiddleware)


def _middleware() -> list[str]:
    return [m for m in getattr(settings, "MIDDLEWARE", None) or () if isinstance(m, str)]


def _ours_at() -> int | None:
    """Where `PassportMiddleware` sits in `MIDDLEWARE` (None: absent)."""
    return next((i for i, path in enumerate(_middleware()) if _is_ours(path)), None)


def _in_use() -> bool:
    from django.apps import apps

    return _ours_at() is not None or apps.is_installed(APP)


def load_checked_passport() -> tuple[Authenticator[Any] | None, list[checks.CheckMessage]]:
    """The passport `PASSPORT_AUTHENTICATOR` names, or the E001/E002 that say why not."""
    path = getattr(settings, "PASSPORT_AUTHENTICATOR", None)
    example = "PASSPORT_AUTHENTICATOR = 'myproject.auth.passport'"
    if not path or not isinstance(path, str):
        return None, [
            _error(
                1,
                "settings.PASSPORT_AUTHENTICATOR is not set to a dotted path.",
                f"set it to the module attribute holding your Authenticator, e.g. {example}",
            )
        ]
    try:
        passport = import_string(path)
    except ImportError as exc:
        reason = f"cannot be imported ({exc})"
    else:
        if isinstance(passport, Authenticator):
            return passport, []
        reason = f"is {passport!r}, not a passport_py.Authenticator"
    return None, [
        _error(
            2,
            f"settings.PASSPORT_AUTHENTICATOR = {path!r} {reason}.",
            "point it at the module attribute holding your passport_py.Authenticator "
            f"instance, e.g. {example}",
        )
    ]


def _middleware_order() -> list[checks.CheckMessage]:
    ours = _ours_at()
    if ours is None:
        return [
            _error(
                3,
                f"'{APP}' is in INSTALLED_APPS but PassportMiddleware is not in MIDDLEWARE, so "
                "request.user is never set and every passport decorator fails.",
                ADD_OURS,
            )
        ]
    middleware = _middleware()
    found: list[checks.CheckMessage] = []
    if DJANGO_AUTH in middleware:
        found.append(
            _error(
                4,
                "MIDDLEWARE has both Django's AuthenticationMiddleware and PassportMiddleware; "
                "both would set request.user.",
                f"remove '{DJANGO_AUTH}': PassportMiddleware takes its place",
            )
        )
    if SESSIONS not in middleware or middleware.index(SESSIONS) > ours:
        where = "is not in MIDDLEWARE" if SESSIONS not in middleware else "comes after it"
        found.append(
            _error(
                5,
                f"PassportMiddleware needs the session, but SessionMiddleware {where}.",
                f"put '{SESSIONS}' before '{middleware[ours]}' in MIDDLEWARE",
            )
        )
    return found


def _session_engine() -> list[checks.CheckMessage]:
    engine = getattr(settings, "SESSION_ENGINE", "django.contrib.sessions.backends.db")
    cache_engines = "'django.contrib.sessions.backends.db', '...cache' or '...cached_db'"
    try:
        store = import_module(engine).SessionStore
    except (ImportError, AttributeError) as exc:
        return [
            _error(
                7,
                f"SESSION_ENGINE = {engine!r} has no importable SessionStore ({exc}).",
                f"set SESSION_ENGINE to a module with a SessionStore, e.g. {cache_engines}",
            )
        ]
    if not all(callable(getattr(store, name, None)) for name in ("flush", "cycle_key")):
        return [
            _error(
                7,
                f"SESSION_ENGINE = {engine!r}: its SessionStore has no flush() and cycle_key(), "
                "which login and logout use to give the session a new key (session fixation).",
                "subclass django.contrib.sessions.backends.base.SessionBase, or use "
                + cache_engines,
            )
        ]
    signed = import_module(SIGNED_COOKIES).SessionStore
    if isinstance(store, type) and issubclass(store, signed):
        return [
            checks.Warning(
                f"SESSION_ENGINE = {engine!r} keeps the session in the cookie: logout cannot "
                "end it on the server, so a copy of a logged-in cookie stays valid until it "
                "expires.",
                hint=f"use server-side sessions: {cache_engines}",
                id=f"{TAG}.W006",
            )
        ]
    return []


def check_settings(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[Any]:
    """E001-E007: the settings `PassportMiddleware` needs."""
    if not _in_use():
        return []
    _, found = load_checked_passport()
    return [*found, *_middleware_order(), *_session_engine()]


# -- the URLconf ----------------------------------------------------------------------------


def _patterns(patterns: Sequence[Any]) -> Iterator[URLPattern]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry.url_patterns)
        elif isinstance(entry, URLPattern):
            yield entry


def _named(cls: type, needs: Sequence[RouteRequirement], where: str) -> list[RouteRequirement]:
    label = f"{cls.__module__}.{cls.__qualname__}.{where}"
    return [replace(need, view=label) for need in needs]


def _class_needs(cls: type) -> list[RouteRequirement]:
    """What a class-based view needs: its mixins, and handlers decorated with
    `method_decorator(authenticate(...))` (whose requirement Django copies to the method)."""
    needs: list[RouteRequirement] = []
    if issubclass(cls, AuthenticateMixin):
        route: Route | None = cls._passport_route
        if route is not None:
            needs.extend(_named(cls, [route.requirement(cls, cls._kind)], "dispatch"))
    if issubclass(cls, LoginRequiredMixin):
        mixin = "FreshLoginRequiredMixin" if cls._step_up is not None else "LoginRequiredMixin"
        needs.append(RouteRequirement(mixin, f"{cls.__module__}.{cls.__qualname__}"))
    methods = [*getattr(cls, "http_method_names", ()), "dispatch"]
    for name in methods:
        found = declared(getattr(cls, name, None))
        needs.extend(_named(cls, found, name))
    return needs


def view_requirements(patterns: Sequence[Any]) -> list[RouteRequirement]:
    """The requirements declared by every view `patterns` reaches (includes followed)."""
    needs: list[RouteRequirement] = []
    for pattern in _patterns(patterns):
        view = pattern.callback
        needs.extend(declared(view))
        cls = getattr(view, "view_class", None)
        if isinstance(cls, type):
            needs.extend(_class_needs(cls))
    return needs


def check_routes(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[Any]:
    """E008 and E009: the strategies and the serializers the URLconf's views need."""
    if not _in_use():
        return []
    passport, _ = load_checked_passport()
    if passport is None:
        return []  # check_settings reports it
    try:
        needs = view_requirements(get_resolver().url_patterns)
    except Exception:  # Django's own URL checks report a URLconf that fails to load
        return []
    restore_with = getattr(settings, "PASSPORT_RESTORE_WITH", ())
    if (
        restore_with
        and isinstance(restore_with, list | tuple)
        and all(isinstance(n, str) for n in restore_with)
    ):
        needs.append(RouteRequirement("PASSPORT_RESTORE_WITH", "settings", tuple(restore_with)))
    found: list[checks.CheckMessage] = []
    seen: set[RouteRequirement] = set()
    for need in needs:
        if need.strategies and need not in seen:
            seen.add(need)
            try:
                check_requirements(passport, [replace(need, session=False)])
            except ConfigurationError as exc:
                found.append(_error(8, str(exc), _REGISTER_HINT, need.view))
    session_needs = [replace(need, strategies=()) for need in needs if need.session]
    try:
        check_requirements(passport, session_needs)
    except ConfigurationError as exc:
        found.append(_error(9, str(exc), _SERIALIZER_HINT, session_needs[0].view))
    return found


_REGISTER_HINT = (
    "register the strategy with passport.use(...) in the module PASSPORT_AUTHENTICATOR names, "
    "or fix the name in the decorator"
)
_SERIALIZER_HINT = (
    "add @passport.serialize_user and @passport.deserialize_user functions, or pass "
    "session=False to authenticate() on stateless routes"
)


def register() -> None:
    """Register the checks with Django (again is harmless: the registry keeps a set)."""
    checks.register(check_settings, TAG)
    checks.register(check_routes, TAG, checks.Tags.urls)
