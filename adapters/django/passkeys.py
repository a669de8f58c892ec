"""Serving the passkeys browser script (`passportPasskeys`) from a Django project:
`path("static/passkeys.js", passkeys_script_view)` in your urlpatterns."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed

from passport_py.strategies._webauthn_script import PASSKEYS_SCRIPT_HEADERS, passkeys_script

__all__ = ["passkeys_script_view"]


def passkeys_script_view(request: HttpRequest) -> HttpResponse:
    """A Django view answering the passkeys script (GET and HEAD)."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return HttpResponse(passkeys_script(), headers=dict(PASSKEYS_SCRIPT_HEADERS))
