"""The behaviour app (contract in `common.py`) in Flask, served to httpx over WSGI."""

from __future__ import annotations

from typing import Any

import httpx
from flask import Flask, g, get_flashed_messages, jsonify, redirect, request, session
from users import User, UserStore

from passport_py import AuthResult
from passport_py.adapters.flask import (
    FlaskPassport,
    authenticate,
    authorize,
    current_user,
    login_required,
    logout,
)

from .common import LOGIN_FORM, callback_body, make_passport, session_snapshot, username

SECRET = "behaviour-tests-secret-9c41e07b2d"
SESSION_COOKIE = "session"


def callback(result: AuthResult[User]) -> Any:
    return jsonify(callback_body(result))


def make_app(store: UserStore) -> Flask:
    app = Flask(__name__)
    app.testing = True  # a server error reaches the test as its exception, not as a 500
    app.secret_key = SECRET
    FlaskPassport(app, make_passport(store), login_url="/login")

    @app.get("/")
    def home() -> str:
        return f"hello {username(current_user) or 'anonymous'}"

    @app.get("/login")
    def login_page() -> str:
        return "login page"

    @app.post("/login")
    @authenticate("local", **LOGIN_FORM)
    def login_form() -> str:  # pragma: no cover - always redirects
        return "unreachable"

    @app.post("/login-api")
    @authenticate("local")
    def login_api() -> Any:
        return {"user": username(current_user)}

    @app.get("/flashes")
    def flashes() -> Any:
        return jsonify([list(f) for f in get_flashed_messages(with_categories=True)])

    @app.get("/api")
    @authenticate(["token", "basic"], session=False)
    def api() -> Any:
        return {"user": username(current_user)}

    @app.post("/login-callback")
    @authenticate("local", callback=callback)
    def login_callback() -> str:  # pragma: no cover - the callback answers
        return "unreachable"

    @app.post("/link")
    @login_required
    @authorize("local")
    def link() -> Any:
        return {"user": username(current_user), "account": username(g.account)}

    @app.post("/logout")
    def logout_view() -> Any:
        logout()
        return redirect("/", 302)

    @app.get("/private")
    @login_required
    def private() -> Any:
        return {"user": username(current_user)}

    @app.get("/custom/sync")
    @authenticate("sync-custom", session=False)
    def custom_sync() -> Any:
        return {"user": username(current_user)}

    @app.get("/custom/async")
    @authenticate("async-custom", session=False)
    async def custom_async() -> Any:
        return {"user": username(current_user)}

    @app.get("/session")
    def session_view() -> Any:
        return session_snapshot(None, session)  # Flask's cookie session has no id

    @app.post("/cart")
    def cart() -> Any:
        session["cart"] = request.form.get("item")
        return "", 204

    return app


def make_client(store: UserStore) -> httpx.Client:
    return httpx.Client(
        transport=httpx.WSGITransport(app=make_app(store)),
        base_url="http://testserver",
        follow_redirects=False,
    )


def session_cookie(data: dict[str, Any]) -> str:
    """A session cookie holding `data`, signed as Flask's cookie session signs it."""
    app = Flask(__name__)
    app.secret_key = SECRET
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    return str(serializer.dumps(data))
