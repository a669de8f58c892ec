"""What each `RedisStore` operation asks of Redis, for its async and sync sides alike: the
key names, each operation as a plan of command batches (one round trip each), how a batch is
sent, and running a plan to its result."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Collection, Generator
from typing import Any, TypeVar

from redis.exceptions import ClusterError, RedisClusterException, ResponseError, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from passport_py.sessions.session import MAX_SESSION_BYTES
from passport_py.sessions.stores import MAX_READ, SessionStoreUnavailable, session_digest

logger = logging.getLogger("passport_py.sessions")

T = TypeVar("T")

# ClusterDownError and TryAgainError are ResponseErrors too: a cluster without a quorum or
# mid-resharding is unreachable, not a wrong value. RedisClusterException: no node answered.
UNREACHABLE = (
    RedisConnectionError,
    RedisTimeoutError,
    OSError,
    asyncio.TimeoutError,
    ClusterError,
    TryAgainError,
    RedisClusterException,
)
# Keys deleted per DEL when logging a user out everywhere.
BATCH = 500


class Keys:
    """Key names: `<prefix><sha256(id)>` for a session, `<prefix>user:<sha256(user)>` for the
    set of a user's session keys. Ids never reach Redis as they are: a key listing or an app
    key equal to a live id reveals or touches nothing."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def session(self, session_id: str) -> str:
        return self.prefix + session_digest(session_id)

    def digest(self, key: Any) -> str:
        """The session digest a session key (from a user's set, bytes or text) ends with."""
        return text(key)[len(self.prefix) :]

    def user(self, user: str) -> str:
        return f"{self.prefix}user:{hashlib.sha256(user.encode()).hexdigest()}"


def text(value: Any) -> str:
    """A member or key as text: bytes from a default client, str with `decode_responses`."""
    return value.decode() if isinstance(value, bytes) else str(value)


def decode(value: Any) -> str | None:
    if value is None:
        return None
    if len(value) > MAX_SESSION_BYTES:
        logger.warning("a stored session is over %d bytes: ignored", MAX_SESSION_BYTES)
        return None
    try:
        return bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        logger.warning("a stored session is not UTF-8 text (never unpickled): ignored")
        return None


Command = tuple[str, tuple[Any, ...], dict[str, Any]]
# An operation as the Redis commands it sends: a generator yielding batches of commands (one
# round trip each), sent each batch's replies, returning the operation's result. The async
# and sync sides run the same plans.
Plan = Generator[list[Command], list[Any], T]


def get_plan(keys: Keys, session_id: str) -> Plan[str | None]:
    try:
        (value,) = yield [("get", (keys.session(session_id),), {})]
    except ResponseError:
        logger.warning("a stored session has the wrong Redis type: ignored")
        return None
    return decode(value)


def set_plan(
    keys: Keys, session_id: str, value: str, ttl: int, user: str | None, new: bool
) -> Plan[bool]:
    key = keys.session(session_id)
    (written,) = yield [("set", (key, value), {"ex": ttl, "nx": new, "xx": not new})]
    if written and user is not None:
        index = keys.user(user)
        yield [("sadd", (index, key), {}), ("expire", (index, ttl), {})]
    return bool(written)


def delete_plan(keys: Keys, session_id: str, user: str | None) -> Plan[None]:
    key = keys.session(session_id)
    batch: list[Command] = [("delete", (key,), {})]
    if user is not None:
        batch.append(("srem", (keys.user(user), key), {}))
    yield batch


def touch_plan(keys: Keys, session_id: str, ttl: int, user: str | None) -> Plan[bool]:
    batch: list[Command] = [("expire", (keys.session(session_id), ttl), {})]
    if user is not None:
        batch.append(("expire", (keys.user(user), ttl), {}))
    replies = yield batch
    return bool(replies[0])


def destroy_user_plan(keys: Keys, user: str) -> Plan[int]:
    index = keys.user(user)
    (members,) = yield [("smembers", (index,), {})]
    return (yield from _end_members(index, [text(m) for m in members]))


def end_sessions_plan(
    keys: Keys, user: str, digests: Collection[str] | None, keep: str | None
) -> Plan[int]:
    index = keys.user(user)
    if digests is None:
        (members,) = yield [("smembers", (index,), {})]
        found = [text(m) for m in members]
    else:
        wanted = sorted({keys.prefix + d for d in digests})
        if not wanted:
            return 0
        # Only members of the user's own set: another user's session is never touched.
        replies = yield [("sismember", (index, key), {}) for key in wanted]
        found = [key for key, member in zip(wanted, replies, strict=True) if member]
    return (yield from _end_members(index, [k for k in found if keys.digest(k) != keep]))


def _end_members(index: str, members: list[str]) -> Plan[int]:
    ordered = sorted(members)
    ended = 0
    for start in range(0, len(ordered), BATCH):
        batch = tuple(ordered[start : start + BATCH])
        (count,) = yield [("delete", batch, {})]
        # Only the members read: a session added meanwhile keeps its index entry.
        yield [("srem", (index, *batch), {})]
        ended += int(count)
    return ended


def sessions_of_plan(keys: Keys, user: str) -> Plan[list[tuple[str, str]]]:
    index = keys.user(user)
    (members,) = yield [("smembers", (index,), {})]
    ordered = sorted(text(m) for m in members)[:MAX_READ]
    found: list[tuple[str, str]] = []
    gone: list[str] = []
    for start in range(0, len(ordered), BATCH):
        batch = ordered[start : start + BATCH]
        # GETs in one pipeline, not an MGET: a cluster spreads the keys over its slots.
        try:
            values = yield [("get", (key,), {}) for key in batch]
        except ResponseError:
            logger.warning("a stored session has the wrong Redis type: the list stops there")
            break
        for key, value in zip(batch, values, strict=True):
            if value is None:
                gone.append(key)
            else:
                session = decode(value)
                if session is not None:
                    found.append((keys.digest(key), session))
    if gone:  # expired or ended without unindexing: the set forgets them
        yield [("srem", (index, *gone), {})]
    return found


def execute_sync(client: Any, batch: list[Command]) -> list[Any]:
    if len(batch) == 1:
        name, args, kwargs = batch[0]
        return [getattr(client, name)(*args, **kwargs)]
    pipe = client.pipeline(transaction=False)
    for name, args, kwargs in batch:
        getattr(pipe, name)(*args, **kwargs)
    return list(pipe.execute())


async def execute(client: Any, batch: list[Command]) -> list[Any]:
    if len(batch) == 1:
        name, args, kwargs = batch[0]
        return [await getattr(client, name)(*args, **kwargs)]
    pipe = client.pipeline(transaction=False)
    for name, args, kwargs in batch:
        getattr(pipe, name)(*args, **kwargs)
    return list(await pipe.execute())


async def drive(
    plan: Plan[T],
    execute: Callable[[list[Command]], Awaitable[list[Any]]],
    unavailable: Callable[[BaseException], SessionStoreUnavailable],
) -> T:
    """Run `plan`, each batch through `execute`. A command Redis refused (a wrong type) is
    thrown into the plan; an unreachable Redis ends it with `SessionStoreUnavailable`."""
    replies: list[Any] | None = None
    error: ResponseError | None = None
    while True:
        try:
            batch = plan.send(replies) if error is None else plan.throw(error)  # type: ignore[arg-type]
        except StopIteration as done:
            result: T = done.value
            return result
        error = None
        try:
            replies = await execute(batch)
        except UNREACHABLE as exc:  # first: some cluster errors are ResponseErrors too
            plan.close()
            raise unavailable(exc) from None
        except ResponseError as exc:
            error = exc
