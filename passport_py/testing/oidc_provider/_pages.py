"""The provider's two HTML pages: the consent page and the form_post response.

Plain forms with stable names and ids, so a real browser and an HTTP client that reads the
page can both drive them; the only script is the form_post page's auto-submit.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from passport_py.testing.oidc_provider._models import ProviderUser

__all__ = ["consent_page", "form_post_page"]

_HEAD = '<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>{}</title></head>\n'


def consent_page(
    *,
    action: str,
    client_id: str,
    scope: str,
    users: Sequence[ProviderUser],
    selected: ProviderUser | None,
) -> str:
    """Pick a user, then Approve (name=decision value=approve) or Deny (value=deny)."""
    chosen = selected or (users[0] if users else None)
    choices = "\n".join(
        f'<label><input type="radio" name="username" value="{escape(u.username)}"'
        f' id="user-{escape(u.username)}"{" checked" if u is chosen else ""}>'
        f" {escape(u.name or u.username)} ({escape(u.username)})</label><br>"
        for u in users
    )
    scopes = ", ".join(escape(s) for s in scope.split()) or "no scopes"
    return (
        _HEAD.format("Sign in - development OpenID provider")
        + "<body>\n<h1>Development OpenID provider</h1>\n"
        f'<p><strong id="client">{escape(client_id)}</strong> asks for: '
        f'<span id="scope">{scopes}</span></p>\n'
        f'<form method="post" action="{escape(action)}" id="consent">\n'
        f"<fieldset><legend>Sign in as</legend>\n{choices}\n</fieldset>\n"
        '<button type="submit" name="decision" value="approve" id="approve">Approve</button>\n'
        '<button type="submit" name="decision" value="deny" id="deny">Deny</button>\n'
        "</form>\n</body>\n</html>\n"
    )


def form_post_page(action: str, fields: Sequence[tuple[str, str]]) -> str:
    """OAuth 2.0 Form Post Response Mode: a form that POSTs `fields` to `action` on load."""
    inputs = "\n".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in fields
    )
    return (
        _HEAD.format("Submit this form") + '<body onload="document.forms[0].submit()">\n'
        f'<form method="post" action="{escape(action)}" id="form-post">\n{inputs}\n'
        '<noscript><button type="submit">Continue</button></noscript>\n'
        "</form>\n</body>\n</html>\n"
    )
