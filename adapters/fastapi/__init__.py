"""FastAPI adapter: dependencies that authenticate, their scopes, and the OpenAPI document.

```python
from fastapi import Depends, FastAPI, Security
from passport_py.adapters.fastapi import PassportMiddleware, authenticate, login_required
```

`PassportMiddleware`, `login`, `logout`, `logout_everywhere`, `update_session_auth`,
`is_authenticated`, `pending_login`, `cancel_pending` and the sessions-per-device
functions (`user_sessions`, `end_session`, `end_other_sessions`) are the Starlette
adapter's. `authenticate(...)`, `authorize(...)`, `login_required`,
`fresh_login_required` (bare or with `max_age=`) and `current_user` are dependencies:
use them in `Depends(...)`,
`Security(..., scopes=[...])`, or a router's or app's `dependencies=[...]`.
"""

from __future__ import annotations

from passport_py._extras import install_hint

try:
    import fastapi  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        f"passport_py.adapters.fastapi needs FastAPI: {install_hint('fastapi')}"
    ) from exc

from passport_py.adapters.fastapi.dependencies import (
    AuthDependency,
    FreshLoginRequired,
    PassportHTTPException,
    authenticate,
    authorize,
    current_user,
    fresh_login_required,
    granted_scopes,
    login_required,
)
from passport_py.adapters.fastapi.openapi import (
    SESSION_SCHEME,
    install_openapi_everywhere,
)
from passport_py.adapters.starlette import (
    PassportMiddleware,
    cancel_pending,
    end_other_sessions,
    end_session,
    is_authenticated,
    login,
    logout,
    logout_everywhere,
    pending_login,
    update_session_auth,
    user_sessions,
)
from passport_py.adapters.starlette._checks import ON_CHECKED

if install_openapi_everywhere not in ON_CHECKED:
    ON_CHECKED.append(install_openapi_everywhere)

__all__ = [
    "SESSION_SCHEME",
    "AuthDependency",
    "FreshLoginRequired",
    "PassportHTTPException",
    "PassportMiddleware",
    "authenticate",
    "authorize",
    "cancel_pending",
    "current_user",
    "end_other_sessions",
    "end_session",
    "fresh_login_required",
    "granted_scopes",
    "is_authenticated",
    "login",
    "login_required",
    "logout",
    "logout_everywhere",
    "pending_login",
    "update_session_auth",
    "user_sessions",
]
