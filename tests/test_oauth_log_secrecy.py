"""No secret a provider sends reaches a log record or an error message (security.md P0 25,
16.2.5; RFC 6749 10.3).

Each case plants a fresh random value where a careless provider (or a hostile one) puts a
token: a key naming a token in every spelling and at any depth, keys and values written with
JSON escapes, `name=value` and `name: value` pairs in free text, form and HTML bodies,
`Bearer ...`, JWTs, and a signed (JWT) userinfo answer. The answer comes from the bundled
provider over real HTTP (its faults replace the token endpoint's, the userinfo, keys or
discovery answer), the real app runs the whole login, and every record of every logger at
DEBUG is searched, with the exception a custom callback receives (its message, repr and
traceback, logged as an app would). None may hold a planted value; each failure must still be
answered (4xx or 5xx) and say what the provider's error and status were.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import traceback
from dataclasses import dataclass
from typing import Any

import pytest
from loopback import ScriptedServer
from oauth_helpers import (
    Recorder,
    app_client,
    callback_url_for,
    default_user,
    oauth2_strategy,
    query_params,
    run_dance,
    start_login,
)
from oidc_helpers import oidc_strategy
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from passport_py.decisions import AuthResult

pytestmark = pytest.mark.usefixtures("honest_idp")

JSON = "application/json"
#: What a refused login answers: the engine's statuses for refusals and provider failures, or
#: the custom callback's 401.
ANSWERS = (401, 403, 500, 502)


def token() -> str:
    """A fresh random value, shaped like an opaque token."""
    return "pl4nt" + secrets.token_urlsafe(18)


def segment(data: dict[str, Any]) -> str:
    raw = json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def fake_jwt() -> str:
    """A JWT-shaped value (header, payload starting with a random claim, signature)."""
    payload = segment({"secret_claim": token(), "sub": "u-1"})
    return f"{segment({'alg': 'RS256', 'kid': 'k1'})}.{payload}.{secrets.token_urlsafe(32)}"


def jwt_parts(jwt: str) -> list[str]:
    """The JWT, its payload and signature, and the start of its payload (whose first claim
    is random): none of them may be logged, not even the start. (The header is the same in
    every JWT of a key: the bundled provider logs its own tokens at DEBUG.)"""
    payload, signature = jwt.split(".")[1:3]
    return [jwt, payload, signature, payload[:40]]


def escaped(text: str) -> str:
    """`text` with its first character written as a JSON \\u escape."""
    return f"\\u{ord(text[0]):04x}{text[1:]}"


@dataclass(frozen=True)
class Plant:
    """One answer with a secret in it: `body`, where `{V}` stands for the planted value (`{E}`
    for it with a JSON escape), a random token or (`jwt`) a JWT-shaped value; served at
    `where` ("/token", "/userinfo", "/jwks", discovery, or "callback": an authorization error
    response whose `error|error_description` is `body`) with `status` and `content_type`."""

    id: str
    body: str
    where: str = "/token"
    status: int = 400
    content_type: str = JSON
    jwt: bool = False

    def plant(self) -> tuple[str, list[str]]:
        """The body with a fresh value in it, and what must stay out of the logs."""
        value = fake_jwt() if self.jwt else token()
        body = self.body.replace("{V}", value).replace("{E}", escaped(value))
        return body, jwt_parts(value) if self.jwt else [value]


def oauth_error(**members: Any) -> str:
    return json.dumps({"error": "invalid_request", "error_description": "refused", **members})


FORM = "application/x-www-form-urlencoded"
SPELLINGS = [
    "access_token", "accessToken", "AccessToken", "access-token", "ACCESS_TOKEN",
    "refresh_token", "refreshToken", "RefreshToken", "refresh-token", "REFRESH_TOKEN",
    "id_token", "idToken", "IdToken", "id-token", "ID_TOKEN",
    "token", "Token", "client_secret", "clientSecret", "code", "code_verifier", "password",
]  # fmt: skip

PLANTS = [
    *(Plant(f"error-key-{name}", oauth_error(**{name: "{V}"})) for name in SPELLINGS),
    # Nesting and JSON escapes.
    Plant("error-nested", oauth_error(details={"a": [{"idToken": "{V}"}]})),
    Plant("error-deep", oauth_error(x=[[[[{"tokens": {"a": "{V}"}}]]]])),
    Plant("escaped-key", '{"error": "invalid_request", "access\\u005ftoken": "{V}"}'),
    Plant("escaped-value", '{"error": "invalid_request", "refresh_token": "{E}"}'),
    Plant("broken-json", '{"access\\u005ftoken": "{V}", "tok', status=200),
    # Free text in the provider's own fields.
    Plant("description-pair", oauth_error(error_description="bad access_token={V} sent")),
    Plant("description-colon", oauth_error(error_description="refresh token: {V}")),
    Plant("description-bearer", oauth_error(error_description="got Bearer {V}")),
    Plant("description-jwt", oauth_error(error_description="bad {V}"), jwt=True),
    Plant("error-code-jwt", json.dumps({"error": "{V}"}), jwt=True),
    # A refused code (a 403 failure, logged) and GitHub's error answered with 200.
    Plant(
        "invalid-grant",
        json.dumps(
            {"error": "invalid_grant", "error_description": "access_token={V}", "idToken": "{V}"}
        ),
    ),
    Plant(
        "github-200", json.dumps({"error": "bad_verification_code", "id_token": "{V}"}), status=200
    ),
    # Answers that are not an error, but not usable either.
    Plant(
        "no-access-token", json.dumps({"refreshToken": "{V}", "token_type": "Bearer"}), status=200
    ),
    Plant("json-array", json.dumps([{"access_token": "{V}"}]), status=200),
    Plant("json-string-jwt", json.dumps("{V}"), status=200, jwt=True),
    Plant("form-body", "access_token={V}&token_type=bearer", status=200, content_type=FORM),
    Plant("form-escaped", "access%5Ftoken={V}", status=200, content_type=FORM),
    Plant("form-code", "bad request: code={V}&client_secret={V}", content_type="text/plain"),
    Plant("html", "<p>Your token: {V}</p>", status=500, content_type="text/html"),
    Plant(
        "html-json",
        "<pre>{&quot;id_token&quot;: &quot;{V}&quot;}</pre>",
        status=500,
        content_type="text/html",
    ),
    Plant("text-header", "said Authorization: Bearer {V}", status=502, content_type="text/plain"),
    Plant("text-secret", "CLIENT_SECRET = '{V}'", status=500, content_type="text/plain"),
    Plant("text-jwt", "{V}", status=500, content_type="text/plain", jwt=True),
    # The other documents a login fetches, and the authorization response.
    Plant(
        "userinfo", json.dumps({"error": "invalid_token", "access_token": "{V}"}), "/userinfo", 401
    ),
    Plant("userinfo-html", "<b>access_token={V}</b>", "/userinfo", 500, "text/html"),
    Plant("jwks", json.dumps({"error": "x", "client_secret": "{V}"}), "/jwks", 500),
    Plant("discovery", "token={V}", "/.well-known/openid-configuration", 500, "text/plain"),
    Plant("callback-error", "invalid_scope|sent Bearer {V}; id_token={V}", "callback"),
]


def signed_userinfo(idp: Any, content_type: str) -> list[str]:
    """Serve a real signed userinfo answer (a JWT of the provider's) carrying a planted
    claim; what must stay out of the logs."""
    value = token()
    claims = {"name": value, "sub": default_user().sub, "iss": idp.issuer}
    jwt = idp.issue_id_token(claims)
    idp.faults.responses["/userinfo"] = (200, content_type, jwt.encode())
    return [value, *jwt_parts(jwt)]


class Seen:
    """The exception a custom callback received, logged as an app would log it."""

    def __init__(self) -> None:
        self.results: list[AuthResult[Any]] = []

    def __call__(self, request: Request, result: AuthResult[Any]) -> Response:
        self.results.append(result)
        if result.error is not None:
            logging.getLogger("app").error("login failed", exc_info=result.error)
        return JSONResponse({"ok": result.ok}, status_code=200 if result.ok else 401)

    def texts(self) -> list[str]:
        texts = []
        for result in self.results:
            error = result.error
            if error is not None:
                texts += [str(error), repr(error), *traceback.format_exception(error)]
                texts.append(str(getattr(error, "message", "")))
        return texts


def run_login(idp: Any, where: str, mode: str, callback_error: str | None) -> tuple[int, Seen]:
    """A login through an app whose callback route logs through the engine (`mode`
    "engine") or hands the result to a custom callback ("callback"): the final status."""
    seen = Seen()
    options: dict[str, Any] = {"failure_message": True}
    if mode == "callback":
        options = {"callback": seen}
    if where in ("/token", "callback"):
        strategy: Any = oauth2_strategy(idp, Recorder(), callback_url=callback_url_for("oauth2"))
    else:
        strategy = oidc_strategy(idp, userinfo=True)
    client = app_client(strategy, callback_options=options)
    path = f"/auth/{strategy.name}"
    if where == "/.well-known/openid-configuration":
        return client.get(path).status_code, seen
    if callback_error is not None:
        # A form_post error response: the planted text is in no URL the test client logs.
        error, description = callback_error.split("|")
        state = query_params(start_login(client, path))["state"]
        form = {"state": state, "error": error, "error_description": description}
        return client.post(f"{path}/callback", data=form).status_code, seen
    return run_dance(client, path, idp).response.status_code, seen


def assert_unseen(planted: list[str], caplog: pytest.LogCaptureFixture, seen: Seen) -> None:
    records = caplog.records
    assert records, "nothing was logged"
    logged = [r.getMessage() for r in records] + [caplog.text, *seen.texts()]
    for value in planted:
        leaks = [text for text in logged if value in text]
        assert not leaks, f"{value!r} leaked into {leaks[0][:400]!r}"


@pytest.mark.parametrize("mode", ["engine", "callback"])
@pytest.mark.parametrize("plant", PLANTS, ids=[p.id for p in PLANTS])
def test_planted_secrets_reach_no_log_and_no_message(
    idp: Any, caplog: pytest.LogCaptureFixture, plant: Plant, mode: str
) -> None:
    """Each planted value stays out of every log record and of the exception the app gets;
    the login is refused, and (engine mode) the warning still names the status."""
    body, planted = plant.plant()
    callback_error = None
    if plant.where == "/token":
        idp.faults.token_response = (plant.status, plant.content_type, body.encode())
    elif plant.where == "callback":
        callback_error = body
    else:
        idp.faults.responses[plant.where] = (plant.status, plant.content_type, body.encode())
    with caplog.at_level(logging.DEBUG):
        status, seen = run_login(idp, plant.where, mode, callback_error)
    assert status in ANSWERS
    assert_unseen(planted, caplog, seen)
    if mode == "engine" and plant.where != "callback":
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert any(f"status: {plant.status}" in w for w in warnings), warnings


@pytest.mark.parametrize("content_type", ["application/jwt", JSON])
@pytest.mark.parametrize("mode", ["engine", "callback"])
def test_a_signed_userinfo_answer_is_never_logged(
    idp: Any, caplog: pytest.LogCaptureFixture, content_type: str, mode: str
) -> None:
    """OpenID Connect Core 5.3.2: a signed userinfo answer (a JWT holding the user's claims)
    is refused with 502; neither the JWT nor its start nor a claim reaches a log or message,
    and the warning says what to change."""
    planted = signed_userinfo(idp, content_type)
    with caplog.at_level(logging.DEBUG):
        status, seen = run_login(idp, "/userinfo", mode, None)
    assert status == (401 if mode == "callback" else 502)
    assert_unseen(planted, caplog, seen)
    if mode == "engine" and content_type == "application/jwt":
        assert "application/jwt" in caplog.text


def test_what_the_operator_needs_stays_in_the_warning(
    idp: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Redaction keeps the provider's error, description, status and the rest of a
    Microsoft-style answer (error codes, trace id, the error URI); only the token goes."""
    secret = token()
    answer = {
        "error": "invalid_client",
        "error_description": "AADSTS7000215: Invalid client secret provided.",
        "error_codes": [7000215],
        "trace_id": "0d1c3f5e-0c58-4ba2-8d0b-c3a1a1e4b200",
        "refresh_token": secret,
        "error_uri": "https://login.example.test/error?code=7000215",
    }
    idp.faults.token_response = (401, JSON, json.dumps(answer).encode())
    with caplog.at_level(logging.WARNING, logger="passport_py"):
        status, _ = run_login(idp, "/token", "engine", None)
    assert status == 502
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "passport_py"]
    assert warning.startswith(
        "TokenError: the token endpoint refused the code (invalid_client): AADSTS7000215: "
        "Invalid client secret provided. (status: 401 data: "
    )
    for kept in ('"error_codes": [7000215]', answer["trace_id"], '"refresh_token": "[redacted]"'):
        assert kept in warning
    assert secret not in warning


def test_a_huge_hostile_body_gives_one_short_line(
    idp: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Nearly a megabyte of `token="token="...` (the worst case for the patterns) is
    answered 502 with one short warning line."""
    idp.faults.token_response = (500, "text/plain", b'token="' * 120_000)
    with caplog.at_level(logging.WARNING, logger="passport_py"):
        status, _ = run_login(idp, "/token", "engine", None)
    assert status == 502
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "passport_py"]
    assert "status: 500" in warning and len(warning) < 400


def test_secret_response_headers_stay_out_of_httpx2_debug_records(
    idp: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """httpx2 (its `httpcore2` loggers) records every response's headers at DEBUG: a token
    endpoint that sets a cookie or sends a token in a header must not put it in the log, on
    a successful login as on a refused one. Other headers stay readable."""
    cookie, header = token(), token()
    with ScriptedServer() as scripted:
        strategy = oauth2_strategy(idp, Recorder(), callback_url=callback_url_for("oauth2"))
        strategy.token_url = f"{scripted.base}/token"
        for status, answer in ((200, {"access_token": token(), "token_type": "Bearer"}),
                               (400, {"error": "invalid_request"})):  # fmt: skip
            secrets_sent = {"Set-Cookie": f"sid={cookie}; HttpOnly", "X-Access-Token": header}
            scripted.answer("/token", status, JSON, json.dumps(answer), secrets_sent)
            with caplog.at_level(logging.DEBUG):
                steps = run_dance(app_client(strategy), "/auth/oauth2", idp)
            assert steps.response.status_code == (302 if status == 200 else 502)
    assert "b'X-Access-Token'" in caplog.text and "b'Content-Type'" in caplog.text
    assert cookie not in caplog.text and header not in caplog.text
