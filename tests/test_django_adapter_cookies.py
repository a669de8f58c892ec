"""The Django adapter's cookies, `Vary` and remember-me restore, through a real Django project.

`Remember` stands in for a remember-me strategy: the cookie `rm=v1` is alice, each use rotates
it to `v2`, a wrong value is deleted, logout deletes it and `remember()` issues it. `Token`
reads the `Authorization` header (so its answers vary on it). The views below are this module's
URLconf; `make_kit` loads the middleware with `PASSPORT_RESTORE_WITH` as the test asks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import django_project
import pytest
from django.conf import settings
from django.contrib.auth.models import User as DjangoUser
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.middleware.csrf import get_token
from django.test import AsyncClient, Client, override_settings
from django.urls import path
from django_project import passports
from django_project.testapp import model_passport
from test_django_adapter import receiving
from users import PASSWORD, UserStore, local_passport

from passport_py import Authenticator, AuthRequest, Outcome, Strategy
from passport_py.adapters.django import (
    alogin,
    alogout,
    authenticate,
    is_authenticated,
    login,
    login_required,
    logout,
)
from passport_py.cookies import Cookie
from passport_py.errors import ConfigurationError
from passport_py.testing import django as testing

ISSUED = Cookie("rm", "v1", max_age=60, secure=True, samesite="strict")
ROTATED = replace(ISSUED, value="v2")
DELETION = ISSUED.deletion()


class Remember(Strategy):
    """A remember-me stand-in that records the cookie of each request it is asked about."""

    name = "rm"

    def __init__(self, lookup: Callable[[], Any]) -> None:
        self.lookup = lookup
        self.seen: list[str | None] = []

    def authenticate(self, request: AuthRequest, options: Any) -> Outcome:
        value = request.cookies.get("rm")
        self.seen.append(value)
        if value is None:
            return self.pass_()
        if value != "v1":
            return self.fail(cookies=(DELETION,))
        return self.success(self.lookup(), cookies=(ROTATED,), fresh=False)

    def logout(self, request: AuthRequest) -> tuple[Cookie, ...]:
        return (DELETION,)

    async def remember(self, request: AuthRequest, user: Any) -> tuple[Cookie, ...]:
        return (ISSUED,)


class Token(Strategy):
    """`Authorization: Token good` is alice."""

    name = "token"
    vary = ("Authorization",)

    def __init__(self, store: UserStore) -> None:
        self.store = store

    def authenticate(self, request: AuthRequest, options: Any) -> Outcome:
        if request.headers.get("Authorization") == "Token good":
            return self.success(self.store.users[1])
        return self.fail("Token")


# -- views ------------------------------------------------------------------------------------


def who(request: HttpRequest) -> HttpResponse:
    user = request.user
    name = getattr(user, "username", None) or None  # resolves the lazy user (and restores)
    entry = request.session.get("passport") or {}
    return JsonResponse({"user": name, "fresh": entry.get("fresh", True)})


def twice(request: HttpRequest) -> HttpResponse:
    first = getattr(request.user, "username", None) or None
    return JsonResponse({"user": first, "again": is_authenticated(request)})


async def awho(request: HttpRequest) -> HttpResponse:
    first = await request.auser()  # type: ignore[attr-defined]
    again = await request.auser()  # type: ignore[attr-defined]
    assert first is again and request.user == first
    return JsonResponse({"user": getattr(first, "username", None) or None})


def untouched(request: HttpRequest) -> HttpResponse:
    return HttpResponse("static")


def _token_view(headers: dict[str, str]) -> Any:
    @authenticate("token", session=False)
    def view(request: HttpRequest) -> HttpResponse:
        response = JsonResponse({"user": request.user.username})
        for name, value in headers.items():
            response[name] = value
        return response

    return view


@authenticate("rm", session=False)
def rm_route(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"user": request.user.username})


@authenticate("rm", session=False)
async def arm_route(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"user": request.user.username})


@authenticate("local", remember=True, success_redirect="/")
def log_in(request: HttpRequest) -> HttpResponse:  # pragma: no cover - redirects
    return HttpResponse("not reached")


def _remembered_user() -> Any:
    """The user `Remember` logs in, for the app's own `login(request, user)`."""
    assert passports.current is not None
    strategy = passports.current.strategy("rm")
    assert isinstance(strategy, Remember)
    return strategy.lookup()


def force_login(request: HttpRequest, remember: int) -> HttpResponse:
    login(request, _remembered_user(), remember=bool(remember))
    return JsonResponse({"ok": True})


async def aforce_login(request: HttpRequest, remember: int) -> HttpResponse:
    await alogin(request, _remembered_user(), remember=bool(remember))
    return JsonResponse({"ok": True})


def stateless_remember(request: HttpRequest) -> HttpResponse:
    login(request, _remembered_user(), session=False, remember=True)
    return JsonResponse({"ok": True})  # pragma: no cover - login refuses


def csrf(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"token": get_token(request)})


def log_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return JsonResponse({"ok": True})


async def alog_out(request: HttpRequest) -> HttpResponse:
    await alogout(request)
    return JsonResponse({"ok": True})


def restore_then_logout(request: HttpRequest) -> HttpResponse:
    assert is_authenticated(request)  # restored from the cookie, which rotates it
    logout(request)  # ... and deletes it
    return JsonResponse({"ok": True})


def boom(request: HttpRequest) -> HttpResponse:
    assert is_authenticated(request)
    raise RuntimeError("the view failed after the restore")


@login_required
def secret(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"user": request.user.username})


urlpatterns = [
    path("", who),
    path("twice", twice),
    path("auser", awho),
    path("untouched", untouched),
    path("csrf", csrf),
    path("stateless-remember", stateless_remember),
    path("token", _token_view({})),
    path("token/own-vary", _token_view({"Vary": "Accept-Language, authorization"})),
    path("token/own-cache", _token_view({"Cache-Control": "private, max-age=60"})),
    path("rm", rm_route),
    path("rm/async", arm_route),
    path("login", log_in),
    path("force-login/<int:remember>", force_login),
    path("force-login-async/<int:remember>", aforce_login),
    path("logout", log_out),
    path("logout/async", alog_out),
    path("restore-then-logout", restore_then_logout),
    path("boom", boom),
    path("secret", secret),
]


# -- fixtures ---------------------------------------------------------------------------------


@dataclass
class Kit:
    passport: Authenticator[Any]
    store: UserStore
    remember: Remember
    client: Client


def make_kit(
    restore_with: tuple[str, ...] = ("rm",),
    passport: Authenticator[Any] | None = None,
    lookup: Callable[[], Any] | None = None,
    **client_options: Any,
) -> Kit:
    store = UserStore.default()
    passport = passport or local_passport(store)
    remember = Remember(lookup or (lambda: store.users.get(1)))
    passport.use(remember).use(Token(store))
    passports.current = passport
    client = Client(**client_options)
    with override_settings(PASSPORT_RESTORE_WITH=list(restore_with)):
        client.handler.load_middleware()
    return Kit(passport, store, remember, client)


@pytest.fixture(autouse=True)
def urls() -> Iterator[None]:
    with override_settings(ROOT_URLCONF=__name__):
        yield


@pytest.fixture
def kit() -> Kit:
    return make_kit()


def returning(kit: Kit, value: str = "v1") -> Client:
    """The kit's browser, carrying the remember-me cookie `rm=value`."""
    kit.client.cookies["rm"] = value
    return kit.client


def session_key(client: Client) -> str | None:
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    return cookie.value if cookie is not None and cookie.value else None


def attributes(response: HttpResponseBase, name: str) -> dict[str, Any]:
    morsel = response.cookies[name]
    keys = ("max-age", "expires", "path", "domain", "secure", "httponly", "samesite")
    return {"value": morsel.value, **{key: morsel[key] for key in keys}}


SET = {"max-age": 60, "path": "/", "domain": "", "secure": True, "httponly": True}
DELETED = {**SET, "value": "", "max-age": 0, "expires": "Thu, 01 Jan 1970 00:00:00 GMT"}


# -- (a) Proceed: cookies and Vary on the view's response ---------------------------------------


@pytest.mark.parametrize("route", ["/rm", "/rm/async"])
def test_a_strategys_cookies_go_on_the_views_response(kit: Kit, route: str) -> None:
    response = returning(kit).get(route)
    assert response.json() == {"user": "alice"}
    assert attributes(response, "rm") == {
        **SET,
        "value": "v2",
        "expires": response.cookies["rm"]["expires"],
        "samesite": "Strict",
    }
    assert response.cookies["rm"]["expires"].endswith("GMT")


def test_a_header_strategy_adds_vary_and_no_store(kit: Kit) -> None:
    response = kit.client.get("/token", headers={"Authorization": "Token good"})
    assert response.json() == {"user": "alice"}
    assert response["Vary"] == "Authorization"
    assert response["Cache-Control"] == "no-store"


def test_vary_keeps_the_views_names_without_duplicates(kit: Kit) -> None:
    response = kit.client.get("/token/own-vary", headers={"Authorization": "Token good"})
    assert response["Vary"] == "Accept-Language, authorization"


def test_the_views_own_cache_control_is_kept(kit: Kit) -> None:
    response = kit.client.get("/token/own-cache", headers={"Authorization": "Token good"})
    assert response["Cache-Control"] == "private, max-age=60"
    assert response["Vary"] == "Authorization"


def test_a_page_no_strategy_ran_on_keeps_no_cache_headers(kit: Kit) -> None:
    response = returning(kit).get("/untouched")
    assert "Vary" not in response and "Cache-Control" not in response
    assert not response.cookies
    assert kit.remember.seen == []


# -- (b) Respond: cookies on the engine's answer ------------------------------------------------


def test_a_failure_carries_its_cookies(kit: Kit) -> None:
    response = returning(kit, "stolen").get("/rm")
    assert response.status_code == 401
    assert attributes(response, "rm") == {**DELETED, "samesite": "Strict"}


def test_a_login_redirect_carries_the_remember_cookie(kit: Kit) -> None:
    response = kit.client.post("/login", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert response.cookies["rm"].value == "v1"
    assert response["Cache-Control"] == "no-store"


def test_a_header_failure_varies_on_it(kit: Kit) -> None:
    response = kit.client.get("/token", headers={"Authorization": "Token bad"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response["Vary"] == "Authorization"


# -- (c) logout ---------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["/logout", "/logout/async"])
def test_logout_deletes_the_cookie_with_the_attributes_it_was_set_with(
    kit: Kit, route: str
) -> None:
    testing.login(kit.client, kit.store.users[1])
    response = kit.client.post(route)
    assert attributes(response, "rm") == {**DELETED, "samesite": "Strict"}
    assert response["Cache-Control"] == "no-store"


def test_logout_does_not_restore_a_remembered_login_first(kit: Kit) -> None:
    with receiving(user_logged_in) as logins, receiving(user_logged_out) as logouts:
        response = returning(kit).post("/logout")
    assert kit.remember.seen == []
    assert logins == [] and logouts == []
    assert response.cookies["rm"].value == ""


# -- (d) login(..., remember=True) --------------------------------------------------------------


@pytest.mark.parametrize("route", ["/force-login/1", "/force-login-async/1"])
def test_login_with_remember_sets_the_cookie(kit: Kit, route: str) -> None:
    response = kit.client.post(route)
    assert attributes(response, "rm") == {
        **SET,
        "value": "v1",
        "expires": response.cookies["rm"]["expires"],
        "samesite": "Strict",
    }
    assert kit.client.get("/").json() == {"user": "alice", "fresh": True}


@pytest.mark.parametrize("route", ["/force-login/0", "/force-login-async/0"])
def test_login_without_remember_sets_no_cookie(kit: Kit, route: str) -> None:
    response = kit.client.post(route)
    assert "rm" not in response.cookies


def test_remember_needs_a_session_login(kit: Kit) -> None:
    with pytest.raises(ConfigurationError, match="drop session=False"):
        kit.client.post("/stateless-remember")


# -- (e) PASSPORT_RESTORE_WITH -------------------------------------------------------------------


def test_a_returning_browser_is_logged_in_not_fresh_with_a_rotated_cookie(kit: Kit) -> None:
    client = returning(kit)
    client.get("/untouched")  # an anonymous session to be replaced
    before = session_key(client)
    response = client.get("/")
    assert response.json() == {"user": "alice", "fresh": False}
    assert response.cookies["rm"].value == "v2"
    assert response["Cache-Control"] == "no-store"
    assert "Cookie" in response["Vary"]
    assert session_key(client) not in (None, before)
    assert kit.remember.seen == ["v1"]


def test_the_session_carries_the_restored_login_afterwards(kit: Kit) -> None:
    client = returning(kit)
    client.get("/")
    response = client.get("/")
    assert response.json() == {"user": "alice", "fresh": False}
    assert "rm" not in response.cookies
    assert kit.remember.seen == ["v1"]


def test_a_sync_restore_creates_no_event_loop(kit: Kit, loops_created: list[object]) -> None:
    assert returning(kit).get("/").json()["user"] == "alice"
    assert loops_created == []


def test_auser_restores_on_the_event_loop(kit: Kit) -> None:
    response = returning(kit).get("/auser")
    assert response.json() == {"user": "alice"}
    assert response.cookies["rm"].value == "v2"
    assert kit.client.get("/").json() == {"user": "alice", "fresh": False}


def test_the_restore_runs_at_most_once_per_request(kit: Kit) -> None:
    assert returning(kit).get("/twice").json() == {"user": "alice", "again": True}
    kit.client.cookies.pop("rm")
    kit.client.cookies.pop(settings.SESSION_COOKIE_NAME)
    assert kit.client.get("/twice").json() == {"user": None, "again": False}
    assert kit.remember.seen == ["v1", None]


def test_a_session_login_is_not_restored_again(kit: Kit) -> None:
    testing.login(kit.client, kit.store.users[2])
    assert returning(kit).get("/").json() == {"user": "bob", "fresh": True}
    assert kit.remember.seen == []


def test_a_deleted_session_user_is_replaced_by_the_remembered_one(kit: Kit) -> None:
    testing.login(kit.client, kit.store.users[2])
    del kit.store.users[2]
    assert returning(kit).get("/").json() == {"user": "alice", "fresh": False}


def test_a_refused_cookie_is_deleted_and_the_request_stays_anonymous(kit: Kit) -> None:
    response = returning(kit, "stolen").get("/")
    assert response.json() == {"user": None, "fresh": True}
    assert attributes(response, "rm") == {**DELETED, "samesite": "Strict"}
    assert response["Cache-Control"] == "no-store"


def test_without_the_setting_nothing_is_restored() -> None:
    kit = make_kit(restore_with=())
    response = returning(kit).get("/")
    assert response.json() == {"user": None, "fresh": True}
    assert kit.remember.seen == []
    assert "Cache-Control" not in response


def test_login_required_lets_a_remembered_browser_through(kit: Kit) -> None:
    assert returning(kit).get("/secret").json() == {"user": "alice"}


def test_a_restored_model_user_is_a_django_login() -> None:
    with django_project.database():
        root = DjangoUser.objects.create_user("root", password=PASSWORD)
        kit = make_kit(passport=model_passport(), lookup=lambda: DjangoUser.objects.get(pk=root.pk))
        kit.client.get("/csrf")
        before = kit.client.cookies[settings.CSRF_COOKIE_NAME].value
        with receiving(user_logged_in) as calls:
            response = returning(kit).get("/")
        assert response.json()["user"] == "root"
        assert [(c["sender"], c["user"].pk) for c in calls] == [(DjangoUser, root.pk)]
        root.refresh_from_db()
        assert root.last_login is not None
        assert response.cookies[settings.CSRF_COOKIE_NAME].value != before


def test_the_async_middleware_restores_for_async_views() -> None:
    """Django's AsyncClient runs the middleware in async mode (`PassportMiddleware.__acall__`)."""
    kit = make_kit()

    async def visit() -> tuple[Any, Any, Any]:
        client = AsyncClient()
        client.cookies["rm"] = "v1"
        first = await client.get("/auser")  # loads the middleware, reading the setting
        second = await client.get("/auser")
        return first.json()["user"], first.cookies["rm"].value, second.json()["user"]

    with override_settings(PASSPORT_RESTORE_WITH=["rm"]):
        assert asyncio.run(visit()) == ("alice", "v2", "alice")
    assert kit.remember.seen == ["v1"]


@pytest.mark.parametrize(
    "value", ["rm", ["nope"]], ids=["a-string-not-a-list", "an-unregistered-strategy"]
)
def test_restore_with_is_checked_when_the_middleware_loads(value: Any) -> None:
    passports.current = local_passport(UserStore.default())
    with override_settings(PASSPORT_RESTORE_WITH=value), pytest.raises(ImproperlyConfigured):
        Client().handler.load_middleware()


# -- (f) the pending cookies ----------------------------------------------------------------------


def test_a_later_cookie_replaces_an_earlier_one_of_the_same_name(kit: Kit) -> None:
    response = returning(kit).post("/restore-then-logout")
    assert response.status_code == 200
    assert attributes(response, "rm") == {**DELETED, "samesite": "Strict"}
    assert response.cookies.output().count("rm=") == 1


def test_cookies_reach_a_response_the_view_failed_to_give() -> None:
    kit = make_kit(raise_request_exception=False)
    response = returning(kit).get("/boom")
    assert response.status_code == 500
    assert response.cookies["rm"].value == "v2"  # the token was rotated: the browser needs it
