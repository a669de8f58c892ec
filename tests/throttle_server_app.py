"""A Starlette login app throttled through a `RedisThrottleStore`, for the server tests
(tests/test_throttle_servers.py).

Routes: `POST /login` (local strategy, JSON or form; `{"user": name}`) and
`GET /verify-calls?username=x` (how many times this process's verify ran for `x`).
`create_app()` is the uvicorn factory (`--factory throttle_server_app:create_app --app-dir
tests`), configured from the environment: `REDIS_URL` and `THROTTLE_PREFIX` (every process
of the app shares them).
"""

from __future__ import annotations

import os

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from users import UserStore, local_passport

from passport_py.adapters.starlette import PassportMiddleware, authenticate
from passport_py.throttle import Limit, LoginThrottle
from passport_py.throttle.redis import RedisThrottleStore

SECRET = "throttle-server-secret-6a1c9e3f7b2d5e8a"


def build_app(store: UserStore, redis_url: str, prefix: str, ip: Limit | None = None) -> Starlette:
    """The app over `store`'s users, its throttle counters in Redis under `prefix`."""
    passport = local_passport(store)
    # Its connections close with the event loop that opened them.
    throttle_store = RedisThrottleStore(redis_url, prefix=prefix)
    passport.throttle = LoginThrottle(throttle_store, **({"ip": ip} if ip else {}))

    @authenticate("local")
    async def login(request: Request) -> Response:
        return JSONResponse({"user": request.user.username})

    async def verify_calls(request: Request) -> Response:
        name = request.query_params.get("username")
        return JSONResponse(sum(1 for called, _ in store.verify_calls if called == name))

    return Starlette(
        routes=[
            Route("/login", login, methods=["POST"]),
            Route("/verify-calls", verify_calls),
        ],
        middleware=[
            Middleware(SessionMiddleware, secret_key=SECRET),
            Middleware(PassportMiddleware, passport=passport),
        ],
    )


def create_app() -> Starlette:
    return build_app(UserStore.default(), os.environ["REDIS_URL"], os.environ["THROTTLE_PREFIX"])
