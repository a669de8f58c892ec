"""Reading the one-time code a second-factor strategy checks, from a form or JSON body."""

from __future__ import annotations

from typing import TYPE_CHECKING

from passport_py.errors import BadRequest
from passport_py.outcomes import Fail
from passport_py.request import ensure_text, media_type
from passport_py.strategies.local import _FORM_TYPES, _has_body, _single
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
    kind = media_type(request)
    if kind in _FORM_TYPES:
        return _single(await request.form(), field)
    if kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json")):
        data = await request.json()
        if not isinstance(data, dict) or field not in data:
            return None
        # A JSON number is refused, not converted: 012345 would lose its leading zero.
        return ensure_text(data[field], field)
    if kind or _has_body(request):
        raise BadRequest(
            "Unsupported content type: send the code as application/x-www-form-urlencoded, "
            "multipart/form-data or application/json",
            415,
        )
    return None
