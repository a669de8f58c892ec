"""The views the Django adapter tests drive (their URLconf: `ROOT_URLCONF = __name__`).

`make_kit()` builds a passport over a fresh `users.UserStore` (plain dataclass users, counting
the calls passport_py makes), points `settings.PASSPORT_AUTHENTICATOR` at it and returns a Django
test `Client` that does not follow redirects. `model_passport()` is the same over Django's
`User` model, for the tests of `django.contrib.auth` and the admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from django.contrib import admin
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.decorators import login_required as django_login_required
from django.contrib.auth.mixins import LoginRequiredMixin as DjangoLoginRequiredMixin
from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.test import Client
from django.urls import path
from django.utils.decorators import method_decorator
from django.views import View
from users import PASSWORD, UserStore, local_passport

from django_project import passports
from passport_py import (
    Authenticator,
    AuthRequest,
    AuthResult,
    Outcome,
    Strategy,
    run_sync,
)
from passport_py.adapters.django import (
    AuthenticateMixin,
    AuthorizeMixin,
    LoginRequiredMixin,
    alogin,
    alogout,
    authenticate,
    authorize,
    is_authenticated,
    login,
    login_required,
    logout,
    pop_flashes,
)
from passport_py.strategies.local import LocalStrategy


def model_passport() -> Authenticator[Any]:
    """Local logins against Django's `User` model, checked by Django's `ModelBackend`."""
    backend = ModelBackend()

    def verify(username: str, password: str) -> Any:
        return backend.authenticate(None, username=username, password=password)

    passport: Authenticator[Any] = Authenticator()
    passport.use(LocalStrategy(verify))
    passport.serialize_user(lambda user: user.pk)
    passport.deserialize_user(backend.get_user)
    return passport


@dataclass
class Kit:
    passport: Authenticator[Any]
    store: UserStore
    client: Client

    def login(self, username: str = "alice", password: str = PASSWORD) -> HttpResponse:
        response = self.client.post("/login", {"username": username, "password": password})
        assert response.status_code == 200, response.content
        return response

    def session(self) -> dict[str, Any]:
        return dict(self.client.session.items())


def make_kit(passport: Authenticator[Any] | None = None, **client_options: Any) -> Kit:
    """A client whose middleware holds `passport` (default: one over a new store)."""
    store = UserStore.default()
    passport = passport or local_passport(store)
    passports.current = passport
    client = Client(**client_options)
    client.handler.load_middleware()  # reads PASSPORT_AUTHENTICATOR now, for this client
    return Kit(passport, store, client)


# -- views ----------------------------------------------------------------------------------


def describe(request: HttpRequest, **extra: Any) -> JsonResponse:
    user = request.user
    return JsonResponse(
        {
            "user": getattr(user, "username", None) or None,
            "authenticated": is_authenticated(request),
            "django_authenticated": bool(getattr(user, "is_authenticated", True)),
            "auth_info": getattr(request, "auth_info", None),
            **extra,
        }
    )


async def adescribe(request: HttpRequest, **extra: Any) -> JsonResponse:
    user = await request.auser()  # type: ignore[attr-defined]
    return JsonResponse(
        {"user": getattr(user, "username", None) or None, "auth_info": None, **extra}
    )


def whoami(request: HttpRequest) -> HttpResponse:
    return describe(request)


async def awhoami(request: HttpRequest) -> HttpResponse:
    first = await request.auser()  # type: ignore[attr-defined]
    again = await request.auser()  # type: ignore[attr-defined]
    return await adescribe(request, same=first is again, lazy_same=request.user == first)


def flashes(request: HttpRequest) -> list[list[str]]:
    return [[m.level_tag, m.message, m.extra_tags] for m in get_messages(request)]


@authenticate("local")
def log_in(request: HttpRequest) -> HttpResponse:
    return describe(request)


def login_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return log_in(request)
    return JsonResponse({"flashes": flashes(request)})


@authenticate("local", keep_session_info=True)
def login_keep(request: HttpRequest) -> HttpResponse:
    return describe(request)


@authenticate(
    "local",
    success_redirect="/welcome",
    failure_redirect="/login",
    failure_flash=True,
    success_flash={"type": "celebrate", "message": "Hello again"},
)
def login_redirect(request: HttpRequest) -> HttpResponse:  # pragma: no cover - redirects
    return HttpResponse("not reached")


@authenticate("local", success_return_to_or_redirect="/", failure_redirect="/login")
def login_return(request: HttpRequest) -> HttpResponse:  # pragma: no cover - redirects
    return HttpResponse("not reached")


@authenticate("local", session=False)
def login_stateless(request: HttpRequest) -> HttpResponse:
    return describe(request)


@authenticate("local", success_message="Signed in", failure_message=True, auth_info=False)
def login_messages(request: HttpRequest) -> HttpResponse:
    return describe(request)


@authenticate("local", fail_with_error=True)
def login_error(request: HttpRequest) -> HttpResponse:
    return describe(request)


@authenticate("local")
async def login_async(request: HttpRequest) -> HttpResponse:
    return await adescribe(request, view="async")


def callback(request: HttpRequest, result: AuthResult[Any]) -> HttpResponse:
    user = getattr(result.user, "username", None)
    return JsonResponse({"ok": result.ok, "user": user, "logged_in": is_authenticated(request)})


async def acallback(request: HttpRequest, result: AuthResult[Any]) -> HttpResponse:
    return JsonResponse({"ok": result.ok, "user": getattr(result.user, "username", None)})


@authenticate("local", callback=callback)
def login_callback(request: HttpRequest) -> HttpResponse:  # pragma: no cover - callback answers
    return HttpResponse("not reached")


@authenticate("local", callback=acallback)
async def login_callback_async(request: HttpRequest) -> HttpResponse:  # pragma: no cover
    return HttpResponse("not reached")


def log_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return describe(request)


async def alog_out(request: HttpRequest) -> HttpResponse:
    await alogout(request)
    return await adescribe(request)


def force_login(request: HttpRequest, user_id: int) -> HttpResponse:
    """Logs in a user the app picked itself (no strategy): `login(request, user)`."""
    login(request, _lookup(user_id), info={"via": "login()"})
    return describe(request)


async def aforce_login(request: HttpRequest, user_id: int) -> HttpResponse:
    await alogin(request, _lookup(user_id))
    return await adescribe(request)


def _lookup(user_id: int) -> Any:
    """The user with this id, through the passport of the client being tested."""
    assert passports.current is not None
    return run_sync(passports.current.deserialize(user_id))


@login_required
def secret(request: HttpRequest, rest: str = "") -> HttpResponse:
    return describe(request, page="secret")


@login_required(login_url="/elsewhere?from=secret")
def secret_elsewhere(request: HttpRequest) -> HttpResponse:
    return describe(request, page="elsewhere")


@login_required
async def secret_async(request: HttpRequest) -> HttpResponse:
    return await adescribe(request, page="secret-async")


@login_required
@authorize("local")
def link(request: HttpRequest) -> HttpResponse:
    account = getattr(request, "account", None)
    return describe(request, account=getattr(account, "username", None))


def prepare(request: HttpRequest) -> HttpResponse:
    """Pre-login session data: a cart, a return-to URL and a pending message."""
    from django.contrib import messages

    request.session["cart"] = ["book"]
    request.session["return_to"] = "/orders"
    messages.info(request, "Please log in")
    return JsonResponse({"ok": True})


def csrf_token(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"token": get_token(request)})


def private_no_store(request: HttpRequest) -> HttpResponse:
    response = describe(request)
    response["Cache-Control"] = "private, max-age=60"
    return response


@django_login_required
def django_decorated(request: HttpRequest) -> HttpResponse:
    return describe(request, page="django-decorator")


class DjangoMixinView(DjangoLoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return describe(request, page="django-mixin")


class LoginView(AuthenticateMixin, View):
    authenticate_strategy = "local"
    authenticate_options: ClassVar[dict[str, Any]] = {
        "failure_redirect": "/login",
        "failure_flash": True,
    }
    authenticate_methods = ("post",)

    def get(self, request: HttpRequest) -> HttpResponse:
        return JsonResponse({"page": "form"})

    def post(self, request: HttpRequest) -> HttpResponse:
        return describe(request, view="mixin")


class AsyncLoginView(AuthenticateMixin, View):
    authenticate_strategy = "local"

    async def post(self, request: HttpRequest) -> HttpResponse:
        return await adescribe(request, view="async-mixin")


class MethodDecoratedView(View):
    @method_decorator(authenticate("local", session=False))
    def post(self, request: HttpRequest) -> HttpResponse:
        return describe(request, view="method")


@method_decorator(authenticate("local"), name="post")
class AsyncMethodDecoratedView(View):
    async def post(self, request: HttpRequest) -> HttpResponse:
        return await adescribe(request, view="async-method")


class PrivateView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return describe(request, page="cbv-private")


class AsyncPrivateView(LoginRequiredMixin, View):
    login_url = "/async-login"

    async def get(self, request: HttpRequest) -> HttpResponse:
        return await adescribe(request, page="cbv-private-async")


class Challenge(Strategy):
    """Always fails with a string challenge (a `WWW-Authenticate` value)."""

    def __init__(self, name: str, challenge: str) -> None:
        self.name = name
        self.challenge = challenge

    def authenticate(self, request: AuthRequest, options: Any) -> Outcome:
        return self.fail(self.challenge)


@authenticate([Challenge("one", 'Bearer realm="api"'), Challenge("two", 'Basic realm="api"')])
def challenges(request: HttpRequest) -> HttpResponse:  # pragma: no cover - always fails
    return HttpResponse("not reached")


def pending_flashes(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"flashes": [list(f) for f in pop_flashes(request)]})


def untouched(request: HttpRequest) -> HttpResponse:
    """Reads neither the session nor the user."""
    return HttpResponse("static")


class LinkView(LoginRequiredMixin, AuthorizeMixin, View):
    authorize_strategy = "local"

    def post(self, request: HttpRequest) -> HttpResponse:
        account = getattr(request, "account", None)
        return describe(request, account=getattr(account, "username", None))


urlpatterns = [
    path("", whoami),
    path("auser", awhoami),
    path("login", login_page),
    path("login/keep", login_keep),
    path("login/redirect", login_redirect),
    path("login/return", login_return),
    path("login/stateless", login_stateless),
    path("login/error", login_error),
    path("login/messages", login_messages),
    path("login/async", login_async),
    path("login/callback", login_callback),
    path("login/callback-async", login_callback_async),
    path("logout", log_out),
    path("logout/async", alog_out),
    path("force-login/<int:user_id>", force_login),
    path("force-login-async/<int:user_id>", aforce_login),
    path("secret", secret),
    path("secret/<path:rest>", secret),
    path("secret-elsewhere", secret_elsewhere),
    path("secret-async", secret_async),
    path("link", link),
    path("prepare", prepare),
    path("csrf", csrf_token),
    path("private-cache", private_no_store),
    path("django/decorator", django_decorated),
    path("django/mixin", DjangoMixinView.as_view()),
    path("cbv/login", LoginView.as_view()),
    path("cbv/login-async", AsyncLoginView.as_view()),
    path("cbv/method", MethodDecoratedView.as_view()),
    path("cbv/method-async", AsyncMethodDecoratedView.as_view()),
    path("cbv/private", PrivateView.as_view()),
    path("cbv/private-async", AsyncPrivateView.as_view()),
    path("cbv/link", LinkView.as_view()),
    path("challenges", challenges),
    path("pending-flashes", pending_flashes),
    path("untouched", untouched),
    path("admin/", admin.site.urls),
]
