"""Core events through the real Django project (`tests/django_project`), beside Django's own
`user_logged_in`, `user_logged_out` and `user_login_failed`, which the adapter keeps sending
once each, with Django's arguments."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import django_project
import pytest
from django.contrib.auth.models import User as DjangoUser
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import Signal
from django.http import HttpRequest, HttpResponse
from django.test import override_settings
from django.urls import path
from django_project.testapp import Kit, make_kit, model_passport
from users import PASSWORD, UserStore

from passport_py import Authenticator
from passport_py.adapters.django import authenticate
from passport_py.events import Event, LoggedIn, LoggedOut, LoginFailed, SessionEnded
from passport_py.strategies.http import BasicStrategy


@authenticate("basic", session=False)
def basic_api(request: HttpRequest) -> HttpResponse:
    return HttpResponse(request.user.username)


urlpatterns = [path("api", basic_api)]


@pytest.fixture(autouse=True)
def testapp_urls() -> Iterator[None]:
    with override_settings(ROOT_URLCONF="django_project.testapp"):
        yield


@pytest.fixture
def kit() -> Kit:
    return make_kit()


@pytest.fixture
def staff() -> Iterator[DjangoUser]:
    with django_project.database():
        yield DjangoUser.objects.create_superuser("root", "root@example.test", PASSWORD)


def recording(passport: Authenticator[Any]) -> list[Any]:
    seen: list[Any] = []
    passport.events.on(Event, seen.append)
    return seen


@contextmanager
def receiving(signal: Signal) -> Iterator[list[dict[str, Any]]]:
    calls: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        calls.append({"sender": sender, **kwargs})

    signal.connect(receiver)
    try:
        yield calls
    finally:
        signal.disconnect(receiver)


def test_a_login_emits_logged_in_once_with_the_strategy_name(kit: Kit) -> None:
    seen = recording(kit.passport)
    kit.login()
    assert [(type(e), e.user_id, e.strategy, e.client_ip) for e in seen] == [
        (LoggedIn, 1, "local", "127.0.0.1")
    ]


def test_an_async_view_login_emits_logged_in_once(kit: Kit) -> None:
    seen = recording(kit.passport)
    response = kit.client.post("/login/async", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 200
    assert [(type(e), e.strategy) for e in seen] == [(LoggedIn, "local")]


def test_an_apps_own_login_call_emits_logged_in_without_a_strategy(kit: Kit) -> None:
    seen = recording(kit.passport)
    kit.client.post("/force-login/2")
    assert [(type(e), e.user_id, e.strategy) for e in seen] == [(LoggedIn, 2, None)]


def test_a_model_user_login_sends_djangos_user_logged_in_once(staff: DjangoUser) -> None:
    kit = make_kit(model_passport())
    seen = recording(kit.passport)
    with receiving(user_logged_in) as calls:
        kit.login("root")
    assert [(c["sender"], c["user"].pk) for c in calls] == [(DjangoUser, staff.pk)]
    assert [(type(e), e.user_id) for e in seen] == [(LoggedIn, staff.pk)]


def test_a_wrong_password_emits_login_failed_and_djangos_signal_without_it(kit: Kit) -> None:
    seen = recording(kit.passport)
    with receiving(user_login_failed) as calls:
        response = kit.client.post("/login", {"username": "alice", "password": "hunter-9"})
    assert response.status_code == 401
    (event,) = seen
    assert isinstance(event, LoginFailed)
    assert (event.strategy, event.account, event.client_ip) == ("local", "alice", "127.0.0.1")
    assert "hunter-9" not in repr(event)
    (call,) = calls
    assert call["credentials"] == {"strategies": ["local"], "username": "alice"}
    assert "hunter-9" not in repr(call["credentials"])


def test_logout_emits_logged_out_and_djangos_user_logged_out(staff: DjangoUser) -> None:
    kit = make_kit(model_passport())
    kit.login("root")
    seen = recording(kit.passport)
    with receiving(user_logged_out) as calls:
        kit.client.post("/logout")
    assert [c["user"].pk for c in calls] == [staff.pk]
    assert [type(e) for e in seen] == [LoggedOut, SessionEnded]
    assert (seen[1].by, seen[1].count) == ("logout", 1)


def test_user_login_failed_names_the_account_a_basic_attempt_tried() -> None:
    store = UserStore.default()
    passport: Authenticator[Any] = Authenticator()
    passport.use(BasicStrategy(store.verify))
    kit = make_kit(passport)
    seen = recording(passport)
    with override_settings(ROOT_URLCONF=__name__), receiving(user_login_failed) as calls:
        response = kit.client.get("/api", HTTP_AUTHORIZATION="Basic Ym9iOm5vcGUtNQ==")
    assert response.status_code == 401
    assert [(type(e), e.strategy, e.account) for e in seen] == [(LoginFailed, "basic", "bob")]
    (call,) = calls
    assert call["credentials"] == {"strategies": ["basic"], "username": "bob"}
    assert "nope-5" not in repr(call)


def test_an_async_view_logout_emits_logged_out(kit: Kit) -> None:
    kit.login()
    seen = recording(kit.passport)
    assert kit.client.post("/logout/async").json()["user"] is None
    assert [(type(e), e.user_id) for e in seen] == [(LoggedOut, 1), (SessionEnded, 1)]
