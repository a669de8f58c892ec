"""Real HTTP clients against `BasicStrategy` and `DigestStrategy` on real servers (loopback).

curl (/usr/bin/curl with --basic or --digest), requests (`HTTPBasicAuth`, `HTTPDigestAuth`) and
httpx (`BasicAuth`, `DigestAuth`) authenticate against the token app (tests/behaviour/tokens.py)
of each framework on a real server: Starlette on uvicorn, Flask on Werkzeug's threaded server,
Django on waitress, and Django on runserver's server, which gives the app no raw
request-target, so there the path is rebuilt from PATH_INFO (`passport_py.request.wsgi_target`).
Every request goes to `/tokens/<route>/café au lait?q=a%26b%3Dc%2Fd+%C3%A9&r=50%25` (each
client encodes the path and query its own way).

What the clients do (the tests check the outcome of each):

- Digest: all three do SHA-256 (route `digest`) and MD5 (route `digest-md5`), and hash the
  request-target they send as `uri`. curl's --data-urlencode writes escapes in lower case
  (`%3d`), httpx and requests in upper case: either way `uri` is what was sent.
- Basic: none reads the challenge's `charset="UTF-8"` (RFC 7617 section 2.1). curl sends the
  password's bytes as given (UTF-8 here) and httpx encodes a `str` as UTF-8, but requests
  encodes a `str` as Latin-1: not UTF-8, so that is a 400. requests given UTF-8 bytes works.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import requests
from app_servers import runserver_server, uvicorn_server, waitress_server, werkzeug_server
from behaviour.tokens import token_app
from requests.auth import HTTPBasicAuth, HTTPDigestAuth
from users import User, UserStore

from passport_py import Authenticator
from passport_py.strategies.http import BasicStrategy, DigestSecret, DigestStrategy

CURL = "/usr/bin/curl"
CLIENTS = ("curl", "requests", "httpx")
PATH = "/tokens/{route}/café au lait"
QUERY = {"q": "a&b=c/d é", "r": "50%"}
NON_ASCII = "crème brûlée"  # dora's password; Latin-1 can encode it, to show what requests does
TIMEOUT = 60  # seconds: generous, the machine is shared

Serve = Callable[[Any], AbstractContextManager[str]]
SERVERS: dict[str, tuple[str, Serve]] = {
    "starlette-uvicorn": ("starlette", uvicorn_server),
    "flask-werkzeug": ("flask", werkzeug_server),
    "django-waitress": ("django", waitress_server),
    "django-runserver": ("django", runserver_server),
}


def interop_passport() -> Authenticator[Any]:
    """Basic (with `charset="UTF-8"`), Digest SHA-256 and Digest MD5 over bob and dora."""
    store = UserStore.default()
    store.add(User(3, "dora", NON_ASCII))

    def get_secret(username: str) -> DigestSecret[Any] | None:
        user = store.by_name(username)
        return DigestSecret(user, password=user.password) if user else None

    passport: Authenticator[Any] = Authenticator()
    passport.use(BasicStrategy(store.verify, charset=True))
    passport.use(DigestStrategy(get_secret, nonce_secret="i" * 32))
    passport.use(DigestStrategy(get_secret, algorithm="MD5", nonce_secret="i" * 32), "digest-md5")
    return passport


@pytest.fixture(scope="module", params=SERVERS)
def base(request: pytest.FixtureRequest) -> Iterator[str]:
    """The base URL of the token app of one framework on one real server."""
    framework, serve = SERVERS[request.param]
    with serve(token_app(framework, interop_passport())) as url:
        yield url


def fetch(client: str, base: str, route: str, username: str, password: str | bytes) -> Any:
    """GET `PATH` and `QUERY` on `route` through `client`, with its Basic or Digest auth (by the
    route's name): (status, body)."""
    scheme = "digest" if route.startswith("digest") else "basic"
    if client == "curl":
        return curl(base + quote(PATH.format(route=route)), scheme, username, password)
    url = base + PATH.format(route=route)  # the client encodes it
    if client == "requests":
        with requests.Session() as session:
            session.trust_env = False  # no proxy from the environment for a loopback server
            kind = HTTPDigestAuth if scheme == "digest" else HTTPBasicAuth
            reply = session.get(url, params=QUERY, auth=kind(username, password), timeout=TIMEOUT)
        return reply.status_code, reply.text
    auth = (httpx.DigestAuth if scheme == "digest" else httpx.BasicAuth)(username, password)
    response = httpx.get(url, params=QUERY, auth=auth, timeout=TIMEOUT, trust_env=False)
    return response.status_code, response.text


def curl(url: str, scheme: str, username: str, password: str | bytes) -> tuple[int, str]:
    """GET `url` (already escaped) and `QUERY` (by --data-urlencode) from curl."""
    if not os.access(CURL, os.X_OK):
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {CURL} is missing: install curl")
        pytest.skip(f"{CURL} is missing: the curl interop checks do not run")
    secret = password if isinstance(password, bytes) else password.encode()
    fields = [arg for k, v in QUERY.items() for arg in ("--data-urlencode", f"{k}={v}")]
    user = username.encode() + b":" + secret  # bytes: curl sends them as they are
    options = ["--silent", "--show-error", "--noproxy", "*", "--write-out", "\n%{http_code}"]
    done = subprocess.run(
        [CURL, *options, f"--{scheme}", "--user", user, "--get", *fields, url],
        capture_output=True,
        timeout=TIMEOUT,
        check=True,
    )
    body, _, status = done.stdout.decode().rpartition("\n")
    return int(status), body


@pytest.mark.parametrize("route", ["digest", "digest-md5"])
@pytest.mark.parametrize("client", CLIENTS)
def test_digest_authenticates_each_client(base: str, client: str, route: str) -> None:
    """SHA-256 (`digest`) and MD5 (`digest-md5`): every client does both."""
    status, body = fetch(client, base, route, "bob", "builder")
    assert (status, json.loads(body)) == (200, {"user": "bob", "info": {}})
    assert fetch(client, base, route, "bob", "wonderland") == (401, "Unauthorized")


@pytest.mark.parametrize("client", CLIENTS)
def test_basic_authenticates_each_client(base: str, client: str) -> None:
    status, body = fetch(client, base, "basic", "bob", "builder")
    assert (status, json.loads(body)) == (200, {"user": "bob", "info": {}})
    assert fetch(client, base, "basic", "bob", "wonderland") == (401, "Unauthorized")


@pytest.mark.parametrize(
    ("client", "password", "status"),
    [
        ("curl", NON_ASCII, 200),
        ("httpx", NON_ASCII, 200),
        ("requests", NON_ASCII, 400),  # sent as Latin-1: "Basic credentials are not valid UTF-8"
        ("requests", NON_ASCII.encode(), 200),
    ],
)
def test_basic_non_ascii_password_is_utf8(
    base: str, client: str, password: str | bytes, status: int
) -> None:
    """RFC 7617 with `charset="UTF-8"`: the password is read as UTF-8, whatever the client."""
    answer, body = fetch(client, base, "basic", "dora", password)
    if status == 200:
        assert (answer, json.loads(body)) == (200, {"user": "dora", "info": {}})
    else:
        assert (answer, body) == (400, "Bad Request")
