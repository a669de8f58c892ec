"""The demo's two-factor pages: the code page of a pending login, log in by email code, the
account's security settings (authenticator app, recovery codes), and "confirm it's you"."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from passport_py.adapters.starlette import (
    authenticate,
    fresh_login_required,
    login_required,
    pending_login,
)
from passport_py.redirects import safe_redirect
from passport_py.request import queue_session_flash
from passport_py.strategies.totp import confirm_enrollment, new_totp_secret, totp_qr_svg, totp_uri

if TYPE_CHECKING:
    from passport_py.demo.factors import FactorStore

__all__ = ["STEP_UP_SECONDS", "two_factor_routes"]

PageMaker = Callable[..., Response]

STEP_UP_SECONDS = 300
"""Changing security settings needs a login proved at most this long ago (a step-up)."""

_SETUP_KEY = "totp_setup"  # the secret being enrolled, until a code confirms it
_EMAIL_KEY = "email_login"  # the address a login code was asked for
_ISSUER = "passport_py demo"

_CODE_INPUT = (
    '<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" '
    'pattern="[0-9]*" maxlength="6" required>'
)


def _form(
    action: str, label: str, field: str, button: str, extra: str = "", field_id: str = "code"
) -> str:
    return (
        f'<form method="post" action="{action}">{extra}<div class="field">'
        f'<label for="{field_id}">{label}</label>{field}</div>'
        f'<button type="submit" class="wide">{button}</button></form>'
    )


def second_factor_body(name: str, factors: Sequence[str]) -> str:
    """The pending login's page: the authenticator-app code, or a recovery code."""
    body = (
        f'<div class="card"><p class="lead">Your password was right, {escape(name)}. '
        "One more step.</p>"
        + _form(
            "/login/second-factor",
            "Code from your authenticator app",
            _CODE_INPUT,
            "Continue",
        )
        + "</div>"
    )
    if "recovery" in factors:
        field = (
            '<input id="recovery" name="code" autocomplete="off" autocapitalize="none" '
            'spellcheck="false" required>'
        )
        body += (
            '<div class="card"><h2>Lost your phone?</h2>'
            + _form(
                "/login/recovery",
                "A recovery code",
                field,
                "Use a recovery code",
                field_id="recovery",
            )
            + "</div>"
        )
    return body + '<p class="muted"><a href="/login">Start again</a></p>'


def email_body(sent_to: str | None) -> str:
    """Log in by email code: ask for a code, then type it in."""
    if sent_to is None:
        address = '<input id="email" name="email" type="email" autocomplete="email" required>'
        return (
            '<div class="card"><p class="lead">No password needed: we send you a code.</p>'
            '<form method="post" action="/login/email"><div class="field">'
            f'<label for="email">Your email address</label>{address}</div>'
            '<button type="submit" class="wide">Send me a code</button></form></div>'
            '<p class="muted">The demo users are alice@example.com and bob@example.com.</p>'
        )
    hidden = f'<input type="hidden" name="email" value="{escape(sent_to)}">'
    return (
        f'<div class="card"><p class="lead">If {escape(sent_to)} has an account, a code is on '
        'its way. The demo has no mail server: open the <a href="/mailbox">Mailbox</a>.</p>'
        + _form("/login/email", "The code from the email", _CODE_INPUT, "Log in", hidden)
        + '</div><p class="muted"><a href="/login/email?again=1">Use another address</a></p>'
    )


_PASSKEYS_CARD = (
    '<div class="card"><h2>Passkeys</h2><p>Log in with your fingerprint, face or screen lock '
    'instead of a password: <a href="/account/passkeys">your passkeys</a>.</p></div>'
)


def security_body(enrolled: bool, recovery_left: int) -> str:
    """The account's security settings: two-factor login on or off, recovery codes, and the
    way to the passkeys."""
    return _two_factor_card(enrolled, recovery_left) + _PASSKEYS_CARD


def _two_factor_card(enrolled: bool, recovery_left: int) -> str:
    if not enrolled:
        return (
            '<div class="card"><p class="lead">Two-factor login is off.</p>'
            "<p>Add an authenticator app (Google Authenticator, 1Password, Aegis, ...): after "
            "your password, logins then ask for the 6-digit code it shows.</p>"
            '<a class="button" href="/account/totp">Set up an authenticator app</a></div>'
        )
    return (
        '<div class="card"><p class="lead">Two-factor login is on.</p>'
        f"<p>You have {recovery_left} unused recovery code"
        f"{'' if recovery_left == 1 else 's'}.</p>"
        '<div class="actions"><form method="post" action="/account/recovery-codes">'
        '<button class="secondary">New recovery codes</button></form>'
        '<form method="post" action="/account/two-factor/off">'
        '<button class="danger">Turn two-factor login off</button></form></div></div>'
    )


def setup_body(secret: str, qr: str) -> str:
    """Enrolling an authenticator app: the QR code, the secret, and the code that confirms."""
    spaced = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return (
        '<div class="card"><p class="lead">Scan this with your authenticator app.</p>'
        f'<div class="qr">{qr}</div>'
        f"<p>Or type the key: <code>{escape(spaced)}</code></p>"
        + _form("/account/totp", "The 6-digit code the app shows", _CODE_INPUT, "Turn on")
        + "</div>"
    )


def codes_body(codes: Sequence[str]) -> str:
    """Recovery codes, shown once."""
    items = "".join(f"<li><code>{escape(c)}</code></li>" for c in codes)
    return (
        '<div class="card"><p class="lead">Your recovery codes.</p>'
        "<p>Each one logs you in once if you lose your authenticator app. Keep them somewhere "
        "safe: this is the only time they are shown.</p>"
        f'<ul class="codes">{items}</ul>'
        '<a class="button" href="/account/security">Done</a></div>'
    )


def confirm_body(username: str, target: str) -> str:
    """ "Confirm it's you": the password again, for the page at `target`."""
    action = "/login?next=" + escape(target)
    return (
        '<div class="card"><p class="lead">This page changes your security settings, so '
        "enter your password again.</p>"
        f'<form method="post" action="{action}">'
        '<div class="field"><label for="username">Username</label>'
        f'<input id="username" name="username" value="{escape(username)}" readonly '
        'autocomplete="username"></div>'
        '<div class="field"><label for="password">Password</label>'
        '<input id="password" name="password" type="password" '
        'autocomplete="current-password" required></div>'
        '<button type="submit" class="wide">Confirm</button></form></div>'
    )


def two_factor_routes(page: PageMaker, store: FactorStore) -> list[Route]:
    """The routes of the two-factor pages; `page(request, title, body, slim=...)` lays out."""
    code_login: dict[str, Any] = {
        "success_return_to_or_redirect": "/",
        "failure_redirect": "/login/second-factor",
        "failure_flash": True,
        "success_flash": "Welcome back!",
    }

    async def second_factor(request: Request) -> Response:
        found = await pending_login(request)
        if found is None:
            queue_session_flash(request.session, "error", "Log in again: that step expired.")
            return RedirectResponse("/login", 303)
        user, factors = found
        body = second_factor_body(user.username, factors)
        return page(request, "Two-factor login", body, slim=True)

    @authenticate("totp", **code_login)
    async def totp_post(request: Request) -> Response:  # pragma: no cover - always redirects
        return RedirectResponse("/", 303)

    @authenticate("recovery", **code_login)
    async def recovery_post(request: Request) -> Response:  # pragma: no cover - redirects
        return RedirectResponse("/", 303)

    async def email_form(request: Request) -> Response:
        if request.query_params.get("again"):
            request.session.pop(_EMAIL_KEY, None)
        sent_to = request.session.get(_EMAIL_KEY)
        body = email_body(sent_to if isinstance(sent_to, str) else None)
        return page(request, "Log in by email", body, slim=True)

    @authenticate(
        "email-code",
        success_return_to_or_redirect="/",
        failure_redirect="/login/email",
        failure_flash=True,
        success_flash="Welcome back!",
    )
    async def email_post(request: Request) -> Response:
        # Reached when a code was asked for (no code posted): say where to look.
        form = await request.form()
        address = form.get("email")
        if isinstance(address, str):
            request.session[_EMAIL_KEY] = address.strip()[:254]
        return RedirectResponse("/login/email", 303)

    @login_required
    async def security(request: Request) -> Response:
        user = request.user
        body = security_body(bool(store.enrolled(user)), store.recovery_left(user))
        return page(request, "Security", body)

    step_up = fresh_login_required(max_age=STEP_UP_SECONDS)

    @step_up
    async def totp_setup(request: Request) -> Response:
        secret = new_totp_secret()
        request.session[_SETUP_KEY] = secret
        uri = totp_uri(secret, request.user.email, _ISSUER)
        qr = totp_qr_svg(uri, title="QR code for your authenticator app")
        response = page(request, "Set up an authenticator app", setup_body(secret, qr))
        response.headers["Cache-Control"] = "no-store"  # the page holds the secret
        return response

    @step_up
    async def totp_confirm(request: Request) -> Response:
        secret = request.session.get(_SETUP_KEY)
        code = (await request.form()).get("code")
        if not isinstance(secret, str) or not isinstance(code, str):
            step = None
        else:
            step = confirm_enrollment(secret, code)
        if step is None or not isinstance(secret, str):
            queue_session_flash(request.session, "error", "That code did not match. Try again.")
            return RedirectResponse("/account/totp", 303)
        request.session.pop(_SETUP_KEY, None)
        codes = await asyncio.to_thread(store.enable, request.user, secret, step)
        queue_session_flash(request.session, "success", "Two-factor login is on.")
        return _codes_page(request, codes)

    @step_up
    async def recovery_codes(request: Request) -> Response:
        codes = await asyncio.to_thread(store.new_recovery_codes, request.user)
        queue_session_flash(request.session, "success", "Your old recovery codes stopped working.")
        return _codes_page(request, codes)

    @step_up
    async def two_factor_off(request: Request) -> Response:
        store.disable(request.user)
        queue_session_flash(request.session, "success", "Two-factor login is off.")
        return RedirectResponse("/account/security", 303)

    def _codes_page(request: Request, codes: Sequence[str]) -> Response:
        response = page(request, "Recovery codes", codes_body(codes))
        response.headers["Cache-Control"] = "no-store"
        return response

    @login_required
    async def confirm(request: Request) -> Response:
        target = safe_redirect(request.query_params.get("next"), "/account/security")
        body = confirm_body(request.user.username, target)
        return page(request, "Confirm it's you", body, slim=True)

    return [
        Route("/login/second-factor", second_factor),
        Route("/login/second-factor", totp_post, methods=["POST"]),
        Route("/login/recovery", recovery_post, methods=["POST"]),
        Route("/login/email", email_form),
        Route("/login/email", email_post, methods=["POST"]),
        Route("/account/security", security),
        Route("/account/totp", totp_setup),
        Route("/account/totp", totp_confirm, methods=["POST"]),
        Route("/account/recovery-codes", recovery_codes, methods=["POST"]),
        Route("/account/two-factor/off", two_factor_off, methods=["POST"]),
        Route("/account/confirm", confirm),
    ]
