"""`Site`: one behaviour app as the cross-framework suites drive it.

The `site` fixture (in `tests/conftest.py`) builds one per entry of `VARIANTS`, so a test that
takes `site` runs against Starlette, Flask and Django alike, each on its own session, and again
on passport_py's server-side sessions (`passport_py.sessions`), where a variant keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

import httpx
from users import PASSWORD, UserStore

FRAMEWORKS = ["starlette", "flask", "django"]


@dataclass(frozen=True)
class Variant:
    """One app the suites run against: `behaviour.<module>_app`, in `framework`."""

    name: str
    """The `site` fixture's parameter (the test id)."""
    framework: str
    """What per-framework expectations are looked up by (one of `FRAMEWORKS`)."""
    redis: bool = False
    """Sessions in the real Redis: the module's `make_client` takes `redis_prefix=`, a key
    prefix of the test's own (deleted afterwards); without Redis the test skips (CI fails)."""
    module: str = ""
    """The app module's prefix when it is not `name` (one module serving two variants)."""

    @property
    def module_name(self) -> str:
        return f"behaviour.{self.module or self.name}_app"


VARIANTS = [
    Variant("starlette", "starlette"),
    Variant("flask", "flask"),
    Variant("django", "django"),
    Variant("starlette_server", "starlette", redis=True),
    Variant("flask_server", "flask"),
]
VARIANT_BY_NAME = {variant.name: variant for variant in VARIANTS}


def sites_of(*frameworks: str) -> list[str]:
    """The variants in these frameworks, for `parametrize("site", ..., indirect=True)`."""
    return [variant.name for variant in VARIANTS if variant.framework in frameworks]


@dataclass
class Site:
    """One behaviour app, its users and a client with its own cookie jar."""

    variant: str
    """The app's `Variant.name` (the test id)."""
    framework: str
    """Its framework (`Variant.framework`): per-framework expectations are keyed by this."""
    store: UserStore
    client: httpx.Client
    app: ModuleType
    """The `<variant>_app` module: `SESSION_COOKIE`, `session_cookie(data)`."""

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
