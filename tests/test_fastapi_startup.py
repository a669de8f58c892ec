"""`PassportMiddleware`'s startup checks see what FastAPI dependencies need: strategy names
and the login session's serializers, wherever the dependency is declared (a parameter, a
nested dependency, a router's, `include_router`'s or the app's `dependencies=[...]`).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, Depends, FastAPI, Security
from fastapi_apps import make_passport, new_app
from starlette.testclient import TestClient
from uvicorn_servers import uvicorn_command

from passport_py import Authenticator
from passport_py.adapters.fastapi import authenticate, authorize, login_required
from passport_py.errors import ConfigurationError

TESTS = Path(__file__).resolve().parent
UNKNOWN = "authenticate('locale') on test_fastapi_startup."


def start(app: FastAPI) -> None:
    with TestClient(app):
        pass


def test_an_unknown_strategy_in_a_parameter_fails_startup_naming_the_endpoint() -> None:
    app = new_app()

    @app.get("/items")
    async def items(user: Any = Depends(authenticate("locale"))) -> None:
        return None  # pragma: no cover

    with pytest.raises(ConfigurationError, match=re.escape(UNKNOWN)) as raised:
        start(app)
    assert ".items: no strategy is registered as 'locale'" in str(raised.value)


def test_an_unknown_strategy_in_a_nested_dependency_fails_startup() -> None:
    app = new_app()

    def owner(user: Any = Security(authenticate("locale"), scopes=["x"])) -> Any:
        return user  # pragma: no cover

    @app.get("/items")
    async def items(who: Any = Depends(owner)) -> None:
        return None  # pragma: no cover

    with pytest.raises(ConfigurationError, match="authenticate\\('locale'\\)"):
        start(app)


def test_an_unknown_strategy_in_router_dependencies_fails_startup() -> None:
    app = new_app()
    router = APIRouter(dependencies=[Depends(authorize("locale"))])

    @router.get("/items")
    async def items() -> None:
        return None  # pragma: no cover

    app.include_router(router)
    with pytest.raises(ConfigurationError, match="authorize\\('locale'\\)"):
        start(app)


def test_an_unknown_strategy_in_include_router_dependencies_fails_startup() -> None:
    app = new_app()
    router = APIRouter()

    @router.get("/items")
    async def items() -> None:
        return None  # pragma: no cover

    app.include_router(router, dependencies=[Depends(authenticate("locale"))])
    with pytest.raises(ConfigurationError, match="authenticate\\('locale'\\)"):
        start(app)


def test_an_unknown_strategy_in_app_dependencies_fails_startup() -> None:
    app = new_app(dependencies=[Depends(authenticate(["bearer", "locale"]))])

    @app.get("/items")
    async def items() -> None:
        return None  # pragma: no cover

    with pytest.raises(ConfigurationError, match="no strategy is registered as 'locale'"):
        start(app)


def test_without_a_lifespan_the_first_request_raises_the_problem() -> None:
    app = new_app()

    @app.get("/items")
    async def items(user: Any = Depends(authenticate("locale"))) -> None:
        return None  # pragma: no cover

    with pytest.raises(ConfigurationError, match="no strategy is registered as 'locale'"):
        TestClient(app).get("/items")


def passport_without_serializers() -> Authenticator[Any]:
    passport = make_passport()
    bare: Authenticator[Any] = Authenticator()
    for name, strategy in passport.strategies.items():
        bare.use(strategy, name)
    return bare


def test_a_session_login_dependency_needs_the_serializers() -> None:
    app = new_app(passport_without_serializers())

    @app.post("/login")
    async def log_in(user: Any = Depends(authenticate("local"))) -> None:
        return None  # pragma: no cover

    with pytest.raises(ConfigurationError, match=r"add @passport\.serialize_user and"):
        start(app)


def test_login_required_needs_the_serializers() -> None:
    app = new_app(passport_without_serializers())

    @app.get("/me")
    async def me(user: Any = Depends(login_required)) -> None:
        return None  # pragma: no cover

    with pytest.raises(
        ConfigurationError, match=r"login_required on .*\.me uses the login session"
    ):
        start(app)


def test_stateless_dependencies_need_no_serializers() -> None:
    app = new_app(passport_without_serializers())

    @app.get("/items")
    async def items(user: Any = Depends(authenticate("bearer", session=False))) -> str:
        return str(user.username)

    with TestClient(app) as web:
        assert web.get("/items", headers={"Authorization": "Bearer read-token"}).json() == "alice"


def test_uvicorn_exits_non_zero_printing_the_unknown_strategy() -> None:
    finished = subprocess.run(
        uvicorn_command("fastapi_apps:misspelt_dependency"),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        cwd=TESTS.parent,
        check=False,
    )
    assert finished.returncode != 0
    assert "authenticate('locale') on fastapi_apps." in finished.stderr
    assert "no strategy is registered as 'locale'" in finished.stderr
    assert "Uvicorn running on" not in finished.stderr
