"""`password_verify` behind `LocalStrategy` in real Starlette, Flask and Django apps.

Each app keeps its users in a dict of `{name: stored_hash}`, as an app's user table would.
Alice arrives with a Werkzeug scrypt hash (what Flask tutorials store); her first login
upgrades the row to Argon2id through the app's `rehash` callback.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import django_project  # noqa: F401 - configures Django's settings
import pytest
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test import Client as DjangoClient
from django.test import override_settings
from django.urls import path
from django_project import passports
from flask import Flask
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from werkzeug.security import generate_password_hash

from passport_py import Authenticator
from passport_py.adapters import django as django_adapter
from passport_py.adapters import flask as flask_adapter
from passport_py.adapters import starlette as starlette_adapter
from passport_py.events import PasswordRehashed
from passport_py.passwords import hash_password, password_verify
from passport_py.strategies.local import LocalStrategy

PASSWORD = "wonderland"
SECRET = "test-secret-key-of-at-least-32-bytes!"


@dataclass
class Store:
    """The app's user table: name -> stored hash, and a log of the rehash calls."""

    hashes: dict[str, str | None] = field(default_factory=dict)
    rehashed: list[str] = field(default_factory=list)
    lookups: list[str] = field(default_factory=list)
    events: list[PasswordRehashed] = field(default_factory=list)

    def find(self, name: str) -> tuple[str, str | None] | None:
        self.lookups.append(name)
        return (name, self.hashes[name]) if name in self.hashes else None

    def save(self, name: str, new_hash: str) -> None:
        self.rehashed.append(name)
        self.hashes[name] = new_hash


def make_passport(store: Store, *, use_async: bool) -> Authenticator[str]:
    passport: Authenticator[str] = Authenticator()
    passport.events.on(PasswordRehashed, store.events.append)
    if use_async:

        async def lookup(name: str) -> tuple[str, str | None] | None:
            return store.find(name)

        async def rehash(name: str, new_hash: str) -> None:
            store.save(name, new_hash)

        verify = password_verify(
            lookup,
            rehash=rehash,
            message="Incorrect username or password.",
            events=passport.events,
        )
    else:
        verify = password_verify(store.find, rehash=store.save, events=passport.events)
    passport.use(LocalStrategy(verify))
    passport.serialize_user(lambda name: name)
    passport.deserialize_user(lambda name: name)
    return passport


def starlette_client(store: Store) -> TestClient:
    @starlette_adapter.authenticate("local")
    async def log_in(request: Request) -> Response:
        return JSONResponse({"user": request.user})

    async def me(request: Request) -> Response:
        return JSONResponse({"user": request.user if request.user else None})

    app = Starlette(
        routes=[Route("/login", log_in, methods=["POST"]), Route("/me", me)],
        middleware=[
            Middleware(SessionMiddleware, secret_key=SECRET),
            Middleware(
                starlette_adapter.PassportMiddleware,
                passport=make_passport(store, use_async=True),
            ),
        ],
    )
    return TestClient(app)


def flask_client(store: Store) -> Any:
    app = Flask(__name__)
    app.secret_key = SECRET
    flask_adapter.FlaskPassport(app, make_passport(store, use_async=False))

    @app.post("/login")
    @flask_adapter.authenticate("local")
    def log_in() -> Any:
        return {"user": flask_adapter.current_user._get_current_object()}

    @app.get("/me")
    def me() -> Any:
        return {"user": flask_adapter.current_user._get_current_object() or None}

    return app.test_client()


@django_adapter.authenticate("local")
def django_log_in(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"user": str(request.user)})  # a lazy object around the user


def django_me(request: HttpRequest) -> HttpResponse:
    user = str(request.user) if django_adapter.is_authenticated(request) else None
    return JsonResponse({"user": user})


urlpatterns = [path("login", django_log_in), path("me", django_me)]


@pytest.fixture(params=["starlette", "flask", "django"])
def app(request: pytest.FixtureRequest) -> Iterator[tuple[Any, Store]]:
    store = Store({"alice": generate_password_hash(PASSWORD, method="scrypt")})
    if request.param == "starlette":
        with starlette_client(store) as client:
            yield client, store
    elif request.param == "flask":
        yield flask_client(store), store
    else:
        previous, passports.current = passports.current, make_passport(store, use_async=False)
        try:
            with override_settings(ROOT_URLCONF=__name__):
                yield DjangoClient(), store
        finally:
            passports.current = previous


def body(response: Any) -> Any:
    """The JSON body of a Starlette (httpx) or Flask test response."""
    return response.json() if callable(response.json) else response.json


def login(client: Any, name: str, password: str) -> Any:
    return client.post("/login", data={"username": name, "password": password})


def test_login_with_a_werkzeug_scrypt_hash_stores_an_argon2id_hash(
    app: tuple[Any, Store],
) -> None:
    client, store = app
    response = login(client, "alice", PASSWORD)
    assert response.status_code == 200
    assert body(client.get("/me")) == {"user": "alice"}
    assert store.rehashed == ["alice"]
    assert store.hashes["alice"].startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert store.events == [PasswordRehashed(account="alice", scheme="argon2id")]


def test_the_second_login_verifies_the_upgraded_hash_without_rehashing(
    app: tuple[Any, Store],
) -> None:
    client, store = app
    assert login(client, "alice", PASSWORD).status_code == 200
    upgraded = store.hashes["alice"]
    assert login(client, "alice", PASSWORD).status_code == 200
    assert store.rehashed == ["alice"]
    assert store.hashes["alice"] == upgraded


def test_a_wrong_password_is_401_and_leaves_the_stored_hash_alone(app: tuple[Any, Store]) -> None:
    client, store = app
    before = store.hashes["alice"]
    assert login(client, "alice", "not-" + PASSWORD).status_code == 401
    assert store.rehashed == []
    assert store.hashes["alice"] == before


def test_an_unknown_user_is_401_after_a_lookup(app: tuple[Any, Store]) -> None:
    client, store = app
    assert login(client, "mallory", PASSWORD).status_code == 401
    assert store.lookups == ["mallory"]


def test_an_unreadable_stored_hash_is_401_and_a_warning(
    app: tuple[Any, Store], caplog: pytest.LogCaptureFixture
) -> None:
    client, store = app
    store.hashes["alice"] = "pbkdf2_sha256$999999999$salt$AAAA"
    with caplog.at_level(logging.WARNING, logger="passport_py.passwords"):
        assert login(client, "alice", PASSWORD).status_code == 401
    assert "iterations 999999999 is outside" in caplog.text
    assert store.rehashed == []


def test_an_argon2id_hash_at_the_defaults_logs_in_without_rehashing(
    app: tuple[Any, Store],
) -> None:
    client, store = app
    store.hashes["bob"] = hash_password("builder")
    assert login(client, "bob", "builder").status_code == 200
    assert store.rehashed == []


def test_a_user_without_a_password_cannot_log_in_with_one(app: tuple[Any, Store]) -> None:
    client, store = app
    store.hashes["carol"] = None  # signed up with OAuth: no password hash stored
    assert login(client, "carol", PASSWORD).status_code == 401
    assert store.rehashed == []
