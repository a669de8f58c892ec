"""OAuth2Strategy under attack: forged, replayed and cross-wired authorization responses.

Reference security.md P0 9 (state), 10 (PKCE), 15 (redirect_uri), 25 (logs), 2.1 (RFC 9700),
2.2 (RFC 6749), 2.4 (RFC 7636), 3.4 (known client bugs) and 4.5 (callback inputs). The
attacker's material is real: codes and states minted by the bundled provider over real HTTP
for a real session, then delivered where they do not belong. Every refusal is checked for its
status and message, for nobody being logged in, and for the token endpoint never being called.
"""

from __future__ import annotations

import base64
import logging
import time
from typing import Any

import httpx2
import pytest
from oauth_fixtures import token_requests
from oauth_helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    Recorder,
    callback_url_for,
    client_for,
    make_app,
    make_client,
    make_passport,
    oauth2_strategy,
    pending_callback,
    provider,
    query_params,
    run_dance,
    with_params,
)
from starlette.responses import JSONResponse
from starlette.testclient import TestClient

import passport_py.strategies._oauth2_transactions as transactions
from passport_py.decisions import AuthResult
from passport_py.errors import SessionRequiredError
from passport_py.request import SESSION_FLASH_KEY
from passport_py.strategies.oauth2 import CODE_REFUSED, OAuth2Strategy

CALLBACK = callback_url_for("oauth2")
UNABLE = "Unable to verify authorization request state."
INVALID = "Invalid authorization request state."


pytestmark = pytest.mark.usefixtures("honest_idp")


def strategy_for(idp: Any, **options: Any) -> OAuth2Strategy:
    options.setdefault("callback_url", callback_url_for(options.get("name") or "oauth2"))
    return oauth2_strategy(idp, Recorder(), **options)


def assert_refused(
    client: TestClient, response: httpx2.Response, status: int, message: str
) -> None:
    """`response` is the failure `status` with `message`, and nobody is logged in."""
    assert response.status_code == status, response.text
    session = client.get("/session").json()
    assert session.get("messages", [])[-1:] == [message]
    assert client.get("/me").json()["user"] is None


# -- redirect_uri (P0 15, RFC 9700 2.1, 10.2.3) --------------------------------------------


@pytest.mark.parametrize("trust_proxy", [False, True])
def test_host_headers_do_not_change_an_absolute_redirect_uri(idp: Any, trust_proxy: bool) -> None:
    """P0 15: Host and X-Forwarded-Host/Proto of evil.test change nothing; the token request
    carries the identical redirect_uri (the provider checks it, and the login succeeds)."""
    client = client_for(strategy_for(idp, trust_proxy=trust_proxy))
    hostile = {"host": "evil.test", "x-forwarded-host": "evil.test", "x-forwarded-proto": "https"}
    steps = run_dance(client, "/auth/oauth2", idp, start_headers=hostile)
    assert query_params(steps.authorization_url)["redirect_uri"] == CALLBACK
    assert steps.callback_url.startswith(CALLBACK + "?")
    assert steps.response.status_code == 302
    assert client.get("/me").json()["user"] == {"login": "ok"}


def test_request_parameters_never_reach_the_authorization_request(idp: Any) -> None:
    """ASVS 10.2.3: the start route's query cannot set scope, prompt, redirect_uri,
    response_type, client_id or the PKCE challenge."""
    client = client_for(strategy_for(idp, scope="openid"))
    hostile = "scope=admin&prompt=none&redirect_uri=https://evil.test&response_type=token"
    response = client.get(f"/auth/oauth2?{hostile}&client_id=evil&code_challenge=x")
    params = query_params(response.headers["location"])
    assert params["scope"] == "openid"
    assert "prompt" not in params
    assert params["redirect_uri"] == CALLBACK
    assert params["response_type"] == "code"
    assert params["client_id"] == CLIENT_ID
    assert params["code_challenge"] != "x"


# -- state (P0 9, ASVS 10.1.2, 10.2.1) ------------------------------------------------------


def test_callback_from_another_session(idp: Any) -> None:
    """10.1.2(a): the attacker's live callback in a session that started nothing → 403
    "Unable to verify"; no token request; the attacker's own session can still finish."""
    attacker = client_for(strategy_for(idp))
    victim = client_for(strategy_for(idp))
    url = pending_callback(attacker, "/auth/oauth2", idp)
    assert_refused(victim, victim.get(url), 403, UNABLE)
    assert token_requests(idp) == 0
    assert attacker.get(url).status_code == 302


def test_callback_from_another_session_while_one_is_pending(idp: Any) -> None:
    """10.1.2(a) with a pending transaction of the victim's own → 403 "Invalid"."""
    strategy = strategy_for(idp)
    attacker, victim = client_for(strategy), client_for(strategy)
    url = pending_callback(attacker, "/auth/oauth2", idp)
    victim.get("/auth/oauth2")
    assert_refused(victim, victim.get(url), 403, INVALID)
    assert token_requests(idp) == 0


@pytest.mark.parametrize("state", [None, "", "wrong", "A" * 43, "x" * 5000])
def test_missing_or_wrong_state(idp: Any, state: str | None) -> None:
    """P0 9: a missing, empty or wrong state → 403 "Invalid"; no token request."""
    client = client_for(strategy_for(idp))
    url = pending_callback(client, "/auth/oauth2", idp)
    assert_refused(client, client.get(with_params(url, state=state)), 403, INVALID)
    assert token_requests(idp) == 0


def test_a_mismatch_drops_the_transaction(idp: Any) -> None:
    """Transactions are one-shot also on mismatch: the right state afterwards → 403."""
    client = client_for(strategy_for(idp))
    url = pending_callback(client, "/auth/oauth2", idp)
    client.get(with_params(url, state="wrong"))
    assert not [k for k in client.get("/session").json() if k.startswith("oauth2:")]
    assert_refused(client, client.get(url), 403, UNABLE)
    assert token_requests(idp) == 0


def test_replayed_callback(idp: Any) -> None:
    """10.1.2(b), 4.5: the exact successful callback URL again → 403, one token request."""
    client = client_for(strategy_for(idp))
    steps = run_dance(client, "/auth/oauth2", idp)
    assert steps.response.status_code == 302
    response = client.get(steps.callback_url)
    assert response.status_code == 403
    assert client.get("/session").json()["messages"] == [UNABLE]
    assert token_requests(idp) == 1


def test_state_of_another_provider(idp: Any) -> None:
    """10.1.2(f): provider A's state and code on provider B's callback → 403, neither token
    endpoint called (two providers on two ports)."""
    with provider(redirect_uris=[callback_url_for("b")]) as other:
        a = strategy_for(idp, name="a")
        b = strategy_for(other, name="b")
        client = client_for(a, b)
        url = pending_callback(client, "/auth/a", idp)
        forged = url.replace("/auth/a/callback", "/auth/b/callback")
        assert_refused(client, client.get(forged), 403, UNABLE)
        client.get("/auth/b")  # with a transaction of B's own pending: still refused
        assert_refused(client, client.get(forged), 403, INVALID)
        assert token_requests(idp) == token_requests(other) == 0


def test_state_of_another_strategy_at_the_same_provider(idp: Any) -> None:
    """10.1.2(f), next-auth CVE-2026-73419: two strategies at one provider host (two clients,
    two tenants of one login service): strategy x's state on strategy y's callback → 403, and
    the token endpoint is never called."""
    x = strategy_for(idp, name="x")
    y = strategy_for(idp, name="y", client_id="other-client", client_secret="other-secret")
    client = client_for(x, y)
    url = pending_callback(client, "/auth/x", idp)
    response = client.get(url.replace("/auth/x/callback", "/auth/y/callback"))
    assert response.status_code == 403
    assert token_requests(idp) == 0


def test_expired_transaction(idp: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """10.1.2(g): a callback more than state_max_age (600 s) after the start → 403."""
    client = client_for(strategy_for(idp))
    url = pending_callback(client, "/auth/oauth2", idp)

    class Later:
        @staticmethod
        def time() -> float:
            return time.time() + 601

    monkeypatch.setattr(transactions, "time", Later)
    response = client.get(url)
    assert_refused(client, response, 403, transactions.EXPIRED)
    assert token_requests(idp) == 0


def test_two_tabs_each_complete_once(idp: Any) -> None:
    """10.1.2(d), 5.3: two pending transactions in one session each finish once."""
    client = client_for(strategy_for(idp), callback_options={"session": False})
    first = pending_callback(client, "/auth/oauth2", idp)
    second = pending_callback(client, "/auth/oauth2", idp)
    assert client.get(second).status_code == 302
    assert client.get(first).status_code == 302
    assert client.get(first).status_code == 403
    assert client.get(second).status_code == 403
    assert token_requests(idp) == 2


def test_a_login_ends_the_other_tabs_transaction(idp: Any) -> None:
    """The login regenerates the session: the other tab's callback is then refused (403,
    no token request) unless the route keeps the session's data (keep_session_info=True)."""
    client = client_for(strategy_for(idp))
    first = pending_callback(client, "/auth/oauth2", idp)
    second = pending_callback(client, "/auth/oauth2", idp)
    assert client.get(first).status_code == 302
    assert client.get(second).status_code == 403
    assert token_requests(idp) == 1
    keeping = client_for(strategy_for(idp), callback_options={"keep_session_info": True})
    first = pending_callback(keeping, "/auth/oauth2", idp)
    second = pending_callback(keeping, "/auth/oauth2", idp)
    assert keeping.get(first).status_code == keeping.get(second).status_code == 302


def test_error_response_with_a_wrong_state(idp: Any) -> None:
    """RFC 6749 4.1.2.1: an error response is checked for state first → 403, not its error."""
    client = client_for(strategy_for(idp))
    client.get("/auth/oauth2")
    response = client.get("/auth/oauth2/callback?error=server_error&state=forged")
    assert_refused(client, response, 403, INVALID)


def test_provider_error_text_is_logged_as_one_bounded_line(
    idp: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """4.5, I3, I6: error, error_description and error_uri with markup, CR/LF and length
    reach neither the response body nor the log as they came."""
    client = client_for(strategy_for(idp))
    state = query_params(client.get("/auth/oauth2").headers["location"])["state"]
    hostile = {
        "state": state,
        "error": "invalid_scope\r\nCRITICAL forged",
        "error_description": "<script>alert(1)</script>\nforged " + "x" * 20_000,
        "error_uri": "javascript:alert(1)",
    }
    with caplog.at_level(logging.WARNING, logger="passport_py"):
        response = client.get("/auth/oauth2/callback", params=hostile)
    assert (response.status_code, response.text) == (500, "Internal Server Error")
    assert client.get("/me").json()["user"] is None
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "passport_py")
    assert "invalid_scope" in logged
    assert logged.count("\n") == 0 and "\r" not in logged
    assert len(logged) < 1000


def test_pending_transactions_are_bounded(idp: Any) -> None:
    """Starting over and over keeps at most three transactions (the cookie stays small);
    the oldest goes first."""
    client = client_for(strategy_for(idp))
    states = [
        query_params(client.get("/auth/oauth2").headers["location"])["state"] for _ in range(10)
    ]
    pending = next(v for k, v in client.get("/session").json().items() if k.startswith("oauth2"))
    assert sorted(pending) == sorted(states[-3:])
    assert len(client.cookies["session"]) < 2000


# -- codes (RFC 9700 4.5, RFC 6749 10.5, 10.14) ---------------------------------------------


def test_replayed_code_with_a_fresh_state(idp: Any, caplog: pytest.LogCaptureFixture) -> None:
    """A used code under a new, valid state: the provider refuses it (invalid_grant) → 403
    "code refused", no login, and a warning naming the provider's error."""
    first = client_for(strategy_for(idp))
    used = run_dance(first, "/auth/oauth2", idp).callback_url
    second = client_for(strategy_for(idp))
    state = query_params(second.get("/auth/oauth2").headers["location"])["state"]
    with caplog.at_level(logging.WARNING, logger="passport_py"):
        response = second.get(with_params(used, state=state))
    assert_refused(second, response, 403, CODE_REFUSED)
    assert token_requests(idp) == 2
    assert "oauth2_code_refused" in caplog.text and "invalid_grant" in caplog.text


def test_injected_code_fails_pkce(idp: Any) -> None:
    """RFC 9700 4.5 / 2.1.1: a code swapped between two sessions (the attacker's unused
    code in the victim's valid transaction) is sent with the victim's verifier; the provider
    refuses it (invalid_grant) → 403 "code refused", no login."""
    attacker, victim = client_for(strategy_for(idp)), client_for(strategy_for(idp))
    stolen = pending_callback(attacker, "/auth/oauth2", idp)
    state = query_params(victim.get("/auth/oauth2").headers["location"])["state"]
    response = victim.get(with_params(stolen, state=state))
    assert_refused(victim, response, 403, CODE_REFUSED)
    assert token_requests(idp) == 1


def test_an_expired_code_is_a_403(idp: Any) -> None:
    """RFC 6749 4.1.2: a code the provider no longer accepts (it expired before the
    callback) → 403 "code refused": the user may simply log in again."""
    client = client_for(strategy_for(idp))
    idp.code_lifetime = 0.0  # codes expire as they are issued
    try:
        response = client.get(pending_callback(client, "/auth/oauth2", idp))
    finally:
        idp.code_lifetime = 60.0
    assert_refused(client, response, 403, CODE_REFUSED)
    assert token_requests(idp) == 1


def test_a_refused_code_takes_the_failure_redirect_and_flash(idp: Any) -> None:
    """A refused code is a failure like a bad state: `failure_redirect` and `failure_flash`
    apply (a browser lands on the login page with the message, not on a 5xx page)."""
    options = {"failure_flash": True}
    client = client_for(strategy_for(idp), failure_redirect="/login", callback_options=options)
    attacker = client_for(strategy_for(idp))
    stolen = pending_callback(attacker, "/auth/oauth2", idp)
    state = query_params(client.get("/auth/oauth2").headers["location"])["state"]
    response = client.get(with_params(stolen, state=state))
    assert (response.status_code, response.headers["location"]) == (302, "/login")
    assert client.get("/session").json()[SESSION_FLASH_KEY] == [["error", CODE_REFUSED]]
    assert client.get("/me").json()["user"] is None


def test_a_custom_callback_sees_a_refused_code_as_a_403_failure(idp: Any) -> None:
    """With `callback=`, a refused code is a failure (status 403), not an error."""
    results: list[AuthResult[Any]] = []

    def callback(request: Any, result: AuthResult[Any]) -> Any:
        results.append(result)
        return JSONResponse({"statuses": list(result.statuses)})

    client = client_for(strategy_for(idp), callback_options={"callback": callback})
    attacker = client_for(strategy_for(idp))
    stolen = pending_callback(attacker, "/auth/oauth2", idp)
    state = query_params(client.get("/auth/oauth2").headers["location"])["state"]
    assert client.get(with_params(stolen, state=state)).json() == {"statuses": [403]}
    assert results[0].error is None
    assert results[0].challenge == {"message": CODE_REFUSED}


@pytest.mark.parametrize(
    "code",
    ["x" * 10240, "abc\r\nSet-Cookie: a=b", "abc\x00def", "abcé", "abc def\t", ""],
    ids=["10KB", "CRLF", "NUL", "non-ASCII", "tab", "empty"],
)
def test_malformed_code(idp: Any, code: str) -> None:
    """RFC 6749 10.14, 4.5: a malformed code under a valid state → 400, no token request."""
    client = client_for(strategy_for(idp))
    url = pending_callback(client, "/auth/oauth2", idp)
    response = client.get(with_params(url, code=code))
    assert response.status_code == 400
    assert client.get("/me").json()["user"] is None
    assert token_requests(idp) == 0


@pytest.mark.parametrize("extra", ["&code=again", "&state=again", "&iss=again", "&error=a&error=b"])
def test_repeated_parameter(idp: Any, extra: str) -> None:
    """4.5: code=a&code=b (or state, iss, error twice) → 400, no token request."""
    client = client_for(strategy_for(idp))
    url = pending_callback(client, "/auth/oauth2", idp)
    response = client.get(url + extra)
    assert response.status_code == 400
    assert token_requests(idp) == 0


def test_repeated_parameter_in_a_form_post_body(idp: Any) -> None:
    """The same for a form_post callback."""
    client = client_for(strategy_for(idp))
    params = query_params(pending_callback(client, "/auth/oauth2", idp))
    body = f"code={params['code']}&code=other&state={params['state']}"
    headers = {"content-type": "application/x-www-form-urlencoded"}
    response = client.post("/auth/oauth2/callback", content=body, headers=headers)
    assert response.status_code == 400
    assert token_requests(idp) == 0


def test_error_and_code_together_is_the_error(idp: Any) -> None:
    """4.5: error and code in one response: the error wins; no token request."""
    client = client_for(strategy_for(idp))
    url = pending_callback(client, "/auth/oauth2", idp)
    response = client.get(f"{url}&error=access_denied")
    assert response.status_code == 401
    assert token_requests(idp) == 0


# -- secrets stay secret (P0 25, ASVS 10.1.1, RFC 7636 4.5) ---------------------------------


def test_tokens_and_verifier_stay_out_of_cookies_urls_and_logs(
    idp: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """10.1.1, RFC 7636 4.5, P0 25: after a login no token is in the session cookie or JSON
    or any Location header; the verifier is in no URL; no log record holds the code, state,
    verifier, tokens or client secret."""
    verify = Recorder()
    strategy = oauth2_strategy(idp, verify, callback_url=CALLBACK, scope="openid")
    client = client_for(strategy)
    client.get("/auth/oauth2")  # an abandoned start: its transaction is in the session
    with caplog.at_level(logging.DEBUG):
        steps = run_dance(client, "/auth/oauth2", idp)
    tokens = verify.tokens
    secrets = [tokens.access_token, tokens.refresh_token, tokens.id_token]
    assert all(secrets)
    cookie = client.cookies["session"].split(".")[0]
    decoded = base64.b64decode(cookie + "=" * (-len(cookie) % 4)).decode()
    stored = decoded + client.get("/session").text
    answers: list[Any] = [steps.start, *steps.hops, steps.response]
    locations = [str(r.headers.get("location", "")) for r in answers]
    for secret in secrets:
        assert secret not in stored
        assert not any(secret in location for location in locations)
    params = query_params(steps.callback_url)
    # Our own records (the test clients and the provider log URLs and tokens of their own).
    ours = [r for r in caplog.records if r.name.split(".")[0] == "passport_py"]
    logged = "\n".join(r.getMessage() for r in ours)
    for secret in [*secrets, params["code"], params["state"], CLIENT_SECRET]:
        assert secret not in logged


def test_verifier_is_not_in_any_url(idp: Any) -> None:
    """RFC 7636 4.5: the verifier goes in the token request only."""
    client = client_for(strategy_for(idp))
    location = client.get("/auth/oauth2").headers["location"]
    state = query_params(location)["state"]
    pending = next(v for k, v in client.get("/session").json().items() if k.startswith("oauth2"))
    verifier = pending[state]["verifier"]
    url = pending_callback(client, "/auth/oauth2", idp)
    assert verifier not in location and verifier not in url


def test_no_session_middleware_is_a_configuration_error_naming_the_fix(idp: Any) -> None:
    """O53, O60: without a session there is nowhere to keep state: a clear error."""
    client = make_client(make_app(make_passport(strategy_for(idp)), sessions=False))
    with pytest.raises(SessionRequiredError, match="add SessionMiddleware"):
        client.get("/auth/oauth2")
    with pytest.raises(SessionRequiredError, match="add SessionMiddleware"):
        client.get("/auth/oauth2/callback?code=abc&state=def")
    assert token_requests(idp) == 0


@pytest.mark.parametrize(
    "headers",
    [{"sec-fetch-site": "cross-site"}, {"origin": "https://evil.test"}, {"origin": "null"}],
)
def test_linking_started_by_another_site_is_refused(idp: Any, headers: dict[str, str]) -> None:
    """OmniAuth CVE-2015-9284: authorize() does not send a browser that another site sent."""
    client = client_for(strategy_for(idp), start_options={"assign_property": "account"})
    response = client.get("/auth/oauth2", headers=headers)
    assert response.status_code == 403
    assert "oauth2:" not in str(client.get("/session").json())
    assert token_requests(idp) == 0


def test_linking_started_from_this_site_goes_to_the_provider(idp: Any) -> None:
    client = client_for(strategy_for(idp), start_options={"assign_property": "account"})
    response = client.get("/auth/oauth2", headers={"sec-fetch-site": "same-origin"})
    assert response.status_code == 302
    assert response.headers["location"].startswith(idp.issuer)
