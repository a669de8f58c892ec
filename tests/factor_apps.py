"""Second-factor strategies driven without the engine's pending logins (not merged yet).

`second_factor_app` is a real Starlette app with signed-cookie sessions: `POST /login` stands
in for a first factor (it records the user waiting for a second one in the session), and
`POST /second-factor/{name}` builds `options.subject` from the session itself and calls the
registered strategy, as the engine will.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from passport_py import Authenticator, Fail, Success
from passport_py._async import maybe_await
from passport_py.adapters.starlette import StarletteAuthRequest
from passport_py.options import AuthenticateOptions, Subject
from passport_py.outcomes import Outcome

SECRET_KEY = "test-secret-key-of-at-least-32-bytes!"


class FrozenClock:
    """A clock the test moves by hand (`clock.now = ...`)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def subject_options(user: Any, serialized: Any = None) -> AuthenticateOptions:
    """Options as the engine will pass them to a second factor for a pending login of `user`."""
    return AuthenticateOptions().replace(
        subject=Subject(user, serialized if serialized is not None else user, pending=True)
    )


def outcome_response(outcome: Outcome) -> Response:
    """A JSON answer for a strategy's outcome: the user on success, the challenge on failure."""
    if isinstance(outcome, Success):
        return JSONResponse({"user": outcome.user})
    assert isinstance(outcome, Fail), outcome
    return JSONResponse({"challenge": outcome.challenge}, outcome.status or 401)


def second_factor_app(
    passport: Authenticator[Any],
    users: Callable[[str], Any],
    routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """The app; `users(name)` loads a user (None when unknown), `routes` are the test's own."""

    async def first_factor(request: Request) -> Response:
        form = await request.form()
        request.session.clear()
        request.session["pending"] = str(form["username"])
        return JSONResponse({"pending": request.session["pending"]})

    async def second_factor(request: Request) -> Response:
        name = request.session.get("pending")
        user = users(name) if name is not None else None
        options = AuthenticateOptions()
        if user is not None:
            options = subject_options(user, name)
        strategy = passport.strategy(request.path_params["name"])
        outcome = await maybe_await(strategy.authenticate(StarletteAuthRequest(request), options))
        if isinstance(outcome, Success):
            request.session.clear()
            request.session["user"] = name
        return outcome_response(outcome)

    return Starlette(
        routes=[
            Route("/login", first_factor, methods=["POST"]),
            Route("/second-factor/{name}", second_factor, methods=["POST"]),
            *routes,
        ],
        middleware=[Middleware(SessionMiddleware, secret_key=SECRET_KEY)],
    )
