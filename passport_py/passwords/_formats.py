"""Reading the stored hashes that users migrating from Django, Werkzeug or bcrypt bring.

Every parser checks the cost parameters against caps before any hashing, so a hostile or
corrupted database row cannot make one login burn seconds of CPU or gigabytes of memory.
Each digest is compared with `hmac.compare_digest`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable

import argon2
import bcrypt

__all__ = [
    "BCRYPT_MAX_BYTES",
    "MAX_ARGON2_MEMORY_KIB",
    "MAX_ARGON2_PARALLELISM",
    "MAX_ARGON2_TIME_COST",
    "MAX_BCRYPT_ROUNDS",
    "MAX_ITERATIONS",
    "MAX_SCRYPT_MEMORY",
    "InvalidHashError",
    "argon2_parameters",
    "verifier_for",
]

MAX_ITERATIONS = 10_000_000
"""PBKDF2 iteration counts above this are refused (Django 5.2 and Werkzeug 3.1 use 1,000,000)."""
MAX_SCRYPT_MEMORY = 256 * 1024 * 1024
"""scrypt memory (128 * n * r bytes) above this is refused (Werkzeug's default uses 32 MiB)."""
#: Argon2 caps: memory in KiB (Django's default is 100 MiB), passes, lanes.
MAX_ARGON2_MEMORY_KIB = 256 * 1024
MAX_ARGON2_TIME_COST = 16
MAX_ARGON2_PARALLELISM = 16
MAX_BCRYPT_ROUNDS = 17
"""bcrypt's cost is 2**rounds; 17 is about eight times the common 14."""
BCRYPT_MAX_BYTES = 72
"""bcrypt reads at most 72 bytes of a password; longer ones are refused, never truncated."""

_BCRYPT = re.compile(rb"\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}")
_DIGITS = re.compile(r"[0-9]{1,12}")
_HEX = re.compile(r"(?:[0-9a-f]{2})+")
_PBKDF2_DIGESTS = {"sha1", "sha256", "sha512"}

# Verifies `password` (UTF-8 bytes) against one stored string of a known format.
Verifier = Callable[[bytes, str], bool]


class InvalidHashError(ValueError):
    """A stored password hash that cannot be read: unknown format, malformed, or over a cap.

    The message names the format and the problem, never the hash itself.
    """


def _invalid(scheme: str, problem: str) -> InvalidHashError:
    return InvalidHashError(
        f"stored {scheme} password hash is unreadable: {problem}; "
        "fix the stored value or reset this user's password"
    )


def _number(text: str, scheme: str, what: str, low: int, high: int) -> int:
    if not _DIGITS.fullmatch(text):
        raise _invalid(scheme, f"{what} is not a number")
    value = int(text)
    if not low <= value <= high:
        raise _invalid(scheme, f"{what} {value} is outside {low}..{high}")
    return value


def _b64(text: str, scheme: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise _invalid(scheme, "the digest is not valid base64") from None


def _hex(text: str, scheme: str) -> bytes:
    if not _HEX.fullmatch(text):
        raise _invalid(scheme, "the digest is not lowercase hex")
    return bytes.fromhex(text)


def _scrypt(password: bytes, salt: bytes, n: int, r: int, p: int, dklen: int, scheme: str) -> bytes:
    if n < 2 or n & (n - 1):
        raise _invalid(scheme, "n is not a power of two")
    if 128 * n * r > MAX_SCRYPT_MEMORY or p > 16:
        raise _invalid(scheme, "the scrypt cost is over the cap")
    maxmem = 128 * r * (n + p + 2) + 1024 * 1024
    return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=dklen)


def argon2_parameters(stored: str, scheme: str = "argon2") -> argon2.Parameters:
    """The parameters of an encoded Argon2 hash, checked against the caps."""
    try:
        params = argon2.extract_parameters(stored)
    except argon2.exceptions.InvalidHashError:
        raise _invalid(scheme, "not an encoded Argon2 hash") from None
    if (
        params.memory_cost > MAX_ARGON2_MEMORY_KIB
        or params.time_cost > MAX_ARGON2_TIME_COST
        or params.parallelism > MAX_ARGON2_PARALLELISM
    ):
        raise _invalid(scheme, "the Argon2 cost is over the cap")
    return params


def _argon2(password: bytes, stored: str, scheme: str = "argon2") -> bool:
    argon2_parameters(stored, scheme)
    try:
        return argon2.PasswordHasher().verify(stored, password)
    except argon2.exceptions.VerificationError:
        return False
    except argon2.exceptions.InvalidHashError:
        raise _invalid(scheme, "not an encoded Argon2 hash") from None


def _bcrypt(password: bytes, stored: str, scheme: str = "bcrypt") -> bool:
    raw = stored.encode("ascii", "replace")
    match = _BCRYPT.fullmatch(raw)
    if match is None:
        raise _invalid(scheme, "not a $2a$, $2b$ or $2y$ bcrypt hash")
    _number(match.group(1).decode(), scheme, "rounds", 4, MAX_BCRYPT_ROUNDS)
    if len(password) > BCRYPT_MAX_BYTES:
        # bcrypt would compare only the first 72 bytes: refuse rather than accept a prefix.
        return False
    try:
        return bcrypt.checkpw(password, raw)
    except ValueError:
        raise _invalid(scheme, "bcrypt refused the hash") from None


def _django_pbkdf2(digest: str) -> Verifier:
    scheme = f"Django pbkdf2_{digest}"

    def verify(password: bytes, stored: str) -> bool:
        parts = stored.split("$")
        if len(parts) != 4:
            raise _invalid(scheme, "expected algorithm$iterations$salt$hash")
        iterations = _number(parts[1], scheme, "iterations", 1, MAX_ITERATIONS)
        expected = _b64(parts[3], scheme)
        actual = hashlib.pbkdf2_hmac(digest, password, parts[2].encode(), iterations)
        return hmac.compare_digest(actual, expected)

    return verify


def _django_argon2(password: bytes, stored: str) -> bool:
    # Django stores "argon2" followed by the standard encoding ("$argon2id$v=19$...").
    return _argon2(password, stored[len("argon2") :], "Django argon2")


def _django_bcrypt(password: bytes, stored: str) -> bool:
    return _bcrypt(password, stored[len("bcrypt$") :], "Django bcrypt")


def _django_bcrypt_sha256(password: bytes, stored: str) -> bool:
    # Django pre-hashes with SHA-256 (hex) so bcrypt sees 64 bytes whatever the length.
    prehashed = hashlib.sha256(password).hexdigest().encode()
    return _bcrypt(prehashed, stored[len("bcrypt_sha256$") :], "Django bcrypt_sha256")


def _django_scrypt(password: bytes, stored: str) -> bool:
    scheme = "Django scrypt"
    parts = stored.split("$")
    if len(parts) != 6:
        raise _invalid(scheme, "expected scrypt$n$salt$r$p$hash")
    n = _number(parts[1], scheme, "n", 2, 2**24)
    r = _number(parts[3], scheme, "r", 1, 64)
    p = _number(parts[4], scheme, "p", 1, 16)
    expected = _b64(parts[5], scheme)
    actual = _scrypt(password, parts[2].encode(), n, r, p, 64, scheme)
    return hmac.compare_digest(actual, expected)


def _werkzeug(password: bytes, stored: str) -> bool:
    method, _, rest = stored.partition("$")
    salt, _, digest_text = rest.partition("$")
    args = method.split(":")
    if args[0] == "scrypt":
        scheme = "Werkzeug scrypt"
        if len(args) != 4 or not salt or not digest_text:
            raise _invalid(scheme, "expected scrypt:n:r:p$salt$hash")
        n = _number(args[1], scheme, "n", 2, 2**24)
        r = _number(args[2], scheme, "r", 1, 64)
        p = _number(args[3], scheme, "p", 1, 16)
        expected = _hex(digest_text, scheme)
        actual = _scrypt(password, salt.encode(), n, r, p, 64, scheme)
        return hmac.compare_digest(actual, expected)
    scheme = "Werkzeug pbkdf2"
    # Werkzeug always records the iteration count, so a string without one is not its own.
    if len(args) != 3 or args[1] not in _PBKDF2_DIGESTS or not salt or not digest_text:
        raise _invalid(scheme, "expected pbkdf2:sha256:iterations$salt$hash")
    iterations = _number(args[2], scheme, "iterations", 1, MAX_ITERATIONS)
    expected = _hex(digest_text, scheme)
    actual = hashlib.pbkdf2_hmac(args[1], password, salt.encode(), iterations)
    return hmac.compare_digest(actual, expected)


# Prefixes in the order they are tried (the first two are the standard formats; "bcrypt_sha256$"
# must come before "bcrypt$").
_FORMATS: tuple[tuple[str, Verifier], ...] = (
    ("$argon2", _argon2),
    ("$2", _bcrypt),
    ("pbkdf2_sha256$", _django_pbkdf2("sha256")),
    ("pbkdf2_sha1$", _django_pbkdf2("sha1")),
    ("argon2$", _django_argon2),
    ("bcrypt_sha256$", _django_bcrypt_sha256),
    ("bcrypt$", _django_bcrypt),
    ("scrypt$", _django_scrypt),
    ("scrypt:", _werkzeug),
    ("pbkdf2:", _werkzeug),
)

KNOWN_FORMATS = (
    "Argon2 ($argon2id$, $argon2i$), bcrypt ($2a$, $2b$, $2y$), Django (pbkdf2_sha256$, "
    "pbkdf2_sha1$, argon2$, bcrypt_sha256$, bcrypt$, scrypt$), Werkzeug (scrypt:, pbkdf2:)"
)


def verifier_for(stored: str) -> Verifier:
    """The verifier for `stored`'s format; InvalidHashError when no format matches."""
    for prefix, verifier in _FORMATS:
        if stored.startswith(prefix):
            return verifier
    raise InvalidHashError(
        f"stored password hash has an unknown format; passport_py.passwords reads "
        f"{KNOWN_FORMATS}: fix the stored value or reset this user's password"
    )
