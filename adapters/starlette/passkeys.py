"""Serving the passkeys browser script (`passportPasskeys`) from a Starlette app."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from passport_py.strategies._webauthn_script import PASSKEYS_SCRIPT_HEADERS, passkeys_script

__all__ = ["passkeys_script_route"]


def passkeys_script_route(path: str = "/static/passkeys.js") -> Route:
    """A GET route serving the passkeys script at `path` (put it in your app's routes)."""
    script = passkeys_script()

    async def endpoint(request: Request) -> Response:
        return Response(script, headers=dict(PASSKEYS_SCRIPT_HEADERS))

    return Route(path, endpoint, methods=["GET"], name="passkeys_script")
