"""Flask: the same logged-in page plain, behind Flask-Login, and behind passport_py."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from flask_login import LoginManager, UserMixin
from flask_login import current_user as login_current_user
from flask_login import login_user as flask_login_user

from passport_py import Authenticator
from passport_py.adapters.flask import FlaskPassport, current_user, login

from .apps import SECRET
from .wsgi import WSGIApp, call_once, get_environ, session_cookie_from


@dataclass(frozen=True)
class Member(UserMixin):  # type: ignore[misc]
    """A user both extensions return (`UserMixin` is what Flask-Login wants)."""

    id: int
    username: str


MEMBERS = {1: Member(1, "alice"), 2: Member(2, "bob")}


def _app() -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    return app


def plain_app() -> Flask:
    """No authentication: the page reads the session (Flask opens it on every request)."""
    app = _app()

    @app.get("/me")
    def me() -> str:
        return "hello alice"

    return app


def flask_login_app() -> Flask:
    """Flask-Login with its defaults (session protection "basic")."""
    app = _app()
    manager = LoginManager(app)
    manager.user_loader(lambda user_id: MEMBERS.get(int(user_id)))

    @app.get("/login")
    def do_login() -> str:
        flask_login_user(MEMBERS[1])
        return "ok"

    @app.get("/me")
    def me() -> str:
        return f"hello {login_current_user.username}"

    return app


def passport_app() -> Flask:
    """passport_py's Flask adapter."""
    app = _app()
    passport: Authenticator[Member] = Authenticator()
    passport.serialize_user(lambda member: member.id)
    passport.deserialize_user(MEMBERS.get)
    FlaskPassport(app, passport)

    @app.get("/login")
    def do_login() -> str:
        login(MEMBERS[1])
        return "ok"

    @app.get("/me")
    def me() -> str:
        return f"hello {current_user.username}"

    return app


def logged_in_cookie(app: WSGIApp) -> str:
    """The session cookie a real `GET /login` on `app` sets (same client address and agent)."""
    return session_cookie_from(call_once(app, get_environ("/login")), "session")
