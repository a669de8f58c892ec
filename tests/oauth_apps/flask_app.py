"""The OAuth app (routes in `oauth_apps.common`) in Flask, on Flask's signed cookie session."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, g, request, session
from flask.testing import FlaskClient

from oauth_apps.common import (
    API_CALLBACK,
    APP_STATE,
    Browser,
    Directory,
    Framework,
    Reply,
    link,
    same_site,
    session_data,
)
from passport_py import Authenticator
from passport_py.adapters.flask import (
    FlaskPassport,
    authenticate,
    authorize,
    current_user,
    is_authenticated,
    login_required,
)

SECRET_KEY = "oauth-apps-flask-session-secret-8b2d6f0a4c"
COOKIE = "session"


def username() -> str | None:
    return str(current_user.username) if is_authenticated() else None


def build(passport: Authenticator[Any], directory: Directory) -> Flask:
    app = Flask(__name__)
    app.testing = True  # server errors reach the test as exceptions
    app.secret_key = SECRET_KEY
    FlaskPassport(app, passport, login_url="/login")

    @app.get("/")
    def home() -> Any:
        return f"hello {username() or 'anonymous'}"

    @app.get("/login")
    def login_page() -> Any:
        return "login page"

    @app.post("/login")
    @authenticate("local")
    def log_in() -> Any:
        return {"user": username()}

    @app.get("/private")
    @login_required
    def private() -> Any:
        return {"user": username()}

    @app.get("/session")
    def show_session() -> Any:
        return {"id": None, "data": session_data(session)}

    @app.post("/cart")
    def cart() -> Any:
        session["cart"] = request.form["item"]
        return "", 204

    @app.get("/auth/dev")
    @authenticate("dev")
    def start() -> Any:  # pragma: no cover - always redirects
        return "not reached"

    @app.get("/auth/dev/form-post")
    @authenticate("dev", response_mode="form_post")
    def start_form_post() -> Any:  # pragma: no cover - always redirects
        return "not reached"

    @app.route("/auth/dev/callback", methods=["GET", "POST"])
    @authenticate("dev", success_return_to_or_redirect="/", failure_redirect="/login")
    def callback() -> Any:  # pragma: no cover - always redirects
        return "not reached"

    @app.get("/auth/dev/api")
    @authenticate("dev", callback_url=API_CALLBACK, state=APP_STATE)
    def start_api() -> Any:  # pragma: no cover - always redirects
        return "not reached"

    @app.get("/auth/dev/api/callback")
    @authenticate("dev")
    def api_callback() -> Any:
        info = g.auth_info if isinstance(g.auth_info, Mapping) else {}
        return {"user": username(), "state": info.get("state")}

    @authorize("dev-link")
    def connect() -> Any:  # pragma: no cover - always redirects
        return "not reached"

    @app.post("/connect/dev")
    @login_required
    def connect_start() -> Any:
        # A form on this site starts linking; another site must not (CVE-2015-9284).
        if not same_site(request.headers, request.host):
            return "Forbidden", 403
        return connect()

    @app.route("/connect/dev/callback", methods=["GET", "POST"])
    @authorize("dev-link")
    def connect_callback() -> Any:
        if not is_authenticated():
            return {"error": "log in to link an account"}, 401
        return link(directory, current_user, g.account)

    return app


class FlaskApp:
    framework: Framework = "flask"

    def __init__(self, passport: Authenticator[Any], directory: Directory) -> None:
        self.app = build(passport, directory)

    def browser(self) -> FlaskBrowser:
        return FlaskBrowser(self.app.test_client())


class FlaskBrowser(Browser):
    framework: Framework = "flask"
    client: FlaskClient

    def session_cookie(self) -> str | None:
        cookie = self.client.get_cookie(COOKIE)
        return cookie.value if cookie is not None else None

    def _reply(self, response: Any) -> Reply:
        return Reply(
            response.status_code, response.headers.get("Location"), response.get_data(True)
        )
