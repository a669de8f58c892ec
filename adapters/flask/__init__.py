"""Flask adapter: `FlaskPassport`, `current_user`, the `authenticate` / `authorize`
decorators, `login`, `logout`, `login_required`, `fresh_login_required`,
`update_session_auth` and `is_authenticated`, `alogin` / `alogout` for async views, and
`pending_login` / `cancel_pending` for a second-factor page.
`ServerSideSessionInterface` keeps `flask.session` in a `passport_py.sessions` store (memory or
Redis), which `logout_everywhere` and the sessions-per-device functions (`user_sessions`,
`end_session`, `end_other_sessions`) need.

`current_user` is your user object when logged in and a falsy `AnonymousUser` otherwise;
flash messages go through `flask.flash`, so `get_flashed_messages()` shows them.
"""

from __future__ import annotations

from passport_py._extras import install_hint

try:
    import flask  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(f"passport_py.adapters.flask needs Flask: {install_hint('flask')}") from exc

from passport_py.adapters.flask._request import FlaskAuthRequest, FlaskSession
from passport_py.adapters.flask.devices import end_other_sessions, end_session, user_sessions
from passport_py.adapters.flask.extension import (
    AnonymousUser,
    FlaskPassport,
    aget_user,
    current_user,
    get_user,
    passport_extension,
)
from passport_py.adapters.flask.pending import apending_login, cancel_pending, pending_login
from passport_py.adapters.flask.sessions import (
    FlaskServerSession,
    ServerSideSessionInterface,
    UnavailableSession,
)
from passport_py.adapters.flask.views import (
    alogin,
    alogout,
    alogout_everywhere,
    aupdate_session_auth,
    authenticate,
    authorize,
    fresh_login_required,
    is_authenticated,
    login,
    login_required,
    logout,
    logout_everywhere,
    update_session_auth,
)

__all__ = [
    "AnonymousUser",
    "FlaskAuthRequest",
    "FlaskPassport",
    "FlaskServerSession",
    "FlaskSession",
    "ServerSideSessionInterface",
    "UnavailableSession",
    "aget_user",
    "alogin",
    "alogout",
    "alogout_everywhere",
    "apending_login",
    "aupdate_session_auth",
    "authenticate",
    "authorize",
    "cancel_pending",
    "current_user",
    "end_other_sessions",
    "end_session",
    "fresh_login_required",
    "get_user",
    "is_authenticated",
    "login",
    "login_required",
    "logout",
    "logout_everywhere",
    "passport_extension",
    "pending_login",
    "update_session_auth",
    "user_sessions",
]
