"""Starlette adapter: `PassportMiddleware`, the `authenticate` / `authorize` decorators,
`login`, `logout`, `logout_everywhere`, `update_session_auth`, `login_required`,
`fresh_login_required` (step-up), `is_authenticated`, and `pending_login` /
`cancel_pending` for a second-factor page; and the logged-in user's sessions per
device: `user_sessions`, `end_session`, `end_other_sessions`.

`request.user` is your user object when logged in and Starlette's `UnauthenticatedUser`
otherwise; `request.auth` is a `PassportCredentials` whose scopes include `"authenticated"`
when logged in, so Starlette's own `@requires("authenticated")` works.
"""

from __future__ import annotations

from passport_py._extras import install_hint

try:
    import starlette  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        f"passport_py.adapters.starlette needs Starlette: {install_hint('starlette')}"
    ) from exc

from passport_py.adapters.starlette._request import StarletteAuthRequest, StarletteSession
from passport_py.adapters.starlette.devices import (
    end_other_sessions,
    end_session,
    user_sessions,
)
from passport_py.adapters.starlette.middleware import PassportCredentials, PassportMiddleware
from passport_py.adapters.starlette.views import (
    authenticate,
    authorize,
    cancel_pending,
    fresh_login_required,
    is_authenticated,
    login,
    login_required,
    logout,
    logout_everywhere,
    pending_login,
    pop_flashes,
    update_session_auth,
)

__all__ = [
    "PassportCredentials",
    "PassportMiddleware",
    "StarletteAuthRequest",
    "StarletteSession",
    "authenticate",
    "authorize",
    "cancel_pending",
    "end_other_sessions",
    "end_session",
    "fresh_login_required",
    "is_authenticated",
    "login",
    "login_required",
    "logout",
    "logout_everywhere",
    "pending_login",
    "pop_flashes",
    "update_session_auth",
    "user_sessions",
]
