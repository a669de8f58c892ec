"""The demo's HTML: one layout (header with navigation and logout, one h1, flashes, footer)
and the page bodies. Every value that comes from a user or a request is escaped here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape

from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse

from passport_py.adapters.starlette import is_authenticated, pop_flashes
from passport_py.demo.style import STYLE
from passport_py.strategies._oauth2_transactions import EXPIRED, INVALID_STATE, UNABLE_TO_VERIFY

__all__ = [
    "ERROR_PAGES",
    "account_body",
    "anonymous_body",
    "error_page",
    "friendly",
    "layout",
    "login_body",
    "page",
]

_RESTART = 'Start again with "Log in with the development provider".'

#: Library and provider messages a visitor may see in a flash, said the way a person would.
FRIENDLY = {
    "The resource owner or authorization server denied the request": (
        "You pressed Deny at the development provider, so nobody was logged in. "
        "Log in with a password, or try the provider again."
    ),
    UNABLE_TO_VERIFY: (
        "That sign-in was already used or was started in another browser, so nobody was "
        f"logged in. {_RESTART}"
    ),
    INVALID_STATE: f"That sign-in did not match the one this browser started. {_RESTART}",
    EXPIRED: f"That sign-in took too long and expired. {_RESTART}",
    "Cross-site login refused": (
        "That login came from a form on another site, so the demo refused it. "
        "Log in with the form on this page."
    ),
    "Request body is too large": (
        "That form was too large for the demo to read. Check what you typed and try again."
    ),
    "Form body must be percent-encoded (raw non-ASCII bytes)": (
        "Your browser sent the form in a way the demo cannot read. Reload the page and try again."
    ),
}

ERROR_PAGES = {
    400: (
        "That request could not be read",
        "Something in what your browser sent was not what the demo expected.",
        "Go back, reload the page and try again.",
    ),
    401: (
        "You need to log in",
        "This address needs a login, or, for the JSON API, the API token shown on your "
        "account page.",
        "Log in and come back, or send the token in an Authorization: Bearer header.",
    ),
    403: (
        "You are not allowed to do that",
        "The demo refused this request.",
        "If you expected it to work, log in again and retry from the page you started on.",
    ),
    404: (
        "Page not found",
        "There is no page at this address.",
        "Check the address, or start again from the home page.",
    ),
    405: (
        "This address takes a button, not a visit",
        "It only answers a form, such as the Log out button, not a link or a typed address.",
        "Use the buttons on the demo's pages instead.",
    ),
    413: (
        "That was too much to send",
        "What your browser sent was larger than the demo accepts.",
        "Check what you typed and try again.",
    ),
    502: (
        "The sign-in provider did not answer",
        "The demo could not reach the provider it was asked to log you in with.",
        "Log in with a password instead, or restart the demo (make demo) and try again.",
    ),
    500: (
        "Something went wrong on our side",
        "The demo could not finish this request.",
        "Try again in a moment; the terminal running the demo shows what failed.",
    ),
}
"""What an error page says for a status: heading, what happened, what to do."""


def friendly(message: str) -> str:
    """`message` said plainly when it is one of the known library phrases, else as it is."""
    return FRIENDLY.get(message, message)


def layout(
    title: str,
    body: str,
    *,
    user: str | None,
    path: str = "/",
    flashes: Iterable[tuple[str, str]] = (),
    footer: str = "",
    slim: bool = False,
) -> str:
    """A whole page: `title` as the h1, `body` (HTML) below it, navigation for `user` (None:
    nobody is logged in), `path` marked as the current page; `slim` for a single form."""
    shown = "".join(
        f'<p class="flash {escape(kind)}" role="alert">{escape(friendly(text))}</p>'
        for kind, text in flashes
    )
    foot = f'<footer class="wrap"><p>{footer}</p></footer>' if footer else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · passport_py demo</title><style>{STYLE}</style></head>"
        '<body><a class="skip" href="#main">Skip to content</a>'
        f'<header class="top"><div class="bar">{_brand()}{_nav(user, path)}</div></header>'
        f'<main id="main" class="{"wrap slim" if slim else "wrap"}">'
        f"<h1>{escape(title)}</h1>{shown}{body}</main>{foot}"
        "</body></html>"
    )


def page(
    request: Request, title: str, body: str, *, footer: str = "", slim: bool = False
) -> HTMLResponse:
    """`layout` for `request`'s user, with the flashes waiting in its session."""
    return HTMLResponse(
        layout(
            title,
            body,
            user=_username(request),
            path=request.url.path,
            flashes=pop_flashes(request),
            footer=footer,
            slim=slim,
        )
    )


def error_page(conn: HTTPConnection, status: int) -> str:
    """The page a browser sees instead of a bare status line: what happened, what to do, and
    the way back. Flashes are left for the next ordinary page."""
    family = status if status in ERROR_PAGES else (500 if status >= 500 else 400)
    heading, happened, todo = ERROR_PAGES[family]
    user = _username(conn)
    links = '<a class="button" href="/">Back to the home page</a>'
    if user is None and status in (401, 403):
        links = '<a class="button" href="/login">Log in</a>' + links.replace(
            'class="button"', 'class="button secondary"'
        )
    body = (
        f'<div class="card"><p class="status">Error {status}</p>'
        f'<p class="lead">{escape(happened)}</p><p>{escape(todo)}</p>'
        f'<div class="actions">{links}</div></div>'
    )
    return layout(heading, body, user=user, path=conn.url.path, slim=True)


def anonymous_body(dev_button: str, users: Mapping[str, str]) -> str:
    """The home page for a visitor: what the demo shows and the ways to log in."""
    return (
        '<div class="card"><p class="lead">Nobody is logged in.</p>'
        "<p>This demo shows passport_py at work: a password login with remember-me, "
        "OpenID Connect against a development provider that runs next to it, server-side "
        "sessions you can end everywhere at once, and a JSON API that takes a bearer token.</p>"
        f'<div class="actions"><a class="button" href="/login">Log in</a>{dev_button}</div></div>'
        '<div class="card"><h2>Try it</h2>'
        '<p><a href="/secret">The secret page</a> needs a login: visit it and the demo sends '
        "you to the login page, then back.</p>"
        f"<p>{_demo_users(users)}</p></div>"
    )


def account_body(username: str, token: str, scopes: str, api_url: str, links: str) -> str:
    """The home page for a logged-in user: their API token, linked accounts and sessions."""
    name, token, api_url = escape(username), escape(token), escape(api_url)
    scope_list = ", ".join(f"<code>{escape(scope)}</code>" for scope in scopes.split())
    return (
        f'<div class="card"><p class="lead">Logged in as <b>{name}</b>.</p>'
        '<p>Only logged-in users may open <a href="/secret">the secret page</a>.</p></div>'
        '<div class="card"><h2>Your API token</h2>'
        f"<p>Your API token: <code>{token}</code></p>"
        "<p>The JSON API answers with who you are when it is sent along, as a bearer token "
        "or as an API key:</p>"
        f"<pre><code>curl -H 'Authorization: Bearer {token}' {api_url}\n"
        f"curl -H 'X-API-Key: {token}' {api_url}</code></pre>"
        f"<p>Its scopes: {scope_list}. Try every operation in "
        '<a href="/api/docs">the API docs</a>: press Authorize and paste the token.</p></div>'
        f"{links}"
        '<div class="card"><h2>Security</h2>'
        "<p>Turn on two-factor login with an authenticator app, and keep recovery codes for "
        'the day you lose it: <a href="/account/security">security settings</a>.</p></div>'
        '<div class="card"><h2>Your sessions</h2>'
        '<p>See <a href="/sessions">where you are logged in</a> and end the sessions you '
        "do not recognise; log out here only; or end every session you have, on every browser "
        "and device.</p>"
        '<div class="actions"><a class="button secondary" href="/sessions">Your sessions</a>'
        '<form method="post" action="/logout">'
        '<button class="secondary">Log out</button></form>'
        '<form method="post" action="/logout-everywhere">'
        '<button class="danger">Log out everywhere</button></form></div></div>'
    )


def login_body(action: str, dev_fragment: str, users: Mapping[str, str]) -> str:
    """The login form posting to `action` (already escaped), then the other ways in."""
    return (
        '<div class="card">'
        f'<form method="post" action="{action}">'
        '<div class="field"><label for="username">Username</label>'
        '<input id="username" name="username" autocomplete="username webauthn" '
        'autocapitalize="none" '
        'spellcheck="false" required></div>'
        '<div class="field"><label for="password">Password</label>'
        '<input id="password" name="password" type="password" '
        'autocomplete="current-password" required></div>'
        '<div class="check"><input id="remember_me" name="remember_me" type="checkbox">'
        '<label for="remember_me">Remember me on this browser</label></div>'
        '<button type="submit" class="wide">Log in</button></form>'
        '<p class="muted"><a href="/login/email">Log in with a code sent by email</a></p>'
        f"{dev_fragment}</div>"
        f'<p class="muted">{_demo_users(users)}</p>'
    )


def _demo_users(users: Mapping[str, str]) -> str:
    pairs = " or ".join(
        f'<span class="pair"><code>{escape(name)}</code> / <code>{escape(password)}</code></span>'
        for name, password in users.items()
    )
    return f"Demo users: {pairs}."


def _username(conn: HTTPConnection) -> str | None:
    if not is_authenticated(conn):
        return None
    return str(getattr(conn.user, "username", conn.user))


def _brand() -> str:
    return (
        '<a class="brand" href="/"><span class="logo" aria-hidden="true">P</span>'
        "<span>passport_py <small>demo</small></span></a>"
    )


def _nav(user: str | None, path: str) -> str:
    def link(href: str, text: str) -> str:
        current = ' aria-current="page"' if href == path else ""
        return f'<li><a href="{href}"{current}>{text}</a></li>'

    items = link("/", "Home") + link("/secret", "Secret page") + link("/api/docs", "API docs")
    if user is not None:
        items += link("/sessions", "Sessions") + link("/account/security", "Security")
    items += link("/mailbox", "Mailbox")
    if user is None:
        items += link("/login", "Log in")
    else:
        items += (
            f'<li class="who"><span class="long">Signed in as </span>{escape(user)}</li>'
            '<li><form method="post" action="/logout">'
            '<button class="quiet">Log out</button></form></li>'
        )
    return f'<nav aria-label="Main"><ul>{items}</ul></nav>'
