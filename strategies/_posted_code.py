"""Reading the one-time code a second-factor strategy checks, from a form or JSON body."""

from __future__ import annotations

from typing import TYPE_CHECKING

from passport_py.errors import BadRequest
from passport_py.outcomes import Fail
from passport_py.strategies._posted import posted_fields
from passport_py.strategy import Strategy

if TYPE_CHECKING:
    from passport_py.request import AuthRequest

__all__ = ["NO_SUBJECT", "posted_code"]

#: What a second factor answers when nobody is waiting for one (no `options.subject`).
NO_SUBJECT = Strategy.fail({"message": "No login is waiting for a second factor"}, 401)


async def posted_code(request: AuthRequest, field: str, message: str) -> str | Fail:
    """The single string value of `field`, or a `Fail`: 400 with `message` for a missing,
    repeated or non-string field; the body's own status (413, 415) for an unusable body."""
    try:
        value = await _posted_field(request, field)
    except BadRequest as exc:
        if exc.status != 400:
            return Strategy.fail({"message": exc.message}, exc.status)
        value = None
    if value is None:
        return Strategy.fail({"message": message}, 400)
    return value


async def _posted_field(request: AuthRequest, field: str) -> str | None:
    (value,) = await posted_fields(request, (field,), "the code")
    return value
