"""Test helpers: an in-memory request and session for driving strategies and the engine.

`TestRequest` implements the framework-neutral request, so a strategy can be unit-tested
without any web framework::

    request = TestRequest(form={"username": "alice", "password": "secret"})
    decision = run_sync(passport.authenticate(request, "local"))
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from passport_py.errors import BadRequest, SessionRequiredError
from passport_py.request import DictSession, Session, parse_json_body

__all__ = ["MemorySession", "MultiDict", "TestRequest"]

_ids = itertools.count(1)


class MultiDict:
    """A small multi-valued mapping; header lookups are case-insensitive when asked."""

    __slots__ = ("_fold", "_items")

    def __init__(
        self,
        items: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
        *,
        case_insensitive: bool = False,
    ) -> None:
        self._fold = case_insensitive
        pairs = list(items.items()) if isinstance(items, Mapping) else list(items or ())
        self._items = [(self._key(k), v) for k, v in pairs]

    def _key(self, key: str) -> str:
        return key.lower() if self._fold else key

    def get(self, key: str, default: Any = None) -> Any:
        """The first value for `key`, or `default`."""
        wanted = self._key(key)
        return next((v for k, v in self._items if k == wanted), default)

    def getlist(self, key: str) -> list[Any]:
        """Every value for `key`, in order."""
        wanted = self._key(key)
        return [v for k, v in self._items if k == wanted]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and any(k == self._key(key) for k, _ in self._items)

    def items(self) -> list[tuple[str, Any]]:
        """All `(key, value)` pairs."""
        return list(self._items)


class MemorySession(DictSession):
    """A dict-backed session with an id; `regenerate()` clears it and issues a new id."""

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        super().__init__(dict(data or {}))
        self.id = next(_ids)
        self.regenerations = 0

    def regenerate(self) -> None:
        """Clear the data and take a new id."""
        self._data.clear()
        self.id = next(_ids)
        self.regenerations += 1

    def __repr__(self) -> str:
        return f"MemorySession(id={self.id}, data={self._data!r})"


class TestRequest:
    """A framework-neutral request built from plain values, for tests.

    `form=` sends an urlencoded body, `json=` a JSON body, `body=` raw bytes (with
    `content_type=`). `session=None` models a request without session support; by default
    the request has an empty `MemorySession`. Flash messages are collected in `flashes`.
    `target=` is the request-target as sent (by default the path and the urlencoded query).
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        *,
        method: str = "POST",
        path: str = "/",
        query: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
        headers: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        form: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
        json: Any = None,
        body: bytes | None = None,
        content_type: str | None = None,
        cookies: Mapping[str, str] | None = None,
        session: Session | Mapping[str, Any] | bool | None = True,
        client_ip: str | None = "127.0.0.1",
        scheme: str = "http",
        target: str | None = None,
    ) -> None:
        self.method = method
        self.scheme = scheme
        self.path = path
        self.query = MultiDict(query)
        self._target = target
        header_items = (
            list(headers.items()) if isinstance(headers, Mapping) else list(headers or ())
        )
        self._form: MultiDict | None = None
        self._body = b""
        if form is not None:
            self._form = MultiDict(form)
            self._body = urlencode(self._form.items()).encode()
            content_type = content_type or "application/x-www-form-urlencoded"
        elif json is not None:
            self._body = _dumps(json)
            content_type = content_type or "application/json"
        elif body is not None:
            self._body = body
        if content_type:
            header_items.append(("content-type", content_type))
        if self._body:
            header_items.append(("content-length", str(len(self._body))))
        self.headers = MultiDict(header_items, case_insensitive=True)
        self.cookies = dict(cookies or {})
        self.client_ip = client_ip
        if session is True:
            self._session: Session | None = MemorySession()
        elif session is False or session is None:
            self._session = None
        elif isinstance(session, Session):
            self._session = session
        else:
            self._session = MemorySession(session)
        self.flashes: list[tuple[str, str]] = []
        self.native: Any = None

    flash_keys: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        """The full URL (host `testserver`)."""
        return f"{self.scheme}://testserver{self._path_and_query()}"

    @property
    def target(self) -> str:
        """The request-target as sent: `target=`, or the path and the urlencoded query."""
        return self._target if self._target is not None else self._path_and_query()

    def _path_and_query(self) -> str:
        query = urlencode(self.query.items())
        return self.path + (f"?{query}" if query else "")

    @property
    def session(self) -> Session | None:
        """The session, or None when the request has no session support."""
        return self._session

    def session_required_hint(self) -> str:
        """How to give a `TestRequest` a session."""
        return "build the TestRequest with a session (session=True)"

    async def body(self) -> bytes:
        """The raw body."""
        return self._body

    async def form(self) -> MultiDict:
        """The form fields (empty for a non-form body)."""
        return self._form if self._form is not None else MultiDict()

    async def json(self) -> Any:
        """The body parsed strictly as JSON."""
        return parse_json_body(self._body)

    def flash(self, category: str, message: str) -> None:
        """Record a flash message in `flashes` (needs a session, like real adapters)."""
        if self._session is None:
            raise SessionRequiredError(self.session_required_hint(), for_login=False)
        self.flashes.append((category, message))


def _dumps(value: Any) -> bytes:
    try:
        return json.dumps(value).encode()
    except (TypeError, ValueError) as exc:  # pragma: no cover - test authoring error
        raise BadRequest(f"cannot encode test JSON body: {exc}") from None
