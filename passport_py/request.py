"""The framework-neutral request a strategy sees, and the session the core writes to.

Adapters implement these protocols over their framework's request and session; strategies and
the engine use nothing else, which is what lets one strategy run in every framework.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote, urlsplit

from passport_py.errors import BadRequest

__all__ = [
    "MAX_FORM_FIELDS",
    "AuthRequest",
    "DictSession",
    "MultiMapping",
    "Session",
    "asgi_target",
    "encode_path",
    "is_cross_site",
    "media_type",
    "parse_json_body",
    "parse_urlencoded",
    "pop_session_flashes",
    "queue_session_flash",
    "refuse_garbled_fields",
    "wsgi_target",
]

#: Where adapters without a flash mechanism of the framework's keep pending flash messages.
SESSION_FLASH_KEY = "flash"

MAX_FORM_FIELDS = 1000
"""Form fields a strategy's form may have (every adapter, urlencoded and multipart alike)."""


class MultiMapping(Protocol):
    """Case-insensitive headers, query parameters, form fields: `.get` and `.getlist`."""

    def get(self, key: str, /) -> Any:
        """The first value for `key`, or None when there is none."""
        ...

    def getlist(self, key: str, /) -> list[Any]:
        """Every value for `key`, in order (an empty list when there is none)."""
        ...

    def __contains__(self, key: object) -> bool: ...


class Session(MutableMapping[str, Any]):
    """A request's session: a mutable mapping that can be regenerated (adapters subclass it).

    `regenerate()` starts a new session: all data is cleared and, where the backing store has
    session ids, the id changes and the old entry is discarded. The session manager copies back
    what should survive (return-to, flash) itself.
    """

    @abstractmethod
    def regenerate(self) -> None:
        """Start a new session: clear the data and, where there are ids, change the id."""

    def bind_user(self, serialized: Any) -> None:
        """Say whose session this is (a serialized user; None for nobody). Stores that index
        sessions by user (`passport_py.sessions`) need it to log a user out everywhere."""

    def if_not_saved(self, undo: Callable[[], object]) -> None:
        """Have `undo` (sync or async) run if this request's session cannot be saved, so its
        response (a 503) carries none of the request's cookies. Only a store that can fail
        after the app has answered (`passport_py.sessions`) runs it; others never need to."""


class DictSession(Session):
    """A `Session` over a framework's own session mapping, shared as is; subclasses define
    `regenerate()`.

    Only item access and `keys()` are used, so mapping-like objects that are not full
    mappings (Django's `SessionBase` has no `__iter__`) work too.
    """

    __slots__ = ("_data",)

    def __init__(self, data: MutableMapping[str, Any]) -> None:
        self._data = data

    def bind_user(self, serialized: Any) -> None:
        bind = getattr(self._data, "bind_user", None)
        if callable(bind):
            bind(serialized)

    def if_not_saved(self, undo: Callable[[], object]) -> None:
        register = getattr(self._data, "if_not_saved", None)
        if callable(register):
            register(undo)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._data[key] = value

    def __delitem__(self, key: str) -> None:
        del self._data[key]

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data.keys())

    def __len__(self) -> int:
        return len(self._data.keys())


class AuthRequest(Protocol):
    """What a strategy may read from a request."""

    @property
    def method(self) -> str:
        """The HTTP method, upper-case (`GET`, `POST`)."""
        ...

    @property
    def url(self) -> str:
        """The full URL as the app sees it (scheme, host, path and query)."""
        ...

    @property
    def path(self) -> str:
        """The URL's path, percent-decoded (`/account`)."""
        ...

    @property
    def target(self) -> str:
        """The request-target exactly as the client sent it: raw path and query, neither
        decoded nor re-encoded (`/a%2Fb?x=%26y`), or the absolute form (`http://host/a`) if
        the client used it. See `asgi_target` and `wsgi_target` for where it comes from."""
        ...

    @property
    def headers(self) -> MultiMapping:
        """The request headers; names are case-insensitive."""
        ...

    @property
    def query(self) -> MultiMapping:
        """The query-string parameters."""
        ...

    @property
    def cookies(self) -> Mapping[str, str]:
        """The request's cookies, by name."""
        ...

    @property
    def session(self) -> Session | None:
        """The request's session, or None when the app has no session middleware."""
        ...

    @property
    def client_ip(self) -> str | None:
        """The client's address as the server sees it (None when unknown)."""
        ...

    @property
    def native(self) -> Any:
        """The framework's own request object, for strategies that need more."""
        ...

    @property
    def flash_keys(self) -> tuple[str, ...]:
        """Session keys holding pending flash messages (kept when the session regenerates)."""
        ...

    async def body(self) -> bytes:
        """The raw body; `BadRequest` (413) when it is larger than the adapter's limit."""
        ...

    async def form(self) -> MultiMapping:
        """The parsed form body; `BadRequest` when it is malformed or too large."""
        ...

    async def json(self) -> Any:
        """The parsed JSON body (strictly: see `parse_json_body`)."""
        ...

    def flash(self, category: str, message: str) -> None:
        """Queue a flash message for the next page in the framework's own way."""
        ...

    def session_required_hint(self) -> str:
        """How to give this kind of request a session (used in error messages)."""
        ...


# RFC 3986 pchar (besides the letters, digits and "-._~" that `quote` always keeps) and "/".
_PATH_CHARACTERS = "/:@!$&'()*+,;="


def encode_path(path: str) -> str:
    """A decoded path as it goes in a URL: its UTF-8 bytes outside RFC 3986's path characters
    percent-encoded (upper-case hex)."""
    return quote(path.encode("utf-8", "surrogatepass"), safe=_PATH_CHARACTERS)


def _rebuilt_target(path: str, query: str) -> str:
    """A target for a server that gave only the decoded path: the path encoded, then the
    query, always raw."""
    rebuilt = encode_path(path or "/")
    return f"{rebuilt}?{query}" if query else rebuilt


def asgi_target(scope: Mapping[str, Any]) -> str:
    """The request-target of an ASGI request: `raw_path` and the raw `query_string`.

    `raw_path` is optional in ASGI: without it the decoded `path` is re-encoded, as
    `wsgi_target` does. Bytes outside ASCII become Latin-1 characters, one per byte.
    """
    query = bytes(scope.get("query_string") or b"").decode("latin-1")
    raw = scope.get("raw_path")
    if not isinstance(raw, bytes) or not raw:
        return _rebuilt_target(str(scope["path"]), query)
    path = raw.decode("latin-1")
    return f"{path}?{query}" if query else path


def wsgi_target(environ: Mapping[str, Any], path: str) -> str:
    """The request-target of a WSGI request: `REQUEST_URI` (Werkzeug, waitress, uWSGI,
    mod_wsgi) or `RAW_URI` (gunicorn), which hold it as the client sent it.

    Servers that set neither (wsgiref, hence Django's runserver; Django's test client) leave
    only the decoded path, which the framework gives as `path` (script name included): it is
    re-encoded, every UTF-8 byte but RFC 3986's path characters as `%XX`, so there `/a%2Fb`
    cannot be told from `/a/b`, nor `%41` from `A`. QUERY_STRING is never decoded: the query
    is always as sent.
    """
    for key in ("REQUEST_URI", "RAW_URI"):
        raw = environ.get(key)
        if isinstance(raw, str) and raw:
            return raw
    return _rebuilt_target(path, str(environ.get("QUERY_STRING", "")))


def queue_session_flash(session: MutableMapping[str, Any], category: str, message: str) -> None:
    """Append `[category, message]` to the session's pending flashes (`SESSION_FLASH_KEY`), for
    frameworks with no flash mechanism of their own."""
    pending = session.get(SESSION_FLASH_KEY)
    session[SESSION_FLASH_KEY] = [
        *(pending if isinstance(pending, list) else ()),
        [category, message],
    ]


def pop_session_flashes(session: MutableMapping[str, Any] | None) -> list[tuple[str, str]]:
    """Take the pending flashes `[(category, message), ...]` out of `session` (none: `[]`)."""
    pending = session.pop(SESSION_FLASH_KEY, None) if session is not None else None
    if not isinstance(pending, list):
        return []
    return [
        (str(c), str(m)) for c, m in (p for p in pending if isinstance(p, list) and len(p) == 2)
    ]


def media_type(request: AuthRequest) -> str:
    """The request's content type without parameters, lower-cased ("" when absent)."""
    value = request.headers.get("content-type") or ""
    return str(value).split(";", 1)[0].strip().lower()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def parse_json_body(body: bytes) -> Any:
    """Parse a JSON request body strictly; every problem is a `BadRequest` (400).

    Refused: invalid UTF-8 (a BOM included), invalid JSON, duplicate keys, NaN/Infinity,
    numbers too long to convert, nesting deep enough to exhaust the recursion limit, and
    lone surrogates in strings.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("Request body is not valid UTF-8") from None
    if text.startswith("\ufeff"):
        raise BadRequest("Request body must not start with a byte-order mark")
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except RecursionError:
        raise BadRequest("Request body is nested too deeply") from None
    except ValueError as exc:
        reason = str(exc).split(":")[0] if "duplicate" not in str(exc) else str(exc)
        raise BadRequest(f"Request body is not valid JSON ({reason})") from None
    return value


def parse_urlencoded(
    body: bytes, max_fields: int | None = MAX_FORM_FIELDS
) -> list[tuple[str, str]]:
    """The `(name, value)` pairs of an `application/x-www-form-urlencoded` body, parsed strictly.

    `BadRequest` (400) for raw non-ASCII bytes (browsers percent-encode everything else),
    percent-escapes that do not decode as UTF-8, and more than `max_fields` fields. Every
    adapter parses urlencoded bodies here, so the same body gets the same answer everywhere.
    """
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        raise BadRequest("Form body must be percent-encoded (raw non-ASCII bytes)") from None
    try:
        return parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=max_fields)
    except UnicodeDecodeError:
        raise BadRequest("Form body is not valid UTF-8") from None
    except ValueError:
        raise BadRequest("Form body has too many fields") from None


def refuse_garbled_fields(values: Iterable[Any], body: bytes) -> None:
    """`BadRequest` when a multipart text field is not in the raw `body` as UTF-8.

    Multipart parsers decode invalid UTF-8 without a word (Starlette falls back to Latin-1,
    Werkzeug and Django put U+FFFD in its place): a field whose text, encoded as UTF-8, is
    nowhere in the body was altered so, and a credential must never be. A genuine "ÿ" or
    U+FFFD sent as valid UTF-8 is in the body and passes. Uploaded files are not checked.
    """
    for value in values:
        if isinstance(value, str) and not value.isascii():
            try:
                encoded = value.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate: no UTF-8 body gives one
                raise BadRequest("Form body is not valid UTF-8") from None
            if encoded not in body:
                raise BadRequest("Form body is not valid UTF-8")


def ensure_text(value: Any, field: str) -> str:
    """`value` as a string fit to use as a credential, or `BadRequest` naming `field`."""
    if not isinstance(value, str):
        raise BadRequest(f"Field {field!r} must be a string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(f"Field {field!r} is not valid text") from None
    return value


def is_cross_site(request: AuthRequest) -> bool:
    """True when a browser says the request comes from another site.

    Browsers send `Sec-Fetch-Site` (refused: `cross-site`) and, on POST, `Origin` (refused: an
    opaque `null` or a host other than this request's). Clients that send neither, such as
    API clients and tests, are not browsers being abused and pass.
    """
    if request.headers.get("sec-fetch-site") == "cross-site":
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False
    if origin == "null":
        return True
    try:
        return urlsplit(str(origin)).netloc.lower() != urlsplit(request.url).netloc.lower()
    except ValueError:  # a malformed Origin ("http://[::1") is no same-site browser's
        return True
