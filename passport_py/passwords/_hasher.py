"""`PasswordHasher`: Argon2id hashes, and verification of the formats users bring along."""

from __future__ import annotations

import secrets
import threading

import argon2
from pwdlib.hashers.argon2 import Argon2Hasher

from passport_py.errors import ConfigurationError
from passport_py.passwords._formats import (
    MAX_ARGON2_MEMORY_KIB,
    MAX_ARGON2_PARALLELISM,
    MAX_ARGON2_TIME_COST,
    argon2_parameters,
    verifier_for,
)

__all__ = ["MAX_PASSWORD_BYTES", "PasswordHasher", "PasswordTooLongError"]

MAX_PASSWORD_BYTES = 4096
"""Passwords longer than this (in UTF-8 bytes) are never hashed (P0-19: no CPU spent on them)."""


class PasswordTooLongError(ValueError):
    """`hash()` was given a password over `MAX_PASSWORD_BYTES` UTF-8 bytes."""


def _encode(password: str) -> bytes:
    if not isinstance(password, str):
        raise TypeError(f"password must be str, not {type(password).__name__}")
    return password.encode("utf-8")


class PasswordHasher:
    """Argon2id hashing (through pwdlib and argon2-cffi) with upgrade-on-login verification.

    The defaults are RFC 9106's second recommended option (section 4), the one for memory-
    constrained servers: Argon2id, 3 passes, 64 MiB, 4 lanes, a 16-byte salt and a 32-byte tag.
    The first option (2 GiB per hash) does not fit a web server hashing logins concurrently;
    the second is above OWASP's minimums (19 MiB with 2 passes) and takes tens of
    milliseconds per hash on current servers.

    `verify` also reads the formats of Django, Werkzeug and bcrypt (see the module docs) so
    migrated users can log in; `verify_and_update` then hands back an Argon2id hash to store.
    A stored string it cannot read raises `InvalidHashError` (a `ValueError`); a wrong
    password is just False.
    """

    def __init__(
        self,
        *,
        time_cost: int = 3,
        memory_cost: int = 65536,
        parallelism: int = 4,
        hash_len: int = 32,
        salt_len: int = 16,
    ) -> None:
        if not (
            1 <= time_cost <= MAX_ARGON2_TIME_COST
            and 8 * parallelism <= memory_cost <= MAX_ARGON2_MEMORY_KIB
            and 1 <= parallelism <= MAX_ARGON2_PARALLELISM
            and hash_len >= 16
            and salt_len >= 16
        ):
            raise ConfigurationError(
                "PasswordHasher parameters out of range: use time_cost 1.."
                f"{MAX_ARGON2_TIME_COST}, memory_cost (KiB) 8*parallelism.."
                f"{MAX_ARGON2_MEMORY_KIB}, parallelism 1..{MAX_ARGON2_PARALLELISM}, "
                "hash_len and salt_len of at least 16"
            )
        self.time_cost = time_cost
        self.memory_cost = memory_cost
        self.parallelism = parallelism
        self.hash_len = hash_len
        self.salt_len = salt_len
        self._argon2 = Argon2Hasher(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            hash_len=hash_len,
            salt_len=salt_len,
            type=argon2.Type.ID,
        )
        self._dummy: str | None = None
        self._dummy_lock = threading.Lock()

    def hash(self, password: str) -> str:
        """An Argon2id hash of `password`; PasswordTooLongError over MAX_PASSWORD_BYTES."""
        raw = _encode(password)
        if len(raw) > MAX_PASSWORD_BYTES:
            raise PasswordTooLongError(
                f"password is {len(raw)} bytes; passport_py.passwords hashes at most "
                f"{MAX_PASSWORD_BYTES} bytes (UTF-8): refuse it in your form or API"
            )
        return self._argon2.hash(raw)

    def verify(self, password: str, stored: str | None) -> bool:
        """True when `password` matches `stored`; with `stored=None`, a dummy verify (False)."""
        return self.verify_and_update(password, stored)[0]

    def verify_and_update(self, password: str, stored: str | None) -> tuple[bool, str | None]:
        """`(matches, new_hash)`: new_hash is an Argon2id hash to store, when one is due.

        One is due when `password` matches and `stored` is another format or Argon2 with
        weaker parameters (another variant, less memory, fewer passes, shorter salt or tag).
        """
        raw = _encode(password)
        if stored is None:
            return self.verify_dummy(password), None
        if not isinstance(stored, str):
            raise TypeError(f"stored hash must be str or None, not {type(stored).__name__}")
        if len(raw) > MAX_PASSWORD_BYTES:
            # No hash we write can match it, and no CPU is spent on an oversized input.
            return False, None
        if not verifier_for(stored)(raw, stored):
            return False, None
        return True, (self.hash(password) if self.needs_update(stored) else None)

    def verify_dummy(self, password: str) -> bool:
        """Spend the time of one verify at the current parameters and return False.

        Call it when the user does not exist, so that a login for an unknown account takes as
        long as one with a wrong password and does not tell which accounts exist.
        """
        raw = _encode(password)[:MAX_PASSWORD_BYTES]
        self._argon2.verify(raw, self._dummy_hash())
        return False

    def needs_update(self, stored: str) -> bool:
        """True when `stored` is not Argon2id at least as strong as this hasher's parameters."""
        if not stored.startswith("$argon2"):
            verifier_for(stored)  # raises InvalidHashError for an unknown format
            return True
        params = argon2_parameters(stored)
        return (
            params.type is not argon2.Type.ID
            or params.version < argon2.low_level.ARGON2_VERSION
            or params.memory_cost < self.memory_cost
            or params.time_cost < self.time_cost
            or params.hash_len < self.hash_len
            or params.salt_len < self.salt_len
        )

    def _dummy_hash(self) -> str:
        # Made on first use (one hash), then reused: a hash of a random secret nobody knows.
        with self._dummy_lock:
            if self._dummy is None:
                self._dummy = self._argon2.hash(secrets.token_bytes(32))
            return self._dummy
