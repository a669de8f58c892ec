"""Django: the same logged-in page behind AuthenticationMiddleware and behind passport_py's
PassportMiddleware, on the same session engine (the cache engine over local memory).

Django is configured once per process, so this module configures it on import; only
`python -m benchmarks` imports it.
"""

from __future__ import annotations

from typing import Any

import django
from django.conf import settings

SESSION = "django.contrib.sessions.middleware.SessionMiddleware"
settings.configure(
    SECRET_KEY="benchmark-secret-key-of-reasonable-length-for-django",
    ALLOWED_HOSTS=["testserver"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    SESSION_ENGINE="django.contrib.sessions.backends.cache",
    CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
    AUTHENTICATION_BACKENDS=[f"{__name__}.MemoryBackend"],
    PASSPORT_AUTHENTICATOR=f"{__name__}.passport",
    MIDDLEWARE=[SESSION],
    USE_TZ=True,
)
django.setup()

from django.contrib.auth import login as django_login  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.urls import path  # noqa: E402

from passport_py import Authenticator  # noqa: E402
from passport_py.adapters.django import login as passport_login  # noqa: E402

from .wsgi import call_once, get_environ, session_cookie_from  # noqa: E402

call_command("migrate", verbosity=0)  # Django's login() saves last_login
ALICE = User.objects.create(id=1, username="alice")
USERS = {1: ALICE}


class MemoryBackend:
    """Django's way to load the user: a backend; this one reads the same dict as ours."""

    def get_user(self, user_id: Any) -> User | None:
        return USERS.get(int(user_id))


passport: Authenticator[User] = Authenticator()
passport.serialize_user(lambda user: user.pk)
passport.deserialize_user(USERS.get)


def me(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"hello {request.user.username}")


def stock_login(request: HttpRequest) -> HttpResponse:
    django_login(request, ALICE, backend=f"{__name__}.MemoryBackend")
    return HttpResponse("ok")


def our_login(request: HttpRequest) -> HttpResponse:
    passport_login(request, ALICE)
    return HttpResponse("ok")


urlpatterns = [
    path("me", me),
    path("login/stock", stock_login),
    path("login/ours", our_login),
]


def handler(middleware: str) -> WSGIHandler:
    """A WSGI app with the session middleware and `middleware` after it."""
    with override_settings(MIDDLEWARE=[SESSION, middleware]):
        return WSGIHandler()


def stock_app() -> WSGIHandler:
    return handler("django.contrib.auth.middleware.AuthenticationMiddleware")


def passport_app() -> WSGIHandler:
    return handler("passport_py.adapters.django.PassportMiddleware")


def logged_in_cookie(app: WSGIHandler, login_path: str) -> str:
    """The session cookie a real login request on `app` sets."""
    return session_cookie_from(call_once(app, get_environ(login_path)), "sessionid")
