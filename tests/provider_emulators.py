"""GitHub's and Discord's OAuth endpoints and user APIs, emulated on a loopback port.

`ProviderEmulator` plays both providers over real HTTP, with their paths and their habits:

- GitHub: `GET /login/oauth/authorize`, `POST /login/oauth/access_token` (client id and secret
  as form fields; an unusable code is answered **200** with an error body, as GitHub does),
  and the REST API under `/api/v3` (GitHub Enterprise Server's layout): `/user`,
  `/user/emails` (only with `user:email` or `user` granted). The API refuses requests without
  a `User-Agent` (403), as GitHub's does.
- Discord: `GET /oauth2/authorize`, `POST /api/oauth2/token` (HTTP Basic client
  authentication, RFC 6749 errors with status 400), `GET /api/v10/users/@me` (`email` and
  `verified` only with the `email` scope).

Both check the client, the exact `redirect_uri`, the PKCE verifier and one-shot codes, and
auto-approve as `github_user` / `discord_user`. Faults for tests: `token_answer` replaces the
token endpoint's answer, `emails_answer` the email list's, `granted_scope` the scope the token
response reports, `deny` answers the authorization with `access_denied`. `requests` records
every request. It serves as a tests/loopback.py `LoopbackServer` (a context manager, or
`start()` / `stop()`). No pytest in here; the fixtures are in tests/conftest.py.
"""

from __future__ import annotations

import base64
import copy
import json
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, parse_qsl, unquote, urlencode, urlsplit

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from loopback import LoopbackServer, QuietHandler

__all__ = [
    "BAD_CODE",
    "DISCORD_USER",
    "GITHUB_USER",
    "Grant",
    "ProviderEmulator",
    "Recorded",
    "profile_json",
    "query_of",
]

GITHUB_USER: dict[str, Any] = {
    "login": "octocat",
    "id": 1,
    "avatar_url": "https://avatars.githubusercontent.com/u/1?v=4",
    "html_url": "https://github.com/octocat",
    "name": "The Octocat",
    "email": "octocat@github.test",
}
GITHUB_EMAILS: list[dict[str, Any]] = [
    {"email": "octo@work.test", "primary": False, "verified": False, "visibility": None},
    {"email": "octocat@github.test", "primary": True, "verified": True, "visibility": "public"},
]
DISCORD_USER: dict[str, Any] = {
    "id": "80351110224678912",
    "username": "nelly",
    "discriminator": "0",
    "global_name": "Nelly",
    "avatar": "8342729096ea3675442027381ff50dfe",
    "email": "nelly@discord.test",
    "verified": True,
}
BAD_CODE = {
    "error": "bad_verification_code",
    "error_description": "The code passed is incorrect or expired.",
    "error_uri": "https://docs.github.com/apps/troubleshooting-oauth-app-access-token-request-errors",
}


@dataclass(frozen=True)
class Recorded:
    """One request the emulator received."""

    method: str
    path: str
    headers: dict[str, str]
    query: dict[str, str]
    form: dict[str, str]


@dataclass
class Grant:
    """An authorization the emulator approved: what its code must be redeemed with."""

    provider: str
    client_id: str
    redirect_uri: str | None
    challenge: str | None
    scope: str


class ProviderEmulator(LoopbackServer):
    """GitHub and Discord on `http://127.0.0.1:<port>` (see the module docstring)."""

    def __init__(self, client_id: str, client_secret: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self._lock = threading.Lock()
        self._codes: dict[str, Grant] = {}
        self._tokens: dict[str, Grant] = {}
        self.reset()
        emulator = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                emulator._handle(self)

            def do_POST(self) -> None:
                emulator._handle(self)

        super().__init__(Handler)

    def reset(self) -> None:
        """Honest again, with the default users, and no recorded requests."""
        with self._lock:
            self.github_user: dict[str, Any] = copy.deepcopy(GITHUB_USER)
            self.github_emails: list[dict[str, Any]] = copy.deepcopy(GITHUB_EMAILS)
            self.discord_user: dict[str, Any] = copy.deepcopy(DISCORD_USER)
            self.token_answer: tuple[int, Any] | None = None
            self.emails_answer: tuple[int, Any] | None = None
            self.granted_scope: str | None = None
            self.deny = False
            self.requests: list[Recorded] = []

    def paths(self, path: str) -> list[Recorded]:
        """The recorded requests to `path`."""
        with self._lock:
            return [r for r in self.requests if r.path == path]

    # -- routing ---------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length).decode("utf-8") if length else ""
        recorded = Recorded(
            handler.command,
            parts.path,
            {k.lower(): v for k, v in handler.headers.items()},
            dict(parse_qsl(parts.query)),
            dict(parse_qsl(body)),
        )
        with self._lock:
            self.requests.append(recorded)
        routes = {
            ("GET", "/login/oauth/authorize"): lambda r: self._authorize(r, "github"),
            ("POST", "/login/oauth/access_token"): self._github_token,
            ("GET", "/api/v3/user"): self._github_user,
            ("GET", "/api/v3/user/emails"): self._github_emails,
            ("GET", "/oauth2/authorize"): lambda r: self._authorize(r, "discord"),
            ("POST", "/api/oauth2/token"): self._discord_token,
            ("GET", "/api/v10/users/@me"): self._discord_me,
        }
        route = routes.get((handler.command, parts.path))
        status, headers, payload = (
            route(recorded) if route else _json(404, {"message": "Not Found"})
        )
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    # -- authorization -----------------------------------------------------------------------

    def _authorize(self, request: Recorded, provider: str) -> Answer:
        query = request.query
        if query.get("client_id") != self.client_id:
            return 404, {"Content-Type": "text/html"}, b"<h1>Unknown application</h1>"
        if provider == "discord" and query.get("response_type") != "code":
            return 400, {"Content-Type": "text/plain"}, b"response_type must be code"
        redirect_uri = query.get("redirect_uri")
        if redirect_uri is None:
            return 400, {"Content-Type": "text/plain"}, b"redirect_uri is required here"
        answer: dict[str, str]
        if self.deny:
            answer = {"error": "access_denied", "error_description": "The user has denied."}
        else:
            code = secrets.token_urlsafe(16)
            challenge = query.get("code_challenge")
            if challenge is not None and query.get("code_challenge_method") != "S256":
                return 400, {"Content-Type": "text/plain"}, b"only S256"
            grant = Grant(provider, self.client_id, redirect_uri, challenge, query.get("scope", ""))
            with self._lock:
                self._codes[code] = grant
            answer = {"code": code}
        if "state" in query:
            answer["state"] = query["state"]
        separator = "&" if "?" in redirect_uri else "?"
        return 302, {"Location": f"{redirect_uri}{separator}{urlencode(answer)}"}, b""

    def _redeem(self, request: Recorded, provider: str) -> Grant | None:
        """The grant of the request's code (used up), if every check passes."""
        form = request.form
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)
        if grant is None or grant.provider != provider:
            return None
        if form.get("redirect_uri") != grant.redirect_uri:
            return None
        verifier = form.get("code_verifier")
        if grant.challenge is not None and (
            verifier is None or create_s256_code_challenge(verifier) != grant.challenge
        ):
            return None
        return grant

    def _issue(self, grant: Grant, separator: str) -> dict[str, Any]:
        token = secrets.token_urlsafe(24)
        scopes = grant.scope.replace(",", " ").split()
        scope = self.granted_scope if self.granted_scope is not None else separator.join(scopes)
        grant.scope = scope
        with self._lock:
            self._tokens[token] = grant
        return {"access_token": token, "scope": scope}

    def _github_token(self, request: Recorded) -> Answer:
        if self.token_answer is not None:
            return _json(*self.token_answer)
        form = request.form
        if (form.get("client_id"), form.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return _json(200, {"error": "incorrect_client_credentials"})
        grant = self._redeem(request, "github")
        if grant is None:
            return _json(200, BAD_CODE)  # GitHub: an error body with status 200
        return _json(200, {**self._issue(grant, ","), "token_type": "bearer"})

    def _discord_token(self, request: Recorded) -> Answer:
        if self.token_answer is not None:
            return _json(*self.token_answer)
        if _basic(request.headers.get("authorization")) != (self.client_id, self.client_secret):
            return _json(401, {"error": "invalid_client"})
        if request.form.get("grant_type") != "authorization_code":
            return _json(400, {"error": "unsupported_grant_type"})
        grant = self._redeem(request, "discord")
        if grant is None:
            return _json(400, {"error": "invalid_grant", "error_description": 'Invalid "code"'})
        issued = self._issue(grant, " ")
        return _json(
            200,
            {
                **issued,
                "token_type": "Bearer",
                "expires_in": 604800,
                "refresh_token": "r-" + issued["access_token"],
            },
        )

    # -- user APIs ---------------------------------------------------------------------------

    def _bearer(self, request: Recorded) -> Grant | None:
        value = request.headers.get("authorization", "")
        scheme, _, token = value.partition(" ")
        if scheme.lower() not in ("bearer", "token"):
            return None
        with self._lock:
            return self._tokens.get(token)

    def _github_api(self, request: Recorded) -> Grant | Answer:
        if not request.headers.get("user-agent"):
            return _json(403, {"message": "Request forbidden by administrative rules."})
        grant = self._bearer(request)
        if grant is None or grant.provider != "github":
            return _json(401, {"message": "Bad credentials"})
        return grant

    def _github_user(self, request: Recorded) -> Answer:
        grant = self._github_api(request)
        return grant if isinstance(grant, tuple) else _json(200, self.github_user)

    def _github_emails(self, request: Recorded) -> Answer:
        grant = self._github_api(request)
        if isinstance(grant, tuple):
            return grant
        if self.emails_answer is not None:
            return _json(*self.emails_answer)
        if not {"user:email", "user"} & set(grant.scope.split(",")):
            return _json(404, {"message": "Not Found"})
        return _json(200, self.github_emails)

    def _discord_me(self, request: Recorded) -> Answer:
        grant = self._bearer(request)
        if grant is None or grant.provider != "discord":
            return _json(401, {"message": "401: Unauthorized", "code": 0})
        user = dict(self.discord_user)
        if "email" not in grant.scope.split():
            user.pop("email", None)
            user.pop("verified", None)
        return _json(200, user)


Answer = tuple[int, Mapping[str, str], bytes]


def _json(status: int, document: Any) -> Answer:
    if isinstance(document, str):
        document = document.encode()
    payload = document if isinstance(document, bytes) else json.dumps(document).encode()
    return status, {"Content-Type": "application/json; charset=utf-8"}, payload


def _basic(value: str | None) -> tuple[str, str] | None:
    """The (id, secret) pair of a Basic Authorization header (RFC 6749 2.3.1 encoding)."""
    scheme, _, encoded = (value or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    user, _, password = base64.b64decode(encoded).decode().partition(":")
    return unquote(user), unquote(password)


def query_of(url: str) -> dict[str, list[str]]:
    """The query of `url`, every value of every name."""
    return parse_qs(urlsplit(url).query)


def profile_json(profile: Any) -> dict[str, Any]:
    """A `Profile` as JSON data, for a verify that logs the profile in as the user."""
    return {
        "provider": profile.provider,
        "id": profile.id,
        "issuer": profile.issuer,
        "username": profile.username,
        "display_name": profile.display_name,
        "emails": [[e.value, e.verified, e.primary] for e in profile.emails],
        "photos": list(profile.photos),
        "raw": dict(profile.raw),
    }
