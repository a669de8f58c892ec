"""Framework-neutral pieces every adapter shares: who gets a login page, where it sends them,
and what `login` accepts."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any
from urllib.parse import urlencode

from passport_py.decisions import Respond, redirect_response
from passport_py.errors import ConfigurationError
from passport_py.redirects import safe_redirect
from passport_py.request import encode_path
from passport_py.step_up import REAUTH_MESSAGE, StepUp

__all__ = [
    "MAX_RETURN_TO",
    "check_remember",
    "login_redirect_url",
    "reauth_refusal",
    "return_to_target",
    "wants_login_page",
]

#: Longest return-to URL kept: it is saved in the session of every anonymous request that
#: meets `login_required`, so a long query must not make each of those sessions large.
MAX_RETURN_TO = 2000


def wants_login_page(accept: str | None, has_authorization: bool) -> bool:
    """True for a browser (Accept names text/html, no Authorization header); False for APIs.

    `login_required` redirects the first to the login page and answers the second with 401.
    """
    return not has_authorization and "text/html" in (accept or "")


def return_to_target(path: str, query: str = "") -> str:
    """The same-site path to come back to after login, from a request's decoded path and
    raw query string; "/" when that would not be a safe redirect.

    The path is re-encoded: a decoded path with a space or a non-ASCII character would
    otherwise fail `is_safe_redirect` and lose its return-to. Over `MAX_RETURN_TO`
    characters, the query is dropped (and then the path).
    """
    here = encode_path(path)
    if query and len(here) + 1 + len(query) <= MAX_RETURN_TO:
        here = f"{here}?{query}"
    return safe_redirect(here if len(here) <= MAX_RETURN_TO else "/", "/")


def login_redirect_url(login_url: str, target: str) -> str:
    """`login_url` with `next=<target>` added to its query string."""
    sep = "&" if "?" in login_url else "?"
    return f"{login_url}{sep}{urlencode({'next': target})}"


def check_remember(session: bool, remember: bool) -> None:
    """`login(..., session=False, remember=True)` is a mistake: only a session login is
    remembered. Raised by every adapter's `login` before anything changes."""
    if remember and not session:
        raise ConfigurationError(
            "login(..., remember=True) remembers a session login: drop session=False"
        )


def reauth_refusal(
    step_up: StepUp,
    *,
    browser: bool,
    target: str,
    page: str,
    session: MutableMapping[str, Any] | None,
    return_to_key: str,
    flash: Callable[[str, str], None] | None,
) -> Respond:
    """What `fresh_login_required` answers a logged-in user whose login is stale.

    Browsers are redirected to `page` (the re-authentication page, resolved by the adapter)
    with `next=<target>`, also saved in `session` as the return-to URL, and `flash` tells them
    why; API clients get `step_up.api_refusal()`.
    """
    if not browser:
        return step_up.api_refusal()
    if session is not None:
        session[return_to_key] = target
        if flash is not None:
            flash("info", REAUTH_MESSAGE)
    return redirect_response(login_redirect_url(page, target))
