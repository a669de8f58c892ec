"""The Starlette behaviour app on sessions in Redis, for uvicorn worker processes: the app of
tests/test_isolation_asgi_workers.py.

`create_app()` (for `uvicorn --factory isolation_server_app:create_app --app-dir tests`) is
`behaviour.starlette_app`'s app over `MEMBERS` members (tests/isolation_traffic.py), its sessions
in passport_py's `SessionMiddleware` on a `RedisStore` at `REDIS_URL` under `SESSION_PREFIX` (from
the environment: every worker shares them). The deserializer awaits 0-2 ms, so the requests one
worker serves at once interleave where a user could leak from one to another; every response
names the process that served it in `X-Worker-Pid`. `create_leaky_app()` is the control: its
deserializer keeps the id being restored in one attribute the whole process shares while it
waits, the leak the isolation check must catch.
"""

from __future__ import annotations

import asyncio
import os
import random
from dataclasses import dataclass
from typing import Any

from behaviour.starlette_app import SECRET, make_app
from isolation_traffic import members
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from users import User, UserStore

from passport_py.sessions import SessionMiddleware
from passport_py.sessions.redis import RedisStore

MEMBERS = 48
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass
class SlowStore(UserStore):
    """The members, restored by an `async def` deserializer that awaits 0-2 ms."""

    leaky: bool = False
    _holder: Any = None

    async def deserialize(self, user_id: Any) -> User | None:  # type: ignore[override]
        if self.leaky:
            self._holder = user_id
            await asyncio.sleep(random.random() * 0.002)
            return super().deserialize(self._holder)
        await asyncio.sleep(random.random() * 0.002)
        return super().deserialize(user_id)


class WorkerPid:
    """Names the process that served each response in its `X-Worker-Pid` header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_pid(message: Message) -> None:
            if message["type"] == "http.response.start":
                pid = (b"x-worker-pid", str(os.getpid()).encode())
                message = {**message, "headers": [*message.get("headers", []), pid]}
            await send(message)

        await self.app(scope, receive, send_with_pid)


def _app(store: SlowStore) -> Starlette:
    for member in members(MEMBERS):
        store.add(member)
    sessions = RedisStore(
        os.environ.get("REDIS_URL", DEFAULT_REDIS_URL), prefix=os.environ["SESSION_PREFIX"]
    )
    app = make_app(store, Middleware(SessionMiddleware, secret_key=SECRET, store=sessions))
    app.add_middleware(WorkerPid)
    return app


def create_app() -> Starlette:
    """The app, for uvicorn's `--factory`."""
    return _app(SlowStore())


def create_leaky_app() -> Starlette:
    """The control: the app with a deserializer that leaks users between concurrent requests."""
    return _app(SlowStore(leaky=True))
