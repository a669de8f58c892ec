"""What a request asks for, read the same way by the engine and the second-factor step:
JSON answers, and a remembered login."""

from __future__ import annotations

from passport_py.request import AuthRequest, media_type

__all__ = ["wants_json", "wants_remember"]


def wants_json(request: AuthRequest) -> bool:
    """A client that sent JSON or asks for it gets its errors as JSON."""
    kind = media_type(request)
    return (
        kind == "application/json"
        or kind.endswith("+json")
        or "application/json" in str(request.headers.get("accept") or "")
    )


_YES = frozenset({"1", "on", "true", "yes"})


async def wants_remember(request: AuthRequest, remember: bool | str) -> bool:
    """`remember=True`, or the login form / JSON body's `remember` field is ticked."""
    if remember is True:
        return True
    name = str(remember)
    kind = media_type(request)
    if kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values = (await request.form()).getlist(name)
        return len(values) == 1 and str(values[0]).lower() in _YES
    if kind == "application/json" or kind.endswith("+json"):
        data = await request.json()
        value = data.get(name) if isinstance(data, dict) else None
        return value is True or (isinstance(value, str) and value.lower() in _YES)
    return False
