"""Sessions per device through real apps: Starlette, FastAPI and Flask, each over MemoryStore
and the real Redis, with several browsers logged in as alice (each its own User-Agent) and one
as bob. The adapters' `user_sessions`, `end_session` and `end_other_sessions`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio.to_thread
import flask
import httpx
import pytest
from app_servers import uvicorn_server, werkzeug_server
from fastapi import Body, Depends, FastAPI
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware as CookieSessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from users import PASSWORD, UserStore, local_passport

from passport_py import Authenticator, ConfigurationError
from passport_py.adapters import fastapi as fa
from passport_py.adapters import flask as fl
from passport_py.adapters import starlette as st
from passport_py.events import SessionEnded
from passport_py.sessions import (
    NotLoggedIn,
    SessionMiddleware,
    SessionStore,
    UserSession,
    session_handle,
)
from passport_py.sessions.devices import is_handle

SECRET = "sessions-per-device-tests-secret-7c1e9a3f5b"
FRAMEWORKS = ["starlette", "fastapi", "flask"]


def listed(sessions: list[UserSession]) -> list[dict[str, Any]]:
    return [
        {
            "handle": s.handle,
            "created": s.created.isoformat() if s.created else None,
            "last_seen": s.last_seen.isoformat() if s.last_seen else None,
            "ip": s.client_ip,
            "ua": s.user_agent,
            "current": s.current,
        }
        for s in sessions
    ]


class Hold:
    """Holds a `/note` request after it changed its session, until the test releases it."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()

    def wait(self) -> None:
        self.started.set()
        assert self.release.wait(5)


# -- the apps ---------------------------------------------------------------------------------


def starlette_app(passport: Authenticator[Any], store: SessionStore, hold: Hold) -> Starlette:
    @st.authenticate("local")
    async def login(request: Request) -> Response:
        return JSONResponse({"user": request.user.username})

    async def whoami(request: Request) -> Response:
        user = request.user.username if st.is_authenticated(request) else None
        return JSONResponse({"user": user})

    async def sessions(request: Request) -> Response:
        return JSONResponse(listed(await st.user_sessions(request)))

    async def end(request: Request) -> Response:
        handle = (await request.json()).get("handle")
        if not is_handle(handle):
            return JSONResponse({"error": "not a session handle"}, 400)
        if not await st.end_session(request, handle):
            return JSONResponse({"error": "no such session"}, 404)
        return JSONResponse({"ended": True})

    async def end_others(request: Request) -> Response:
        return JSONResponse({"ended": await st.end_other_sessions(request)})

    async def note(request: Request) -> Response:
        request.session["note"] = "written while its session was ended"
        await anyio.to_thread.run_sync(hold.wait)
        return JSONResponse({"noted": True})

    return Starlette(
        routes=[
            Route("/login", login, methods=["POST"]),
            Route("/whoami", whoami),
            Route("/sessions", sessions),
            Route("/sessions/end", end, methods=["POST"]),
            Route("/sessions/end-others", end_others, methods=["POST"]),
            Route("/note", note, methods=["POST"]),
        ],
        middleware=[
            Middleware(SessionMiddleware, secret_key=SECRET, store=store),
            Middleware(st.PassportMiddleware, passport=passport),
        ],
    )


def fastapi_app(passport: Authenticator[Any], store: SessionStore, hold: Hold) -> FastAPI:
    app = FastAPI()

    @app.post("/login")
    async def login(user: Any = Depends(fa.authenticate("local"))) -> dict[str, Any]:
        return {"user": user.username}

    @app.get("/whoami")
    async def whoami(user: Any = Depends(fa.current_user)) -> dict[str, Any]:
        return {"user": user.username if user else None}

    @app.get("/sessions", dependencies=[Depends(fa.login_required)])
    async def sessions(request: Request) -> list[dict[str, Any]]:
        return listed(await fa.user_sessions(request))

    @app.post("/sessions/end", dependencies=[Depends(fa.login_required)])
    async def end(request: Request, handle: str = Body(embed=True)) -> Response:
        if not is_handle(handle):
            return JSONResponse({"error": "not a session handle"}, 400)
        if not await fa.end_session(request, handle):
            return JSONResponse({"error": "no such session"}, 404)
        return JSONResponse({"ended": True})

    @app.post("/sessions/end-others", dependencies=[Depends(fa.login_required)])
    async def end_others(request: Request) -> dict[str, int]:
        return {"ended": await fa.end_other_sessions(request)}

    @app.post("/note")
    async def note(request: Request) -> dict[str, bool]:
        request.session["note"] = "written while its session was ended"
        await anyio.to_thread.run_sync(hold.wait)
        return {"noted": True}

    app.add_middleware(fa.PassportMiddleware, passport=passport)
    app.add_middleware(SessionMiddleware, secret_key=SECRET, store=store)
    return app


def flask_app(passport: Authenticator[Any], store: SessionStore, hold: Hold) -> flask.Flask:
    app = flask.Flask(__name__)
    app.secret_key = SECRET
    app.testing = True  # an error raised in a view reaches the test, as the ASGI client's do
    app.session_interface = fl.ServerSideSessionInterface(store)
    fl.FlaskPassport(app, passport)

    @app.post("/login")
    @fl.authenticate("local")
    def login() -> Any:
        return {"user": fl.current_user.username}

    @app.get("/whoami")
    def whoami() -> Any:
        return {"user": fl.current_user.username if fl.is_authenticated() else None}

    @app.get("/sessions")
    def sessions() -> Any:
        return listed(fl.user_sessions())

    @app.post("/sessions/end")
    def end() -> Any:
        handle = (flask.request.get_json(silent=True) or {}).get("handle")
        if not is_handle(handle):
            return {"error": "not a session handle"}, 400
        if not fl.end_session(handle):
            return {"error": "no such session"}, 404
        return {"ended": True}

    @app.post("/sessions/end-others")
    def end_others() -> Any:
        return {"ended": fl.end_other_sessions()}

    @app.post("/note")
    def note() -> Any:
        flask.session["note"] = "written while its session was ended"
        hold.wait()
        return {"noted": True}

    return app


# -- browsers ---------------------------------------------------------------------------------


class Browser:
    """One browser (its own cookies and User-Agent) on the app; answers (status, JSON)."""

    def __init__(self, app: Any, agent: str) -> None:
        if isinstance(app, flask.Flask):
            self._flask = app.test_client()
            self._flask.environ_base["HTTP_USER_AGENT"] = agent
        else:
            self._asgi = TestClient(app, headers={"User-Agent": agent}).__enter__()
        self.is_flask = isinstance(app, flask.Flask)

    def get(self, path: str) -> tuple[int, Any]:
        if self.is_flask:
            response = self._flask.get(path)
            return response.status_code, response.get_json()
        answer = self._asgi.get(path)
        return answer.status_code, answer.json()

    def post(self, path: str, **kwargs: Any) -> tuple[int, Any]:
        if self.is_flask:
            response = self._flask.post(path, **kwargs)
            return response.status_code, response.get_json()
        answer = self._asgi.post(path, **kwargs)
        return answer.status_code, answer.json()

    def log_in(self, username: str = "alice") -> None:
        password = PASSWORD if username == "alice" else "builder"
        assert self.post("/login", data={"username": username, "password": password}) == (
            200,
            {"user": username},
        )

    def user(self) -> str | None:
        status, body = self.get("/whoami")
        assert status == 200
        return body["user"]  # type: ignore[no-any-return]

    def close(self) -> None:
        if not self.is_flask:
            self._asgi.__exit__(None, None, None)


class Site:
    def __init__(self, framework: str, store: SessionStore) -> None:
        self.passport = local_passport(UserStore.default())
        self.ended: list[SessionEnded] = []
        self.passport.events.on(SessionEnded, self.ended.append)
        self.hold = Hold()
        build = {"starlette": starlette_app, "fastapi": fastapi_app, "flask": flask_app}
        self.app = build[framework](self.passport, store, self.hold)
        self.store = store
        self.browsers: list[Browser] = []

    def browser(self, agent: str, username: str | None = "alice") -> Browser:
        browser = Browser(self.app, agent)
        self.browsers.append(browser)
        if username is not None:
            browser.log_in(username)
        return browser


@pytest.fixture(params=FRAMEWORKS)
def site(request: pytest.FixtureRequest, store: SessionStore) -> Iterator[Site]:
    made = Site(request.param, store)
    yield made
    for browser in made.browsers:
        browser.close()


@pytest.fixture
def alice(site: Site) -> tuple[Browser, Browser, Browser, Browser]:
    """alice on a laptop, a phone and a tablet; bob on his own laptop."""
    return (
        site.browser("Laptop Firefox"),
        site.browser("Phone Safari"),
        site.browser("Tablet Chrome"),
        site.browser("Bob's browser", "bob"),
    )


def sessions_of(browser: Browser) -> list[dict[str, Any]]:
    status, body = browser.get("/sessions")
    assert status == 200
    return body  # type: ignore[no-any-return]


def handle_of(browser: Browser, agent: str) -> str:
    (found,) = [s["handle"] for s in sessions_of(browser) if s["ua"] == agent]
    return found  # type: ignore[no-any-return]


# -- the tests --------------------------------------------------------------------------------


def test_the_list_shows_each_of_the_users_sessions_and_marks_this_one(
    site: Site, alice: tuple[Browser, ...]
) -> None:
    laptop = alice[0]
    shown = sessions_of(laptop)
    assert sorted(s["ua"] for s in shown) == ["Laptop Firefox", "Phone Safari", "Tablet Chrome"]
    assert [s["ua"] for s in shown if s["current"]] == ["Laptop Firefox"]
    for each in shown:
        assert is_handle(each["handle"])
        assert each["created"] and each["last_seen"]
        assert each["ip"] in ("testclient", "127.0.0.1")
    assert [s["ua"] for s in sessions_of(alice[3])] == ["Bob's browser"]


def test_ending_one_session_makes_that_browser_anonymous_and_no_other(
    site: Site, alice: tuple[Browser, ...]
) -> None:
    laptop, phone, tablet, bob = alice
    handle = handle_of(laptop, "Phone Safari")
    assert laptop.post("/sessions/end", json={"handle": handle}) == (200, {"ended": True})
    assert phone.user() is None
    assert (laptop.user(), tablet.user(), bob.user()) == ("alice", "alice", "bob")
    assert handle not in [s["handle"] for s in sessions_of(laptop)]
    assert [(e.user_id, e.by, e.count) for e in site.ended] == [(1, "ended_by_user", 1)]


def test_a_handle_of_another_users_session_is_refused_and_it_survives(
    site: Site, alice: tuple[Browser, ...]
) -> None:
    laptop, bob = alice[0], alice[3]
    bobs = handle_of(bob, "Bob's browser")
    assert laptop.post("/sessions/end", json={"handle": bobs})[0] == 404
    assert bob.user() == "bob"
    assert site.ended == []


@pytest.mark.parametrize("handle", ["x" * 5000, "short", "not/a+handle==========", 42, None])
def test_a_malformed_handle_answers_400(
    site: Site, alice: tuple[Browser, ...], handle: Any
) -> None:
    status, _ = alice[0].post("/sessions/end", json={"handle": handle})
    assert status in (400, 422)  # FastAPI's own validation answers 422 for a non-string
    assert alice[1].user() == "alice"


def test_ending_the_other_sessions_keeps_only_this_one(
    site: Site, alice: tuple[Browser, ...]
) -> None:
    laptop, phone, tablet, bob = alice
    assert laptop.post("/sessions/end-others") == (200, {"ended": 2})
    assert (phone.user(), tablet.user(), laptop.user(), bob.user()) == (None, None, "alice", "bob")
    assert [s["current"] for s in sessions_of(laptop)] == [True]
    assert laptop.post("/sessions/end-others") == (200, {"ended": 0})
    assert [(e.by, e.count) for e in site.ended] == [("ended_by_user", 2)]


def test_the_current_session_cannot_be_ended_by_its_handle(
    site: Site, alice: tuple[Browser, ...]
) -> None:
    laptop = alice[0]
    assert (
        laptop.post("/sessions/end", json={"handle": handle_of(laptop, "Laptop Firefox")})[0] == 404
    )
    assert laptop.user() == "alice"


def test_nobody_logged_in_is_an_error_the_route_guard_prevents(site: Site) -> None:
    anonymous = site.browser("Someone", None)
    if isinstance(site.app, FastAPI):  # login_required answers first
        assert anonymous.get("/sessions")[0] == 401
        return
    with pytest.raises(NotLoggedIn, match="login_required"):
        anonymous.get("/sessions")


# -- cookie sessions: no list possible ----------------------------------------------------------


def test_starlette_cookie_sessions_name_the_fix() -> None:
    async def sessions(request: Request) -> Response:
        return JSONResponse(listed(await st.user_sessions(request)))

    app = Starlette(
        routes=[Route("/sessions", sessions)],
        middleware=[
            Middleware(CookieSessionMiddleware, secret_key=SECRET),
            Middleware(st.PassportMiddleware, passport=local_passport(UserStore.default())),
        ],
    )
    fix = r"passport_py\.sessions\.SessionMiddleware"
    with TestClient(app) as client, pytest.raises(ConfigurationError, match=fix):
        client.get("/sessions")


def test_flask_cookie_sessions_name_the_fix() -> None:
    app = flask.Flask(__name__)
    app.secret_key = SECRET
    app.testing = True
    fl.FlaskPassport(app, local_passport(UserStore.default()))
    app.add_url_rule("/sessions", "sessions", lambda: listed(fl.user_sessions()))
    with pytest.raises(ConfigurationError, match="ServerSideSessionInterface"):
        app.test_client().get("/sessions")


def test_handles_never_show_the_session_id() -> None:
    handle = session_handle("a-session-id")
    assert is_handle(handle) and "a-session-id" not in handle


# -- a real server: the in-flight request over the network ----------------------------------


def test_a_real_servers_request_in_flight_does_not_bring_its_session_back(site: Site) -> None:
    serve = werkzeug_server if isinstance(site.app, flask.Flask) else uvicorn_server
    alice = {"username": "alice", "password": PASSWORD}
    with (
        serve(site.app) as base,
        httpx.Client(base_url=base, headers={"User-Agent": "Laptop"}) as laptop,
        httpx.Client(base_url=base, headers={"User-Agent": "Phone"}) as phone,
        ThreadPoolExecutor(1) as pool,
    ):
        for client in (laptop, phone):
            assert client.post("/login", data=alice).status_code == 200
        (handle,) = [s["handle"] for s in laptop.get("/sessions").json() if not s["current"]]
        in_flight = pool.submit(phone.post, "/note")
        assert site.hold.started.wait(5)
        assert laptop.post("/sessions/end", json={"handle": handle}).json() == {"ended": True}
        site.hold.release.set()
        assert in_flight.result(timeout=5).json() == {"noted": True}
        assert phone.get("/whoami").json() == {"user": None}
        assert [s["current"] for s in laptop.get("/sessions").json()] == [True]
