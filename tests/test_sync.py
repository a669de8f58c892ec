"""One implementation, sync and async (API.md section 2).

In a sync framework `run_sync` drives the engine's coroutines with `send(None)`: no event loop
is created. A coroutine that needs real async I/O there raises `SyncContextError` naming the
fix. The same strategy classes and verify callables work in both worlds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from engine_helpers import USERS, U, make_passport
from session_entries import TEST_REQUEST, session_identity

from passport_py import (
    AuthenticateOptions,
    Authenticator,
    Outcome,
    Proceed,
    Respond,
    Strategy,
    SyncContextError,
    run_sync,
)
from passport_py.request import AuthRequest
from passport_py.strategies.local import LocalStrategy
from passport_py.testing import MemorySession, TestRequest

Driver = Callable[[Coroutine[Any, Any, Any]], Any]
DRIVERS: dict[str, Driver] = {"run_sync": run_sync, "asyncio.run": asyncio.run}


def credentials(password: str = "secret") -> TestRequest:
    return TestRequest(form={"username": "jaredhanson", "password": password})


def no_running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return True
    return False


def test_run_sync_authentication_creates_no_event_loop(loops_created: list[object]) -> None:
    """Async verify (awaiting sleep(0)), async serializer and transform, all in a plain def."""
    seen_loop_free: list[bool] = []

    async def verify(username: str, password: str) -> Any:
        await asyncio.sleep(0)
        seen_loop_free.append(no_running_loop())
        return U if (username, password) == ("jaredhanson", "secret") else None

    passport: Authenticator[Any] = Authenticator()
    passport.use(LocalStrategy(verify))

    @passport.serialize_user
    async def to_id(user: dict[str, str]) -> str:
        await asyncio.sleep(0)
        seen_loop_free.append(no_running_loop())
        return user["id"]

    @passport.transform_auth_info
    async def add_scope(info: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {**info, "scope": "read"}

    def sync_view() -> tuple[Any, Any]:
        request = credentials()
        decision = run_sync(passport.authenticate(request, "local"))
        return decision, request.session

    decision, session = sync_view()
    assert decision == Proceed(user=U, info={"scope": "read"}, authenticated=True, logged_in=True)
    assert session_identity(session, TEST_REQUEST) == {"passport": {"user": "1"}}
    assert seen_loop_free == [True, True]
    assert loops_created == []
    assert no_running_loop()

    # The counter does see loops: creating one on purpose is counted.
    loop = asyncio.new_event_loop()
    loop.close()
    assert loops_created == [loop]


def test_run_sync_restore_creates_no_event_loop(loops_created: list[object]) -> None:
    passport: Authenticator[Any] = Authenticator()

    @passport.deserialize_user
    async def load(user_id: str) -> Any:
        await asyncio.sleep(0)
        return USERS.get(user_id)

    request = TestRequest(session={"passport": {"user": "1"}})
    assert run_sync(passport.restore(request)) == U
    assert loops_created == []


def test_run_sync_with_real_async_io_raises_sync_context_error() -> None:
    async def verify(username: str, password: str) -> Any:
        await asyncio.sleep(0.01)  # a timer: needs a running loop
        return U

    passport = make_passport(local=LocalStrategy(verify))
    request = credentials()
    with pytest.raises(SyncContextError) as caught:
        run_sync(passport.authenticate(request, "local"))
    message = str(caught.value)
    assert "plain `def`" in message
    assert "async framework or async view" in message
    assert dict(request.session or {}) == {}


def test_run_sync_awaiting_a_loop_future_raises_sync_context_error() -> None:
    """A future from some loop (a driver's connection pool) cannot complete under run_sync."""
    loop = asyncio.new_event_loop()
    try:
        pending = loop.create_future()
        closed: list[bool] = []

        async def verify(username: str, password: str) -> Any:
            try:
                return await pending
            finally:
                closed.append(True)

        passport = make_passport(local=LocalStrategy(verify))
        with pytest.raises(SyncContextError, match="make that callable a plain `def`"):
            run_sync(passport.authenticate(credentials(), "local"))
        assert closed == [True]  # the coroutine was closed, not left pending
    finally:
        loop.close()


def test_real_async_io_works_in_an_async_context() -> None:
    async def verify(username: str, password: str) -> Any:
        await asyncio.sleep(0.01)
        return U

    passport = make_passport(local=LocalStrategy(verify))
    decision = asyncio.run(passport.authenticate(credentials(), "local"))
    assert isinstance(decision, Proceed)
    assert decision.user == U


def test_run_sync_returns_plain_values() -> None:
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    assert run_sync(answer()) == 42


def test_run_sync_propagates_errors() -> None:
    async def broken() -> None:
        raise RuntimeError("unrelated runtime error")

    with pytest.raises(RuntimeError, match="unrelated runtime error"):
        run_sync(broken())


# -- one strategy class, sync or async verify; sync or async authenticate ---------------------


def sync_verify(username: str, password: str) -> Any:
    return U if password == "secret" else None


async def async_verify(username: str, password: str) -> Any:
    await asyncio.sleep(0)
    return U if password == "secret" else None


VERIFIES = {"sync-verify": sync_verify, "async-verify": async_verify}


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize("verify", VERIFIES)
def test_local_strategy_works_with_sync_or_async_verify(verify: str, driver: str) -> None:
    passport = make_passport(local=LocalStrategy(VERIFIES[verify]))
    ok = DRIVERS[driver](passport.authenticate(credentials(), "local"))
    assert ok == Proceed(user=U, info={}, authenticated=True, logged_in=True)
    wrong = DRIVERS[driver](passport.authenticate(credentials("nope"), "local"))
    assert isinstance(wrong, Respond)
    assert wrong.status == 401


class HeaderKey(Strategy):
    """A custom strategy with a plain `def authenticate` calling a sync verify."""

    name = "header-key"

    def __init__(self, verify: Callable[[str], Any]) -> None:
        self.verify = verify

    def authenticate(self, request: AuthRequest, options: AuthenticateOptions) -> Outcome:
        key = request.headers.get("x-api-key")
        if key is None:
            return self.fail("ApiKey", 401)
        user = self.verify(key)
        return self.success(user) if user is not None else self.fail({"message": "bad key"})


class AsyncHeaderKey(HeaderKey):
    """The same strategy with `async def authenticate` awaiting an async verify."""

    async def authenticate(  # type: ignore[override]
        self, request: AuthRequest, options: AuthenticateOptions
    ) -> Outcome:
        key = request.headers.get("x-api-key")
        if key is None:
            return self.fail("ApiKey", 401)
        user = await self.verify(key)
        return self.success(user) if user is not None else self.fail({"message": "bad key"})


def lookup_key(key: str) -> Any:
    return U if key == "k-1" else None


async def async_lookup_key(key: str) -> Any:
    await asyncio.sleep(0)
    return lookup_key(key)


STRATEGIES: dict[str, Callable[[], Strategy]] = {
    "sync-authenticate": lambda: HeaderKey(lookup_key),
    "async-authenticate": lambda: AsyncHeaderKey(async_lookup_key),
}


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize("kind", STRATEGIES)
def test_custom_strategy_sync_or_async_authenticate_succeeds(kind: str, driver: str) -> None:
    passport = make_passport(key=STRATEGIES[kind]())
    session = MemorySession()
    request = TestRequest(method="GET", headers={"X-Api-Key": "k-1"}, session=session)
    decision = DRIVERS[driver](passport.authenticate(request, "key"))
    assert decision == Proceed(user=U, info={}, authenticated=True, logged_in=True)
    assert session_identity(session, TEST_REQUEST) == {"passport": {"user": "1"}}


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize("kind", STRATEGIES)
def test_custom_strategy_sync_or_async_authenticate_fails(kind: str, driver: str) -> None:
    passport = make_passport(key=STRATEGIES[kind]())
    missing = DRIVERS[driver](passport.authenticate(TestRequest(method="GET"), "key"))
    assert isinstance(missing, Respond)
    assert (missing.status, missing.body) == (401, "Unauthorized")
    assert ("WWW-Authenticate", "ApiKey") in missing.headers
    request = TestRequest(method="GET", headers={"X-Api-Key": "wrong"})
    wrong = DRIVERS[driver](passport.authenticate(request, "key", callback=True))
    assert wrong.result.challenges == [{"message": "bad key"}]


def test_one_strategy_instance_serves_concurrent_requests() -> None:
    """Outcomes are values: nothing per request is written onto the shared instance."""
    gate = asyncio.Event()

    async def verify(username: str, password: str) -> Any:
        if username == "slow":
            await gate.wait()
        return {"id": username} if password == "secret" else None

    strategy = LocalStrategy(verify)
    passport = make_passport(local=strategy)
    before = dict(vars(strategy))

    async def main() -> tuple[Any, Any]:
        slow = asyncio.create_task(
            passport.authenticate(
                TestRequest(form={"username": "slow", "password": "secret"}), "local"
            )
        )
        await asyncio.sleep(0)
        fast = await passport.authenticate(
            TestRequest(form={"username": "fast", "password": "nope"}), "local"
        )
        gate.set()
        return await slow, fast

    slow, fast = asyncio.run(main())
    assert isinstance(slow, Proceed)
    assert slow.user == {"id": "slow"}
    assert isinstance(fast, Respond)
    assert fast.status == 401
    assert vars(strategy) == before


def test_run_sync_waiting_on_asyncio_primitive_raises_sync_context_error() -> None:
    """asyncio.Event / Condition / a contended Lock find no loop and call None.create_future();
    that must surface as SyncContextError, not a bare AttributeError."""
    event = asyncio.Event()

    async def verify(username: str, password: str) -> Any:
        await event.wait()
        return U

    passport = make_passport(local=LocalStrategy(verify))
    with pytest.raises(SyncContextError, match="make that callable a plain `def`"):
        run_sync(passport.authenticate(credentials(), "local"))


def test_run_sync_keeps_unrelated_attribute_errors() -> None:
    async def broken() -> None:
        None.missing  # type: ignore[attr-defined]  # noqa: B018

    with pytest.raises(AttributeError, match="missing"):
        run_sync(broken())
