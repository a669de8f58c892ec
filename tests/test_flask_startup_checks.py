"""Mistakes `FlaskPassport` catches before the app serves its first request.

A decorator of ours placed above `@app.route` (Flask then registers the undecorated view: no
authentication at all), a strategy name nobody registered, and a login session without a
serializer or deserializer each raise `ConfigurationError` on the first request, whichever
route it asks for, with a message saying how to fix it. Real Flask apps with Flask's test
client; one test under Werkzeug's real server shows what a developer sees there.
"""

from __future__ import annotations

import logging

import httpx
import pytest
from app_servers import werkzeug_server
from flask import Blueprint, Flask
from users import UserStore, local_passport

from passport_py import Authenticator, ConfigurationError
from passport_py.adapters.flask import (
    FlaskPassport,
    authenticate,
    authorize,
    fresh_login_required,
    login_required,
)
from passport_py.strategies.local import LocalStrategy

SECRET_PAGE = "the account page"


def make_app(passport: Authenticator[object] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="flask-startup-checks-secret-key-0123", TESTING=True)
    FlaskPassport(app, passport or local_passport(UserStore()))

    @app.route("/")
    def home() -> str:
        return "home"

    return app


def first_request_error(app: Flask, path: str = "/") -> str:
    with pytest.raises(ConfigurationError) as caught:
        app.test_client().get(path)
    return str(caught.value)


def test_login_required_above_app_route_is_refused_with_the_right_order() -> None:
    app = make_app()

    @login_required
    @app.route("/account")
    def account() -> str:
        return SECRET_PAGE

    message = first_request_error(app, "/account")
    assert "@login_required is above @app.route(...)" in message
    assert "put @app.route(...) above @login_required" in message
    assert "account" in message and "'account'" in message


def test_authenticate_above_a_blueprint_route_names_the_blueprint() -> None:
    app = make_app()
    api = Blueprint("api", __name__)

    @authenticate("local", session=False)
    @api.route("/token", methods=["POST"])
    def token() -> str:
        return "token"

    app.register_blueprint(api)
    message = first_request_error(app)
    assert "put @api.route(...) above @authenticate" in message
    assert "'api.token'" in message


def test_fresh_login_required_between_two_decorators_above_the_route_is_found() -> None:
    app = make_app()

    @fresh_login_required
    @app.route("/settings")
    @login_required
    def settings() -> str:
        return "settings"

    message = first_request_error(app)
    assert "put @app.route(...) above @fresh_login_required" in message


def test_the_misplaced_decorator_is_refused_on_every_request_not_only_the_first() -> None:
    app = make_app()

    @login_required
    @app.route("/account")
    def account() -> str:
        return SECRET_PAGE

    client = app.test_client()
    for _ in range(3):
        with pytest.raises(ConfigurationError, match="above @login_required"):
            client.get("/account")


def test_a_view_also_registered_through_its_wrapper_is_not_a_misplaced_decorator() -> None:
    app = make_app()

    def report() -> str:
        return "report"

    # Deliberate: the same function public at one URL and behind a login at another.
    app.add_url_rule("/public-report", "public_report", report)
    app.add_url_rule("/report", "report", login_required(report))
    client = app.test_client()
    assert client.get("/public-report").text == "report"
    assert client.get("/report", headers={"Accept": "application/json"}).status_code == 401


def test_decorators_below_the_route_pass_the_checks() -> None:
    app = make_app()

    @app.route("/account")
    @login_required
    def account() -> str:
        return SECRET_PAGE

    response = app.test_client().get("/account", headers={"Accept": "text/html"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_an_unknown_strategy_name_fails_the_first_request_listing_the_registered_names() -> None:
    app = make_app()

    @app.route("/login", methods=["POST"])
    @authenticate("locale")
    def log_in() -> str:
        return "welcome"

    message = first_request_error(app, "/")  # any route: the home page names no strategy
    assert "authenticate('locale')" in message
    assert "log_in" in message
    assert "registered: 'local'" in message


def test_an_unknown_name_in_a_chain_under_a_blueprint_is_found() -> None:
    app = make_app()
    admin = Blueprint("admin", __name__)

    @admin.route("/link")
    @authorize(["local", "github"])
    def link() -> str:
        return "linked"

    app.register_blueprint(admin, url_prefix="/admin")
    message = first_request_error(app)
    assert "authorize('github')" in message
    assert "'local'" not in message.split("registered:")[0]


def test_a_login_route_without_a_serializer_fails_the_first_request() -> None:
    passport: Authenticator[object] = Authenticator()
    passport.use(LocalStrategy(UserStore().verify))
    app = make_app(passport)

    @app.route("/login", methods=["POST"])
    @authenticate("local")
    def log_in() -> str:
        return "welcome"

    message = first_request_error(app)
    assert "@passport.serialize_user and @passport.deserialize_user" in message


def test_login_required_without_a_deserializer_fails_the_first_request() -> None:
    passport: Authenticator[object] = Authenticator()
    passport.serialize_user(lambda user: user)
    app = make_app(passport)

    @app.route("/account")
    @login_required
    def account() -> str:
        return SECRET_PAGE

    message = first_request_error(app)
    assert "no @passport.deserialize_user function is registered" in message


def test_stateless_routes_need_no_serializer() -> None:
    passport: Authenticator[object] = Authenticator()
    passport.use(LocalStrategy(UserStore().verify))
    app = make_app(passport)

    @app.route("/token", methods=["POST"])
    @authenticate("local", session=False)
    def token() -> str:
        return "token"

    assert app.test_client().get("/").text == "home"


def test_an_unknown_restore_with_name_fails_the_first_request() -> None:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="flask-startup-checks-secret-key-0123", TESTING=True)
    FlaskPassport(app, local_passport(UserStore()), restore_with="remember-me")
    app.add_url_rule("/", "home", lambda: "home")
    message = first_request_error(app)
    assert "restore_with('remember-me')" in message


def test_the_check_passes_once_the_missing_strategy_is_registered() -> None:
    passport: Authenticator[object] = local_passport(UserStore())
    app = make_app(passport)

    @app.route("/api")
    @authenticate("api-key", session=False)
    def api() -> str:
        return "api"

    client = app.test_client()
    with pytest.raises(ConfigurationError, match="'api-key'"):
        client.get("/")
    passport.use(LocalStrategy(UserStore().verify), "api-key")
    assert client.get("/").text == "home"


def test_under_a_real_server_the_error_is_logged_and_the_view_never_served(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app()
    app.config["TESTING"] = False  # as deployed: Flask answers 500 and logs the error

    @login_required
    @app.route("/account")
    def account() -> str:
        return SECRET_PAGE

    with caplog.at_level(logging.ERROR), werkzeug_server(app) as base:
        response = httpx.get(base + "/account")
    assert response.status_code == 500
    assert SECRET_PAGE not in response.text
    assert "Exception on /account [GET]" in caplog.text
    assert "ConfigurationError" in caplog.text
    assert "put @app.route(...) above @login_required" in caplog.text
