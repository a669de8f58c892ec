"""The behaviour app in Django (the contract is in tests/behaviour/common.py).

Its routes are part of the test project's root URLconf (`django_project.urls`); `make_client`
points `settings.PASSPORT_AUTHENTICATOR` at a passport over the given store and builds a WSGI
handler (`make_wsgi_app`), which loads `PassportMiddleware` (and so that passport) at once.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

import django_project  # noqa: F401 - configures Django before anything below uses it
import httpx
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django_project import passports
from users import UserStore

from behaviour.common import LOGIN_FORM, callback_body, make_passport, session_snapshot, username
from passport_py import AuthResult
from passport_py.adapters.django import authenticate, authorize, login_required, logout

SESSION_COOKIE = settings.SESSION_COOKIE_NAME


def text(body: str) -> HttpResponse:
    return HttpResponse(body, content_type="text/plain; charset=utf-8")


def home(request: HttpRequest) -> HttpResponse:
    return text(f"hello {username(request.user) or 'anonymous'}")


@authenticate("local", **LOGIN_FORM)
def log_in(request: HttpRequest) -> HttpResponse:  # pragma: no cover - both outcomes redirect
    return text("not reached")


@csrf_exempt
def login_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return log_in(request)
    return text("login page")


@csrf_exempt
@authenticate("local")
def login_api(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"user": username(request.user)})


def flashes(request: HttpRequest) -> HttpResponse:
    return JsonResponse([[m.level_tag, m.message] for m in get_messages(request)], safe=False)


@authenticate(["token", "basic"], session=False)
def api(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"user": username(request.user)})


def answer_callback(request: HttpRequest, result: AuthResult[Any]) -> HttpResponse:
    return JsonResponse(callback_body(result))


@csrf_exempt
@authenticate("local", callback=answer_callback)
def login_callback(request: HttpRequest) -> HttpResponse:  # pragma: no cover - the callback answers
    return text("not reached")


@csrf_exempt
@login_required
@authorize("local")
def link(request: HttpRequest) -> HttpResponse:
    account = getattr(request, "account", None)
    return JsonResponse({"user": username(request.user), "account": username(account)})


@csrf_exempt
def log_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return HttpResponseRedirect("/")


@login_required
def private(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"user": username(request.user)})


@authenticate("sync-custom", session=False)
def custom_sync(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"user": username(request.user)})


@authenticate("async-custom", session=False)
async def custom_async(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"user": username(await request.auser())})  # type: ignore[attr-defined]


def session_view(request: HttpRequest) -> HttpResponse:
    session = request.session
    return JsonResponse(session_snapshot(session.session_key, session))


@csrf_exempt
def cart(request: HttpRequest) -> HttpResponse:
    request.session["cart"] = request.POST.get("item")
    return HttpResponse(status=204)


urlpatterns = [
    path("", home),
    path("login", login_page),
    path("login-api", login_api),
    path("flashes", flashes),
    path("api", api),
    path("login-callback", login_callback),
    path("link", link),
    path("logout", log_out),
    path("private", private),
    path("custom/sync", custom_sync),
    path("custom/async", custom_async),
    path("session", session_view),
    path("cart", cart),
]


def make_wsgi_app(store: UserStore) -> WSGIHandler:
    """The Django behaviour app as a WSGI callable whose passport serves `store`."""
    passports.current = make_passport(store)
    return WSGIHandler()  # loads the middleware now, so this app keeps this passport


def make_client(store: UserStore) -> httpx.Client:
    """A client for the Django behaviour app whose passport serves `store`."""
    return httpx.Client(
        transport=httpx.WSGITransport(app=make_wsgi_app(store)),
        base_url="http://testserver",
        follow_redirects=False,
    )


def session_cookie(data: dict[str, Any]) -> str:
    """The key of a session saved with `data` in the project's session store."""
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session.update(data)
    session.save()
    return str(session.session_key)
