"""Error pages for people: a browser that meets a bare "Not Found" or "Unauthorized" gets a
page saying what happened, what to do, and the way back; API clients keep the plain answer."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from passport_py.demo.pages import error_page

__all__ = ["FriendlyErrors", "server_error"]


def wants_page(conn: HTTPConnection) -> bool:
    """A browser (its Accept names text/html) and not an API client (no Authorization)."""
    headers = conn.headers
    return "text/html" in headers.get("accept", "") and "authorization" not in headers


class FriendlyErrors:
    """ASGI middleware: a 4xx or 5xx answer to a browser that is not HTML already becomes the
    demo's error page. Status and headers (WWW-Authenticate, Allow, cookies) are kept."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not wants_page(HTTPConnection(scope)):
            await self.app(scope, receive, send)
            return
        replaced = False

        async def send_page(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=list(message["headers"]))
                status = int(message["status"])
                if status >= 400 and not headers.get("content-type", "").startswith("text/html"):
                    replaced = True
                    body = error_page(HTTPConnection(scope), status).encode("utf-8")
                    headers["content-type"] = "text/html; charset=utf-8"
                    headers["content-length"] = str(len(body))
                    await send({**message, "headers": headers.raw})
                    await send({"type": "http.response.body", "body": body})
                    return
            elif message["type"] == "http.response.body" and replaced:
                return  # the bare status line the page replaced
            await send(message)

        await self.app(scope, receive, send_page)


async def server_error(request: Request, exc: Exception) -> Response:
    """Starlette's handler for an unexpected exception: the error page, or a plain 500."""
    if wants_page(request):
        return HTMLResponse(error_page(request, 500), status_code=500)
    return PlainTextResponse("Internal Server Error", status_code=500)
