"""Django adapter: `PassportMiddleware`, the `authenticate` / `authorize` / `login_required` /
`fresh_login_required` decorators and class-based view mixins, `login` / `logout` (`alogin` /
`alogout` in async views), `update_session_auth` (`aupdate_session_auth`),
`is_authenticated`, and `pending_login` (`apending_login`) / `cancel_pending` for a
second-factor page.

Settings: `PASSPORT_AUTHENTICATOR = "dotted.path.to.passport"`, and
`"passport_py.adapters.django.PassportMiddleware"` in `MIDDLEWARE` after `SessionMiddleware`,
where Django's `AuthenticationMiddleware` would go, and `"passport_py.adapters.django"` in
`INSTALLED_APPS` for the system checks (`manage.py check`, ids `passport_py.*`).
`request.user` is your user when logged in and Django's `AnonymousUser` otherwise.
`PASSPORT_RESTORE_WITH = ["remember-me"]` logs in a request whose session holds no login with
those strategies (remember-me).

This module imports without configured settings; `PassportMiddleware` (a subclass of Django's
`AuthenticationMiddleware`, whose module needs the app registry) is loaded when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from passport_py._extras import install_hint

try:
    import django  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        f"passport_py.adapters.django needs Django: {install_hint('django')}"
    ) from exc

from passport_py.adapters.django._request import DjangoAuthRequest, DjangoSession
from passport_py.adapters.django.checks import register as _register_checks
from passport_py.adapters.django.decorators import (
    authenticate,
    authorize,
    fresh_login_required,
    login_required,
)
from passport_py.adapters.django.mixins import (
    AuthenticateMixin,
    AuthorizeMixin,
    FreshLoginRequiredMixin,
    LoginRequiredMixin,
)
from passport_py.adapters.django.pending import apending_login, cancel_pending, pending_login
from passport_py.adapters.django.views import (
    alogin,
    alogout,
    aupdate_session_auth,
    is_authenticated,
    login,
    logout,
    pop_flashes,
    update_session_auth,
)

# Also without the app in INSTALLED_APPS: a project whose views import the adapter is checked.
_register_checks()

if TYPE_CHECKING:
    from passport_py.adapters.django.middleware import PassportMiddleware

__all__ = [
    "AuthenticateMixin",
    "AuthorizeMixin",
    "DjangoAuthRequest",
    "DjangoSession",
    "FreshLoginRequiredMixin",
    "LoginRequiredMixin",
    "PassportMiddleware",
    "alogin",
    "alogout",
    "apending_login",
    "aupdate_session_auth",
    "authenticate",
    "authorize",
    "cancel_pending",
    "fresh_login_required",
    "is_authenticated",
    "login",
    "login_required",
    "logout",
    "pending_login",
    "pop_flashes",
    "update_session_auth",
]


def __getattr__(name: str) -> Any:
    if name == "PassportMiddleware":
        from passport_py.adapters.django.middleware import PassportMiddleware

        return PassportMiddleware
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
