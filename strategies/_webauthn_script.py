"""The passkeys browser script shipped in the package, and how adapters serve it (no
py_webauthn needed for that)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

__all__ = ["PASSKEYS_SCRIPT_HEADERS", "passkeys_script"]

#: The headers each adapter serves `passkeys_script()` with: a day in caches (the script
#: changes only with passport_py), and a type browsers execute.
PASSKEYS_SCRIPT_HEADERS = (
    ("Content-Type", "text/javascript; charset=utf-8"),
    ("Cache-Control", "public, max-age=86400"),
    ("X-Content-Type-Options", "nosniff"),
)


@cache
def passkeys_script() -> str:
    """The browser script `passportPasskeys` (register / login), as JavaScript source."""
    return files("passport_py").joinpath("static", "passkeys.js").read_text("utf-8")
