"""The framework-neutral request and the session over Flask's `request` and `session`."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import flask
from flask import Request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException

from passport_py.errors import BadRequest, SessionRequiredError
from passport_py.request import (
    DictSession,
    media_type,
    parse_json_body,
    parse_urlencoded,
    refuse_garbled_fields,
    wsgi_target,
)

__all__ = ["FLASH_KEY", "SESSION_HINT", "FlaskAuthRequest", "FlaskSession"]

SESSION_HINT = (
    "Flask has no session for this request: set app.secret_key (the SECRET_KEY setting) so "
    "Flask can sign its session cookie, or install a server-side session interface"
)
#: Where `flask.flash` keeps pending messages.
FLASH_KEY = "_flashes"

_EMPTY_FORM: ImmutableMultiDict[str, str] = ImmutableMultiDict()


class FlaskSession(DictSession):
    """The core's view of `flask.session` (any `SessionMixin`).

    Flask's signed-cookie session has no id: clearing it and writing the new contents signs a
    different cookie. A session object with its own `regenerate()` (a server-side session
    interface whose sessions have ids) is asked to regenerate instead, which changes the id.
    The session's `permanent` flag is the app's cookie policy, not user data: it survives.
    """

    __slots__ = ()

    def regenerate(self) -> None:
        data = self._data
        permanent = getattr(data, "permanent", False)
        regenerate = getattr(data, "regenerate", None)
        if callable(regenerate):
            regenerate()
        else:
            data.clear()
        if permanent:
            data.permanent = True  # type: ignore[attr-defined]


def native_session(app: flask.Flask) -> MutableMapping[str, Any] | None:
    """This request's `flask.session`, or None when Flask could not open one (no secret key)."""
    raw = flask.session._get_current_object()  # type: ignore[attr-defined]
    if app.session_interface.is_null_session(raw):
        return None
    return raw  # type: ignore[no-any-return]


class FlaskAuthRequest:
    """The framework-neutral request over Flask's current `request` (an `AuthRequest`).

    Forms are parsed strictly (invalid UTF-8, too many fields: 400) and bodies over
    `max_body_size` bytes are refused with 413 before they are read.
    """

    __slots__ = ("_max_body", "_request", "_session")

    flash_keys = (FLASH_KEY,)

    def __init__(self, request: Request, max_body_size: int = 1024 * 1024) -> None:
        self._request = request
        self._max_body = max_body_size
        raw = native_session(flask.current_app)
        self._session = FlaskSession(raw) if raw is not None else None

    method = property(lambda self: self._request.method)
    url = property(lambda self: self._request.url)
    path = property(lambda self: self._request.path)
    target = property(
        lambda self: wsgi_target(
            self._request.environ, self._request.root_path + self._request.path
        )
    )
    headers = property(lambda self: self._request.headers)
    query = property(lambda self: self._request.args)
    cookies = property(lambda self: self._request.cookies)
    client_ip = property(lambda self: self._request.remote_addr)
    native = property(lambda self: self._request)

    @property
    def session(self) -> FlaskSession | None:
        return self._session

    def session_required_hint(self) -> str:
        return SESSION_HINT

    async def body(self) -> bytes:
        request = self._request
        limit = self._max_body
        length = request.content_length
        if length is not None and length > limit:
            raise BadRequest("Request body is too large", 413)
        if (
            length is None
            and "chunked" in request.headers.get("Transfer-Encoding", "").lower()
            and not request.environ.get("wsgi.input_terminated")
        ):
            # Without a length or a server that de-chunks, WSGI gives no way to find the end
            # of the body: Werkzeug would read it as empty.
            raise BadRequest("Send the request body with a Content-Length", 411)
        # Flask 3.1's per-request limit bounds a body sent without Content-Length (chunked)
        # while it is read: Werkzeug stops at the limit without an error, so read one byte
        # more to tell a body of exactly `limit` bytes from a longer one. Every byte read is
        # cached, so the view can still use the body.
        previous = request.max_content_length
        if previous is None or previous > limit:
            request.max_content_length = limit + 1
        try:
            body = request.get_data(cache=True)
        except HTTPException as exc:  # over the limit, or the client went away mid-body
            if exc.code == 413:
                raise BadRequest("Request body is too large", 413) from None
            raise BadRequest(f"Request body could not be read ({exc.name})") from None
        finally:
            request.max_content_length = previous
        if len(body) > limit:
            raise BadRequest("Request body is too large", 413)
        return body

    async def form(self) -> ImmutableMultiDict[str, str]:
        request = self._request
        if "form" in request.__dict__:  # the app parsed the form first (a CSRF check, say)
            return request.form
        kind = media_type(self)
        if kind == "application/x-www-form-urlencoded":
            return ImmutableMultiDict(parse_urlencoded(await self.body()))
        if kind != "multipart/form-data":
            return _EMPTY_FORM
        body = await self.body()  # size check; Werkzeug then parses the cached bytes
        try:
            form = request.form
        except HTTPException as exc:  # too many parts, a field too large
            status = 413 if exc.code == 413 else 400
            raise BadRequest(f"Malformed form body ({exc.name})", status) from None
        except Exception as exc:  # a parser error Werkzeug did not swallow
            raise BadRequest(f"Malformed form body ({type(exc).__name__})") from None
        refuse_garbled_fields(form.values(), body)
        return form

    async def json(self) -> Any:
        return parse_json_body(await self.body())

    def flash(self, category: str, message: str) -> None:
        if self._session is None:
            raise SessionRequiredError(SESSION_HINT, for_login=False)
        flask.flash(message, category)
