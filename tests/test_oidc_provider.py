"""`passport_py.testing.oidc_provider`: the development OpenID provider, driven by hand.

No passport strategy here: every dance is written out with httpx against the provider's
loopback port (discovery, /authorize, the consent and form_post pages, /token, /userinfo),
so these tests pin down what the strategies' tests rely on. One provider serves the module;
faults and settings are reset after each test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any, ClassVar
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

import httpx
import pytest
from authlib.oidc.core.util import create_half_hash
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet
from loopback import LoopbackServer, QuietHandler

from passport_py.testing.oidc_provider import REMOVE, OIDCProvider, ProviderClient, ProviderUser

CALLBACK = "http://127.0.0.1:8000/auth/dev/callback"
ODD_SECRET = "a:b+c%d é"
CLIENTS = [
    ProviderClient("app", "s3cret", [CALLBACK, CALLBACK + "?tenant=1"]),
    ProviderClient("post-app", "p0st", [CALLBACK], token_endpoint_auth_method="client_secret_post"),
    ProviderClient("public-app", None, [CALLBACK], token_endpoint_auth_method="none"),
    ProviderClient("odd-app", ODD_SECRET, [CALLBACK]),
]
SECRETS = {c.client_id: c.client_secret for c in CLIENTS}
HTTP = httpx.Client()  # one client: a new one per request costs more than the request


@pytest.fixture(scope="module", autouse=True)
def http_client() -> Iterator[None]:
    yield
    HTTP.close()


@pytest.fixture(scope="module")
def provider() -> Iterator[OIDCProvider]:
    # Its users are the DEFAULT_USERS: u-alice (verified email, picture), u-bob (unverified).
    with OIDCProvider(clients=CLIENTS) as running:
        yield running


@pytest.fixture(autouse=True)
def honest(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "provider" in request.fixturenames:
        running: OIDCProvider = request.getfixturevalue("provider")
        running.reset_faults()
        running.auto_approve = True
        running.code_lifetime = 60
        running.access_token_lifetime = 3600


# -- helpers -------------------------------------------------------------------------------


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize(provider: OIDCProvider, **params: str) -> httpx.Response:
    """GET /authorize with a complete code + PKCE request; `params` override or add."""
    query = {
        "response_type": "code",
        "client_id": "app",
        "redirect_uri": CALLBACK,
        "scope": "openid profile email",
        "state": "st-1",
        "nonce": "n-1",
        **params,
    }
    return HTTP.get(provider.url("/authorize"), params={k: v for k, v in query.items() if v})


def redirected(response: httpx.Response, to: str = CALLBACK) -> dict[str, str]:
    """The parameters of a redirect to `to` (which must be where it goes)."""
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.split("?")[0] == to.split("?")[0]
    return dict(parse_qsl(urlsplit(location).query))


def code_for(provider: OIDCProvider, **params: str) -> str:
    return redirected(authorize(provider, **params))["code"]


def token(
    provider: OIDCProvider, client_id: str = "app", *, via: str = "basic", **form: str
) -> httpx.Response:
    """POST /token authenticating as `client_id` by `via` (basic, post or none)."""
    secret = SECRETS[client_id] or ""
    if via == "basic":  # RFC 6749 2.3.1: form-urlencoded, then base64
        basic = httpx.BasicAuth(quote_plus(client_id), quote_plus(secret))
        return HTTP.post(provider.url("/token"), data=form, auth=basic)
    if via == "post":
        form = {"client_id": client_id, "client_secret": secret, **form}
    else:
        form = {"client_id": client_id, **form}
    return HTTP.post(provider.url("/token"), data=form)


def exchange(provider: OIDCProvider, code: str, verifier: str | None = None, **kw: Any) -> Any:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    if verifier:
        form["code_verifier"] = verifier
    return token(provider, **kw, **form)


def tokens_for(provider: OIDCProvider, **params: str) -> dict[str, Any]:
    verifier, challenge = pkce()
    code = code_for(provider, code_challenge=challenge, code_challenge_method="S256", **params)
    response = exchange(provider, code, verifier)
    assert response.status_code == 200, response.text
    return dict(response.json())


def parts(token_value: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token_value.split(".")

    def load(part: str) -> dict[str, Any]:
        return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))

    return load(header), load(payload), signature


def verified_claims(provider: OIDCProvider, id_token: str) -> dict[str, Any]:
    """The claims of `id_token`, verified against the provider's JWKS served over HTTP."""
    keys = KeySet.import_key_set(HTTP.get(provider.url("/jwks")).json())
    return dict(jwt.decode(id_token, keys, algorithms=["RS256"]).claims)


def userinfo(provider: OIDCProvider, access_token: str, method: str = "GET") -> httpx.Response:
    headers = {"Authorization": f"Bearer {access_token}"}
    return HTTP.request(method, provider.url("/userinfo"), headers=headers)


class Forms(HTMLParser):
    """The forms of a page: action, hidden and checked inputs, and submit buttons."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a["action"], "method": a["method"], "fields": []})
            self.forms[-1]["buttons"] = []
        elif tag == "input":
            if a.get("type") == "radio":
                self.forms[-1].setdefault("choices", []).append(a["value"])
            if a.get("type") == "hidden" or "checked" in a:
                self.forms[-1]["fields"].append((a["name"], a["value"]))
        elif tag == "button" and a.get("name"):
            self.forms[-1]["buttons"].append((a["name"], a["value"]))


def consent(
    provider: OIDCProvider, decision: str, username: str | None = None, **params: str
) -> httpx.Response:
    """Load the consent page and submit it like a browser would; the provider's answer."""
    page = authorize(provider, **params)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    (form,) = Forms(page.text).forms
    fields = dict(form["fields"])
    if username is not None:
        fields["username"] = username
    fields["decision"] = decision
    return HTTP.post(provider.url(form["action"]), data=fields)


# -- discovery and keys --------------------------------------------------------------------


def test_discovery_document_is_valid_openid_provider_metadata(provider: OIDCProvider) -> None:
    document = HTTP.get(provider.url("/.well-known/openid-configuration")).json()
    OpenIDProviderMetadata(document).validate()
    assert document["issuer"] == provider.issuer
    assert not provider.issuer.endswith("/")
    assert document["authorization_endpoint"] == provider.url("/authorize")
    assert document["token_endpoint"] == provider.url("/token")
    assert document["userinfo_endpoint"] == provider.url("/userinfo")
    assert document["jwks_uri"] == provider.url("/jwks")
    assert document["response_types_supported"] == ["code"]
    assert document["response_modes_supported"] == ["query", "form_post"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert document["authorization_response_iss_parameter_supported"] is True
    assert set(document["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
        "none",
    }
    assert {"email", "picture", "nonce", "at_hash"} <= set(document["claims_supported"])


def test_jwks_publishes_one_public_rs256_key_with_a_kid(provider: OIDCProvider) -> None:
    (key,) = HTTP.get(provider.url("/jwks")).json()["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
    assert key["kid"] and "d" not in key and "p" not in key


# -- the authorization code flow -----------------------------------------------------------


def test_code_flow_with_pkce_returns_bearer_tokens(provider: OIDCProvider) -> None:
    verifier, challenge = pkce()
    code = code_for(provider, code_challenge=challenge, code_challenge_method="S256")
    response = exchange(provider, code, verifier)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "openid profile email"
    assert body["access_token"] and body["refresh_token"] and body["id_token"]


def test_id_token_is_signed_by_the_jwks_and_carries_the_oidc_claims(
    provider: OIDCProvider,
) -> None:
    body = tokens_for(provider, nonce="n-42")
    header, _, _ = parts(body["id_token"])
    claims = verified_claims(provider, body["id_token"])
    assert header["alg"] == "RS256"
    assert header["kid"] == provider.jwks()["keys"][0]["kid"]
    assert claims["iss"] == provider.issuer
    assert claims["sub"] == "u-alice"
    assert claims["aud"] == "app" and claims["azp"] == "app"
    assert claims["nonce"] == "n-42"
    assert claims["exp"] - claims["iat"] == 3600
    assert abs(claims["iat"] - time.time()) < 5 and claims["auth_time"] <= claims["iat"]
    assert claims["at_hash"] == create_half_hash(body["access_token"], "RS256").decode()
    assert claims["name"] == "Alice Example" and claims["email"] == "alice@example.test"
    assert claims["email_verified"] is True


def test_id_token_claims_follow_the_scope(provider: OIDCProvider) -> None:
    claims = verified_claims(provider, tokens_for(provider, scope="openid email")["id_token"])
    assert claims["email"] == "alice@example.test"
    assert "name" not in claims and "picture" not in claims


def test_no_id_token_without_the_openid_scope(provider: OIDCProvider) -> None:
    body = tokens_for(provider, scope="profile")
    assert "id_token" not in body and body["scope"] == "profile"


def test_no_nonce_claim_when_none_was_sent(provider: OIDCProvider) -> None:
    claims = verified_claims(provider, tokens_for(provider, nonce="")["id_token"])
    assert "nonce" not in claims


def test_redirect_echoes_state_and_adds_the_issuer(provider: OIDCProvider) -> None:
    params = redirected(authorize(provider, state="s t&ate/é"))
    assert params["state"] == "s t&ate/é"
    assert params["iss"] == provider.issuer
    assert params["code"]


def test_redirect_keeps_the_query_of_the_registered_uri(provider: OIDCProvider) -> None:
    params = redirected(authorize(provider, redirect_uri=CALLBACK + "?tenant=1"))
    assert params["tenant"] == "1" and params["code"]


def test_login_hint_picks_the_user(provider: OIDCProvider) -> None:
    claims = verified_claims(provider, tokens_for(provider, login_hint="bob")["id_token"])
    assert claims["sub"] == "u-bob" and claims["email_verified"] is False


def test_unknown_login_hint_is_access_denied(provider: OIDCProvider) -> None:
    params = redirected(authorize(provider, login_hint="mallory"))
    assert params["error"] == "access_denied"
    assert "login_hint" in params["error_description"]
    assert params["state"] == "st-1" and params["iss"] == provider.issuer


def test_unregistered_redirect_uri_is_refused_without_a_redirect(provider: OIDCProvider) -> None:
    for wrong in (CALLBACK + "/more", CALLBACK.replace("8000", "8001"), "https://evil.test/cb"):
        response = authorize(provider, redirect_uri=wrong)
        assert response.status_code == 400
        assert "location" not in response.headers
        assert response.json()["error"] == "invalid_request"


def test_unknown_client_is_refused_without_a_redirect(provider: OIDCProvider) -> None:
    response = authorize(provider, client_id="nobody")
    assert response.status_code == 400 and "location" not in response.headers
    assert response.json()["error"] == "invalid_client"


def test_response_type_other_than_code_is_refused(provider: OIDCProvider) -> None:
    params = redirected(authorize(provider, response_type="token"))
    assert params["error"] == "unsupported_response_type"
    assert params["iss"] == provider.issuer


def test_unknown_scope_is_invalid_scope(provider: OIDCProvider) -> None:
    params = redirected(authorize(provider, scope="openid admin"))
    assert params["error"] == "invalid_scope" and params["state"] == "st-1"


def test_plain_pkce_is_refused(provider: OIDCProvider) -> None:
    verifier, _ = pkce()
    for method in ("plain", ""):
        params = redirected(
            authorize(provider, code_challenge=verifier, code_challenge_method=method)
        )
        assert params["error"] == "invalid_request"


def test_wrong_code_verifier_is_invalid_grant(provider: OIDCProvider) -> None:
    _, challenge = pkce()
    code = code_for(provider, code_challenge=challenge, code_challenge_method="S256")
    response = exchange(provider, code, pkce()[0])
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_missing_code_verifier_is_refused_when_a_challenge_was_sent(
    provider: OIDCProvider,
) -> None:
    _, challenge = pkce()
    code = code_for(provider, code_challenge=challenge, code_challenge_method="S256")
    response = exchange(provider, code)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_code_works_without_pkce_for_a_confidential_client(provider: OIDCProvider) -> None:
    response = exchange(provider, code_for(provider))
    assert response.status_code == 200 and response.json()["id_token"]


def test_code_is_single_use_and_its_replay_revokes_its_tokens(provider: OIDCProvider) -> None:
    code = code_for(provider)
    first = exchange(provider, code)
    assert first.status_code == 200
    assert userinfo(provider, first.json()["access_token"]).status_code == 200
    again = exchange(provider, code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert userinfo(provider, first.json()["access_token"]).status_code == 401


def test_code_of_another_client_is_invalid_grant(provider: OIDCProvider) -> None:
    response = exchange(provider, code_for(provider), client_id="odd-app")
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_token_request_with_another_redirect_uri_is_invalid_grant(
    provider: OIDCProvider,
) -> None:
    form = {"grant_type": "authorization_code", "code": code_for(provider)}
    response = token(provider, redirect_uri=CALLBACK + "?tenant=1", **form)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_code_expires(provider: OIDCProvider) -> None:
    provider.code_lifetime = 0.05
    code = code_for(provider)
    time.sleep(0.1)
    response = exchange(provider, code)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


# -- form_post -----------------------------------------------------------------------------


def test_form_post_answers_a_self_submitting_form_to_the_redirect_uri(
    provider: OIDCProvider,
) -> None:
    response = authorize(provider, response_mode="form_post", state='a "b" <c> & é')
    assert response.status_code == 200 and "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert "document.forms[0].submit()" in response.text
    (form,) = Forms(response.text).forms
    assert form["action"] == CALLBACK and form["method"] == "post"
    fields = dict(form["fields"])
    assert set(fields) == {"code", "state", "iss"}
    assert fields["state"] == 'a "b" <c> & é' and fields["iss"] == provider.issuer
    assert exchange(provider, fields["code"]).status_code == 200


def test_form_post_carries_errors_too(provider: OIDCProvider) -> None:
    response = authorize(provider, response_mode="form_post", login_hint="mallory")
    fields = dict(Forms(response.text).forms[0]["fields"])
    assert fields["error"] == "access_denied"
    assert fields["state"] == "st-1" and fields["iss"] == provider.issuer


def test_unsupported_response_mode_is_refused(provider: OIDCProvider) -> None:
    params = redirected(authorize(provider, response_mode="fragment"))
    assert params["error"] == "invalid_request"


# -- the consent page ----------------------------------------------------------------------


def test_consent_page_names_the_client_scopes_and_users(provider: OIDCProvider) -> None:
    provider.auto_approve = False
    page = authorize(provider, login_hint="bob")
    (form,) = Forms(page.text).forms
    assert form["method"] == "post" and form["action"].startswith("/authorize?")
    assert form["choices"][:2] == ["alice", "bob"]
    assert ("username", "bob") in form["fields"]  # the login_hint is preselected
    assert form["buttons"] == [("decision", "approve"), ("decision", "deny")]
    assert "app" in page.text and "openid, profile, email" in page.text


def test_consent_approve_gives_a_code_for_the_chosen_user(provider: OIDCProvider) -> None:
    provider.auto_approve = False
    verifier, challenge = pkce()
    answer = consent(
        provider, "approve", "bob", code_challenge=challenge, code_challenge_method="S256"
    )
    params = redirected(answer)
    assert params["state"] == "st-1" and params["iss"] == provider.issuer
    body = exchange(provider, params["code"], verifier).json()
    assert verified_claims(provider, body["id_token"])["sub"] == "u-bob"


def test_consent_deny_is_access_denied(provider: OIDCProvider) -> None:
    provider.auto_approve = False
    params = redirected(consent(provider, "deny"))
    assert params["error"] == "access_denied" and params["error_description"]
    assert params["state"] == "st-1" and params["iss"] == provider.issuer
    assert "code" not in params


def test_consent_deny_with_form_post_posts_the_error(provider: OIDCProvider) -> None:
    provider.auto_approve = False
    answer = consent(provider, "deny", response_mode="form_post")
    fields = dict(Forms(answer.text).forms[0]["fields"])
    assert fields["error"] == "access_denied" and fields["iss"] == provider.issuer


def test_consent_with_an_unknown_username_is_access_denied(provider: OIDCProvider) -> None:
    provider.auto_approve = False
    params = redirected(consent(provider, "approve", "mallory"))
    assert params["error"] == "access_denied"


def test_prompt_none_without_auto_approve_is_login_required(provider: OIDCProvider) -> None:
    provider.auto_approve = False
    params = redirected(authorize(provider, prompt="none"))
    assert params["error"] == "login_required" and params["iss"] == provider.issuer


# -- refresh -------------------------------------------------------------------------------


def test_refresh_rotates_the_refresh_token(provider: OIDCProvider) -> None:
    first = tokens_for(provider)
    form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    second = token(provider, **form)
    assert second.status_code == 200
    fresh = second.json()
    assert fresh["refresh_token"] != first["refresh_token"]
    assert fresh["access_token"] != first["access_token"]
    assert userinfo(provider, fresh["access_token"]).json()["sub"] == "u-alice"
    replay = token(provider, **form)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    form["refresh_token"] = fresh["refresh_token"]
    assert token(provider, **form).status_code == 200


def test_refreshed_id_token_keeps_the_login_time_and_drops_the_nonce(
    provider: OIDCProvider,
) -> None:
    first = tokens_for(provider)
    original = verified_claims(provider, first["id_token"])
    fresh = token(provider, grant_type="refresh_token", refresh_token=first["refresh_token"])
    claims = verified_claims(provider, fresh.json()["id_token"])
    assert claims["sub"] == original["sub"] and claims["aud"] == "app"
    assert claims["auth_time"] == original["auth_time"]
    assert "nonce" not in claims


def test_refresh_token_of_another_client_is_invalid_grant(provider: OIDCProvider) -> None:
    first = tokens_for(provider)
    form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    assert token(provider, "odd-app", **form).json()["error"] == "invalid_grant"


# -- client authentication -----------------------------------------------------------------


def test_client_secret_basic_with_a_wrong_secret_is_invalid_client(
    provider: OIDCProvider,
) -> None:
    form = {"grant_type": "authorization_code", "code": code_for(provider)}
    response = HTTP.post(provider.url("/token"), data=form, auth=("app", "wrong"))
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_client_secret_basic_decodes_form_urlencoded_credentials(provider: OIDCProvider) -> None:
    # RFC 6749 2.3.1: a space is '+', and ':' '+' '%' 'é' are percent-encoded.
    assert quote_plus(ODD_SECRET) == "a%3Ab%2Bc%25d+%C3%A9"
    code = code_for(provider, client_id="odd-app")
    assert exchange(provider, code, client_id="odd-app").status_code == 200


def test_client_secret_basic_also_accepts_percent_encoded_spaces(provider: OIDCProvider) -> None:
    code = code_for(provider, client_id="odd-app")
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    auth = ("odd-app", quote(ODD_SECRET, safe=""))  # '%20' for the space, as Authlib sends
    assert HTTP.post(provider.url("/token"), data=form, auth=auth).status_code == 200


def test_client_secret_basic_without_the_encoding_is_refused(provider: OIDCProvider) -> None:
    code = code_for(provider, client_id="odd-app")
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    response = HTTP.post(provider.url("/token"), data=form, auth=("odd-app", ODD_SECRET))
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_client_secret_post_client_authenticates_in_the_body(provider: OIDCProvider) -> None:
    code = code_for(provider, client_id="post-app")
    assert exchange(provider, code, client_id="post-app", via="post").status_code == 200


def test_client_may_not_use_another_auth_method(provider: OIDCProvider) -> None:
    code = code_for(provider, client_id="post-app")
    response = exchange(provider, code, client_id="post-app", via="basic")
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    code = code_for(provider)
    response = exchange(provider, code, client_id="app", via="post")
    assert response.status_code in (400, 401) and response.json()["error"] == "invalid_client"


def test_public_client_authenticates_with_none_and_pkce(provider: OIDCProvider) -> None:
    verifier, challenge = pkce()
    code = code_for(
        provider, client_id="public-app", code_challenge=challenge, code_challenge_method="S256"
    )
    response = exchange(provider, code, verifier, client_id="public-app", via="none")
    assert response.status_code == 200 and response.json()["id_token"]


def test_public_client_without_pkce_is_refused(provider: OIDCProvider) -> None:
    code = code_for(provider, client_id="public-app")
    response = exchange(provider, code, client_id="public-app", via="none")
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_confidential_client_cannot_skip_authentication(provider: OIDCProvider) -> None:
    response = exchange(provider, code_for(provider), client_id="app", via="none")
    assert response.status_code in (400, 401) and response.json()["error"] == "invalid_client"


# -- userinfo ------------------------------------------------------------------------------


def test_userinfo_answers_get_and_post_with_the_claims_of_the_scope(
    provider: OIDCProvider,
) -> None:
    access = tokens_for(provider)["access_token"]
    for method in ("GET", "POST"):
        response = userinfo(provider, access, method)
        assert response.status_code == 200
        assert response.json() == {
            "sub": "u-alice",
            "name": "Alice Example",
            "preferred_username": "alice",
            "email": "alice@example.test",
            "email_verified": True,
            "picture": "https://example.test/alice.png",
        }
    narrow = tokens_for(provider, scope="openid email")["access_token"]
    assert set(userinfo(provider, narrow).json()) == {"sub", "email", "email_verified"}


def test_userinfo_refuses_missing_unknown_and_expired_tokens(provider: OIDCProvider) -> None:
    missing = HTTP.get(provider.url("/userinfo"))
    assert missing.status_code == 401
    unknown = userinfo(provider, "not-a-token")
    assert unknown.status_code == 401
    assert unknown.headers["www-authenticate"].startswith("Bearer")
    provider.access_token_lifetime = 0
    expired = tokens_for(provider)
    time.sleep(0.01)
    assert userinfo(provider, expired["access_token"]).status_code == 401


def test_extra_user_claims_follow_their_scope(provider: OIDCProvider) -> None:
    extra = {"given_name": "Dora", "locale": "en-GB", "tenant": "t-1"}
    provider.add_user(ProviderUser(sub="u-dora", username="dora", claims=extra))
    access = tokens_for(provider, login_hint="dora", scope="openid")["access_token"]
    assert userinfo(provider, access).json() == {"sub": "u-dora", "tenant": "t-1"}
    access = tokens_for(provider, login_hint="dora", scope="openid profile")["access_token"]
    assert userinfo(provider, access).json() == {
        "sub": "u-dora",
        "preferred_username": "dora",
        "given_name": "Dora",
        "locale": "en-GB",
        "tenant": "t-1",
    }


# -- faults --------------------------------------------------------------------------------


def test_fault_token_response_replaces_the_answer_and_consumes_the_code(
    provider: OIDCProvider,
) -> None:
    provider.faults.token_response = (500, "text/html", b"<h1>Oops</h1>")
    code = code_for(provider)
    response = exchange(provider, code)
    assert response.status_code == 500
    assert response.headers["content-type"] == "text/html"
    assert response.content == b"<h1>Oops</h1>"
    provider.reset_faults()
    assert exchange(provider, code).json()["error"] == "invalid_grant"


def test_fault_token_delay_holds_the_answer(provider: OIDCProvider) -> None:
    provider.faults.token_delay = 1.0
    code = code_for(provider)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        HTTP.post(provider.url("/token"), data=form, auth=("app", "s3cret"), timeout=0.2)
    assert time.monotonic() - started < 0.9


def test_fault_id_token_claims_are_merged_and_removed(provider: OIDCProvider) -> None:
    provider.faults.id_token_claims = {"aud": "other-client", "nonce": REMOVE, "exp": 0}
    claims = parts(tokens_for(provider)["id_token"])[1]
    assert claims["aud"] == "other-client" and claims["exp"] == 0
    assert "nonce" not in claims and claims["sub"] == "u-alice"
    # still signed by the provider's key
    keys = KeySet.import_key_set(provider.jwks())
    assert jwt.decode(tokens_for(provider)["id_token"], keys, algorithms=["RS256"])


def test_fault_id_token_header_is_merged(provider: OIDCProvider) -> None:
    provider.faults.id_token_header = {"kid": "unknown", "typ": REMOVE}
    header = parts(tokens_for(provider)["id_token"])[0]
    assert header == {"alg": "RS256", "kid": "unknown"}


def test_fault_signing_none_has_alg_none_and_no_signature(provider: OIDCProvider) -> None:
    provider.faults.id_token_signing = "none"
    header, claims, signature = parts(tokens_for(provider)["id_token"])
    assert header["alg"] == "none" and signature == ""
    assert claims["iss"] == provider.issuer


def test_fault_signing_hs256_uses_the_client_secret(provider: OIDCProvider) -> None:
    provider.faults.id_token_signing = "hs256"
    id_token = tokens_for(provider)["id_token"]
    assert parts(id_token)[0]["alg"] == "HS256"
    signing_input, _, signature = id_token.rpartition(".")
    expected = hmac.new(b"s3cret", signing_input.encode(), hashlib.sha256).digest()
    assert signature == base64.urlsafe_b64encode(expected).rstrip(b"=").decode()


def test_fault_signing_foreign_key_keeps_the_kid_but_fails_verification(
    provider: OIDCProvider,
) -> None:
    provider.faults.id_token_signing = "foreign-key"
    id_token = tokens_for(provider)["id_token"]
    assert parts(id_token)[0]["kid"] == provider.jwks()["keys"][0]["kid"]
    with pytest.raises(BadSignatureError):
        verified_claims(provider, id_token)


def test_fault_signing_unknown_key_uses_a_kid_not_in_the_jwks(provider: OIDCProvider) -> None:
    provider.faults.id_token_signing = "unknown-key"
    header = parts(tokens_for(provider)["id_token"])[0]
    assert header["alg"] == "RS256"
    assert header["kid"] not in {key["kid"] for key in provider.jwks()["keys"]}


def test_fault_authorization_iss_replaced_or_removed(provider: OIDCProvider) -> None:
    provider.faults.authorization_iss = "https://attacker.test"
    assert redirected(authorize(provider))["iss"] == "https://attacker.test"
    provider.faults.authorization_iss = REMOVE
    assert "iss" not in redirected(authorize(provider))
    assert "iss" not in redirected(authorize(provider, login_hint="mallory"))
    form_post = authorize(provider, response_mode="form_post")
    assert "iss" not in dict(Forms(form_post.text).forms[0]["fields"])


def test_fault_userinfo_claims_are_merged_and_removed(provider: OIDCProvider) -> None:
    provider.faults.userinfo_claims = {"sub": "u-mallory", "email": REMOVE}
    body = userinfo(provider, tokens_for(provider)["access_token"]).json()
    assert body["sub"] == "u-mallory" and "email" not in body and body["name"]


def test_fault_discovery_is_merged_and_removed(provider: OIDCProvider) -> None:
    provider.faults.discovery = {"issuer": "https://other.test", "jwks_uri": REMOVE}
    document = HTTP.get(provider.url("/.well-known/openid-configuration")).json()
    assert document["issuer"] == "https://other.test" and "jwks_uri" not in document


def test_fault_responses_replace_any_endpoint(provider: OIDCProvider) -> None:
    provider.faults.responses = {"/jwks": (503, "text/plain", b"down")}
    response = HTTP.get(provider.url("/jwks"))
    assert (response.status_code, response.text) == (503, "down")


def test_reset_faults_restores_an_honest_provider(provider: OIDCProvider) -> None:
    faults = provider.faults
    faults.id_token_signing = "none"
    faults.authorization_iss = REMOVE
    provider.reset_faults()
    assert provider.faults is faults and provider.faults.id_token_signing == "provider"
    assert redirected(authorize(provider))["iss"] == provider.issuer


# -- keys and direct tokens ----------------------------------------------------------------


def test_rotate_keys_publishes_the_new_key_beside_the_old_and_signs_with_it(
    provider: OIDCProvider,
) -> None:
    old = {key["kid"] for key in provider.jwks()["keys"]}
    kid = provider.rotate_keys()
    published = {key["kid"] for key in HTTP.get(provider.url("/jwks")).json()["keys"]}
    assert kid not in old and published == old | {kid}
    id_token = tokens_for(provider)["id_token"]
    assert parts(id_token)[0]["kid"] == kid
    assert verified_claims(provider, id_token)["sub"] == "u-alice"


def test_issue_id_token_signs_exactly_the_given_claims(provider: OIDCProvider) -> None:
    claims = {"iss": provider.issuer, "sub": "u-x", "aud": "app", "exp": 1}
    id_token = provider.issue_id_token(claims)
    keys = KeySet.import_key_set(provider.jwks())
    assert jwt.decode(id_token, keys, algorithms=["RS256"]).claims == claims
    forged = provider.issue_id_token(claims, signing="hs256", header={"kid": "k"})
    assert parts(forged)[0] == {"typ": "JWT", "alg": "HS256", "kid": "k"}
    with pytest.raises(ValueError, match="signing must be one of"):
        provider.issue_id_token(claims, signing="rot13")  # type: ignore[arg-type]


# -- bookkeeping ---------------------------------------------------------------------------


def test_requests_lists_every_request_received(provider: OIDCProvider) -> None:
    provider.clear_requests()
    tokens_for(provider)
    HTTP.get(provider.url("/nowhere"))
    assert provider.requests == [("GET", "/authorize"), ("POST", "/token"), ("GET", "/nowhere")]
    provider.clear_requests()
    assert provider.requests == []


def test_clients_and_users_can_be_added_while_running(provider: OIDCProvider) -> None:
    provider.add_client(client_id="late-app", client_secret="l8", redirect_uris=[CALLBACK])
    provider.add_user(ProviderUser(sub="u-carol", username="carol"))
    SECRETS["late-app"] = "l8"
    code = code_for(provider, client_id="late-app", login_hint="carol", scope="openid")
    body = exchange(provider, code, client_id="late-app").json()
    assert verified_claims(provider, body["id_token"])["sub"] == "u-carol"


def test_client_registration_is_checked() -> None:
    with pytest.raises(ValueError, match="needs a client_secret"):
        ProviderClient("x", None, [CALLBACK])
    with pytest.raises(ValueError, match="token_endpoint_auth_method"):
        ProviderClient("x", "s", [CALLBACK], token_endpoint_auth_method="private_key_jwt")  # type: ignore[arg-type]


def test_issuer_is_unknown_before_start_and_the_port_is_freed_after_stop() -> None:
    provider = OIDCProvider(clients=CLIENTS)
    with pytest.raises(RuntimeError, match="start"):
        _ = provider.issuer
    with provider:
        url = provider.url("/jwks")
        assert HTTP.get(url).status_code == 200
    with pytest.raises(httpx.ConnectError):
        HTTP.get(url)


# -- as a process --------------------------------------------------------------------------


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_runs_as_a_process_until_a_signal(stop: signal.Signals) -> None:
    command = [sys.executable, "-m", "passport_py.testing.oidc_provider", "--port", "0"]
    command += ["--client-id", "app", "--client-secret", "s3cret", "--redirect-uri", CALLBACK]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        issuer = process.stdout.readline().strip()
        assert issuer.startswith("http://127.0.0.1:")
        document = HTTP.get(f"{issuer}/.well-known/openid-configuration").json()
        assert document["issuer"] == issuer
        params = redirected(
            HTTP.get(
                f"{issuer}/authorize",
                params={"response_type": "code", "client_id": "app", "redirect_uri": CALLBACK},
            )
        )
        assert params["code"] and params["iss"] == issuer
    finally:
        process.send_signal(stop)
        _, stderr = process.communicate(timeout=5)
    assert process.returncode == 0, stderr


# -- in a real browser ---------------------------------------------------------------------


class _Callback(QuietHandler):
    """Records what the browser brings to the redirect URI."""

    seen: ClassVar[list[tuple[str, str, str]]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        self.seen.append((self.command, self.path, body))
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.end_headers()
        self.wfile.write(b"<title>callback</title>ok")

    do_GET = do_POST = _answer


def _browser() -> Any:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver")
    if not (chromium and chromedriver):
        reason = "needs chromium and chromedriver (apt-get install chromium chromium-driver)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but the browser test {reason}", pytrace=False)
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))


def test_a_browser_approves_on_the_consent_page_and_submits_form_post(
    provider: OIDCProvider,
) -> None:
    browser = _browser()
    _Callback.seen.clear()
    receiver = LoopbackServer(_Callback).start()
    callback = f"{receiver.base}/cb"
    provider.add_client(client_id="browser-app", client_secret="b", redirect_uris=[callback])
    provider.auto_approve = False
    try:
        query = "response_type=code&client_id=browser-app&scope=openid&state=s1"
        browser.get(
            provider.url(f"/authorize?{query}&response_mode=form_post&redirect_uri={callback}")
        )
        browser.find_element("id", "user-bob").click()
        browser.find_element("id", "approve").click()
        deadline = time.monotonic() + 5
        while not _Callback.seen and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        browser.quit()
        receiver.stop()
    method, path, body = _Callback.seen[0]
    fields = dict(parse_qsl(body))
    assert (method, path) == ("POST", "/cb")
    assert fields["state"] == "s1" and fields["iss"] == provider.issuer
    form = {"grant_type": "authorization_code", "code": fields["code"], "redirect_uri": callback}
    answer = HTTP.post(provider.url("/token"), data=form, auth=("browser-app", "b")).json()
    assert verified_claims(provider, answer["id_token"])["sub"] == "u-bob"
