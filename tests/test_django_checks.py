"""The Django system checks (`manage.py check`), ids `passport_py.E001`-`E009` and `W006`.

Each test changes the test project's settings with `override_settings` (a URLconf is an
object holding `urlpatterns`) and runs Django's check registry, as `manage.py check` does;
it asserts the id and that the hint says how to fix it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import django_project  # noqa: F401 - configures Django
import pytest
from behaviour import tokens
from behaviour.common import make_passport
from django.conf import settings
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.http import HttpRequest, HttpResponse
from django.test import override_settings
from django.urls import include, path
from django.utils.decorators import method_decorator
from django.views import View
from django_project import passports
from users import UserStore, local_passport

from passport_py import Authenticator
from passport_py.adapters.django import (
    AuthenticateMixin,
    LoginRequiredMixin,
    authenticate,
    login_required,
)
from passport_py.strategies.custom import CustomStrategy
from passport_py.strategies.local import LocalStrategy

APP = "passport_py.adapters.django"
OURS = "passport_py.adapters.django.PassportMiddleware"
SESSIONS = "django.contrib.sessions.middleware.SessionMiddleware"
DJANGO_AUTH = "django.contrib.auth.middleware.AuthenticationMiddleware"


class SessionStore:
    """A `SESSION_ENGINE` (this module) whose store cannot flush or cycle its key."""


class URLconf:
    """A URLconf module stand-in (hashable: Django caches one resolver per URLconf)."""

    def __init__(self, *urlpatterns: Any) -> None:
        self.urlpatterns = list(urlpatterns)


def page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("page")


@pytest.fixture(autouse=True)
def passport() -> Iterator[Authenticator[Any]]:
    previous = passports.current
    passports.current = local_passport(UserStore())
    try:
        yield passports.current
    finally:
        passports.current = previous


def found(*urlpatterns: Any, **changes: Any) -> list[checks.CheckMessage]:
    """What passport_py's checks report with `changes` to the settings and these routes."""
    urlconf = URLconf(*urlpatterns)
    with override_settings(ROOT_URLCONF=urlconf, **changes):
        return list(checks.run_checks(tags=["passport_py"]))


def only(messages: list[checks.CheckMessage]) -> checks.CheckMessage:
    assert len(messages) == 1, [str(m) for m in messages]
    return messages[0]


def test_the_test_project_settings_pass_every_passport_check() -> None:
    assert found(path("", page)) == []


def test_a_missing_authenticator_setting_is_E001() -> None:
    error = only(found(PASSPORT_AUTHENTICATOR=None))
    assert error.id == "passport_py.E001"
    assert error.level == checks.ERROR
    assert "PASSPORT_AUTHENTICATOR = 'myproject.auth.passport'" in (error.hint or "")


def test_an_authenticator_path_that_does_not_import_is_E002() -> None:
    error = only(found(PASSPORT_AUTHENTICATOR="django_project.passports.missing"))
    assert error.id == "passport_py.E002"
    assert "cannot be imported" in error.msg
    assert "passport_py.Authenticator instance" in (error.hint or "")


def test_an_authenticator_path_naming_something_else_is_E002() -> None:
    error = only(found(PASSPORT_AUTHENTICATOR="django_project.settings.LOGIN_URL"))
    assert error.id == "passport_py.E002"
    assert "is '/login', not a passport_py.Authenticator" in error.msg


def test_the_app_installed_without_the_middleware_is_E003() -> None:
    middleware = [m for m in settings.MIDDLEWARE if m != OURS]
    apps = [*settings.INSTALLED_APPS, APP] if APP not in settings.INSTALLED_APPS else None
    changes: dict[str, Any] = {"MIDDLEWARE": middleware}
    if apps is not None:
        changes["INSTALLED_APPS"] = apps
    error = only(found(**changes))
    assert error.id == "passport_py.E003"
    assert f"add '{OURS}' to MIDDLEWARE, after '{SESSIONS}'" == error.hint


def test_django_authentication_middleware_next_to_ours_is_E004() -> None:
    error = only(found(MIDDLEWARE=[SESSIONS, DJANGO_AUTH, OURS]))
    assert error.id == "passport_py.E004"
    assert f"remove '{DJANGO_AUTH}'" in (error.hint or "")


def test_our_middleware_before_the_session_middleware_is_E005() -> None:
    error = only(found(MIDDLEWARE=[OURS, SESSIONS]))
    assert error.id == "passport_py.E005"
    assert "comes after it" in error.msg
    assert f"put '{SESSIONS}' before '{OURS}'" in (error.hint or "")


def test_no_session_middleware_at_all_is_E005() -> None:
    error = only(found(MIDDLEWARE=[OURS]))
    assert error.id == "passport_py.E005"
    assert "is not in MIDDLEWARE" in error.msg


def test_signed_cookie_sessions_are_warning_W006() -> None:
    warning = only(found(SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies"))
    assert warning.id == "passport_py.W006"
    assert warning.level == checks.WARNING
    assert "'django.contrib.sessions.backends.db', '...cache' or '...cached_db'" in (
        warning.hint or ""
    )


def test_a_session_engine_that_does_not_import_is_E007() -> None:
    error = only(found(SESSION_ENGINE="django_project.no_such_engine"))
    assert error.id == "passport_py.E007"
    assert "SESSION_ENGINE to a module with a SessionStore" in (error.hint or "")


def test_a_session_store_that_cannot_regenerate_is_E007() -> None:
    error = only(found(SESSION_ENGINE=__name__))
    assert error.id == "passport_py.E007"
    assert "flush() and cycle_key()" in error.msg
    assert "SessionBase" in (error.hint or "")


def test_nothing_is_checked_where_passport_is_not_in_use() -> None:
    middleware = [m for m in settings.MIDDLEWARE if m != OURS]
    apps = [a for a in settings.INSTALLED_APPS if a != APP]
    assert found(MIDDLEWARE=middleware, INSTALLED_APPS=apps, PASSPORT_AUTHENTICATOR=None) == []


def test_a_function_view_naming_an_unknown_strategy_is_E008() -> None:
    @authenticate("locale")
    def log_in(request: HttpRequest) -> HttpResponse:
        return HttpResponse("welcome")

    error = only(found(path("login", log_in)))
    assert error.id == "passport_py.E008"
    assert "authenticate('locale')" in error.msg
    assert "(registered: 'local')" in error.msg
    assert "passport.use(...)" in (error.hint or "")
    assert "log_in" in str(error.obj)


def test_an_unknown_name_in_an_included_urlconf_is_E008() -> None:
    @authenticate(["local", "bearer"], session=False)
    def api(request: HttpRequest) -> HttpResponse:
        return HttpResponse("api")

    nested = URLconf(path("v1/", include(([path("me", api)], "v1"))))
    error = only(found(path("api/", include(nested))))
    assert error.id == "passport_py.E008"
    assert "authenticate('bearer')" in error.msg


def test_restore_with_naming_an_unknown_strategy_is_E008() -> None:
    error = only(found(path("", page), PASSPORT_RESTORE_WITH=["remember-me"]))
    assert error.id == "passport_py.E008"
    assert "PASSPORT_RESTORE_WITH('remember-me')" in error.msg


def test_an_authenticate_mixin_naming_an_unknown_strategy_is_E008() -> None:
    class Login(AuthenticateMixin, View):
        authenticate_strategy = "locale"

    error = only(found(path("login", Login.as_view())))
    assert error.id == "passport_py.E008"
    assert "authenticate('locale')" in error.msg
    assert "Login.dispatch" in str(error.obj)


def test_a_method_decorator_naming_an_unknown_strategy_is_E008() -> None:
    @method_decorator(authenticate("locale"), name="post")
    class Login(View):
        def post(self, request: HttpRequest) -> HttpResponse:
            return HttpResponse("welcome")

    error = only(found(path("login", Login.as_view())))
    assert error.id == "passport_py.E008"
    assert "Login.post" in str(error.obj)


def test_login_required_without_a_deserializer_is_E009(passport: Authenticator[Any]) -> None:
    passports.current = Authenticator().use(LocalStrategy(UserStore().verify))
    error = only(found(path("account", login_required(page))))
    assert error.id == "passport_py.E009"
    assert "@passport.serialize_user and @passport.deserialize_user" in error.msg
    assert "session=False" in (error.hint or "")


def test_a_login_required_mixin_without_a_deserializer_is_E009() -> None:
    class Account(LoginRequiredMixin, View):
        def get(self, request: HttpRequest) -> HttpResponse:
            return HttpResponse("account")

    passports.current = Authenticator()
    error = only(found(path("account", Account.as_view())))
    assert error.id == "passport_py.E009"


def test_stateless_views_need_no_serializer() -> None:
    passports.current = Authenticator().use(LocalStrategy(UserStore().verify))
    view = authenticate("local", session=False)(page)
    assert found(path("token", view)) == []


def test_manage_py_check_fails_on_an_unknown_strategy_name() -> None:
    @authenticate("locale")
    def log_in(request: HttpRequest) -> HttpResponse:
        return HttpResponse("welcome")

    urlconf = URLconf(path("login", log_in))
    with override_settings(ROOT_URLCONF=urlconf), pytest.raises(SystemCheckError) as caught:
        call_command("check")
    assert "passport_py.E008" in str(caught.value)
    assert "HINT: register the strategy with passport.use(...)" in str(caught.value)


def test_the_test_project_passes_manage_py_check() -> None:
    """The whole project: the admin, the behaviour app and the token routes, whose strategies
    the token tests register one at a time (here each name gets a stand-in strategy)."""
    passport = make_passport(UserStore())
    for spec in tokens.ROUTES.values():
        for name in [spec] if isinstance(spec, str) else spec:
            if name not in passport.strategies:
                passport.use(CustomStrategy(lambda request: None, name))
    passports.current = passport
    assert APP in settings.INSTALLED_APPS
    call_command("check", fail_level="WARNING")
