"""The provider's two HTML pages: the consent page and the form_post response.

Plain forms with stable names and ids, so a real browser and an HTTP client that reads the
page can both drive them; the only script is the form_post page's auto-submit.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from passport_py.testing.oidc_provider._models import ProviderUser

__all__ = ["consent_page", "form_post_page"]

#: The pages' stylesheet, inline: the provider serves no files and fetches nothing.
_STYLE = """
:root{color-scheme:light dark;--bg:#eef2f6;--card:#fff;--text:#14181f;--muted:#505a69;
--line:#d3dae4;--accent:#0f766e;--accent-hover:#115e59;--on-accent:#fff;--soft:#e6f4f2;
--ring:#c2410c}
@media (prefers-color-scheme:dark){:root{--bg:#0c1013;--card:#161c21;--text:#e6ebef;
--muted:#9aa6b2;--line:#2a333c;--accent:#5eead4;--accent-hover:#99f6e4;--on-accent:#0c1013;
--soft:#15302d;--ring:#fdba74}}
*,*::before,*::after{box-sizing:border-box}
body{margin:0;min-height:100vh;display:grid;place-items:start center;padding:2.5rem 1rem;
background:var(--bg);color:var(--text);
font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{width:100%;max-width:26rem;background:var(--card);border:1px solid var(--line);
border-radius:16px;padding:1.6rem 1.5rem}
.badge{display:inline-block;margin:0 0 .8rem;padding:.2rem .6rem;border-radius:999px;
background:var(--soft);color:var(--accent);font-size:.8rem;font-weight:600}
h1{font-size:1.45rem;line-height:1.25;margin:0 0 .6rem}
p{margin:0 0 1rem}
.muted{color:var(--muted);font-size:.9rem;margin:1.25rem 0 0}
fieldset{border:0;margin:0 0 1.2rem;padding:0;display:grid;gap:.5rem}
legend{font-weight:600;margin:0 0 .5rem;padding:0}
.choice{display:flex;align-items:center;gap:.75rem;padding:.7rem .85rem;cursor:pointer;
border:1px solid var(--line);border-radius:12px}
.choice:has(:checked){border-color:var(--accent);background:var(--soft)}
.choice small{display:block;color:var(--muted);overflow-wrap:anywhere}
input[type=radio]{width:1.1rem;height:1.1rem;margin:0;flex:none;accent-color:var(--accent)}
.actions{display:flex;flex-wrap:wrap;gap:.6rem}
button{flex:1 1 8rem;min-height:2.75rem;padding:.6rem 1rem;font:inherit;font-weight:600;
border-radius:10px;border:1px solid var(--accent);background:var(--accent);
color:var(--on-accent);cursor:pointer}
button:hover{background:var(--accent-hover)}
button.secondary{background:transparent;color:var(--accent)}
button.secondary:hover{background:var(--soft)}
:focus-visible{outline:3px solid var(--ring);outline-offset:2px}
@media (max-width:30rem){body{padding:1rem .75rem}main{padding:1.3rem 1.1rem}}
"""


def _head(title: str) -> str:
    return (
        '<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>\n"
    )


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
        f'<label class="choice" for="user-{escape(u.username)}">'
        f'<input type="radio" name="username" value="{escape(u.username)}"'
        f' id="user-{escape(u.username)}"{" checked" if u is chosen else ""}>'
        f"<span>{escape(u.name or u.username)}<small>{_about(u)}</small></span></label>"
        for u in users
    )
    scopes = ", ".join(escape(s) for s in scope.split()) or "no scopes"
    return (
        _head("Sign in - development OpenID provider")
        + '<body>\n<main>\n<p class="badge">For development and tests only</p>\n'
        "<h1>Development OpenID provider</h1>\n"
        f'<p><strong id="client">{escape(client_id)}</strong> asks to sign you in and to see: '
        f'<span id="scope">{scopes}</span></p>\n'
        f'<form method="post" action="{escape(action)}" id="consent">\n'
        f"<fieldset><legend>Sign in as</legend>\n{choices}\n</fieldset>\n"
        '<div class="actions">'
        '<button type="submit" name="decision" value="approve" id="approve">Approve</button>\n'
        '<button type="submit" name="decision" value="deny" id="deny" class="secondary">'
        "Deny</button></div>\n</form>\n"
        '<p class="muted">No password is asked: anyone who reaches this page can sign in as '
        "any of these users. Never expose it beyond your own machine.</p>\n"
        "</main>\n</body>\n</html>\n"
    )


def _about(user: ProviderUser) -> str:
    return " · ".join(escape(part) for part in (user.username, user.email) if part)


def form_post_page(action: str, fields: Sequence[tuple[str, str]]) -> str:
    """OAuth 2.0 Form Post Response Mode: a form that POSTs `fields` to `action` on load."""
    inputs = "\n".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in fields
    )
    return (
        _head("Submit this form") + '<body onload="document.forms[0].submit()">\n'
        f'<main><h1>Signing you in…</h1>\n<form method="post" action="{escape(action)}" '
        f'id="form-post">\n{inputs}\n'
        "<noscript><p>Your browser runs no scripts: continue by hand.</p>"
        '<div class="actions"><button type="submit">Continue</button></div></noscript>\n'
        "</form></main>\n</body>\n</html>\n"
    )
