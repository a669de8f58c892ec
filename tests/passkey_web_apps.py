"""A passkey app per WSGI framework, for tests/test_passkeys_web.py in Chromium: Flask's here,
Django's in tests/passkey_django_app.py (its URLconf), with the pages and stores of this module.

Both serve the same pages over `users.UserStore` (alice and bob) and one `Passkeys` store:

| route                              | what it does                                          |
|------------------------------------|-------------------------------------------------------|
| GET  /                             | who is logged in, a logout button                     |
| GET  /login, POST /login           | the password form (local strategy)                    |
| GET  /passkeys/register            | fresh_login_required: the "add a passkey" button      |
| GET  /passkeys/register/options    | fresh_login_required: `begin_registration` JSON       |
| POST /passkeys/register            | fresh_login_required: `finish_registration`, stored   |
| GET  /passkeys/login/options       | `begin_authentication` with no user (discoverable)    |
| POST /passkeys/login               | authenticate("passkey"): a passwordless login         |
| GET  /login/second-factor          | the pending login's page: "use your passkey"          |
| GET  /passkeys/second-factor/options | `begin_authentication` with the pending user's keys |
| POST /passkeys/second-factor       | authenticate("webauthn"): completes the pending login |
| POST /logout                       | logout                                                |
| GET  /static/passkeys.js           | the shipped script, served the adapter's way          |

Bob's `second_factors` name "webauthn" once he has a passkey; alice has none, so her passkey
logs her in on its own. The relying party's origin is the server's (`http://localhost:<port>`),
known once it listens: `Site.configure(origin)` registers the passkey strategies then. The
pages call `passportPasskeys` (the shipped script) and show its errors in `#status`; the home
page shows the login's `amr`. No pytest in here.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from users import User, UserStore, local_passport

from passport_py import Authenticator
from passport_py.strategies.webauthn import (
    Passkey,
    PasskeyError,
    RelyingParty,
    WebAuthnStrategy,
    begin_authentication,
    begin_registration,
    finish_registration,
    new_user_handle,
)

SECRET = "passkey-web-tests-secret-3e9b1c7a5d2f8e64"
#: Two instances of WebAuthnStrategy, as the Starlette app of tests/passkey_apps.py names them:
#: the passwordless login's, and the second factor's (the name bob's `second_factors` give).
PASSWORDLESS = "passkey"
SECOND_FACTOR = "webauthn"
FORM_LOGIN = {"success_return_to_or_redirect": "/", "failure_redirect": "/login"}
SCRIPT = "/static/passkeys.js"


@dataclass
class Passkeys:
    """The app's passkey table: what `finish_registration` returns, by credential id, and one
    user handle per user, made once and kept."""

    users: UserStore
    handles: dict[int, bytes] = field(default_factory=dict)
    rows: dict[bytes, tuple[int, Passkey]] = field(default_factory=dict)

    def handle_of(self, user: User) -> bytes:
        return self.handles.setdefault(user.id, new_user_handle())

    def of(self, user: User) -> list[Passkey]:
        return [key for owner, key in self.rows.values() if owner == user.id]

    def add(self, user: User, passkey: Passkey) -> None:
        self.rows[passkey.credential_id] = (user.id, passkey)

    def lookup(self, credential_id: bytes) -> tuple[User, Passkey] | None:
        found = self.rows.get(credential_id)
        if found is None:
            return None
        owner, passkey = found
        return self.users.users[owner], passkey

    def save_sign_count(self, passkey: Passkey, count: int) -> None:
        owner, _ = self.rows[passkey.credential_id]
        self.rows[passkey.credential_id] = (owner, replace(passkey, sign_count=count))


@dataclass
class Site:
    """One framework's app, its passport and its stores."""

    name: str
    app: Any
    passport: Authenticator[User]
    users: UserStore
    passkeys: Passkeys
    rp: RelyingParty | None = None

    def configure(self, origin: str) -> None:
        """Register the passkey strategies for the relying party at `origin`."""
        self.rp = RelyingParty(id="localhost", name="passport_py tests", origins=[origin])
        keys = self.passkeys
        self.passport.use(
            WebAuthnStrategy(self.rp, keys.lookup, keys.save_sign_count), PASSWORDLESS
        )
        self.passport.use(
            WebAuthnStrategy(self.rp, keys.lookup, keys.save_sign_count, second_factor=True),
            SECOND_FACTOR,
        )

    def relying_party(self) -> RelyingParty:
        assert self.rp is not None, "configure(origin) once the server listens"
        return self.rp


def site_parts() -> tuple[Authenticator[User], UserStore, Passkeys]:
    users = UserStore.default()
    users.add(User(3, "carol", "looking glass"))
    passport = local_passport(users)
    passport.second_factor_url = "/login/second-factor"
    passkeys = Passkeys(users)

    @passport.second_factors
    def enrolled(user: User) -> list[str]:
        return [SECOND_FACTOR] if user.username == "bob" and passkeys.of(user) else []

    return passport, users, passkeys


# -- the pages both apps serve --------------------------------------------------------------


def page(title: str, body: str) -> str:
    """An HTML page loading the shipped script."""
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<script src="{SCRIPT}"></script></head>
<body><h1>{html.escape(title)}</h1>{body}<p id="status"></p>
<script>{PAGE_SCRIPT}</script></body></html>"""


def csrf_field(csrf: str | None) -> str:
    if csrf is None:
        return ""
    return f'<input type="hidden" name="csrfmiddlewaretoken" value="{html.escape(csrf)}">'


def home_page(user: User | None, session: Any, csrf: str | None = None) -> str:
    """Who is logged in, with what the login proved (the session's `amr`)."""
    if user is None:
        return page("Home", '<p>Nobody is logged in.</p><a href="/login">Log in</a>')
    amr = " ".join(session.get("passport", {}).get("amr", []))
    body = f"""<p id="who">Logged in as {html.escape(user.username)}</p>
<p id="amr">Proved: {html.escape(amr)}</p>
<a href="/passkeys/register">Add a passkey</a>
<form method="post" action="/logout">{csrf_field(csrf)}<button>Log out</button></form>"""
    return page("Home", body)


def login_page(csrf: str | None = None) -> str:
    body = f"""<form method="post" action="/login">{csrf_field(csrf)}
<input name="username" autocomplete="username webauthn">
<input name="password" type="password"><button type="submit">Log in</button></form>
<button id="passkey" onclick="passkeyLogin('/passkeys/login')">Log in with a passkey</button>"""
    return page("Log in", body)


def register_page(user: User, count: int) -> str:
    body = f"""<p>{html.escape(user.username)} has {count} passkey(s).</p>
<button id="register" onclick="passkeyRegister()">Add a passkey</button>"""
    return page("Passkeys", body)


def second_factor_page(user: User) -> str:
    body = f"""<p>{html.escape(user.username)}, confirm it's you with your passkey.</p>
<button id="passkey" onclick="passkeyLogin('/passkeys/second-factor')">Use my passkey</button>"""
    return page("Second factor", body)


# The glue every page runs: the shipped script does the ceremonies (and sends Django's CSRF
# token from its `csrftoken` cookie); the page says where the endpoints are, shows errors, and
# passes the token as a header when the page holds it (Django without a readable cookie).
PAGE_SCRIPT = """
function csrfHeaders() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? {"X-CSRFToken": meta.content} : {};
}
function report(error) {
  document.getElementById("status").textContent = "Error: " + (error && error.message || error);
}
function passkeyRegister() {
  passportPasskeys.register("/passkeys/register/options", "/passkeys/register", null,
    {headers: csrfHeaders(), onError: report});
}
function passkeyLogin(url) {
  passportPasskeys.login(url + "/options", url, {headers: csrfHeaders(), onError: report});
}
"""


def registration_options(session: Any, site: Site, user: User) -> str:
    return begin_registration(
        session,
        site.relying_party(),
        user_handle=site.passkeys.handle_of(user),
        user_name=user.username,
        exclude=site.passkeys.of(user),
    )


def register(session: Any, site: Site, user: User, body: bytes) -> tuple[dict[str, Any], int]:
    """Verify the browser's registration response and store the passkey: the JSON answer
    and its status (the error's message and status when the response is refused)."""
    try:
        passkey = finish_registration(session, site.relying_party(), body, name="Test passkey")
    except PasskeyError as error:
        return {"error": error.message}, error.status
    site.passkeys.add(user, passkey)
    return {"redirect": "/", "name": passkey.name}, 200


def authentication_options(session: Any, site: Site, passkeys: Sequence[Passkey] = ()) -> str:
    return begin_authentication(session, site.relying_party(), passkeys=passkeys)


# -- Flask ----------------------------------------------------------------------------------


def flask_site() -> Site:
    """The Flask app over Flask's cookie session."""
    import flask

    from passport_py.adapters import flask as pf
    from passport_py.adapters.flask.passkeys import add_passkeys_script

    passport, users, passkeys = site_parts()
    app = flask.Flask(__name__)
    app.secret_key = SECRET
    pf.FlaskPassport(app, passport)
    site = Site("flask", app, passport, users, passkeys)
    add_passkeys_script(app, SCRIPT)

    def current() -> User:
        user: User = pf.current_user._get_current_object()
        return user

    def options_json(options: str) -> flask.Response:
        return flask.Response(options, mimetype="application/json")

    @app.get("/")
    def home() -> str:
        return home_page(current() if pf.is_authenticated() else None, flask.session)

    @app.get("/login")
    def login_form() -> str:
        return login_page()

    @app.post("/login")
    @pf.authenticate("local", **FORM_LOGIN)
    def log_in() -> str:  # pragma: no cover - redirects
        return "not reached"

    @app.get("/passkeys/register")
    @pf.fresh_login_required
    def register_form() -> str:
        return register_page(current(), len(passkeys.of(current())))

    @app.get("/passkeys/register/options")
    @pf.fresh_login_required
    def register_options() -> flask.Response:
        return options_json(registration_options(flask.session, site, current()))

    @app.post("/passkeys/register")
    @pf.fresh_login_required
    def register_finish() -> Any:
        return register(flask.session, site, current(), flask.request.get_data())

    @app.get("/passkeys/login/options")
    def login_options() -> flask.Response:
        return options_json(authentication_options(flask.session, site))

    @app.post("/passkeys/login")
    @pf.authenticate(PASSWORDLESS)
    def passkey_login() -> Any:
        return {"redirect": "/"}

    @app.get("/login/second-factor")
    def second_factor() -> Any:
        found = pf.pending_login()
        return flask.redirect("/login") if found is None else second_factor_page(found[0])

    @app.get("/passkeys/second-factor/options")
    def second_factor_options() -> Any:
        found = pf.pending_login()
        if found is None:
            return {"error": "No login is waiting for a second factor"}, 401
        return options_json(authentication_options(flask.session, site, passkeys.of(found[0])))

    @app.post("/passkeys/second-factor")
    @pf.authenticate(SECOND_FACTOR)
    def second_factor_finish() -> Any:
        return {"redirect": "/"}

    @app.post("/logout")
    def log_out() -> Any:
        pf.logout()
        return flask.redirect("/")

    return site
