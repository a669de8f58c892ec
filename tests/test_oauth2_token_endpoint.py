"""OAuth2Strategy against a hostile token endpoint (security.md 2.2 RFC 6749 4.1.4/5.2, 4.8,
5.3; strategies.md 5, O34-O38).

The authorization half is a real dance with the bundled provider; its token endpoint then
answers what a broken or hostile provider would (`faults.token_response`, `token_delay`), or
the token URL points at a `ScriptedServer` or at a port nothing listens on. Every case ends in
the documented answer, 502 "Bad Gateway" (never a 500, never a login), with one token request
(a code is never retried) and a warning whose message names the HTTP status and the body.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from loopback import ScriptedServer
from oauth_fixtures import token_requests
from oauth_helpers import (
    CLIENT_SECRET,
    Recorder,
    app_client,
    callback_url_for,
    make_app,
    make_client,
    make_passport,
    oauth2_strategy,
    query_params,
    run_dance,
)
from starlette.testclient import TestClient

from passport_py.strategies.oauth2 import OAuth2Strategy

CALLBACK = callback_url_for("oauth2")
JSON = "application/json"


pytestmark = pytest.mark.usefixtures("honest_idp")


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    with ScriptedServer() as server:
        yield server


def login(strategy: OAuth2Strategy, idp: Any) -> tuple[TestClient, Any]:
    """A dance through an app serving `strategy`: (client, the callback's response)."""
    client = app_client(strategy)
    return client, run_dance(client, "/auth/oauth2", idp)


def warnings_of(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(
        r.getMessage()
        for r in caplog.records
        if r.name.split(".")[0] == "passport_py" and r.levelno == logging.WARNING
    )


def assert_bad_gateway(client: TestClient, response: Any) -> None:
    assert (response.status_code, response.text) == (502, "Bad Gateway")
    assert client.get("/me").json()["user"] is None


UNAUTHORIZED = json.dumps({"error": "unauthorized_client", "error_description": "Not you"})
# GitHub answers an unusable code with 200 and an error document.
NO_ACCESS_TOKEN = json.dumps(
    {"token_type": "Bearer", "refresh_token": "rt-secret-123", "id_token": "it.secret.456"}
)
GITHUB_ERROR = json.dumps(
    {"error": "bad_verification_code", "error_description": "The code has expired."}
)
HOSTILE = [
    # (id, status, content type, body, what the warning must say besides the status)
    ("500-text", 500, "text/plain", "database on fire", "database on fire"),  # O37
    ("html-200", 200, "text/html", "<html><body>Sign in</body></html>", "<html>"),
    ("json-array", 200, JSON, '[{"access_token": "x"}]', "not a JSON object"),
    ("empty-object", 200, JSON, "{}", "no access_token"),  # O38
    ("no-access-token", 200, JSON, '{"token_type": "Bearer"}', "no access_token"),
    ("access-token-number", 200, JSON, '{"access_token": 42}', "no access_token"),
    ("mac", 200, JSON, '{"access_token": "at-mac", "token_type": "mac"}', "'mac'"),
    ("token-type-list", 200, JSON, '{"access_token": "a", "token_type": ["Bearer"]}', "token_type"),
    ("oauth-error-400", 400, JSON, UNAUTHORIZED, "unauthorized_client"),  # O35
    ("github-error-200", 200, JSON, GITHUB_ERROR, "bad_verification_code"),
    ("error-code-401", 401, JSON, '{"error_code": "invalid_grant"}', "error_code"),  # O36
    ("error-not-text", 200, JSON, '{"error": 42}', "no access_token"),
    ("empty-body-204", 204, JSON, "", "status: 204"),
    ("not-json-200", 200, JSON, "access_token=at&token_type=bearer", "not a JSON object"),
    ("deep-json", 200, JSON, "[" * 100000 + "]" * 100000, "not a JSON object"),
]


@pytest.mark.parametrize(
    ("status", "content_type", "body", "said"),
    [h[1:] for h in HOSTILE],
    ids=[h[0] for h in HOSTILE],
)
def test_hostile_token_response(
    idp: Any, caplog: pytest.LogCaptureFixture, status: int, content_type: str, body: str, said: str
) -> None:
    """RFC 6749 4.1.4, 5.1, 5.2, security 4.8: each unusable answer → 502, no login, one
    token request, and a warning naming the status and the body."""
    idp.faults.token_response = (status, content_type, body.encode())
    with caplog.at_level(logging.WARNING, logger="passport_py"):
        client, steps = login(oauth2_strategy(idp, Recorder(), callback_url=CALLBACK), idp)
    assert_bad_gateway(client, steps.response)
    assert token_requests(idp) == 1
    logged = warnings_of(caplog)
    assert f"status: {status}" in logged
    assert said in logged
    assert len(logged) < 2000  # a bounded line, whatever the body
    code = query_params(steps.callback_url)["code"]
    assert code not in logged and CLIENT_SECRET not in logged


@pytest.mark.parametrize(
    "error",
    ["invalid_request", "invalid_client", "unauthorized_client", "unsupported_grant_type",
     "invalid_scope", "server_error", "slow_down"],
)  # fmt: skip
def test_errors_that_are_not_the_users_stay_502(
    idp: Any, caplog: pytest.LogCaptureFixture, error: str
) -> None:
    """RFC 6749 5.2: an error other than invalid_grant means the app or the provider must be
    fixed, not the user's login: 502 and a TokenError warning naming it."""
    idp.faults.token_response = (400, JSON, json.dumps({"error": error}).encode())
    with caplog.at_level(logging.WARNING, logger="passport_py"):
        client, steps = login(oauth2_strategy(idp, Recorder(), callback_url=CALLBACK), idp)
    assert_bad_gateway(client, steps.response)
    assert f"TokenError: the token endpoint refused the code ({error})" in warnings_of(caplog)


def test_a_wrong_client_secret_is_a_502(idp: Any, caplog: pytest.LogCaptureFixture) -> None:
    """The provider itself refuses a wrong secret (invalid_client): 502, the log says so."""
    strategy = oauth2_strategy(idp, Recorder(), callback_url=CALLBACK, client_secret="wrong")
    with caplog.at_level(logging.WARNING, logger="passport_py"):
        client, steps = login(strategy, idp)
    assert_bad_gateway(client, steps.response)
    assert "(invalid_client)" in warnings_of(caplog)


def test_a_failed_token_request_consumes_the_transaction(idp: Any) -> None:
    """5.3: after a token failure pressing back and retrying needs a new login (403), and
    the code is not sent again."""
    idp.faults.token_response = (500, "text/plain", b"oops")
    client, steps = login(oauth2_strategy(idp, Recorder(), callback_url=CALLBACK), idp)
    assert steps.response.status_code == 502
    assert client.get(steps.callback_url).status_code == 403
    assert token_requests(idp) == 1


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (
            JSON,
            NO_ACCESS_TOKEN,
        ),
        (JSON, '[{"access_token": "at-secret-789", "token_type": "Bearer"}]'),
        ("application/x-www-form-urlencoded", "access_token=at-secret-789&token_type=bearer"),
    ],
    ids=["no-access-token", "json-array", "form-encoded"],
)
def test_tokens_in_a_refused_answer_are_not_logged(
    idp: Any, caplog: pytest.LogCaptureFixture, content_type: str, body: str
) -> None:
    """P0 25: a 200 answer refused as unusable can still carry live tokens (no access_token
    but a refresh token; an array; GitHub-style form encoding); the warning quoting the body
    must not carry them."""
    idp.faults.token_response = (200, content_type, body.encode())
    with caplog.at_level(logging.WARNING, logger="passport_py"):
        client, steps = login(oauth2_strategy(idp, Recorder(), callback_url=CALLBACK), idp)
    assert_bad_gateway(client, steps.response)
    logged = warnings_of(caplog)
    assert "status: 200" in logged
    for secret in ("rt-secret-123", "it.secret.456", "at-secret-789"):
        assert secret not in logged


def test_error_text_is_logged_as_one_bounded_line(
    idp: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """security 4.0 I6, 4.8: CR/LF and megabytes in a token error's `error` and
    `error_description` reach the log as one printable line of bounded length."""
    document = {
        "error": "invalid_grant\r\nCRITICAL forged record",
        "error_description": "first\nWARNING forged record " + "x" * 100_000,
    }
    idp.faults.token_response = (400, JSON, json.dumps(document).encode())
    with caplog.at_level(logging.WARNING, logger="passport_py"):
        client, steps = login(oauth2_strategy(idp, Recorder(), callback_url=CALLBACK), idp)
    assert_bad_gateway(client, steps.response)
    logged = warnings_of(caplog)
    assert "invalid_grant" in logged
    assert "\n" not in logged and "\r" not in logged
    assert len(logged) < 2000


def test_timeout(idp: Any, caplog: pytest.LogCaptureFixture) -> None:
    """5.3: a token endpoint slower than `timeout` → 502 within about `timeout`, one request."""
    idp.faults.token_delay = 1.5
    strategy = oauth2_strategy(idp, Recorder(), callback_url=CALLBACK, timeout=0.3)
    client = make_client(make_app(make_passport(strategy)))
    with caplog.at_level(logging.WARNING, logger="passport_py"):
        started = time.monotonic()
        steps = run_dance(client, "/auth/oauth2", idp)
        elapsed = time.monotonic() - started
    assert_bad_gateway(client, steps.response)
    assert elapsed < 1.2
    assert token_requests(idp) == 1
    assert "Failed to obtain access token" in warnings_of(caplog)


def test_connection_refused(idp: Any, caplog: pytest.LogCaptureFixture) -> None:
    """O34: nothing listening at the token URL → 502 naming the failure."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    strategy = oauth2_strategy(idp, Recorder(), callback_url=CALLBACK)
    strategy.token_url = f"http://127.0.0.1:{port}/token"
    with caplog.at_level(logging.WARNING, logger="passport_py"):
        client, steps = login(strategy, idp)
    assert_bad_gateway(client, steps.response)
    assert "Failed to obtain access token" in warnings_of(caplog)


def test_oversized_answer(idp: Any) -> None:
    """4.8: a 2 MB token answer is refused (size cap), not parsed → 502."""
    padding = "x" * (2 * 1024 * 1024)
    idp.faults.token_response = (200, JSON, json.dumps({"access_token": padding}).encode())
    client, steps = login(oauth2_strategy(idp, Recorder(), callback_url=CALLBACK), idp)
    assert_bad_gateway(client, steps.response)


def test_redirect_is_not_followed(idp: Any, scripted: ScriptedServer) -> None:
    """4.8: a 302 from the token endpoint (to a metadata address, say) is not followed."""
    scripted.answer("/token", 302, "text/plain", "", {"Location": f"{scripted.base}/elsewhere"})
    scripted.answer_json("/elsewhere", {"access_token": "at", "token_type": "Bearer"})
    strategy = oauth2_strategy(idp, Recorder(), callback_url=CALLBACK)
    strategy.token_url = f"{scripted.base}/token"
    client, steps = login(strategy, idp)
    assert_bad_gateway(client, steps.response)
    assert scripted.calls("/token") == 1
    assert scripted.calls("/elsewhere") == 0


def test_profile_endpoint_failure(idp: Any, caplog: pytest.LogCaptureFixture) -> None:
    """5.3: a userinfo answer of 500 inside `user_profile` → 502 naming the status."""
    holder: list[OAuth2Strategy] = []

    async def profile(tokens: Any) -> Any:
        return await holder[0].fetch_json(f"{idp.issuer}/userinfo", tokens)

    idp.faults.responses["/userinfo"] = (500, "text/html", b"<h1>down</h1>")
    strategy = oauth2_strategy(idp, Recorder(), callback_url=CALLBACK, user_profile=profile)
    holder.append(strategy)
    with caplog.at_level(logging.WARNING, logger="passport_py"):
        client, steps = login(strategy, idp)
    assert_bad_gateway(client, steps.response)
    assert "Failed to fetch user profile (status: 500 data: <h1>down</h1>)" in warnings_of(caplog)


# -- answers that are usable ---------------------------------------------------------------


def granted(idp: Any, document: dict[str, Any]) -> Any:
    """The tokens verify receives when the token endpoint answers `document`."""
    idp.faults.token_response = (200, JSON, json.dumps(document).encode())
    verify = Recorder()
    _, steps = login(oauth2_strategy(idp, verify, callback_url=CALLBACK), idp)
    assert steps.response.status_code == 302
    return verify.tokens


@pytest.mark.parametrize(
    ("expires_in", "lifetime"),
    [(3600, 3600), ("3600", 3600), (0, 0), (-1, None), (1e309, None), ("soon", None),
     (3600.5, None), (True, None), (10**12, None), (None, None)],
)  # fmt: skip
def test_expires_in(idp: Any, expires_in: Any, lifetime: int | None) -> None:
    """RFC 6749 5.1 / security 2.2: expires_in "3600", -1, 1e309 ... handled, never a crash:
    a whole number of seconds (or digits) gives expires_at, anything else None."""
    document: dict[str, Any] = {"access_token": "at", "token_type": "Bearer"}
    if expires_in is not None:
        document["expires_in"] = expires_in
    tokens = granted(idp, document)
    if lifetime is None:
        assert tokens.expires_at is None
    else:
        assert tokens.expires_at is not None
        assert abs(tokens.expires_at - time.time() - lifetime) < 5


@pytest.mark.parametrize("token_type", ["bearer", "BEARER", "Bearer"])
def test_token_type_is_compared_case_insensitively(idp: Any, token_type: str) -> None:
    """RFC 6749 5.1 / 7.1: "bearer" in any case is accepted."""
    assert granted(idp, {"access_token": "at", "token_type": token_type}).token_type == token_type


def test_unknown_members_are_kept_in_raw(idp: Any) -> None:
    """RFC 6749 5.1: unknown members are ignored (and kept in `raw`); scope as granted."""
    document = {"access_token": "at", "token_type": "Bearer", "scope": "read", "extra": [1]}
    tokens = granted(idp, document)
    assert tokens.scope == "read"
    assert tokens.refresh_token is None
    assert tokens.raw == document
