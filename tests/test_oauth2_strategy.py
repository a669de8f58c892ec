"""OAuth2Strategy against passport-oauth2's conformance list (reference strategies.md, 5).

This module: construction (O1-O6) and the authorization request (O8-O19, O41-O54, O80,
O116-O117); test_oauth2_callback.py: the callback (O20-O40, O55-O59, O85-O87, O114-O141);
test_oauth2_token_endpoint.py: token endpoint failures (O34-O38); test_oauth2_attacks.py: state
(O57-O60 and the security cases). Test docstrings name the O-numbers they cover.

Not applicable, and why:
- O7, O24, O26: options as a positional argument and verify arity dispatch (API.md 4: verify is
  always `verify(tokens, profile)`, with the request first under `pass_request`).
- O14 as written: a string `state` is never sent as-is; every `state` option is app state kept
  in the transaction and returned as `info["state"]` (test_app_state_string_is_not_sent).
- O89, O90, O93-O104 plain/store matrices: `pkce="plain"` is refused (P0 10) and there is one
  store (the session, always with state), so O64-O78 and O80-O92 collapse into the tests here.
- O105: an unknown PKCE method is a ConfigurationError at construction, not at redirect time.
- O106-O113: custom state stores do not exist (transactions always live in the session).
- O119, O120: no `parse_error_response` hook; token errors are covered by
  test_oauth2_token_endpoint.py (O34-O38 there).
- O131: `access_denied` never becomes an AuthorizationError (it is a 401 failure, O29/O30).
- O129, O135, O138-O141 as written: statuses and strings differ on purpose. A bare
  `AuthorizationError()` is `server_error` and so 502 (passport: 500); `TokenError` and
  `InternalOAuthError` are 502 (passport: 500); messages read "... (status: N data: ...)"
  without node's "Name: " prefix, the data a short redacted preview (test_error_classes
  checks ours). O35 as written: `invalid_grant` is a 403 failure, not a TokenError
  (test_oauth2_attacks.py's refused-code tests); O35 runs with another error code.
- O66, O67, O81-O83: `state=True` / `state=False` are app state like any other value.
- node-oauth internals (`_oauth2`, `customHeaders`, `useAuthorizationHeaderforGET`).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from oauth_helpers import (
    APP_BASE,
    CLIENT_ID,
    Recorder,
    callback_url_for,
    make_app,
    make_client,
    make_passport,
    oauth2_strategy,
    query_names,
    query_params,
    session_of,
    start_login,
)
from oauth_helpers import app_client as client_for
from starlette.testclient import TestClient

import passport_py.strategies.oauth2 as oauth2_module
from passport_py.errors import ConfigurationError
from passport_py.strategies.oauth2 import OAuth2Strategy

CALLBACK = callback_url_for("oauth2")
STATE_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
VECTOR_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
VECTOR_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


pytestmark = pytest.mark.usefixtures("honest_idp")


# -- construction (O1-O6) ------------------------------------------------------------------


def test_name_is_oauth2() -> None:
    """O1."""
    assert oauth2_strategy("http://127.0.0.1:1").name == "oauth2"


@pytest.mark.parametrize("missing", ["authorization_url", "token_url", "client_id"])
def test_required_options(missing: str) -> None:
    """O3-O5: each required option missing is a ConfigurationError naming it."""
    options = {"authorization_url": "https://p.test/a", "token_url": "https://p.test/t"}
    options["client_id"] = "c"
    options[missing] = ""
    with pytest.raises(ConfigurationError, match=missing):
        OAuth2Strategy(Recorder(), client_secret="s", **options)


def test_verify_must_be_callable() -> None:
    """O2."""
    urls = {"authorization_url": "https://p.test/a", "token_url": "https://p.test/t"}
    with pytest.raises(TypeError, match="verify"):
        OAuth2Strategy(None, client_id="c", **urls)


def test_public_client_needs_no_secret_but_a_confidential_one_does() -> None:
    """O6: no client_secret is fine for token_endpoint_auth_method="none" only."""
    urls = {"authorization_url": "https://p.test/a", "token_url": "https://p.test/t"}
    OAuth2Strategy(Recorder(), client_id="c", token_endpoint_auth_method="none", **urls)
    with pytest.raises(ConfigurationError, match="client_secret"):
        OAuth2Strategy(Recorder(), client_id="c", **urls)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("pkce", "plain"),
        ("pkce", "unknown"),
        ("authorization_url", "http://provider.test/authorize"),
        ("token_url", "ftp://provider.test/token"),
        ("callback_url", "https://app.test/cb#frag"),
        ("token_endpoint_auth_method", "private_key_jwt"),
    ],
)
def test_unsafe_configuration_is_refused(option: str, value: str) -> None:
    """P0 10 (no plain PKCE), O105, RFC 6749 3.1.2 (no fragment), https only off loopback."""
    options: dict[str, Any] = {
        "authorization_url": "https://p.test/a",
        "token_url": "https://p.test/t",
        "client_id": "c",
        "client_secret": "s",
        option: value,
    }
    with pytest.raises(ConfigurationError):
        OAuth2Strategy(Recorder(), **options)


# -- the authorization request (O8-O19, O51-O54, O80, O116-O117) ---------------------------


def test_redirect_without_callback_url(idp: Any) -> None:
    """O8 + O51 + O80: response_type, PKCE S256, a 43-char state, client_id last."""
    location = start_login(client_for(oauth2_strategy(idp)))
    assert location.startswith(f"{idp.issuer}/authorize?")
    assert query_names(location) == [
        "response_type",
        "code_challenge",
        "code_challenge_method",
        "state",
        "client_id",
    ]
    params = query_params(location)
    assert params["response_type"] == "code"
    assert params["client_id"] == CLIENT_ID
    assert params["code_challenge_method"] == "S256"
    assert STATE_RE.match(params["state"])


def test_redirect_with_callback_url(idp: Any) -> None:
    """O9."""
    location = start_login(client_for(oauth2_strategy(idp, callback_url=CALLBACK)))
    assert "redirect_uri=http%3A%2F%2Ftestserver%2Fauth%2Foauth2%2Fcallback&" in location


@pytest.mark.parametrize(
    ("options", "start_options", "expected"),
    [
        ({"scope": "email"}, {}, "scope=email"),  # O10
        ({}, {"scope": "email"}, "scope=email"),  # O11
        ({"scope": "read"}, {"scope": ["a", "b"]}, "scope=a%20b"),  # O11 override + O12
        ({"scope": ["permission_1", "permission_2"]}, {}, "scope=permission_1%20permission_2"),
        ({"scope": ["p1", "p2"], "scope_separator": ","}, {}, "scope=p1%2Cp2"),  # O13
    ],
)
def test_scope(idp: Any, options: Any, start_options: Any, expected: str) -> None:
    """O10-O13: scope from the strategy or the route, a list joined with the separator."""
    client = client_for(oauth2_strategy(idp, **options), start_options=start_options)
    assert f"&{expected}&" in start_login(client)


def test_callback_url_override_absolute_and_relative(idp: Any) -> None:
    """O15, O16: the route's callback_url wins; a relative one resolves against the request."""
    strategy = oauth2_strategy(idp, callback_url=CALLBACK)
    absolute = client_for(strategy, start_options={"callback_url": "https://app.test/other"})
    assert query_params(start_login(absolute))["redirect_uri"] == "https://app.test/other"
    relative = client_for(strategy, start_options={"callback_url": "/elsewhere/cb"})
    assert query_params(start_login(relative))["redirect_uri"] == "http://testserver/elsewhere/cb"


def test_relative_callback_follows_the_connection_scheme(idp: Any) -> None:
    """O41, O42: https and http connections."""
    strategy = oauth2_strategy(idp, callback_url="/auth/oauth2/callback")
    app = make_app(make_passport(strategy))
    secure = TestClient(app, base_url="https://www.example.net", follow_redirects=False)
    assert query_params(start_login(secure))["redirect_uri"] == (
        "https://www.example.net/auth/oauth2/callback"
    )
    assert query_params(start_login(make_client(app)))["redirect_uri"] == CALLBACK


@pytest.mark.parametrize(
    ("trust_proxy", "headers", "expected"),
    [
        (False, {"x-forwarded-proto": "https"}, "http://testserver"),  # O45
        (False, {"x-forwarded-host": "proxy.example"}, "http://testserver"),  # O46
        (True, {"x-forwarded-proto": "https"}, "https://testserver"),  # O43, O47
        (True, {"x-forwarded-host": "www.example.net"}, "http://www.example.net"),  # O44, O48
        (
            True,
            {"x-forwarded-proto": "https, http", "x-forwarded-host": "a.example, b"},
            "https://a.example",
        ),
    ],
)
def test_forwarded_headers_only_with_trust_proxy(
    idp: Any, trust_proxy: bool, headers: dict[str, str], expected: str
) -> None:
    """O43-O48: X-Forwarded-Proto/Host shape a relative callback only with trust_proxy."""
    strategy = oauth2_strategy(idp, callback_url="/cb", trust_proxy=trust_proxy)
    location = start_login(client_for(strategy), headers=headers)
    assert query_params(location)["redirect_uri"] == f"{expected}/cb"


def test_authorization_url_query_is_kept_and_replaced_in_place(idp: Any) -> None:
    """O17, O18, O19, O54: existing parameters keep their place; scope and state get ours."""
    strategy = oauth2_strategy(idp, scope="email")
    strategy.authorization_url = f"{idp.issuer}/authorize?foo=bar&scope=baz&state=theirs"
    location = start_login(client_for(strategy))
    assert query_names(location)[:3] == ["foo", "scope", "state"]
    params = query_params(location)
    assert params["foo"] == "bar"
    assert params["scope"] == "email"
    assert params["state"] != "theirs"
    assert STATE_RE.match(params["state"])


def test_authorization_params_hook(idp: Any) -> None:
    """O116, O117: the hook's parameters come first, and cannot replace the protocol's."""
    seen: list[Any] = []

    def hook(options: Any) -> dict[str, str]:
        seen.append(options.get("prompt"))
        return {"prompt": "mobile", "state": "attacker", "code_challenge": "x", "client_id": "x"}

    strategy = oauth2_strategy(idp, scope="email", authorization_params=hook)
    location = start_login(client_for(strategy, start_options={"prompt": "login"}))
    assert query_names(location)[0] == "prompt"
    params = query_params(location)
    assert params["prompt"] == "mobile"
    assert seen == ["login"]  # the route's own options reach the hook
    assert params["client_id"] == CLIENT_ID
    assert params["code_challenge"] != "x"
    assert STATE_RE.match(params["state"])


def test_transaction_kept_in_session_with_other_data(idp: Any) -> None:
    """O51, O52, O80: the verifier and redirect_uri wait in session["oauth2:<host>"]; the
    challenge is S256 of that verifier; other session data is untouched."""

    async def prepare(request: Any) -> Any:
        from starlette.responses import JSONResponse

        request.session["cart"] = ["book"]
        return JSONResponse({})

    from starlette.routing import Route

    strategy = oauth2_strategy(idp, callback_url=CALLBACK)
    client = client_for(strategy, routes=[Route("/prepare", prepare)])
    client.get("/prepare")
    params = query_params(start_login(client))
    data = session_of(client)
    assert data["cart"] == ["book"]
    transaction = data[f"oauth2:{idp.issuer.split('//')[1]}"][params["state"]]
    assert transaction["redirect_uri"] == CALLBACK
    assert params["code_challenge"] == create_s256_code_challenge(transaction["verifier"])
    assert STATE_RE.match(transaction["verifier"])


def test_session_key_option(idp: Any) -> None:
    """O61-O63, O78: session_key= names where the transactions live."""
    client = client_for(oauth2_strategy(idp, session_key="oauth2:example"))
    state = query_params(start_login(client))["state"]
    assert state in session_of(client)["oauth2:example"]


def test_rfc7636_appendix_b_vector(idp: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """O80 with the RFC 7636 App. B verifier: the redirect carries its S256 challenge."""
    assert create_s256_code_challenge(VECTOR_VERIFIER) == VECTOR_CHALLENGE
    monkeypatch.setattr(oauth2_module, "new_secret", lambda: VECTOR_VERIFIER)
    location = start_login(client_for(oauth2_strategy(idp)))
    assert query_params(location)["code_challenge"] == VECTOR_CHALLENGE


def test_pkce_false_sends_no_challenge_but_still_a_state(idp: Any) -> None:
    """pkce=False: no code_challenge, state still sent and checked."""
    params = query_params(start_login(client_for(oauth2_strategy(idp, pkce=False))))
    assert "code_challenge" not in params
    assert STATE_RE.match(params["state"])


def test_a_thousand_starts_give_distinct_states_and_verifiers(idp: Any) -> None:
    """RFC 7636 4.1 / RFC 9700 2.1.1: 1000 starts, 1000 distinct states and challenges (so
    1000 distinct verifiers), each 43 base64url characters (256 bits from `secrets`)."""
    app = make_app(make_passport(oauth2_strategy(idp)))

    async def starts() -> list[str]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=APP_BASE) as client:
            return [(await client.get("/auth/oauth2")).headers["location"] for _ in range(1000)]

    locations = [query_params(url) for url in asyncio.run(starts())]
    states = {p["state"] for p in locations}
    challenges = {p["code_challenge"] for p in locations}
    assert len(states) == len(challenges) == 1000
    assert all(STATE_RE.match(s) for s in states)
    assert all(STATE_RE.match(c) for c in challenges)
