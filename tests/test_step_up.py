"""Step-up: `fresh_login_required(max_age=..., factors=...)` through a real app of every adapter
(tests/step_up_apps.py), and `StepUp`'s decision on its own."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.urls import get_resolver
from django.views import View
from django_project import passports
from fastapi import Depends, FastAPI
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from step_up_apps import FRAMEWORKS, Clock, django_urls, make_passport, step_up_client
from users import PASSWORD, User, UserStore

from passport_py import Authenticator
from passport_py.adapters import django as dj
from passport_py.adapters import fastapi as fa
from passport_py.adapters import starlette as st
from passport_py.adapters.django.checks import check_routes, view_requirements
from passport_py.adapters.fastapi import SESSION_SCHEME
from passport_py.errors import ConfigurationError
from passport_py.redirects import is_safe_redirect
from passport_py.step_up import REAUTH_MESSAGE, StepUp

BROWSER = {"accept": "text/html"}
API = {"accept": "application/json"}


class Site:
    """One framework's step-up app, its passport and the clock of its sessions."""

    def __init__(self, framework: str, client: httpx.Client, passport: Authenticator[User]):
        self.framework = framework
        self.client = client
        self.passport = passport
        clock = passport.sessions.clock
        assert isinstance(clock, Clock)
        self.clock = clock

    def log_in(self, url: str = "/login", *, remember: bool = False) -> httpx.Response:
        form = {"username": "alice", "password": PASSWORD}
        if remember:
            form["remember_me"] = "1"
        response = self.client.post(url, data=form, headers=BROWSER)
        assert response.status_code in (302, 303), response.text
        return response

    def api_error(self, response: httpx.Response) -> object:
        """The JSON a refused API client reads (FastAPI's dependencies wrap it in "detail")."""
        body = response.json()
        return body["detail"] if self.framework == "fastapi" else body


@pytest.fixture(params=FRAMEWORKS)
def site(request: pytest.FixtureRequest) -> Iterator[Site]:
    passport, _ = make_passport(UserStore.default())
    with step_up_client(request.param, passport) as client:
        yield Site(request.param, client, passport)


def _next_of(response: httpx.Response) -> tuple[str, str]:
    """The redirect's path and its `next` parameter."""
    location = urlsplit(response.headers["location"])
    return location.path, parse_qs(location.query)["next"][0]


def test_a_fresh_login_opens_every_step_up_page(site: Site) -> None:
    site.log_in()
    for url in ("/fresh", "/recent", "/custom"):
        response = site.client.get(url, headers=BROWSER)
        assert response.status_code == 200, url
        assert response.text == f"{url} for alice"


def test_max_age_counts_from_the_login_inclusive(site: Site) -> None:
    site.log_in()
    site.clock.now += 300
    assert site.client.get("/recent", headers=API).status_code == 200


def test_a_stale_login_sends_browsers_to_reauthenticate_with_next_and_a_flash(site: Site) -> None:
    site.log_in()
    site.clock.now += 301
    response = site.client.get("/recent?tab=keys", headers=BROWSER)
    assert response.status_code == 302
    assert _next_of(response) == ("/login", "/recent?tab=keys")
    assert response.headers["cache-control"] == "no-store"
    assert REAUTH_MESSAGE in site.client.get("/flashes").json()
    # No age limit: the same login still opens the page that only refuses remembered logins.
    assert site.client.get("/fresh", headers=BROWSER).status_code == 200


def test_a_stale_login_gives_api_clients_a_401_json(site: Site) -> None:
    site.log_in()
    site.clock.now += 301
    response = site.client.get("/recent", headers=API)
    assert response.status_code == 401
    assert site.api_error(response) == {"error": "reauthentication_required", "max_age": 300}
    assert response.headers["cache-control"] == "no-store"
    assert "www-authenticate" not in response.headers


def test_logging_in_again_refreshes_the_login_and_returns_to_the_page(site: Site) -> None:
    site.log_in()
    site.clock.now += 3600
    refused = site.client.get("/recent", headers=BROWSER)
    _, target = _next_of(refused)
    again = site.log_in()
    assert again.headers["location"] == target == "/recent"
    assert site.client.get(target, headers=BROWSER).text == "/recent for alice"


def test_a_remembered_login_is_never_fresh(site: Site) -> None:
    site.log_in(remember=True)
    cookie = site.client.cookies["remember_me"]
    site.client.cookies.clear()
    site.client.cookies.set("remember_me", cookie)
    # The recall logs alice in (not fresh): she is asked to confirm, not to log in.
    response = site.client.get("/fresh", headers=API)
    assert response.status_code == 401
    assert site.api_error(response) == {"error": "reauthentication_required", "max_age": None}
    browser = site.client.get("/fresh", headers=BROWSER)
    assert _next_of(browser) == ("/login", "/fresh")
    assert REAUTH_MESSAGE in site.client.get("/flashes").json()


def test_a_required_factor_missing_from_the_login_is_refused(site: Site) -> None:
    site.log_in()
    response = site.client.get("/keys", headers=API)
    assert response.status_code == 401
    assert site.api_error(response) == {
        "error": "reauthentication_required",
        "max_age": 300,
        "factors": ["otp"],
    }
    assert _next_of(site.client.get("/keys", headers=BROWSER)) == ("/login", "/keys")


def test_a_login_that_proved_the_factor_opens_the_page(site: Site) -> None:
    site.log_in("/login-otp")
    assert site.client.get("/keys", headers=API).text == "/keys for alice"
    site.clock.now += 301
    assert site.client.get("/keys", headers=API).status_code == 401


def test_reauth_url_from_the_decorator_then_the_authenticator(site: Site) -> None:
    site.log_in()
    site.clock.now += 301
    assert _next_of(site.client.get("/custom", headers=BROWSER)) == ("/reauth", "/custom")
    site.passport.reauth_url = "/confirm"
    assert _next_of(site.client.get("/recent", headers=BROWSER)) == ("/confirm", "/recent")
    assert _next_of(site.client.get("/custom", headers=BROWSER)) == ("/reauth", "/custom")


def test_anonymous_users_are_refused_as_login_required_does(site: Site) -> None:
    browser = site.client.get("/recent", headers=BROWSER)
    assert _next_of(browser) == ("/login", "/recent")
    api = site.client.get("/recent", headers=API)
    assert api.status_code == 401
    assert "reauthentication_required" not in api.text


@pytest.mark.parametrize(
    "query",
    ["next=//evil.example/", "a=%0d%0aSet-Cookie:%20x=1", "b=\\\\evil.example", "c=" + "x" * 3000],
)
def test_the_next_of_a_reauthentication_is_always_a_safe_local_path(site: Site, query: str) -> None:
    site.log_in()
    site.clock.now += 301
    path, target = _next_of(site.client.get(f"/recent?{query}", headers=BROWSER))
    assert path == "/login"
    assert is_safe_redirect(target)
    # An unsafe one falls back to "/"; an over-long query is dropped.
    assert target in ("/", "/recent") or target.startswith("/recent?")


VIEW_KINDS = [
    ("flask", "/async"),
    ("django", "/async"),
    ("django", "/mixin"),
    ("django", "/amixin"),
]


@pytest.mark.parametrize(("framework", "url"), VIEW_KINDS)
def test_async_and_class_based_views_step_up_too(framework: str, url: str) -> None:
    passport, _ = make_passport(UserStore.default())
    with step_up_client(framework, passport) as client:
        site = Site(framework, client, passport)
        site.log_in()
        assert client.get(url, headers=BROWSER).text == f"{url} for alice"
        site.clock.now += 301
        assert _next_of(client.get(url, headers=BROWSER)) == ("/login", url)
        refused = client.get(url, headers=API)
        assert refused.status_code == 401
        assert refused.json() == {"error": "reauthentication_required", "max_age": 300}
        site.log_in()
        assert client.get(url, headers=API).text == f"{url} for alice"


# -- StepUp on its own ------------------------------------------------------------------------


def test_step_up_reasons() -> None:
    now = 1000.0
    fresh = {"user": 1, "auth_at": 900, "amr": ["pwd"]}
    assert StepUp().check(fresh, now) is None
    assert StepUp(max_age=100).check(fresh, now) is None
    assert StepUp(max_age=99).check(fresh, now) == "too_old"
    assert StepUp(factors=("otp",)).check(fresh, now) == "factors"
    assert StepUp(factors=("pwd",)).check(fresh, now) is None
    assert StepUp().check({"user": 1, "fresh": False}, now) == "not_fresh"
    assert StepUp().check(None, now) == "not_fresh"
    # A login recorded before "auth_at" existed passes only where no age is asked.
    assert StepUp().check({"user": 1}, now) is None
    assert StepUp(max_age=10**9).check({"user": 1}, now) == "not_fresh"
    assert StepUp(max_age=10).check({"user": 1, "auth_at": "900"}, now) == "not_fresh"


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"max_age": -1}, "max_age=-1"),
        ({"max_age": 1.5}, "max_age=1.5"),
        ({"max_age": True}, "max_age=True"),
        ({"factors": "otp"}, "factors=['otp']"),
        ({"factors": ["otp", ""]}, "each factor"),
        ({"reauth_url": ""}, "reauth_url=''"),
    ],
)
def test_step_up_refuses_wrong_arguments_naming_the_fix(
    kwargs: dict[str, object], names: str
) -> None:
    with pytest.raises(ConfigurationError, match=names.replace("[", r"\[").replace("]", r"\]")):
        StepUp.build(**kwargs)  # type: ignore[arg-type]


# -- startup checks and the OpenAPI document --------------------------------------------------


RECENT_LOGIN = fa.fresh_login_required(max_age=60)


def _only_guarded_app(framework: str, passport: Authenticator[User]) -> Starlette:
    middleware = [
        Middleware(SessionMiddleware, secret_key="step-up-startup-secret-2b9e41c7"),
        Middleware(st.PassportMiddleware, passport=passport),
    ]
    if framework == "starlette":

        async def page(request: Request) -> Response:
            return PlainTextResponse("ok")

        guarded = st.fresh_login_required(max_age=60)(page)
        return Starlette(routes=[Route("/guarded", guarded)], middleware=middleware)
    app = FastAPI(middleware=middleware)

    @app.get("/guarded")
    def bare(user: User = Depends(fa.fresh_login_required)) -> str:  # pragma: no cover
        return "ok"

    @app.get("/recent")
    def recent(user: User = Depends(RECENT_LOGIN)) -> str:
        return "ok"  # pragma: no cover

    return app


@pytest.mark.parametrize("framework", ["starlette", "fastapi"])
def test_startup_checks_know_fresh_login_required_needs_the_deserializer(framework: str) -> None:
    passport: Authenticator[User] = Authenticator()
    with (
        pytest.raises(ConfigurationError) as caught,
        TestClient(_only_guarded_app(framework, passport)),
    ):
        pass  # pragma: no cover - the startup raises
    assert "fresh_login_required" in str(caught.value)
    assert "@passport.deserialize_user" in str(caught.value)


def test_fastapi_documents_the_401_and_the_session_of_both_forms() -> None:
    passport, _ = make_passport(UserStore.default())
    with TestClient(_only_guarded_app("fastapi", passport)) as client:
        doc = client.get("/openapi.json").json()
    for url in ("/guarded", "/recent"):
        operation = doc["paths"][url]["get"]
        assert "401" in operation["responses"]
        assert operation["security"] == [{SESSION_SCHEME: []}]


def test_the_fastapi_dependency_is_shared_by_equal_requirements() -> None:
    assert fa.fresh_login_required(max_age=60) is fa.fresh_login_required(max_age=60)
    assert fa.fresh_login_required(max_age=60) is not fa.fresh_login_required(max_age=61)
    assert "max_age=60" in repr(fa.fresh_login_required(max_age=60))


def test_django_checks_know_the_step_up_views() -> None:
    passport, _ = make_passport(UserStore.default())
    passports.current = passport
    with django_urls():
        assert check_routes() == []
        names = {need.decorator for need in view_requirements(get_resolver().url_patterns)}
        assert {"fresh_login_required", "FreshLoginRequiredMixin"} <= names
        bare: Authenticator[User] = Authenticator()
        for name, strategy in passport.strategies.items():
            bare.use(strategy, name)
        passports.current = bare
        assert [message.id for message in check_routes()] == ["passport_py.E009"]


def test_django_mixin_attributes_are_checked_when_the_class_is_defined() -> None:
    with pytest.raises(ConfigurationError, match="max_age=-5"):

        class Wrong(dj.FreshLoginRequiredMixin, View):
            max_age = -5
