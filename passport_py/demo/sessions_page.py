"""The demo's "Your sessions" page: every session the user is logged into (when, from where,
which browser), with a button to end one and one to end all the others."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from html import escape

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from passport_py.adapters.starlette import login_required
from passport_py.adapters.starlette.devices import end_other_sessions, end_session, user_sessions
from passport_py.request import queue_session_flash
from passport_py.sessions.devices import UserSession

__all__ = ["describe_browser", "sessions_body", "sessions_routes"]

PageMaker = Callable[[Request, str, str], Response]

#: Words for the browsers and systems a User-Agent names, checked in this order (Edge and
#: Opera also say "Chrome", Chrome also says "Safari").
_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def describe_browser(user_agent: str | None) -> str:
    """`Chrome on Linux`, said from a User-Agent; `Unknown browser` when it names none."""
    if not user_agent:
        return "Unknown browser"
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), None)
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown browser"


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "unknown"
    text = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f'<time datetime="{moment.isoformat()}">{text}</time>'


def _row(entry: UserSession) -> str:
    browser = escape(describe_browser(entry.user_agent))
    where = escape(entry.client_ip or "unknown address")
    details = (
        f"<p>Logged in {_when(entry.created)} from {where}; last seen {_when(entry.last_seen)}.</p>"
    )
    agent = (
        f'<p class="muted"><small>{escape(entry.user_agent)}</small></p>'
        if entry.user_agent
        else ""
    )
    if entry.current:
        action = '<p class="badge">This session</p>'
    else:
        action = (
            '<form method="post" action="/sessions/end">'
            f'<input type="hidden" name="session" value="{escape(entry.handle)}">'
            f'<button class="secondary" aria-label="End the session of {browser}">End</button>'
            "</form>"
        )
    return f'<li class="card"><h2>{browser}</h2>{details}{agent}{action}</li>'


def sessions_body(entries: Sequence[UserSession]) -> str:
    """The page's body: one card per session, this one first, then "end all others"."""
    ordered = sorted(entries, key=lambda e: not e.current)
    others = sum(1 for e in entries if not e.current)
    end_all = (
        '<form method="post" action="/sessions/end-others">'
        '<button class="danger">End all other sessions</button></form>'
        if others
        else "<p>You are not logged in anywhere else.</p>"
    )
    return (
        '<div class="card"><p class="lead">Where you are logged in.</p>'
        "<p>Each browser or device you logged in with has a session here. End one you do not "
        "recognise: that browser is logged out on its next request.</p>"
        f'<div class="actions">{end_all}</div></div>'
        f'<ul class="plain">{"".join(_row(e) for e in ordered)}</ul>'
    )


def sessions_routes(page: PageMaker) -> list[Route]:
    """`GET /sessions`, `POST /sessions/end` and `POST /sessions/end-others`."""

    @login_required
    async def sessions(request: Request) -> Response:
        return page(request, "Your sessions", sessions_body(await user_sessions(request)))

    @login_required
    async def end_one(request: Request) -> Response:
        # A POST form: SameSite=Lax keeps the session cookie off cross-site posts.
        form = await request.form()
        handle = form.get("session")
        ended = isinstance(handle, str) and await end_session(request, handle)
        if ended:
            queue_session_flash(request.session, "success", "That session has ended.")
        else:
            queue_session_flash(request.session, "error", "That session had already ended.")
        return RedirectResponse("/sessions", 303)

    @login_required
    async def end_others(request: Request) -> Response:
        ended = await end_other_sessions(request)
        plural = "" if ended == 1 else "s"
        queue_session_flash(request.session, "success", f"Ended {ended} other session{plural}.")
        return RedirectResponse("/sessions", 303)

    return [
        Route("/sessions", sessions),
        Route("/sessions/end", end_one, methods=["POST"]),
        Route("/sessions/end-others", end_others, methods=["POST"]),
    ]
