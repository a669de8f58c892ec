"""`RecoveryCodeStrategy`: single-use recovery codes as a second factor, for users who lost
their authenticator app; `generate_recovery_codes` makes a set.

Codes look like `k7f3-9xq2-m4tp`: 12 characters from an alphabet without look-alikes (no 0,
o, 1, l, i), about 59 bits each from `secrets`. The app shows them once and stores only their
Argon2id hashes (`passport_py.passwords`, ASVS V6.5.2); a used code is removed. Input is
normalised (case, dashes and spaces do not matter). Needs the `passwords` extra.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeAlias

from passport_py._async import call
from passport_py.events import Events, RecoveryCodeUsed
from passport_py.options import AuthenticateOptions
from passport_py.outcomes import Outcome
from passport_py.passwords import InvalidHashError, PasswordHasher
from passport_py.passwords._local import _default, _off_loop
from passport_py.request import AuthRequest
from passport_py.strategies._posted_code import NO_SUBJECT, posted_code
from passport_py.strategy import Strategy

__all__ = [
    "RECOVERY_ALPHABET",
    "Consume",
    "RecoveryCodeStrategy",
    "RecoveryLookup",
    "generate_recovery_codes",
    "normalize_recovery_code",
]

logger = logging.getLogger("passport_py.strategies.recovery")

RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
"""The characters of a recovery code: digits and lower-case letters without 0, 1, i, l, o."""
_GROUPS, _GROUP_LEN = 3, 4
_CODE = re.compile(f"[{RECOVERY_ALPHABET}]{{{_GROUPS * _GROUP_LEN}}}")
_SEPARATORS = re.compile(r"[\s-]+")
# Longer input is refused before any normalising (a code with generous spacing fits).
_MAX_INPUT = 64
_MALFORMED = "Enter one of your recovery codes"
_WRONG = "Invalid or already used recovery code"

RecoveryLookup: TypeAlias = Callable[
    [Any], "Sequence[str] | Awaitable[Sequence[str] | None] | None"
]
"""`lookup(user)` -> the stored hashes of the user's unused recovery codes; sync or async."""
Consume: TypeAlias = Callable[[Any, str], "bool | Awaitable[bool]"]
"""`consume(user, stored_hash)`: remove that hash atomically; False when it was already gone
(another request used the code first). Sync or async."""


def normalize_recovery_code(code: str) -> str | None:
    """`code` as stored (lower case, no dashes or spaces), or None when it cannot be a code."""
    if len(code) > _MAX_INPUT:
        return None
    normal = _SEPARATORS.sub("", code).lower()
    return normal if _CODE.fullmatch(normal) else None


def generate_recovery_codes(
    count: int = 10, *, hasher: PasswordHasher | None = None
) -> tuple[list[str], list[str]]:
    """`(codes, hashes)`: `count` new codes to show the user once, and their hashes to store.

    Storing a new set replaces the old one, which revokes every old code. Hashing is slow on
    purpose (Argon2id, tens of milliseconds a code): in an async app call it through
    `asyncio.to_thread`.
    """
    if not 1 <= count <= 100:
        raise ValueError("generate_recovery_codes(): count must be between 1 and 100")
    active = hasher if hasher is not None else _default()
    raw: set[str] = set()
    while len(raw) < count:
        raw.add("".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(_GROUPS * _GROUP_LEN)))
    normals = sorted(raw)
    codes = ["-".join(n[i : i + _GROUP_LEN] for i in range(0, len(n), _GROUP_LEN)) for n in normals]
    return codes, [active.hash(n) for n in normals]


class RecoveryCodeStrategy(Strategy):
    """Second factor: one of the user's recovery codes, each usable once.

    `lookup(user)` returns the stored hashes of the unused codes; `consume(user, stored_hash)`
    removes the one that matched, atomically, and returns False when another request removed
    it first (the code then fails, so two concurrent uses cannot both succeed). Both may be
    sync or async. The code is read from the form or JSON field `field`. With
    `events=passport.events`, each use emits `RecoveryCodeUsed` with the number left.
    `hasher` must be the one the codes were hashed with (the default hasher otherwise).
    """

    name = "recovery"
    amr = ("rec",)
    second_factor = True

    def __init__(
        self,
        lookup: RecoveryLookup,
        consume: Consume,
        *,
        field: str = "code",
        hasher: PasswordHasher | None = None,
        events: Events | None = None,
    ) -> None:
        if not callable(lookup) or not callable(consume):
            raise TypeError("RecoveryCodeStrategy requires lookup(user) and consume(user, hash)")
        self.lookup = lookup
        self.consume = consume
        self.field = field
        self.hasher = hasher
        self.events = events

    async def authenticate(self, request: AuthRequest, options: AuthenticateOptions) -> Outcome:
        """Find the stored hash matching the posted code for `options.subject.user`, and
        consume it."""
        subject = options.subject
        if subject is None:
            return NO_SUBJECT
        posted = await posted_code(request, self.field, _MALFORMED)
        if not isinstance(posted, str):
            return posted
        code = normalize_recovery_code(posted)
        if code is None:
            return self.fail({"message": _MALFORMED}, 400)
        account = str(subject.serialized)
        found_hashes: Sequence[str] | None = await call(self.lookup, subject.user)
        stored = list(found_hashes or ())
        if not stored:
            return self.fail({"message": "No recovery codes are left"}, 401, account=account)
        hasher = self.hasher if self.hasher is not None else _default()
        found = await _off_loop(_matching_hash, hasher, code, stored, account)
        if found is None or not await call(self.consume, subject.user, found):
            return self.fail({"message": _WRONG}, 401, account=account)
        if self.events is not None and self.events.wants(RecoveryCodeUsed):
            await self.events.emit(
                RecoveryCodeUsed(subject.serialized, len(stored) - 1, request.client_ip, request)
            )
        return self.success(subject.user)


def _matching_hash(
    hasher: PasswordHasher, code: str, stored: list[str], account: str
) -> str | None:
    """The stored hash `code` matches; one slow verify per hash, in one worker thread."""
    for candidate in stored:
        try:
            if hasher.verify(code, candidate):
                return candidate
        except (InvalidHashError, TypeError) as exc:
            logger.warning("recovery code hash of user %r unreadable, skipped: %s", account, exc)
    return None
