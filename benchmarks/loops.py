"""Event loops created by authenticating in a sync context (`run_sync`)."""

from __future__ import annotations

import asyncio
import time

from passport_py import Authenticator, Proceed, run_sync
from passport_py.strategies.local import LocalStrategy
from passport_py.testing import TestRequest

from .apps import USERS, User
from .timing import count_calls

_PASSWORDS = {"alice": "wonderland"}
_BY_NAME = {user.username: user for user in USERS.values()}


def sync_passport() -> Authenticator[User]:
    """A passport whose verify is `async def` (what a sync framework must still drive)."""
    passport: Authenticator[User] = Authenticator()

    async def verify(username: str, password: str) -> User | None:
        await asyncio.sleep(0)  # a yield to the loop, as async code does; no real I/O
        user = _BY_NAME.get(username)
        return user if user and _PASSWORDS.get(username) == password else None

    passport.use(LocalStrategy(verify))
    passport.serialize_user(lambda user: user.id)
    return passport


def count_loops(fn: object) -> int:
    """How many event loops are created while `fn()` runs (`BaseEventLoop.__init__` calls)."""
    assert callable(fn)
    return count_calls(asyncio.BaseEventLoop, "__init__", fn)


def measure_sync_authentication(n: int) -> tuple[int, float]:
    """(event loops created, µs per authentication) for `n` sync authentications."""
    # The counter must see a loop when there is one, or a 0 would prove nothing.
    if count_loops(lambda: asyncio.new_event_loop().close()) != 1:
        raise RuntimeError("the event-loop counter did not see a new loop")
    passport = sync_passport()

    def authenticate_n() -> None:
        for _ in range(n):
            request = TestRequest(form={"username": "alice", "password": "wonderland"})
            decision = run_sync(passport.authenticate(request, "local"))
            if not (isinstance(decision, Proceed) and decision.authenticated):
                raise RuntimeError(f"sync authentication did not succeed: {decision!r}")

    start = time.perf_counter()
    loops = count_loops(authenticate_n)
    return loops, (time.perf_counter() - start) / n * 1e6
