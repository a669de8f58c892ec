"""Password hashing: Argon2id by default, and the hashes users bring from Django, Werkzeug, bcrypt.

`hash_password`, `verify_password`, `verify_and_update` and `verify_dummy` use the module's
`default_hasher` (a `PasswordHasher` with RFC 9106's second recommended parameters);
`password_verify` builds a `LocalStrategy` verify callable that rehashes on login. Needs the
`passwords` extra (pwdlib with argon2-cffi and bcrypt).
"""

from __future__ import annotations

from passport_py._extras import install_hint

try:
    import argon2  # noqa: F401
    import bcrypt  # noqa: F401
    import pwdlib  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        f"passport_py.passwords needs pwdlib, argon2-cffi and bcrypt: {install_hint('passwords')}"
    ) from exc

from passport_py.passwords._formats import (
    BCRYPT_MAX_BYTES,
    MAX_ITERATIONS,
    InvalidHashError,
)
from passport_py.passwords._hasher import (
    MAX_PASSWORD_BYTES,
    PasswordHasher,
    PasswordTooLongError,
)
from passport_py.passwords._local import password_verify

__all__ = [
    "BCRYPT_MAX_BYTES",
    "MAX_ITERATIONS",
    "MAX_PASSWORD_BYTES",
    "InvalidHashError",
    "PasswordHasher",
    "PasswordTooLongError",
    "default_hasher",
    "hash_password",
    "password_verify",
    "verify_and_update",
    "verify_dummy",
    "verify_password",
]

default_hasher = PasswordHasher()
"""The hasher the module-level functions and `password_verify` use by default."""


def hash_password(password: str) -> str:
    """An Argon2id hash of `password` with the default parameters."""
    return default_hasher.hash(password)


def verify_password(password: str, stored: str | None) -> bool:
    """True when `password` matches `stored`; None runs a dummy verify and gives False."""
    return default_hasher.verify(password, stored)


def verify_and_update(password: str, stored: str | None) -> tuple[bool, str | None]:
    """`(matches, new_hash)`, new_hash being an Argon2id hash to store when one is due."""
    return default_hasher.verify_and_update(password, stored)


def verify_dummy(password: str) -> bool:
    """One verify's worth of time against a dummy hash; always False (for unknown users)."""
    return default_hasher.verify_dummy(password)
