"""Running one implementation from both sync and async code."""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine
from types import CoroutineType
from typing import Any, TypeVar, cast

from passport_py.errors import SyncContextError

T = TypeVar("T")

_SYNC_IO_HINT = (
    "an async callable awaited real async I/O while passport_py was running inside a sync "
    "framework, where there is no event loop to drive it; make that callable a plain `def` "
    "(use your driver's sync API), or serve the view from an async framework or async view"
)


async def maybe_await(value: T | Awaitable[T]) -> T:
    """Return `value`, awaiting it first when a sync-or-async callable gave an awaitable."""
    if type(value) is CoroutineType or inspect.isawaitable(value):
        return await cast(Awaitable[T], value)
    return value


async def call(fn: Callable[..., T | Awaitable[T]], *args: Any) -> T:
    """Call a user callable that may be a plain function or `async def`."""
    result = fn(*args)
    if type(result) is CoroutineType or inspect.isawaitable(result):
        return await cast(Awaitable[T], result)
    return result


def is_async_callable(fn: Callable[..., Any]) -> bool:
    """True for `async def` functions, partials of them and objects with an async `__call__`."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - async callable objects
    )


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Drive `coro` to completion in a sync context without creating an event loop.

    A coroutine that only awaits completed work (or `asyncio.sleep(0)`) never suspends on a
    future, so stepping it with `send(None)` finishes it. One that suspends on real I/O cannot
    be finished here; it is closed and `SyncContextError` says what to do instead.
    """
    try:
        while True:
            yielded = coro.send(None)
            if yielded is not None:
                # A future from some event loop: real async I/O we cannot complete here.
                coro.close()
                raise SyncContextError(_SYNC_IO_HINT)
    except StopIteration as done:
        return cast(T, done.value)
    except RuntimeError as exc:
        if "no running event loop" in str(exc) or "no current event loop" in str(exc):
            raise SyncContextError(_SYNC_IO_HINT) from exc
        raise
    except AttributeError as exc:
        # asyncio.Event, Condition or a contended Lock look for the running loop, find none
        # and call `None.create_future()`.
        if "'NoneType' object has no attribute 'create_future'" in str(exc):
            raise SyncContextError(_SYNC_IO_HINT) from exc
        raise


def close_at_loop_shutdown(close: Callable[[], Awaitable[None]]) -> AsyncGenerator[None, None]:
    """An async generator, started on the running loop, that awaits `close()` when closed.

    Keep a reference to it for as long as the resource lives (the loop holds it weakly).
    Loops shut down by `asyncio.run` (uvicorn, a test client's portal) close the async
    generators started on them while they can still run, so a client bound to a loop is
    closed on that loop even when no lifespan shutdown told its owner. `gen.aclose()` closes
    it earlier.
    """

    async def close_on_shutdown() -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            await close()

    closer = close_on_shutdown()
    # Run to the first `yield` now (nothing awaits before it): this registers the generator
    # with the running loop (its first-iteration hook), which finalizes it at shutdown.
    with contextlib.suppress(StopIteration):
        closer.asend(None).send(None)
    return closer
