"""The Django passkey app of tests/passkey_web_apps.py (the same routes as the Flask one), and
its URLconf: serve `django_site().app` with `ROOT_URLCONF = "passkey_django_app"`.

Django's CSRF middleware stays on and no view is `csrf_exempt`: the login and logout forms
carry the token field, and the shipped script sends the `X-CSRFToken` header on its JSON POSTs,
read from the `csrftoken` cookie every page sets. With `CSRF_USE_SESSIONS` (or
`CSRF_COOKIE_HTTPONLY`) no script can read that cookie: the pages then carry the token in a
`<meta name="csrf-token">` that their glue passes to the script's `headers` option. No pytest
in here.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import django_project  # noqa: F401 - configures Django before a test overrides its settings
from passkey_web_apps import (
    FORM_LOGIN,
    PASSWORDLESS,
    SCRIPT,
    SECOND_FACTOR,
    Site,
    authentication_options,
    home_page,
    login_page,
    register,
    register_page,
    registration_options,
    second_factor_page,
    site_parts,
)
from users import User

#: The Django site being served: its views read it (Django routes to module-level views).
django_current: list[Site] = []


def _django_views() -> list[Any]:
    from django.conf import settings
    from django.http import HttpRequest, HttpResponse, JsonResponse
    from django.middleware.csrf import get_token
    from django.shortcuts import redirect
    from django.urls import path

    from passport_py.adapters import django as pd
    from passport_py.adapters.django.passkeys import passkeys_script_view

    def site() -> Site:
        return django_current[-1]

    def current(request: HttpRequest) -> User:
        user: User = request.user
        return user

    def html_page(request: HttpRequest, render: Callable[[str], str]) -> HttpResponse:
        """`render(token)`: the token is the forms' field, and sets the `csrftoken` cookie
        the shipped script reads for its header."""
        token = get_token(request)
        text = render(token)
        if settings.CSRF_USE_SESSIONS or settings.CSRF_COOKIE_HTTPONLY:
            # No cookie a script can read: the page hands the token to its `headers` option.
            meta = f'<meta name="csrf-token" content="{html.escape(token)}">'
            text = text.replace("</head>", meta + "</head>", 1)
        return HttpResponse(text)

    def options_json(options: str) -> HttpResponse:
        return HttpResponse(options, content_type="application/json")

    def home(request: HttpRequest) -> HttpResponse:
        user = current(request) if pd.is_authenticated(request) else None
        return html_page(request, lambda token: home_page(user, request.session, token))

    @pd.authenticate("local", **FORM_LOGIN)
    def log_in(request: HttpRequest) -> HttpResponse:  # pragma: no cover - redirects
        return HttpResponse("not reached")

    def login(request: HttpRequest) -> HttpResponse:
        if request.method == "POST":
            return log_in(request)
        return html_page(request, login_page)

    @pd.fresh_login_required
    def passkeys_page(request: HttpRequest) -> HttpResponse:
        user = current(request)
        if request.method == "POST":
            body, status = register(request.session, site(), user, request.body)
            return JsonResponse(body, status=status)
        count = len(site().passkeys.of(user))
        return html_page(request, lambda _: register_page(user, count))

    @pd.fresh_login_required
    def register_options(request: HttpRequest) -> HttpResponse:
        return options_json(registration_options(request.session, site(), current(request)))

    def login_options(request: HttpRequest) -> HttpResponse:
        return options_json(authentication_options(request.session, site()))

    @pd.authenticate(PASSWORDLESS)
    def passkey_login(request: HttpRequest) -> HttpResponse:
        return JsonResponse({"redirect": "/"})

    def second_factor(request: HttpRequest) -> HttpResponse:
        found = pd.pending_login(request)
        if found is None:
            return redirect("/login")
        user = found[0]
        return html_page(request, lambda _: second_factor_page(user))

    def second_factor_options(request: HttpRequest) -> HttpResponse:
        found = pd.pending_login(request)
        if found is None:
            return JsonResponse({"error": "No login is waiting for a second factor"}, status=401)
        keys = site().passkeys.of(found[0])
        return options_json(authentication_options(request.session, site(), keys))

    @pd.authenticate(SECOND_FACTOR)
    def second_factor_finish(request: HttpRequest) -> HttpResponse:
        return JsonResponse({"redirect": "/"})

    def log_out(request: HttpRequest) -> HttpResponse:
        pd.logout(request)
        return redirect("/")

    return [
        path("", home),
        path("login", login),
        path("passkeys/register", passkeys_page),
        path("passkeys/register/options", register_options),
        path("passkeys/login/options", login_options),
        path("passkeys/login", passkey_login),
        path("login/second-factor", second_factor),
        path("passkeys/second-factor/options", second_factor_options),
        path("passkeys/second-factor", second_factor_finish),
        path("logout", log_out),
        path(SCRIPT.lstrip("/"), passkeys_script_view),
    ]


def __getattr__(name: str) -> Any:
    # This module is the Django site's URLconf; the views import Django only when asked for.
    if name == "urlpatterns":
        return _django_views()
    raise AttributeError(name)


def django_site() -> Site:
    """The Django app (a `WSGIHandler`) with the test project's settings (cache sessions,
    Django's CSRF middleware); the caller overrides ROOT_URLCONF to this module."""
    from django.core.handlers.wsgi import WSGIHandler
    from django_project import passports

    passport, users, passkeys = site_parts()
    passports.current = passport
    site = Site("django", WSGIHandler(), passport, users, passkeys)  # loads the middleware now
    django_current.append(site)
    return site
