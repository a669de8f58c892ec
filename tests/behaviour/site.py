"""`Site`: one framework's behaviour app as the cross-framework suites drive it.

The `site` fixture (in `tests/conftest.py`) builds one per framework of `FRAMEWORKS`, so a test
that takes `site` runs against Starlette, Flask and Django alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

import httpx
from users import PASSWORD, UserStore

FRAMEWORKS = ["starlette", "flask", "django"]


@dataclass
class Site:
    """One framework's behaviour app, its users and a client with its own cookie jar."""

    framework: str
    store: UserStore
    client: httpx.Client
    app: ModuleType
    """The `<framework>_app` module: `SESSION_COOKIE`, `session_cookie(data)`."""

    def login(self, username: str = "alice", password: str = PASSWORD) -> httpx.Response:
        response = self.post_form("/login", username=username, password=password)
        assert response.status_code == 302, response.text
        return response

    def post_form(self, path: str, **fields: str) -> httpx.Response:
        return self.client.post(path, data=fields)

    def post_raw(self, path: str, body: bytes, content_type: str | None) -> httpx.Response:
        """POST `body` as it is, with this Content-Type (none at all for None)."""
        headers = {"content-type": content_type} if content_type else {}
        return self.client.post(path, content=body, headers=headers)

    def who(self) -> str:
        response = self.client.get("/")
        assert response.status_code == 200
        return response.text

    def session(self) -> dict[str, Any]:
        response = self.client.get("/session")
        assert response.status_code == 200
        body = response.json()
        assert isinstance(body, dict)
        return body

    def logged_in_user(self) -> Any:
        """The serialized user the session holds, or None."""
        entry = self.session()["data"].get("passport")
        return entry.get("user") if isinstance(entry, dict) else None

    def flashes(self) -> list[list[str]]:
        return list(self.client.get("/flashes").json())

    def session_cookie(self) -> str:
        value = self.client.cookies.get(self.app.SESSION_COOKIE)
        assert value is not None
        return str(value)

    def use_session_cookie(self, value: str) -> None:
        """Replace the client's cookies with this session cookie, as the app would set it."""
        self.client.cookies.clear()
        self.client.cookies.set(self.app.SESSION_COOKIE, value, domain="testserver.local")

    def use_session(self, data: dict[str, Any]) -> None:
        """Give the client a genuine session holding `data`."""
        self.use_session_cookie(self.app.session_cookie(data))
