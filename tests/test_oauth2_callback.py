"""OAuth2Strategy's callback against passport-oauth2's conformance list (strategies.md 5).

Every login is a real dance: the app's redirect (Starlette's TestClient), the bundled
provider's /authorize over real HTTP, the callback, and the token request from the strategy to
the provider (or, where a test reads the token request itself, to a `ScriptedServer`). Test
docstrings name the O-numbers they cover; test_oauth2_strategy.py lists those that do not apply.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from loopback import ScriptedServer
from oauth_fixtures import EXTRA_CLIENTS, ODD_SECRET, token_requests
from oauth_helpers import (
    Recorder,
    callback_url_for,
    dance,
    oauth2_strategy,
    query_params,
    run_dance,
    session_of,
    start_login,
)
from oauth_helpers import app_client as client_for
from starlette.testclient import TestClient

from passport_py import Rejected, Verified
from passport_py.strategies.oauth2 import (
    AuthorizationError,
    InternalOAuthError,
    OAuth2Strategy,
    TokenError,
)

CALLBACK = callback_url_for("oauth2")
TOKEN_JSON = {"access_token": "scripted-at", "token_type": "Bearer", "expires_in": 60}


pytestmark = pytest.mark.usefixtures("honest_idp")


@pytest.fixture
def token_server() -> Iterator[ScriptedServer]:
    """A scripted token endpoint answering TOKEN_JSON and recording each request."""
    with ScriptedServer() as server:
        server.answer_json("/token", TOKEN_JSON)
        yield server


# -- the callback (O20-O33, O55-O59, O85-O87, O114-O118, O121-O128) ------------------------


def test_login_with_the_provider(idp: Any) -> None:
    """O21, O55, O85: a full dance logs in; verify gets the tokens and no profile; the
    transaction is gone from the session."""
    verify = Recorder({"id": "alice"})
    strategy = oauth2_strategy(idp, verify, callback_url=CALLBACK, scope="openid profile")
    client = client_for(strategy)
    response = dance(client, "/auth/oauth2", idp)
    assert response.status_code == 302
    assert response.headers["location"] == "/"
    assert client.get("/me").json() == {"user": {"id": "alice"}}
    tokens = verify.tokens
    assert tokens.access_token and tokens.access_token == tokens.raw["access_token"]
    assert tokens.refresh_token == tokens.raw["refresh_token"]
    assert tokens.token_type == "Bearer"
    assert tokens.scope == "openid profile"
    assert tokens.expires_at is not None and abs(tokens.expires_at - time.time() - 3600) < 5
    assert verify.profile is None
    assert not [k for k in session_of(client) if k.startswith("oauth2:")]
    assert token_requests(idp) == 1


def test_token_request_fields(idp: Any, token_server: ScriptedServer) -> None:
    """O21, O85, RFC 6749 4.1.3: grant_type, code, the identical redirect_uri, the verifier
    of the challenge sent, and client_secret_basic."""
    strategy = oauth2_strategy(idp, Recorder(), callback_url=CALLBACK)
    strategy.token_url = f"{token_server.base}/token"
    steps = run_dance(client_for(strategy), "/auth/oauth2", idp)
    assert steps.response.status_code == 302
    headers, form = token_server.last_request("/token")
    sent = query_params(steps.authorization_url)
    assert form["grant_type"] == ["authorization_code"]
    assert form["code"] == [query_params(steps.callback_url)["code"]]
    assert form["redirect_uri"] == [sent["redirect_uri"]] == [CALLBACK]
    assert create_s256_code_challenge(form["code_verifier"][0]) == sent["code_challenge"]
    assert "client_secret" not in form
    assert headers["authorization"].startswith("Basic ")


def test_no_redirect_uri_in_either_request_without_callback_url(
    idp: Any, token_server: ScriptedServer
) -> None:
    """O20: without callback_url no redirect_uri is sent; the provider uses the registered one."""
    secret = EXTRA_CLIENTS["solo-client"][0]
    strategy = oauth2_strategy(idp, Recorder(), client_id="solo-client", client_secret=secret)
    strategy.token_url = f"{token_server.base}/token"
    steps = run_dance(client_for(strategy), "/auth/oauth2", idp)
    assert steps.response.status_code == 302
    assert "redirect_uri" not in query_params(steps.authorization_url)
    assert "redirect_uri" not in token_server.last_request("/token")[1]


@pytest.mark.parametrize(
    ("client_id", "secret", "method"),
    [
        ("odd-client", ODD_SECRET, "client_secret_basic"),
        ("post-client", "post-secret", "client_secret_post"),
        ("public-client", None, "none"),
    ],
)
def test_client_authentication_methods(idp: Any, client_id: str, secret: Any, method: str) -> None:
    """RFC 6749 2.3.1: the provider accepts each method it registered for the client; the
    secret `a:b+c%d é` is form-encoded before base64 and arrives intact."""
    strategy = oauth2_strategy(
        idp,
        Recorder(),
        client_id=client_id,
        client_secret=secret,
        token_endpoint_auth_method=method,
        callback_url=CALLBACK,
    )
    client = client_for(strategy)
    assert dance(client, "/auth/oauth2", idp).status_code == 302
    assert client.get("/me").json()["user"] == {"login": "ok"}


def test_client_secret_post_sends_the_secret_in_the_body(
    idp: Any, token_server: ScriptedServer
) -> None:
    """client_secret_post: client_id and client_secret in the body, no Authorization header."""
    strategy = oauth2_strategy(
        idp,
        Recorder(),
        client_id="post-client",
        client_secret="post-secret",
        token_endpoint_auth_method="client_secret_post",
        callback_url=CALLBACK,
    )
    strategy.token_url = f"{token_server.base}/token"
    run_dance(client_for(strategy), "/auth/oauth2", idp)
    headers, form = token_server.last_request("/token")
    assert form["client_id"] == ["post-client"]
    assert form["client_secret"] == ["post-secret"]
    assert "authorization" not in headers


def test_app_state_comes_back_in_info(idp: Any) -> None:
    """O65, O72, O86: state={...} on the start route is info["state"] after the callback."""
    strategy = oauth2_strategy(idp, Recorder(), callback_url=CALLBACK)
    client = client_for(
        strategy, success_redirect=None, start_options={"state": {"return_to": "/x"}}
    )
    body = dance(client, "/auth/oauth2", idp).json()
    assert body["user"] == {"login": "ok"}
    assert body["info"]["state"] == {"return_to": "/x"}


def test_app_state_string_is_not_sent(idp: Any) -> None:
    """O14 (changed): a string state is app state, never the `state` parameter."""
    strategy = oauth2_strategy(
        idp, Recorder(Verified({"u": 1}, {"why": "ok"})), callback_url=CALLBACK
    )
    client = client_for(strategy, success_redirect=None, start_options={"state": "foo123"})
    steps = run_dance(client, "/auth/oauth2", idp)
    assert query_params(steps.authorization_url)["state"] != "foo123"
    assert steps.response.json()["info"] == {"why": "ok", "state": "foo123"}


@pytest.mark.parametrize(
    ("result", "message"),
    [(None, None), (False, None), (Rejected("Invite required"), "Invite required")],
)
def test_verify_refuses(idp: Any, result: Any, message: str | None) -> None:
    """O27, O28: None/False/Rejected is a 401, with Rejected's message; nobody logged in."""
    strategy = oauth2_strategy(idp, Recorder(result=lambda *_: result), callback_url=CALLBACK)
    client = client_for(strategy, callback_options={"failure_message": True})
    response = dance(client, "/auth/oauth2", idp)
    assert response.status_code == 401
    assert client.get("/me").json()["user"] is None
    assert session_of(client).get("messages", []) == ([message] if message else [])


def test_verify_raising_is_an_error(idp: Any) -> None:
    """O39, O40: an exception from verify reaches the app."""

    def verify(tokens: Any, profile: Any) -> Any:
        raise RuntimeError("database down")

    client = client_for(oauth2_strategy(idp, verify, callback_url=CALLBACK))
    with pytest.raises(RuntimeError, match="database down"):
        dance(client, "/auth/oauth2", idp)


def test_pass_request(idp: Any) -> None:
    """O25: pass_request=True puts the request first."""
    verify = Recorder()
    strategy = oauth2_strategy(idp, verify, callback_url=CALLBACK, pass_request=True)
    assert dance(client_for(strategy), "/auth/oauth2", idp).status_code == 302
    request, tokens, profile = verify.calls[0]
    assert request.path == "/auth/oauth2/callback"
    assert tokens.access_token
    assert profile is None


def test_user_profile_hook_fetches_userinfo(idp: Any) -> None:
    """O121: the user_profile hook's result reaches verify (here: the provider's userinfo,
    fetched with the access token through `fetch_json`)."""
    holder: list[OAuth2Strategy] = []

    async def profile(tokens: Any) -> Any:
        return await holder[0].fetch_json(f"{idp.issuer}/userinfo", tokens)

    verify = Recorder()
    strategy = oauth2_strategy(
        idp, verify, callback_url=CALLBACK, scope="openid profile", user_profile=profile
    )
    holder.append(strategy)
    assert dance(client_for(strategy), "/auth/oauth2", idp).status_code == 302
    assert verify.profile["preferred_username"] == "alice"


def test_user_profile_hook_error(idp: Any) -> None:
    """O122: a user_profile error is an error; verify is not called."""

    def profile(tokens: Any) -> Any:
        raise LookupError("no profile")

    verify = Recorder()
    strategy = oauth2_strategy(idp, verify, callback_url=CALLBACK, user_profile=profile)
    with pytest.raises(LookupError):
        dance(client_for(strategy), "/auth/oauth2", idp)
    assert verify.calls == []


async def _async_true(tokens: Any) -> bool:
    return True


@pytest.mark.parametrize(
    ("skip", "loaded"),
    [
        (True, False),  # O123
        (lambda tokens: False, True),  # O124
        (lambda tokens: True, False),  # O125
        (_async_true, False),  # O127
    ],
)
def test_skip_user_profile(idp: Any, skip: Any, loaded: bool) -> None:
    """O123-O127: skip_user_profile True or a (sync or async) callable of the tokens."""
    verify = Recorder()
    strategy = oauth2_strategy(
        idp,
        verify,
        callback_url=CALLBACK,
        skip_user_profile=skip,
        user_profile=lambda tokens: {"loaded": True},
    )
    assert dance(client_for(strategy), "/auth/oauth2", idp).status_code == 302
    assert verify.profile == ({"loaded": True} if loaded else None)


def test_token_params_hook(idp: Any, token_server: ScriptedServer) -> None:
    """O118: token_params(options) adds to the token request, from the route's options."""
    strategy = oauth2_strategy(
        idp,
        Recorder(),
        callback_url=CALLBACK,
        token_params=lambda options: {"type": str(options.get("type"))},
    )
    strategy.token_url = f"{token_server.base}/token"
    client = client_for(strategy, callback_options={"type": "web_server"})
    assert dance(client, "/auth/oauth2", idp).status_code == 302
    assert token_server.last_request("/token")[1]["type"] == ["web_server"]


def test_form_post_callback(idp: Any) -> None:
    """O114, O115: response_mode=form_post: code and state arrive in a POST body."""
    strategy = oauth2_strategy(
        idp,
        Recorder(),
        name="form",
        callback_url=callback_url_for("form"),
        authorization_params=lambda options: {"response_mode": "form_post"},
    )
    client = client_for(strategy)
    steps = run_dance(client, "/auth/form", idp)
    assert steps.callback_method == "POST"
    assert steps.response.status_code == 302
    assert client.get("/me").json()["user"] == {"login": "ok"}
    assert not [k for k in session_of(client) if k.startswith("oauth2:")]


def _callback_with(client: TestClient, **params: str) -> httpx2.Response:
    state = query_params(start_login(client))["state"]
    return client.get("/auth/oauth2/callback", params={"state": state, **params})


def test_access_denied_is_a_401_with_the_description(idp: Any) -> None:
    """O29, O30, RFC 6749 4.1.2.1: access_denied → 401, message from error_description;
    the transaction is consumed; the token endpoint is not called."""
    client = client_for(oauth2_strategy(idp), callback_options={"failure_message": True})
    response = _callback_with(client, error="access_denied", error_description="Why oh why?")
    assert response.status_code == 401
    data = session_of(client)
    assert data["messages"] == ["Why oh why?"]
    assert not [k for k in data if k.startswith("oauth2:")]
    assert token_requests(idp) == 0


@pytest.mark.parametrize(
    ("error", "status", "phrase"),
    [
        ("invalid_scope", 500, "Internal Server Error"),  # O31-O33
        ("server_error", 502, "Bad Gateway"),
        ("temporarily_unavailable", 503, "Service Unavailable"),
    ],
)
def test_provider_errors(
    idp: Any, caplog: pytest.LogCaptureFixture, error: str, status: int, phrase: str
) -> None:
    """O31-O33: another error is an AuthorizationError answered with its status and reason
    phrase; the log names the code and description; the body does not echo them."""
    client = client_for(oauth2_strategy(idp))
    with caplog.at_level("WARNING", logger="passport_py"):
        response = _callback_with(
            client, error=error, error_description="<script>x</script>", error_uri="javascript:x"
        )
    assert (response.status_code, response.text) == (status, phrase)
    assert any(
        error in r.getMessage() and "AuthorizationError" in r.getMessage() for r in caplog.records
    )
    assert token_requests(idp) == 0


def test_error_classes() -> None:
    """O129-O141 (adapted): codes, statuses and messages of the three errors."""
    assert (AuthorizationError().code, AuthorizationError().status) == ("server_error", 502)
    assert AuthorizationError("d", "invalid_scope", "https://e").status == 500
    assert AuthorizationError(None, "temporarily_unavailable").status == 503
    token = TokenError("Bad code", "invalid_grant", http_status=400, body='{"error":1}')
    assert (token.code, token.status, token.http_status) == ("invalid_grant", 502, 400)
    assert "status: 400" in str(token) and "Bad code" in str(token)
    assert TokenError().code == "invalid_request"
    internal = InternalOAuthError("oops", http_status=401, body="invalid OAuth credentials")
    assert str(internal) == "oops (status: 401 data: invalid OAuth credentials)"
    assert InternalOAuthError("oops").status == 502
