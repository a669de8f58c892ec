"""A document fetched over HTTP and kept for later requests: one fetch at a time, a failure
remembered, refreshes on demand rate-limited.

`JwtStrategy` keeps its JWK Set in one, `OpenIDConnectStrategy` its provider's metadata and
key set, so both strategies behave alike:

- One fetch at a time. Requests that need the document while it is being fetched wait for
  that fetch and share its outcome: coroutines of one asyncio event loop, of loops in other
  threads, and the threads of a sync framework (which block, as their own fetch would have).
  Under another event loop (trio) the requests of one thread cannot wait for each other
  (blocking the thread would stall the fetch they wait for): each of them fetches.
- A failed fetch is remembered for `retry_after` seconds, the cooldown but at most
  `MAX_RETRY_AFTER`: meanwhile requests that need the document fail at once with the same
  error, without a fetch; after it, the next request tries again.
- A value older than `max_age` is fetched again by the next request that needs it; while that
  fetch is in flight or failed, the old value still serves the others for `grace` seconds more.
- `refresh(seen)`: a request that did not find what it needed (a token's `kid`) asks for a
  newer value. It waits for a fetch in flight, or starts one, at most once per `cooldown`
  seconds. Only these refreshes start the cooldown: after the first fetch or a periodic one,
  a key rotation is followed at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Generic, NoReturn, TypeVar, cast

__all__ = ["MAX_RETRY_AFTER", "FetchCache"]

T = TypeVar("T")

#: Longest time a failed fetch is remembered, whatever the cooldown.
MAX_RETRY_AFTER = 5.0


class _Abandoned(Exception):
    """The fetch a request waited for ended without an outcome (its caller was cancelled)."""


class _Flight(Generic[T]):
    """One fetch in progress: who waits for it, and what it ended with."""

    __slots__ = ("done", "error", "landed", "thread", "value", "waiters")

    def __init__(self) -> None:
        self.thread = threading.get_ident()
        self.done = threading.Event()
        self.waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self.landed = False
        self.value: T | None = None
        self.error: Exception | None = None

    def outcome(self) -> T:
        if not self.landed:
            raise _Abandoned
        if self.error is not None:
            _raise(self.error)
        return cast(T, self.value)


class FetchCache(Generic[T]):
    """The value `fetch()` returns, kept and refetched as the module docstring says.

    `fetch` raises an `Exception` when it cannot give a value; requests that shared that fetch,
    or came while it is remembered, get the same exception.
    """

    def __init__(
        self,
        fetch: Callable[[], Awaitable[T]],
        *,
        max_age: float = math.inf,
        grace: float = 0.0,
        cooldown: float = 0.0,
    ) -> None:
        self._fetch = fetch
        self.max_age = max_age
        self.grace = grace
        self.cooldown = cooldown
        self.retry_after = min(cooldown, MAX_RETRY_AFTER)
        # Guards the fields below; never held across an await or a fetch.
        self._lock = threading.Lock()
        self._value: T | None = None
        self._fetched_at = -math.inf
        self._failure: Exception | None = None
        self._failed_at = -math.inf
        self._refreshed_at = -math.inf
        self._flight: _Flight[T] | None = None

    @property
    def cached(self) -> T | None:
        """The last value fetched, however old (None before the first); never fetches."""
        return self._value

    async def get(self) -> tuple[T, bool]:
        """The value, and whether this call waited for the fetch that brought it (a caller
        that did need not ask `refresh` for a newer one)."""
        while True:
            with self._lock:
                now = time.monotonic()
                value, age = self._value, now - self._fetched_at
                if value is not None and age < self.max_age:
                    return value, False
                stale = value if age < self.max_age + self.grace else None
                if self._failure is not None and now - self._failed_at < self.retry_after:
                    if stale is not None:
                        return stale, False
                    _raise(self._failure)
                flight, lead = self._board()
                if stale is not None and not lead:
                    return stale, False  # one request waits for the refetch, not all of them
            try:
                return await self._outcome(flight, lead), True
            except _Abandoned:
                continue
            except Exception:
                if stale is None:
                    raise
                return stale, False

    async def refresh(self, seen: T) -> T | None:
        """A value newer than `seen`, which lacked what the caller needs: a fetch in flight,
        one started now, or one that landed since `seen`. None while the cooldown of the last
        refresh runs (or the fetch failed: then its exception)."""
        while True:
            with self._lock:
                if self._value is not seen:
                    return self._value
                if self._flight is None:
                    now = time.monotonic()
                    if self._failure is not None and now - self._failed_at < self.retry_after:
                        _raise(self._failure)
                    if now - self._refreshed_at < self.cooldown:
                        return None
                    self._refreshed_at = now
                flight, lead = self._board()
            try:
                return await self._outcome(flight, lead)
            except _Abandoned:
                continue

    def _board(self) -> tuple[_Flight[T], bool]:
        """The fetch in flight, or a new one the caller leads (called with the lock held)."""
        if self._flight is not None:
            return self._flight, False
        self._flight = _Flight()
        return self._flight, True

    async def _outcome(self, flight: _Flight[T], lead: bool) -> T:
        if lead:
            return await self._lead(flight)
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            future = loop.create_future()
            with self._lock:
                waiting = not flight.done.is_set()
                if waiting:
                    flight.waiters.append((loop, future))
            if waiting:
                await future
        elif flight.thread != threading.get_ident():
            flight.done.wait()  # a sync framework's thread: it would have blocked on its fetch
        else:
            # The fetch in flight is this thread's, suspended in an event loop that is not
            # asyncio's (trio): waiting here would block that loop, and the fetch with it.
            return await self._lead(_Flight())
        return flight.outcome()

    async def _lead(self, flight: _Flight[T]) -> T:
        try:
            value = await self._fetch()
        except Exception as exc:
            self._land(flight, None, exc)
            raise
        except BaseException:
            self._abandon(flight)
            raise
        self._land(flight, value, None)
        return value

    def _land(self, flight: _Flight[T], value: T | None, error: Exception | None) -> None:
        with self._lock:
            if error is None:
                self._value, self._fetched_at, self._failure = value, time.monotonic(), None
            else:
                self._failure, self._failed_at = error, time.monotonic()
            flight.value, flight.error, flight.landed = value, error, True
            self._end(flight)

    def _abandon(self, flight: _Flight[T]) -> None:
        # Cancelled (a client that went away) or closed: its waiters fetch again.
        with self._lock:
            self._end(flight)

    def _end(self, flight: _Flight[T]) -> None:
        """Wake everyone waiting for `flight` (called with the lock held)."""
        if self._flight is flight:
            self._flight = None
        flight.done.set()
        for loop, future in flight.waiters:
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits there
                loop.call_soon_threadsafe(_wake, future)
        flight.waiters.clear()


def _raise(error: Exception) -> NoReturn:
    # One exception goes to every request that shared or followed the failed fetch: raised
    # with a fresh traceback each time, or each raise would lengthen the one it carries.
    raise error.with_traceback(None)


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():  # a waiter that was cancelled meanwhile has a done future
        future.set_result(None)
