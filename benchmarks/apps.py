"""The apps under comparison: the same endpoints behind different middleware stacks."""

from __future__ import annotations

import json
import time
from base64 import b64encode
from dataclasses import dataclass

import itsdangerous
from starlette.applications import Starlette
from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    BaseUser,
    UnauthenticatedUser,
)
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from passport_py import Authenticator
from passport_py.adapters.starlette import PassportMiddleware

SECRET = "benchmark-secret-key-of-reasonable-length"
#: What a logged-in session holds, in both variants: alice's id, and (read by our stack
#: only) when she logged in and was last seen, as a login records them.
LOGGED_IN_SESSION = {"passport": {"user": 1, "at": int(time.time()), "seen": int(time.time())}}


@dataclass(frozen=True)
class User(BaseUser):
    """A user both stacks return (a Starlette `BaseUser`, so the stock stack accepts it)."""

    id: int
    username: str

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.username


USERS = {1: User(1, "alice"), 2: User(2, "bob")}


def session_cookie(session: dict[str, object], secret: str = SECRET) -> bytes:
    """A `session=` cookie value exactly as Starlette's `SessionMiddleware` signs it.

    A login entry gets the login and last-seen times of now, as a login records them: one
    without them is rewritten (a new cookie) on each use, like a login from before they were
    recorded.
    """
    entry = session.get("passport")
    if isinstance(entry, dict) and "at" not in entry:
        now = int(time.time())
        session = {**session, "passport": {**entry, "at": now, "seen": now}}
    data = b64encode(json.dumps(session).encode("utf-8"))
    return itsdangerous.TimestampSigner(secret).sign(data)


async def whoami(request: Request) -> Response:
    """The logged-in endpoint: reads `request.user` (both stacks set it)."""
    user = request.user
    name = user.username if isinstance(user, User) else "anonymous"
    return PlainTextResponse(f"hello {name}")


async def hello(request: Request) -> Response:
    """The anonymous endpoint: touches neither the user nor the session."""
    return PlainTextResponse("hello")


def _routes() -> list[Route]:
    return [Route("/me", whoami), Route("/", hello)]


def _session() -> Middleware:
    return Middleware(SessionMiddleware, secret_key=SECRET)


def make_passport() -> Authenticator[User]:
    """An `Authenticator` whose deserializer looks the id up in `USERS`."""
    passport: Authenticator[User] = Authenticator()
    passport.serialize_user(lambda user: user.id)
    passport.deserialize_user(USERS.get)
    return passport


def passport_app(*, cache_headers: bool = True) -> Starlette:
    """SessionMiddleware + PassportMiddleware (ours)."""
    passport = make_passport()
    return Starlette(
        routes=_routes(),
        middleware=[
            _session(),
            Middleware(PassportMiddleware, passport=passport, cache_headers=cache_headers),
        ],
    )


class SessionUserBackend(AuthenticationBackend):
    """Starlette's stock way: read the user id from the session, look the user up."""

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        data = conn.session.get("passport")  # marks the session read: `Vary: Cookie`
        if type(data) is dict:
            user = USERS.get(data.get("user"))  # type: ignore[arg-type]
            if user is not None:
                return AuthCredentials(["authenticated"]), user
        return AuthCredentials(), UnauthenticatedUser()


class UnmarkedSessionUserBackend(AuthenticationBackend):
    """The same, reading `scope["session"]` directly: no `Vary: Cookie` (information only)."""

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        data = conn.scope["session"].get("passport")
        if type(data) is dict:
            user = USERS.get(data.get("user"))
            if user is not None:
                return AuthCredentials(["authenticated"]), user
        return AuthCredentials(), UnauthenticatedUser()


def stock_auth_app(backend: AuthenticationBackend | None = None) -> Starlette:
    """SessionMiddleware + Starlette's AuthenticationMiddleware with `SessionUserBackend`."""
    return Starlette(
        routes=_routes(),
        middleware=[
            _session(),
            Middleware(AuthenticationMiddleware, backend=backend or SessionUserBackend()),
        ],
    )


def session_only_app() -> Starlette:
    """The plain app: SessionMiddleware only."""
    return Starlette(routes=_routes(), middleware=[_session()])


def bare_app() -> Starlette:
    """No middleware of ours or Starlette's optional ones (Starlette's own stack remains)."""
    return Starlette(routes=_routes())
