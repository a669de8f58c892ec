"""Security reference P0 23, 25 and 17: identities never cross requests, secrets never reach
the logs, and a failed login does not tell which accounts exist."""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from passport_py import Authenticator
from passport_py.adapters.starlette import PassportMiddleware, authenticate, login_required
from passport_py.adapters.starlette.middleware import ANONYMOUS
from passport_py.demo.app import DEMO_USERS, build_app
from passport_py.strategies.local import LocalStrategy

USERS = {f"user{n}": f"password-{n}" for n in range(200)}


_LEAKY_HOLDER: dict[str, str] = {}


def isolation_app(*, leaky: bool = False) -> Starlette:
    """`leaky=True` keeps the current user in a module global on purpose (the control)."""
    passport: Authenticator[str] = Authenticator()

    async def verify(name: str, password: str) -> str | None:
        await asyncio.sleep(random.random() * 0.002)
        return name if USERS.get(name) == password else None

    passport.use(LocalStrategy(verify))
    passport.serialize_user(lambda name: name)

    @passport.deserialize_user
    async def deserialize(name: str) -> str | None:
        # Interleave the tasks inside the window where a shared holder would leak.
        _LEAKY_HOLDER["user"] = name
        await asyncio.sleep(random.random() * 0.003)
        return name if name in USERS else None

    def current_user(request: Request) -> Any:
        return _LEAKY_HOLDER["user"] if leaky else request.user

    @authenticate("local")
    async def login(request: Request) -> Response:
        return RedirectResponse("/whoami", 303)

    @login_required
    async def whoami(request: Request) -> Response:
        await asyncio.sleep(random.random() * 0.002)
        return JSONResponse({"user": current_user(request), "req": request.headers["x-req-id"]})

    @login_required
    def whoami_sync(request: Request) -> Response:  # runs in Starlette's thread pool
        return JSONResponse({"user": current_user(request), "req": request.headers["x-req-id"]})

    return Starlette(
        routes=[
            Route("/login", login, methods=["POST"]),
            Route("/whoami", whoami),
            Route("/whoami-sync", whoami_sync),
        ],
        middleware=[
            Middleware(SessionMiddleware, secret_key="isolation-test-secret-key-0123456789"),
            Middleware(PassportMiddleware, passport=passport),
        ],
    )


def run_mixed_requests(app: Starlette) -> list[tuple[str, dict[str, Any]]]:
    """Log the 200 users in, then send 2000 interleaved requests; (user, answer) pairs."""

    async def scenario() -> list[tuple[str, dict[str, Any]]]:
        transport = httpx.ASGITransport(app=app)
        clients: dict[str, httpx.AsyncClient] = {}
        for name, password in USERS.items():
            client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
            response = await client.post("/login", data={"username": name, "password": password})
            assert response.status_code == 303, (name, response.status_code)
            clients[name] = client

        async def ask(n: int) -> tuple[str, dict[str, Any]]:
            name = f"user{n % len(USERS)}"
            path = "/whoami" if n % 3 else "/whoami-sync"
            response = await clients[name].get(path, headers={"x-req-id": str(n)})
            return name, {"status": response.status_code, **response.json()}

        try:
            return await asyncio.gather(*(ask(n) for n in range(2000)))
        finally:
            for client in clients.values():
                await client.aclose()

    return asyncio.run(scenario())


def test_concurrent_requests_of_200_users_never_see_each_other() -> None:
    """P0-23 (R2): 2000 interleaved requests, async and sync endpoints, zero mismatches."""
    results = run_mixed_requests(isolation_app())
    mismatches = [(name, seen) for name, seen in results if seen["user"] != name]
    assert len(results) == 2000
    assert mismatches == []
    assert {seen["status"] for _, seen in results} == {200}
    assert sorted(int(seen["req"]) for _, seen in results) == list(range(2000))


def test_the_isolation_check_catches_a_user_kept_in_a_global() -> None:
    """The control for the test above: a module-global holder must show mismatches."""
    results = run_mixed_requests(isolation_app(leaky=True))
    assert any(seen["user"] != name for name, seen in results)


@pytest.mark.parametrize("password", ["wonderland", "a-wrong-guess"])
def test_no_log_record_holds_a_password_or_the_session_cookie(
    caplog: pytest.LogCaptureFixture, password: str
) -> None:
    """P0-25: a login, a logged-in page and a logout, all logged at DEBUG, leak nothing."""
    caplog.set_level(logging.DEBUG)
    client = TestClient(build_app("log-test-secret-key-0123456789abcdef"), follow_redirects=False)
    client.post("/login", data={"username": "alice", "password": password})
    client.get("/secret")
    cookie = client.cookies.get("session") or "no-cookie-was-set"
    client.post("/logout")
    logged = "\n".join(
        f"{record.getMessage()} {record.args!r} {record.exc_text or ''}"
        for record in caplog.records
    )
    assert password not in logged
    assert cookie not in logged


def test_unknown_user_and_wrong_password_look_the_same() -> None:
    """P0-17: the demo answers both failures with the same status, headers and page."""
    answers = []
    for name in ("alice", "nobody-by-this-name"):
        client = TestClient(build_app("enum-test-secret-key-0123456789abcdef"))
        response = client.post(
            "/login", data={"username": name, "password": "wrong"}, follow_redirects=False
        )
        page = client.get(response.headers["location"])
        headers = {k: v for k, v in response.headers.items() if k != "set-cookie"}
        answers.append((response.status_code, headers, page.text))
    # Equal pages also mean the typed name is not echoed (the login page lists the demo users).
    assert answers[0] == answers[1]
    assert set(DEMO_USERS) >= {"alice"}


def test_the_anonymous_user_cannot_carry_data_from_one_request_to_another() -> None:
    with pytest.raises(AttributeError, match="per-request data"):
        ANONYMOUS.tenant = "acme"  # type: ignore[attr-defined]
    assert not hasattr(ANONYMOUS, "tenant")
