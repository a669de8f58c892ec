"""The demo's second factors: each user's authenticator-app secret and recovery codes (what a
table in your database would hold), and the strategies that check them."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from passport_py.passwords import PasswordHasher
from passport_py.strategies.email_code import EmailCodeStrategy
from passport_py.strategies.recovery import RecoveryCodeStrategy, generate_recovery_codes
from passport_py.strategies.totp import TotpStrategy

if TYPE_CHECKING:
    from passport_py import Authenticator
    from passport_py.demo.mailbox import Mailbox
    from passport_py.request import AuthRequest

__all__ = ["CODE_HASHER", "FactorStore", "Person", "use_factors"]

# Recovery codes carry about 59 random bits, so unlike passwords they need no costly hash to
# resist guessing offline: a light Argon2id keeps checking ten of them quick.
CODE_HASHER = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
"""The hasher of the demo's recovery codes (Argon2id, 1 pass, 8 MiB)."""


class Person(Protocol):
    """What the factors need of a demo user."""

    @property
    def id(self) -> int:
        """The user's id."""
        ...

    @property
    def email(self) -> str:
        """The user's email address."""
        ...


@dataclass
class _Factors:
    secret: str | None = None
    last_step: int | None = None
    recovery: list[str] = field(default_factory=list)


class FactorStore:
    """Per user: the TOTP secret (set once a code confirmed it), the last time step used, and
    the hashes of the unused recovery codes. Thread-safe: checks and updates are atomic."""

    def __init__(self) -> None:
        self._by_user: dict[int, _Factors] = {}
        self._lock = threading.Lock()

    def enrolled(self, user: Person) -> list[str]:
        """The second factors `user` can log in with (the strategies' names)."""
        with self._lock:
            found = self._by_user.get(user.id)
            if found is None or found.secret is None:
                return []
            return ["totp", "recovery"] if found.recovery else ["totp"]

    def recovery_left(self, user: Person) -> int:
        """How many recovery codes `user` has not used."""
        with self._lock:
            found = self._by_user.get(user.id)
            return len(found.recovery) if found else 0

    def totp(self, user: Person) -> tuple[str, int | None] | None:
        """`TotpStrategy`'s lookup: the secret and last used step, or None."""
        with self._lock:
            found = self._by_user.get(user.id)
            if found is None or found.secret is None:
                return None
            return found.secret, found.last_step

    def save_step(self, user: Person, step: int) -> bool:
        """Record an accepted code's step unless a later or equal one was used (single use)."""
        with self._lock:
            found = self._by_user.get(user.id)
            if found is None or (found.last_step is not None and found.last_step >= step):
                return False
            found.last_step = step
            return True

    def recovery_hashes(self, user: Person) -> list[str]:
        """`RecoveryCodeStrategy`'s lookup: the hashes of the unused codes."""
        with self._lock:
            found = self._by_user.get(user.id)
            return list(found.recovery) if found else []

    def consume(self, user: Person, stored: str) -> bool:
        """Remove one used code; False when another request removed it first."""
        with self._lock:
            found = self._by_user.get(user.id)
            if found is None or stored not in found.recovery:
                return False
            found.recovery.remove(stored)
            return True

    def enable(self, user: Person, secret: str, step: int) -> list[str]:
        """Turn two-factor login on with a confirmed `secret`; the new recovery codes (show
        them once: only their hashes are kept)."""
        codes, hashes = generate_recovery_codes(10, hasher=CODE_HASHER)
        with self._lock:
            self._by_user[user.id] = _Factors(secret, step, hashes)
        return codes

    def new_recovery_codes(self, user: Person) -> list[str]:
        """A new set of recovery codes for `user`; the old ones stop working."""
        codes, hashes = generate_recovery_codes(10, hasher=CODE_HASHER)
        with self._lock:
            self._by_user.setdefault(user.id, _Factors()).recovery = hashes
        return codes

    def disable(self, user: Person) -> None:
        """Turn two-factor login off: the secret and the recovery codes are forgotten."""
        with self._lock:
            self._by_user.pop(user.id, None)


def use_factors(
    passport: Authenticator[Any],
    store: FactorStore,
    mailbox: Mailbox,
    by_email: Mapping[str, Person],
    secret: str,
) -> None:
    """Register "totp", "recovery" (second factors) and "email-code" (log in with a code
    mailed to you: the demo's mailbox) on `passport`, and who has enrolled what."""

    def send(address: str, code: str, request: AuthRequest) -> None:
        mailbox.send(
            address,
            "Your passport_py demo login code",
            f"Your login code is {code}.\n\nIt works once, in the browser that asked for it, "
            "for the next 10 minutes. If you did not ask for it, ignore this message.",
        )

    passport.use(TotpStrategy(store.totp, store.save_step))
    passport.use(
        RecoveryCodeStrategy(
            store.recovery_hashes, store.consume, hasher=CODE_HASHER, events=passport.events
        )
    )
    passport.use(EmailCodeStrategy(send, secret=secret, lookup=by_email.get))
    passport.second_factors(store.enrolled)
