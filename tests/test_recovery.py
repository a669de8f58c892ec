"""Recovery codes: `generate_recovery_codes` and `RecoveryCodeStrategy` (ASVS V6.5.1-6.5.3).

Engine-free tests give the strategy the `Subject` the engine will set; the app tests run a real
Starlette app whose codes live in SQLite (consume is an atomic DELETE). Most tests hash with a
cheap Argon2id so the suite stays fast; one checks the default parameters.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from factor_apps import second_factor_app, subject_options
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from passport_py import Authenticator, Fail, Success
from passport_py.events import Events, RecoveryCodeUsed
from passport_py.options import AuthenticateOptions
from passport_py.passwords import PasswordHasher, default_hasher
from passport_py.strategies.recovery import (
    RecoveryCodeStrategy,
    generate_recovery_codes,
    normalize_recovery_code,
)
from passport_py.testing import TestRequest

pytestmark = pytest.mark.anyio

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
CODE_SHAPE = re.compile(r"[2-9a-hjkmnp-z]{4}-[2-9a-hjkmnp-z]{4}-[2-9a-hjkmnp-z]{4}")
CODES, HASHES = generate_recovery_codes(5, hasher=FAST)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Store:
    """One user's unused code hashes; `consume` removes one only if it is still there."""

    hashes: list[str] = field(default_factory=lambda: list(HASHES))

    async def lookup(self, user: Any) -> list[str]:
        await asyncio.sleep(0)
        return list(self.hashes)

    async def consume(self, user: Any, stored: str) -> bool:
        await asyncio.sleep(0)
        if stored not in self.hashes:
            return False
        self.hashes.remove(stored)
        return True


def make(store: Store, **options: Any) -> RecoveryCodeStrategy:
    return RecoveryCodeStrategy(store.lookup, store.consume, hasher=FAST, **options)


async def submit(strategy: RecoveryCodeStrategy, code: Any) -> Any:
    return await strategy.authenticate(TestRequest(form={"code": code}), subject_options("alice"))


def message(outcome: Any) -> tuple[str, int | None]:
    assert isinstance(outcome, Fail), outcome
    return outcome.challenge["message"], outcome.status


# -- generation ------------------------------------------------------------------------------


def test_codes_are_unique_well_formed_and_only_their_hashes_are_stored() -> None:
    codes, hashes = generate_recovery_codes(20, hasher=FAST)
    assert len(set(codes)) == len(set(hashes)) == 20
    assert all(CODE_SHAPE.fullmatch(code) for code in codes)
    assert all(h.startswith("$argon2id$") for h in hashes)
    stored = "".join(hashes)
    assert not any(code.replace("-", "") in stored or code in stored for code in codes)
    assert set(codes).isdisjoint(generate_recovery_codes(20, hasher=FAST)[0])


def test_the_default_hasher_stores_argon2id_at_its_full_parameters() -> None:
    [code], [stored] = generate_recovery_codes(1)
    assert stored.startswith("$argon2id$") and not default_hasher.needs_update(stored)
    assert default_hasher.verify(normalize_recovery_code(code) or "", stored)


def test_generation_uses_the_csprng(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any) -> Any:
        raise AssertionError("the random module is not a CSPRNG")

    for name in ("random", "getrandbits", "choice", "choices", "randbytes"):
        monkeypatch.setattr(random, name, refuse)
    assert len(generate_recovery_codes(3, hasher=FAST)[0]) == 3


@pytest.mark.parametrize("count", [0, 101])
def test_the_count_is_bounded(count: int) -> None:
    with pytest.raises(ValueError, match="between 1 and 100"):
        generate_recovery_codes(count, hasher=FAST)


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("k7f3-9xq2-m4tp", "k7f39xq2m4tp"),
        ("K7F3-9XQ2-M4TP", "k7f39xq2m4tp"),
        (" k7f3 9xq2  m4tp\n", "k7f39xq2m4tp"),
        ("k7f39xq2m4tp", "k7f39xq2m4tp"),
        ("k7f3--9xq2 - m4tp", "k7f39xq2m4tp"),
        ("k7f3-9xq2-m4t", None),
        ("k7f3-9xq2-m4tpp", None),
        ("k7f3-9xq2-m40p", None),  # 0 is not in the alphabet
        ("k7f3_9xq2_m4tp", None),
        ("k" + " " * 70 + "7f39xq2m4tp", None),
    ],
)
def test_typed_codes_are_normalised(typed: str, normal: str | None) -> None:
    assert normalize_recovery_code(typed) == normal


# -- the strategy ----------------------------------------------------------------------------


async def test_each_code_is_usable_once() -> None:
    store = Store()
    strategy = make(store)
    assert await submit(strategy, CODES[0]) == Success("alice", None)
    assert message(await submit(strategy, CODES[0])) == (
        "Invalid or already used recovery code",
        401,
    )
    assert len(store.hashes) == len(HASHES) - 1
    assert isinstance(await submit(strategy, CODES[1].upper().replace("-", " ")), Success)


async def test_a_wrong_code_fails_401_naming_the_account() -> None:
    other, _ = generate_recovery_codes(1, hasher=FAST)
    outcome = await submit(make(Store()), other[0])
    assert message(outcome) == ("Invalid or already used recovery code", 401)
    assert outcome.account == "alice"


async def test_concurrent_uses_of_one_code_succeed_once() -> None:
    store = Store()
    strategy = make(store)
    outcomes = await asyncio.gather(*(submit(strategy, CODES[2]) for _ in range(5)))
    assert sum(isinstance(o, Success) for o in outcomes) == 1
    assert len(store.hashes) == len(HASHES) - 1


async def test_consume_returning_false_fails_the_code() -> None:
    strategy = RecoveryCodeStrategy(lambda u: HASHES, lambda u, h: False, hasher=FAST)
    assert message(await submit(strategy, CODES[0]))[1] == 401


async def test_no_codes_left_fails_401() -> None:
    outcome = await submit(make(Store(hashes=[])), CODES[0])
    assert message(outcome) == ("No recovery codes are left", 401)


async def test_without_a_subject_it_fails_401() -> None:
    outcome = await make(Store()).authenticate(
        TestRequest(form={"code": CODES[0]}), AuthenticateOptions()
    )
    assert message(outcome) == ("No login is waiting for a second factor", 401)


async def test_an_unreadable_stored_hash_is_skipped_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = Store(hashes=["not-a-hash", *HASHES])
    with caplog.at_level(logging.WARNING, "passport_py.strategies.recovery"):
        assert isinstance(await submit(make(store), CODES[3]), Success)
    assert "unreadable" in caplog.text


async def test_a_use_emits_recovery_code_used_with_the_number_left() -> None:
    events = Events()
    seen: list[RecoveryCodeUsed] = []
    events.on(RecoveryCodeUsed, seen.append)
    strategy = make(Store(), events=events)
    request = TestRequest(form={"code": CODES[4]}, client_ip="203.0.113.9")
    assert isinstance(await strategy.authenticate(request, subject_options("alice", 7)), Success)
    assert seen == [RecoveryCodeUsed(user_id=7, remaining=len(HASHES) - 1, client_ip="203.0.113.9")]
    assert seen[0].kind == "recovery_code_used" and seen[0].request is request
    assert isinstance(await submit(strategy, "2222-2222-2222"), Fail)
    assert len(seen) == 1  # a failed code is a LoginFailed, not a use


@pytest.mark.parametrize(
    "request_",
    [
        TestRequest(form={"code": "k7f3-9xq2"}),
        TestRequest(form={"code": "x" * 10_000}),
        TestRequest(form=[("code", CODES[0]), ("code", CODES[0])]),
        TestRequest(json={"code": 123456789012}),
        TestRequest(json={"other": CODES[0]}),
        TestRequest(),
    ],
    ids=lambda r: (r._body or b"empty")[:30].decode(),
)
async def test_malformed_codes_get_400(request_: TestRequest) -> None:
    store = Store()
    outcome = await make(store).authenticate(request_, subject_options("alice"))
    assert message(outcome) == ("Enter one of your recovery codes", 400)
    assert store.hashes == HASHES


def test_the_strategy_is_a_second_factor_proving_rec() -> None:
    strategy = make(Store())
    assert (strategy.name, strategy.amr, strategy.second_factor) == ("recovery", ("rec",), True)


# -- in a real app ---------------------------------------------------------------------------


class Codes:
    """The app's table of unused recovery code hashes."""

    def __init__(self) -> None:
        self.db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        self.db.execute("CREATE TABLE recovery_codes (user TEXT, hash TEXT)")

    def lookup(self, user: str) -> list[str]:
        rows = self.db.execute("SELECT hash FROM recovery_codes WHERE user = ?", (user,))
        return [row[0] for row in rows]

    def consume(self, user: str, stored: str) -> bool:
        cursor = self.db.execute(
            "DELETE FROM recovery_codes WHERE user = ? AND hash = ?", (user, stored)
        )
        return cursor.rowcount == 1

    def replace(self, user: str, hashes: list[str]) -> None:
        with self.db:  # one transaction: the old set is gone when the new one exists
            self.db.execute("BEGIN")
            self.db.execute("DELETE FROM recovery_codes WHERE user = ?", (user,))
            self.db.executemany(
                "INSERT INTO recovery_codes VALUES (?, ?)", [(user, h) for h in hashes]
            )


@pytest.fixture
def app_codes() -> Codes:
    return Codes()


@pytest.fixture
def used() -> list[RecoveryCodeUsed]:
    return []


@pytest.fixture
def client(app_codes: Codes, used: list[RecoveryCodeUsed]) -> Iterator[TestClient]:
    passport: Authenticator[Any] = Authenticator()
    passport.events.on(RecoveryCodeUsed, used.append)
    passport.use(
        RecoveryCodeStrategy(
            app_codes.lookup, app_codes.consume, hasher=FAST, events=passport.events
        )
    )

    async def new_codes(request: Request) -> Response:
        user = request.session.get("user")
        if user is None:
            return JSONResponse({"error": "log in first"}, 401)
        codes, hashes = await asyncio.to_thread(generate_recovery_codes, 4, hasher=FAST)
        app_codes.replace(user, hashes)
        return JSONResponse({"codes": codes}, headers={"Cache-Control": "no-store"})

    async def sign_in(request: Request) -> Response:
        request.session["user"] = "alice"
        return Response(status_code=204)

    app = second_factor_app(
        passport,
        lambda name: name if name == "alice" else None,
        [
            Route("/sign-in", sign_in, methods=["POST"]),
            Route("/recovery-codes", new_codes, methods=["POST"]),
        ],
    )
    with TestClient(app) as test_client:
        yield test_client


def use_code(client: TestClient, code: str) -> Any:
    assert client.post("/login", data={"username": "alice"}).status_code == 200
    return client.post("/second-factor/recovery", data={"code": code})


def test_in_an_app_a_code_logs_in_once_and_regenerating_revokes_the_rest(
    client: TestClient, app_codes: Codes, used: list[RecoveryCodeUsed]
) -> None:
    client.post("/sign-in")
    first = client.post("/recovery-codes")
    assert first.headers["cache-control"] == "no-store"
    old = first.json()["codes"]
    assert len(old) == 4 and len(app_codes.lookup("alice")) == 4

    assert use_code(client, old[0]).json() == {"user": "alice"}
    assert use_code(client, old[0]).status_code == 401
    assert [(e.user_id, e.remaining) for e in used] == [("alice", 3)]

    client.post("/sign-in")  # the replay above began a new pending login
    new = client.post("/recovery-codes").json()["codes"]
    assert set(new).isdisjoint(old) and len(app_codes.lookup("alice")) == 4
    answer = use_code(client, old[1])
    assert answer.status_code == 401
    assert answer.json() == {"challenge": {"message": "Invalid or already used recovery code"}}
    assert use_code(client, new[0].upper()).json() == {"user": "alice"}
    assert [e.remaining for e in used] == [3, 3]


def test_in_an_app_malformed_and_huge_bodies_are_refused(client: TestClient) -> None:
    client.post("/login", data={"username": "alice"})
    assert client.post("/second-factor/recovery", json={"code": 1234}).status_code == 400
    huge = client.post("/second-factor/recovery", data={"code": "a" * (2 * 1024 * 1024)})
    assert huge.status_code == 413
