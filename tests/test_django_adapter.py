"""The Django adapter driven through a real Django project with Django's test `Client`.

The project is `tests/django_project` (one settings module for the whole run); these tests
serve `django_project.testapp`'s views. Sessions live in the local-memory cache unless a test
switches to the database engine; tests with Django's `User` model use the `db` fixture.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import import_module
from typing import Any
from urllib.parse import urlencode

import django_project
import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as DjangoUser
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.contrib.sessions.models import Session as SessionRow
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.dispatch import Signal
from django.test import AsyncClient, Client, RequestFactory, override_settings
from django.utils.functional import SimpleLazyObject
from django_project import passports, testapp
from django_project.testapp import Kit, make_kit, model_passport
from session_entries import DJANGO, identity, session_identity
from users import PASSWORD, User, UserStore, local_passport

from passport_py import AuthenticationError, Authenticator
from passport_py.adapters.django import PassportMiddleware
from passport_py.strategies.local import LocalStrategy
from passport_py.testing import django as testing

BROWSER = {"HTTP_ACCEPT": "text/html,application/xhtml+xml,*/*;q=0.8"}
CREDENTIALS = {"username": "alice", "password": PASSWORD}
DB_SESSIONS = "django.contrib.sessions.backends.db"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(autouse=True)
def testapp_urls() -> Iterator[None]:
    with override_settings(ROOT_URLCONF="django_project.testapp"):
        yield


@pytest.fixture
def kit() -> Kit:
    return make_kit()


@pytest.fixture
def db() -> Iterator[None]:
    with django_project.database():
        yield


@pytest.fixture
def staff(db: None) -> DjangoUser:
    return DjangoUser.objects.create_superuser("root", "root@example.test", PASSWORD)


@contextmanager
def receiving(signal: Signal) -> Iterator[list[dict[str, Any]]]:
    """Every sending of `signal` while the block runs, as keyword dicts."""
    calls: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        calls.append({"sender": sender, **kwargs})

    signal.connect(receiver)
    try:
        yield calls
    finally:
        signal.disconnect(receiver)


def session_key(client: Client) -> str | None:
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    return cookie.value if cookie is not None and cookie.value else None


def stored(key: str) -> dict[str, Any] | None:
    """The data the session store holds under `key` (None when the entry is gone)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(key)
    return dict(store.items()) if store.exists(key) else None


# -- request.user and request.auser() ---------------------------------------------------------


def test_anonymous_request_gets_djangos_anonymous_user(kit: Kit) -> None:
    response = kit.client.get("/")
    assert response.json() == {
        "user": None,
        "authenticated": False,
        "django_authenticated": False,
        "auth_info": None,
    }
    assert "Cache-Control" not in response
    assert kit.store.deserialize_calls == []


def test_logged_in_user_is_restored_once_per_request(kit: Kit) -> None:
    kit.login()
    kit.store.deserialize_calls.clear()
    response = kit.client.get("/")  # describe() reads request.user several times
    assert response.json()["user"] == "alice"
    assert response.json()["authenticated"] is True
    assert kit.store.deserialize_calls == [1]


def test_user_is_not_restored_when_the_view_never_asks(kit: Kit) -> None:
    kit.login()
    kit.store.deserialize_calls.clear()
    assert kit.client.get("/csrf").status_code == 200
    assert kit.store.deserialize_calls == []


def test_session_without_a_login_never_deserializes(kit: Kit) -> None:
    kit.client.get("/prepare")
    response = kit.client.get("/")
    assert response.json()["user"] is None
    assert kit.store.deserialize_calls == []


def test_deleted_user_is_anonymous_and_forgotten(kit: Kit) -> None:
    kit.login()
    kit.store.users.pop(1)
    response = kit.client.get("/")
    assert response.json()["authenticated"] is False
    assert kit.session()["passport"] == {}


def test_auser_restores_the_user_once_and_shares_it_with_request_user(kit: Kit) -> None:
    kit.login()
    kit.store.deserialize_calls.clear()
    response = kit.client.get("/auser")
    assert response.json() == {
        "user": "alice",
        "auth_info": None,
        "same": True,
        "lazy_same": True,
    }
    assert kit.store.deserialize_calls == [1]


def test_auser_is_anonymous_user_when_logged_out(kit: Kit) -> None:
    assert kit.client.get("/auser").json()["user"] is None
    assert kit.store.deserialize_calls == []


def test_auser_runs_a_plain_deserializer_off_the_event_loop(kit: Kit) -> None:
    seen: list[bool] = []

    def load(user_id: int) -> User | None:
        seen.append(_loop_running())  # a blocking ORM query is safe only without a loop
        return kit.store.users.get(user_id)

    kit = make_kit(local_passport(kit.store, load))
    kit.login()
    assert kit.client.get("/auser").json()["user"] == "alice"
    assert seen == [False]


def test_auser_awaits_an_async_deserializer_on_the_loop(kit: Kit) -> None:
    seen: list[bool] = []

    async def load(user_id: int) -> User | None:
        await asyncio.sleep(0)
        seen.append(_loop_running())
        return kit.store.users.get(user_id)

    kit = make_kit(local_passport(kit.store, load))
    kit.login()
    seen.clear()
    assert kit.client.get("/auser").json()["user"] == "alice"
    assert seen == [True]


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def test_the_whole_async_stack_under_an_asgi_handler() -> None:
    """Django's AsyncClient runs the middleware in async mode (`PassportMiddleware.__acall__`)."""
    passports.current = make_kit().passport

    async def visit() -> list[Any]:
        client = AsyncClient()
        seen: list[Any] = [(await client.get("/auser")).json()["user"]]
        response = await client.post("/login/async", CREDENTIALS)
        seen.append(response.json()["user"])
        seen.append((await client.get("/auser")).json()["user"])
        page = await client.get("/")  # a sync view, run by Django in a thread
        seen += [page.json()["user"], page["Cache-Control"]]
        seen.append((await client.get("/secret-async")).json()["page"])
        seen.append((await client.post("/logout/async")).json()["user"])
        seen.append((await client.get("/secret-async")).status_code)
        return seen

    assert asyncio.run(visit()) == [
        None,
        "alice",
        "alice",
        "alice",
        "no-store",
        "secret-async",
        None,
        401,
    ]


# -- login() ----------------------------------------------------------------------------------


def test_login_cycles_the_session_key_and_the_old_key_is_dead(kit: Kit) -> None:
    kit.client.get("/prepare")
    before = session_key(kit.client)
    assert before is not None and stored(before) is not None
    kit.login()
    after = session_key(kit.client)
    assert after is not None and after != before
    assert stored(before) is None
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = before
    assert replay.get("/").json()["authenticated"] is False


def test_login_keeps_only_the_return_to_url_by_default(kit: Kit) -> None:
    kit.client.get("/prepare")
    kit.login()
    assert session_identity(kit.session(), DJANGO) == {
        "return_to": "/orders",
        "passport": {"user": 1},
    }
    # The pending message (Django's messages framework) survives too.
    assert kit.client.get("/login").json()["flashes"] == [["info", "Please log in", ""]]


def test_keep_session_info_keeps_everything_but_still_cycles_the_key(kit: Kit) -> None:
    kit.client.get("/prepare")
    before = session_key(kit.client)
    kit.client.post("/login/keep", CREDENTIALS)
    assert session_key(kit.client) != before
    assert session_identity(kit.session(), DJANGO) == {
        "cart": ["book"],
        "return_to": "/orders",
        "passport": {"user": 1},
    }


def test_login_rotates_the_csrf_token(kit: Kit) -> None:
    token = kit.client.get("/csrf").json()["token"]
    before = kit.client.cookies["csrftoken"].value
    response = kit.login()
    assert response.cookies["csrftoken"].value not in ("", before)
    assert kit.client.get("/csrf").json()["token"] != token


def test_login_function_logs_in_a_user_the_app_picked(kit: Kit) -> None:
    kit.client.get("/prepare")
    before = session_key(kit.client)
    response = kit.client.post("/force-login/2")
    assert response.json()["user"] == "bob"
    assert response.json()["auth_info"] == {"via": "login()"}
    assert session_key(kit.client) != before
    assert kit.client.get("/").json()["user"] == "bob"


def test_plain_users_do_not_get_djangos_login_signals(kit: Kit) -> None:
    # django.contrib.auth's update_last_login would call user.save() on a dataclass.
    with receiving(user_logged_in) as logged_in, receiving(user_logged_out) as logged_out:
        kit.login()
        kit.client.post("/logout")
    assert logged_in == []
    assert logged_out == []


def test_model_user_login_sends_user_logged_in_and_updates_last_login(staff: DjangoUser) -> None:
    kit = make_kit(model_passport())
    assert staff.last_login is None
    with receiving(user_logged_in) as calls:
        kit.login("root")
    assert [(c["sender"], c["user"].pk) for c in calls] == [(DjangoUser, staff.pk)]
    assert calls[0]["request"].path == "/login"
    staff.refresh_from_db()
    assert staff.last_login is not None


def test_alogin_in_an_async_view_with_database_sessions(db: None) -> None:
    with override_settings(SESSION_ENGINE=DB_SESSIONS):
        kit = make_kit()
        kit.client.get("/prepare")
        before = session_key(kit.client)
        response = kit.client.post("/force-login-async/1")
        assert response.json()["user"] == "alice"
        after = session_key(kit.client)
        assert after is not None and after != before
        assert not SessionRow.objects.filter(session_key=before).exists()
        assert kit.client.get("/auser").json()["user"] == "alice"


# -- logout() ---------------------------------------------------------------------------------


def test_logout_flushes_the_session(kit: Kit) -> None:
    kit.login()
    before = session_key(kit.client)
    assert before is not None
    response = kit.client.post("/logout")
    assert response.json()["user"] is None
    assert response["Cache-Control"] == "no-store"
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 0
    assert stored(before) is None
    assert kit.client.get("/").json()["authenticated"] is False


def test_model_user_logout_sends_user_logged_out(staff: DjangoUser) -> None:
    kit = make_kit(model_passport())
    kit.login("root")
    with receiving(user_logged_out) as calls:
        kit.client.post("/logout")
    assert [(c["sender"], c["user"].pk) for c in calls] == [(DjangoUser, staff.pk)]


def test_alogout_in_an_async_view_with_database_sessions(db: None) -> None:
    with override_settings(SESSION_ENGINE=DB_SESSIONS):
        kit = make_kit()
        kit.login()
        before = session_key(kit.client)
        response = kit.client.post("/logout/async")
        assert response.json()["user"] is None
        assert not SessionRow.objects.filter(session_key=before).exists()
        assert kit.client.get("/").json()["authenticated"] is False


# -- user_login_failed --------------------------------------------------------------------------


def test_failed_login_sends_user_login_failed_without_secrets(kit: Kit) -> None:
    with receiving(user_login_failed) as calls:
        response = kit.client.post("/login", {"username": "alice", "password": "wrong"})
    assert response.status_code == 401
    (call,) = calls
    assert call["sender"] == "passport_py.adapters.django"
    assert call["credentials"] == {"strategies": ["local"], "username": "alice"}
    assert call["request"].path == "/login"


@pytest.mark.parametrize("path", ["/login/redirect", "/login/callback", "/cbv/login"])
def test_every_kind_of_failed_login_sends_user_login_failed(kit: Kit, path: str) -> None:
    with receiving(user_login_failed) as calls:
        kit.client.post(path, {"username": "bob", "password": "wrong"})
    assert [c["credentials"] for c in calls] == [{"strategies": ["local"], "username": "bob"}]


def test_failed_async_login_sends_user_login_failed(kit: Kit) -> None:
    with receiving(user_login_failed) as calls:
        response = kit.client.post("/login/async", {"username": "bob", "password": "x"})
    assert response.status_code == 401
    assert len(calls) == 1


def test_fail_with_error_raises_to_the_app_after_signalling(kit: Kit) -> None:
    with receiving(user_login_failed) as calls, pytest.raises(AuthenticationError) as info:
        kit.client.post("/login/error", {"username": "alice", "password": "wrong"})
    assert info.value.status == 401
    assert len(calls) == 1


def test_successful_login_sends_no_failure(kit: Kit) -> None:
    with receiving(user_login_failed) as calls:
        kit.login()
        kit.client.post("/login/redirect", CREDENTIALS)
    assert calls == []


# -- the authenticate decorator ------------------------------------------------------------------


def test_authenticate_logs_in_and_sets_request_user(kit: Kit) -> None:
    response = kit.login()
    assert response.json() == {
        "user": "alice",
        "authenticated": True,
        "django_authenticated": True,
        "auth_info": {},
    }
    assert session_identity(kit.session(), DJANGO) == {"passport": {"user": 1}}


def test_wrong_password_is_401_and_nobody_is_logged_in(kit: Kit) -> None:
    response = kit.client.post("/login", {"username": "alice", "password": "nope"})
    assert response.status_code == 401
    assert response.content == b"Unauthorized"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    assert kit.client.get("/").json()["authenticated"] is False


def test_several_challenges_are_joined_into_one_www_authenticate_header(kit: Kit) -> None:
    response = kit.client.get("/challenges")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api", Basic realm="api"'


def test_success_redirect_and_a_custom_flash_category(kit: Kit) -> None:
    response = kit.client.post("/login/redirect", CREDENTIALS)
    assert response.status_code == 302
    assert response["Location"] == "/welcome"
    assert response["Cache-Control"] == "no-store"
    assert session_identity(kit.session(), DJANGO) == {"passport": {"user": 1}}
    # A category Django has no level for is an INFO message tagged with it.
    assert kit.client.get("/login").json()["flashes"] == [["info", "Hello again", "celebrate"]]


def test_success_redirect_rotates_the_csrf_token_and_signals(staff: DjangoUser) -> None:
    kit = make_kit(model_passport())
    kit.client.get("/csrf")
    before = kit.client.cookies["csrftoken"].value
    with receiving(user_logged_in) as calls:
        response = kit.client.post("/login/redirect", {"username": "root", "password": PASSWORD})
    assert response.status_code == 302
    assert response.cookies["csrftoken"].value != before
    assert len(calls) == 1


def test_failure_redirect_flashes_the_strategy_message_as_an_error(kit: Kit) -> None:
    response = kit.client.post("/login/redirect", {"username": "alice", "password": "x"})
    assert response.status_code == 302
    assert response["Location"] == "/login"
    assert kit.client.get("/login").json()["flashes"] == [
        ["error", "Incorrect username or password.", ""]
    ]


def test_success_returns_to_the_page_login_required_saved(kit: Kit) -> None:
    kit.client.get("/secret/orders?page=2", **BROWSER)
    response = kit.client.post("/login/return", CREDENTIALS)
    assert response.status_code == 302
    assert response["Location"] == "/secret/orders?page=2"


def test_a_session_made_for_nobody_lasts_ten_minutes_and_a_login_two_weeks(kit: Kit) -> None:
    """Cookie-less traffic to a login_required page cannot fill the session table: the
    session it makes for the return-to expires in PASSPORT_ANONYMOUS_SESSION_AGE (600 s)."""
    response = kit.client.get("/secret/orders?page=2", **BROWSER)
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 600
    assert stored(session_key(kit.client) or "") == {
        "return_to": "/secret/orders?page=2",
        "_session_expiry": 600,
    }
    response = kit.client.post("/login/return", CREDENTIALS)
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == settings.SESSION_COOKIE_AGE
    assert "_session_expiry" not in kit.session()


def test_a_login_keeping_the_session_info_does_not_keep_its_ten_minutes(kit: Kit) -> None:
    kit.client.get("/secret", **BROWSER)
    response = kit.client.post("/login/keep", CREDENTIALS)
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == settings.SESSION_COOKIE_AGE
    assert "_session_expiry" not in kit.session()


def test_anonymous_session_age_none_keeps_djangos_session_age() -> None:
    with override_settings(PASSPORT_ANONYMOUS_SESSION_AGE=None):
        kit = make_kit()
        response = kit.client.get("/secret", **BROWSER)
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == settings.SESSION_COOKIE_AGE


@pytest.mark.parametrize("age", [0, -5, "600", 1.5])
def test_a_bad_anonymous_session_age_is_refused_at_startup(age: Any) -> None:
    with (
        override_settings(PASSPORT_ANONYMOUS_SESSION_AGE=age),
        pytest.raises(ImproperlyConfigured, match="PASSPORT_ANONYMOUS_SESSION_AGE"),
    ):
        make_kit()


def test_session_false_sets_the_user_for_this_request_only(kit: Kit) -> None:
    response = kit.client.post("/login/stateless", CREDENTIALS)
    assert response.json()["user"] == "alice"
    assert "passport" not in kit.session()
    assert kit.client.get("/").json()["authenticated"] is False


def test_session_messages_and_no_auth_info(kit: Kit) -> None:
    failed = kit.client.post("/login/messages", {"username": "alice", "password": "x"})
    assert failed.status_code == 401
    assert kit.session()["messages"] == ["Incorrect username or password."]
    response = kit.client.post("/login/messages", CREDENTIALS)
    assert response.json()["auth_info"] is None
    assert kit.session()["messages"] == ["Incorrect username or password.", "Signed in"]


def test_callback_gets_the_result_and_nothing_is_logged_in(kit: Kit) -> None:
    ok = kit.client.post("/login/callback", CREDENTIALS)
    assert ok.json() == {"ok": True, "user": "alice", "logged_in": False}
    bad = kit.client.post("/login/callback", {"username": "alice", "password": "x"})
    assert bad.json() == {"ok": False, "user": None, "logged_in": False}
    assert kit.client.get("/").json()["authenticated"] is False


def test_async_callback_on_an_async_view(kit: Kit) -> None:
    response = kit.client.post("/login/callback-async", CREDENTIALS)
    assert response.json() == {"ok": True, "user": "alice"}


def test_authenticate_on_an_async_view(kit: Kit) -> None:
    response = kit.client.post("/login/async", CREDENTIALS)
    assert response.json()["user"] == "alice"
    assert response.json()["view"] == "async"
    assert kit.client.get("/").json()["user"] == "alice"


def test_authenticate_on_an_async_view_with_database_sessions(db: None) -> None:
    with override_settings(SESSION_ENGINE=DB_SESSIONS):
        kit = make_kit()
        kit.client.get("/prepare")
        before = session_key(kit.client)
        response = kit.client.post("/login/async", CREDENTIALS)
        assert response.json()["user"] == "alice"
        assert session_key(kit.client) != before
        assert not SessionRow.objects.filter(session_key=before).exists()
        assert session_identity(kit.session(), DJANGO) == {
            "return_to": "/orders",
            "passport": {"user": 1},
        }


def test_authorize_puts_the_account_on_request_account(kit: Kit) -> None:
    kit.login()
    response = kit.client.post("/link", {"username": "bob", "password": "builder"})
    assert response.json()["user"] == "alice"
    assert response.json()["account"] == "bob"
    assert identity(kit.session()["passport"], DJANGO) == {"user": 1}


# -- class-based views -----------------------------------------------------------------------


def test_authenticate_mixin_runs_only_for_the_listed_methods(kit: Kit) -> None:
    assert kit.client.get("/cbv/login").json() == {"page": "form"}
    response = kit.client.post("/cbv/login", CREDENTIALS)
    assert response.json()["user"] == "alice"
    assert response.json()["view"] == "mixin"
    failed = kit.client.post("/cbv/login", {"username": "alice", "password": "x"})
    assert failed["Location"] == "/login"


def test_authenticate_mixin_on_an_async_view(kit: Kit) -> None:
    response = kit.client.post("/cbv/login-async", CREDENTIALS)
    assert response.json()["view"] == "async-mixin"
    assert response.json()["user"] == "alice"
    assert (
        kit.client.post("/cbv/login-async", {"username": "x", "password": "y"}).status_code == 401
    )


def test_authenticate_mixin_without_a_strategy_is_improperly_configured(kit: Kit) -> None:
    from django.views import View

    from passport_py.adapters.django import AuthenticateMixin

    class Incomplete(AuthenticateMixin, View):
        def get(self, request: Any) -> Any:  # pragma: no cover - never reached
            return None

    with pytest.raises(ImproperlyConfigured, match="set authenticate_strategy"):
        Incomplete.as_view()(RequestFactory().get("/"))


def test_mixin_options_are_checked_when_the_class_is_defined() -> None:
    from django.views import View

    from passport_py import ConfigurationError
    from passport_py.adapters.django import AuthenticateMixin

    with pytest.raises(ConfigurationError, match="did you mean failure_redirect="):

        class Misspelt(AuthenticateMixin, View):
            authenticate_strategy = "local"
            authenticate_options = {"failure_redirct": "/login"}  # noqa: RUF012


@pytest.mark.parametrize(
    ("path", "view", "user"),
    [("/cbv/method", "method", "alice"), ("/cbv/method-async", "async-method", "alice")],
)
def test_method_decorator_on_sync_and_async_handlers(
    kit: Kit, path: str, view: str, user: str
) -> None:
    response = kit.client.post(path, CREDENTIALS)
    assert response.json()["view"] == view
    assert response.json()["user"] == user


def test_authorize_mixin_with_login_required_mixin(kit: Kit) -> None:
    assert (
        kit.client.post("/cbv/link", {"username": "bob", "password": "builder"}).status_code == 401
    )
    kit.login()
    response = kit.client.post("/cbv/link", {"username": "bob", "password": "builder"})
    assert response.json()["account"] == "bob"
    assert response.json()["user"] == "alice"


# -- login_required ----------------------------------------------------------------------------


def test_login_required_redirects_browsers_with_a_safe_next(kit: Kit) -> None:
    response = kit.client.get("/secret", **BROWSER)
    assert response.status_code == 302
    assert response["Location"] == "/login?next=%2Fsecret"
    assert response["Cache-Control"] == "no-store"
    assert kit.session()["return_to"] == "/secret"


def test_login_required_answers_api_clients_with_401(kit: Kit) -> None:
    response = kit.client.get("/secret")
    assert response.status_code == 401
    assert response.content == b"Unauthorized"
    assert "return_to" not in kit.session()
    with_token = kit.client.get("/secret", HTTP_AUTHORIZATION="Bearer x", **BROWSER)
    assert with_token.status_code == 401


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/secret/a%20b?x=1", "/secret/a%20b?x=1"),
        ("/secret/%2e%2e/admin", "/"),
        ("/secret/x?next=%0d%0a", "/"),
    ],
    ids=["space", "dot-segments", "encoded-crlf"],
)
def test_login_required_next_is_a_safe_relative_path(kit: Kit, path: str, target: str) -> None:
    response = kit.client.get(path, **BROWSER)
    assert response.status_code == 302
    assert kit.session()["return_to"] == target


def test_login_required_with_its_own_login_url(kit: Kit) -> None:
    response = kit.client.get("/secret-elsewhere", **BROWSER)
    assert response["Location"] == "/elsewhere?from=secret&next=%2Fsecret-elsewhere"


def test_login_required_lets_a_logged_in_user_through(kit: Kit) -> None:
    kit.login()
    assert kit.client.get("/secret", **BROWSER).json()["page"] == "secret"


def test_login_required_on_an_async_view(kit: Kit) -> None:
    assert kit.client.get("/secret-async", **BROWSER)["Location"] == "/login?next=%2Fsecret-async"
    assert kit.client.get("/secret-async").status_code == 401
    kit.login()
    assert kit.client.get("/secret-async").json()["page"] == "secret-async"


def test_login_required_mixin_sync_and_async(kit: Kit) -> None:
    assert kit.client.get("/cbv/private", **BROWSER)["Location"] == "/login?next=%2Fcbv%2Fprivate"
    assert kit.client.get("/cbv/private-async", **BROWSER)["Location"] == (
        "/async-login?next=%2Fcbv%2Fprivate-async"
    )
    assert kit.client.get("/cbv/private-async").status_code == 401
    kit.login()
    assert kit.client.get("/cbv/private").json()["page"] == "cbv-private"
    assert kit.client.get("/cbv/private-async").json()["page"] == "cbv-private-async"


# -- django.contrib.auth and the admin with a model user --------------------------------------


def test_djangos_login_required_and_mixin_work_with_a_model_user(staff: DjangoUser) -> None:
    kit = make_kit(model_passport())
    assert kit.client.get("/django/decorator")["Location"] == "/login?next=/django/decorator"
    assert kit.client.get("/django/mixin")["Location"] == "/login?next=/django/mixin"
    kit.login("root")
    assert kit.client.get("/django/decorator").json()["page"] == "django-decorator"
    assert kit.client.get("/django/mixin").json()["page"] == "django-mixin"


def test_a_staff_user_logged_in_through_passport_py_reaches_the_admin(staff: DjangoUser) -> None:
    kit = make_kit(model_passport())
    assert kit.client.get("/admin/")["Location"] == "/admin/login/?next=/admin/"
    kit.login("root")
    response = kit.client.get("/admin/")
    assert response.status_code == 200
    assert b"Site administration" in response.content
    assert kit.client.get("/admin/auth/user/").status_code == 200


def test_the_admin_system_check_accepts_passport_middleware_alone() -> None:
    assert "django.contrib.auth.middleware.AuthenticationMiddleware" not in settings.MIDDLEWARE
    ids = {e.id for e in checks.run_checks(tags=[checks.Tags.admin])}
    assert "admin.E408" not in ids
    without = [m for m in settings.MIDDLEWARE if "PassportMiddleware" not in m]
    with override_settings(MIDDLEWARE=without):
        assert "admin.E408" in {e.id for e in checks.run_checks(tags=[checks.Tags.admin])}


def test_passport_middleware_is_an_authentication_middleware() -> None:
    from django.contrib.auth.middleware import AuthenticationMiddleware

    assert issubclass(PassportMiddleware, AuthenticationMiddleware)
    assert PassportMiddleware.sync_capable and PassportMiddleware.async_capable


def test_request_user_is_a_lazy_djangos_anonymous_user(
    kit: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Any] = []
    original = testapp.describe

    def spy(request: Any, **extra: Any) -> Any:
        seen.append(request.user)
        return original(request, **extra)

    monkeypatch.setattr(testapp, "describe", spy)
    kit.client.get("/")
    assert isinstance(seen[0], SimpleLazyObject)
    assert isinstance(seen[0], AnonymousUser)


# -- messages ---------------------------------------------------------------------------------


def test_flashes_use_django_messages_levels(kit: Kit) -> None:
    kit.client.post("/cbv/login", {"username": "alice", "password": "x"})
    assert kit.client.get("/login").json()["flashes"] == [
        ["error", "Incorrect username or password.", ""]
    ]


def test_without_django_messages_flashes_wait_in_the_session() -> None:
    apps = [a for a in settings.INSTALLED_APPS if a not in ("django.contrib.messages",)]
    apps.remove("django.contrib.admin")
    middleware = [m for m in settings.MIDDLEWARE if "messages" not in m]
    with override_settings(INSTALLED_APPS=apps, MIDDLEWARE=middleware):
        kit = make_kit()
        kit.client.post("/login/redirect", {"username": "alice", "password": "x"})
        assert kit.session()["flash"] == [["error", "Incorrect username or password."]]
        response = kit.client.get("/pending-flashes")
        assert response.json() == {"flashes": [["error", "Incorrect username or password."]]}
        assert "flash" not in kit.session()


# -- cache headers ----------------------------------------------------------------------------


def test_responses_for_a_logged_in_session_are_not_stored(kit: Kit) -> None:
    kit.login()
    response = kit.client.get("/")
    assert response["Cache-Control"] == "no-store"
    assert "Cookie" in response["Vary"]


def test_a_view_keeps_its_own_cache_control(kit: Kit) -> None:
    kit.login()
    assert kit.client.get("/private-cache")["Cache-Control"] == "private, max-age=60"


def test_a_response_that_read_neither_session_nor_user_is_left_alone(kit: Kit) -> None:
    kit.login()
    response = kit.client.get("/untouched")
    assert "Cache-Control" not in response
    assert "Vary" not in response


def test_login_responses_are_not_stored(kit: Kit) -> None:
    assert kit.login()["Cache-Control"] == "no-store"
    assert "Cookie" in kit.client.post("/force-login/1")["Vary"]


def test_cache_headers_can_be_turned_off() -> None:
    with override_settings(PASSPORT_CACHE_HEADERS=False):
        kit = make_kit()
        kit.login()
        assert "Cache-Control" not in kit.client.get("/")


# -- misconfiguration ----------------------------------------------------------------------------


def test_missing_passport_authenticator_setting() -> None:
    with override_settings():
        del settings.PASSPORT_AUTHENTICATOR
        with pytest.raises(ImproperlyConfigured, match=r"needs settings\.PASSPORT_AUTHENTICATOR"):
            Client().get("/")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("django_project.nowhere.passport", "could not be imported"),
        ("django_project.passports.missing", "could not be imported"),
        ("django_project.settings.SECRET_KEY", "not an Authenticator"),
        ("passport", "could not be imported"),
    ],
    ids=["no-module", "no-attribute", "not-an-authenticator", "not-dotted"],
)
def test_bad_passport_authenticator_setting(path: str, message: str) -> None:
    with (
        override_settings(PASSPORT_AUTHENTICATOR=path),
        pytest.raises(ImproperlyConfigured, match=message),
    ):
        Client().get("/")


def test_passport_middleware_before_session_middleware() -> None:
    session, csrf, passport, messages = settings.MIDDLEWARE
    with override_settings(MIDDLEWARE=[passport, session, csrf, messages]):
        make_kit()
        with pytest.raises(
            ImproperlyConfigured, match=r"add 'django\.contrib\.sessions\.middleware"
        ):
            Client().get("/")


def test_authentication_middleware_alongside_passport_middleware() -> None:
    django_auth = "django.contrib.auth.middleware.AuthenticationMiddleware"
    with (
        override_settings(MIDDLEWARE=[*settings.MIDDLEWARE, django_auth]),
        pytest.raises(ImproperlyConfigured, match="PassportMiddleware takes its place"),
    ):
        make_kit()


def test_decorators_without_the_middleware() -> None:
    middleware = [m for m in settings.MIDDLEWARE if "PassportMiddleware" not in m]
    with (
        override_settings(MIDDLEWARE=middleware),
        pytest.raises(ImproperlyConfigured, match="PassportMiddleware is not installed"),
    ):
        Client().post("/login", CREDENTIALS)


def test_without_django_contrib_auth() -> None:
    apps = ["django.contrib.sessions", "django.contrib.messages"]
    with (
        override_settings(INSTALLED_APPS=apps),
        pytest.raises(
            ImproperlyConfigured,
            match=r"needs 'django\.contrib\.auth' and 'django\.contrib\.contenttypes'",
        ),
    ):
        make_kit()


# -- passport_py.testing.django -----------------------------------------------------------------


def test_testing_login_logs_a_user_in_without_a_form(kit: Kit) -> None:
    kit.client.get("/prepare")
    before = session_key(kit.client)
    testing.login(kit.client, kit.store.users[2])
    assert session_key(kit.client) != before
    assert kit.client.get("/").json()["user"] == "bob"
    assert session_identity(kit.session()) == {"return_to": "/orders", "passport": {"user": 2}}


def test_testing_login_not_fresh(kit: Kit) -> None:
    testing.login(kit.client, kit.store.users[1], fresh=False)
    assert identity(kit.session()["passport"]) == {"user": 1, "fresh": False}
    assert kit.passport.sessions.is_fresh(kit.session()) is False


def test_testing_logout(kit: Kit) -> None:
    testing.login(kit.client, kit.store.users[1])
    key = session_key(kit.client)
    assert key is not None
    testing.logout(kit.client)
    assert session_key(kit.client) is None
    assert stored(key) is None
    assert kit.client.get("/").json()["authenticated"] is False
    testing.logout(kit.client)  # nobody logged in: nothing to do


def test_testing_login_of_a_model_user_with_database_sessions(staff: DjangoUser) -> None:
    with override_settings(SESSION_ENGINE=DB_SESSIONS):
        kit = make_kit(model_passport())
        testing.login(kit.client, staff)
        assert kit.client.get("/admin/").status_code == 200


# -- sync views create no event loop -------------------------------------------------------------


def test_sync_views_create_no_event_loop(loops_created: list[object]) -> None:
    """Async verify and deserializer (awaiting sleep(0)), driven by run_sync in sync views."""
    store = UserStore({1: User(1, "alice")})
    passport: Authenticator[User] = Authenticator()

    async def verify(username: str, password: str) -> Any:
        await asyncio.sleep(0)
        return store.verify(username, password)

    async def load(user_id: int) -> User | None:
        await asyncio.sleep(0)
        return store.users.get(user_id)

    passport.use(LocalStrategy(verify))
    passport.serialize_user(lambda user: user.id)
    passport.deserialize_user(load)
    kit = make_kit(passport)
    assert kit.login().json()["user"] == "alice"
    assert kit.client.get("/").json()["user"] == "alice"
    assert kit.client.get("/secret", **BROWSER).json()["page"] == "secret"
    assert kit.client.post("/logout").json()["user"] is None
    assert loops_created == []
    # The counter does see loops: an async view (Django runs it on a new loop) is counted.
    kit.client.get("/auser")
    assert len(loops_created) >= 1


# -- bad input only Django gets: its settings, its host check, WSGI bodies ---------------------
# (the catalogue every adapter answers alike is tests/test_bad_input.py)


def test_a_smaller_body_limit_from_settings_is_413() -> None:
    with override_settings(PASSPORT_MAX_BODY_SIZE=64):
        kit = make_kit()
        body = urlencode({**CREDENTIALS, "pad": "x" * 64})
        response = kit.client.post("/login", body, content_type=FORM)
    assert (response.status_code, response.content) == (413, b"Request Entity Too Large")
    assert response["Cache-Control"] == "no-store"
    assert "passport" not in kit.session()
    assert kit.store.verify_calls == []


def test_a_host_outside_allowed_hosts_is_400_even_from_that_host(kit: Kit) -> None:
    # The cross-site check reads the request URL; Django refuses the Host as it builds it.
    response = kit.client.post(
        "/login", CREDENTIALS, headers={"host": "evil.test", "origin": "http://evil.test"}
    )
    assert response.status_code == 400
    assert "passport" not in kit.session()
    assert kit.store.verify_calls == []


# -- importing -------------------------------------------------------------------------------


def _python(code: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd="/", env=env
    )


def test_the_adapter_imports_without_configured_settings() -> None:
    result = _python(
        "import passport_py.adapters.django as d\n"
        "print(sorted(n for n in d.__all__ if n != 'PassportMiddleware' and getattr(d, n)))"
    )
    assert result.returncode == 0, result.stderr
    assert "authenticate" in result.stdout


def test_without_django_the_error_names_the_extra() -> None:
    result = _python(
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'django' or name.startswith('django.'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "try:\n"
        "    import passport_py.adapters.django\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    assert 'pip install "passport-py[django]"' in result.stdout, result.stderr
