"""The core's session entry (`session["passport"]`) split into identity and login metadata.

A login writes the serialized user (`"user"`, and `"fresh": False` when not fresh) and, beside
it, when it happened and where it came from: `"at"` and `"seen"` (Unix seconds), `"ip"` and
`"ua"` (when the request had them). Tests compare the identity part exactly; `identity` first
checks that the metadata is well-formed and is what the test's client sends.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

#: The keys a login records beside the user.
METADATA = frozenset({"at", "seen", "ip", "ua", "auth_at", "amr"})

#: How old (in seconds) a login made during a test may look: generous for a slow machine.
RECENT = 300


@dataclass(frozen=True)
class Client:
    """What a login records about its client: the IP and User-Agent (None: no key at all)."""

    ip: str | None = None
    ua: str | None = None


#: A login made with no request: `SessionManager.login` called directly, or
#: `passport_py.testing.django.login`.
NO_CLIENT = Client()
#: A `passport_py.testing.TestRequest` with its default client address and no headers.
TEST_REQUEST = Client("127.0.0.1")
#: Starlette's (and FastAPI's) TestClient.
STARLETTE = Client("testclient", "testclient")
#: Flask's test client (Werkzeug's).
FLASK = Client("127.0.0.1", f"Werkzeug/{version('werkzeug')}")
#: Django's test client, which sends no User-Agent.
DJANGO = Client("127.0.0.1")

#: The test client of each framework, by the name the parametrized tests use.
TEST_CLIENTS = {"starlette": STARLETTE, "flask": FLASK, "django": DJANGO}


def sent_by(client: httpx.Client) -> Client:
    """What an httpx client sends: Starlette's TestClient, or httpx over a WSGI or ASGI app
    (whose transports give the app the address 127.0.0.1)."""
    from starlette.testclient import TestClient  # here: the engine's tests need no Starlette

    if isinstance(client, TestClient):
        return STARLETTE
    return Client("127.0.0.1", client.headers["user-agent"])


def identity(entry: Any, client: Client = NO_CLIENT) -> dict[str, Any]:
    """`entry` without its login metadata, once that metadata is checked.

    `"at"` and `"seen"` must be ints (not bools) from the last few minutes, with `at <= seen`;
    `"ip"` and `"ua"` must be exactly what `client` sends, and absent where it sends nothing.
    """
    assert isinstance(entry, dict), f"the entry is not a dict: {entry!r}"
    now = time.time()
    at, seen = entry.get("at"), entry.get("seen")
    assert type(at) is int and type(seen) is int, f"at/seen are not ints: {entry!r}"
    assert now - RECENT <= at <= seen <= now, f"at/seen are not recent Unix seconds: {entry!r}"
    if "auth_at" in entry:  # a fresh login: when the user proved who they are, and how
        assert entry["auth_at"] == at, f"auth_at is not the login time: {entry!r}"
        assert entry.get("fresh", True) is True, f"a login not fresh has auth_at: {entry!r}"
    amr = entry.get("amr", [])
    assert isinstance(amr, list) and all(isinstance(m, str) for m in amr), entry
    sent = {"ip": client.ip, "ua": client.ua}
    assert {k: entry[k] for k in ("ip", "ua") if k in entry} == {
        k: v for k, v in sent.items() if v is not None
    }, f"ip/ua are not what {client} sends: {entry!r}"
    return {k: v for k, v in entry.items() if k not in METADATA}


def session_identity(
    session: Mapping[str, Any], client: Client = NO_CLIENT, key: str = "passport"
) -> dict[str, Any]:
    """A copy of `session` whose core entry (under `key`) is reduced to its `identity`."""
    data = dict(session)
    data[key] = identity(data.get(key), client)
    return data
