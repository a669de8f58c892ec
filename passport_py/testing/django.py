"""Log a user in or out on Django's test `Client` without going through a login form.

    from passport_py.testing.django import login, logout

    client = Client()
    login(client, alice)          # the client's next requests are alice's
    assert client.get("/me/").json() == {"user": "alice"}
    logout(client)

Like Django's `Client.force_login`, `login` writes the session directly: the passport named by
`settings.PASSPORT_AUTHENTICATOR` serializes the user (serializers get `request=None`), the
session is regenerated as a real login regenerates it, saved with `settings.SESSION_ENGINE`,
and its cookie put in the client's jar. Works with `django.test.Client` and `AsyncClient`.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.conf import settings

from passport_py._async import run_sync
from passport_py.adapters.django._request import DjangoSession
from passport_py.adapters.django._state import load_passport

__all__ = ["login", "logout"]


def login(client: Any, user: Any, *, fresh: bool = True) -> None:
    """Log `user` in on `client`: its cookie jar then holds a session with `user` logged in.

    `fresh=False` records a login restored without credentials (remember-me).
    """
    passport = load_passport()
    session = _session(client)
    serialized = run_sync(passport.serialize(user))
    auth = run_sync(passport.session_auth(user))
    passport.sessions.login(DjangoSession(session), serialized, fresh=fresh, auth=auth)
    session.save()
    name = settings.SESSION_COOKIE_NAME
    client.cookies[name] = session.session_key
    client.cookies[name].update(
        {
            "max-age": None,
            "path": "/",
            "domain": settings.SESSION_COOKIE_DOMAIN,
            "secure": settings.SESSION_COOKIE_SECURE or None,
            "expires": None,
        }
    )


def logout(client: Any) -> None:
    """Log the client's user out: the session is flushed and its cookie dropped."""
    name = settings.SESSION_COOKIE_NAME
    if client.cookies.get(name) is None:
        return
    load_passport().sessions.logout(DjangoSession(_session(client)))
    del client.cookies[name]


def _session(client: Any) -> Any:
    """The client's session (a new, unsaved one when it has no session cookie)."""
    engine = import_module(settings.SESSION_ENGINE)
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    return engine.SessionStore(cookie.value if cookie is not None and cookie.value else None)
