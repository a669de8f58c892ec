"""`passport_py.testing.starlette`: log a user in or out on a TestClient without a form."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.testclient import TestClient
from starlette_app import SECRET, make_kit, passport_user, session_data

from passport_py import ConfigurationError
from passport_py.testing.starlette import login, logout


def test_login_makes_the_clients_next_requests_the_users() -> None:
    kit = make_kit()
    login(kit.client, kit.alice)
    response = kit.client.get("/secret")
    assert response.status_code == 200
    assert response.json()["user"] == "alice"


def test_login_writes_the_session_through_the_apps_session_middleware() -> None:
    kit = make_kit()
    login(kit.client, kit.bob)
    assert passport_user(kit.client) == kit.bob.id
    assert kit.store.verify_calls == []  # no form, no verify


def test_login_regenerates_like_a_real_login() -> None:
    kit = make_kit()
    kit.client.post("/cart")
    login(kit.client, kit.alice)
    assert "cart" not in session_data(kit.client)


def test_login_can_mark_the_login_not_fresh() -> None:
    kit = make_kit()
    login(kit.client, kit.alice, fresh=False)
    assert not kit.passport.sessions.is_fresh(session_data(kit.client))
    login(kit.client, kit.alice)
    assert kit.passport.sessions.is_fresh(session_data(kit.client))


def test_logout_ends_the_login() -> None:
    kit = make_kit()
    login(kit.client, kit.alice)
    logout(kit.client)
    assert kit.client.get("/").json()["user"] is None
    assert passport_user(kit.client) is None


def test_the_apps_routes_are_not_called() -> None:
    kit = make_kit()
    login(kit.client, kit.alice)
    assert kit.store.deserialize_calls == []


def test_an_app_without_passport_middleware_gets_a_clear_error() -> None:
    app = Starlette(middleware=[Middleware(SessionMiddleware, secret_key=SECRET)])
    with pytest.raises(ConfigurationError, match="no PassportMiddleware"):
        login(TestClient(app), object())
