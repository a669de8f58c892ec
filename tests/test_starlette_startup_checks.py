"""Mistakes `PassportMiddleware` reports before the app serves, through real Starlette and
FastAPI apps and a real uvicorn process.

Checked once: the session middleware must run outside `PassportMiddleware` (else logins seem
to work and nobody is ever restored), every strategy name a route's decorator (or
`restore_with=`) gives must be registered, and a session route needs both serializers. With a
lifespan (uvicorn, `with TestClient(app)`), a problem fails the startup with the message;
without one, the first request raises it.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Host, Mount, Route, Router
from starlette.testclient import TestClient
from startup_check_apps import (
    SECRET,
    fastapi_app,
    log_in,
    misordered_fastapi,
    misspelt_strategy,
    not_an_authenticator,
    short_session_secret,
    whoami,
)
from users import PASSWORD, UserStore, local_passport
from uvicorn_servers import uvicorn_command

from passport_py import Authenticator
from passport_py.adapters.starlette import (
    PassportMiddleware,
    authenticate,
    authorize,
    login_required,
)
from passport_py.errors import ConfigurationError
from passport_py.sessions import SessionMiddleware as ServerSessionMiddleware
from passport_py.strategies.local import LocalStrategy

TESTS = Path(__file__).resolve().parent
LIST_ORDER = r"list Middleware\(SessionMiddleware, \.\.\.\) before Middleware\(PassportMiddleware"
ADD_ORDER = "add PassportMiddleware first, then SessionMiddleware"


def starlette_app(
    *routes: Any, passport: Authenticator[Any] | None = None, **options: Any
) -> Starlette:
    """Starlette's session middleware, then `PassportMiddleware` (the right order)."""
    return Starlette(
        routes=[Route("/", whoami), *routes],
        middleware=[
            Middleware(SessionMiddleware, secret_key=SECRET),
            Middleware(
                PassportMiddleware,
                passport=passport or local_passport(UserStore.default()),
                **options,
            ),
        ],
    )


def startup_error(app: Any) -> str:
    """The message `with TestClient(app)` raises at startup."""
    with pytest.raises(ConfigurationError) as caught, TestClient(app):
        pass  # pragma: no cover - the startup raises
    return str(caught.value)


def log_in_and_restore(client: TestClient) -> None:
    """Alice logs in at `POST /login`, and `GET /` then knows her."""
    response = client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert response.json() == {"user": "alice", "authenticated": True}
    assert client.get("/").json() == {"user": "alice", "authenticated": True}


@authenticate("bearer", session=False)
async def api(request: Request) -> Response:  # pragma: no cover - never served
    return PlainTextResponse("api")


@login_required
async def account(request: Request) -> Response:  # pragma: no cover - never served
    return PlainTextResponse("account")


# -- the middleware order -----------------------------------------------------------------


def test_passport_listed_before_the_session_middleware_fails_startup_naming_the_list_order() -> (
    None
):
    app = Starlette(
        routes=[Route("/", whoami)],
        middleware=[
            Middleware(PassportMiddleware, passport=local_passport(UserStore.default())),
            Middleware(SessionMiddleware, secret_key=SECRET),
        ],
    )
    message = startup_error(app)
    assert "PassportMiddleware runs before starlette.middleware.sessions.SessionMiddleware" in (
        message
    )
    assert "nobody is restored on the next request" in message
    assert re.search(LIST_ORDER, message)
    assert ADD_ORDER in message


def test_passport_before_passport_pys_own_session_middleware_is_caught_too() -> None:
    app = Starlette(
        routes=[Route("/", whoami)],
        middleware=[
            Middleware(PassportMiddleware, passport=local_passport(UserStore.default())),
            Middleware(ServerSessionMiddleware, secret_key=SECRET),
        ],
    )
    assert "before passport_py.sessions.middleware.SessionMiddleware" in startup_error(app)


def test_starlette_add_middleware_in_the_list_order_is_misordered_and_says_how_to_add() -> None:
    app = Starlette(routes=[Route("/", whoami)])
    app.add_middleware(SessionMiddleware, secret_key=SECRET)
    app.add_middleware(PassportMiddleware, passport=local_passport(UserStore.default()))
    assert ADD_ORDER in startup_error(app)


def test_fastapi_add_middleware_session_then_passport_fails_startup() -> None:
    assert ADD_ORDER in startup_error(misordered_fastapi())


def test_fastapi_add_middleware_passport_then_session_logs_in_and_restores() -> None:
    with TestClient(fastapi_app(passport_first=True)) as client:
        log_in_and_restore(client)


def test_a_misordered_app_run_without_lifespan_raises_at_every_request_until_fixed() -> None:
    app = misordered_fastapi()
    client = TestClient(app)
    for _ in range(2):
        with pytest.raises(ConfigurationError, match=ADD_ORDER):
            client.get("/")
    response = TestClient(app, raise_server_exceptions=False).get("/")
    assert (response.status_code, response.text) == (500, "Internal Server Error")


def test_a_passport_wrapped_around_a_starlette_app_with_sessions_is_misordered() -> None:
    inner = Starlette(
        routes=[Route("/", whoami)], middleware=[Middleware(SessionMiddleware, secret_key=SECRET)]
    )
    outer = PassportMiddleware(inner, passport=local_passport(UserStore.default()))
    with pytest.raises(ConfigurationError, match=ADD_ORDER):
        TestClient(outer).get("/")


def test_not_an_authenticator_fails_startup_instead_of_the_middleware_build() -> None:
    message = startup_error(not_an_authenticator())
    assert message.startswith("PassportMiddleware needs passport=<your Authenticator instance>")


def test_a_session_middleware_mistake_fails_startup_too() -> None:
    assert "secret_key must be at least 32 bytes" in startup_error(short_session_secret())


# -- what the routes need -----------------------------------------------------------------


def test_an_unknown_strategy_name_fails_startup_listing_the_registered_names() -> None:
    message = startup_error(misspelt_strategy())
    assert message == (
        "authenticate('locale') on startup_check_apps.log_in_misspelt: no strategy is "
        "registered as 'locale' (registered: 'local'); fix the name or register it with "
        "passport.use(...)"
    )


def test_every_unknown_name_is_reported_at_once() -> None:
    app = starlette_app(
        Route("/login", log_in, methods=["POST"]),
        Route("/api", api),
        Route("/admin", authorize(["local", "github"])(whoami)),
    )
    message = startup_error(app)
    assert "authenticate('bearer') on test_starlette_startup_checks.api" in message
    assert "authorize('github') on startup_check_apps.whoami" in message
    assert "'local'" not in message.split("registered")[0]


def test_an_unknown_restore_with_name_fails_startup() -> None:
    app = starlette_app(restore_with=("remember-me",))
    assert startup_error(app).startswith(
        "restore_with('remember-me') on PassportMiddleware: no strategy is registered"
    )


def test_strategies_the_apps_own_lifespan_registers_count() -> None:
    passport: Authenticator[Any] = Authenticator()
    store = UserStore.default()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        passport.use(LocalStrategy(store.verify))
        passport.serialize_user(lambda user: user.id)
        passport.deserialize_user(store.deserialize)
        yield

    app = starlette_app(Route("/login", log_in, methods=["POST"]), passport=passport)
    app.router.lifespan_context = lifespan
    with TestClient(app) as client:
        log_in_and_restore(client)


def test_the_apps_lifespan_exits_when_the_checks_fail() -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("opened")
        try:
            yield
        finally:
            events.append("closed")

    app = misspelt_strategy()
    app.router.lifespan_context = lifespan
    startup_error(app)
    assert events == ["opened", "closed"]


def test_a_login_required_route_without_a_deserializer_fails_startup() -> None:
    passport: Authenticator[Any] = Authenticator()
    passport.serialize_user(lambda user: user.id)
    message = startup_error(starlette_app(Route("/account", account), passport=passport))
    assert message.startswith(
        "login_required on test_starlette_startup_checks.account uses the login session but "
        "no @passport.deserialize_user function is registered: add @passport.deserialize_user"
    )


def test_stateless_and_authorize_routes_need_no_serializer() -> None:
    passport: Authenticator[Any] = Authenticator()
    passport.use(LocalStrategy(UserStore.default().verify))
    passport.use(LocalStrategy(UserStore.default().verify), "bearer")
    app = starlette_app(
        Route("/api", api), Route("/link", authorize("local")(whoami)), passport=passport
    )
    with TestClient(app) as client:
        assert client.get("/").json() == {"user": None, "authenticated": False}


def test_routes_inside_mounts_hosts_and_fastapi_routers_are_checked() -> None:
    router = APIRouter()
    router.add_api_route("/api", api)
    app = FastAPI()
    app.include_router(router, prefix="/v1")
    app.mount("/admin", Starlette(routes=[Mount("/deep", routes=[Route("/account", account)])]))
    app.router.routes.append(Host("api.example", app=Router([Route("/x", log_in)])))
    app.add_middleware(PassportMiddleware, passport=Authenticator())
    app.add_middleware(SessionMiddleware, secret_key=SECRET)
    message = startup_error(app)
    assert "authenticate('bearer') on test_starlette_startup_checks.api" in message
    assert "authenticate('local') on startup_check_apps.log_in" in message
    assert "no @passport.serialize_user and @passport.deserialize_user" in message


def test_a_mounted_app_with_its_own_passport_is_checked_by_its_own_middleware() -> None:
    inner = starlette_app(Route("/api", api), passport=Authenticator())
    outer = starlette_app(Route("/login", log_in, methods=["POST"]), Mount("/inner", inner))
    with TestClient(outer) as client:
        log_in_and_restore(client)
        with pytest.raises(ConfigurationError, match="authenticate\\('bearer'\\)"):
            client.get("/inner/")


# -- a real uvicorn -----------------------------------------------------------------------


def run_uvicorn(factory: str) -> subprocess.CompletedProcess[str]:
    """uvicorn serving `startup_check_apps:<factory>` on a loopback port, until it exits."""
    command = uvicorn_command(f"startup_check_apps:{factory}")
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        cwd=TESTS.parent,
        check=False,
    )


@pytest.mark.parametrize(
    ("factory", "printed"),
    [
        ("misordered_fastapi", ADD_ORDER),
        ("misspelt_strategy", "no strategy is registered as 'locale' (registered: 'local')"),
        ("not_an_authenticator", "PassportMiddleware needs passport="),
        ("short_session_secret", "secret_key must be at least 32 bytes"),
    ],
)
def test_uvicorn_exits_non_zero_printing_the_mistake_instead_of_serving(
    factory: str, printed: str
) -> None:
    finished = run_uvicorn(factory)
    assert finished.returncode != 0
    assert printed in finished.stderr
    assert "Application startup failed. Exiting." in finished.stderr
    assert "lifespan' protocol appears unsupported" not in finished.stderr
    assert "Uvicorn running on" not in finished.stderr
