"""The demo's passkeys: the user's list (add after "confirm it's you", rename, delete), and
"Log in with a passkey" (a button, and the browser's autofill) on the login page.

Browsers accept passkeys for a domain name, never an IP address: the demo's relying party is
`localhost` unless it is served under another name, so passkeys work at
http://localhost:8000/, not at http://127.0.0.1:8000/.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from html import escape
from typing import Any, Protocol
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from passport_py import Authenticator
from passport_py.adapters.starlette import authenticate, fresh_login_required, login_required
from passport_py.adapters.starlette.passkeys import passkeys_script_route
from passport_py.demo.sessions_page import describe_browser
from passport_py.request import queue_session_flash
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

__all__ = ["PasskeyStore", "login_fragment", "passkey_party", "passkey_routes"]

#: The longest name a user may give a passkey.
MAX_NAME = 60

PageMaker = Callable[..., Response]


class Person(Protocol):
    """What the passkeys need of a demo user."""

    @property
    def id(self) -> int:
        """The user's id."""
        ...

    @property
    def username(self) -> str:
        """The name the user logs in with."""
        ...


def passkey_party(bases: Sequence[str]) -> RelyingParty:
    """The demo's relying party for the origins it is served at: the first one named by a
    domain (browsers refuse IP addresses), else http://localhost:8000."""
    named = [b for b in bases if not _is_ip(urlsplit(b).hostname or "")]
    base = named[0] if named else "http://localhost:8000"
    host = urlsplit(base).hostname or "localhost"
    origins = [b for b in named if urlsplit(b).hostname == host] or [base]
    return RelyingParty(host, "passport_py demo", origins)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class PasskeyStore:
    """Each user's handle (random, for ever) and passkeys, as tables in your database would
    hold them. Thread-safe."""

    def __init__(self, users: Mapping[int, Any]) -> None:
        self._users = users
        self._handles: dict[int, bytes] = {}
        self._passkeys: dict[bytes, tuple[int, Passkey]] = {}
        self._lock = threading.Lock()

    def handle(self, user: Person) -> bytes:
        """The user's WebAuthn user handle, made on first use."""
        with self._lock:
            return self._handles.setdefault(user.id, new_user_handle())

    def of(self, user: Person) -> list[Passkey]:
        """The user's passkeys, oldest first."""
        with self._lock:
            mine = [p for owner, p in self._passkeys.values() if owner == user.id]
        return sorted(mine, key=lambda p: p.created)

    def add(self, user: Person, passkey: Passkey) -> None:
        """Keep a passkey just registered."""
        with self._lock:
            self._passkeys[passkey.credential_id] = (user.id, passkey)

    def lookup(self, credential_id: bytes) -> tuple[Any, Passkey] | None:
        """`WebAuthnStrategy`'s lookup: the owner and the passkey, or None."""
        with self._lock:
            found = self._passkeys.get(credential_id)
        if found is None or found[0] not in self._users:
            return None
        return self._users[found[0]], found[1]

    def save_sign_count(self, passkey: Passkey, count: int) -> None:
        """`WebAuthnStrategy`'s save_sign_count."""
        self._change(passkey.credential_id, lambda p: replace(p, sign_count=count))

    def rename(self, user: Person, credential_id: bytes, name: str) -> bool:
        """Rename one of the user's passkeys; False when it is not theirs."""
        return self._change(credential_id, lambda p: replace(p, name=name), owner=user.id)

    def delete(self, user: Person, credential_id: bytes) -> bool:
        """Forget one of the user's passkeys; False when it is not theirs."""
        with self._lock:
            found = self._passkeys.get(credential_id)
            if found is None or found[0] != user.id:
                return False
            del self._passkeys[credential_id]
            return True

    def _change(
        self, credential_id: bytes, change: Callable[[Passkey], Passkey], owner: int | None = None
    ) -> bool:
        with self._lock:
            found = self._passkeys.get(credential_id)
            if found is None or (owner is not None and found[0] != owner):
                return False
            self._passkeys[credential_id] = (found[0], change(found[1]))
            return True


def login_fragment(rp: RelyingParty) -> str:
    """The login page's "Log in with a passkey" button, and the script that also offers
    passkeys in the username field's autofill (only where the page is served under the
    relying party's name: elsewhere the button says where passkeys work)."""
    where = escape(rp.origins[0], quote=True)
    return (
        '<div class="or">or</div>'
        '<button type="button" id="passkey-login" class="secondary wide">Log in with a passkey'
        "</button>"
        '<p id="passkey-error" role="alert" hidden></p>'
        '<script src="/static/passkeys.js"></script>'
        "<script>(function () {"
        f"var rp = {json.dumps(rp.id)}, home = {json.dumps(where)};"
        "var shown = document.getElementById('passkey-error');"
        "function say(text) { shown.textContent = text; shown.className = 'flash error';"
        " shown.hidden = false; }"
        "function failed(error) { if (error && error.name === 'AbortError') return;"
        " say('That passkey did not log you in. Try again, or use your password.'); }"
        "var urls = ['/login/passkey/options', '/login/passkey'];"
        "var here = location.hostname === rp && window.PublicKeyCredential;"
        "if (here) { passportPasskeys.login(urls[0], urls[1], {conditional: true,"
        " onError: function () {}}); }"
        "document.getElementById('passkey-login').addEventListener('click', function () {"
        " if (!here) { say('Passkeys work at ' + home + ' (browsers refuse them on an IP "
        "address).'); return; }"
        " passportPasskeys.login(urls[0], urls[1], {onError: failed}); });"
        "})();</script>"
    )


def _passkeys_body(passkeys: Sequence[Passkey]) -> str:
    rows = "".join(
        '<li class="card">'
        f"<h2>{escape(p.name)}</h2>"
        f'<p class="muted">Added {p.created.strftime("%Y-%m-%d %H:%M UTC")}'
        f"{'; synced to your other devices' if p.backed_up else ''}.</p>"
        '<form method="post" action="/account/passkeys/rename" class="actions">'
        f'<input type="hidden" name="id" value="{escape(p.credential_id_b64)}">'
        f'<label class="long" for="name-{escape(p.credential_id_b64)}">New name</label>'
        f'<input id="name-{escape(p.credential_id_b64)}" name="name" maxlength="{MAX_NAME}" '
        f'value="{escape(p.name)}" required>'
        '<button class="secondary">Rename</button></form>'
        '<form method="post" action="/account/passkeys/delete">'
        f'<input type="hidden" name="id" value="{escape(p.credential_id_b64)}">'
        f'<button class="danger" aria-label="Delete {escape(p.name)}">Delete</button></form>'
        "</li>"
        for p in passkeys
    )
    listed = f'<ul class="plain">{rows}</ul>' if passkeys else "<p>No passkeys yet.</p>"
    return (
        '<div class="card"><p class="lead">Log in with your fingerprint, face or screen lock '
        "instead of a password.</p>"
        '<button type="button" id="passkey-add">Add a passkey</button>'
        '<p id="passkey-error" role="alert" hidden></p></div>'
        f"{listed}"
        '<script src="/static/passkeys.js"></script>'
        "<script>document.getElementById('passkey-add').addEventListener('click', function () {"
        " passportPasskeys.register('/account/passkeys/options', '/account/passkeys/add', null,"
        " {onError: function (error) { var shown = document.getElementById('passkey-error');"
        " shown.textContent = 'No passkey was added: ' + (error.message || error.name);"
        " shown.className = 'flash error'; shown.hidden = false; }}); });</script>"
    )


def passkey_routes(
    page: PageMaker, passport: Authenticator[Any], store: PasskeyStore, rp: RelyingParty
) -> list[BaseRoute]:
    """Register the "passkey" strategy on `passport`; the routes of the passkey pages."""
    passport.use(
        WebAuthnStrategy(rp, store.lookup, store.save_sign_count, events=passport.events),
        "passkey",
    )
    step_up = fresh_login_required(max_age=300)

    @step_up
    async def passkeys_page(request: Request) -> Response:
        return page(request, "Passkeys", _passkeys_body(store.of(request.user)))

    @step_up
    async def add_options(request: Request) -> Response:
        user = request.user
        options = begin_registration(
            request.session,
            rp,
            user_handle=store.handle(user),
            user_name=user.username,
            exclude=store.of(user),
        )
        return Response(options, media_type="application/json")

    @step_up
    async def add(request: Request) -> Response:
        name = describe_browser(request.headers.get("user-agent"))
        try:
            passkey = finish_registration(request.session, rp, await request.body(), name=name)
        except PasskeyError as error:
            return JSONResponse({"message": error.message}, error.status)
        store.add(request.user, passkey)
        queue_session_flash(request.session, "success", f"Passkey added: {name}.")
        return JSONResponse({"redirect": "/account/passkeys"})

    @login_required
    async def rename(request: Request) -> Response:
        form = await request.form()
        credential, name = _credential_id(form.get("id")), form.get("name")
        text = name.strip()[:MAX_NAME] if isinstance(name, str) else ""
        if credential is None or not text or not store.rename(request.user, credential, text):
            queue_session_flash(request.session, "error", "That passkey could not be renamed.")
        else:
            queue_session_flash(request.session, "success", "Passkey renamed.")
        return RedirectResponse("/account/passkeys", 303)

    @step_up
    async def delete(request: Request) -> Response:
        credential = _credential_id((await request.form()).get("id"))
        if credential is None or not store.delete(request.user, credential):
            queue_session_flash(request.session, "error", "That passkey was already deleted.")
        else:
            queue_session_flash(request.session, "success", "Passkey deleted.")
        return RedirectResponse("/account/passkeys", 303)

    async def login_options(request: Request) -> Response:
        return Response(begin_authentication(request.session, rp), media_type="application/json")

    @authenticate("passkey", success_return_to_or_redirect="/", success_flash="Welcome back!")
    async def passkey_login(request: Request) -> Response:  # pragma: no cover - redirects
        return RedirectResponse("/", 303)

    return [
        Route("/account/passkeys", passkeys_page),
        Route("/account/passkeys/options", add_options),
        Route("/account/passkeys/add", add, methods=["POST"]),
        Route("/account/passkeys/rename", rename, methods=["POST"]),
        Route("/account/passkeys/delete", delete, methods=["POST"]),
        Route("/login/passkey/options", login_options),
        Route("/login/passkey", passkey_login, methods=["POST"]),
        passkeys_script_route("/static/passkeys.js"),
    ]


def _credential_id(value: Any) -> bytes | None:
    """A credential id from a form field (base64url), or None when it is not one."""
    if not isinstance(value, str) or not 0 < len(value) <= 1400:
        return None
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError:
        return None
