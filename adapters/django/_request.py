"""The framework-neutral request and the session over Django's `HttpRequest`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import BadRequest as DjangoBadRequest
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, RawPostDataException, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.utils.datastructures import MultiValueDict

from passport_py.errors import BadRequest, SessionRequiredError
from passport_py.request import (
    SESSION_FLASH_KEY,
    DictSession,
    MultiMapping,
    asgi_target,
    media_type,
    parse_json_body,
    parse_urlencoded,
    queue_session_flash,
    refuse_garbled_fields,
    wsgi_target,
)

if TYPE_CHECKING:
    from passport_py.adapters.django._state import PassportConfig

__all__ = ["SESSION_HINT", "DjangoAuthRequest", "DjangoSession"]

SESSION_HINT = (
    "no session on this request: add 'django.contrib.sessions.middleware.SessionMiddleware' "
    "before 'passport_py.adapters.django.PassportMiddleware' in MIDDLEWARE"
)
#: The session key of `django.contrib.messages`' SessionStorage: unread messages survive login.
MESSAGES_SESSION_KEY = "_messages"

_LEVELS = {
    "debug": messages.DEBUG,
    "info": messages.INFO,
    "success": messages.SUCCESS,
    "warning": messages.WARNING,
    "error": messages.ERROR,
}
_UNSET: Any = object()


class DjangoSession(DictSession):
    """The core's view of `request.session`, for any Django session engine.

    `regenerate()` is Django's `flush()`: the data is cleared, the stored entry deleted and the
    key dropped, so SessionMiddleware saves what the core writes next under a new key. In an
    async view (`deferred=True`) the store cannot be touched synchronously on the event loop:
    the data is cleared at once and `asettle()` flushes the old entry afterwards.
    """

    __slots__ = ("_deferred", "_pending")

    _data: Any  # a Django SessionBase: flush(), aflush(), aitems(), aupdate()

    def __init__(self, data: Any, *, deferred: bool = False) -> None:
        super().__init__(data)
        self._deferred = deferred
        self._pending = False

    def regenerate(self) -> None:
        if self._deferred:
            self._data.clear()
            self._pending = True
        else:
            self._data.flush()

    async def asettle(self) -> None:
        """Finish a deferred `regenerate()`: delete the old entry, keep the new data."""
        if not self._pending:
            return
        self._pending = False
        session = self._data
        kept = dict(await session.aitems())
        await session.aflush()  # deletes the entry under the old key and drops the key
        if kept:
            await session.aupdate(kept)


class _Headers:
    """Django's case-insensitive headers with the `getlist` strategies expect.

    WSGI servers join repeated headers into one comma-separated value, so a header has at most
    one value here.
    """

    __slots__ = ("_headers",)

    def __init__(self, headers: Any) -> None:
        self._headers = headers

    def get(self, key: str, default: Any = None) -> Any:
        return self._headers.get(key, default)

    def getlist(self, key: str) -> list[Any]:
        value = self._headers.get(key)
        return [] if value is None else [value]

    def __contains__(self, key: object) -> bool:
        return key in self._headers


class DjangoAuthRequest:
    """The framework-neutral request over a Django `HttpRequest` (an `AuthRequest`).

    Bodies are read strictly: a body over `max_body_size` (or Django's own limits) is a 413,
    a form that is not percent-encoded UTF-8, has too many fields or is malformed multipart is
    a 400. Django itself would decode bad UTF-8 into replacement characters silently.
    """

    __slots__ = ("_config", "_form", "_headers", "_json", "_request", "_session")

    flash_keys = (MESSAGES_SESSION_KEY, SESSION_FLASH_KEY)

    def __init__(
        self, request: HttpRequest, config: PassportConfig, *, deferred: bool = False
    ) -> None:
        self._request = request
        self._config = config
        raw = getattr(request, "session", None)
        self._session = DjangoSession(raw, deferred=deferred) if raw is not None else None
        self._headers: _Headers | None = None
        self._form: MultiMapping | None = None
        self._json: Any = _UNSET

    @property
    def method(self) -> str:
        return str(self._request.method or "GET")

    @property
    def url(self) -> str:
        # Django honours X-Forwarded-Host / -Proto only when settings say the proxy is trusted.
        return str(self._request.build_absolute_uri())

    @property
    def path(self) -> str:
        return str(self._request.path)

    @property
    def target(self) -> str:
        scope = getattr(self._request, "scope", None)  # an ASGIRequest's
        if isinstance(scope, dict):
            return asgi_target(scope)
        return wsgi_target(self._request.META, self._request.path)

    @property
    def headers(self) -> _Headers:
        if self._headers is None:
            self._headers = _Headers(self._request.headers)
        return self._headers

    @property
    def query(self) -> MultiMapping:
        return self._request.GET  # type: ignore[no-any-return]

    @property
    def cookies(self) -> dict[str, str]:
        return self._request.COOKIES  # type: ignore[no-any-return]

    @property
    def session(self) -> DjangoSession | None:
        return self._session

    @property
    def client_ip(self) -> str | None:
        return self._request.META.get("REMOTE_ADDR") or None

    @property
    def native(self) -> HttpRequest:
        return self._request

    def session_required_hint(self) -> str:
        return SESSION_HINT

    def _check_length(self) -> None:
        meta = self._request.META
        length = str(meta.get("CONTENT_LENGTH") or "")
        if length.isdigit():
            if int(length) > self._config.max_body_size:
                raise BadRequest("Request body is too large", 413)
        elif length:  # Django would fail on int() with a 500
            raise BadRequest("Content-Length is not a number")
        elif "wsgi.input" in meta and "chunked" in str(meta.get("HTTP_TRANSFER_ENCODING", "")):
            # Django reads Content-Length bytes of a WSGI body: a chunked one would look empty.
            raise BadRequest("Send the request body with a Content-Length", 411)

    async def body(self) -> bytes:
        self._check_length()
        try:
            body: bytes = self._request.body
        except RequestDataTooBig:
            raise BadRequest("Request body is too large", 413) from None
        except (UnreadablePostError, RawPostDataException) as exc:
            raise BadRequest(f"Request body could not be read ({type(exc).__name__})") from None
        if len(body) > self._config.max_body_size:  # no Content-Length (ASGI, chunked)
            raise BadRequest("Request body is too large", 413)
        return body

    async def form(self) -> MultiMapping:
        if self._form is None:
            kind = media_type(self)
            if kind == "application/x-www-form-urlencoded":
                self._form = _parse_urlencoded(await self.body())
            elif kind == "multipart/form-data":
                self._form = self._multipart(await self.body())
            else:
                self._form = MultiValueDict()
        return self._form

    def _multipart(self, body: bytes) -> MultiMapping:
        try:
            form = self._request.POST  # Django's parser (on the read body); files go to FILES
        except RequestDataTooBig:
            raise BadRequest("Request body is too large", 413) from None
        except (
            SuspiciousOperation,  # too many fields or files
            MultiPartParserError,
            DjangoBadRequest,
            UnreadablePostError,
            RawPostDataException,
        ) as exc:
            raise BadRequest(f"Malformed form body ({type(exc).__name__})") from None
        refuse_garbled_fields((v for _, values in form.lists() for v in values), body)
        return form  # type: ignore[no-any-return]

    async def json(self) -> Any:
        if self._json is _UNSET:
            self._json = parse_json_body(await self.body())
        return self._json

    def parsed_fields(self) -> Any:
        """The form or JSON body a strategy already parsed (None when none did)."""
        if self._form is not None:
            return self._form
        return None if self._json is _UNSET else self._json

    def flash(self, category: str, message: str) -> None:
        request = self._request
        if self._config.use_messages:
            level = _LEVELS.get(category)
            if level is None:  # a custom category: INFO, tagged with its name
                messages.add_message(request, messages.INFO, message, extra_tags=category)
            else:
                messages.add_message(request, level, message)
            return
        session = self._session
        if session is None:
            raise SessionRequiredError(SESSION_HINT, for_login=False)
        queue_session_flash(session, category, message)


def _parse_urlencoded(body: bytes) -> MultiMapping:
    """Parse a urlencoded form strictly, with Django's field limit."""
    form = MultiValueDict()
    for key, value in parse_urlencoded(body, settings.DATA_UPLOAD_MAX_NUMBER_FIELDS):
        form.appendlist(key, value)
    return form  # type: ignore[no-any-return]
