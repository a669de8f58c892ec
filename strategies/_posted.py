"""Reading named fields from a posted form or JSON body, strictly, for the strategies that
take what a person typed (a username and password, a one-time code, an email address)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from passport_py.errors import BadRequest
from passport_py.request import MultiMapping, ensure_text, media_type

if TYPE_CHECKING:
    from passport_py.request import AuthRequest

__all__ = ["FORM_TYPES", "posted_fields", "single"]

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _has_body(request: AuthRequest) -> bool:
    length = request.headers.get("content-length")
    return request.headers.get("transfer-encoding") is not None or length not in (None, "0")


async def posted_fields(
    request: AuthRequest, fields: Sequence[str], what: str
) -> tuple[str | None, ...]:
    """The value of each of `fields` in the body (None when absent), as text.

    A form field sent twice, a value that is not text, a JSON body that is not an object or is
    malformed raise `BadRequest` (400); a body of another type raises it with 415 and says to
    send `what` ("the credentials", "the code") as a form or JSON. No body: all None.
    """
    kind = media_type(request)
    if kind in FORM_TYPES:
        form = await request.form()
        return tuple(single(form, f) for f in fields)
    if kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json")):
        data = await request.json()
        if not isinstance(data, dict):
            raise BadRequest("JSON body must be an object")
        return tuple(_lookup(data, f) for f in fields)
    if kind or _has_body(request):
        raise BadRequest(
            f"Unsupported content type: send {what} as application/x-www-form-urlencoded, "
            "multipart/form-data or application/json",
            415,
        )
    return tuple(None for _ in fields)


def single(values: MultiMapping, field: str) -> str | None:
    """The one value of `field`; duplicates are refused because frameworks disagree on them."""
    found = values.getlist(field)
    if not found:
        return None
    if len(found) > 1:
        raise BadRequest(f"Field {field!r} was sent more than once")
    return ensure_text(found[0], field)


def _lookup(data: dict[str, Any], field: str) -> str | None:
    """`field` in a JSON object; `user[name]` walks into nested objects, as in Passport."""
    path = field.replace("]", "").split("[")
    value: Any = data
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    if value is None:
        return None
    return ensure_text(value, field)
