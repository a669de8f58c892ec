"""Small helpers the provider presets share: reading untrusted JSON fields, granted scopes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from passport_py.strategies._oauth2_errors import InternalOAuthError
from passport_py.strategies._oauth2_tokens import OAuth2Tokens

__all__ = ["document", "flag", "granted_scopes", "text"]

_SCOPE_SPLIT = re.compile(r"[\s,]+")


def text(value: Any, limit: int = 1024) -> str | None:
    """`value` if it is a non-empty string of at most `limit` characters, else None."""
    return value if isinstance(value, str) and 0 < len(value) <= limit else None


def flag(value: Any) -> bool | None:
    """`value` if it is a JSON boolean, else None ("true" as a string is not a yes)."""
    return value if isinstance(value, bool) else None


def document(value: Any, what: str) -> Mapping[str, Any]:
    """`value` if it is a JSON object, else `InternalOAuthError` naming `what`."""
    if not isinstance(value, Mapping):
        raise InternalOAuthError(f"Failed to parse {what}: not a JSON object")
    return value


def granted_scopes(tokens: OAuth2Tokens, requested: str | None) -> frozenset[str]:
    """The scopes the token endpoint says it granted, or the requested ones when it did not
    say (RFC 6749 5.1: `scope` may be left out when it equals the request). Commas and
    spaces both separate: GitHub writes "read:user,user:email"."""
    scope = tokens.scope if tokens.scope is not None else requested
    return frozenset(part for part in _SCOPE_SPLIT.split(scope or "") if part)
