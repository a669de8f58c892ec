"""Real FastAPI apps wired through passport_py's FastAPI adapter, for the tests.

`make_passport()` registers the local strategy (alice / bob from `users`), a bearer strategy
whose tokens grant scopes (`TOKENS`), an API key strategy and `JarStrategy`, which sets a
cookie on every answer and describes no OpenAPI scheme. The bearer and API key strategies here
declare their own `openapi_scheme()`, as any custom strategy can. `new_app()` is a FastAPI
app with the session middleware outside `PassportMiddleware`; `create_app()` is the factory
uvicorn serves.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Security
from pydantic import BaseModel
from starlette.middleware.sessions import SessionMiddleware
from users import User, UserStore, local_passport

from passport_py import Authenticator, Cookie, Verified
from passport_py.adapters.fastapi import (
    PassportMiddleware,
    authenticate,
    current_user,
    login_required,
)
from passport_py.options import AuthenticateOptions
from passport_py.outcomes import Outcome
from passport_py.request import AuthRequest
from passport_py.strategies.apikey import ApiKeyStrategy
from passport_py.strategies.bearer import BearerStrategy
from passport_py.strategy import Strategy

SECRET = "fastapi-tests-secret-key-5c2e8a1f9b7d"
SESSION_COOKIE = "sid"

#: token -> (user id, the `scope` of its auth info)
TOKENS: dict[str, tuple[int, Any]] = {
    "read-token": (1, "items:read"),
    "all-token": (1, ["items:read", "items:write"]),
    "plain-token": (2, None),
}
API_KEYS = {"bob-key": 2}
BEARER_SCHEME = {"type": "http", "scheme": "bearer"}
APIKEY_SCHEME = {"type": "apiKey", "in": "header", "name": "X-API-Key"}


class DocumentedBearer(BearerStrategy):
    """A bearer strategy that describes its OpenAPI security scheme."""

    def openapi_scheme(self) -> dict[str, Any]:
        return dict(BEARER_SCHEME)


class DocumentedApiKey(ApiKeyStrategy):
    """An API key strategy that describes its OpenAPI security scheme."""

    def openapi_scheme(self) -> dict[str, Any]:
        return dict(APIKEY_SCHEME)


class JarStrategy(Strategy):
    """`X-Jar: <username>` logs that user in; every answer sets the `jar` cookie. No scheme."""

    name = "jar"
    vary = ("X-Jar",)

    def __init__(self, store: UserStore) -> None:
        self.store = store

    def authenticate(self, request: AuthRequest, options: AuthenticateOptions) -> Outcome:
        who = request.headers.get("x-jar")
        user = self.store.by_name(who) if who else None
        if user is None:
            return self.fail('Jar realm="jars"', cookies=[Cookie("jar", "failed")])
        return self.success(user, {"scope": "jar"}, cookies=[Cookie("jar", "opened")])


def make_passport(store: UserStore | None = None) -> Authenticator[User]:
    """local, bearer (`TOKENS`), apikey (`API_KEYS`) and jar, over `store`."""
    store = store or UserStore.default()
    passport = local_passport(store)

    def verify_token(token: str) -> Verified[User] | None:
        found = TOKENS.get(token)
        if found is None:
            return None
        user_id, scope = found
        return Verified(store.users[user_id], {"scope": scope} if scope else {})

    passport.use(DocumentedBearer(verify_token))
    passport.use(DocumentedApiKey(lambda key: store.users.get(API_KEYS.get(key, 0))))
    passport.use(JarStrategy(store))
    return passport


def new_app(passport: Authenticator[Any] | None = None, **fastapi: Any) -> FastAPI:
    """A FastAPI app with Starlette's session middleware (cookie `SESSION_COOKIE`) outside
    `PassportMiddleware`, added the way FastAPI's docs add middleware."""
    app = FastAPI(**fastapi)
    app.add_middleware(PassportMiddleware, passport=passport or make_passport())
    app.add_middleware(SessionMiddleware, secret_key=SECRET, session_cookie=SESSION_COOKIE)
    return app


class Item(BaseModel):
    """An item, as an endpoint's Pydantic model."""

    id: int
    owner: str


def create_app() -> FastAPI:
    """The app uvicorn serves: a form login, a session page, scoped items under a router."""
    app = new_app()

    @app.post("/login")
    async def log_in(user: User = Depends(authenticate("local"))) -> dict[str, str]:
        return {"logged_in": user.username}

    @app.get("/me")
    def me(user: User = Depends(login_required)) -> dict[str, str]:
        return {"username": user.username}

    @app.get("/maybe")
    async def maybe(user: User | None = Depends(current_user)) -> dict[str, Any]:
        return {"username": user.username if user else None}

    items = APIRouter(prefix="/items")
    reader = authenticate(["bearer", "apikey"], session=False)

    @items.get("/{item_id}")
    async def read_item(item_id: int, user: User = Security(reader, scopes=["items:read"])) -> Item:
        return Item(id=item_id, owner=user.username)

    app.include_router(items)
    return app


def misspelt_dependency() -> FastAPI:
    """An app whose dependency names a strategy nobody registered ("locale")."""
    app = new_app()

    @app.get("/items")
    async def items(user: User = Depends(authenticate("locale"))) -> list[str]:
        return []  # pragma: no cover - the app never starts

    return app
