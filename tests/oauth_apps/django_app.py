"""The OAuth app (routes in `oauth_apps.common`) in Django, with CSRF checks enforced.

Its URLconf is this module (`django_app()` makes it the root URLconf while the app is used).
The provider's `form_post` page is a cross-site form without a CSRF token, so the callback view
is `csrf_exempt`: the OAuth `state` is that request's CSRF defence. Starting to link an account
is a POST that keeps Django's CSRF protection.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import django_project  # noqa: F401 - configures Django before anything below uses it
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.test import Client, override_settings
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_project import passports

from oauth_apps.common import (
    API_CALLBACK,
    APP_STATE,
    Browser,
    Directory,
    Framework,
    Reply,
    link,
    session_data,
)
from passport_py import Authenticator
from passport_py.adapters.django import authenticate, authorize, is_authenticated, login_required

COOKIE = settings.SESSION_COOKIE_NAME
FORM = "application/x-www-form-urlencoded"
#: The directory of the app being served (the URLconf is module-wide).
directory: Directory | None = None


def text(body: str, status: int = 200) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")


def username(request: HttpRequest) -> str | None:
    return str(request.user.username) if is_authenticated(request) else None


def home(request: HttpRequest) -> HttpResponse:
    return text(f"hello {username(request) or 'anonymous'}")


@authenticate("local")
def log_in(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"user": username(request)})


def login_page(request: HttpRequest) -> HttpResponse:
    return log_in(request) if request.method == "POST" else text("login page")


@login_required
def private(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"user": username(request)})


def show_session(request: HttpRequest) -> HttpResponse:
    data = session_data(dict(request.session.items()))
    return JsonResponse({"id": request.session.session_key, "data": data})


def cart(request: HttpRequest) -> HttpResponse:
    request.session["cart"] = request.POST["item"]
    return HttpResponse(status=204)


def csrf(request: HttpRequest) -> HttpResponse:
    return text(get_token(request))


@authenticate("dev")
def start(request: HttpRequest) -> HttpResponse:  # pragma: no cover - always redirects
    return text("not reached")


@authenticate("dev", response_mode="form_post")
def start_form_post(request: HttpRequest) -> HttpResponse:  # pragma: no cover - redirects
    return text("not reached")


@csrf_exempt  # the provider's form_post page has no CSRF token; `state` protects this request
@authenticate("dev", success_return_to_or_redirect="/", failure_redirect="/login")
def callback(request: HttpRequest) -> HttpResponse:  # pragma: no cover - always redirects
    return text("not reached")


@authenticate("dev", callback_url=API_CALLBACK, state=APP_STATE)
def start_api(request: HttpRequest) -> HttpResponse:  # pragma: no cover - always redirects
    return text("not reached")


@authenticate("dev")
def api_callback(request: HttpRequest) -> HttpResponse:
    info = request.auth_info if isinstance(request.auth_info, Mapping) else {}
    return JsonResponse({"user": username(request), "state": info.get("state")})


@require_POST
@login_required
@authorize("dev-link")
def connect_start(request: HttpRequest) -> HttpResponse:  # pragma: no cover - redirects
    return text("not reached")


@csrf_exempt
@authorize("dev-link")
def connect_callback(request: HttpRequest) -> HttpResponse:
    if not is_authenticated(request):
        return JsonResponse({"error": "log in to link an account"}, status=401)
    assert directory is not None
    return JsonResponse(link(directory, request.user, request.account))


urlpatterns = [
    path("", home),
    path("login", login_page),
    path("private", private),
    path("session", show_session),
    path("cart", cart),
    path("csrf", csrf),
    path("auth/dev", start),
    path("auth/dev/form-post", start_form_post),
    path("auth/dev/callback", callback),
    path("auth/dev/api", start_api),
    path("auth/dev/api/callback", api_callback),
    path("connect/dev", connect_start),
    path("connect/dev/callback", connect_callback),
]


class DjangoApp:
    framework: Framework = "django"

    def __init__(self, passport: Authenticator[Any]) -> None:
        self.passport = passport

    def browser(self) -> DjangoBrowser:
        passports.current = self.passport
        client = Client(enforce_csrf_checks=True)
        client.handler.load_middleware()  # reads PASSPORT_AUTHENTICATOR now, for this client
        return DjangoBrowser(client)


@contextmanager
def django_app(passport: Authenticator[Any], served: Directory) -> Iterator[DjangoApp]:
    global directory
    directory = served
    try:
        with override_settings(ROOT_URLCONF=__name__):
            yield DjangoApp(passport)
    finally:
        directory = None


class DjangoBrowser(Browser):
    framework: Framework = "django"
    client: Client

    def session_cookie(self) -> str | None:
        cookie = self.client.cookies.get(COOKIE)
        return cookie.value if cookie is not None and cookie.value else None

    def _post(self, path: str, form: dict[str, str], headers: dict[str, str], csrf: bool) -> Any:
        if csrf:
            form["csrfmiddlewaretoken"] = self.get("/csrf").text
        # As a browser's form posts (Django's client would send multipart/form-data).
        return self.client.post(path, urlencode(form), FORM, headers=headers)

    def _reply(self, response: Any) -> Reply:
        return Reply(response.status_code, response.get("Location"), response.content.decode())
