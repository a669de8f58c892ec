"""Log a user in or out on a Flask test client without going through a login form.

    from passport_py.testing.flask import login, logout

    client = app.test_client()
    login(client, alice)          # the client's next requests are alice's
    assert client.get("/me").json == {"user": "alice"}
    logout(client)

The helpers open the client's session with `client.session_transaction()`, through the app's
own session interface, and log in the way `passport_py.adapters.flask.login` does: the user is
serialized by your serializers, the session regenerated (a new id where the session interface
has ids), and the session saved back into the client's cookie jar.
"""

from __future__ import annotations

from typing import Any

import flask
from flask.testing import FlaskClient

from passport_py._async import run_sync
from passport_py.adapters.flask import FlaskAuthRequest, FlaskSession, passport_extension
from passport_py.adapters.flask._request import native_session
from passport_py.errors import ConfigurationError

__all__ = ["login", "logout"]

_NO_SESSION = (
    "passport_py.testing.flask needs a session: set app.secret_key (the SECRET_KEY setting) "
    "or install a session interface"
)


def login(client: FlaskClient, user: Any, *, fresh: bool = True) -> None:
    """Log `user` in on `client`: its cookie jar then holds a session with `user` logged in.

    `fresh=False` logs in as a remember-me cookie would, so `fresh_login_required` views
    refuse the client.
    """
    app = client.application
    ext = passport_extension(app)
    with app.test_request_context():
        _require_session(app)
        # A request for serializers registered with pass_request=True.
        neutral = FlaskAuthRequest(flask.request, ext.max_body_size)
        serialized = run_sync(ext.passport.serialize(user, neutral))
        auth = run_sync(ext.passport.session_auth(user))
    with client.session_transaction() as session:
        ext.passport.sessions.login(
            FlaskSession(session),
            serialized,
            flash_keys=FlaskAuthRequest.flash_keys,
            fresh=fresh,
            auth=auth,
        )


def logout(client: FlaskClient) -> None:
    """Log the client's user out (the session is regenerated, as `logout` does)."""
    app = client.application
    ext = passport_extension(app)
    with app.test_request_context():
        _require_session(app)
    with client.session_transaction() as session:
        ext.passport.sessions.logout(FlaskSession(session))


def _require_session(app: flask.Flask) -> None:
    # Flask's own error ("Session backend did not open a session") does not say what to do.
    if native_session(app) is None:
        raise ConfigurationError(_NO_SESSION)
