"""Serving the passkeys browser script (`passportPasskeys`) from a Flask app."""

from __future__ import annotations

from flask import Flask, Response

from passport_py.strategies._webauthn_script import PASSKEYS_SCRIPT_HEADERS, passkeys_script

__all__ = ["add_passkeys_script", "passkeys_script_view"]


def passkeys_script_view() -> Response:
    """A Flask view answering the passkeys script (`app.add_url_rule(path, view_func=...)`)."""
    return Response(passkeys_script(), headers=list(PASSKEYS_SCRIPT_HEADERS))


def add_passkeys_script(app: Flask, path: str = "/static/passkeys.js") -> None:
    """Serve the passkeys script at `path` on `app` (endpoint "passkeys_script")."""
    app.add_url_rule(path, "passkeys_script", passkeys_script_view, methods=["GET"])
