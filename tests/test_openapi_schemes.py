"""`Strategy.openapi_scheme()`: how each built-in strategy describes itself in API docs.

Issue 15, "OpenAPI and Swagger UI": every built-in returns an OpenAPI 3.1 Security Scheme
Object computed from its own configuration (Basic, Digest, Bearer, JWT, API key, OAuth 2.0,
OpenID Connect and the providers), or None when it is not an API credential (local,
remember-me, anonymous). Each scheme is validated with openapi-spec-validator, the maintained
OpenAPI 3.1 schema, inside a minimal document. Where a scheme tells a client where to put a
credential, a client that follows it is let in by a real Starlette app; the OAuth 2.0 and
OpenID Connect schemes are checked against where the strategy really sends the browser.
`CustomStrategy(openapi_scheme=...)` is checked at construction against the same rules.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from oauth_helpers import authorization_redirect, oauth2_strategy, query_params
from oidc_helpers import oidc_strategy
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from passport_py import Authenticator, Strategy
from passport_py.adapters.starlette import PassportMiddleware, authenticate
from passport_py.errors import ConfigurationError
from passport_py.strategies.anonymous import AnonymousStrategy
from passport_py.strategies.apikey import ApiKeyStrategy
from passport_py.strategies.bearer import BearerStrategy
from passport_py.strategies.custom import CustomStrategy
from passport_py.strategies.http import BasicStrategy, DigestStrategy
from passport_py.strategies.jwt import (
    JwtStrategy,
    from_auth_header_with_scheme,
    from_body_field,
    from_cookie,
    from_extractors,
    from_header,
    from_query,
)
from passport_py.strategies.local import LocalStrategy
from passport_py.strategies.oauth2 import OAuth2Strategy
from passport_py.strategies.oidc import OpenIDConnectStrategy
from passport_py.strategies.providers.discord import DiscordStrategy
from passport_py.strategies.providers.github import GitHubStrategy
from passport_py.strategies.providers.gitlab import GitLabStrategy
from passport_py.strategies.providers.google import GoogleStrategy
from passport_py.strategies.providers.microsoft import MicrosoftStrategy
from passport_py.strategies.remember_me import RememberMeStrategy

SECRET = "s" * 32
TOKEN = "tok-7Qx2.Lm_9"
JWT_KEY = "jwt-tests-only-key-0123456789abcdef"


def nobody(*args: Any) -> None:
    return None


def valid(scheme: dict[str, Any] | None) -> dict[str, Any]:
    """`scheme` once openapi-spec-validator accepts it in an OpenAPI 3.1 document."""
    assert scheme is not None
    validate(
        {
            "openapi": "3.1.0",
            "info": {"title": "schemes", "version": "1"},
            "paths": {},
            "components": {"securitySchemes": {"it": scheme}},
        }
    )
    return scheme


# -- a client that follows the scheme -----------------------------------------------------


def follow(scheme: Mapping[str, Any], credential: str) -> dict[str, Any]:
    """The request arguments a client that reads `scheme` sends `credential` with."""
    if scheme["type"] == "http" and scheme["scheme"] == "bearer":
        return {"headers": {"Authorization": f"Bearer {credential}"}}
    if scheme["type"] == "http" and scheme["scheme"] == "basic":
        encoded = base64.b64encode(credential.encode()).decode()
        return {"headers": {"Authorization": f"Basic {encoded}"}}
    assert scheme["type"] == "apiKey", scheme
    if scheme["in"] == "cookie":
        return {"headers": {"Cookie": f"{scheme['name']}={credential}"}}
    place = {"header": "headers", "query": "params"}[scheme["in"]]
    return {place: {scheme["name"]: credential}}


def client_for(strategy: Strategy) -> TestClient:
    """A Starlette app whose `GET /api` is protected by `strategy` alone, without sessions."""
    passport: Authenticator[Any] = Authenticator()
    passport.use(strategy)

    @authenticate(strategy.name or "", session=False)
    async def api(request: Request) -> Response:
        return JSONResponse({"user": request.user})

    app = Starlette(
        routes=[Route("/api", api)],
        middleware=[Middleware(PassportMiddleware, passport=passport)],
    )
    return TestClient(app)


def admitted(strategy: Strategy, credential: str) -> httpx.Response:
    """The response to a request sending `credential` where the strategy's scheme says."""
    scheme = valid(strategy.openapi_scheme())
    client = client_for(strategy)
    assert client.get("/api").status_code == 401  # the scheme is the only way in
    return client.get("/api", **follow(scheme, credential))


def jwt_strategy(**options: Any) -> JwtStrategy:
    def user(claims: dict[str, Any]) -> str:
        return str(claims["sub"])

    return JwtStrategy(user, algorithms=["HS256"], key=JWT_KEY, **options)


def jwt_token() -> str:
    import jwt

    return jwt.encode({"sub": "alice"}, JWT_KEY, algorithm="HS256")


# -- HTTP Basic and Digest ------------------------------------------------------------------


def test_basic_is_http_basic_naming_its_default_realm() -> None:
    scheme = valid(BasicStrategy(nobody).openapi_scheme())
    assert scheme == {"type": "http", "scheme": "basic", "description": 'Realm "Users".'}


def test_basic_names_a_configured_realm() -> None:
    scheme = valid(BasicStrategy(nobody, realm="Staff area", charset=True).openapi_scheme())
    assert scheme["description"] == 'Realm "Staff area".'


def test_basic_credentials_sent_as_the_scheme_says_are_accepted() -> None:
    def verify(userid: str, password: str) -> str | None:
        return userid if (userid, password) == ("alice", "wonderland") else None

    response = admitted(BasicStrategy(verify), "alice:wonderland")
    assert response.status_code == 200
    assert response.json() == {"user": "alice"}


def test_digest_is_http_digest_naming_realm_and_default_algorithm() -> None:
    scheme = valid(DigestStrategy(nobody, nonce_secret=SECRET).openapi_scheme())
    assert scheme == {
        "type": "http",
        "scheme": "digest",
        "description": 'Realm "Users". Algorithm SHA-256.',
    }


def test_digest_names_a_configured_realm_and_algorithm() -> None:
    strategy = DigestStrategy(nobody, realm="ops", algorithm="md5-sess", nonce_secret=SECRET)
    scheme = valid(strategy.openapi_scheme())
    assert scheme["scheme"] == "digest"
    assert scheme["description"] == 'Realm "ops". Algorithm MD5-sess.'


# -- Bearer and API key ---------------------------------------------------------------------


def test_bearer_is_http_bearer_naming_its_default_realm() -> None:
    scheme = valid(BearerStrategy(nobody).openapi_scheme())
    assert scheme == {"type": "http", "scheme": "bearer", "description": 'Realm "Users".'}


def test_bearer_names_its_scope_and_the_other_places_it_reads() -> None:
    strategy = BearerStrategy(
        nobody,
        realm="notes",
        scope=["notes:read", "notes:write"],
        allow_body=True,
        allow_query=True,
    )
    scheme = valid(strategy.openapi_scheme())
    assert scheme["scheme"] == "bearer"
    assert "bearerFormat" not in scheme  # opaque tokens: no format to announce
    assert scheme["description"] == (
        'Realm "notes". Tokens need scope notes:read notes:write. '
        "Also accepted as access_token in the form body or query."
    )


def test_bearer_token_sent_as_the_scheme_says_is_accepted() -> None:
    response = admitted(BearerStrategy(lambda token: "alice" if token == TOKEN else None), TOKEN)
    assert response.json() == {"user": "alice"}


def test_api_key_is_its_default_header() -> None:
    scheme = valid(ApiKeyStrategy(nobody).openapi_scheme())
    assert scheme == {"type": "apiKey", "name": "X-API-Key", "in": "header"}


def test_api_key_names_a_configured_header() -> None:
    scheme = valid(ApiKeyStrategy(nobody, header="X-Partner-Key").openapi_scheme())
    assert scheme == {"type": "apiKey", "name": "X-Partner-Key", "in": "header"}


def test_api_key_read_only_from_the_query_is_a_query_scheme() -> None:
    scheme = valid(ApiKeyStrategy(nobody, header=None, query="key").openapi_scheme())
    assert scheme == {"type": "apiKey", "name": "key", "in": "query"}


def test_api_key_read_from_header_and_query_is_shown_by_its_header() -> None:
    scheme = valid(ApiKeyStrategy(nobody, query="api_key").openapi_scheme())
    assert (scheme["in"], scheme["name"]) == ("header", "X-API-Key")
    assert scheme["description"] == "Also accepted in the api_key query parameter."


@pytest.mark.parametrize(
    ("header", "query"), [("X-Partner-Key", None), (None, "key"), ("X-API-Key", "api_key")]
)
def test_api_key_sent_as_the_scheme_says_is_accepted(header: str | None, query: str | None) -> None:
    strategy = ApiKeyStrategy(lambda key: "bot" if key == TOKEN else None, header, query)
    assert admitted(strategy, TOKEN).json() == {"user": "bot"}


# -- JWT ------------------------------------------------------------------------------------


def test_jwt_is_http_bearer_with_bearer_format_jwt() -> None:
    scheme = valid(jwt_strategy().openapi_scheme())
    assert scheme == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A JSON Web Token signed with HS256.",
    }


def test_jwt_names_its_issuer() -> None:
    scheme = valid(jwt_strategy(issuer="https://id.example.com").openapi_scheme())
    assert scheme["description"] == (
        "A JSON Web Token signed with HS256. Issued by https://id.example.com."
    )


@pytest.mark.parametrize(
    ("extractor", "expected"),
    [
        (
            from_header("X-Access-Token"),
            {"type": "apiKey", "name": "X-Access-Token", "in": "header"},
        ),
        (from_cookie("access"), {"type": "apiKey", "name": "access", "in": "cookie"}),
        (from_query("token"), {"type": "apiKey", "name": "token", "in": "query"}),
        (from_auth_header_with_scheme("bearer"), {"type": "http", "scheme": "bearer"}),
        (from_extractors([from_body_field("t"), from_cookie("c")]), {"in": "cookie", "name": "c"}),
    ],
)
def test_jwt_describes_where_its_extractor_looks(extractor: Any, expected: dict[str, Any]) -> None:
    scheme = valid(jwt_strategy(extractor=extractor).openapi_scheme())
    assert expected.items() <= scheme.items()


def test_jwt_under_another_authorization_scheme_is_the_whole_header() -> None:
    scheme = valid(jwt_strategy(extractor=from_auth_header_with_scheme("JWT")).openapi_scheme())
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    assert scheme["description"].endswith("Send `JWT <token>`.")


@pytest.mark.parametrize(
    "extractor",
    [from_header("X-Access-Token"), from_cookie("access"), from_query("token"), None],
    ids=["header", "cookie", "query", "default"],
)
def test_jwt_sent_as_the_scheme_says_is_accepted(extractor: Any) -> None:
    strategy = jwt_strategy() if extractor is None else jwt_strategy(extractor=extractor)
    assert admitted(strategy, jwt_token()).json() == {"user": "alice"}


@pytest.mark.parametrize(
    "extractor", [from_body_field("token"), lambda request: None], ids=["body", "own"]
)
def test_jwt_is_left_out_when_openapi_cannot_say_where_the_token_is(extractor: Any) -> None:
    assert jwt_strategy(extractor=extractor).openapi_scheme() is None


def test_jwt_scheme_is_a_copy_each_time() -> None:
    strategy = jwt_strategy(extractor=from_cookie("access"))
    first = strategy.openapi_scheme()
    assert first is not None
    first["name"] = "changed"
    assert valid(strategy.openapi_scheme())["name"] == "access"


# -- OAuth 2.0, OpenID Connect and the providers ------------------------------------------


def oauth2_flow(scheme: dict[str, Any]) -> dict[str, Any]:
    assert scheme["type"] == "oauth2"
    assert list(scheme["flows"]) == ["authorizationCode"]  # never the password flow
    flow: dict[str, Any] = scheme["flows"]["authorizationCode"]
    return flow


def test_oauth2_is_the_authorization_code_flow_with_its_endpoints() -> None:
    strategy = OAuth2Strategy(
        nobody,
        authorization_url="https://id.example.com/authorize",
        token_url="https://id.example.com/token",
        client_id="app",
        client_secret=SECRET,
    )
    scheme = valid(strategy.openapi_scheme())
    assert scheme["description"] == "OAuth 2.0 authorization code flow with PKCE (S256)."
    assert oauth2_flow(scheme) == {
        "authorizationUrl": "https://id.example.com/authorize",
        "tokenUrl": "https://id.example.com/token",
        "scopes": {},
    }


def test_oauth2_lists_its_scopes_and_says_when_pkce_is_off() -> None:
    strategy = OAuth2Strategy(
        nobody,
        authorization_url="https://id.example.com/authorize",
        token_url="https://id.example.com/token",
        client_id="app",
        client_secret=SECRET,
        scope="profile,repo,profile",
        scope_separator=",",
        pkce=False,
    )
    scheme = valid(strategy.openapi_scheme())
    assert oauth2_flow(scheme)["scopes"] == {"profile": "", "repo": ""}
    assert scheme["description"] == "OAuth 2.0 authorization code flow, without PKCE."


def test_oauth2_scheme_is_where_the_strategy_sends_the_browser(idp: Any) -> None:
    strategy = oauth2_strategy(idp, scope=["openid", "email"])
    flow = oauth2_flow(valid(strategy.openapi_scheme()))
    sent_to = authorization_redirect(strategy)
    assert sent_to.split("?")[0] == flow["authorizationUrl"]
    params = query_params(sent_to)
    assert params["code_challenge_method"] == "S256"  # the PKCE the description names
    assert params["scope"].split() == list(flow["scopes"])


def test_github_preset_inherits_its_endpoints_and_default_scopes() -> None:
    scheme = valid(GitHubStrategy(nobody, client_id="app", client_secret=SECRET).openapi_scheme())
    assert oauth2_flow(scheme) == {
        "authorizationUrl": "https://github.com/login/oauth/authorize",
        "tokenUrl": "https://github.com/login/oauth/access_token",
        "scopes": {"read:user": "", "user:email": ""},
    }


def test_github_enterprise_uses_its_own_server() -> None:
    strategy = GitHubStrategy(
        nobody, client_id="app", client_secret=SECRET, base_url="https://git.example.com"
    )
    flow = oauth2_flow(valid(strategy.openapi_scheme()))
    assert urlsplit(flow["authorizationUrl"]).netloc == "git.example.com"
    assert urlsplit(flow["tokenUrl"]).netloc == "git.example.com"


def test_discord_preset_inherits_the_oauth2_scheme() -> None:
    scheme = valid(DiscordStrategy(nobody, client_id="app", client_secret=SECRET).openapi_scheme())
    assert set(oauth2_flow(scheme)["scopes"]) == {"identify", "email"}


def test_oidc_is_open_id_connect_with_the_default_discovery_url() -> None:
    strategy = OpenIDConnectStrategy(
        nobody, issuer="https://id.example.com/tenant", client_id="app", client_secret=SECRET
    )
    assert valid(strategy.openapi_scheme()) == {
        "type": "openIdConnect",
        "openIdConnectUrl": "https://id.example.com/tenant/.well-known/openid-configuration",
        "description": "OpenID Connect authorization code flow with PKCE (S256).",
    }


def test_oidc_uses_a_configured_discovery_url() -> None:
    strategy = OpenIDConnectStrategy(
        nobody,
        issuer="https://id.example.com",
        discovery_url="https://meta.example.com/id.json",
        client_id="app",
        client_secret=SECRET,
        pkce=False,
    )
    scheme = valid(strategy.openapi_scheme())
    assert scheme["openIdConnectUrl"] == "https://meta.example.com/id.json"
    assert scheme["description"] == "OpenID Connect authorization code flow, without PKCE."


def test_oidc_discovery_url_names_where_the_strategy_sends_the_browser(idp: Any) -> None:
    strategy = oidc_strategy(idp)
    scheme = valid(strategy.openapi_scheme())
    metadata = httpx.get(scheme["openIdConnectUrl"]).json()
    assert metadata["issuer"] == idp.issuer
    assert authorization_redirect(strategy).split("?")[0] == metadata["authorization_endpoint"]


@pytest.mark.parametrize(
    ("preset", "options", "discovery_url"),
    [
        (GoogleStrategy, {}, "https://accounts.google.com/.well-known/openid-configuration"),
        (GitLabStrategy, {}, "https://gitlab.com/.well-known/openid-configuration"),
        (
            MicrosoftStrategy,
            {"tenant": "common"},
            "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration",
        ),
    ],
)
def test_openid_presets_point_to_their_providers_discovery_document(
    preset: Any, options: dict[str, Any], discovery_url: str
) -> None:
    strategy = preset(nobody, client_id="app", client_secret=SECRET, **options)
    scheme = valid(strategy.openapi_scheme())
    assert (scheme["type"], scheme["openIdConnectUrl"]) == ("openIdConnect", discovery_url)


# -- not API credentials ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["local", "remember-me", "anonymous"])
def test_login_and_pass_through_strategies_are_left_out(kind: str) -> None:
    strategies: dict[str, Any] = {
        "local": lambda: LocalStrategy(nobody),
        "remember-me": lambda: RememberMeStrategy(nobody, nobody, revoke=nobody),
        "anonymous": AnonymousStrategy,
    }
    assert strategies[kind]().openapi_scheme() is None


# -- custom strategies ------------------------------------------------------------------------


def test_custom_strategy_without_a_scheme_is_left_out() -> None:
    assert CustomStrategy(nobody, "partner").openapi_scheme() is None


def test_custom_strategy_shows_the_scheme_it_declares() -> None:
    declared = {"type": "apiKey", "in": "header", "name": "X-Partner", "description": "Partners"}
    strategy = CustomStrategy(nobody, "partner", openapi_scheme=declared)
    assert valid(strategy.openapi_scheme()) == declared


def test_custom_strategy_scheme_is_a_copy_each_time() -> None:
    declared = {
        "type": "oauth2",
        "flows": {"clientCredentials": {"tokenUrl": "https://x.test/t", "scopes": {}}},
    }
    strategy = CustomStrategy(nobody, "machines", openapi_scheme=declared)
    first = strategy.openapi_scheme()
    assert first is not None
    first["flows"]["clientCredentials"]["scopes"]["admin"] = "everything"
    declared["type"] = "http"
    assert valid(strategy.openapi_scheme())["flows"]["clientCredentials"]["scopes"] == {}


def test_custom_strategy_admits_a_client_that_follows_its_scheme() -> None:
    def check(request: Any) -> str | None:
        return "partner" if request.headers.get("X-Partner") == TOKEN else None

    declared = {"type": "apiKey", "in": "header", "name": "X-Partner"}
    strategy = CustomStrategy(check, "partner", openapi_scheme=declared)
    assert admitted(strategy, TOKEN).json() == {"user": "partner"}


def test_a_subclass_declares_its_scheme_by_overriding_the_method() -> None:
    class Signed(Strategy):
        name = "signed"

        def openapi_scheme(self) -> dict[str, Any] | None:
            return {"type": "http", "scheme": "signature"}

    assert valid(Signed().openapi_scheme()) == {"type": "http", "scheme": "signature"}


BROKEN_SCHEMES: list[tuple[Any, str]] = [
    ("bearer", "must be a dict"),
    ({"type": "bearer"}, "type 'bearer' is not an OpenAPI one"),
    ({"type": "http"}, "needs 'scheme'"),
    ({"type": "apiKey", "in": "header"}, "needs 'name'"),
    ({"type": "apiKey", "name": "k", "in": "body"}, "'header', 'query' or 'cookie'"),
    ({"type": "http", "scheme": "basic", "realm": "x"}, "'realm' is not a field"),
    ({"type": "http", "scheme": "basic", "bearerFormat": 1}, "'bearerFormat' must be a string"),
    ({"type": "openIdConnect"}, "needs 'openIdConnectUrl'"),
    ({"type": "oauth2", "flows": {"code": {}}}, "flow 'code' is not an OpenAPI one"),
    (
        {"type": "oauth2", "flows": {"authorizationCode": {"tokenUrl": "https://t", "scopes": {}}}},
        "the 'authorizationCode' flow needs 'authorizationUrl'",
    ),
    (
        {"type": "oauth2", "flows": {"password": {"tokenUrl": "https://t"}}},
        "the 'password' flow needs 'scopes'",
    ),
]


@pytest.mark.parametrize(("scheme", "message"), BROKEN_SCHEMES)
def test_custom_strategy_refuses_a_scheme_openapi_refuses(scheme: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as raised:
        CustomStrategy(nobody, "partner", openapi_scheme=scheme)
    assert "CustomStrategy 'partner'" in str(raised.value)
    if isinstance(scheme, dict):  # and the maintained validator agrees
        with pytest.raises(OpenAPIValidationError):
            valid(scheme)


def test_custom_strategy_refuses_an_oauth2_scheme_without_a_flow() -> None:
    # The schema allows `"flows": {}`, but Swagger UI has nothing to authorize with then.
    with pytest.raises(ConfigurationError, match="an OpenAPI 'oauth2' scheme needs 'flows'"):
        CustomStrategy(nobody, "partner", openapi_scheme={"type": "oauth2", "flows": {}})


def test_custom_strategy_accepts_extensions_and_a_password_flow_it_declares() -> None:
    declared = {
        "type": "oauth2",
        "x-internal": True,
        "flows": {"password": {"tokenUrl": "/token", "scopes": {"items:read": "Read items"}}},
    }
    assert valid(CustomStrategy(nobody, "forms", openapi_scheme=declared).openapi_scheme())
