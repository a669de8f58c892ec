"""FastAPI rows 14 to 16: our dependencies against the ways FastAPI apps authenticate today.

Every variant is a `FastAPI()` app serving `GET /me` that answers `{"hello": "alice"}` (a dict,
serialized by FastAPI), called in-process as the Starlette rows are.

- Row 14, a JWT-protected API: ours is `Depends(authenticate("jwt", session=False))` with a
  `JwtStrategy` (HS256, exact issuer and audience, verify looks the user up by `sub`); the
  baseline is FastAPI's security tutorial: an `HTTPBearer()` dependency, then
  `jwt.decode(token, key, algorithms=["HS256"], audience=..., issuer=...)` and the same lookup
  in a dependency of its own, answering 401 when either fails. Both get the same token.
- Row 15, a session-logged-in page: ours is `SessionMiddleware` + `PassportMiddleware` and
  `Depends(login_required)`; the baseline is Starlette's `SessionMiddleware` +
  `AuthenticationMiddleware` (row 1's backend) and `@requires("authenticated")`, on the same
  kind of app. Both carry row 1's session cookie. Two information rows take ours apart: the
  same app with a dependency that only returns `request.scope["user"]` (what FastAPI's
  dependency machinery costs, whatever the dependency does), and with the Starlette adapter's
  `@login_required` decorator in place of the dependency.
- Row 16, the same JWT API against fastapi-users' JWT backend (`BearerTransport` +
  `JWTStrategy`, `fastapi_users.current_user(active=True)`), set up as its documentation
  shows, with an in-memory user database of our own in place of SQLAlchemy's. Its strategy
  checks the audience but not the issuer; its token carries the same claims.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

import jwt
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi_users import BaseUserManager, FastAPIUsers
from fastapi_users.authentication import AuthenticationBackend, BearerTransport, JWTStrategy
from fastapi_users.db import BaseUserDatabase
from starlette.authentication import requires
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import Scope

from passport_py import Authenticator
from passport_py.adapters.fastapi import PassportMiddleware, authenticate, login_required
from passport_py.adapters.starlette import login_required as starlette_login_required
from passport_py.strategies.jwt import JwtStrategy

from . import apps
from .asgi import asgi_variant, get_scope
from .timing import Variant

ISSUER = "https://idp.example"
AUDIENCE = "https://api.example"
SECRET = "benchmark-fastapi-secret-of-32-bytes"
#: What every variant answers, as FastAPI serializes `{"hello": "alice"}`.
HELLO_ALICE = b'{"hello":"alice"}'
_BY_NAME = {user.username: user for user in apps.USERS.values()}


def token(now: int | None = None) -> str:
    """An HS256 token for alice, valid for a day, with the claims every JWT variant checks."""
    now = int(time.time()) if now is None else now
    claims = {"sub": "alice", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 86400}
    return jwt.encode(claims, SECRET, "HS256")


def bearer_scope(path: str, bearer: str) -> Scope:
    """A GET scope carrying `Authorization: Bearer <bearer>`, as an API client sends it."""
    scope = get_scope(path)
    headers = [(b"accept", b"application/json"), (b"authorization", f"Bearer {bearer}".encode())]
    return {**scope, "headers": [h for h in scope["headers"] if h[0] != b"accept"] + headers}


def _lookup(claims: dict[str, Any]) -> apps.User | None:
    return _BY_NAME.get(claims["sub"])


# -- row 14: Depends(authenticate("jwt", session=False)) against the security tutorial ---------


#: Ours, the way our docs write it: the dependency once, as an `Annotated` alias.
JwtUser = Annotated[apps.User, Depends(authenticate("jwt", session=False))]


def passport_jwt_app() -> FastAPI:
    """Ours: a `JwtStrategy` behind `Depends(authenticate("jwt", session=False))`."""
    passport: Authenticator[apps.User] = Authenticator()
    passport.use(
        JwtStrategy(_lookup, algorithms=["HS256"], key=SECRET, issuer=ISSUER, audience=AUDIENCE)
    )
    app = FastAPI(middleware=[Middleware(PassportMiddleware, passport=passport)])

    @app.get("/me")
    async def me(user: JwtUser) -> dict[str, str]:
        return {"hello": user.username}

    return app


_bearer = HTTPBearer()


async def tutorial_current_user(
    credentials: Annotated[HTTPAuthorizationCredentials, Depends(_bearer)],
) -> apps.User:
    """The security tutorial's dependency: decode the bearer token, look the user up."""
    unauthorized = HTTPException(
        status_code=401,
        detail="Could not validate credentials",
        headers={"WWW-Authenticate": "Bearer"},
    )
    try:
        claims = jwt.decode(
            credentials.credentials,
            SECRET,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
        )
    except jwt.InvalidTokenError:
        raise unauthorized from None
    user = _lookup(claims)
    if user is None:
        raise unauthorized
    return user


def tutorial_jwt_app() -> FastAPI:
    """The baseline: FastAPI's security tutorial with `HTTPBearer` in place of the password
    flow's `OAuth2PasswordBearer` (the same header, read the same way)."""
    app = FastAPI()

    @app.get("/me")
    async def me(user: Annotated[apps.User, Depends(tutorial_current_user)]) -> dict[str, str]:
        return {"hello": user.username}

    return app


# -- row 15: Depends(login_required) against @requires("authenticated") ----------------------


def passport_session_app() -> FastAPI:
    """Ours: `SessionMiddleware` + `PassportMiddleware`, the user from `Depends(login_required)`."""
    app = FastAPI(
        middleware=[
            Middleware(SessionMiddleware, secret_key=apps.SECRET),
            Middleware(PassportMiddleware, passport=apps.make_passport()),
        ]
    )

    @app.get("/me")
    async def me(user: Annotated[apps.User, Depends(login_required)]) -> dict[str, str]:
        return {"hello": user.username}

    return app


async def scope_user(request: Request) -> Any:
    """The least a dependency can do: return what the middleware put in the scope."""
    return request.scope["user"]


def bare_dependency_app() -> FastAPI:
    """Information: ours with `Depends(scope_user)` in place of `login_required`: what any
    dependency costs in FastAPI, whatever it does."""
    app = FastAPI(
        middleware=[
            Middleware(SessionMiddleware, secret_key=apps.SECRET),
            Middleware(PassportMiddleware, passport=apps.make_passport()),
        ]
    )

    @app.get("/me")
    async def me(user: Annotated[apps.User, Depends(scope_user)]) -> dict[str, str]:
        return {"hello": user.username}

    return app


def decorator_session_app() -> FastAPI:
    """Information: ours with the Starlette adapter's `@login_required` decorator in place of
    the dependency, the endpoint taking `request` as `@requires` needs it to."""
    app = FastAPI(
        middleware=[
            Middleware(SessionMiddleware, secret_key=apps.SECRET),
            Middleware(PassportMiddleware, passport=apps.make_passport()),
        ]
    )

    @app.get("/me")
    @starlette_login_required
    async def me(request: Request) -> dict[str, str]:
        return {"hello": request.user.display_name}

    return app


def requires_session_app() -> FastAPI:
    """The baseline: Starlette's `SessionMiddleware` + `AuthenticationMiddleware` (row 1's
    backend) and `@requires("authenticated")`, which needs the endpoint to take `request`."""
    app = FastAPI(
        middleware=[
            Middleware(SessionMiddleware, secret_key=apps.SECRET),
            Middleware(AuthenticationMiddleware, backend=apps.SessionUserBackend()),
        ]
    )

    @app.get("/me")
    @requires("authenticated")
    async def me(request: Request) -> dict[str, str]:
        return {"hello": request.user.display_name}

    return app


# -- row 16: fastapi-users' JWT backend -------------------------------------------------------


@dataclass
class FastAPIUsersUser:
    """The fields fastapi-users' `UserProtocol` asks for."""

    id: str
    email: str
    hashed_password: str = ""
    is_active: bool = True
    is_superuser: bool = False
    is_verified: bool = True


_FASTAPI_USERS = {name: FastAPIUsersUser(id=name, email=f"{name}@example.com") for name in _BY_NAME}


class InMemoryUserDatabase(BaseUserDatabase[FastAPIUsersUser, str]):
    """The one read `current_user` makes: the user by id (here the username, the token's `sub`)."""

    async def get(self, id: str) -> FastAPIUsersUser | None:
        return _FASTAPI_USERS.get(id)


class UserManager(BaseUserManager[FastAPIUsersUser, str]):
    reset_password_token_secret = SECRET
    verification_token_secret = SECRET

    def parse_id(self, value: Any) -> str:
        return str(value)


async def get_user_db() -> AsyncIterator[InMemoryUserDatabase]:
    yield InMemoryUserDatabase()


async def get_user_manager(
    user_db: Annotated[InMemoryUserDatabase, Depends(get_user_db)],
) -> AsyncIterator[UserManager]:
    yield UserManager(user_db)


def get_jwt_strategy() -> JWTStrategy[FastAPIUsersUser, str]:
    return JWTStrategy(secret=SECRET, lifetime_seconds=3600, token_audience=[AUDIENCE])


#: fastapi-users' JWT backend, as its documentation sets it up, at module level as there.
fastapi_users = FastAPIUsers[FastAPIUsersUser, str](
    get_user_manager,
    [
        AuthenticationBackend(
            name="jwt",
            transport=BearerTransport(tokenUrl="auth/jwt/login"),
            get_strategy=get_jwt_strategy,
        )
    ],
)
CurrentActiveUser = Annotated[FastAPIUsersUser, Depends(fastapi_users.current_user(active=True))]


def fastapi_users_app() -> FastAPI:
    """The endpoint behind fastapi-users' `current_user(active=True)`."""
    app = FastAPI()

    @app.get("/me")
    async def me(user: CurrentActiveUser) -> dict[str, str]:
        return {"hello": user.id}

    return app


# -- the variants ----------------------------------------------------------------------------


def fastapi_variants() -> dict[str, Variant]:
    """Rows 14 to 16's apps, each checked to answer alice's `{"hello": "alice"}`."""
    bearer = bearer_scope("/me", token())
    cookie = get_scope("/me", apps.session_cookie(apps.LOGGED_IN_SESSION))
    variants = {
        "fa_jwt_ours": asgi_variant(
            'FastAPI: Depends(authenticate("jwt"))', passport_jwt_app(), bearer
        ),
        "fa_jwt_tutorial": asgi_variant(
            "FastAPI: HTTPBearer + jwt.decode (tutorial)", tutorial_jwt_app(), bearer
        ),
        "fa_jwt_users": asgi_variant(
            "FastAPI: fastapi-users current_user (JWT)", fastapi_users_app(), bearer
        ),
        "fa_session_ours": asgi_variant(
            "FastAPI: Session + Passport, Depends(login_required)", passport_session_app(), cookie
        ),
        "fa_session_bare": asgi_variant(
            "  the same, Depends(a function returning the user)",
            bare_dependency_app(),
            cookie,
        ),
        "fa_session_decorator": asgi_variant(
            "  the same, Starlette's @login_required decorator",
            decorator_session_app(),
            cookie,
        ),
        "fa_session_stock": asgi_variant(
            "FastAPI: Session + AuthenticationMiddleware, @requires",
            requires_session_app(),
            cookie,
        ),
    }
    for variant in variants.values():
        status, headers, body = variant.call_once()
        if status != 200 or body != HELLO_ALICE or b"set-cookie" in headers:
            raise RuntimeError(f"{variant.name}: unexpected answer {status} {headers} {body!r}")
    return variants
